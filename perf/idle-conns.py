#!/usr/bin/env python3
"""Open N keep-alive client connections to a proxy, send one GET on each, read each response,
then hold them all idle until stdin closes or HOLD seconds pass.

    perf/idle-conns.py HOST PORT N [HOLD_SECONDS]

Prints `OPEN <n> FAILED <m>` once every connection is open and answered (perf/bench.sh then
measures the proxy's RSS), and `CLOSED` when it lets go. Loopback only; used by perf/bench.sh.
"""

import selectors
import socket
import sys
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: ringlb-idle-conns\r\n\r\n"
BATCH = 250  # connections opened per step, well under any accept backlog


def response_complete(data: bytes) -> bool:
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    length = 0
    for line in data[:head_end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return len(data) >= head_end + 4 + length


def open_batch(host: str, port: int, n: int, timeout: float):
    """Connects n sockets, sends the request on each, waits for every response."""
    socks, failed = [], 0
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect((host, port))
            s.sendall(REQUEST)
            s.setblocking(False)
            socks.append(s)
        except OSError:
            failed += 1
            s.close()
    sel = selectors.DefaultSelector()
    buf = {}
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
        buf[s] = b""
    pending, ok = set(socks), []
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                chunk = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                sel.unregister(s)
                pending.discard(s)
                failed += 1
                s.close()
                continue
            buf[s] += chunk
            if response_complete(buf[s]):
                sel.unregister(s)
                pending.discard(s)
                ok.append(s)
    for s in pending:
        failed += 1
        s.close()
    sel.close()
    return ok, failed


def main() -> None:
    host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    hold = float(sys.argv[4]) if len(sys.argv) > 4 else 60.0
    held, failed = [], 0
    while len(held) + failed < total:
        ok, bad = open_batch(host, port, min(BATCH, total - len(held) - failed), 10.0)
        held += ok
        failed += bad
    print(f"OPEN {len(held)} FAILED {failed}", flush=True)
    # Hold until the caller closes our stdin (or kills us), or `hold` seconds pass.
    sel = selectors.DefaultSelector()
    sel.register(sys.stdin, selectors.EVENT_READ)
    sel.select(timeout=hold)
    for s in held:
        s.close()
    print("CLOSED", flush=True)


if __name__ == "__main__":
    main()
