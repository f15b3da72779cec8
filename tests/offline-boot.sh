#!/usr/bin/env bash
# The distribution boots each role with no network repository: offline pax-url, empty repository lists, an empty
# user.home (no ~/.m2). Every artifact must come from system/; any "Error downloading" fails the check.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT
OFF=${COFFER_TEST_PORT_OFFSET:-23100}
HOME_EMPTY="$(new_dir)"
for role in leader follower standby dr-standby; do
  D="$(new_dir)"
  OFF=$((OFF + 10))
  COFFER_JAVA_OPTS="-Duser.home=$HOME_EMPTY" "$ROOT/coffer" start --dir "$D" --role "$role" --name "off${role//-/}" \
      --port-offset "$OFF" >"$D.out" 2>"$D.err"
  RC=$?
  check "$role boots offline and is healthy" test "$RC" -eq 0 || tail -20 "$D.err" >&2
  check "$role: pax-url is offline with no remote repository" grep -qE '^org.ops4j.pax.url.mvn.repositories\s*=\s*$' "$D/etc/org.ops4j.pax.url.mvn.cfg"
  check "$role: 0 'Error downloading' in the log" bash -c '! grep -q "Error downloading" "$1"/data/log/karaf.log' _ "$D"
  check "$role: no ERROR in the log" bash -c '! grep -q "| ERROR |" "$1"/data/log/karaf.log' _ "$D" \
    || grep '| ERROR |' "$D/data/log/karaf.log" | head -5 >&2
  check "$role: /health names the role" bash -c 'curl -s "http://127.0.0.1:$1/health" | grep -q "\"role\":\"$2\""' _ "$((8444 + OFF))" "$role"
  API="$(curl -s -k -w '\n%{http_code}' "https://127.0.0.1:$((8443 + OFF))/secrets/demo/variable/x")"
  case "$role" in
    standby|dr-standby) check "$role: the API answers 503 (no API on standbys)" test "${API##*$'\n'}" = 503
                        check "$role: ... with a JSON error" grep -q '"code":"service_unavailable"' <<<"$API" ;;
    *) check "$role: the API is served and wants a token (401)" test "${API##*$'\n'}" = 401 ;;
  esac
  check "$role: nothing was written to the empty user.home" bash -c '[[ -z "$(ls -A "$1")" ]]' _ "$HOME_EMPTY"
  "$ROOT/coffer" stop --dir "$D" 2>/dev/null
done
summary offline-boot
