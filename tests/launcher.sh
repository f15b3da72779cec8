#!/usr/bin/env bash
# Acceptance of the launcher on real processes: start prints KEY=VALUE lines, the node is a healthy Leader, the
# health port serves no API, stop leaves nothing behind, a restart keeps the data, a second node on the same ports
# fails clearly, and a node killed -9 comes back (adopting its still-running PostgreSQL).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT
OFF=${COFFER_TEST_PORT_OFFSET:-23000}

D="$(new_dir)"
echo "launcher: node in $D, port offset $OFF" >&2
OUT="$("$ROOT/coffer" start --dir "$D" --port-offset "$OFF" 2>"$D.err")"; RC=$?
check "start exits 0" test "$RC" -eq 0 || { cat "$D.err" >&2; }
check "stdout is only KEY=VALUE or # lines" bash -c '! grep -vE "^([A-Za-z_][A-Za-z0-9_]*=.*|#.*)$" <<<"$1"' _ "$OUT"
eval "$OUT"
check "COFFER_URL is https" test "${COFFER_URL:-}" = "https://127.0.0.1:$((8443 + OFF))"
check "COFFER_CA exists" test -s "${COFFER_CA:-/nonexistent}"
H="$(curl -s -w '\n%{http_code}' --cacert "$COFFER_CA" "$COFFER_URL/health")"
check "/health over TLS is 200" test "${H##*$'\n'}" = 200
check "/health says role leader" grep -q '"role":"leader"' <<<"$H"
check "/health/leader is 200 on the health port" test "$(curl -s -o /dev/null -w '%{http_code}' "${COFFER_HEALTH_URL}/leader")" = 200
P="$(curl -s -w '\n%{http_code}' "http://127.0.0.1:$((8444 + OFF))/secrets/demo/variable/db%2Fpassword")"
check "plain HTTP /secrets on the health port is 404" test "${P##*$'\n'}" = 404
check "... and says the API is TLS-only" grep -q 'the API answers over TLS' <<<"$P"
check "cleartext on the API port gets no HTTP answer" bash -c '[[ "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 http://127.0.0.1:$1/health)" != 200 ]]' _ "$((8443 + OFF))"
check "./coffer shell runs a shell command" bash -c '"$1/coffer" shell --dir "$2" coffer:health | grep -q "role leader, healthy"' _ "$ROOT" "$D"
check "the demo account's API key is printed" test -n "${COFFER_API_KEY:-}"
TOKEN="$(curl -s --cacert "$COFFER_CA" -H 'Accept-Encoding: base64' -d "$COFFER_API_KEY" "$COFFER_URL/authn/demo/admin/authenticate")"
check "the demo API key authenticates" test -n "$TOKEN"
check "/whoami with the token names demo/admin" bash -c 'curl -s --cacert "$1" -H "Authorization: Token token=\"$2\"" "$3/whoami" | grep -q "\"username\":\"admin\""' _ "$COFFER_CA" "$TOKEN" "$COFFER_URL"
check "the API key is nowhere in the node's folder but its 0600 key file" bash -c '[[ "$(grep -rl -- "$1" "$2" 2>/dev/null)" == "$2/secrets/demo.api_key" ]] && [[ "$(stat -c %a "$2/secrets/demo.api_key")" == 600 ]]' _ "$COFFER_API_KEY" "$D"
FIRST_KEY="$COFFER_API_KEY"

