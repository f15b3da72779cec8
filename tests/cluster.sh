#!/usr/bin/env bash
# A cluster of real processes on loopback — Leader n1, synchronous Standby n2, asynchronous Standby n3, Follower n4,
# each its own Karaf and PostgreSQL — started by ./coffer cluster start. One case of each kind:
# reads through the Follower (read-your-writes by X-Coffer-Position, replay paused), the role gates, a write that
# waits for its synchronous Standby, the Leader killed -9 while the Follower keeps serving, a manual promotion,
# and the official Conjur SDK reading through the Follower.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
OFF=${COFFER_TEST_PORT_OFFSET:-24000}
B="$(new_dir)"
# cleanup (lib.sh) stops folders it knows; the cluster's nodes live one level down.
cluster_cleanup() { "$ROOT/coffer" cluster stop --dir "$B" >/dev/null 2>&1 || true; cleanup; }
trap cluster_cleanup EXIT

echo "cluster: nodes under $B, port offset $OFF" >&2
# --manual-failover: these cases drive promotion and re-pointing by hand (tests/failover.sh covers etcd).
OUT="$("$ROOT/coffer" cluster start --dir "$B" --port-offset "$OFF" --standbys 2 --followers 1 --manual-failover 2>"$B.err")"; RC=$?
check "cluster start exits 0" test "$RC" -eq 0 || { tail -40 "$B.err" >&2; }
check "stdout is only KEY=VALUE or # lines" bash -c '! grep -vE "^([A-Za-z_][A-Za-z0-9_]*=.*|#.*)$" <<<"$1"' _ "$OUT"
eval "$OUT"
export COFFER_HEALTH_URL
check "COFFER_READ_URL is the Follower" test "${COFFER_READ_URL:-}" = "${NODE_n4_URL:-x}"
check "four nodes with their roles" test "${NODE_n1_ROLE:-}/${NODE_n2_ROLE:-}/${NODE_n3_ROLE:-}/${NODE_n4_ROLE:-}" = "leader/standby/standby/follower"

CURL=(curl -s --max-time 20 --cacert "$COFFER_CA")
sync_state() {  # the Leader's view of a replica: "<state>/<sync_state>"
  curl -s --max-time 5 "$COFFER_HEALTH_URL" | python3 -c 'import json,sys
d=json.load(sys.stdin)["replication"]
print(next((r["state"]+"/"+r["sync_state"] for r in d.get("replicas",[]) if r["name"]==sys.argv[1]), "absent"))' "$1"
}
eventually() {  # eventually SECONDS command...: retries until the command succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do (( SECONDS < deadline )) || return 1; sleep 0.5; done
}
export -f sync_state
check "n2 is the synchronous Standby" eventually 30 bash -c '[[ "$("$1" standby_n2)" == streaming/sync ]]' _ sync_state
check "n3 and the Follower stream asynchronously" eventually 30 bash -c '[[ "$("$1" standby_n3)" == streaming/async && "$("$1" follower_n4)" == streaming/async ]]' _ sync_state

TOKEN="$("${CURL[@]}" --data-binary "$COFFER_API_KEY" "$COFFER_URL/authn/demo/admin/authenticate" | base64 -w0)"
AUTH="Authorization: Token token=\"$TOKEN\""
"${CURL[@]}" -o /dev/null -H "$AUTH" --data-binary $'- !variable cluster/db\n- !host app\n- !permit { role: !host app, privileges: [ read, execute ], resource: !variable cluster/db }\n' "$COFFER_URL/policies/demo/policy/root"
SECRET_PATH="/secrets/demo/variable/cluster%2Fdb"
write() {  # write VALUE: sets the secret on the Leader; prints the position, or nothing when it did not succeed
  local h; h="$(mktemp)"
  # No short timeout: a write that waits for its synchronous Standby must be seen to wait, not be abandoned.
  local code; code="$(curl -s --max-time 180 --cacert "$COFFER_CA" -D "$h" -o /dev/null -w '%{http_code}' -H "$AUTH" --data-binary "$1" "$COFFER_URL$SECRET_PATH")"
  [[ "$code" == 201 ]] && sed -n 's/^X-Coffer-Position: *//Ip' "$h" | tr -d '\r'
  rm -f "$h"
}
P1="$(write v1)"
check "a write on the Leader returns its position" test -n "$P1"
check "the Follower reads it with that position" test "$("${CURL[@]}" -H "$AUTH" -H "X-Coffer-Position: $P1" "$COFFER_READ_URL$SECRET_PATH")" = v1

