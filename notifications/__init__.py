"""How people are told: channels (Telegram, Socket.IO, email, SMS webhook), texts, outbox."""
