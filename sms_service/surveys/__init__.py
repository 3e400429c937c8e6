"""Short surveys by text: definitions, the question a family is answering, planning and results."""
