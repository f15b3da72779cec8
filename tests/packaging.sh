#!/usr/bin/env bash
# The container entrypoint run DIRECTLY on this machine with the environment the image would give it (issue 9, item 4;
# no container engine here): the Containerfile's ENV lines, with only the paths, the port offset and the listen
# address changed (loopback only), as an unprivileged user as in the image (the postgres OS user when this runs as
# root). A Leader comes up healthy; its account logs in through the API and a secret is written and read; then a
# Follower enrols the Kubernetes way: enrol-followers.sh (with a stand-in kubectl) asks the Leader for the pod's seed
# and stores it in the pod's own Secret on a stand-in Kubernetes API; the Follower's entrypoint reads that Secret
# with its service account token, enrols, deletes it, streams through the Leader's PostgreSQL relay and serves the
# secret. SIGTERM stops each node cleanly: exit status 0, no Karaf, PostgreSQL or relay left.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
OFF=${COFFER_TEST_PACKAGING_PORT_OFFSET:-23600}
CF="$ROOT/packaging/container/Containerfile"
DIST="$ROOT/karaf-assembly/target/coffer-karaf-assembly-*.tar.gz"
T0=$SECONDS
ls $DIST >/dev/null 2>&1 || { echo "packaging: no distribution in karaf-assembly/target (mvn -B install first)" >&2; exit 1; }
# The image's /opt/coffer: the launcher and the entrypoint, copied as the Containerfile copies them.
OPT="$(new_dir)"
install -D -m 755 "$ROOT/coffer" "$OPT/coffer"
install -D -m 755 "$ROOT/packaging/container/entrypoint.sh" "$OPT/packaging/container/entrypoint.sh"
EP="$OPT/packaging/container/entrypoint.sh"

# The unprivileged user the node runs as (the image's is uid 10001; here an existing non-root account).
RUN_AS=()
if [[ $(id -u) -eq 0 ]]; then RUN_AS=(setpriv --reuid=postgres --regid=postgres --init-groups); fi
NODE_UID="$(id -u)"; [[ -z "${RUN_AS[*]}" ]] || NODE_UID="$(id -u postgres)"
own() { [[ -z "${RUN_AS[*]}" ]] || chown postgres:postgres "$@"; }
as_node() { "${RUN_AS[@]}" "$@"; }

EPIDS=() API_PID=""
stop_everything() {
  local p i d
  for p in "${EPIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for i in $(seq 1 120); do
    local alive=0
    for p in "${EPIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    (( alive )) || break
    sleep 0.5
  done
  for p in "${EPIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  # COFFER_TEST_LOGS=DIR keeps the entrypoints' logs (the node folders go).
  if [[ -n "${COFFER_TEST_LOGS:-}" ]]; then mkdir -p "$COFFER_TEST_LOGS"; cp /tmp/coffer-t-*.log "$COFFER_TEST_LOGS"/ 2>/dev/null; fi
  [[ -z "$API_PID" ]] || kill "$API_PID" 2>/dev/null
  while read -r d; do [[ -s "$d/relay/relay.pid" ]] && kill "$(cat "$d/relay/relay.pid")" 2>/dev/null; done <"$NODES_FILE"
  cleanup
}
trap stop_everything EXIT

