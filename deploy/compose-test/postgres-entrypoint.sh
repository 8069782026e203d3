#!/bin/bash
# The official postgres image's first-start behaviour, reduced to what docker-compose.yml uses.
set -euo pipefail
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
user="${POSTGRES_USER:-postgres}" db="${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"
data=/var/lib/postgresql/data port="${PGPORT:-5432}"
as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups)
chown postgres:postgres "$data" && chmod 700 "$data"
if [[ ! -s "$data/PG_VERSION" ]]; then
  pwfile=$(mktemp) && chown postgres "$pwfile" && printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  "${as_postgres[@]}" initdb -D "$data" -U "$user" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 --auth-local=trust \
    --auth-host=scram-sha-256 > /dev/null
  rm -f "$pwfile"
  # Password logins from anywhere the container's network reaches (the official image does the same).
  echo "host all all all scram-sha-256" >> "$data/pg_hba.conf"
  "${as_postgres[@]}" pg_ctl -D "$data" -o "-c listen_addresses='' -k /tmp" -w start > /dev/null
  if [[ "$db" != postgres ]]; then
    "${as_postgres[@]}" psql -q -h /tmp -U "$user" -d postgres -c "CREATE DATABASE \"$db\" OWNER \"$user\""
  fi
  # Then the init scripts, as the official image runs the executable ones: as postgres, on the socket.
  for script in /docker-entrypoint-initdb.d/*.sh; do
    [[ -e "$script" ]] || continue
    PGHOST=/tmp POSTGRES_USER="$user" POSTGRES_DB="$db" "${as_postgres[@]}" bash "$script"
  done
  "${as_postgres[@]}" pg_ctl -D "$data" -w stop > /dev/null
fi
exec "${as_postgres[@]}" postgres -D "$data" -p "$port" -k /tmp -c "listen_addresses=${PG_LISTEN_ADDRESSES:-*}"
