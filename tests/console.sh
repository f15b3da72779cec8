#!/usr/bin/env bash
# Acceptance of the web console (issue 9): headless Chromium (Selenium, console-test/) against a standalone Leader
# started here (offset 23800): sign in, search, a variable revealed and its fetch found in the audit view, the cluster
# page, the policy diff; the CSP and security headers, the cookie's flags, a console call without the CSRF header
# refused, the API refusing the console's cookie. Also: a reveal through the console is audited with the browser's own
# address (curl bound to 127.0.0.9), exactly as an API fetch. Screenshots: console-test/target/screenshots.
#
# --reuse: no node is started; the caller's environment names a running Leader (the launcher's COFFER_* variables)
# and CONSOLE_TARGET_URL the node whose console is tested (tests/metrics.sh does this with its Follower: read-only).
set -uo pipefail
source "$(dirname "$0")/lib.sh"
T0=$SECONDS
REUSE=0; [[ "${1:-}" == --reuse ]] && REUSE=1
if (( ! REUSE )); then
  trap cleanup EXIT
  L="$(new_dir)"
  echo "console: Leader in $L, port offset ${COFFER_TEST_PORT_OFFSET:-23800}" >&2
  OUT="$("$ROOT/coffer" start --dir "$L" --port-offset "${COFFER_TEST_PORT_OFFSET:-23800}" 2>"$L.err")"; RC=$?
  check "the Leader starts" test "$RC" -eq 0 || { cat "$L.err" >&2; summary console; exit 1; }
  eval "$OUT"
fi
TARGET="${CONSOLE_TARGET_URL:-$COFFER_URL}"
C=(curl -s --max-time 20 --cacert "$COFFER_CA")
TOKEN="$("${C[@]}" -H 'Accept-Encoding: base64' -d "$COFFER_API_KEY" "$COFFER_URL/authn/$COFFER_ACCOUNT/$COFFER_LOGIN/authenticate")"
AUTH="Authorization: Token token=\"$TOKEN\""
# Test data on the Leader: a variable with a value, and one whose id is markup (it must show as text), loaded in two
# steps so the root policy has two versions to compare.
MARK="console$RANDOM$RANDOM"
HEAD="- !policy"$'\n'"  id: $MARK"$'\n'"  body:"$'\n'
for BODY in "  - !variable db-password" "  - !variable \"<img src=x onerror=alert(1)>\""; do
  check "a test policy loads" test "$("${C[@]}" -o /dev/null -w '%{http_code}' -H "$AUTH" -X POST --data-binary "$HEAD$BODY"$'\n' "$COFFER_URL/policies/$COFFER_ACCOUNT/policy/root")" = 201
done
VALUE="v-$RANDOM-$RANDOM"
check "the variable gets a value" test "$("${C[@]}" -o /dev/null -w '%{http_code}' -H "$AUTH" --data-binary "$VALUE" "$COFFER_URL/secrets/$COFFER_ACCOUNT/variable/$MARK%2Fdb-password")" = 201
# On a replica, wait until the value has replicated.
for ((i = 0; i < 30; i++)); do
  [[ "$("${C[@]}" -H "$AUTH" "$TARGET/secrets/$COFFER_ACCOUNT/variable/$MARK%2Fdb-password")" == "$VALUE" ]] && break
  sleep 0.5
done
ROLE="$("${C[@]}" "$TARGET/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["role"])')"
NODE="$("${C[@]}" "$TARGET/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["node"])')"
echo "console: testing the console of $NODE ($ROLE) at $TARGET" >&2

# The browser's address reaches the audit: a reveal through the console from 127.0.0.9.
if [[ "$ROLE" == leader ]]; then
  JAR="$(mktemp)"
  CSRF="$("${C[@]}" --interface 127.0.0.9 -c "$JAR" -H 'Content-Type: application/json' \
    -d "{\"account\":\"$COFFER_ACCOUNT\",\"login\":\"$COFFER_LOGIN\",\"secret\":\"$COFFER_API_KEY\"}" "$TARGET/ui/api/session" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf"])')"
  RID="console-ip-$RANDOM$RANDOM"
  GOT="$("${C[@]}" --interface 127.0.0.9 -b "$JAR" -H "X-Coffer-CSRF: $CSRF" -H "X-Request-Id: $RID" "$TARGET/ui/api/conjur/secrets/$COFFER_ACCOUNT/variable/$MARK%2Fdb-password")"
  check "a reveal through the console answers the value" test "$GOT" = "$VALUE"
  EV=""
  for ((i = 0; i < 20; i++)); do
    EV="$("${C[@]}" -H "$AUTH" "$COFFER_URL/audit?procid=$RID")"
    grep -q '"msgid":"fetch"' <<<"$EV" && break; sleep 0.5
  done
  check "... audited as a fetch by the signed-in user from the browser's address (127.0.0.9)" python3 -c '
import json, sys
e = json.loads(sys.argv[1])
assert len(e) == 1, e
sd = e[0]["sdata"]
assert e[0]["msgid"] == "fetch" and sd["action@43868"]["result"] == "success", e
assert sd["client@43868"]["ip"] == "127.0.0.9", sd
assert sd["auth@43868"]["user"] == sys.argv[2] and sd["subject@43868"]["resource"] == sys.argv[3], sd
' "$EV" "$COFFER_ACCOUNT:user:$COFFER_LOGIN" "$COFFER_ACCOUNT:variable:$MARK/db-password"
  rm -f "$JAR"
fi

SHOTS="$ROOT/console-test/target/screenshots"
# The test's HTTP client trusts the cluster CA through a trust store of its own.
TS="$(mktemp -d)"; TSPASS="ts$RANDOM$RANDOM"
keytool -importcert -noprompt -alias coffer-ca -file "$COFFER_CA" -keystore "$TS/ca.p12" -storetype PKCS12 \
  -storepass "$TSPASS" >/dev/null 2>&1
(cd "$ROOT" && COFFER_URL="$TARGET" CONSOLE_ROLE="$ROLE" CONSOLE_NODE="$NODE" \
  CONSOLE_VARIABLE="$COFFER_ACCOUNT:variable:$MARK/db-password" CONSOLE_VALUE="$VALUE" \
  CONSOLE_HOSTILE="$COFFER_ACCOUNT:variable:$MARK/<img src=x onerror=alert(1)>" CONSOLE_SEARCH="$MARK" \
  COFFER_CA="$COFFER_CA" COFFER_ACCOUNT="$COFFER_ACCOUNT" COFFER_LOGIN="$COFFER_LOGIN" COFFER_API_KEY="$COFFER_API_KEY" \
  mvn -B -q -pl console-test verify -Dcoffer.console.run=true -Dcoffer.console.screenshots="$SHOTS" \
  -Dcoffer.console.truststore="$TS/ca.p12" -Dcoffer.console.truststore.password="$TSPASS")
check "the console's browser test passes on the $ROLE" test $? -eq 0
rm -rf "$TS"
echo "console: screenshots in $SHOTS" >&2
if (( ! REUSE )); then
  "$ROOT/coffer" stop --dir "$L" >/dev/null 2>&1
  check "nothing is left running in the Leader's folder" no_procs_in "$L"
fi
echo "console: $((SECONDS - T0)) s" >&2
summary console
