"""Attendance certificates: the public verification page (organisers: admin, holders: manage)."""
