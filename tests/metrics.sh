#!/usr/bin/env bash
# Acceptance of /metrics (issue 9 item 3) on real processes: a standalone Leader's request counter for a route rises
# by at least the number of requests sent, labels carry route templates and never a secret's id, the content type is
# the Prometheus text format 0.0.4; then a Follower of it: its lag gauge rises while its replay is paused, and falls
# after it resumes.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT
OFF=${COFFER_TEST_PORT_OFFSET:-23700}
FOFF=$((OFF + 10))
T0=$SECONDS

pg_sql() {  # pg_sql NODE_DIR SQL (superuser, peer auth on the node's socket)
  local port; port="$(sed -n 's/^port[[:space:]]*=[[:space:]]*//p' "$1/etc/io.coffer.postgres.cfg" | tr -d '[:space:]')"
  local cmd=(/usr/lib/postgresql/15/bin/psql -X -q -t -A -h "$1/pg/run" -p "$port" -U postgres -d coffer -c "$2")
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "${cmd[@]}"; else "${cmd[@]}"; fi
}
# sum SCRAPE NAME [LABEL_FRAGMENT...]: the sum of NAME's samples whose labels contain every fragment
SUM_PY='
import re, sys
name, frags = sys.argv[1], sys.argv[2:]
total, seen = 0.0, False
for line in sys.stdin.read().splitlines():
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$", line)
    if m and m.group(1) == name and all(f in (m.group(2) or "") for f in frags):
        total += float(m.group(3)); seen = True
print(total if seen else "absent")
'
sum() { local text="$1"; shift; python3 -c "$SUM_PY" "$@" <<<"$text"; }
scrape() { curl -s --max-time 10 "http://127.0.0.1:$1/metrics"; }

L="$(new_dir)"
echo "metrics: Leader in $L, port offset $OFF" >&2
OUT="$("$ROOT/coffer" start --dir "$L" --port-offset "$OFF" 2>"$L.err")"; RC=$?
check "the Leader starts" test "$RC" -eq 0 || { cat "$L.err" >&2; summary metrics; exit 1; }
eval "$OUT"
LH=$((8444 + OFF))
CT="$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$LH/metrics")"
check "/metrics on the health port is Prometheus text 0.0.4 ($CT)" test "$CT" = "text/plain; version=0.0.4; charset=utf-8"
check "/metrics is not served on the API port" test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$COFFER_CA" "$COFFER_URL/metrics")" != 200

TOKEN="$(curl -s --cacert "$COFFER_CA" -H 'Accept-Encoding: base64' -d "$COFFER_API_KEY" "$COFFER_URL/authn/demo/admin/authenticate")"
AUTH="Authorization: Token token=\"$TOKEN\""
MARK="idmark$RANDOM$RANDOM"
POLICY="- !variable db/$MARK"$'\n'"- !variable other/$MARK-two"$'\n'
check "a policy with two variables loads" test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$COFFER_CA" -H "$AUTH" --data-binary "$POLICY" "$COFFER_URL/policies/demo/policy/root")" = 201
for id in "db%2F$MARK" "other%2F$MARK-two"; do
  curl -s -o /dev/null --cacert "$COFFER_CA" -H "$AUTH" --data-binary v1 "$COFFER_URL/secrets/demo/variable/$id"
done

ROUTE='route="/secrets/{account}/{kind}/{id}"'
BEFORE="$(scrape $LH)"
R0="$(sum "$BEFORE" coffer_http_requests_total "$ROUTE" 'method="GET"')"; R0=${R0/absent/0}
A0="$(sum "$BEFORE" coffer_http_requests_total 'route="/authn/{account}/{login}/authenticate"' 'status="200"')"; A0=${A0/absent/0}
N=20 NA=5 OK=0
for ((i = 0; i < N; i++)); do
  id="db%2F$MARK"; (( i % 2 )) && id="other%2F$MARK-two"
  [[ "$(curl -s --cacert "$COFFER_CA" -H "$AUTH" "$COFFER_URL/secrets/demo/variable/$id")" == v1 ]] && OK=$((OK + 1))
done
check "$N secret reads of two ids answered" test "$OK" -eq "$N"
for ((i = 0; i < NA; i++)); do
  curl -s -o /dev/null --cacert "$COFFER_CA" -H 'Accept-Encoding: base64' -d "$COFFER_API_KEY" "$COFFER_URL/authn/demo/admin/authenticate"
