#!/usr/bin/env bash
# Keys at the shell level, on a real node: the KMS and HSM providers are installed at run time; the real AWS SDK
# (embedded in its bundle) wraps the server key through a KMS-protocol server from the test sources, and the node
# unlocks by itself after a restart; keys-rotate-master swaps KMS for a real SoftHSM2 token online; after another
# restart it unlocks through the token and serves the same secret; with the token gone it comes up locked:
# /health 502 "locked", /health/leader 502, the API 503 keys_locked.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
KMS_PID=""
trap '[[ -n "$KMS_PID" ]] && kill "$KMS_PID" 2>/dev/null; cleanup' EXIT
OFF=${COFFER_TEST_KEYS_PORT_OFFSET:-23400}

LIB=""
for l in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so; do
  [[ -f "$l" ]] && { LIB="$l"; break; }
done
if [[ -z "$LIB" ]] || ! command -v softhsm2-util >/dev/null; then
  echo "keys: SKIPPED: SoftHSM2 is not installed (apt-get install softhsm2)" >&2
  summary keys; exit
fi
KMS_MOD="$ROOT/bundles/keyprovider-kms"
[[ -d "$KMS_MOD/target/test-classes" ]] || { echo "keys: build first (mvn install): $KMS_MOD/target/test-classes is missing" >&2; exit 1; }

D="$(new_dir)"
HSM="$D.hsm"
mkdir -p "$HSM/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' "$HSM/tokens" >"$HSM/softhsm2.conf"
# The node's JVM reads these from its environment: where the token is, test AWS credentials (the SDK's default
# chain), and no instance-metadata calls.
export SOFTHSM2_CONF="$HSM/softhsm2.conf" AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=AKIDCOFFERTEST AWS_SECRET_ACCESS_KEY=coffer-test-secret
softhsm2-util --init-token --free --label coffer-keys --pin 4321 --so-pin 8765 >/dev/null
(umask 277; echo 4321 >"$HSM/pin")

# The KMS stand-in (test sources of keyprovider-kms), on its own port.
(cd "$KMS_MOD" && mvn -o -q dependency:build-classpath -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test >/dev/null)
java -Dsun.net.httpserver.nodelay=true -cp "$KMS_MOD/target/test-classes:$KMS_MOD/target/classes:$(cat "$KMS_MOD/target/test-classpath.txt")" \
  io.coffer.keyprovider.kms.internal.KmsDouble coffer-test >"$D.kms" 2>&1 &
KMS_PID=$!
for i in $(seq 1 40); do grep -q '^KMS_ENDPOINT=' "$D.kms" && break; sleep 0.25; done
KMS_ENDPOINT="$(sed -n 's/^KMS_ENDPOINT=//p' "$D.kms")"
check "the KMS stand-in runs" test -n "$KMS_ENDPOINT"
echo "keys: node in $D, port offset $OFF, token in $HSM, KMS at $KMS_ENDPOINT" >&2

OUT="$("$ROOT/coffer" start --dir "$D" --port-offset "$OFF" 2>"$D.err")" || { cat "$D.err" >&2; exit 1; }
eval "$OUT"
sh_() { "$ROOT/coffer" shell --dir "$D" "$@" 2>&1; }
TOKEN="$(curl -s --cacert "$COFFER_CA" -H 'Accept-Encoding: base64' -d "$COFFER_API_KEY" "$COFFER_URL/authn/demo/admin/authenticate")"
AUTH="Authorization: Token token=\"$TOKEN\""
MARKER="keys-marker-$RANDOM$RANDOM"
SECRET_URL="$COFFER_URL/secrets/demo/variable/keys%2Fsecret"
read_secret() { curl -s --cacert "$COFFER_CA" -H "$AUTH" "$SECRET_URL"; }
curl -s -o /dev/null --cacert "$COFFER_CA" -H "$AUTH" --data-binary $'- !variable keys/secret\n- !variable keys/a\n- !variable keys/b\n- !variable keys/c\n' "$COFFER_URL/policies/demo/policy/root"
check "a secret is set (201)" test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$COFFER_CA" -H "$AUTH" --data-binary "$MARKER" "$SECRET_URL")" = 201
check "keys-status: unlocked, server key in cleartext" bash -c 'grep -q "state: unlocked" <<<"$1" && grep -q "server_key: cleartext" <<<"$1"' _ "$(sh_ coffer:keys-status)"

