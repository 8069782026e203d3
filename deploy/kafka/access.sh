#!/bin/bash
# One-shot init job on the Kafka image: SCRAM users and ACLs, after `provision` has written the grants
# (broker/partnership/kafka_access.py decides who may do what; this only applies its lines). The official
# image has a JRE but no compiler, so Kafka's own kafka-configs.sh and kafka-acls.sh apply them, not
# AccessAdmin.java. Both are idempotent: a user's password is reset, an existing ACL is kept.
set -euo pipefail
: "${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}" "${KAFKA_USERS:?set KAFKA_USERS (principal:VARIABLE ...)}"
# shellcheck source=deploy/kafka/placeholder.sh
source "$(dirname "${BASH_SOURCE[0]}")/placeholder.sh"
refuse_placeholder KAFKA_ADMIN_PASSWORD "$KAFKA_ADMIN_PASSWORD"
grants="${KAFKA_GRANTS_FILE:-/var/lib/sgb/partnership/kafka-grants.txt}"
bootstrap="${KAFKA_BOOTSTRAP:-kafka:9092}"
bin=/opt/kafka/bin
config=$(mktemp)
trap 'rm -f "$config"' EXIT
chmod 600 "$config"
cat > "$config" <<PROPS
security.protocol=SASL_SSL
ssl.truststore.type=PEM
ssl.truststore.location=/run/secrets/kafka-ca.pem
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="sgb-admin" password="${KAFKA_ADMIN_PASSWORD}";
PROPS
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx128m}"
pids=()
# Every command starts its own JVM (a few seconds each), so they run side by side.
for entry in $KAFKA_USERS; do
  principal="${entry%%:*}" variable="${entry#*:}"
  password="${!variable:?${variable} is not set}"
  refuse_placeholder "$variable" "$password"
  "$bin/kafka-configs.sh" --bootstrap-server "$bootstrap" --command-config "$config" --alter \
    --entity-type users --entity-name "$principal" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=${password}]" > /dev/null &
  pids+=($!)
done
# Lines read "acl User:NAME topic|group literal|prefixed RESOURCE operation"; one command per resource.
declare -A operations=()
while read -r kind principal type pattern name operation; do
  [[ "$kind" == acl ]] || continue
  operations["$principal $type $pattern $name"]+=" --operation ${operation^}"
done < "$grants"
for key in "${!operations[@]}"; do
  read -r principal type pattern name <<< "$key"
  # shellcheck disable=SC2086 # the operations are separate words on purpose
  "$bin/kafka-acls.sh" --bootstrap-server "$bootstrap" --command-config "$config" --add \
    --allow-principal "$principal" --"$type" "$name" --resource-pattern-type "$pattern" \
    ${operations[$key]} > /dev/null &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
[[ $status == 0 ]] || { echo "applying Kafka users or ACLs failed" >&2; exit 1; }
echo "Kafka: ${#operations[@]} ACL resources and $(wc -w <<< "$KAFKA_USERS") SCRAM users applied"
