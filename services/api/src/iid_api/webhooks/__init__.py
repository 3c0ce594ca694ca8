"""webhooks domain: subscriptions to events and their deliveries (made by the worker)."""