# A secret round trip with a marker value; then the marker (plain, base64, hex) must be nowhere in the node's
# folder: database files, WAL, PostgreSQL and Karaf logs.
AUTH="Authorization: Token token=\"$TOKEN\""
MARKER="coffer-marker-$RANDOM$RANDOM-value"
POLICY=$'- !variable db/password\n- !host app\n- !user pwuser\n- !permit { role: !host app, privileges: [ read, execute ], resource: !variable db/password }\n'
LOADED="$(curl -s -w '\n%{http_code}' --cacert "$COFFER_CA" -H "$AUTH" --data-binary "$POLICY" "$COFFER_URL/policies/demo/policy/root")"
check "a policy loads (201)" test "${LOADED##*$'\n'}" = 201
# A password with a marker too: it must live only as a sealed bcrypt hash.
PWUSER_KEY="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["created_roles"]["demo:user:pwuser"]["api_key"])' "${LOADED%$'\n'*}")"
PW_MARKER="PwMarker-$RANDOM$RANDOM-Xy!9"
check "a password with a marker is set (204)" test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$COFFER_CA" -u "pwuser:$PWUSER_KEY" -X PUT --data-binary "$PW_MARKER" "$COFFER_URL/authn/demo/password")" = 204
check "... and logs in" test "$(curl -s --cacert "$COFFER_CA" -u "pwuser:$PW_MARKER" "$COFFER_URL/authn/demo/login")" = "$PWUSER_KEY"
check "a secret is set (201)" test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$COFFER_CA" -H "$AUTH" --data-binary "$MARKER" "$COFFER_URL/secrets/demo/variable/db%2Fpassword")" = 201
check "the secret reads back" test "$(curl -s --cacert "$COFFER_CA" -H "$AUTH" "$COFFER_URL/secrets/demo/variable/db%2Fpassword")" = "$MARKER"
runuser -u postgres -- /usr/lib/postgresql/15/bin/psql -X -q -h "$D/pg/run" -p "$((5433 + OFF))" -d coffer -c CHECKPOINT 2>/dev/null \
  || /usr/lib/postgresql/15/bin/psql -X -q -h "$D/pg/run" -p "$((5433 + OFF))" -U postgres -d coffer -c CHECKPOINT
B64="$(printf %s "$MARKER" | base64 -w0 | tr -d '=')"; HEX="$(printf %s "$MARKER" | od -An -tx1 | tr -d ' \n')"
check "the marker is nowhere in the node's folder (plain, base64, hex)" bash -c '! grep -rqaF -e "$1" -e "$2" -e "$3" "$4"' _ "$MARKER" "$B64" "$HEX" "$D"
PB64="$(printf %s "$PW_MARKER" | base64 -w0 | tr -d '=')"; PHEX="$(printf %s "$PW_MARKER" | od -An -tx1 | tr -d ' \n')"
check "the password marker is nowhere in the node's folder (plain, base64, hex)" bash -c '! grep -rqaF -e "$1" -e "$2" -e "$3" "$4"' _ "$PW_MARKER" "$PB64" "$PHEX" "$D"

# Warm reads need no database: freeze every PostgreSQL process (SIGSTOP), then check a token, a permission and a
# secret; thaw afterwards.
SECRET_URL="$COFFER_URL/secrets/demo/variable/db%2Fpassword"
CHECK_URL="$COFFER_URL/resources/demo/variable/db%2Fpassword?check=true&privilege=execute"
sleep 0.3
for i in 1 2; do
  curl -s -o /dev/null --cacert "$COFFER_CA" -H "$AUTH" "$SECRET_URL"
  curl -s -o /dev/null --cacert "$COFFER_CA" -H "$AUTH" "$CHECK_URL"
  curl -s -o /dev/null --cacert "$COFFER_CA" -H "$AUTH" "$COFFER_URL/whoami"
done
PGM="$(head -1 "$D/pg/data/postmaster.pid")"
PG_ALL="$PGM $(pgrep -P "$PGM" | tr '\n' ' ')"
kill -STOP $PG_ALL
check "with PostgreSQL frozen: a token check" test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 4 --cacert "$COFFER_CA" -H "$AUTH" "$COFFER_URL/whoami")" = 200
check "with PostgreSQL frozen: a permission check" test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 4 --cacert "$COFFER_CA" -H "$AUTH" "$CHECK_URL")" = 204
check "with PostgreSQL frozen: a secret read" test "$(curl -s --max-time 4 --cacert "$COFFER_CA" -H "$AUTH" "$SECRET_URL")" = "$MARKER"
kill -CONT $PG_ALL

