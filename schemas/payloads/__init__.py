"""Typed payloads, one model per message type; every field carries a data class."""