# Role gates: nothing changes on a Follower or a Standby.
R="$("${CURL[@]}" -D - -H "$AUTH" --data-binary x "$COFFER_READ_URL$SECRET_PATH")"
check "a write to the Follower is 405 with Allow and a JSON error" bash -c 'grep -q "^HTTP/[0-9.]* 405" <<<"$1" && grep -qi "^Allow: GET" <<<"$1" && grep -q "\"code\":\"method_not_allowed\"" <<<"$1"' _ "$R"
R="$("${CURL[@]}" -w '\n%{http_code}' -H "$AUTH" "$NODE_n2_URL$SECRET_PATH")"
check "an API call to a Standby is 503 naming its role" bash -c '[[ "${1##*$'"'"'\n'"'"'}" == 503 ]] && grep -q "is a standby" <<<"$1"' _ "$R"
check "... and the Standby's health is 200" test "$(curl -s -o /dev/null -w '%{http_code}' "$NODE_n2_HEALTH_URL/replica")" = 200
check "the value did not change" test "$("${CURL[@]}" -H "$AUTH" "$COFFER_URL$SECRET_PATH")" = v1

# Replay paused on the Follower: a read at a newer position waits, then 503; without the header, the old value.
pg_sql() {  # pg_sql NODE_DIR SQL (superuser, peer auth on the node's socket)
  local port; port="$(sed -n 's/^port[[:space:]]*=[[:space:]]*//p' "$1/etc/io.coffer.postgres.cfg" | tr -d '[:space:]')"
  local cmd=(/usr/lib/postgresql/15/bin/psql -X -q -t -A -h "$1/pg/run" -p "$port" -U postgres -d coffer -c "$2")
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "${cmd[@]}"; else "${cmd[@]}"; fi
}
# Replication authenticates by certificate from the cluster CA (hostssl … cert); the role's password alone is refused.
check "every replica streams over TLS with a node certificate" test "$(pg_sql "$B/n1" "SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE s.ssl AND s.client_dn ~ '^/CN=n[0-9]+$'")" = 3
N1PG="$(sed -n 's/^port[[:space:]]*=[[:space:]]*//p' "$B/n1/etc/io.coffer.postgres.cfg" | tr -d '[:space:]')"
check "a replication connection with the password but no certificate is refused" bash -c '! PGPASSWORD="$(cat "$1")" /usr/lib/postgresql/15/bin/psql -X -q -t -A "host=127.0.0.1 port=$2 user=coffer_replication dbname=replication replication=true sslmode=require connect_timeout=5" -c IDENTIFY_SYSTEM >/dev/null 2>&1' _ "$B/n1/secrets/postgres-coffer_replication.password" "$N1PG"
pg_sql "$B/n4" "SELECT pg_wal_replay_pause()" >/dev/null
P2="$(write v2)"
T0=$SECONDS
R="$("${CURL[@]}" -D - -H "$AUTH" -H "X-Coffer-Position: $P2" "$COFFER_READ_URL$SECRET_PATH")"
check "with replay paused, a read at the newer position answers 503 with Retry-After" bash -c 'grep -q "^HTTP/[0-9.]* 503" <<<"$1" && grep -qi "^Retry-After:" <<<"$1" && grep -q position_not_reached <<<"$1"' _ "$R"
check "... after waiting (about 2 s)" test $((SECONDS - T0)) -ge 1
check "... and without the header it reads the old value" test "$("${CURL[@]}" -H "$AUTH" "$COFFER_READ_URL$SECRET_PATH")" = v1
pg_sql "$B/n4" "SELECT pg_wal_replay_resume()" >/dev/null
check "after resume the position is reached and the new value read" test "$("${CURL[@]}" -H "$AUTH" -H "X-Coffer-Position: $P2" "$COFFER_READ_URL$SECRET_PATH")" = v2

