#!/usr/bin/env bash
# ./coffer chaos: the long fault campaign (not in CI; tests/failover.sh runs one case of each kind there).
# A cluster of real processes (Leader, two Standbys with etcd, a Follower, the load balancers, the watchdog) under
# write load through the cluster load balancer and read load through the follower load balancer:
#   1. a loaded run of --minutes (default 10) with no fault: the epoch must not change (no false failover);
#   2. --rounds (default 5) times: kill -9 of the Leader (JVM and PostgreSQL); time until a write is acknowledged
#      through the load balancer by another node; the watchdog restarts the old Leader, which must rejoin.
# Then: every acknowledged write is still there (each variable holds its last acknowledged value or a later one),
# epochs never overlap (one node per epoch, epochs grow in acknowledgement order), the Follower's failed reads.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=5 MINUTES=10 OFF=20500
while (( $# )); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift ;;
    --minutes) MINUTES="$2"; shift ;;
    --port-offset) OFF="$2"; shift ;;
    *) echo "usage: ./coffer chaos [--rounds N] [--minutes M] [--port-offset N]" >&2; exit 2 ;;
  esac
  shift
done
B="$(new_dir)"
chaos_cleanup() { touch "$B/stop"; "$ROOT/coffer" cluster stop --dir "$B" >/dev/null 2>&1 || true; cleanup; }
[[ -n "${COFFER_TEST_KEEP:-}" ]] || trap chaos_cleanup EXIT
echo "chaos: cluster under $B, port offset $OFF, $MINUTES min loaded run, $ROUNDS kill rounds" >&2
OUT="$("$ROOT/coffer" cluster start --dir "$B" --port-offset "$OFF" --standbys 2 --followers 1 2>"$B.err")" \
  || { tail -30 "$B.err" >&2; exit 1; }
eval "$OUT"
code() { curl -s -o /dev/null --max-time 3 -w '%{http_code}' "$1"; }
leader() { local n; for n in n1 n2 n3; do [[ "$(code "$(eval echo "\$NODE_${n}_HEALTH_URL")/leader")" == 200 ]] && { echo "$n"; return; }; done; }
authn() { curl -s --max-time 10 --cacert "$COFFER_CA" --data-binary "$COFFER_API_KEY" "$COFFER_FOLLOWER_LB_URL/authn/demo/admin/authenticate" | base64 -w0; }
# The follower load balancer marks the Follower up ~1 s after it answers /health/replica.
for _ in $(seq 1 60); do T="$(authn)"; [[ -n "$T" ]] && break; sleep 1; done
[[ -n "$T" ]] || { echo "chaos: could not authenticate through the follower load balancer" >&2; exit 1; }
echo "$T" >"$B/token"
POLICY=""; for i in $(seq 0 49); do POLICY+="- !variable chaos/v$i"$'\n'; done
curl -s -o /dev/null --cacert "$COFFER_CA" -H "Authorization: Token token=\"$T\"" --data-binary "$POLICY" "$COFFER_LB_URL/policies/demo/policy/root"
for i in $(seq 0 49); do curl -s -o /dev/null --cacert "$COFFER_CA" -H "Authorization: Token token=\"$T\"" --data-binary init "$COFFER_LB_URL/secrets/demo/variable/chaos%2Fv$i"; done
sleep 2
# Tokens last 8 minutes: a fresh one every minute (from the Follower, which authenticates through any outage).
( while [[ ! -f "$B/stop" ]]; do sleep 60; t="$(authn)"; [[ -n "$t" ]] && echo "$t" >"$B/token.new" && mv "$B/token.new" "$B/token"; done ) &
python3 "$ROOT/tests/chaos_load.py" "$COFFER_LB_URL" "$COFFER_FOLLOWER_LB_URL" "$COFFER_CA" "$B/token" "$B" "$B/stop" &
LOAD=$!

