"""Event materials: the public list, registrants-only items, the organiser page."""
