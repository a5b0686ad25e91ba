#!/usr/bin/env bash
# TLS audit: testssl.sh (the Debian/Ubuntu package testssl.sh) against ringlb's default TLS
# settings. One ringlb, one TLS listener with nothing but cert, key and one [[listener.sni]]
# (default protocols, cipher suites, ALPN), one `ringlb bench-member` behind it, and two scans
# side by side: the listener's own ECDSA P-256 certificate (SNI localhost) and an RSA 2048 one
# chosen by SNI (rsa.localhost). Both certificates are issued here by a throwaway CA that
# testssl is told to trust (--add-ca), so certificate findings are about ringlb's TLS only.
#
#   scripts/testssl.sh                          # builds ringlb (cargo build --release)
#   RINGLB_BIN=/path/to/ringlb scripts/testssl.sh
#   TESTSSL_PORT=28443 MEMBER_PORT=28444 scripts/testssl.sh
#   TESTSSL_OUT=perf/results scripts/testssl.sh # also keep the summary and the JSON files there
#   KEEP_WORK=1 scripts/testssl.sh              # keep the work dir (certificates, logs, JSON)
#
# Fails when a scan reports any finding of severity MEDIUM, HIGH or CRITICAL, any finding that
# says VULNERABLE or NOT ok, a scan problem (WARN, FATAL: the scan is then not trustworthy),
# or when SSLv2, SSLv3, TLS 1.0, TLS 1.1 or a NULL, anonymous, EXPORT, LOW (DES, RC4, 64-bit),
# 3DES/IDEA or obsolete CBC cipher is offered. Three findings are accepted, each for the reason
# written next to it in ACCEPTED below (no server cipher order, no application security
# headers, testssl 3.0's racy TLS 1.3 ticket test); they are printed as accepted, never hidden.
# Prints a summary per certificate.
# Installs testssl.sh with apt-get when `testssl` is missing (needs root or sudo). Everything
# listens on 127.0.0.1; it stops only the two processes it started.
set -euo pipefail
cd "$(dirname "$0")/.."

TLS_PORT=${TESTSSL_PORT:-18443}
MEMBER_PORT=${MEMBER_PORT:-18444}
OUT_DIR=${TESTSSL_OUT:-}

script_start=$(date +%s.%N)
elapsed() { # start -> seconds since, one decimal
    awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}
die() { echo "testssl: $*" >&2; exit 1; }