epoch_now() { tail -1 "$B/acked.log" 2>/dev/null | awk '{print $4}'; }
sleep 5
E0="$(epoch_now)"
echo "chaos: loaded run, $MINUTES min, epoch $E0" >&2
sleep $((MINUTES * 60))
E1="$(epoch_now)"
FALSE_FAILOVERS=$(awk -v t0="$(date +%s)" -v m="$MINUTES" '$1 >= t0 - m*60 {print $4}' "$B/acked.log" | sort -u | wc -l)
FALSE_FAILOVERS=$((FALSE_FAILOVERS > 0 ? FALSE_FAILOVERS - 1 : 0))
echo "chaos: loaded run done, epoch $E0 -> $E1, false failovers: $FALSE_FAILOVERS" >&2

TIMES=()
for r in $(seq 1 "$ROUNDS"); do
  L="$(leader)"; [[ -n "$L" ]] || { echo "chaos: no Leader before round $r" >&2; break; }
  T0=$(date +%s.%N)
  kill -9 "$(cat "$B/$L/karaf.pid")" "$(head -1 "$B/$L/pg/data/postmaster.pid")" 2>/dev/null
  t=""
  for _ in $(seq 1 600); do
    t="$(awk -v t0="$T0" -v old="$L" '$1 > t0 && $5 != old {printf "%.0f", ($1 - t0) * 1000; exit}' "$B/acked.log")"
    [[ -n "$t" ]] && break
    sleep 0.1
  done
  TIMES+=("${t:-60000}")
  echo "chaos: round $r: killed $L; a write was acknowledged through the load balancer by $(leader) after ${t:-never} ms" >&2
  # The watchdog restarts the old Leader; it rejoins as a Standby before the next round.
  for _ in $(seq 1 300); do
    curl -s --max-time 3 "$(eval echo "\$NODE_${L}_HEALTH_URL")" | grep -q '"streaming":true' && break
    sleep 1
  done
  echo "chaos: round $r: $L is back, streaming as a Standby" >&2
  sleep 10
done
touch "$B/stop"; wait "$LOAD"

# Every acknowledged write is there: each variable's value is its last acknowledged write or a later one.
T="$(authn)"; L="$(leader)"; LOST=0
for i in $(seq 0 49); do
  last="$(awk -v v="chaos%2Fv$i" '$3 == v {n=$2} END {print n+0}' "$B/acked.log")"
  (( last > 0 )) || continue
  got="$(curl -s --max-time 10 --cacert "$COFFER_CA" -H "Authorization: Token token=\"$T\"" "$COFFER_LB_URL/secrets/demo/variable/chaos%2Fv$i")"
  n="${got#w-}"
  [[ "$n" =~ ^[0-9]+$ ]] && (( n >= last )) || { LOST=$((LOST + 1)); echo "chaos: chaos/v$i holds '$got', last acknowledged w-$last" >&2; }
done
# Epochs: one node each, and never going back in acknowledgement order.
OVERLAP="$(awk '{ if (($4 in node) && node[$4] != $5) bad++; node[$4] = $5; if ($4 + 0 < prev) bad++; prev = $4 + 0 } END {print bad + 0}' "$B/acked.log")"
ACKED="$(wc -l <"$B/acked.log")"
sorted="$(printf '%s\n' "${TIMES[@]}" | sort -n)"
MEDIAN="$(sed -n "$(( (${#TIMES[@]} + 1) / 2 ))p" <<<"$sorted")"; WORST="$(tail -1 <<<"$sorted")"
READS="$(cat "$B/reader.json" 2>/dev/null)"
echo "chaos: $ACKED acknowledged writes; failover through the load balancer: median ${MEDIAN:-?} ms, worst ${WORST:-?} ms (${TIMES[*]}); acknowledged writes lost: $LOST; epoch overlaps: $OVERLAP; false failovers in the loaded run: $FALSE_FAILOVERS; Follower reads: $READS"
check "failover median <= 5000 ms" bash -c '(( ${1:-99999} <= 5000 ))' _ "$MEDIAN"
check "failover worst <= 8000 ms" bash -c '(( ${1:-99999} <= 8000 ))' _ "$WORST"
check "0 acknowledged writes lost" test "$LOST" -eq 0
check "0 overlapping epochs" test "$OVERLAP" -eq 0
check "0 false failovers in the loaded run" test "$FALSE_FAILOVERS" -eq 0
check "the Follower served every read" python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["failed"] == 0 else 1)' "$B/reader.json"
summary chaos
