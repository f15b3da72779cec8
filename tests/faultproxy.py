#!/usr/bin/env python3
"""Loopback TCP proxies the launcher puts between nodes and etcd, so a node can be cut off without network namespaces.

usage: faultproxy.py STATE_DIR

STATE_DIR/routes holds one route per line, "LISTEN_PORT TARGET_PORT NODE" (127.0.0.1 on both sides): NODE's client
connects to LISTEN_PORT and reaches TARGET_PORT. STATE_DIR/isolated lists the nodes cut off, one per line; it is read
again whenever it changes (./coffer cluster isolate|heal writes it). A node being cut off loses its open connections,
and new ones are accepted and then hang, reading nothing and answering nothing, as behind a partition; healing
closes the hanging ones so clients reconnect at once. STATE_DIR/pid holds this process's pid.
"""
import asyncio
import os
import sys

STATE = sys.argv[1]
ISOLATED_FILE = os.path.join(STATE, "isolated")
active = {}   # node -> set of writer pairs being forwarded
held = {}     # node -> set of writers of connections hanging while the node is cut off
isolated = set()


def read_isolated():
    try:
        with open(ISOLATED_FILE) as fh:
            return {line.strip() for line in fh if line.strip()}
    except FileNotFoundError:
        return set()


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


def close_all(writers):
    for w in list(writers):
        try:
            w.transport.abort()
        except Exception:
            pass
    writers.clear()


async def handle(node, target, reader, writer):
    if node in isolated:
        held.setdefault(node, set()).add(writer)
        try:
            while await reader.read(65536):
                pass  # swallowed: nothing reaches the other side, nothing comes back
        except (ConnectionError, OSError):
            pass
        finally:
            held.get(node, set()).discard(writer)
        return
    try:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
    except OSError:
        writer.transport.abort()
        return
    pair = active.setdefault(node, set())
    pair.add(writer)
    pair.add(up_writer)
    try:
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
    finally:
        pair.discard(writer)
        pair.discard(up_writer)


async def watch():
    global isolated
    last = None
    while True:
        try:
            mtime = os.stat(ISOLATED_FILE).st_mtime_ns
        except FileNotFoundError:
            mtime = 0
        if mtime != last:
            last = mtime
            now = read_isolated()
            for node in now - isolated:
                close_all(active.get(node, set()))
            for node in isolated - now:
                close_all(held.get(node, set()))
            isolated = now
        await asyncio.sleep(0.05)


async def listen_on(port, handler):
    # A port a closing connection still holds frees itself within seconds: retry for 10 s, then fail loudly.
    for attempt in range(100):
        try:
            return await asyncio.start_server(handler, "127.0.0.1", port, reuse_address=True)
        except OSError as e:
            if attempt == 99:
                print(f"faultproxy: cannot listen on 127.0.0.1:{port}: {e}", file=sys.stderr, flush=True)
                raise
            await asyncio.sleep(0.1)


async def main():
    global isolated
    isolated = read_isolated()
    servers = []
    with open(os.path.join(STATE, "routes")) as fh:
        for line in fh:
            parts = line.split()
            if len(parts) != 3:
                continue
            listen, target, node = int(parts[0]), int(parts[1]), parts[2]
            servers.append(await listen_on(listen, lambda r, w, n=node, t=target: handle(n, t, r, w)))
    with open(os.path.join(STATE, "pid"), "w") as fh:
        fh.write(str(os.getpid()))
    await watch()


if __name__ == "__main__":
    asyncio.run(main())
