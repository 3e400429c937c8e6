"""Caregivers: their lifecycle (one owner of every status change), consent, records and privacy."""