# No path trick reaches a secret without a token: dot segments, encoded dots and slashes, matrix params, doubled
# slashes and public-route prefixes all end in 401 or 404, never in the value.
for p in "/health/../secrets/demo/variable/db%2Fpassword" "/health/%2e%2e/secrets/demo/variable/db%2Fpassword" \
         "//secrets/demo/variable/db%2Fpassword" "/health/..%2Fsecrets/demo/variable/db%2Fpassword" \
         "/authn/x/y/authenticate/../../../../secrets/demo/variable/db%2Fpassword" \
         "/secrets/demo/variable/db%2Fpassword;/authenticate" "/authenticators/../secrets/demo/variable/db%2Fpassword" \
         "/secrets/demo/variable/db%2Fpassword?x=/authenticate" "/secrets?variable_ids=demo:variable:db/password"; do
  R="$(curl -s --path-as-is -w '\n%{http_code}' --max-time 5 --cacert "$COFFER_CA" "$COFFER_URL$p")"
  check "no token, no secret: $p" bash -c '[[ "${1##*$'"'"'\n'"'"'}" =~ ^(401|404)$ ]] && ! grep -qF -- "$2" <<<"$1"' _ "$R" "$MARKER"
done
check "SSH, RMI and the API listen on loopback only" bash -c '! ss -ltnp | grep "pid=$1," | grep -vE "127\.0\.0\.1:|\[::ffff:127\.0\.0\.1\]:|\[::1\]:"' _ "$NODE_n1_PID"

# Data survives a restart: write a row through the node's own PostgreSQL (peer auth on its 0700 socket dir).
PSQL=(/usr/lib/postgresql/15/bin/psql -X -q -t -A -h "$D/pg/run" -p "$((5433 + OFF))" -U postgres -d coffer)
if [[ $(id -u) -eq 0 ]]; then PSQL=(runuser -u postgres -- "${PSQL[@]}"); fi
"${PSQL[@]}" -c "INSERT INTO change_log(write_id, account, kind) VALUES ('6f1c0e7e-0000-4000-8000-000000000001', 'itest', 'marker')"
check "a node started twice on the same ports fails clearly" bash -c '! "$1/coffer" start --dir "$2" --port-offset "$3" >/dev/null 2>"$2.err2" && grep -q "already running" "$2.err2"' _ "$ROOT" "$D" "$OFF"
D2="$(new_dir)"
check "another node on the same ports fails with a clear message" bash -c '! "$1/coffer" start --dir "$2" --port-offset "$3" >/dev/null 2>"$2.err" && grep -q "already in use" "$2.err" && ! grep -q "Exception" "$2.err"' _ "$ROOT" "$D2" "$OFF"

"$ROOT/coffer" stop --dir "$D" 2>/dev/null
check "stop leaves no process behind" no_procs_in "$D"
OUT="$("$ROOT/coffer" start --dir "$D" 2>/dev/null)"; eval "$OUT"
check "restart reuses the port offset" test "${COFFER_URL:-}" = "https://127.0.0.1:$((8443 + OFF))"
check "restart keeps the demo account's key" test "${COFFER_API_KEY:-}" = "$FIRST_KEY"
check "restart keeps the data" test "$("${PSQL[@]}" -c "SELECT count(*) FROM change_log WHERE kind='marker'")" = 1

# kill -9 the JVM: PostgreSQL keeps running; the next start adopts it and the node is healthy again.
PG_BEFORE="$NODE_n1_PG_PID"
kill -9 "$NODE_n1_PID"; sleep 1
check "PostgreSQL outlives a killed node" kill -0 "$PG_BEFORE"
OUT="$("$ROOT/coffer" start --dir "$D" 2>/dev/null)"; RC=$?; eval "$OUT"
check "a killed node starts again" test "$RC" -eq 0
check "... adopting the same PostgreSQL" test "${NODE_n1_PG_PID:-}" = "$PG_BEFORE"
check "... with its data" test "$("${PSQL[@]}" -c "SELECT count(*) FROM change_log WHERE kind='marker'")" = 1
"$ROOT/coffer" stop --dir "$D" 2>/dev/null
check "stop after adoption leaves no process behind" no_procs_in "$D"
J="$("$ROOT/coffer" start --dir "$D" --json 2>/dev/null)"
check "--json prints one JSON object" python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["NODE_n1_ROLE"]=="leader"' "$J"
"$ROOT/coffer" stop --dir "$D" 2>/dev/null

summary launcher
