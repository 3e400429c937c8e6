"""Test helpers: settings, Twilio request signing, a live server."""
