#!/usr/bin/env bash
# The API over HTTPS against one node started by ./coffer start, configured only by the variables it prints:
# the black-box suite (blackbox/, row by row of the Conjur API spec) and the official Conjur Java SDK (compat/).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT
D="$(new_dir)"
OUT="$("$ROOT/coffer" start --dir "$D" --port-offset "${COFFER_TEST_PORT_OFFSET:-23200}" 2>"$D.err")" || { cat "$D.err" >&2; exit 1; }
eval "$OUT"
# Every test client is 127.0.0.1: let the suite's deliberate failures not throttle the address itself.
# (Per-role throttling keeps its default and is tested.)
printf 'client_failures = 1000\n' >"$D/etc/io.coffer.authn.cfg"
# The optional JWT authenticator, installed at run time as an operator would (offline, from system/).
"$ROOT/coffer" shell --dir "$D" feature:install coffer-authn-jwt
check "coffer-authn-jwt installs at run time" bash -c 'for i in $(seq 1 60); do [[ "$(curl -s -o /dev/null -w "%{http_code}" --cacert "$1" -X POST "$2/authn-jwt/x/y/authenticate")" =~ ^(400|401)$ ]] && exit 0; sleep 0.5; done; exit 1' _ "$COFFER_CA" "$COFFER_URL"
export COFFER_URL COFFER_CA COFFER_ACCOUNT COFFER_API_KEY COFFER_DIR
export CONJUR_APPLIANCE_URL CONJUR_ACCOUNT CONJUR_AUTHN_LOGIN CONJUR_AUTHN_API_KEY CONJUR_CERT_FILE CONJUR_AUTO_UPDATE_TOKEN
(cd "$ROOT" && mvn -B -q -pl blackbox verify -Dcoffer.blackbox.run=true)
check "the black-box suite passes against the node" test $? -eq 0
# The node's tamper-evident audit chain (issue 7): verified inside the node, then offline with plain Java on a copy of
# its files, untouched and with a line deleted.
check "coffer:audit-verify finds the node's audit chain intact" bash -c '"$1/coffer" shell --dir "$2" coffer:audit-verify | grep -q "^OK"' _ "$ROOT" "$D"
"$ROOT/coffer" shell --dir "$D" coffer:audit-verify --export-keys "$D/audit.keys" >/dev/null
cp -r "$D/data/audit" "$D/audit-copy"
AJAR="$(ls "$D"/system/io/coffer/io.coffer.audit/*/io.coffer.audit-*.jar | head -1)"
check "offline (plain Java): the copy of the chain verifies" java -cp "$AJAR" io.coffer.audit.internal.AuditVerifier --keys "$D/audit.keys" "$D/audit-copy"
sed -i '5d' "$D/audit-copy/audit.json"
check "offline: a deleted line is found" bash -c '! java -cp "$1" io.coffer.audit.internal.AuditVerifier --keys "$2" "$3" >/dev/null' _ "$AJAR" "$D/audit.keys" "$D/audit-copy"
check "coffer:audit-tail and coffer:audit-search print events" bash -c '"$1/coffer" shell --dir "$2" coffer:audit-tail -n 3 | grep -q "conjur" && "$1/coffer" shell --dir "$2" coffer:audit-search --msgid policy -n 5 demo | grep -q "added"' _ "$ROOT" "$D"
(cd "$ROOT" && mvn -B -q -pl compat verify -Dcoffer.compat.run=true)
check "the official Conjur Java SDK works against the node" test $? -eq 0
summary api
