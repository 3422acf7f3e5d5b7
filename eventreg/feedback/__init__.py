"""Feedback after an event: the personal questionnaire (organisers: admin.feedback)."""
