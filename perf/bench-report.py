#!/usr/bin/env python3
"""Turn perf/bench.sh's raw rows into the results markdown.

    perf/bench-report.py ENV_TXT RESULTS_TSV > perf/results/STAMP.md

Medians over rounds for every number; the per-round requests/s are listed too so drift shows.
The summary table sits between <!-- summary:start --> and <!-- summary:end --> for
perf/update-readme.sh.
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
    ]
)


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
        ok = [r for r in rs if r["note"] != "did not start"]
        rps = [num(r["requests"]) / num(r["seconds"]) for r in ok if num(r["seconds"])]
        cpu100k = [
            num(r["cpu_s"]) * 100000 / num(r["requests"])
            for r in ok
            if num(r["cpu_s"]) is not None and num(r["requests"])
        ]
        notes = sorted({r["note"] for r in rs if r["note"]})
        return {
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

    def idle(p):
        s = stat(p, "idle")
        if not s or not s["rows"]:
            return None
        per = []
        for r in s["rows"]:
            f = note_fields(r["note"])
            b, a, c = num(f.get("rss_before_kib")), num(f.get("rss_after_kib")), num(f.get("conns"))
            if b is not None and a is not None and c:
                per.append((b, a, c, (a - b) / c))
        if not per:
            return None
        return {
            "before": median(x[0] for x in per),
            "after": median(x[1] for x in per),
            "conns": median(x[2] for x in per),
            "kib_per_conn": median(x[3] for x in per),
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

    for x in present:
        if x == "idle":
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
                w(f"| {p} | did not start | | | | | | | | |")
                continue
            per_round = ", ".join(grouped(v) for v in s["rps_all"])
            notes = "; ".join(n for n in s["notes"])
            w(
                f"| {p} | {grouped(s['rps'])} | {ms(s['p50'])} | {ms(s['p99'])} | {ms(s['p999'])} | "
                f"{fmt_cpu(s['cpu100k'])} | {mib(s['hwm'])} | {s['errors']} | {per_round} | {notes} |"
            )
        w("")

    if "idle" in present:
        w(f"## {WORKLOADS['idle']}")
        w("")
        w("Proxy RSS (sum of VmRSS over its processes) before and after opening the connections;")
        w("each connection sent one GET, read the answer and stayed open.")
        w("")
        w("| proxy | conns held | failed | RSS before MiB | RSS after MiB | KiB / conn | MiB / 10 000 conns |")
        w("|---|---|---|---|---|---|---|")
        for p in proxies:
            if p == "direct":
                continue
            i = idle(p)
            if i is None:
                if (p, "idle") in by:
                    w(f"| {p} | - | - | - | - | - | - |")
                continue
            w(
                f"| {p} | {i['conns']:.0f} | {i['failed']} | {mib(i['before'])} | {mib(i['after'])} | "
                f"{i['kib_per_conn']:.2f} | {i['kib_per_conn'] * 10000 / 1024:.1f} |"
            )
        w("")

    w("Columns: req/s = requests completed / measured seconds; latencies from wrk's histogram")
    w("(p99.9 via perf/wrk-report.lua) or from h2load's per-request log; proxy CPU = utime+stime")
    w("of the proxy's processes and threads (children included) during the measurement, per 100 000")
    w("requests; peak RSS = sum of VmHWM over the proxy's processes (a fresh instance per workload);")
    w("errors = connect/read/write/timeout/non-2xx (wrk) or failed/errored/timeout (h2load), summed")
    w("over rounds. `direct` is the load generator against a member, no proxy: its CPU/RSS are `-`.")
    print("\n".join(out))


def fmt_cpu(v):
    return "-" if v is None else f"{v:.2f}"


def mib(kib):
    return "-" if kib is None else f"{kib / 1024:.1f}"


if __name__ == "__main__":
    main()
