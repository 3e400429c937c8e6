"""Campaigns: authoring, audiences and results of texts staff send beyond the weekly tips."""
