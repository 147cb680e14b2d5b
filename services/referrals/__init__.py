"""Referrals (verwijzingen): a mentor asks the care coordinator to take a student on."""
