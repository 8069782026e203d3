"""Delivery: after the log commit (outbox relay, held deliveries, receipts, statutory clocks and their calendar)."""
