"""Channel adapters: Telegram, email and the terminal."""
