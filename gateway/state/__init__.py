"""What the stateless gateway remembers, kept in the database: sessions, login transactions,
sign-in events (history and throttling)."""
