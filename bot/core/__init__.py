"""Pure journal core: no Telegram, no database, no clock reads."""
