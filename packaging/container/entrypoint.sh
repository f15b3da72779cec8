#!/usr/bin/env bash
# Coffer's container entrypoint: ONE node per container, configured by environment, run through the launcher
# (`coffer start` / `coffer stop`: the same node folder, etc/*.cfg, TLS, enrolment by seed and PostgreSQL handling as
# on a machine; nothing here repeats them). It stays in the foreground while the node runs:
#   SIGTERM / SIGINT   stop the node cleanly (Karaf, then its PostgreSQL) and exit 0;
#   the node dying     stops what is left of it and exits 1, so the orchestrator restarts the container.
# It can run directly on a machine with the same variables (tests/packaging.sh does).
#
# Variables (defaults in brackets; the Containerfile sets the image's):
#   COFFER_ROLE              leader | standby | follower | dr-standby: a new node's role [leader]. An existing node
#                            keeps the role in its etc/io.coffer.node.cfg (a promoted Standby leads after a restart).
#   COFFER_NODE_NAME         a new Leader's node name, a-z and 0-9 [the host name's letters and digits: the pod's
#                            name without '-']; a replica's comes from its seed
#   COFFER_ACCOUNT           the account a new Leader creates [demo]; its admin API key: <data>/secrets/<account>.api_key
#   COFFER_DATA_DIR          the node's folder: Karaf, etc/, PostgreSQL, secrets/ [/var/lib/coffer/node]
#   COFFER_PORT_OFFSET       added to every port: 8443 API, 8444 health, 5433 PostgreSQL, ... [0]
#   COFFER_LISTEN            where the API and the health port listen; must include loopback [0.0.0.0]
#   COFFER_TLS_SAN           extra subjectAltNames of a new node's certificate (dns:NAME,ip:ADDR,...), e.g. the Service
#   COFFER_PG_PUBLISH        an address (the pod's IP) where replicas reach this node's PostgreSQL: a TCP relay to its
#                            loopback port (PostgreSQL itself stays on 127.0.0.1, see architecture decision 82) [none]
#   COFFER_SEED_FILE, COFFER_PASSPHRASE_FILE
#                            a new replica's enrolment seed and the file with its one-time passphrase
#   COFFER_SEED_SECRET       or: the Kubernetes Secret (keys seed, passphrase) holding this pod's own seed, read with
#                            the pod's service account token and deleted once the Leader accepted the seed
#   COFFER_HOME              the launcher's folder [/opt/coffer]; COFFER_DIST: the distribution (see ./coffer)
#   COFFER_LOG_STDOUT        1: copy the node's karaf.log to standard output [0; the image: 1]
#   COFFER_HEAP, COFFER_JAVA_OPTS, COFFER_START_TIMEOUT   passed to the launcher as they are
set -uo pipefail

say() { echo "coffer-entrypoint: $*" >&2; }
die() { echo "coffer-entrypoint: error: $*" >&2; exit 1; }

COFFER_HOME="${COFFER_HOME:-/opt/coffer}"
LAUNCHER="$COFFER_HOME/coffer"
DATA="${COFFER_DATA_DIR:-/var/lib/coffer/node}"
ROLE="${COFFER_ROLE:-leader}"
OFFSET="${COFFER_PORT_OFFSET:-0}"
K8S_SA="${COFFER_K8S_SA_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}"
export COFFER_LISTEN="${COFFER_LISTEN:-0.0.0.0}"

[[ -x "$LAUNCHER" ]] || die "no launcher at $LAUNCHER (set COFFER_HOME)"
case "$ROLE" in leader|standby|follower|dr-standby) ;; *) die "COFFER_ROLE=$ROLE: expected leader, standby, follower or dr-standby" ;; esac
[[ "$OFFSET" =~ ^[0-9]+$ ]] || die "COFFER_PORT_OFFSET=$OFFSET: a number"
PG_PORT=$((5433 + OFFSET))
mkdir -p "$DATA" || die "cannot create COFFER_DATA_DIR=$DATA"
DATA="$(cd "$DATA" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/coffer-entrypoint-XXXXXX")" || die "no temporary folder"
chmod 700 "$WORK"
RELAY_PID="" TAIL_PID="" NAP_PID="" STOP=0 SECRET_URL=""