# --- tools ----------------------------------------------------------------------------------
need=()
command -v testssl >/dev/null || need+=(testssl.sh)
command -v openssl >/dev/null || need+=(openssl)
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl)
if [[ ${#need[@]} -gt 0 ]]; then
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    echo "== installing ${need[*]} (apt-get)"
    t=$(date +%s.%N)
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    echo "installed in $(elapsed "$t") s"
fi
command -v testssl >/dev/null || die "testssl not found (apt-get install testssl.sh)"

if [[ -z ${RINGLB_BIN:-} ]]; then
    echo "== cargo build --release"
    cargo build --release --quiet
    RINGLB_BIN=${CARGO_TARGET_DIR:-target}/release/ringlb
fi
[[ -x $RINGLB_BIN ]] || die "ringlb binary not found: $RINGLB_BIN"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$TLS_PORT" "$MEMBER_PORT"; do
    if port_in_use "$p"; then die "127.0.0.1:$p is already in use"; fi
done

# --- cleanup: only what this script started -------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ringlb-testssl.XXXXXX")
PIDS=()
cleanup() {
    local pid
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- certificates ---------------------------------------------------------------------------
# A CA, then two leaves it signs: ECDSA P-256 for localhost, RSA 2048 for rsa.localhost. 90 days
# (testssl warns under 60), serverAuth, a CRL URI (testssl rates a certificate without CRL or
# OCSP URI HIGH; it fetches nothing without --phone-out, so the URI needs no server).
ossl() { openssl "$@" >>"$WORK/openssl.log" 2>&1 || { cat "$WORK/openssl.log" >&2; die "openssl $1 failed"; }; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 120 \
    -keyout "$WORK/ca.key" -out "$WORK/ca.crt" -subj "/CN=ringlb testssl CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
leaf() { # stem name keyspec...
    local stem=$1 name=$2
    shift 2
    ossl req -new -nodes "$@" -keyout "$WORK/$stem.key" -out "$WORK/$stem.csr" -subj "/CN=$name"
    printf '%s\n' "subjectAltName=DNS:$name" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
        "crlDistributionPoints=URI:http://127.0.0.1/ringlb-testssl-ca.crl" \
        >"$WORK/$stem.ext"
    ossl x509 -req -in "$WORK/$stem.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" \
        -CAcreateserial -days 90 -sha256 -extfile "$WORK/$stem.ext" -out "$WORK/$stem.leaf"
    cat "$WORK/$stem.leaf" "$WORK/ca.crt" >"$WORK/$stem.crt" # the chain as ringlb serves it
}
leaf ecdsa localhost -newkey ec -pkeyopt ec_paramgen_curve:P-256
leaf rsa rsa.localhost -newkey rsa:2048

# --- ringlb and its member ------------------------------------------------------------------
cat >"$WORK/ringlb.toml" <<EOF
workers = 1

[[listener]]
address = "127.0.0.1:$TLS_PORT"
cert = "ecdsa.crt"
key = "ecdsa.key"

[[listener.sni]]
names = ["rsa.localhost"]
cert = "rsa.crt"
key = "rsa.key"

[[balancer]]
name = "cluster"
mount = "/"

[[balancer.member]]
url = "http://127.0.0.1:$MEMBER_PORT"
EOF
"$RINGLB_BIN" check -c "$WORK/ringlb.toml" >/dev/null || die "ringlb check refuses the config"
"$RINGLB_BIN" bench-member --listen "127.0.0.1:$MEMBER_PORT" --route node1 \
    >"$WORK/member.log" 2>&1 &
PIDS+=($!)
"$RINGLB_BIN" run -c "$WORK/ringlb.toml" >"$WORK/ringlb.log" 2>&1 &
PIDS+=($!)
ready=0
for _ in $(seq 100); do
    if [[ $(curl -s -o /dev/null -m 1 -w '%{http_code}' --cacert "$WORK/ca.crt" \
        --resolve "localhost:$TLS_PORT:127.0.0.1" "https://localhost:$TLS_PORT/") == 200 ]]; then
        ready=1
        break
    fi
    kill -0 "${PIDS[1]}" 2>/dev/null || break
    sleep 0.1
done
[[ $ready == 1 ]] || { cat "$WORK/ringlb.log" >&2; die "ringlb did not answer https://localhost:$TLS_PORT/"; }
echo "ringlb $("$RINGLB_BIN" --version | awk '{print $2}') on https://127.0.0.1:$TLS_PORT (default TLS settings)"

# --- the scans ------------------------------------------------------------------------------
# The default scan (protocols, cipher categories, forward secrecy, server preferences and
# defaults, HTTP headers, every vulnerability check, client simulation); --ip: no resolving,
# the name is only the SNI; no DNS and no outside connections (CRL, OCSP, pwnedkeys).
scan() { # label name
    testssl --quiet --color 0 --warnings off --nodns none --ip 127.0.0.1 \
        --add-ca "$WORK/ca.crt" --connect-timeout 10 --openssl-timeout 10 \
        --jsonfile "$WORK/$1.json" --logfile "$WORK/$1.log" "$2:$TLS_PORT" >/dev/null 2>&1
}
echo "== testssl $(testssl --version 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' | awk '/testssl +[0-9]/ {print $2; exit}') (two scans side by side)"
t=$(date +%s.%N)
scan ecdsa localhost &
scan_ecdsa=$!
scan rsa rsa.localhost &
scan_rsa=$!
rc_ecdsa=0 rc_rsa=0
wait "$scan_ecdsa" || rc_ecdsa=$?
wait "$scan_rsa" || rc_rsa=$?
scan_s=$(elapsed "$t")
echo "scans took $scan_s s (testssl exit codes: ecdsa $rc_ecdsa, rsa $rc_rsa)"

# --- verdict --------------------------------------------------------------------------------
summary=$WORK/summary.txt
status=0
# TLS 1.3 ticket resumption, checked without testssl 3.0's race (see ACCEPTED below): the first
# client keeps its stdin open for a second, so it reads the ticket before it closes.
resumes() { # server name -> 0 if a second connection resumed the first one's session
    local sess=$WORK/$1.sess
    (sleep 1) | openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername "$1" \
        -sess_out "$sess" >/dev/null 2>&1 || true
    [[ -s $sess ]] || return 1
    openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername "$1" -sess_in "$sess" \
        </dev/null 2>/dev/null | grep -q '^Reused, TLSv1.3'
}
for name in localhost rsa.localhost; do
    if resumes "$name"; then
        echo "ticket resumption, TLS 1.3, SNI $name: reused (openssl s_client -sess_out/-sess_in)"
    else
        echo "FAIL: ticket resumption, TLS 1.3, SNI $name: the second connection did not resume"
        status=1
    fi
done >"$summary"
python3 - "$WORK/ecdsa.json" "ECDSA P-256 (SNI localhost)" "$WORK/rsa.json" \
    "RSA 2048 (SNI rsa.localhost)" >>"$summary" <<'PY' || status=$?
import json
import sys

FAIL_SEVERITIES = {"MEDIUM", "HIGH", "CRITICAL"}
PROBLEM_SEVERITIES = {"WARN", "FATAL"}
# (id, severity, finding) -> why it does not fail the audit.
ACCEPTED = {
    ("cipher_order", "HIGH", "NOT a cipher order configured"):
        "ringlb lets the client choose among its suites (rustls ignore_client_order = false), "
        "all of them AEAD with forward secrecy (no weak category is offered: checked here too); "
        "Mozilla's intermediate and modern profiles recommend exactly that, and testssl 3.2 "
        "rates it LOW. A server order would make every browser use AES-256 instead of the "
        "AES-128 or ChaCha20 it asks for.",
    ("security_headers", "MEDIUM", "--"):
        "X-Frame-Options, X-Content-Type-Options, CSP and the like belong to the application: "
        "ringlb passes the member's response headers and adds none; this scan's member "
        "(ringlb bench-member) sends none.",
    ("sessionresumption_ticket", "WARN", "check failed because of connect problem"):
        "testssl 3.0 runs `s_client -sess_out </dev/null`, which often closes before the TLS "
        "1.3 NewSessionTicket (sent after the client's Finished) arrives, so the second, "
        "resuming connect has no session; nginx gives the same (about 1 in 3 here). This "
        "script checks resumption itself without the race (the first lines of the summary).",
}
# Must be present and say "not offered".
NOT_OFFERED = [
    "SSLv2", "SSLv3", "TLS1", "TLS1_1",
    "cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
    "cipherlist_3DES_IDEA", "cipherlist_AVERAGE",
]
SHOWN = ["TLS1_2", "TLS1_3", "ALPN", "PFS_ECDHE_curves", "cert_keySize", "cert_chain_of_trust",
         "TLS_session_ticket", "sessionresumption_ticket", "secure_renego",
         "secure_client_renego", "fallback_SCSV"]

failed = False
args = sys.argv[1:]
for path, label in zip(args[0::2], args[1::2]):
    try:
        findings = json.load(open(path))
    except (OSError, ValueError) as e:
        print(f"{label}: FAIL: no testssl JSON ({e})")
        failed = True
        continue
    by_id = {}
    for f in findings:
        by_id.setdefault(f.get("id", ""), f)
    counts = {}
    for f in findings:
        counts[f.get("severity", "?")] = counts.get(f.get("severity", "?"), 0) + 1
    problems, accepted = [], []
    for f in findings:
        sev, text, fid = f.get("severity", ""), f.get("finding", ""), f.get("id", "")
        bad = sev in FAIL_SEVERITIES or sev in PROBLEM_SEVERITIES
        bad = bad or "VULNERABLE" in text or "NOT ok" in text
        if not bad:
            continue
        why = ACCEPTED.get((fid, sev, text.strip()))
        if why:
            accepted.append(f"{sev} {fid}: {text} -- accepted: {why}")
        else:
            problems.append(f"{sev} {fid}: {text}")
    for fid in NOT_OFFERED:
        f = by_id.get(fid)
        if f is None:
            problems.append(f"{fid}: not in the scan's results")
        elif not f.get("finding", "").startswith("not offered"):
            problems.append(f"{fid} offered: {f.get('finding', '')}")
    print(f"{label}: {len(findings)} findings, by severity: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for fid in SHOWN:
        if fid in by_id:
            print(f"  {fid}: {by_id[fid].get('finding', '')}")
    offered = [f.get("finding", "").split()[1] for f in findings
               if f.get("id", "").startswith("cipher_x") and len(f.get("finding", "").split()) > 1]
    print(f"  ciphers offered: {' '.join(offered)}")
    sims = [(f["id"][len("clientsimulation-"):], f.get("finding", "")) for f in findings
            if f.get("id", "").startswith("clientsimulation-")]
    refused = [name for name, text in sims if text.startswith("No connection")]
    print(f"  client simulation: {len(sims) - len(refused)} of {len(sims)} connect; "
          f"no connection: {' '.join(refused) or 'none'}")
    for fid in NOT_OFFERED:
        if fid in by_id:
            print(f"  {fid}: {by_id[fid].get('finding', '')}")
    for f in findings:
        if f.get("severity") == "LOW":
            print(f"  LOW {f.get('id')}: {f.get('finding', '')}")
    for a in accepted:
        print(f"  {a}")
    if problems:
        failed = True
        print(f"  FAIL ({len(problems)}):")
        for p in problems:
            print(f"    {p}")
    else:
        print("  ok: nothing MEDIUM or worse, no VULNERABLE / NOT ok, no weak protocol or cipher")
sys.exit(1 if failed else 0)
PY
cat "$summary"
if [[ -n $OUT_DIR ]]; then
    mkdir -p "$OUT_DIR"
    stamp=$(date +%Y-%m-%d-%H%M)
    {
        echo "# testssl.sh against ringlb's default TLS settings, $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo
        echo "scripts/testssl.sh; testssl $(dpkg-query -W -f '${Version}' testssl.sh 2>/dev/null || echo '?'),"
        echo "$(openssl version); ringlb $("$RINGLB_BIN" --version | awk '{print $2}') (git $(git rev-parse --short HEAD 2>/dev/null || echo '?'))."
        echo "Both scans ran side by side in $scan_s s; exit status $status (0 = passed)."
        echo
        echo '```'
        cat "$summary"
        echo '```'
    } >"$OUT_DIR/$stamp-testssl.md"
    echo "summary: $OUT_DIR/$stamp-testssl.md"
fi
echo "testssl: $([[ $status == 0 ]] && echo passed || echo FAILED) in $(elapsed "$script_start") s"
exit "$status"
