"""The gateway: admits, decides, seals, records and relays safeguarding notifications between agencies."""
