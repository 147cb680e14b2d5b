"""What every domain shares: errors, access checks, audit, text input, the unit of work."""
