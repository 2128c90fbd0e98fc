"""Webhooks: URLs subscribed to a project's events, signed deliveries through the dispatcher, and their log."""
