#!/bin/bash
# What the temporalio/auto-setup:1.27.2 image runs for PostgreSQL, written
# again for the test bed (the image cannot run here, and its scripts are not
# copied): entrypoint.sh fills in the addresses and renders the server's
# configuration with dockerize; auto-setup.sh creates each database (unless
# it is named as the user), sets its schema up and updates it with
# temporal-sql-tool, with the POSTGRES_TLS_* settings as its flags; then
# the server starts (start-temporal.sh). The default namespace, which
# auto-setup.sh creates with the temporal CLI once the server answers, is
# created here through the frontend's HTTP API.
set -eu -o pipefail
: "${BIND_ON_IP:=$(getent hosts "$(hostname)" | awk '{print $1;}')}"
export BIND_ON_IP
if [[ "${BIND_ON_IP}" == "0.0.0.0" ]]; then
  : "${TEMPORAL_BROADCAST_ADDRESS:=$(getent hosts "$(hostname)" | awk '{print $1;}')}"
  export TEMPORAL_BROADCAST_ADDRESS
fi
: "${TEMPORAL_ADDRESS:=${BIND_ON_IP}:7233}"
export TEMPORAL_ADDRESS
dockerize -template /etc/temporal/config/config_template.yaml:/etc/temporal/config/docker.yaml

: "${DBNAME:=temporal}"
: "${VISIBILITY_DBNAME:=temporal_visibility}"
: "${POSTGRES_TLS_ENABLED:=false}"
: "${POSTGRES_TLS_DISABLE_HOST_VERIFICATION:=false}"
: "${POSTGRES_TLS_CERT_FILE:=}"
: "${POSTGRES_TLS_KEY_FILE:=}"
: "${POSTGRES_TLS_CA_FILE:=}"
: "${POSTGRES_TLS_SERVER_NAME:=}"
: "${SKIP_DB_CREATE:=false}"
export SQL_PASSWORD=${POSTGRES_PWD}
tool() {
  local db=$1; shift
  temporal-sql-tool --plugin "${DB}" --ep "${POSTGRES_SEEDS}" -u "${POSTGRES_USER}" -p "${DB_PORT}" --db "${db}" \
    --tls="${POSTGRES_TLS_ENABLED}" --tls-disable-host-verification="${POSTGRES_TLS_DISABLE_HOST_VERIFICATION}" \
    --tls-cert-file "${POSTGRES_TLS_CERT_FILE}" --tls-key-file "${POSTGRES_TLS_KEY_FILE}" \
    --tls-ca-file "${POSTGRES_TLS_CA_FILE}" --tls-server-name "${POSTGRES_TLS_SERVER_NAME}" "$@"
}
for pair in "${DBNAME}:temporal" "${VISIBILITY_DBNAME}:visibility"; do
  db=${pair%%:*} schema=${pair##*:}
  if [[ ${db} != "${POSTGRES_USER}" && ${SKIP_DB_CREATE} != true ]]; then
    tool "${db}" create
  fi
  tool "${db}" setup-schema -v 0.0
  tool "${db}" update-schema -d "${TEMPORAL_HOME}/schema/postgresql/v12/${schema}/versioned"
done
[[ "${1:-}" == schema-only ]] && exit 0
(
  for _ in $(seq 1 120); do
    if curl -sf -X POST "http://${BIND_ON_IP/0.0.0.0/127.0.0.1}:7243/api/v1/namespaces" \
      -d '{"namespace":"default","workflowExecutionRetentionPeriod":"86400s"}' >/dev/null 2>&1; then
      echo "default namespace registration: done"; exit 0
    fi
    sleep 1
  done
) &
exec temporal-server --env docker start
