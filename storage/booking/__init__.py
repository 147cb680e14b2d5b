"""The machinery behind `storage.appointments`: the timetable (which start times exist), the
capacity rows (who holds which place), the outbox notices, the calendar file and the defaults a
new school starts with. Channels use `storage.appointments`, not these modules.
"""
