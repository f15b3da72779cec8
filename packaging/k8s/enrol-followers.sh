#!/usr/bin/env bash
# The operator step of a Follower's enrolment on Kubernetes: for each pod of the Followers' StatefulSet that has no
# node yet, the Leader issues a single-use seed bound to that pod's node name (coffer:seed-create, on the Leader's own
# shell through `kubectl exec`), and the seed goes into a Secret of its own, coffer-seed-<pod>. The pod reads only that
# Secret (its entrypoint, COFFER_SEED_SECRET=coffer-seed-$(POD_NAME)), enrols, and deletes it. No Secret is shared by
# the pods; nothing here writes a seed to disk or puts it on a command line.
#
# usage: enrol-followers.sh [-n NAMESPACE] [--replicas N] [--ttl MINUTES] [--leader POD] [--statefulset NAME]
#                           [--upstream HOST:PORT] [--api-url URL]
# The seeds name the Leader's Service (coffer-leader.<namespace>.svc, ports 5433 and 8443) unless told otherwise.
# Run it after `kubectl apply -k packaging/k8s` (once the Leader is ready) and after every scale-up.
set -euo pipefail

NS="" REPLICAS="" TTL=60 LEADER=coffer-leader-0 STS=coffer-follower UPSTREAM="" API_URL=""
while (( $# )); do
  case "$1" in
    -n|--namespace) NS="$2"; shift 2 ;;
    --replicas) REPLICAS="$2"; shift 2 ;;
    --ttl) TTL="$2"; shift 2 ;;
    --leader) LEADER="$2"; shift 2 ;;
    --statefulset) STS="$2"; shift 2 ;;
    --upstream) UPSTREAM="$2"; shift 2 ;;
    --api-url) API_URL="$2"; shift 2 ;;
    *) echo "usage: $0 [-n NAMESPACE] [--replicas N] [--ttl MINUTES] [--leader POD] [--statefulset NAME] [--upstream HOST:PORT] [--api-url URL]" >&2; exit 2 ;;
  esac
done
KUBECTL="${KUBECTL:-kubectl}"
k() { if [[ -n "$NS" ]]; then "$KUBECTL" -n "$NS" "$@"; else "$KUBECTL" "$@"; fi; }
NS_NAME="${NS:-$(k config view --minify -o 'jsonpath={..namespace}' 2>/dev/null || true)}"
NS_NAME="${NS_NAME:-default}"
UPSTREAM="${UPSTREAM:-coffer-leader.$NS_NAME.svc:5433}" API_URL="${API_URL:-https://coffer-leader.$NS_NAME.svc:8443}"
[[ -n "$REPLICAS" ]] || REPLICAS="$(k get statefulset "$STS" -o 'jsonpath={.spec.replicas}')"
[[ "$REPLICAS" =~ ^[0-9]+$ && "$TTL" =~ ^[0-9]+$ ]] || { echo "enrol-followers: --replicas and --ttl take numbers" >&2; exit 2; }

# The Leader's shell (loopback SSH inside its container, through the launcher). Karaf's SSH server may close the
# session before it sends the exit status (ssh then says 255): what the command printed decides.
leader_shell() { k exec "$LEADER" -c coffer -- /opt/coffer/coffer shell --dir /var/lib/coffer/node "$@" || true; }

SEEDS="$(leader_shell coffer:seeds | tr -d '\r')"
made=0
for ((i = 0; i < REPLICAS; i++)); do
  # The node's name is the pod's without '-' (PostgreSQL application names refuse it): coffer-follower-0 -> cofferfollower0.
  pod="$STS-$i" secret="coffer-seed-$STS-$i" node="${STS//-/}$i"
  if k get secret "$secret" >/dev/null 2>&1; then
    echo "enrol-followers: $pod: $secret exists, not used yet; left as it is" >&2; continue
  fi
  # A pod whose seed was consumed has its node on its volume: it needs no other.
  if awk -F'|' -v p="$node" '{gsub(/^ +| +$/, "", $2); gsub(/^ +/, "", $6)} $2 == p && $6 ~ /^consumed/ {f = 1} END {exit !f}' <<<"$SEEDS"; then
    echo "enrol-followers: $pod is enrolled already" >&2; continue
  fi
  # Karaf's commands take their options before the arguments.
  out="$(leader_shell coffer:seed-create --role follower --ttl "$TTL" --upstream "$UPSTREAM" --api-url "$API_URL" \
           "$node" | tr -d '\r')"
  seed="$(grep '^coffer-seed-1:' <<<"$out" || true)"
  pass="$(sed -n 's/.*passphrase (shown once): //p' <<<"$out")"
  [[ -n "$seed" && -n "$pass" ]] || { echo "enrol-followers: $pod: the Leader issued no seed: $out" >&2; exit 1; }
  # JSON on standard input (create, not apply: apply would keep a copy in an annotation).
  k create -f - >/dev/null <<JSON
{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
 "metadata": {"name": "$secret", "labels": {"app.kubernetes.io/name": "coffer", "app.kubernetes.io/component": "follower-seed", "coffer.io/pod": "$pod", "coffer.io/node": "$node"}},
 "data": {"seed": "$(printf '%s' "$seed" | base64 -w0)", "passphrase": "$(printf '%s' "$pass" | base64 -w0)"}}
JSON
  echo "enrol-followers: $pod: seed issued (valid $TTL min) into Secret $secret" >&2
  made=$((made + 1))
done
echo "enrol-followers: $made seed(s) issued" >&2
