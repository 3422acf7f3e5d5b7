"""Feedback for organisers: results without names, the CSV, the questionnaire's questions."""
