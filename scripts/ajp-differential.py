#!/usr/bin/env python3
"""The request table of scripts/ajp-differential.sh: each request, as raw bytes, through two
proxies in front of the same Tomcat over AJP13 (ringlb and httpd's mod_proxy_ajp), and a
comparison of what came back: interim (1xx) responses, status, header fields, framing and
body bytes.

    ajp-differential.py RINGLB_PORT HTTPD_PORT

Read by a raw-socket client, so the framing is seen as sent (curl would hide it). The
comparison ignores the fields in IGNORED and the differences in INTENDED (each with its
reason; scripts/ajp-differential.sh's header lists them too); anything else is an unexpected
difference, and the exit status is 1.
"""

import hashlib
import socket
import sys
import time

TIMEOUT = 15.0

# Fields that differ by design and are never compared.
IGNORED = {
    "date": "each proxy's own clock",
    "server": "each proxy's own name",
    "keep-alive": "httpd advertises its KeepAliveTimeout/MaxKeepAliveRequests; ringlb sends none",
}


def chunk_bytes(data, sizes):
    """`data` as chunked framing, in chunks of the given sizes (the rest in one)."""
    out, at = b"", 0
    for n in sizes:
        piece = data[at : at + n]
        if not piece:
            break
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
        at += len(piece)
    if at < len(data):
        out += b"%x\r\n" % (len(data) - at) + data[at:] + b"\r\n"
    return out + b"0\r\n\r\n"


BODY_100K = bytes((i * 7 + 3) % 251 for i in range(100_000))
BODY_SMALL = b"name=value&x=%20y\n"
HOST = "app.example:8080"  # the same Host through both proxies (each forwards the client's)
LONG_Q = "q=" + "x" * 6000  # a ~6 KB request target, inside one 8 KiB AJP packet
BIG_FIELD = "y" * 3000  # three of these: a head larger than one 8 KiB AJP packet
OVERSIZED = "GET 9 KB of fields (over one AJP packet)"


def req(method, target, headers=(), body=b"", version="HTTP/1.1", host=True):
    """Raw request bytes; a body is sent as given (the caller writes Content-Length or the
    chunked framing itself)."""
    lines = [f"{method} {target} {version}"]
    if host:
        lines.append(f"Host: {HOST}")
    lines += list(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), body


def with_length(method, target, body, headers=()):
    return req(method, target, [*headers, f"Content-Length: {len(body)}"], body)


def chunked(method, target, body, sizes, headers=()):
    return req(method, target, [*headers, "Transfer-Encoding: chunked"], chunk_bytes(body, sizes))