# The image's environment: every ENV line of the Containerfile, then this machine's paths and ports.
IMAGE_ENV=()
while read -r _ kv; do IMAGE_ENV+=("$kv"); done < <(grep -E '^ENV [A-Z_]+=' "$CF")
check "the Containerfile sets the entrypoint's environment (COFFER_* on ENV lines)" test "${#IMAGE_ENV[@]}" -ge 6
node_env() {  # node_env DATA_DIR HOME_DIR OFFSET NAME [KEY=VALUE...]: the image's environment, with this machine's changes
  local data="$1" home="$2" off="$3" name="$4"; shift 4
  echo "${IMAGE_ENV[@]}" | tr ' ' '\n'
  printf '%s\n' "COFFER_HOME=$OPT" "COFFER_DIST=$DIST" "COFFER_DATA_DIR=$data" "HOME=$home" "COFFER_PORT_OFFSET=$off" \
    "COFFER_LISTEN=127.0.0.1" "HOSTNAME=$name" "PATH=$PATH" "TMPDIR=$home" "$@"
}
start_ep() {  # start_ep LOG ENV...: runs the entrypoint in the background with exactly that environment
  local log="$1"; shift
  # A simple command (not a function) in the background: $! is then the entrypoint itself (setpriv and env exec it).
  "${RUN_AS[@]}" env -i "$@" bash "$EP" >"$log" 2>&1 &
  EPIDS+=("$!")
}
# check, then true only if it passed (lib.sh's check itself always returns 0): `check_ok ... || diagnose`
check_ok() { local before=$FAILED; check "$@"; (( FAILED == before )); }
wait_log() {  # wait_log FILE TEXT SECONDS PID: TEXT appears in FILE while the entrypoint PID lives
  local deadline=$((SECONDS + $3))
  while (( SECONDS < deadline )); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}
wait_http() {  # wait_http URL SECONDS PID: 200 from URL while the entrypoint PID lives
  local deadline=$((SECONDS + $2))
  while (( SECONDS < deadline )); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1")" == 200 ]] && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}
stop_ep() {  # stop_ep PID: SIGTERM, then its exit status (124 if still running after 90 s)
  kill -TERM "$1" 2>/dev/null
  local i; for i in $(seq 1 180); do kill -0 "$1" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$1" 2>/dev/null && return 124
  wait "$1"
}

# ---------------------------------------------------------------------------------------------- refusals (no node)
E="$(new_dir)"; own "$E"
mapfile -t ENV_BAD < <(node_env "$E/node" "$E" "$OFF" coffer-follower-9 COFFER_ROLE=follower)
as_node env -i "${ENV_BAD[@]}" bash "$EP" >"$E.log" 2>&1; RC=$?
check "a new Follower without a seed is refused (exit 1, says how to enrol)" bash -c '[[ $1 == 1 ]] && grep -q "enrols by seed" "$2"' _ "$RC" "$E.log"
mapfile -t ENV_BAD < <(node_env "$E/node" "$E" "$OFF" x COFFER_ROLE=primary)
as_node env -i "${ENV_BAD[@]}" bash "$EP" >"$E.log" 2>&1; RC=$?
check "an unknown COFFER_ROLE is refused" bash -c '[[ $1 == 1 ]] && grep -q "COFFER_ROLE=primary" "$2"' _ "$RC" "$E.log"

# ---------------------------------------------------------------------------------------------- the Leader
L="$(new_dir)" LH="$(new_dir)"; own "$L" "$LH"
API=$((8443 + OFF)) HEALTH=$((8444 + OFF)) PG=$((5433 + OFF))
echo "packaging: Leader in $L (port offset $OFF), its PostgreSQL published on 127.0.0.2:$PG" >&2
mapfile -t ENV_L < <(node_env "$L" "$LH" "$OFF" coffer-leader-0 COFFER_ACCOUNT=acme COFFER_PG_PUBLISH=127.0.0.2 \
                              COFFER_TLS_SAN=dns:coffer-leader.packaging.test)
