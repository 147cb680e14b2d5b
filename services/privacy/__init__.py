"""The AVG (GDPR) rights of a person: export (collect), erasure, retention and pruning.

See `docs/architecture.md` ("privacy/") and `docs/operations.md` ("Retention").
"""
