"""The care coordinator's queue: the list, the items' rules and status, the work on referrals."""