sh_ feature:install coffer-keyprovider-kms coffer-keyprovider-hsm >/dev/null
printf 'key.id = alias/coffer-test\nregion = us-east-1\nendpoint = %s\ntimeout.seconds = 5\n' "$KMS_ENDPOINT" >"$D/etc/io.coffer.keyprovider.kms.cfg"
printf 'library = %s\npin.file = %s\nkey.label = coffer-master\n' "$LIB" "$HSM/pin" >"$D/etc/io.coffer.keyprovider.hsm.cfg"
wait_providers() { local i; for i in $(seq 1 60); do sh_ coffer:keys-status | grep -q "^providers: .*$1" && return 0; sleep 0.5; done; return 1; }
check "the kms provider comes up (the embedded SDK builds its client in Karaf)" wait_providers kms
check "the hsm provider comes up (token opened with the PIN file)" wait_providers hsm

ROOT_B64="$(sed -n 's/^root://p' "$D/secrets/server.key")"
E="$(sh_ coffer:keys-encrypt --provider kms)"
check "keys-encrypt --provider kms wraps the server key through the real SDK" grep -q "now wrapped by kms key arn:aws:kms:" <<<"$E"
check "the server-key file names kms and holds no cleartext root key" bash -c 'grep -q "^provider:kms$" "$1" && ! grep -q "^root:" "$1" && [[ "$(stat -c %a "$1")" == 600 ]]' _ "$D/secrets/server.key"
# Tampering in the database: two variables' ciphertexts swapped, one byte flipped in a third (read after the restart,
# from the database, not from a cache).
for v in a b c; do
  check "keys/$v is set" test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$COFFER_CA" -H "$AUTH" --data-binary "$MARKER-$v" "$COFFER_URL/secrets/demo/variable/keys%2F$v")" = 201
