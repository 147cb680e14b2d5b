"""The care coordinator's queue: the list, the items' actions and their rules."""
