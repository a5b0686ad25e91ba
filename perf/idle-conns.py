#!/usr/bin/env python3
"""Open N keep-alive client connections to a proxy, send one GET on each, read each response,
then hold them all idle until stdin closes or HOLD seconds pass.

    perf/idle-conns.py [--tls] HOST PORT N [HOLD_SECONDS]

With --tls every connection first completes a TLS handshake (Python's ssl module, any
certificate accepted, ALPN http/1.1, SNI localhost) and the GET goes over it; the connections
then sit idle inside the TLS session, as a browser's keep-alive connection does.

Prints `OPEN <n> FAILED <m>` once every connection is open and answered (perf/bench.sh then
measures the proxy's RSS), and `CLOSED` when it lets go. Loopback only; used by perf/bench.sh.
"""

import selectors
import socket
import ssl
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


def tls_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the benchmark's self-signed certificate
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def open_tls_batch(host: str, port: int, n: int, timeout: float, ctx: ssl.SSLContext):
    """Connects n sockets and completes each handshake (one after the other), sends the
    request on each, then reads every response in turn (they arrive meanwhile)."""
    socks, failed = [], 0
    for _ in range(n):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.settimeout(timeout)
        try:
            raw.connect((host, port))
            s = ctx.wrap_socket(raw, server_hostname="localhost")
            s.sendall(REQUEST)
            socks.append(s)
        except OSError:
            failed += 1
            raw.close()
    ok = []
    deadline = time.monotonic() + timeout
    for s in socks:
        data = b""
        try:
            while not response_complete(data):
                s.settimeout(max(0.1, deadline - time.monotonic()))
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        if response_complete(data):
            ok.append(s)
        else:
            failed += 1
            s.close()
    return ok, failed


def main() -> None:
    args = sys.argv[1:]
    ctx = None
    if args and args[0] == "--tls":
        ctx = tls_context()
        args = args[1:]
    host, port, total = args[0], int(args[1]), int(args[2])
    hold = float(args[3]) if len(args) > 3 else 60.0
    held, failed = [], 0
    while len(held) + failed < total:
        n = min(BATCH, total - len(held) - failed)
        if ctx is None:
            ok, bad = open_batch(host, port, n, 10.0)
        else:
            ok, bad = open_tls_batch(host, port, n, 10.0, ctx)
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
