"""Feedback after an event: the personal questionnaire and the organiser pages."""
