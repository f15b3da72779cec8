#!/usr/bin/env bash
# ./coffer chaos: the long fault campaign (not in CI; tests/failover.sh runs one case of each kind there).
# A cluster of real processes (Leader, two Standbys with etcd, a Follower, the load balancers, the watchdog) under
# write load through the cluster load balancer and read load through the follower load balancer:
#   1. a loaded run of --minutes (default 10) with no fault: the epoch must not change (no false failover);
#   2. --rounds (default 10) times: kill -9 of the Leader (JVM and PostgreSQL); time until a write is acknowledged
#      through the load balancer by another node; the watchdog restarts the old Leader, which must rejoin;
#   3. --pg-kills (default 10) times: kill -9 of the Leader's PostgreSQL alone; time until writes through the load
#      balancer are acknowledged again (the node restarts its database and keeps leading, or gives the leadership
#      up if it can't: architecture 96);
#   4. --pauses (default 10) times: the Leader's JVM stopped (SIGSTOP) until another node acknowledged a write (the
#      same measure), then resumed: it must demote itself and rejoin;
#   5. --isolations (default 10) times: the Leader cut off etcd (cluster isolate), the same measure, then healed;
#   6. --switchovers (default 10) times: cluster switchover under the same load: not one write through the load
#      balancer may fail; the write pause each prints (target 2 s);
#   7. the audit stream down for --audit-outage seconds (default 60; the load balancer's audit frontend in
#      maintenance) with the Leader killed in the middle: afterwards every node's audit files and the Leader's table
#      hold the same events (ids compared: none lost, none twice).
# Then: every acknowledged write is still there (each variable holds its last acknowledged value or a later one),
# epochs never overlap (one node per epoch, epochs grow in acknowledgement order), the Follower's failed reads.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=10 MINUTES=10 OFF=20500 ISOLATIONS=10 OUTAGE=60 SWITCHOVERS=10 PG_KILLS=10 PAUSES=10
while (( $# )); do
  case "$1" in
    --rounds) ROUNDS="$2"; shift ;;
    --minutes) MINUTES="$2"; shift ;;
    --port-offset) OFF="$2"; shift ;;
    --isolations) ISOLATIONS="$2"; shift ;;
    --audit-outage) OUTAGE="$2"; shift ;;
    --switchovers) SWITCHOVERS="$2"; shift ;;
    --pg-kills) PG_KILLS="$2"; shift ;;
    --pauses) PAUSES="$2"; shift ;;
    *) echo "usage: ./coffer chaos [--rounds N] [--pg-kills N] [--pauses N] [--isolations N] [--switchovers N] [--minutes M] [--audit-outage SECONDS] [--port-offset N]" >&2; exit 2 ;;
  esac
  shift
done
B="$(new_dir)"
# A campaign that failed a check keeps its folder (acknowledgement log, node logs) for a look afterwards.
chaos_cleanup() {
  touch "$B/stop"; "$ROOT/coffer" cluster stop --dir "$B" >/dev/null 2>&1 || true
  if (( FAILED > 0 )); then echo "chaos: kept $B for a look (remove it when done)" >&2; rm -f "$NODES_FILE"; else cleanup; fi
}
[[ -n "${COFFER_TEST_KEEP:-}" ]] || trap chaos_cleanup EXIT
echo "chaos: cluster under $B, port offset $OFF, $MINUTES min loaded run, $ROUNDS kills, $PG_KILLS database kills, $PAUSES pauses, $ISOLATIONS isolations, $SWITCHOVERS switchovers" >&2
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

TIMES=() ISO_TIMES=() PG_TIMES=() PAUSE_TIMES=()
taken_over() {  # taken_over T0 OLD: ms from T0 until a write was acknowledged by another node ("" if none in 60 s)
  local t=""
  for _ in $(seq 1 600); do
    t="$(awk -v t0="$1" -v old="$2" '$1 > t0 && $5 != old {printf "%.0f", ($1 - t0) * 1000; exit}' "$B/acked.log")"
    [[ -n "$t" ]] && break
    sleep 0.1
  done
  echo "$t"
}
writes_back() {  # writes_back T0: ms from T0 until a write sent after T0 was acknowledged (a write sent while the
  # database restarts may wait for it rather than fail)
  local t=""
  for _ in $(seq 1 600); do
    t="$(awk -v t0="$1" '$6 > t0 {printf "%.0f", ($1 - t0) * 1000; exit}' "$B/acked.log")"
    [[ -n "$t" ]] && break
    sleep 0.1
  done
  echo "$t"
}
rejoined() {  # rejoined NODE: waits (up to 5 min) until the node streams as a Standby
  for _ in $(seq 1 300); do
    curl -s --max-time 3 "$(eval echo "\$NODE_${1}_HEALTH_URL")" | grep -q '"streaming":true' && return 0
    sleep 1
  done
  return 1
}
for r in $(seq 1 "$ROUNDS"); do
  L="$(leader)"; [[ -n "$L" ]] || { echo "chaos: no Leader before round $r" >&2; break; }
  T0=$(date +%s.%N)
  kill -9 "$(cat "$B/$L/karaf.pid")" "$(head -1 "$B/$L/pg/data/postmaster.pid")" 2>/dev/null
  t="$(taken_over "$T0" "$L")"
  TIMES+=("${t:-60000}")
  echo "chaos: round $r: killed $L; a write was acknowledged through the load balancer by $(leader) after ${t:-never} ms" >&2
  # The watchdog restarts the old Leader; it rejoins as a Standby before the next round.
  rejoined "$L"
  echo "chaos: round $r: $L is back, streaming as a Standby" >&2
  sleep 10
