#!/bin/bash
# Production-like Kafka start for docker compose: the same KRaft layout as the local stack
# (SASL on both listeners, StandardAuthorizer, deny by default), with secrets from the environment.
# Clients reach the broker over SASL_SSL: the server certificate and key (one PEM) and the CA that
# signed it are mounted as secrets. The controller listener stays inside the container network.
set -euo pipefail
: "${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD}" "${KAFKA_CONTROLLER_PASSWORD:?set KAFKA_CONTROLLER_PASSWORD}"
: "${KAFKA_CLUSTER_ID:?set KAFKA_CLUSTER_ID (22-char base64url UUID)}"
# shellcheck source=deploy/kafka/placeholder.sh
source "$(dirname "${BASH_SOURCE[0]}")/placeholder.sh"
# The super-user's password, and the controller listener's: Kafka's own, never the product's, but a
# placeholder here hands the whole cluster to anyone who can reach port 9092.
refuse_placeholder KAFKA_ADMIN_PASSWORD "$KAFKA_ADMIN_PASSWORD"
refuse_placeholder KAFKA_CONTROLLER_PASSWORD "$KAFKA_CONTROLLER_PASSWORD"
# The name clients and the controller quorum use, and the ports: the defaults suit the compose network;
# the compose test runs on the host's loopback (network_mode: host) with ports of its own.
host="${KAFKA_ADVERTISED_HOST:-kafka}" bind="${KAFKA_LISTEN_HOST:-0.0.0.0}"
port="${KAFKA_PORT:-9092}" cport="${KAFKA_CONTROLLER_PORT:-9093}"
conf=/var/lib/kafka/server.properties
mkdir -p /var/lib/kafka/data
cat > "$conf" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${host}:${cport}
listeners=CLIENT://${bind}:${port},CONTROLLER://${bind}:${cport}
advertised.listeners=CLIENT://${host}:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_SSL
ssl.keystore.type=PEM
ssl.keystore.location=/run/secrets/kafka-server.pem
ssl.truststore.type=PEM
ssl.truststore.location=/run/secrets/kafka-ca.pem
sasl.mechanism.controller.protocol=PLAIN
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="${KAFKA_CONTROLLER_PASSWORD}" user_controller="${KAFKA_CONTROLLER_PASSWORD}";
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="sgb-admin" password="${KAFKA_ADMIN_PASSWORD}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:sgb-admin;User:controller
allow.everyone.if.no.acl.found=false
log.dirs=/var/lib/kafka/data
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
# For the health check and the init job (kafka-access): the administrator, over TLS like any client.
cat > /var/lib/kafka/admin.properties <<PROPS
bootstrap.servers=${host}:${port}
security.protocol=SASL_SSL
ssl.truststore.type=PEM
ssl.truststore.location=/run/secrets/kafka-ca.pem
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="sgb-admin" password="${KAFKA_ADMIN_PASSWORD}";
PROPS
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted -t "$KAFKA_CLUSTER_ID" -c "$conf" \
  --add-scram "SCRAM-SHA-512=[name=sgb-admin,password=${KAFKA_ADMIN_PASSWORD}]"
exec /opt/kafka/bin/kafka-server-start.sh "$conf"
