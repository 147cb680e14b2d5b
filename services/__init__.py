"""Rules and writes, one package per domain (see docs/architecture.md)."""
