"""The invented demo school (never real names)."""