T_START=$SECONDS
start_ep "$L.log" "${ENV_L[@]}"; LEP=${EPIDS[-1]}
check_ok "the Leader's /health/live answers 200" wait_http "http://127.0.0.1:$HEALTH/health/live" 150 "$LEP" || tail -30 "$L.log" >&2
check "... and /health/leader 200" wait_http "http://127.0.0.1:$HEALTH/health/leader" 60 "$LEP"
# The launcher makes the account once the node is healthy; the entrypoint then says it runs.
check_ok "the entrypoint says the node runs (start done: account, relay)" wait_log "$L.log" "node running" 60 "$LEP" || tail -30 "$L.log" >&2
echo "packaging: the Leader was up in $((SECONDS - T_START)) s" >&2
check "the node is named after the host (the pod's name, letters and digits) and leads" bash -c 'grep -qE "^name *= *cofferleader0$" "$1" && grep -qE "^role *= *leader$" "$1"' _ "$L/etc/io.coffer.node.cfg"
check "the API and health port listen where COFFER_LISTEN says" bash -c 'grep -qE "^org.ops4j.pax.web.listening.addresses *= *127.0.0.1$" "$1/etc/org.ops4j.pax.web.cfg" && grep -qE "^health.address *= *127.0.0.1$" "$1/etc/io.coffer.rest.cfg"' _ "$L"
KPID="$(cat "$L/karaf.pid" 2>/dev/null)"; PGPID="$(head -1 "$L/pg/data/postmaster.pid" 2>/dev/null)"
check "Karaf runs as the unprivileged user, not root" test "$(stat -c %u "/proc/${KPID:-0}" 2>/dev/null)" = "$NODE_UID"
check "PostgreSQL runs as that user too" test "$(stat -c %u "/proc/${PGPID:-0}" 2>/dev/null)" = "$NODE_UID"
check "the certificate carries COFFER_TLS_SAN (hostname verified against it)" test "$(curl -s -o /dev/null -w '%{http_code}' \
  --cacert "$L/etc/tls/ca.pem" --resolve "coffer-leader.packaging.test:$API:127.0.0.1" "https://coffer-leader.packaging.test:$API/health")" = 200
KEY="$(cat "$L/secrets/acme.api_key" 2>/dev/null)"
check "COFFER_ACCOUNT made the acme account (its key in a 0600 file), no demo account" bash -c '[[ -n "$1" && "$(stat -c %a "$2/secrets/acme.api_key")" == 600 && ! -e "$2/secrets/demo.api_key" ]]' _ "$KEY" "$L"
TOKEN="$(curl -s --cacert "$L/etc/tls/ca.pem" -H 'Accept-Encoding: base64' -d "$KEY" "https://127.0.0.1:$API/authn/acme/admin/authenticate")"
check "acme's admin logs in through the API" test -n "$TOKEN"
AUTH="Authorization: Token token=\"$TOKEN\""
VALUE="packaging-$RANDOM$RANDOM"
check "a policy loads (201)" test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$L/etc/tls/ca.pem" -H "$AUTH" \
  --data-binary $'- !variable db/password\n' "https://127.0.0.1:$API/policies/acme/policy/root")" = 201
check "a secret is written (201)" test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$L/etc/tls/ca.pem" -H "$AUTH" \
  --data-binary "$VALUE" "https://127.0.0.1:$API/secrets/acme/variable/db%2Fpassword")" = 201
check "... and reads back" test "$(curl -s --cacert "$L/etc/tls/ca.pem" -H "$AUTH" "https://127.0.0.1:$API/secrets/acme/variable/db%2Fpassword")" = "$VALUE"
check "the container log never shows the API key" bash -c '! grep -qF -- "$1" "$2"' _ "$KEY" "$L.log"
check "PostgreSQL is published on 127.0.0.2 by the relay (the pod's address stands in)" bash -c '(exec 3<>"/dev/tcp/127.0.0.2/$1") 2>/dev/null' _ "$PG"

