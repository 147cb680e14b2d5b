"""Channel-free conversation engine and flow definitions (no aiogram, no SQLAlchemy here)."""