# name -> (request head, request body, options); options: expect (send the body only after an
# interim 100 or 2 s), head (no response body), pipeline (the same request twice on one
# connection, both answers compared).
CASES = [
    ("GET index.jsp", *req("GET", "/index.jsp"), {}),
    ("HEAD index.jsp", *req("HEAD", "/index.jsp"), {"head": True}),
    ("GET static small.txt", *req("GET", "/small.txt"), {}),
    ("HEAD static small.txt", *req("HEAD", "/small.txt"), {"head": True}),
    ("GET If-Modified-Since (304)", *req("GET", "/small.txt", ["If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT"]), {}),
    ("GET Range bytes=2-5 (206)", *req("GET", "/small.txt", ["Range: bytes=2-5"]), {}),
    ("GET 1 MiB static (length)", *req("GET", "/big.bin"), {}),
    ("GET 1 MiB streamed (no length)", *req("GET", "/stream.jsp"), {}),
    ("GET query and ;jsessionid", *req("GET", "/echo/p;jsessionid=ABC.node1?a=1&b=%20x&c=%C3%A9&d"), {}),
    ("GET 6 KB URL", *req("GET", "/echo/long?" + LONG_Q), {}),
    (OVERSIZED, *req("GET", "/echo/big", [f"X-A: {BIG_FIELD}", f"X-B: {BIG_FIELD}", f"X-C: {BIG_FIELD}"]), {}),
    ("GET repeated and odd headers", *req("GET", "/echo/h", [
        "X-Dup: a", "X-Dup: b", "x-lower-case: v", "X-Empty:", "X-Spaces:    padded value   ",
        "X-Tab:\tt", "X-Latin1: caf\xe9", "Accept: text/plain", "Accept: */*",
        "Accept-Language: de, en;q=0.5", "User-Agent: differential/1", "Referer: http://r.example/",
        "Pragma: no-cache", "Authorization: Basic dXNlcjpwYXNz", "Cache-Control: no-cache"]), {}),
    ("GET cookies (two Cookie fields)", *req("GET", "/echo/c", [
        "Cookie: a=1; b=2", "Cookie: JSESSIONID=XYZ.node1; c=\"q v\""]), {}),
    ("GET HTTP/1.0 without Host", *req("GET", "/index.jsp", version="HTTP/1.0", host=False), {}),
    ("GET HTTP/1.0 keep-alive", *req("GET", "/index.jsp", ["Connection: keep-alive"], version="HTTP/1.0"), {}),
    ("GET Connection: close", *req("GET", "/index.jsp", ["Connection: close"]), {}),
    ("GET twice on one connection", *req("GET", "/index.jsp"), {"pipeline": True}),
    ("POST 100 KB with Content-Length", *with_length("POST", "/echo/post", BODY_100K, ["Content-Type: application/octet-stream"]), {}),
    ("POST 100 KB chunked", *chunked("POST", "/echo/post", BODY_100K, [1, 10, 4096, 30000], ["Content-Type: application/octet-stream"]), {}),
    ("POST form urlencoded", *with_length("POST", "/echo/form", BODY_SMALL, ["Content-Type: application/x-www-form-urlencoded"]), {}),
    ("POST form chunked", *chunked("POST", "/form.jsp", BODY_SMALL, [5], ["Content-Type: application/x-www-form-urlencoded"]), {}),
    ("POST form with Content-Length", *with_length("POST", "/form.jsp", BODY_SMALL, ["Content-Type: application/x-www-form-urlencoded"]), {}),
    ("POST empty (Content-Length: 0)", *with_length("POST", "/echo/empty", b""), {}),
    ("POST Expect: 100-continue", *with_length("POST", "/echo/expect", BODY_100K, ["Expect: 100-continue"]), {"expect": True}),
    ("POST chunked Expect: 100-continue", *chunked("POST", "/echo/expect", BODY_100K, [8000], ["Expect: 100-continue"]), {"expect": True}),
    ("PUT with Content-Length", *with_length("PUT", "/echo/put", BODY_100K), {}),
    ("PUT chunked", *chunked("PUT", "/echo/put", BODY_SMALL, [3]), {}),
    ("DELETE", *req("DELETE", "/echo/delete"), {}),
    ("OPTIONS", *req("OPTIONS", "/echo/options"), {}),
    ("OPTIONS on a JSP", *req("OPTIONS", "/index.jsp"), {}),
    ("PATCH (no AJP method code)", *with_length("PATCH", "/echo/patch", BODY_SMALL), {}),
    ("PUT on a JSP (405)", *with_length("PUT", "/index.jsp", BODY_SMALL), {}),
    ("GET missing (404)", *req("GET", "/no/such/file.txt"), {}),
    ("GET sendError 404", *req("GET", "/status.jsp?code=404"), {}),
    ("GET sendError 500", *req("GET", "/status.jsp?code=500"), {}),
    ("GET JSP that throws (500)", *req("GET", "/throw.jsp"), {}),
    ("GET redirect (302)", *req("GET", "/redirect.jsp"), {}),
    ("GET odd response headers", *req("GET", "/headers.jsp"), {}),
]


class Response:
    def __init__(self):
        self.interim = []  # status lines of 1xx responses
        self.status = ""
        self.fields = []  # (name, value) as sent
        self.framing = ""
        self.body = b""
        self.error = ""


def read_until(sock, buf, marker):
    while marker not in buf:
        data = sock.recv(65536)
        if not data:
            raise EOFError("closed before " + repr(marker))
        buf += data
    return buf


def read_exact(sock, buf, n):
    while len(buf) < n:
        data = sock.recv(65536)
        if not data:
            raise EOFError(f"closed after {len(buf)} of {n} body bytes")
        buf += data
    return buf


def read_response(sock, buf, head_only, resp):
    """Reads one final response (after any 1xx) from `buf` + `sock`; returns what is left."""
    while True:
        buf = read_until(sock, buf, b"\r\n\r\n")
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        code = lines[0].split(" ")[1] if " " in lines[0] else ""
        if code.startswith("1") and code != "101":
            resp.interim.append(lines[0])
            continue
        break
    resp.status = lines[0]
    for line in lines[1:]:
        name, _, value = line.partition(":")
        resp.fields.append((name, value.strip(" \t")))
    fields = {n.lower(): v for n, v in resp.fields}
    if head_only or code in ("204", "304"):
        resp.framing = "none"
        return buf
    if "chunked" in fields.get("transfer-encoding", "").lower():
        resp.framing = "chunked"
        body = b""
        while True:
            buf = read_until(sock, buf, b"\r\n")
            size_line, buf = buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                buf = read_until(sock, buf, b"\r\n")
                while not buf.startswith(b"\r\n"):  # trailers
                    buf = read_until(sock, buf, b"\r\n")
                    buf = buf.split(b"\r\n", 1)[1]
                    buf = read_until(sock, buf, b"\r\n")
                buf = buf[2:]
                break
            buf = read_exact(sock, buf, size + 2)
            body += buf[:size]
            buf = buf[size + 2 :]
        resp.body = body
        return buf
    if "content-length" in fields:
        n = int(fields["content-length"])
        resp.framing = "length"
        buf = read_exact(sock, buf, n)
        resp.body, buf = buf[:n], buf[n:]
        return buf
    resp.framing = "close"
    while True:
        data = sock.recv(65536)
        if not data:
            break
        buf += data
    resp.body, buf = buf, b""
    return buf


