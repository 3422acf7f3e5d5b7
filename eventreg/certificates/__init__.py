"""Attendance certificates: verification, downloads, the organiser page."""
