#!/usr/bin/env bash
# wrk through ringlb and directly to one member, in the same run, interleaved (A B A B ...), with
# the proxy (and its in-process demo members) pinned to one CPU and wrk to another.
#
#   perf/wrk-compare.sh                 # 3 rounds of 10 s each side
#   ROUNDS=1 DURATION=5s perf/wrk-compare.sh
#   IO_DRIVER=epoll perf/wrk-compare.sh
#
# Needs wrk (apt-get install wrk). Targets loopback only; stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
IO_DRIVER=${IO_DRIVER:-auto}
PORT=${PORT:-18080}
MEMBER_PORT=${MEMBER_PORT:-18180}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet
log=$(mktemp)
taskset -c "$PROXY_CPU" target/release/ringlb demo --listen "127.0.0.1:$PORT" \
    --member-port "$MEMBER_PORT" --workers 1 --io-driver "$IO_DRIVER" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do
    if grep -q "Stop with" "$log"; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; exit 1; fi
    sleep 0.1
done
grep "worker" "$log"

rps() { # url -> requests/s
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$DURATION" --latency "$1" |
        tee -a "$results" | awk '/Requests\/sec/ {print $2}'
}
results=$(mktemp)
proxied=(); direct=()
for r in $(seq "$ROUNDS"); do
    direct+=("$(rps "http://127.0.0.1:$MEMBER_PORT/")")
    proxied+=("$(rps "http://127.0.0.1:$PORT/")")
    echo "round $r: direct ${direct[-1]} req/s, through ringlb ${proxied[-1]} req/s"
done
grep -E "Latency|99%" "$results" | head -8
rm -f "$results"
printf '%s\n' "${direct[@]}" | sort -n | awk '{a[NR]=$1} END {print "direct median:", a[int((NR+1)/2)]}'
printf '%s\n' "${proxied[@]}" | sort -n | awk '{a[NR]=$1} END {print "ringlb median:", a[int((NR+1)/2)]}'
paste <(printf '%s\n' "${proxied[@]}") <(printf '%s\n' "${direct[@]}") |
    awk '{s += $1 / $2} END {printf "ratio ringlb/direct (mean of rounds): %.2f\n", s / NR}'
