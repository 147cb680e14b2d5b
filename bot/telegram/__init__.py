"""The Telegram channel (aiogram 3): a thin adapter over storage services and the engine."""
