# Shared helpers for the shell-level tests: bounded waits, counted checks, cleanup of every node a test made.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PASSED=0 FAILED=0
# new_dir runs in $(...) subshells, so the folders it makes are recorded in a file, not an array.
NODES_FILE="$(mktemp /tmp/coffer-t-nodes-XXXXXX)"

check() {  # check "description" command...
  local what="$1"; shift
  if "$@"; then PASSED=$((PASSED + 1)); echo "  ok   $what" >&2
  else FAILED=$((FAILED + 1)); echo "  FAIL $what" >&2; fi
}

new_dir() { local d; d="$(mktemp -d /tmp/coffer-t-XXXXXX)"; chmod 755 "$d"; echo "$d" >>"$NODES_FILE"; echo "$d"; }

cleanup() {
  local d
  while read -r d; do
    [[ -n "$d" ]] || continue
    [[ -x "$d/bin/karaf" ]] && { "$ROOT/coffer" stop --dir "$d" >/dev/null 2>&1 || true; }
    rm -rf "$d" "$d".*
  done <"$NODES_FILE"
  rm -f "$NODES_FILE"
}

summary() {  # the closing line CI reads
  echo "$1: $PASSED passed, $FAILED failed"
  (( FAILED == 0 ))
}

# true when no process (other than shells running these tests) names the folder in its command line
no_procs_in() {
  local p
  for p in $(pgrep -f -- "$1"); do
    [[ "$(readlink "/proc/$p/exe" 2>/dev/null)" == */bash ]] || { echo "  left behind: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | cut -c1-120)" >&2; return 1; }
  done
}