done
AFTER="$(scrape $LH)"
R1="$(sum "$AFTER" coffer_http_requests_total "$ROUTE" 'method="GET"')"
A1="$(sum "$AFTER" coffer_http_requests_total 'route="/authn/{account}/{login}/authenticate"' 'status="200"')"
echo "  (secret reads counted $R0 -> $R1, authentications $A0 -> $A1)" >&2
check "the secret route's request counter rose by at least $N" python3 -c 'import sys; sys.exit(not float(sys.argv[2]) - float(sys.argv[1]) >= int(sys.argv[3]))' "$R0" "$R1" "$N"
check "the authenticate route's counter rose by at least $NA" python3 -c 'import sys; sys.exit(not float(sys.argv[2]) - float(sys.argv[1]) >= int(sys.argv[3]))' "$A0" "$A1" "$NA"
check "... and the latency histogram counted them" python3 -c 'import sys; sys.exit(not float(sys.argv[1]) >= int(sys.argv[2]))' "$(sum "$AFTER" coffer_http_request_duration_seconds_count "$ROUTE" 'method="GET"')" "$N"
check "authentications by outcome count successes" python3 -c 'import sys; sys.exit(not float(sys.argv[1]) >= int(sys.argv[2]))' "$(sum "$AFTER" coffer_authentications_total 'outcome="success"')" "$NA"
check "secret reads are counted" python3 -c 'import sys; sys.exit(not float(sys.argv[1]) >= int(sys.argv[2]))' "$(sum "$AFTER" coffer_secret_reads_total 'outcome="success"')" "$N"
check "no secret id (nor the admin login) appears in the exposition" bash -c '! grep -qiE -e "$1" -e "db(/|%2F)" -e "admin" <<<"$2"' _ "$MARK" "$AFTER"
check "every label value of the request metrics is a template or unmatched" bash -c '! grep -E "^coffer_http_request" <<<"$1" | grep -oE "route=\"[^\"]*\"" | grep -vE "^route=\"(unmatched|/[A-Za-z0-9/_{}.-]*)\"$" | grep -q .' _ "$AFTER"
check "the node's role is a gauge (leader)" test "$(sum "$AFTER" coffer_node_role 'role="leader"')" = 1.0
check "JVM basics are there" grep -q '^jvm_memory_used_bytes' <<<"$AFTER"
check "audit queue depth is there" grep -q '^coffer_audit_queue_depth' <<<"$AFTER"
check "key-lock state is there (unlocked)" test "$(sum "$AFTER" coffer_keys_unlocked)" = 1.0

# A Follower of it; its lag gauge while its replay is paused, then after.
F="$(new_dir)"
echo "metrics: Follower in $F, port offset $FOFF" >&2
"$ROOT/coffer" start --role follower --upstream "$L" --dir "$F" --port-offset "$FOFF" >/dev/null 2>"$F.err"; RC=$?
check "the Follower starts" test "$RC" -eq 0 || { cat "$F.err" >&2; summary metrics; exit 1; }
FH=$((8444 + FOFF))
lag() { local v; v="$(sum "$(scrape $FH)" coffer_replication_lag_seconds)"; echo "${v/absent/-1}"; }
lt() { python3 -c 'import sys; sys.exit(not (0 <= float(sys.argv[1]) < float(sys.argv[2])))' "$1" "$2"; }
LAG=-1; for ((i = 0; i < 60; i++)); do LAG="$(lag)"; lt "$LAG" 3 && break; sleep 1; done
check "the Follower's lag gauge is there and small ($LAG s)" lt "$LAG" 3
check "the Follower's role gauge says follower" test "$(sum "$(scrape $FH)" coffer_node_role 'role="follower"')" = 1.0
LAG0="$LAG"
pg_sql "$F" "SELECT pg_wal_replay_pause()" >/dev/null
PAUSED=-1
for ((i = 0; i < 30; i++)); do
  curl -s -o /dev/null --cacert "$COFFER_CA" -H "$AUTH" --data-binary "v$i" "$COFFER_URL/secrets/demo/variable/db%2F$MARK"
  PAUSED="$(lag)"; python3 -c 'import sys; sys.exit(not float(sys.argv[1]) >= float(sys.argv[2]) + 5)' "$PAUSED" "$LAG0" && break
  sleep 1
done
echo "  (lag $LAG0 s before the pause, $PAUSED s while paused)" >&2
check "the lag gauge rose by 5 s or more while replay was paused" python3 -c 'import sys; sys.exit(not float(sys.argv[1]) >= float(sys.argv[2]) + 5)' "$PAUSED" "$LAG0"
check "the paused gauge says paused" test "$(sum "$(scrape $FH)" coffer_replication_replay_paused)" = 1.0
pg_sql "$F" "SELECT pg_wal_replay_resume()" >/dev/null
AFTERLAG=-1; for ((i = 0; i < 30; i++)); do AFTERLAG="$(lag)"; lt "$AFTERLAG" 3 && break; sleep 1; done
echo "  (lag $AFTERLAG s after resume)" >&2
check "the lag gauge fell back under 3 s after replay resumed" lt "$AFTERLAG" 3
check "the Leader's per-replica lag gauge names the Follower" grep -q '^coffer_replication_replica_lag_bytes{replica="' <<<"$(scrape $LH)"

# The web console on this Follower (saves the console test a node start): read-only, no write offered, a write
# through it answered 405.
FPORT="$(sed -n 's/^org.osgi.service.http.port.secure[[:space:]]*=[[:space:]]*//p' "$F/etc/org.ops4j.pax.web.cfg" | tr -d '[:space:]')"
COFFER_URL="$COFFER_URL" COFFER_CA="$COFFER_CA" COFFER_ACCOUNT="$COFFER_ACCOUNT" COFFER_LOGIN="$COFFER_LOGIN" \
  COFFER_API_KEY="$COFFER_API_KEY" CONSOLE_TARGET_URL="https://127.0.0.1:$FPORT" bash "$ROOT/tests/console.sh" --reuse
check "the web console works read-only on the Follower (tests/console.sh --reuse)" test $? -eq 0

"$ROOT/coffer" stop --dir "$F" >/dev/null 2>&1
"$ROOT/coffer" stop --dir "$L" >/dev/null 2>&1
check "nothing is left running in the Leader's folder" no_procs_in "$L"
check "nothing is left running in the Follower's folder" no_procs_in "$F"
echo "metrics: $((SECONDS - T0)) s" >&2
summary metrics
