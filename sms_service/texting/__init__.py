"""Texting with families: an inbound text, compliance keywords, the conversation, replies."""
