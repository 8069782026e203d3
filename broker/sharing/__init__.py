"""Sharing: one notification's journey through the gateway (parse, decide, plan, seal, record) and the policy client."""
