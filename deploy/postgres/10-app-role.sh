#!/bin/bash
# postgres:15 runs /docker-entrypoint-initdb.d/*.sh once, when it creates the cluster (the compose-test
# stand-in runs the same files): the role the gateway and worker connect as. It may log in and owns,
# creates and grants nothing; `migrate` (the owner, sgb) gives it exactly what it needs on the tables
# (broker/db/privileges.py). A cluster made before this script existed needs the same statement once,
# by hand, as sgb. Executable, so the entry point runs it apart rather than sourcing it into itself.
set -euo pipefail
: "${POSTGRES_APP_PASSWORD:?set POSTGRES_APP_PASSWORD}"
# The same refusal as the gateway's and consumers' (broker/settings.py): a value copied from .env.example.
case "${POSTGRES_APP_PASSWORD,,}" in
  changeme | changethis | password)
    echo "POSTGRES_APP_PASSWORD is a placeholder: set a real one" >&2
    exit 1
    ;;
esac
# :'app_password' makes psql quote the value as a literal, so no character of it can end the statement.
psql -v ON_ERROR_STOP=1 -q --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  -v app_password="$POSTGRES_APP_PASSWORD" <<'SQL'
CREATE ROLE sgb_app LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
SQL
