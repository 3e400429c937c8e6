"""The tip library in the database: loading the content files into the tip table."""