done
for r in $(seq 1 "$PG_KILLS"); do
  L="$(leader)"; [[ -n "$L" ]] || { echo "chaos: no Leader before database kill $r" >&2; break; }
  # T0 once the postmaster is dead (the command takes a moment to start; writes sent before it returns may succeed).
  "$ROOT/coffer" cluster kill-pg "$L" --dir "$B" 2>/dev/null
  T0=$(date +%s.%N)
  t="$(writes_back "$T0")"
  PG_TIMES+=("${t:-60000}")
  N="$(leader)"
  echo "chaos: database kill $r: killed $L's PostgreSQL; writes through the load balancer acknowledged again after ${t:-never} ms (by ${N:-none})" >&2
  # Restarted in place it keeps leading and its Standbys stream again; replaced, it rejoins as one.
  if [[ -n "$N" && "$N" != "$L" ]]; then rejoined "$L"; fi
  sleep 10
done
for r in $(seq 1 "$PAUSES"); do
  L="$(leader)"; [[ -n "$L" ]] || { echo "chaos: no Leader before pause $r" >&2; break; }
  T0=$(date +%s.%N)
  "$ROOT/coffer" cluster pause "$L" --dir "$B" 2>/dev/null
  t="$(taken_over "$T0" "$L")"
  PAUSE_TIMES+=("${t:-60000}")
  "$ROOT/coffer" cluster resume "$L" --dir "$B" 2>/dev/null
  echo "chaos: pause $r: $L stopped (SIGSTOP); a write was acknowledged through the load balancer by $(leader) after ${t:-never} ms; resumed" >&2
  rejoined "$L"
  echo "chaos: pause $r: $L demoted itself, streaming as a Standby" >&2
  sleep 10
done
for r in $(seq 1 "$ISOLATIONS"); do
  L="$(leader)"; [[ -n "$L" ]] || { echo "chaos: no Leader before isolation $r" >&2; break; }
  T0=$(date +%s.%N)
  "$ROOT/coffer" cluster isolate "$L" --dir "$B" 2>/dev/null
  t="$(taken_over "$T0" "$L")"
  ISO_TIMES+=("${t:-60000}")
  echo "chaos: isolation $r: $L cut off etcd; a write was acknowledged through the load balancer by $(leader) after ${t:-never} ms" >&2
  "$ROOT/coffer" cluster heal "$L" --dir "$B" 2>/dev/null
  rejoined "$L"
  echo "chaos: isolation $r: $L healed, streaming as a Standby" >&2
  sleep 10
done
SW_PAUSES=() SW_FAILED=0
for r in $(seq 1 "$SWITCHOVERS"); do
  L="$(leader)"; [[ -n "$L" ]] || { echo "chaos: no Leader before switchover $r" >&2; break; }
  T0=$(date +%s.%N)
  out="$("$ROOT/coffer" cluster switchover --dir "$B" 2>&1)"
  p="$(grep -o 'writes paused [0-9]*' <<<"$out" | grep -o '[0-9]*$')"
  SW_PAUSES+=("${p:-60000}")
  sleep 5
  f="$(awk -v a="$T0" -v b="$(date +%s.%N)" '$1 >= a && $1 <= b' "$B/failed.log" 2>/dev/null | wc -l)"
  SW_FAILED=$((SW_FAILED + f))
  echo "chaos: switchover $r: $L -> $(leader): $(grep '^switchover:' <<<"$out" || echo "$out" | tail -1); writes through the load balancer that failed: $f" >&2
  rejoined "$L"
  echo "chaos: switchover $r: $L streaming as a Standby" >&2
  sleep 10
done
# The audit stream away for OUTAGE s, the Leader killed in the middle: every node spools in its files meanwhile.
lb_audit() {  # lb_audit STATE: every leader_audit server to STATE (maint|ready) on the load balancer's admin socket
  python3 - "$B/lb/admin.sock" "$1" <<'PY'
import socket, sys
for n in ("n1", "n2", "n3"):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    s.sendall(("set server leader_audit/%s state %s\n" % (n, sys.argv[2])).encode()); s.recv(4096); s.close()
PY
}
if (( OUTAGE > 0 )); then
  lb_audit maint
  echo "chaos: audit stream down for $OUTAGE s" >&2
  sleep $((OUTAGE / 2))
  L="$(leader)"
  [[ -z "$L" ]] || kill -9 "$(cat "$B/$L/karaf.pid")" "$(head -1 "$B/$L/pg/data/postmaster.pid")" 2>/dev/null
  echo "chaos: audit outage: killed the Leader $L" >&2
  sleep $((OUTAGE - OUTAGE / 2))
  lb_audit ready
  [[ -z "$L" ]] || rejoined "$L"
  echo "chaos: audit stream back; $L streaming as a Standby" >&2
