"""What every domain stands on: settings, database, models, phones, errors, audit, the outbox."""
