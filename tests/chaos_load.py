#!/usr/bin/env python3
"""Load for ./coffer chaos: one writer through the cluster load balancer, one reader through the follower load
balancer. Every acknowledged write is logged (time, value, variable, epoch, node, time sent); reads count failures.
Runs until the stop file appears, then prints a JSON summary of its own counters."""
import http.client, json, os, ssl, sys, threading, time, urllib.parse

lb, follower_lb, ca, token_file, out_dir, stop_file = sys.argv[1:7]
VARS = 50
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False  # the load balancer's address is in no node's certificate; the CA is the cluster's own


def conn(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=5)


def token():
    with open(token_file) as f:
        return f.read().strip()


def call(c, url, method, path, body=None):
    """One request on a kept-alive connection; returns (connection or None, response or None)."""
    try:
        c = c or conn(url)
        c.request(method, path, body=body, headers={"Authorization": 'Token token="%s"' % token()})
        r = c.getresponse()
        r.read()
        return c, r
    except Exception:
        if c:
            c.close()
        return None, None


def writer():
    log = open(os.path.join(out_dir, "acked.log"), "a", buffering=1)
    flog = open(os.path.join(out_dir, "failed.log"), "a", buffering=1)
    c, i, errors = None, 0, 0
    while not os.path.exists(stop_file):
        i += 1
        var = "chaos%2Fv" + str(i % VARS)
        sent = time.time()
        c, r = call(c, lb, "POST", "/secrets/demo/variable/" + var, ("w-%d" % i).encode())
        if r is not None and r.status == 201:
            log.write("%.3f %d %s %s %s %.3f\n" % (time.time(), i, var, r.getheader("X-Coffer-Epoch"),
                                                    r.getheader("X-Coffer-Node"), sent))
            continue
        errors += 1
        flog.write("%.3f %s\n" % (time.time(), r.status if r is not None else "none"))
        if c:
            c.close()
        c = None
        time.sleep(0.05)
    with open(os.path.join(out_dir, "writer.json"), "w") as f:
        json.dump({"attempts": i, "errors": errors}, f)


def reader():
    c, n, failed = None, 0, 0
    while not os.path.exists(stop_file):
        n += 1
        c, r = call(c, follower_lb, "GET", "/secrets/demo/variable/chaos%2Fv0")
        if r is None or r.status != 200:
            failed += 1
        time.sleep(0.02)
    with open(os.path.join(out_dir, "reader.json"), "w") as f:
        json.dump({"reads": n, "failed": failed}, f)


threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
for t in threads:
    t.start()
for t in threads:
    t.join()
