"""Test doubles for the network edges (the fake Twilio REST API)."""