cleanup() {
  [[ -z "$RELAY_PID" ]] || kill "$RELAY_PID" 2>/dev/null
  [[ -z "$TAIL_PID" ]] || kill "$TAIL_PID" 2>/dev/null
  [[ -z "$NAP_PID" ]] || kill "$NAP_PID" 2>/dev/null
  rm -rf "$WORK"
}
stop_node() {  # stop_node EXIT_STATUS: the launcher stops Karaf, then PostgreSQL (and an etcd member, if any)
  "$LAUNCHER" stop --dir "$DATA" || say "warning: coffer stop reported an error"
  cleanup
  exit "$1"
}
trap 'STOP=1; say "stop requested"' TERM INT

# The Kubernetes API, with this pod's service account: its CA, its token (in a header file, never on a command line).
k8s() {  # k8s METHOD URL_PATH
  [[ -s "$K8S_SA/token" && -s "$K8S_SA/namespace" ]] || die "COFFER_SEED_SECRET needs the pod's service account ($K8S_SA)"
  local api="${COFFER_K8S_API:-https://${KUBERNETES_SERVICE_HOST:-kubernetes.default.svc}:${KUBERNETES_SERVICE_PORT:-443}}"
  (umask 077; printf 'Authorization: Bearer %s\n' "$(cat "$K8S_SA/token")" >"$WORK/auth.header")
  curl -sS --fail --max-time 20 --cacert "$K8S_SA/ca.crt" -H @"$WORK/auth.header" -X "$1" "$api$2"
  local rc=$?
  rm -f "$WORK/auth.header"
  return $rc
}

# This pod's seed, from the Secret named after it: only base64 values under data (the API's JSON, no jq needed).
fetch_seed_secret() {
  local name="$COFFER_SEED_SECRET" json key v
  [[ "$name" =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] || die "COFFER_SEED_SECRET=$name: not a Secret name"
  SECRET_URL="/api/v1/namespaces/$(cat "$K8S_SA/namespace")/secrets/$name"
  json="$(k8s GET "$SECRET_URL")" || die "could not read Secret $name (does it exist? may this pod's service account get it?)"
  for key in seed passphrase; do
    v="$(tr -d '\n' <<<"$json" | grep -oE "\"$key\"[[:space:]]*:[[:space:]]*\"[A-Za-z0-9+/=]+\"" | head -1 | sed -E 's/.*"([A-Za-z0-9+\/=]+)"$/\1/')"
    [[ -n "$v" ]] || die "Secret $name has no data.$key"
    (umask 077; base64 -d <<<"$v" >"$WORK/$key") || die "Secret $name: data.$key is not base64"
  done
  COFFER_SEED_FILE="$WORK/seed" COFFER_PASSPHRASE_FILE="$WORK/passphrase"
  say "read this pod's seed from Secret $name"
}

# Replicas on other hosts reach this node's PostgreSQL through a TCP relay (HAProxy, as the cluster's leader_pg):
# TLS and the certificate login pass through it unchanged.
start_relay() {
  local addr="${COFFER_PG_PUBLISH:-}"
  [[ -n "$addr" ]] || return 0
  case "$addr" in
    0.0.0.0|::|"*"|127.0.0.1|localhost) die "COFFER_PG_PUBLISH=$addr: name one address other than 127.0.0.1 (PostgreSQL holds 127.0.0.1:$PG_PORT), e.g. the pod's IP" ;;
  esac
  command -v haproxy >/dev/null || die "COFFER_PG_PUBLISH needs haproxy"
  mkdir -p "$DATA/relay"
  cat >"$DATA/relay/haproxy.cfg" <<EOF
# Written by the container entrypoint at every start: $addr:$PG_PORT -> this node's PostgreSQL on 127.0.0.1.
global
  maxconn 256
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
listen coffer_pg
  bind $addr:$PG_PORT
  server node 127.0.0.1:$PG_PORT
EOF
  haproxy -db -f "$DATA/relay/haproxy.cfg" </dev/null >>"$DATA/relay/relay.log" 2>&1 &
  RELAY_PID=$!
  echo "$RELAY_PID" >"$DATA/relay/relay.pid"
  say "PostgreSQL published on $addr:$PG_PORT (relay pid $RELAY_PID)"
}

