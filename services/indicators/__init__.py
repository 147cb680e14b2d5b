"""Indicators per school and month, for the school and across the partnership."""
