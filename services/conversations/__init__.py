"""Conversations: the engine run against the database, flow bindings, web chat."""