# ---------------------------------------------------------------------------------------------- a Follower, the Kubernetes way
# A stand-in Kubernetes API (HTTPS, bearer token, GET and DELETE of Secrets) and a stand-in kubectl for the operator step.
K="$(new_dir)"
KPORT=$((9443 + OFF))
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$K/api.key" -out "$K/api.crt" >/dev/null 2>&1
mkdir -p "$K/sa" "$K/secrets/coffer-t"
cp "$K/api.crt" "$K/sa/ca.crt"; echo coffer-t >"$K/sa/namespace"; head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$K/sa/token"
chmod 644 "$K"/sa/*; own "$K/sa"
cat >"$K/api.py" <<'PY'
import http.server, json, os, ssl, sys
root, port, token = sys.argv[1], int(sys.argv[2]), open(sys.argv[3]).read().strip()
class H(http.server.BaseHTTPRequestHandler):
    def answer(self, code, body):
        b = json.dumps(body, indent=2).encode(); self.send_response(code)
        self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def handle_one(self, method):
        ok = self.headers.get("Authorization") == "Bearer " + token
        with open(os.path.join(root, "requests.log"), "a") as f: f.write(f"{method} {self.path} {'token' if ok else 'no-token'}\n")
        p = self.path.split("/")  # /api/v1/namespaces/NS/secrets/NAME
        if not ok: return self.answer(401, {"kind": "Status", "code": 401})
        if len(p) != 7 or p[1:4] != ["api", "v1", "namespaces"] or p[5] != "secrets": return self.answer(404, {"code": 404})
        f = os.path.join(root, "secrets", p[4], p[6] + ".json")
        if not os.path.exists(f): return self.answer(404, {"kind": "Status", "code": 404})
        body = json.load(open(f))
        if method == "DELETE": os.remove(f)
        self.answer(200, body)
    def do_GET(self): self.handle_one("GET")
    def do_DELETE(self): self.handle_one("DELETE")
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", port), H)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(os.path.join(root, "api.crt"), os.path.join(root, "api.key"))
s.socket = c.wrap_socket(s.socket, server_side=True); s.serve_forever()
PY
python3 "$K/api.py" "$K" "$KPORT" "$K/sa/token" 2>"$K/api.err" &
API_PID=$!
# kubectl as enrol-followers.sh uses it: exec in the Leader's container (its folder is $L here), Secrets on the API above.
cat >"$K/kubectl" <<'SH'
#!/usr/bin/env bash
[[ "$1" == -n ]] && { NS="$2"; shift 2; }
echo "$*" >>"$FAKE_K/kubectl.log"
case "$1 $2" in
  "exec coffer-leader-0") shift 5; [[ "$1 $2 $3" == "/opt/coffer/coffer shell --dir" ]] || exit 3; shift 4
                          exec $FAKE_AS_NODE "$FAKE_ROOT/coffer" shell --dir "$FAKE_LEADER" "$@" ;;
  "get secret") [[ -e "$FAKE_K/secrets/$NS/$3.json" ]] ;;
  "create -f") python3 -c 'import json,sys; d=json.load(sys.stdin); open(sys.argv[1]+"/"+d["metadata"]["name"]+".json","w").write(json.dumps(d))' "$FAKE_K/secrets/$NS" ;;
  *) echo "stand-in kubectl: $*: not handled" >&2; exit 3 ;;
esac
SH
chmod +x "$K/kubectl"
# The Services' names don't resolve here: the seed names the relay's address (upstream) and loopback (API) instead.
ENROL_OUT="$(KUBECTL="$K/kubectl" FAKE_K="$K" FAKE_ROOT="$OPT" FAKE_LEADER="$L" FAKE_AS_NODE="${RUN_AS[*]}" \
  bash "$ROOT/packaging/k8s/enrol-followers.sh" -n coffer-t --replicas 1 --upstream "127.0.0.2:$PG" --api-url "https://127.0.0.1:$API" 2>&1)"
check_ok "enrol-followers.sh put coffer-follower-0's seed in a Secret of its own, coffer-seed-coffer-follower-0" \
  test -s "$K/secrets/coffer-t/coffer-seed-coffer-follower-0.json" || echo "$ENROL_OUT" >&2
check "... asking the Leader (its shell, through kubectl exec) for a Follower seed bound to the pod's name" \
  grep -q "^exec coffer-leader-0 -c coffer -- /opt/coffer/coffer shell --dir /var/lib/coffer/node coffer:seed-create --role follower --ttl 60 --upstream 127.0.0.2:$PG --api-url https://127.0.0.1:$API cofferfollower0$" "$K/kubectl.log"

F="$(new_dir)" FH="$(new_dir)"; own "$F" "$FH"
FOFF=$((OFF + 10))
mapfile -t ENV_F < <(node_env "$F" "$FH" "$FOFF" coffer-follower-0 COFFER_ROLE=follower \
                              COFFER_SEED_SECRET=coffer-seed-coffer-follower-0 COFFER_K8S_SA_DIR="$K/sa" COFFER_K8S_API="https://127.0.0.1:$KPORT")
T_START=$SECONDS
start_ep "$F.log" "${ENV_F[@]}"; FEP=${EPIDS[-1]}
check_ok "the Follower's /health/replica answers 200" wait_http "http://127.0.0.1:$((8444 + FOFF))/health/replica" 150 "$FEP" || tail -30 "$F.log" >&2
check "... and its entrypoint says it runs" wait_log "$F.log" "node running" 60 "$FEP"
echo "packaging: the Follower was up in $((SECONDS - T_START)) s" >&2
check "it read its own Secret with the service account's token, then deleted it" bash -c 'grep -q "^GET /api/v1/namespaces/coffer-t/secrets/coffer-seed-coffer-follower-0 token$" "$1" && grep -q "^DELETE /api/v1/namespaces/coffer-t/secrets/coffer-seed-coffer-follower-0 token$" "$1" && [[ ! -e "$2" ]]' \
  _ "$K/requests.log" "$K/secrets/coffer-t/coffer-seed-coffer-follower-0.json"
check "the Follower is cofferfollower0 (its pod's name), a follower" bash -c 'grep -qE "^name *= *cofferfollower0$" "$1" && grep -qE "^role *= *follower$" "$1"' _ "$F/etc/io.coffer.node.cfg"
check "it streams from the Leader through the relay on 127.0.0.2" bash -c 'grep -qE "^upstream.host *= *127.0.0.2$" "$1/etc/io.coffer.postgres.cfg" && ss -Htn state established "( dst 127.0.0.2:$2 )" | grep -q .' _ "$F" "$PG"
FTOKEN="$(curl -s --cacert "$F/etc/tls/ca.pem" -H 'Accept-Encoding: base64' -d "$KEY" "https://127.0.0.1:$((8443 + FOFF))/authn/acme/admin/authenticate")"
READ=""
for i in $(seq 1 40); do
  READ="$(curl -s --cacert "$F/etc/tls/ca.pem" -H "Authorization: Token token=\"$FTOKEN\"" "https://127.0.0.1:$((8443 + FOFF))/secrets/acme/variable/db%2Fpassword")"
  [[ "$READ" == "$VALUE" ]] && break; sleep 0.5
done
check "the Follower serves the secret written on the Leader" test "$READ" = "$VALUE"

# ---------------------------------------------------------------------------------------------- SIGTERM: clean stops
T_STOP=$SECONDS
stop_ep "$FEP"; RC=$?
check_ok "SIGTERM stops the Follower's entrypoint with exit status 0" test "$RC" -eq 0 || tail -20 "$F.log" >&2
check "... leaving no Karaf or PostgreSQL of it" no_procs_in "$F"
stop_ep "$LEP"; RC=$?
echo "packaging: both nodes stopped in $((SECONDS - T_STOP)) s" >&2
check_ok "SIGTERM stops the Leader's entrypoint with exit status 0" test "$RC" -eq 0 || tail -20 "$L.log" >&2
check "... leaving no Karaf, PostgreSQL or relay of it" no_procs_in "$L"
check "... PostgreSQL shut down cleanly (its log says so)" grep -q "database system is shut down" "$L/pg/log/postgresql.log"
EPIDS=()
echo "packaging: $((SECONDS - T0)) s in all" >&2
summary packaging
