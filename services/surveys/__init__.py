"""The exit questionnaire: invitations, completion, results and reports."""