def exchange(port, head, body, opts):
    """Sends the case to 127.0.0.1:port; returns the list of responses (two when pipelined)."""
    out = []
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    try:
        count = 2 if opts.get("pipeline") else 1
        buf = b""
        for _ in range(count):
            resp = Response()
            out.append(resp)
            try:
                if opts.get("expect"):
                    sock.sendall(head)
                    # The body goes once the proxy says 100 Continue, or after 2 s without it
                    # (what curl does): a final response first means no body at all.
                    sock.settimeout(2.0)
                    try:
                        buf = read_until(sock, buf, b"\r\n\r\n")
                    except socket.timeout:
                        pass
                    sock.settimeout(TIMEOUT)
                    if buf.startswith(b"HTTP/1.1 100") or not buf:
                        sock.sendall(body)
                else:
                    sock.sendall(head + body)
                buf = read_response(sock, buf, opts.get("head", False), resp)
            except (OSError, EOFError, ValueError, IndexError) as e:
                resp.error = f"{type(e).__name__}: {e}"
                break
    finally:
        sock.close()
    return out


def normalized(resp):
    """(status, interim, framing, fields) in comparable form: names lower-cased, IGNORED
    dropped, Connection's keep-alive token dropped (see INTENDED), same-name order kept."""
    fields = []
    for name, value in resp.fields:
        n = name.lower()
        if n in IGNORED:
            continue
        if n == "connection":
            tokens = [t.strip() for t in value.split(",") if t.strip().lower() != "keep-alive"]
            if not tokens:
                continue
            value = ", ".join(tokens).lower()
        fields.append((n, value))
    fields.sort(key=lambda f: f[0])  # stable: the order of repeated fields is kept
    return resp.status, tuple(resp.interim), resp.framing, fields


def describe_body(b):
    return f"{len(b)} B sha256 {hashlib.sha256(b).hexdigest()[:16]}"


def compare(a, b):
    """Differences between two responses as (what, ringlb's, httpd's)."""
    diffs = []
    if a.error or b.error:
        if a.error != b.error:
            diffs.append(("error", a.error or "-", b.error or "-"))
        return diffs
    sa, ia, fa, ha = normalized(a)
    sb, ib, fb, hb = normalized(b)
    if sa != sb:
        diffs.append(("status", sa, sb))
    if ia != ib:
        diffs.append(("interim", " | ".join(ia) or "-", " | ".join(ib) or "-"))
    if fa != fb:
        diffs.append(("framing", fa, fb))
    names = sorted({n for n, _ in ha} | {n for n, _ in hb})
    for n in names:
        va = [v for m, v in ha if m == n]
        vb = [v for m, v in hb if m == n]
        if va != vb:
            diffs.append((f"field {n}", " | ".join(va) or "(absent)", " | ".join(vb) or "(absent)"))
    # Field-name case is not meaning (RFC 9110 5.1) but is shown.
    ca = sorted({n for n, _ in a.fields if n.lower() not in IGNORED})
    cb = sorted({n for n, _ in b.fields if n.lower() not in IGNORED})
    if [n for n in ca if n.lower() in {m.lower() for m in cb} and n not in cb]:
        diffs.append(("name case", ", ".join(n for n in ca if n not in cb), ", ".join(n for n in cb if n not in ca)))
    if a.body != b.body:
        body_a, body_b = a.body, b.body
        if b"sha256=" in body_a or b"sha256=" in body_b:
            # The echo servlet: show the lines that differ.
            la, lb = body_a.decode("latin-1").split("\n"), body_b.decode("latin-1").split("\n")
            only_a = [l for l in la if l not in lb]
            only_b = [l for l in lb if l not in la]
            diffs.append(("echoed request", " / ".join(only_a)[:300] or "(order)", " / ".join(only_b)[:300] or "(order)"))
        else:
            diffs.append(("body", describe_body(body_a), describe_body(body_b)))
    return diffs


# Differences that are by design, each a rule: key -> (reason, test). A test gets the case
# name, what differs, ringlb's and httpd's values and both responses, and says whether the
# difference is this one.
HTTPD_DROPS_CONNECTION = {"400", "408", "411", "413", "414", "500", "501", "503"}


def has_length(resp):
    return any(n.lower() == "content-length" for n, _ in resp.fields)


