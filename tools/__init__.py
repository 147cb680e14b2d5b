"""Developer tooling (not shipped): catalog extraction and checks."""
