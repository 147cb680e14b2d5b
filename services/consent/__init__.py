"""Consent of parents and student, per person and purpose (issue 15): records and the rule."""