fi
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
OVERLAP="$(awk '{ if (($4 in node) && node[$4] != $5 || $4 + 0 < prev) { bad++; if (bad <= 5) printf "chaos: epoch overlap: %s (before it: %s)\n", $0, last > "/dev/stderr" }
  node[$4] = $5; prev = $4 + 0; last = $0 } END {print bad + 0}' "$B/acked.log")"
ACKED="$(wc -l <"$B/acked.log")"
nth() { (( $2 > 0 )) && sed -n "$2p" <<<"$(printf '%s\n' "${@:3}" | sort -n)"; }  # nth _ N T...: the Nth smallest
# stats T...: "median M ms, worst W ms (T...)" ("none" without times)
stats() { (( $# )) && echo "median $(nth _ $((($# + 1) / 2)) "$@") ms, worst $(nth _ $# "$@") ms ($*)" || echo none; }
MEDIAN="$(nth _ $(( (${#TIMES[@]} + 1) / 2 )) "${TIMES[@]}")"; WORST="$(nth _ "${#TIMES[@]}" "${TIMES[@]}")"
READS="$(cat "$B/reader.json" 2>/dev/null)"
# Every node's audit chain at the Leader: wait for the spools to drain, then compare ids.
LP=""; case "$L" in n1) LP=$((OFF + 5433)) ;; n2) LP=$((OFF + 10 + 5433)) ;; n3) LP=$((OFF + 20 + 5433)) ;; esac
AUDIT_OK=1
for _ in $(seq 1 60); do
  python3 "$ROOT/tests/audit_complete.py" "$B/$L" "$LP" "$B"/n1 "$B"/n2 "$B"/n3 "$B"/n4 >"$B/audit.txt" 2>&1 && { AUDIT_OK=0; break; }
  sleep 5
done
sed 's/^/chaos: audit /' "$B/audit.txt" >&2
echo "chaos: $ACKED acknowledged writes; acknowledged writes lost: $LOST; epoch overlaps: $OVERLAP; false failovers in the loaded run: $FALSE_FAILOVERS; Follower reads: $READS" >&2
echo "chaos: Leader killed -> write through the load balancer: $(stats "${TIMES[@]}")" >&2
echo "chaos: Leader's database killed -> writes back: $(stats "${PG_TIMES[@]}")" >&2
echo "chaos: Leader paused -> write by another node: $(stats "${PAUSE_TIMES[@]}")" >&2
echo "chaos: Leader isolated -> write by another node: $(stats "${ISO_TIMES[@]}")" >&2
echo "chaos: switchover write pauses: $(stats "${SW_PAUSES[@]}"); failed writes in them: $SW_FAILED" >&2
check "failover median <= 5000 ms" bash -c '(( ${1:-99999} <= 5000 ))' _ "$MEDIAN"
check "failover worst <= 8000 ms" bash -c '(( ${1:-99999} <= 8000 ))' _ "$WORST"
check "0 acknowledged writes lost" test "$LOST" -eq 0
check "0 overlapping epochs" test "$OVERLAP" -eq 0
check "0 false failovers in the loaded run" test "$FALSE_FAILOVERS" -eq 0
(( PG_KILLS == 0 )) || check "writes back after a database kill, worst <= 8000 ms" bash -c '(( ${1:-99999} <= 8000 ))' _ "$(nth _ "${#PG_TIMES[@]}" "${PG_TIMES[@]}")"
(( PAUSES == 0 )) || check "failover after a pause worst <= 8000 ms" bash -c '(( ${1:-99999} <= 8000 ))' _ "$(nth _ "${#PAUSE_TIMES[@]}" "${PAUSE_TIMES[@]}")"
(( ISOLATIONS == 0 )) || check "failover after isolation worst <= 8000 ms" bash -c '(( ${1:-99999} <= 8000 ))' _ "$(nth _ "${#ISO_TIMES[@]}" "${ISO_TIMES[@]}")"
(( SWITCHOVERS == 0 )) || check "no write through the load balancer failed during the switchovers" test "$SW_FAILED" -eq 0
(( SWITCHOVERS == 0 )) || check "switchover write pause median <= 2000 ms" bash -c '(( ${1:-99999} <= 2000 ))' _ "$(nth _ $(( (${#SW_PAUSES[@]} + 1) / 2 )) "${SW_PAUSES[@]}")"
check "every node's audit events are at the Leader, none lost or twice" test "$AUDIT_OK" -eq 0
check "the Follower served every read" python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["failed"] == 0 else 1)' "$B/reader.json"
summary chaos
