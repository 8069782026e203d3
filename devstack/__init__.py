"""The local stack: real Kafka, OPA and PostgreSQL on loopback, installed and started by the project."""
