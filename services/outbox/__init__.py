"""The transactional outbox: rows written with a change, claimed and settled by the worker."""
