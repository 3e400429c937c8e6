"""The Early Relational Health SMS tips service: webhooks, admin and the domain around them."""
