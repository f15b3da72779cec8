#!/usr/bin/env python3
"""Load for a switchover: writers and a reader through the cluster load balancer on kept-alive connections (a
connection the server closes is reopened, as clients do). Every request's outcome is counted; a failed request is
any answer but the expected status, or no answer. Runs until the stop file appears, then prints a JSON summary:
requests, failed (with the first few), the longest gap between two acknowledged writes and the slowest write.

usage: switchover_load.py LB_URL CA TOKEN_FILE STOP_FILE [WRITERS]"""
import http.client, json, os, ssl, sys, threading, time, urllib.parse

lb, ca, token_file, stop_file = sys.argv[1:5]
writers = int(sys.argv[5]) if len(sys.argv) > 5 else 2
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False  # the load balancer's address is in no node's certificate; the CA is the cluster's own
u = urllib.parse.urlparse(lb)
lock = threading.Lock()
stats = {"requests": 0, "failed": 0, "failures": [], "writes": 0, "reads": 0, "max_write_ms": 0.0, "nodes": {}}
acks = []


def token():
    with open(token_file) as f:
        return f.read().strip()


def run(kind, n):
    c, i = None, 0
    while not os.path.exists(stop_file):
        i += 1
        if kind == "w":
            method, path, body, want = "POST", "/secrets/demo/variable/switch%%2Fw%d" % n, ("v-%d-%d" % (n, i)).encode(), 201
        else:
            method, path, body, want = "GET", "/secrets/demo/variable/switch%2Fw0", None, 200
        t0 = time.time()
        status, err, node = None, None, None
        try:
            c = c or http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=20)
            c.request(method, path, body=body, headers={"Authorization": 'Token token="%s"' % token()})
            r = c.getresponse()
            payload = r.read()
            status, node = r.status, r.getheader("X-Coffer-Node")
            if status != want:
                err = "%s %s -> %d %s" % (method, path, status, payload[:200].decode("utf-8", "replace"))
            if (r.getheader("Connection") or "").lower() == "close":
                c.close()
                c = None
        except Exception as e:  # no answer: a failed request
            err = "%s %s -> %s" % (method, path, e)
            if c:
                c.close()
            c = None
        t1 = time.time()
        with lock:
            stats["requests"] += 1
            if err:
                stats["failed"] += 1
                if len(stats["failures"]) < 5:
                    stats["failures"].append(err)
            elif kind == "w":
                stats["writes"] += 1
                if (t1 - t0) * 1000 > stats["max_write_ms"]:
                    stats["max_write_ms"] = (t1 - t0) * 1000
                    stats["slowest_write"] = "sent %.3f, acknowledged by %s after %d ms" % (t0, node, (t1 - t0) * 1000)
                acks.append(t1)
                stats["nodes"][node] = stats["nodes"].get(node, 0) + 1
            else:
                stats["reads"] += 1
        if err:
            time.sleep(0.05)


threads = [threading.Thread(target=run, args=("w", n)) for n in range(writers)]
threads.append(threading.Thread(target=run, args=("r", 0)))
for t in threads:
    t.start()
for t in threads:
    t.join()
acks.sort()
stats["max_gap_ms"] = round(max((b - a for a, b in zip(acks, acks[1:])), default=0) * 1000)
stats["max_write_ms"] = round(stats["max_write_ms"])
print(json.dumps(stats))
