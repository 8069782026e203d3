"""Partnership: the agency registry, agency and broker keys, Kafka access grants, and their CLI."""