# ------------------------------------------------------------------------------------------------ the node's options
args=(--dir "$DATA" --port-offset "$OFFSET")
if [[ -x "$DATA/bin/karaf" ]]; then
  have="$(sed -n 's/^role[[:space:]]*=[[:space:]]*//p' "$DATA/etc/io.coffer.node.cfg" 2>/dev/null | tr -d '[:space:]')"
  [[ "$have" == "$ROLE" ]] || say "the node in $DATA is a $have; COFFER_ROLE=$ROLE only applies to a new node"
  say "starting the existing node in $DATA"
elif [[ "$ROLE" == leader ]]; then
  # Node names are [a-z0-9] only: PostgreSQL application names (<role>_<name>) refuse '-', certificates refuse '_'.
  # The default is the host name (the pod's) without the rest: coffer-leader-0 -> cofferleader0.
  name="${COFFER_NODE_NAME:-$(tr 'A-Z' 'a-z' <<<"${HOSTNAME:-$(cat /proc/sys/kernel/hostname)}" | tr -cd 'a-z0-9')}"
  [[ "$name" =~ ^[a-z0-9]{1,63}$ ]] || die "node name '$name': 1-63 of a-z and 0-9 (set COFFER_NODE_NAME)"
  args+=(--role leader --name "$name")
  say "creating Leader $name in $DATA"
else
  [[ -z "${COFFER_SEED_SECRET:-}" ]] || fetch_seed_secret
  [[ -n "${COFFER_SEED_FILE:-}" && -n "${COFFER_PASSPHRASE_FILE:-}" ]] \
    || die "a new $ROLE enrols by seed: set COFFER_SEED_FILE and COFFER_PASSPHRASE_FILE, or COFFER_SEED_SECRET (on the Leader: coffer:seed-create --role $ROLE NAME)"
  args+=(--role "$ROLE" --seed "$COFFER_SEED_FILE" --passphrase-file "$COFFER_PASSPHRASE_FILE")
  say "enrolling a new $ROLE in $DATA"
fi

if [[ "${COFFER_LOG_STDOUT:-0}" == 1 ]]; then
  tail -n 0 -F "$DATA/data/log/karaf.log" 2>/dev/null &
  TAIL_PID=$!
fi

# ------------------------------------------------------------------------------------------------ start, then watch
# The launcher returns once the node is healthy (it detaches Karaf; PostgreSQL is Karaf's). A stop asked for meanwhile
# is honoured when it returns (bounded by COFFER_START_TIMEOUT, 120 s).
"$LAUNCHER" start "${args[@]}" >"$WORK/start.out" &
START_PID=$!
while kill -0 "$START_PID" 2>/dev/null; do wait "$START_PID"; done
wait "$START_PID"; rc=$?
# KEY=VALUE lines for the log, without the API key (it stays in the node's 0600 key file).
grep -v -e '_API_KEY=' -e '^#' "$WORK/start.out" | sed 's/^/coffer-entrypoint: /' >&2
if (( rc != 0 )); then
  say "the node did not start (coffer start exited $rc)"
  stop_node 1
fi
if [[ -n "$SECRET_URL" ]]; then
  # The Leader accepted the seed (once): the Secret has served.
  k8s DELETE "$SECRET_URL" >/dev/null && say "deleted the used seed Secret" || say "warning: could not delete the used seed Secret"
fi
(( STOP )) && stop_node 0
start_relay
KARAF_PID="$(cat "$DATA/karaf.pid" 2>/dev/null)"
say "node running (Karaf pid $KARAF_PID); SIGTERM stops it"
while :; do
  (( STOP )) && stop_node 0
  kill -0 "$KARAF_PID" 2>/dev/null || break
  if [[ -n "$RELAY_PID" ]] && ! kill -0 "$RELAY_PID" 2>/dev/null; then
    say "the PostgreSQL relay exited; restarting it"; start_relay
  fi
  sleep 2 & NAP_PID=$!
  wait "$NAP_PID"
done
(( STOP )) && stop_node 0
say "Karaf (pid $KARAF_PID) exited without a stop; stopping the rest of the node"
stop_node 1
