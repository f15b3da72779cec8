#!/usr/bin/env bash
# The official Conjur Java SDK against a node started by ./coffer start, configured only by the variables it prints.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT
D="$(new_dir)"
OUT="$("$ROOT/coffer" start --dir "$D" --port-offset "${COFFER_TEST_PORT_OFFSET:-23200}" 2>"$D.err")" || { cat "$D.err" >&2; exit 1; }
eval "$OUT"
export CONJUR_APPLIANCE_URL CONJUR_ACCOUNT CONJUR_AUTHN_LOGIN CONJUR_AUTHN_API_KEY CONJUR_CERT_FILE CONJUR_AUTO_UPDATE_TOKEN
(cd "$ROOT" && mvn -B -q -pl compat verify -Dcoffer.compat.run=true)
RC=$?
check "the official Conjur Java SDK works against the node" test "$RC" -eq 0
summary compat
