"""Appointments: the timetable, places, booking rules, notices and calendar files."""
