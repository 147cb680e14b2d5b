"""Bulk actions on the care coordinator's queue (issue 14): several items assigned or closed at
once, each through the same service its own page uses."""
