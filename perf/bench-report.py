#!/usr/bin/env python3
"""Turn perf/bench.sh's raw rows into the results markdown.

    perf/bench-report.py ENV_TXT RESULTS_TSV > perf/results/STAMP.md

Medians over rounds for every number; the per-round requests/s are listed too so drift shows.
The summary table sits between <!-- summary:start --> and <!-- summary:end --> for
perf/update-readme.sh. With TLS workloads, a second table gives each proxy's TLS numbers
relative to ringlb with the same worker count, from the same run; with ajp-get, a third gives
ringlb's AJP numbers relative to httpd mod_proxy_ajp's and mod_jk's.
"""

import csv
import statistics
import sys
from collections import OrderedDict, defaultdict

WORKLOADS = OrderedDict(
    [
        ("get", "(a) small keep-alive GET, wrk"),
        ("h2load", "(b) small keep-alive GET, h2load --h1"),
        ("close", "(c) new connection per request, wrk -H 'Connection: close'"),
        ("big", "(d) 1 MB responses, wrk"),
        ("sticky", "(e) sticky by cookie JSESSIONID=abc.node2, wrk"),
        ("rate", "(f) latency at a fixed rate, h2load --rps"),
        ("idle", "(g) RSS of idle keep-alive connections"),
        ("tls-get", "(h) small keep-alive GET over TLS (HTTP/1.1), wrk"),
        ("tls-handshake", "(i) full TLS handshakes, one HTTP/1.0 GET each, openssl s_time -new"),
        ("h2", "(j) HTTP/2 over TLS, h2load -m streams per connection"),
        ("tls-idle-rss", "(k) RSS of idle TLS keep-alive connections"),
        ("ajp-get", "(l) small keep-alive GET to two Tomcat 10 over AJP13, wrk"),
    ]
)
IDLE = ("idle", "tls-idle-rss")
NOT_RUN = ("did not start", "n/a (no h2)")


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ms(us):
    if us is None:
        return "-"
    v = us / 1000.0
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 100 else f"{v:.0f}"


def grouped(n, digits=0):
    if n is None:
        return "-"
    return f"{n:,.{digits}f}".replace(",", " ")


def note_fields(note):
    out = {}
    for part in (note or "").split():
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
    return out


