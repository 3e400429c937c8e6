"""The tip library and the checker every message must pass."""