# The synchronous Standby stopped, no replacement: a write never succeeds before it is on a Standby. Its answer waits
# commit.wait.ms, then says 503 outcome_unknown with the write id; the commit itself goes on and completes once the
# Standby is back (GET /writes/{id}: pending, then committed).
printf 'commit.wait.ms = 6000\n' >"$B/n1/etc/io.coffer.store.cfg"
sleep 2
"$ROOT/coffer" stop --dir "$B/n2" >/dev/null 2>&1
W="$(mktemp)"; T0=$SECONDS
( curl -s --max-time 60 --cacert "$COFFER_CA" -o "$W" -w '%{http_code}' -H "$AUTH" --data-binary v3 "$COFFER_URL$SECRET_PATH" >"$W.code" ) & WPID=$!
sleep 3
check "with the synchronous Standby down, the write has not returned" kill -0 "$WPID"
wait "$WPID"
check "... then it is answered 503 outcome_unknown, never success (after $((SECONDS - T0)) s)" bash -c '[[ "$(cat "$1.code")" == 503 ]] && grep -q "\"outcome_unknown\"" "$1"' _ "$W"
WID="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"]["write_id"])' "$W" 2>/dev/null)"
check "... with its write id" bash -c '[[ "$1" =~ ^[0-9a-f-]{36}$ ]]' _ "$WID"
write_state() { curl -s --max-time 20 --cacert "$COFFER_CA" -H "$AUTH" "$COFFER_URL/writes/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("state",""))' 2>/dev/null; }
export -f write_state; export AUTH COFFER_CA COFFER_URL
check "GET /writes/{id} says pending while the Standby is away" test "$(write_state "$WID")" = pending
check "... and an unknown write id is 404" test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$COFFER_CA" -H "$AUTH" "$COFFER_URL/writes/00000000-0000-4000-8000-000000000000")" = 404
"$ROOT/coffer" start --dir "$B/n2" >/dev/null 2>"$B.n2.err"
check "once the Standby is back, the write is committed" eventually 60 bash -c '[[ "$(write_state "$1")" == committed ]]' _ "$WID"
P3="$(write v3)"
check "... a new write completes" test -n "$P3"
check "... and the Follower reads it" test "$("${CURL[@]}" -H "$AUTH" -H "X-Coffer-Position: $P3" "$COFFER_READ_URL$SECRET_PATH")" = v3
check "n2 is the synchronous Standby again" eventually 30 bash -c '[[ "$(sync_state standby_n2)" == streaming/sync ]]'

# Replacement allowed (replace.after.seconds): a gone synchronous Standby is replaced by one holding every commit it
# had acknowledged, and the waiting write completes.
printf 'replace.after.seconds = 2\n' >"$B/n1/etc/io.coffer.replication.cfg"
sleep 3
"$ROOT/coffer" stop --dir "$B/n2" >/dev/null 2>&1
W2="$(mktemp)"; ( write v3b >"$W2" ) & WPID=$!
for _ in $(seq 1 60); do kill -0 "$WPID" 2>/dev/null || break; sleep 0.5; done
check "with replacement allowed, the write completes while n2 is down" test -n "$(cat "$W2")"
check "n3 is now the synchronous Standby" eventually 30 bash -c '[[ "$(sync_state standby_n3)" == streaming/sync ]]'
"$ROOT/coffer" start --dir "$B/n2" >/dev/null 2>"$B.n2.err"
check "n2 is back, asynchronous" eventually 60 bash -c '[[ "$(sync_state standby_n2)" == streaming/async ]]'
printf 'replace.after.seconds = 0\n' >"$B/n1/etc/io.coffer.replication.cfg"
wait "$WPID" 2>/dev/null
SYNC=n3
SYNC_URL="$NODE_n3_URL"; SYNC_HEALTH="$NODE_n3_HEALTH_URL"

# The SDK reads through the Follower (a host's API key, as an application would).
APP_KEY="$("${CURL[@]}" -X PUT -H "$AUTH" "$COFFER_URL/authn/demo/api_key?role=host:app")"
(cd "$ROOT" && CONJUR_APPLIANCE_URL="$COFFER_READ_URL" CONJUR_ACCOUNT=demo CONJUR_AUTHN_LOGIN=host/app \
   CONJUR_AUTHN_API_KEY="$APP_KEY" CONJUR_CERT_FILE="$COFFER_CA" CONJUR_AUTO_UPDATE_TOKEN=true \
   COFFER_FOLLOWER_VARIABLE=cluster/db COFFER_FOLLOWER_VALUE=v3b \
   mvn -B -q -pl compat verify -Dcoffer.compat.run=true -Dit.test=FollowerReadIT)
check "the official Conjur SDK reads a secret through the Follower" test $? -eq 0

# Enrolment by seed: issued on the Leader, single-use, bound to its node name and role.
S="$("$ROOT/coffer" shell --dir "$B/n1" coffer:seed-create --role follower n5 | tr -d '\r')"
grep '^coffer-seed-1:' <<<"$S" >"$B.seed"; sed -n 's/.*passphrase (shown once): //p' <<<"$S" >"$B.pass"
check "coffer:seed-create prints a seed and its passphrase" test -s "$B.seed" -a -s "$B.pass"
check "a Follower seed can't enrol a Standby" bash -c '! "$1/coffer" start --seed "$2" --passphrase-file "$3" --dir "$4" --role standby --port-offset "$5" >/dev/null 2>"$4.err" && grep -q "enrols a follower" "$4.err"' _ "$ROOT" "$B.seed" "$B.pass" "$B/n5" "$((OFF + 40))"
echo wrong-passphrase >"$B.badpass"
check "a wrong passphrase opens nothing" bash -c '! "$1/coffer" start --seed "$2" --passphrase-file "$3" --dir "$4" --port-offset "$5" >/dev/null 2>&1' _ "$ROOT" "$B.seed" "$B.badpass" "$B/n5" "$((OFF + 40))"
OUT5="$("$ROOT/coffer" start --seed "$B.seed" --passphrase-file "$B.pass" --dir "$B/n5" --port-offset "$((OFF + 40))" 2>"$B.n5.err")"
check "the seed enrols Follower n5" bash -c 'grep -q "^NODE_n5_ROLE=follower" <<<"$1"' _ "$OUT5" || tail -20 "$B.n5.err" >&2
check "... which serves the secret" test "$("${CURL[@]}" -H "$AUTH" "https://127.0.0.1:$((OFF + 40 + 8443))$SECRET_PATH")" = v3b
check "the same seed is refused the second time" bash -c '! "$1/coffer" start --seed "$2" --passphrase-file "$3" --dir "$4" --port-offset "$5" >/dev/null 2>"$4.err" && grep -q "already consumed" "$4.err"' _ "$ROOT" "$B.seed" "$B.pass" "$B/n6" "$((OFF + 50))"

# Manual failover prepared: Follower n5 is re-pointed (no restart) at the synchronous Standby, cascading from it.
N2PG="$(sed -n 's/^port[[:space:]]*=[[:space:]]*//p' "$B/$SYNC/etc/io.coffer.postgres.cfg" | tr -d '[:space:]')"
check "coffer:rebase re-points Follower n5 at the synchronous Standby" bash -c '"$1/coffer" shell --dir "$2" coffer:rebase --upstream "127.0.0.1:$3" | grep -q re-pointed' _ "$ROOT" "$B/n5" "$N2PG"
check "... where it streams" eventually 30 bash -c 'curl -s "http://127.0.0.1:$1/health" | python3 -c "import json,sys; r=json.load(sys.stdin)[\"replication\"]; sys.exit(0 if r.get(\"streaming\") and r.get(\"upstream\",\"\").endswith(\":$2\") else 1)"' _ "$((OFF + 40 + 8444))" "$N2PG"

# Audit from a Follower: each action it serves is recorded there and reaches the Leader's table through the audit
# stream (TLS, the Follower's certificate), found at the Leader by its request id with the events conjur-api §6 names.
F=(curl -s -o /dev/null --max-time 20 --cacert "$COFFER_CA")
"${F[@]}" -H "X-Request-Id: fa-authn" --data-binary "$APP_KEY" "$COFFER_READ_URL/authn/demo/host%2Fapp/authenticate"
"${F[@]}" -H "X-Request-Id: fa-authn-bad" --data-binary "not-the-key" "$COFFER_READ_URL/authn/demo/host%2Fapp/authenticate"
"${F[@]}" -H "$AUTH" -H "X-Request-Id: fa-fetch" "$COFFER_READ_URL$SECRET_PATH"
"${F[@]}" -H "$AUTH" -H "X-Request-Id: fa-batch" "$COFFER_READ_URL/secrets?variable_ids=demo:variable:cluster/db"
"${F[@]}" -H "$AUTH" -H "X-Request-Id: fa-whoami" "$COFFER_READ_URL/whoami"
"${F[@]}" -H "$AUTH" -H "X-Request-Id: fa-check" "$COFFER_READ_URL/resources/demo/variable/cluster%2Fdb?check=true&privilege=execute"
audited_at_leader() {  # audited_at_leader REQUEST_ID MSGID RESULT: the Leader stores the Follower's event
  curl -s --max-time 10 --cacert "$COFFER_CA" -H "$AUTH" "$COFFER_URL/audit?procid=$1" | python3 -c 'import json,sys
try: ev=json.load(sys.stdin)
except Exception: sys.exit(1)
ok=[e for e in ev if e.get("msgid")==sys.argv[1] and e.get("node")==sys.argv[3]
    and e.get("sdata",{}).get("action@43868",{}).get("result")==sys.argv[2]]
sys.exit(0 if len(ok)==1 else 1)' "$2" "$3" n4
}
export -f audited_at_leader
export COFFER_CA AUTH COFFER_URL
for c in "fa-authn authn success" "fa-authn-bad authn failure" "fa-fetch fetch success" "fa-batch fetch success" \
         "fa-whoami identity-check success" "fa-check check success"; do
  set -- $c
  check "the Follower's $2 ($3, request id $1) is stored at the Leader" eventually 30 audited_at_leader "$1" "$2" "$3"
done
check "the Follower's audit chain is in the Leader's table, each event once" eventually 30 \
  python3 "$ROOT/tests/audit_complete.py" "$B/n1" "$((OFF + 5433))" "$B/n4"

# The Leader killed -9 (Karaf and its PostgreSQL) mid-stream: the Follower keeps serving authentication and reads.
# Under a read load (each read with its request id) for 12 s with the Leader gone, its audit events wait in its files.
LOAD_END=$((SECONDS + 13))
(for i in $(seq 1 1000); do
   (( SECONDS < LOAD_END )) || break
   [[ "$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' --cacert "$COFFER_CA" -H "$AUTH" -H "X-Request-Id: kd-read-$i" "$COFFER_READ_URL$SECRET_PATH")" == 200 ]] \
     && echo "kd-read-$i" >>"$B.read-ids"
   sleep 0.05
 done) &
LOAD_PID=$!
sleep 1
kill -9 "$(cat "$B/n1/karaf.pid")" "$(head -1 "$B/n1/pg/data/postmaster.pid")" 2>/dev/null
sleep 1
T2="$("${CURL[@]}" --data-binary "$APP_KEY" "$COFFER_READ_URL/authn/demo/host%2Fapp/authenticate" | base64 -w0)"
check "with the Leader killed, the Follower authenticates" test -n "$T2"
check "... and serves the secret" test "$("${CURL[@]}" -H "Authorization: Token token=\"$T2\"" "$COFFER_READ_URL$SECRET_PATH")" = v3b
check "... and reports itself degraded, still a healthy replica" eventually 20 bash -c 'curl -s "$1" | grep -q "\"degraded\"" && [[ "$(curl -s -o /dev/null -w "%{http_code}" "$1/replica")" == 200 ]]' _ "$NODE_n4_HEALTH_URL"

