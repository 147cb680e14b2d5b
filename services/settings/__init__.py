"""A school's set-up and settings (issue 12): creating a school from nothing with its first
admin, and the admin's settings — appointment types, opening hours, closed days (with the
Dutch school holidays per region shipped in `holidays.toml`), coaches' hours and the time-out
cap. The booking services read these rows on every booking, so a change applies at once.
"""
