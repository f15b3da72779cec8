#!/usr/bin/env python3
"""Every node's audit chain is in the Leader's audit_events, each event exactly once.

usage: audit_complete.py LEADER_DIR PG_PORT NODE_DIR... [--request-ids FILE]

For each node folder, the ids of the chained lines in its audit files (data/audit/audit.json*) must be exactly the
ids stored under that node's name in the Leader's table: none missing (lost), none extra, and each seq once
(duplicated). With --request-ids, every request id in FILE must have an event stored. Prints one line per node and
exits 1 when anything differs.
"""
import glob
import json
import os
import re
import subprocess
import sys

CHAINED = re.compile(r',"seq":([1-9][0-9]*),"(mac|hash)":"[0-9a-f]{64}"}$')


def file_events(node_dir):
    events = {}
    for f in glob.glob(os.path.join(node_dir, "data", "audit", "audit.json*")):
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                line = line.rstrip("\n")
                m = CHAINED.search(line)
                if not m:
                    continue
                events[json.loads(line)["id"]] = int(m.group(1))
    return events


def query(leader_dir, port, sql):
    with open(os.path.join(leader_dir, "secrets", "postgres-coffer.password")) as fh:
        password = fh.read().strip()
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="5")
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "coffer", "-d", "coffer", "-At",
                          "-F", "\t", "-c", sql], env=env, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise SystemExit("psql: " + out.stderr.strip())
    return [row.split("\t") for row in out.stdout.splitlines() if row]


def main():
    args = sys.argv[1:]
    ids_file = None
    if "--request-ids" in args:
        i = args.index("--request-ids")
        ids_file = args[i + 1]
        del args[i:i + 2]
    leader_dir, port, nodes = args[0], args[1], args[2:]
    ok = True
    for node_dir in nodes:
        name = os.path.basename(node_dir.rstrip("/"))
        files = file_events(node_dir)
        rows = query(leader_dir, port, "SELECT id, seq FROM audit_events WHERE node = '%s'" % name)
        stored = {r[0]: int(r[1]) for r in rows}
        seqs = [int(r[1]) for r in rows]
        lost = set(files) - set(stored)
        extra = set(stored) - set(files)
        dup = len(seqs) - len(set(seqs))
        good = not lost and not extra and dup == 0 and len(files) > 0
        ok = ok and good
        print("%s: %d events in its files, %d stored, %d lost, %d not in its files, %d seqs stored twice%s" % (
            name, len(files), len(stored), len(lost), len(extra), dup, "" if good else "  <-- differs"))
    if ids_file:
        with open(ids_file) as fh:
            wanted = {l.strip() for l in fh if l.strip()}
        rows = query(leader_dir, port, "SELECT DISTINCT request_id FROM audit_events")
        have = {r[0] for r in rows}
        missing = wanted - have
        print("request ids: %d sent, %d with no event stored" % (len(wanted), len(missing)))
        ok = ok and not missing
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