def merged(va_lines, vb_lines):
    """httpd's echoed header lines are ringlb's with repeated fields joined by ", "."""
    joined, order = {}, []
    for line in va_lines:
        name, _, value = line.partition(": ")
        if name.lower() not in joined:
            order.append(name)
            joined[name.lower()] = value
        else:
            joined[name.lower()] += ", " + value
    return sorted(f"{n}: {joined[n.lower()]}" for n in order) == sorted(vb_lines)


INTENDED = {
    "A": (
        "ringlb relays the Content-Length Tomcat sent (as mod_jk does); mod_proxy_ajp drops it and "
        "chunks the body, or to HTTP/1.0 ends it with the connection (so a keep-alive HTTP/1.0 "
        "client is closed too)",
        lambda case, what, va, vb, a, b: has_length(a) and not has_length(b) and (
            (what == "framing" and va == "length" and vb in ("chunked", "close"))
            or (what == "field content-length" and vb == "(absent)")
            or (what == "field transfer-encoding" and va == "(absent)" and vb == "chunked")
            or (what == "field connection" and va == "(absent)" and vb == "close" and b.framing == "close")
        ),
    ),
    "B": (
        "httpd merges repeated request fields into one, joined by \", \" (Cookie too); ringlb "
        "forwards each field as the client sent it",
        lambda case, what, va, vb, a, b: what == "echoed request" and merged(va.split(" / "), vb.split(" / ")),
    ),
    "C": (
        "httpd closes the client connection after a 400, 408, 411, 413, 414, 500, 501 or 503 "
        "(ap_status_drops_connection); ringlb keeps a connection whose response was complete",
        lambda case, what, va, vb, a, b: what == "field connection" and va == "(absent)" and vb == "close"
        and b.status.split(" ")[1:2] and b.status.split(" ")[1] in HTTPD_DROPS_CONNECTION,
    ),
    "D": (
        "a request head that does not fit one AJP packet: ringlb answers 431 itself; httpd 400 "
        "with its own error page (AH00988 ajp_marshal_into_msgb failed); neither reaches Tomcat",
        lambda case, what, va, vb, a, b: case == OVERSIZED and a.status.startswith("HTTP/1.1 431")
        and b.status.startswith("HTTP/1.1 400"),
    ),
}


def intended(case, what, va, vb, a, b):
    for key, (_, test) in INTENDED.items():
        if test(case, what, va, vb, a, b):
            return key
    return None


def main():
    ringlb_port, httpd_port = int(sys.argv[1]), int(sys.argv[2])
    rows, details, unexpected, used = [], [], 0, set()
    start = time.monotonic()
    for name, head, body, opts in CASES:
        ra = exchange(ringlb_port, head, body, opts)
        rb = exchange(httpd_port, head, body, opts)
        found = []
        for i in range(max(len(ra), len(rb))):
            a = ra[i] if i < len(ra) else Response()
            b = rb[i] if i < len(rb) else Response()
            for what, va, vb in compare(a, b):
                key = intended(name, what, va, vb, a, b)
                found.append((("#2 " if i else "") + what, va, vb, key))
        bad = [d for d in found if d[3] is None]
        unexpected += len(bad)
        used.update(d[3] for d in found if d[3])
        verdict = "match" if not found else ("DIFF" if bad else "intended " + ",".join(sorted({d[3] for d in found})))
        code = lambda r: r[0].status.split(" ")[1] if " " in r[0].status else (r[0].error or "?")
        framing = f"{ra[0].framing or '-'}/{rb[0].framing or '-'}"
        rows.append((name, f"{code(ra)}/{code(rb)}", framing, describe_body(ra[0].body), verdict))
        for what, va, vb, key in found:
            details.append((name, what, va, vb, key))
    header = ("case", "status ringlb/httpd", "framing ringlb/httpd", "body (ringlb)", "result")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(5)]
    line = lambda r: "  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip()
    print(line(header))
    for r in rows:
        print(line(r))
    if details:
        print()
        print("every difference (ringlb | httpd mod_proxy_ajp) [the intended rule it is, or UNEXPECTED]:")
        for name, what, va, vb, key in details:
            print(f"- {name}: {what}: ringlb {va[:300]!r} | httpd {vb[:300]!r} [{key or 'UNEXPECTED'}]")
    if used:
        print()
        print("intended differences:")
        for key in sorted(used):
            print(f"  {key}: {INTENDED[key][0]}")
    matched = sum(1 for r in rows if r[4] == "match")
    intended_n = sum(1 for r in rows if r[4].startswith("intended"))
    print()
    print(f"{len(rows)} cases in {time.monotonic() - start:.1f} s: {matched} identical, {intended_n} with intended differences only, "
          f"{len(rows) - matched - intended_n} with unexpected differences ({unexpected} in all)")
    print(f"{matched + intended_n} passed, {len(rows) - matched - intended_n} failed")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
