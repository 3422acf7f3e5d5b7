"""Attendance at online events: importing the meeting platform's participant report."""
