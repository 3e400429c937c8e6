"""The web layer: the Starlette app, Twilio webhooks, the staff admin and the JSON API."""
