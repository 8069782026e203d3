"""Database: the gateway's own tables and their migrations (the decision log's live in `audit`)."""