done
PSQL=(/usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 -h "$D/pg/run" -p "$((5433 + OFF))" -d coffer)
psql_() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "${PSQL[@]}" -U postgres "$@"; else "${PSQL[@]}" -U postgres "$@"; fi; }
psql_ -c "UPDATE secrets s SET value = o.value FROM secrets o
          WHERE (s.resource_id, o.resource_id) IN (('demo:variable:keys/a', 'demo:variable:keys/b'), ('demo:variable:keys/b', 'demo:variable:keys/a'));
          UPDATE secrets SET value = set_byte(value, length(value) - 1, get_byte(value, length(value) - 1) # 1)
          WHERE resource_id = 'demo:variable:keys/c'" >&2
"$ROOT/coffer" stop --dir "$D" 2>/dev/null
"$ROOT/coffer" start --dir "$D" >/dev/null 2>"$D.err"; RC=$?; (( RC == 0 )) || tail -25 "$D.err" >&2
check "after a restart the node unlocks by itself through KMS (healthy start)" test "$RC" -eq 0
check "... and serves the same secret" test "$(read_secret)" = "$MARKER"
eventually_grep() {  # eventually_grep SECONDS PATTERN FILE: the audit writer drains its queue asynchronously
  local deadline=$((SECONDS + $1))
  until grep -qE "$2" "$3" 2>/dev/null; do (( SECONDS < deadline )) || return 1; sleep 0.5; done
}
for v in a b c; do
  T="$(curl -s -w '\n%{http_code}' --cacert "$COFFER_CA" -H "$AUTH" "$COFFER_URL/secrets/demo/variable/keys%2F$v")"
  check "tampered keys/$v: 500 sealed_value_invalid, no value" bash -c '[[ "${1##*$'"'"'\n'"'"'}" == 500 ]] && grep -q sealed_value_invalid <<<"$1" && ! grep -q "$2" <<<"$1"' _ "$T" "$MARKER"
done
check "... and the failure is in the node's log" grep -q "a stored value failed to open" "$D/data/log/karaf.log"
check "... and in the audit trail, as an integrity failure" eventually_grep 10 'integrity.*a stored value failed its integrity check' "$D/data/audit/audit.log"

R="$(sh_ coffer:keys-rotate-master --provider hsm)"
check "keys-rotate-master swaps KMS for the HSM online" grep -q "now wrapped by hsm key coffer-master (was kms key arn:" <<<"$R"
check "... the secret reads on, no restart" test "$(read_secret)" = "$MARKER"
check "... the server-key file names hsm" grep -q "^provider:hsm$" "$D/secrets/server.key"
kill "$KMS_PID" 2>/dev/null; KMS_PID=""
"$ROOT/coffer" stop --dir "$D" 2>/dev/null
"$ROOT/coffer" start --dir "$D" >/dev/null 2>"$D.err"; RC=$?; (( RC == 0 )) || tail -25 "$D.err" >&2
check "after a restart (KMS gone) the node unlocks by itself through the token" test "$RC" -eq 0
check "... and serves the same secret" test "$(read_secret)" = "$MARKER"
check "... keys-status says wrapped by hsm" bash -c 'grep -q "provider: hsm" <<<"$1"' _ "$(sh_ coffer:keys-status)"
RD="$(sh_ coffer:keys-rotate-data --wait)"
check "keys-rotate-data re-encrypts what opens and keeps the old data key for the 3 tampered values" grep -q "data-key v2: incomplete: 3 value(s) still under older versions (3 can't be opened" <<<"$RD"
check "... the secret reads on" test "$(read_secret)" = "$MARKER"

# A real kill -9 mid-rotation: with the tampered rows gone, a rotation starts (its re-encryption first waits out the
# write grace) and the JVM is killed; the next start resumes it by itself and finishes it.
psql_ -c "DELETE FROM secrets WHERE resource_id IN ('demo:variable:keys/a', 'demo:variable:keys/b', 'demo:variable:keys/c')" >&2
check "keys-rotate-data starts in the background" bash -c 'grep -q "re-encrypting in the background" <<<"$1"' _ "$(sh_ coffer:keys-rotate-data)"
kill -9 "$(cat "$D/karaf.pid")"; sleep 1
"$ROOT/coffer" start --dir "$D" >/dev/null 2>"$D.err"; RC=$?; (( RC == 0 )) || tail -25 "$D.err" >&2
check "after kill -9 mid-rotation the node starts again" test "$RC" -eq 0
rotation_done() { local i; for i in $(seq 1 60); do sh_ coffer:keys-status | grep -q "^rotation: done" && return 0; sleep 0.5; done; return 1; }
check "... resumes the rotation by itself and finishes it" rotation_done
check "... only the newest data key is left" test "$(psql_ -t -A -c 'SELECT count(*) FROM keyring')" = 1
check "... the secret reads on" test "$(read_secret)" = "$MARKER"

"$ROOT/coffer" stop --dir "$D" 2>/dev/null
rm -rf "${HSM:?}/tokens"/*
COFFER_START_TIMEOUT=25 "$ROOT/coffer" start --dir "$D" >/dev/null 2>"$D.err"; RC=$?; (( RC == 0 )) || tail -25 "$D.err" >&2
check "without the token the node does not come up healthy" test "$RC" -ne 0
H="$(curl -s -w '\n%{http_code}' "$COFFER_HEALTH_URL")"
check "/health is 502 and says keys locked" bash -c '[[ "${1##*$'"'"'\n'"'"'}" == 502 ]] && grep -q "\"keys\":{\"ok\":false,\"state\":\"locked\"" <<<"$1"' _ "$H"
check "/health/leader is 502" test "$(curl -s -o /dev/null -w '%{http_code}' "$COFFER_HEALTH_URL/leader")" = 502
S="$(curl -s -w '\n%{http_code}' --cacert "$COFFER_CA" -H "$AUTH" "$SECRET_URL")"
check "the API answers 503 keys_locked and serves no secret" bash -c '[[ "${1##*$'"'"'\n'"'"'}" == 503 ]] && grep -q "keys_locked" <<<"$1" && ! grep -q "$2" <<<"$1"' _ "$S" "$MARKER"
check "keys-unlock says why it stays locked" bash -c 'grep -q "not available on this node" <<<"$1"' _ "$(sh_ coffer:keys-unlock)"
check "the secret is in no log, the cleartext root key nowhere in the node's folder" bash -c '[[ -n "$3" ]] && ! grep -rqaF -e "$1" "$2/data/log" && ! grep -rqaF -e "$3" "$2"' _ "$MARKER" "$D" "$ROOT_B64"
summary keys
