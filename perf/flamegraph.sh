#!/usr/bin/env bash
# CPU profile of ringlb (1 worker) under the small keep-alive GET load of perf/bench.sh:
# perf record of the ringlb process while wrk runs, then an SVG flame graph (inferno) and a
# text summary of the hottest functions.
#
#   perf/flamegraph.sh                      # 10 s, --call-graph dwarf, io_uring where available
#   SECONDS_TO_PROFILE=5 CALLGRAPH=fp perf/flamegraph.sh
#   IO_DRIVER=epoll perf/flamegraph.sh
#   BODY_BYTES=1048576 CONNS=8 perf/flamegraph.sh   # the 1 MB responses of perf/bench.sh
#
# Output: perf/results/flamegraph-STAMP.svg and perf/results/flamegraph-STAMP.txt (gitignored
# only if you say so; they are plain files). Installs linux-perf (apt) and inferno (cargo
# install) only when missing. Loopback only; stops only what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SECONDS_TO_PROFILE=${SECONDS_TO_PROFILE:-10}
FREQ=${FREQ:-999}
CALLGRAPH=${CALLGRAPH:-dwarf}        # dwarf (works without frame pointers) or fp (-g)
CONNS=${CONNS:-64}
BODY_BYTES=${BODY_BYTES:-13}          # the members' response body (1048576: the 1 MB workload)
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
IO_DRIVER=${IO_DRIVER:-auto}
BASE_PORT=${BASE_PORT:-18500}
OUT_DIR=${OUT_DIR:-$ROOT/perf/results}
RINGLB=${RINGLB:-}

if ! command -v perf >/dev/null || ! perf --version >/dev/null 2>&1; then
    echo "installing linux-perf" >&2
    apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q linux-perf >&2
fi
command -v wrk >/dev/null || { apt-get update -q >&2 && apt-get install -y -q wrk >&2; }
PATH=$PATH:$HOME/.cargo/bin
if ! command -v inferno-flamegraph >/dev/null || ! command -v inferno-collapse-perf >/dev/null; then
    echo "installing inferno (cargo install inferno)" >&2
    cargo install --locked inferno >&2
fi

if [ -z "$RINGLB" ]; then
    cargo build --release --quiet
    RINGLB=${CARGO_TARGET_DIR:-$ROOT/target}/release/ringlb
fi

STAMP=$(date +%Y-%m-%d-%H%M)
mkdir -p "$OUT_DIR"
SVG=$OUT_DIR/flamegraph-$STAMP.svg
TXT=$OUT_DIR/flamegraph-$STAMP.txt
TMP=$(mktemp -d /tmp/ringlb-flame.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_http() {
    local i
    for i in $(seq 100); do
        [ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$1/")" = 200 ] && return 0
        sleep 0.1
    done
    echo "nothing answers on port $1" >&2
    cat "$TMP"/*.log >&2
    exit 1
}

M1=$((BASE_PORT + 1)) M2=$((BASE_PORT + 2)) P=$((BASE_PORT + 100))
for m in "$M1:node1" "$M2:node2"; do
    taskset -c "$PROXY_CPU" "$RINGLB" bench-member --listen "127.0.0.1:${m%%:*}" --route "${m#*:}" \
        --body-bytes "$BODY_BYTES" --io-driver "$IO_DRIVER" >>"$TMP/members.log" 2>&1 &
    PIDS+=($!)
    wait_http "${m%%:*}"
done
taskset -c "$PROXY_CPU" "$RINGLB" run --listen "127.0.0.1:$P" --workers 1 \
    --member "http://127.0.0.1:$M1,route=node1" --member "http://127.0.0.1:$M2,route=node2" \
    --stickysession 'JSESSIONID|jsessionid' --io-driver "$IO_DRIVER" >"$TMP/ringlb.log" 2>&1 &
RPID=$!
PIDS+=("$RPID")
wait_http "$P"
cat "$TMP/ringlb.log" >&2

case $CALLGRAPH in
    fp) cg=(-g) ;;
    dwarf) cg=(--call-graph dwarf,16384) ;;
    *) cg=(--call-graph "$CALLGRAPH") ;;
esac
# Load first, so the profile sees the steady state; wrk runs a little longer than perf.
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$((SECONDS_TO_PROFILE + 2))s" --latency \
    "http://127.0.0.1:$P/" >"$TMP/wrk.txt" 2>&1 &
WPID=$!
PIDS+=("$WPID")
sleep 1
perf record -F "$FREQ" "${cg[@]}" -p "$RPID" -o "$TMP/perf.data" -- sleep "$SECONDS_TO_PROFILE" \
    2>"$TMP/perf-record.log" || { cat "$TMP/perf-record.log" >&2; exit 1; }
wait "$WPID" || true

perf script -i "$TMP/perf.data" 2>/dev/null | inferno-collapse-perf >"$TMP/folded.txt"
inferno-flamegraph --title "ringlb 1 worker, wrk -c$CONNS keep-alive GET of $BODY_BYTES bytes, $STAMP" \
    <"$TMP/folded.txt" >"$SVG"
{
    echo "# ringlb flame graph $STAMP: $SVG"
    echo "# $(uname -sr); $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); driver $IO_DRIVER"
    echo "# perf record -F $FREQ ${cg[*]} -p <ringlb> -- sleep $SECONDS_TO_PROFILE, under wrk -c$CONNS, $BODY_BYTES-byte bodies:"
    grep -E 'Requests/sec|Latency ' "$TMP/wrk.txt" | sed 's/^/#   /'
    grep -E 'samples|lost' "$TMP/perf-record.log" | sed 's/^/# /' || true
    echo
    echo "## perf report --no-children (self time), top entries"
    perf report -i "$TMP/perf.data" --no-children --stdio --percent-limit 0.5 \
        --sort dso,symbol -g none 2>/dev/null | grep -vE '^#|^$' | sed -e 's/[ -]*$//' -n -e '1,40p' || true
} >"$TXT"
echo "flame graph: $SVG" >&2
echo "top entries: $TXT" >&2
head -30 "$TXT"