wait "$LOAD_PID"
check "the Follower served reads for 12 s with the Leader down" test "$(wc -l <"$B.read-ids" 2>/dev/null || echo 0)" -ge 20

# Manual failover: promote the synchronous Standby; it takes writes and still has every acknowledged one.
check "coffer:promote on the synchronous Standby succeeds" bash -c '"$1/coffer" shell --dir "$2" coffer:promote | grep -q promoted' _ "$ROOT" "$B/$SYNC"
check "the promoted Standby answers /health/leader" eventually 30 bash -c '[[ "$(curl -s -o /dev/null -w "%{http_code}" "$1/leader")" == 200 ]]' _ "$SYNC_HEALTH"
check "it holds the last acknowledged write" test "$("${CURL[@]}" -H "$AUTH" "$SYNC_URL$SECRET_PATH")" = v3b
check "it takes writes" eventually 30 bash -c '[[ "$(curl -s -o /dev/null -w "%{http_code}" --cacert "$1" -H "$2" --data-binary v4 "$3")" == 201 ]]' _ "$COFFER_CA" "$AUTH" "$SYNC_URL$SECRET_PATH"
check "it reads it back" test "$("${CURL[@]}" -H "$AUTH" "$SYNC_URL$SECRET_PATH")" = v4
P5="$(curl -s -D - -o /dev/null --cacert "$COFFER_CA" -H "$AUTH" --data-binary v5 "$SYNC_URL$SECRET_PATH" | sed -n 's/^X-Coffer-Position: *//Ip' | tr -d '\r')"
check "the new Leader's writes carry its new timeline" bash -c '[[ "${1%%/*}" -ge 2 ]]' _ "$P5"
# The Follower's audit, spooled in its files while no Leader was there, reaches the new Leader once pointed at it (a
# manual-failover cluster has no load balancer): every event of its chain once, the reads found by request id.
check "coffer's config:property-set points the Follower's audit at the new Leader" bash -c '"$1/coffer" shell --dir "$2" config:property-set -p io.coffer.audit forward.port "$3" >/dev/null' _ "$ROOT" "$B/n4" "$((OFF + 20 + 1999))"
check "the Follower's audit chain is complete at the new Leader, each event once" eventually 60 \
  python3 "$ROOT/tests/audit_complete.py" "$B/$SYNC" "$((OFF + 20 + 5433))" "$B/n4" --request-ids "$B.read-ids"
python3 "$ROOT/tests/audit_complete.py" "$B/$SYNC" "$((OFF + 20 + 5433))" "$B/n4" --request-ids "$B.read-ids" | sed 's/^/cluster: audit /' >&2
check "Follower n5 follows the new Leader: it reads the write at its position" test "$("${CURL[@]}" -H "$AUTH" -H "X-Coffer-Position: $P5" "https://127.0.0.1:$((OFF + 40 + 8443))$SECRET_PATH")" = v5

summary cluster
