"""Server-rendered review and audit web UI (Jinja2, plain forms, no JavaScript)."""
