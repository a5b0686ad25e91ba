# Sourced by the scripts that drive ringlb and its peers on loopback: a scratch directory, the
# PIDs of what the script starts (stopped by PID, and the directory removed, on exit), and the
# helpers they share. Needs bash, curl and python3.
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
# A port free on 127.0.0.1 now (the kernel's pick).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_http URL [LOG]: until URL answers, 10 s at most; then LOG's tail and a failure.
wait_http() {
    for _ in $(seq 100); do curl -s -o /dev/null --max-time 1 "$1" && return 0; sleep 0.1; done
    [ -n "${2:-}" ] && tail -n 20 "$2" >&2
    fail "$1 did not answer within 10 s"
}
