"""The Telegram adapter: reads updates, calls the core and storage, replies."""
