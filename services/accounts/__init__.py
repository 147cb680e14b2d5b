"""People, schools, invitations, staff accounts, web sessions and the people import."""