def main():
    env_path, tsv_path = sys.argv[1], sys.argv[2]
    env = OrderedDict()
    with open(env_path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition(": ")
            env[k] = v
    rows = list(csv.DictReader(open(tsv_path), delimiter="\t"))
    proxies = list(OrderedDict((r["proxy"], None) for r in rows))
    by = defaultdict(list)
    for r in rows:
        by[(r["proxy"], r["workload"])].append(r)

    def stat(p, w):
        rs = by.get((p, w), [])
        if not rs:
            return None
        ok = [r for r in rs if r["note"] not in NOT_RUN]
        rps = [num(r["requests"]) / num(r["seconds"]) for r in ok if num(r["seconds"])]
        cpu100k = [
            num(r["cpu_s"]) * 100000 / num(r["requests"])
            for r in ok
            if num(r["cpu_s"]) is not None and num(r["requests"])
        ]
        notes = sorted({r["note"] for r in rs if r["note"]})
        return {
            "na": not ok and any(r["note"] == "n/a (no h2)" for r in rs),
            "rounds": len(rs),
            "started": len(ok),
            "rps": median(rps),
            "rps_all": rps,
            "p50": median(num(r["p50_us"]) for r in ok),
            "p99": median(num(r["p99_us"]) for r in ok),
            "p999": median(num(r["p999_us"]) for r in ok),
            "cpu100k": median(cpu100k),
            "hwm": median(num(r["hwm_kib"]) for r in ok),
            "errors": sum(int(num(r["errors"]) or 0) for r in ok if (num(r["errors"]) or 0) > 0),
            "notes": notes,
            "rows": ok,
        }

    def idle(p, workload="idle"):
        s = stat(p, workload)
        if not s or not s["rows"]:
            return None
        per = []
        for r in s["rows"]:
            f = note_fields(r["note"])
            b, a, c = num(f.get("rss_before_kib")), num(f.get("rss_after_kib")), num(f.get("conns"))
            z = num(f.get("rss_closed_kib"))
            if b is not None and a is not None and c:
                per.append((b, a, c, (a - b) / c, None if z is None else z - b))
        if not per:
            return None
        kept = [x[4] for x in per if x[4] is not None]
        return {
            "before": median(x[0] for x in per),
            "after": median(x[1] for x in per),
            "conns": median(x[2] for x in per),
            "kib_per_conn": median(x[3] for x in per),
            "kept": median(kept) if kept else None,
            "failed": s["errors"],
        }

    out = []
    w = out.append
    label = env.get("label", "")
    w(f"# ringlb whole-system benchmark, {env.get('date', '')}")
    w("")
    if label:
        w(f"> **{label}**")
        w("")
    w("Produced by `perf/bench.sh` (see `perf/README.md` for what each number means). Every number")
    w("is the median over rounds; rounds interleave the proxies (A B C D A B C D ...).")
    w("")
    w("## Environment")
    w("")
    for k, v in env.items():
        if k in ("label", "command"):
            continue
        w(f"- {k}: {v}")
    w("")
    w("Command line:")
    w("")
    w("```sh")
    w(env.get("command", ""))
    w("```")
    w("")

    present = [x for x in WORKLOADS if any((p, x) in by for p in proxies)]

    w("## Summary")
    w("")
    w("<!-- summary:start -->")
    cols = []
    if "get" in present:
        cols += [
            ("keep-alive GET req/s", lambda p: grouped(stat(p, "get")["rps"])),
            ("GET p99 ms", lambda p: ms(stat(p, "get")["p99"])),
            ("CPU s / 100k GET", lambda p: fmt_cpu(stat(p, "get")["cpu100k"])),
        ]
    if "close" in present:
        cols.append(("conn-per-request req/s", lambda p: grouped(stat(p, "close")["rps"])))
    if "big" in present:
        cols.append(("1 MB req/s", lambda p: grouped(stat(p, "big")["rps"])))
    if "sticky" in present:
        cols.append(("sticky req/s", lambda p: grouped(stat(p, "sticky")["rps"])))
    if "rate" in present:
        cols.append(("p99 ms at fixed rate", lambda p: ms(stat(p, "rate")["p99"])))
    if "idle" in present:
        cols.append(
            (
                "MiB / 10k idle conns",
                lambda p: "-" if idle(p) is None else f"{idle(p)['kib_per_conn'] * 10000 / 1024:.1f}",
            )
        )
    if "get" in present:
        cols.append(("peak RSS MiB (GET)", lambda p: mib(stat(p, "get")["hwm"])))
    if "tls-get" in present:
        cols.append(("CPU s / 100k TLS GET", lambda p: fmt_cpu(stat(p, "tls-get")["cpu100k"])))
    if "tls-handshake" in present:
        cols.append(("TLS handshakes/s", lambda p: grouped(stat(p, "tls-handshake")["rps"])))
        cols.append(("CPU µs / handshake", lambda p: us_per(stat(p, "tls-handshake")["cpu100k"])))
    if "h2" in present:
        cols.append(("h2 req/s", lambda p: na_or(stat(p, "h2"), lambda s: grouped(s["rps"]))))
    if "ajp-get" in present:
        cols.append(("AJP GET req/s", lambda p: grouped(stat(p, "ajp-get")["rps"])))
        cols.append(("CPU s / 100k AJP GET", lambda p: fmt_cpu(stat(p, "ajp-get")["cpu100k"])))
    if "tls-idle-rss" in present:
        cols.append(
            (
                "MiB / 10k idle TLS conns",
                lambda p: "-"
                if idle(p, "tls-idle-rss") is None
                else f"{idle(p, 'tls-idle-rss')['kib_per_conn'] * 10000 / 1024:.1f}",
            )
        )
    w("| proxy | " + " | ".join(c[0] for c in cols) + " |")
    w("|---|" + "---|" * len(cols))
    for p in proxies:
        cells = []
        for _, f in cols:
            try:
                cells.append(f(p))
            except (TypeError, KeyError):
                cells.append("-")
        w(f"| {p} | " + " | ".join(cells) + " |")
    w("<!-- summary:end -->")
    w("")

    tls_ratios(w, proxies, stat, idle, present)
    ajp_ratios(w, proxies, stat, present)

    for x in present:
        if x in IDLE:
            continue
        w(f"## {WORKLOADS[x]}")
        w("")
        w("| proxy | req/s | p50 ms | p99 ms | p99.9 ms | proxy CPU s / 100k req | peak RSS MiB | errors | req/s per round | notes |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for p in proxies:
            s = stat(p, x)
            if s is None:
                continue
            if not s["started"]:
                why = "n/a (no h2)" if s["na"] else "did not start"
                w(f"| {p} | {why} | | | | | | | | |")
                continue
            per_round = ", ".join(grouped(v) for v in s["rps_all"])
            notes = "; ".join(n for n in s["notes"])
            w(
                f"| {p} | {grouped(s['rps'])} | {ms(s['p50'])} | {ms(s['p99'])} | {ms(s['p999'])} | "
                f"{fmt_cpu(s['cpu100k'])} | {mib(s['hwm'])} | {s['errors']} | {per_round} | {notes} |"
            )
        w("")

    for x in IDLE:
        if x not in present:
            continue
        w(f"## {WORKLOADS[x]}")
        w("")
        w("Proxy RSS (sum of VmRSS over its processes, each reading taken once it settled) before and")
        w("after opening the connections, and \"kept\": RSS after they all closed minus before;")
        if x == "idle":
            w("each connection sent one GET, read the answer and stayed open.")
        else:
            w("each connection completed a TLS handshake, sent one GET over it, read the answer and")
            w("stayed open (`perf/idle-conns.py --tls`).")
        w("")
        w("| proxy | conns held | failed | RSS before MiB | RSS after MiB | KiB / conn | MiB / 10 000 conns | kept after close MiB | notes |")
        w("|---|---|---|---|---|---|---|---|---|")
        for p in proxies:
            if p == "direct":
                continue
            i = idle(p, x)
            if i is None:
                if (p, x) in by:
                    w(f"| {p} | - | - | - | - | - | - | - | |")
                continue
            notes = "; ".join(
                " ".join(t for t in n.split() if t.startswith("tls=")) for n in stat(p, x)["notes"]
            ).strip("; ")
            w(
                f"| {p} | {i['conns']:.0f} | {i['failed']} | {mib(i['before'])} | {mib(i['after'])} | "
                f"{i['kib_per_conn']:.2f} | {i['kib_per_conn'] * 10000 / 1024:.1f} | "
                f"{'-' if i['kept'] is None else mib(i['kept'])} | {notes} |"
            )
        w("")

    w("Columns: req/s = requests completed / measured seconds; latencies from wrk's histogram")
    w("(p99.9 via perf/wrk-report.lua) or from h2load's per-request log; proxy CPU = utime+stime")
    w("of the proxy's processes and threads (children included) during the measurement, per 100 000")
    w("requests; peak RSS = sum of VmHWM over the proxy's processes (a fresh instance per workload);")
    w("errors = connect/read/write/timeout/non-2xx (wrk) or failed/errored/timeout (h2load), summed")
    w("over rounds. `direct` is the load generator against a member, no proxy: its CPU/RSS are `-`.")
    if "tls-handshake" in present:
        w("For tls-handshake, req/s is full handshakes per second (each with one request) and the")
        w("summary's CPU µs / handshake is ten times the `proxy CPU s / 100k req` column.")
    print("\n".join(out))


def fmt_cpu(v):
    return "-" if v is None else f"{v:.2f}"


def us_per(cpu100k):
    """CPU seconds per 100 000 requests -> microseconds per request."""
    return "-" if cpu100k is None else f"{cpu100k * 10:.0f}"


def na_or(s, f):
    return "n/a (no h2)" if s and s["na"] else f(s)


def reference(p, proxies):
    """The ringlb a proxy is compared with: ringlb-N for a proxy named kind-N, else the first."""
    ringlbs = [q for q in proxies if q.startswith("ringlb")]
    if not ringlbs:
        return None
    suffix = p.rsplit("-", 1)[-1] if "-" in p else None
    same = [q for q in ringlbs if suffix and q == f"ringlb-{suffix}"]
    return (same or ringlbs)[0]


def tls_ratios(w, proxies, stat, idle, present):
    """Each TLS number as how many times better ringlb is than the proxy, from this run."""
    tls = [x for x in ("tls-get", "tls-handshake", "h2", "tls-idle-rss") if x in present]
    if not tls:
        return
    # (label, workload, value of a proxy, True if lower is better)
    metrics = []
    if "tls-get" in present:
        metrics += [
            ("TLS GET CPU / req", "tls-get", lambda p: stat(p, "tls-get")["cpu100k"], True),
            ("TLS GET req/s", "tls-get", lambda p: stat(p, "tls-get")["rps"], False),
        ]
    if "tls-handshake" in present:
        metrics += [
            ("CPU / handshake", "tls-handshake", lambda p: stat(p, "tls-handshake")["cpu100k"], True),
            ("handshakes/s", "tls-handshake", lambda p: stat(p, "tls-handshake")["rps"], False),
        ]
    if "h2" in present:
        metrics += [
            ("h2 CPU / req", "h2", lambda p: stat(p, "h2")["cpu100k"], True),
            ("h2 req/s", "h2", lambda p: stat(p, "h2")["rps"], False),
        ]
    if "tls-idle-rss" in present:
        metrics.append(
            ("RSS / idle TLS conn", "tls-idle-rss", lambda p: idle(p, "tls-idle-rss")["kib_per_conn"], True)
        )

    def value(p, f):
        try:
            return f(p)
        except (TypeError, KeyError):
            return None

    others = [p for p in proxies if not p.startswith("ringlb") and any(stat(p, x) for x in tls)]
    if not others:
        return
    w("## TLS: ringlb compared")
    w("")
    w("How many times better ringlb is, per number, from this run: for costs (CPU per request or")
    w("handshake, RSS per connection) the proxy's value divided by ringlb's, for rates ringlb's")
    w("divided by the proxy's. Above 1.00 ringlb is better. Each proxy is compared with the ringlb")
    w("of the same worker count (`nginx-1` with `ringlb-1`).")
    w("")
    w("| proxy | vs | " + " | ".join(m[0] for m in metrics) + " |")
    w("|---|---|" + "---|" * len(metrics))
    for p in others:
        ref = reference(p, proxies)
        if ref is None:
            continue
        cells = []
        for _, x, f, lower_better in metrics:
            s_ref = stat(ref, x)
            if s_ref and s_ref["na"]:
                cells.append("n/a (no h2)")
                continue
            a, b = value(p, f), value(ref, f)
            if a is None or b is None or a <= 0 or b <= 0:
                cells.append("-")
                continue
            cells.append(f"{(a / b) if lower_better else (b / a):.2f}")
        w(f"| {p} | {ref} | " + " | ".join(cells) + " |")
    w("")


def ajp_ratios(w, proxies, stat, present):
    """ringlb's AJP cost and rate as fractions and multiples of each httpd's, from this run."""
    if "ajp-get" not in present:
        return
    others = [p for p in proxies if p.split("-")[0] in ("apache", "modjk") and stat(p, "ajp-get")]
    if not others:
        return
    w("## AJP: ringlb compared")
    w("")
    w("ringlb's proxy CPU per request as a fraction of the other proxy's (lower is better for")
    w("ringlb; the target is at most 0.40), and ringlb's req/s as a multiple of the other's (the")
    w("target is at least 2.00), from this run. Each is compared with the ringlb of the same worker")
    w("count. The Tomcats share the proxies' CPU, so req/s is bounded by Tomcat as much as by the")
    w("proxy: compare it with `direct` (wrk to node1's HTTP connector, no proxy).")
    w("")
    w("| proxy | vs | ringlb CPU / req ÷ proxy's | ringlb req/s ÷ proxy's | proxy CPU µs / req | ringlb CPU µs / req |")
    w("|---|---|---|---|---|---|")
    for p in others:
        ref = reference(p, proxies)
        a, b = stat(p, "ajp-get"), stat(ref, "ajp-get") if ref else None
        if not a or not b:
            continue
        cpu = "-" if not (a["cpu100k"] and b["cpu100k"]) else f"{b['cpu100k'] / a['cpu100k']:.2f}"
        rps = "-" if not (a["rps"] and b["rps"]) else f"{b['rps'] / a['rps']:.2f}"
        w(f"| {p} | {ref} | {cpu} | {rps} | {us_per(a['cpu100k'])} | {us_per(b['cpu100k'])} |")
    w("")


def mib(kib):
    return "-" if kib is None else f"{kib / 1024:.1f}"


if __name__ == "__main__":
    main()
