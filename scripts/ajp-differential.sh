#!/usr/bin/env bash
# Differential check of ringlb's AJP13 against httpd's mod_proxy_ajp: one real Apache Tomcat 10
# (Debian package tomcat10; jvmRoute node1, an AJP/1.3 connector with a secret, the webapps in
# scripts/tomcat/), ringlb with that AJP connector as its one member, and Apache httpd (Debian
# apache2: mod_proxy_ajp in a one-member balancer, route node1, the same secret) in front of the
# same connector. Every request of the table in scripts/ajp-differential.py goes, as raw bytes,
# through both; interim 1xx responses, status line, header fields, framing and body bytes are
# compared. Prints the table, every difference, and "N passed, M failed" (a case passes when it
# has no difference but intended ones); exits non-zero on any other difference.
#
#   scripts/ajp-differential.sh                   # builds ringlb (cargo build --release)
#   RINGLB_BIN=/path/to/ringlb scripts/ajp-differential.sh
#   IO_DRIVER=epoll KEEP_WORK=1 scripts/ajp-differential.sh
#   RINGLB_PORT=28180 HTTPD_PORT=28181 TOMCAT1_PORT=28182 TOMCAT1_AJP_PORT=28183 scripts/ajp-differential.sh
#
# Requests: GET and HEAD (a JSP and a static file), 304 and 206 from the default servlet, 1 MiB
# downloads with a length and streamed, a query with a ;jsessionid= path parameter, a 6 KB URL,
# a 9 KB head (more than one AJP packet), repeated, odd and Latin-1 header fields, two Cookie
# fields, HTTP/1.0 with and without Host and keep-alive, Connection: close, two requests on one
# connection, POST bodies by length and chunked (100 KB in chunks of 1 to 30000 bytes), form
# POSTs by length and chunked (form.jsp prints the parameters Tomcat parsed from the body), an
# empty body, Expect: 100-continue with a length and chunked, PUT by length and chunked,
# DELETE, OPTIONS, PATCH (a method without an AJP code), PUT on a JSP (405), 404 from the
# default servlet and from sendError, 500 from sendError and from a JSP that throws, a
# redirect, and a response with repeated, empty, long and mixed-case fields and two Set-Cookie.
# The RinglbEcho servlet (/echo/*) answers with what Tomcat read: method, body length and
# SHA-256, framing fields, URI, query and every request header line, so a difference in what
# the proxies forward shows as a difference in the body.
#
# Never compared: Date and Server (each proxy's own), Keep-Alive (httpd advertises its timeout
# and max; ringlb says nothing) and the keep-alive token of Connection.
# Intended differences (scripts/ajp-differential.py's INTENDED, each with a test that tells it
# from anything else, and these reasons):
#   A. ringlb relays the Content-Length Tomcat sent (as mod_jk does); mod_proxy_ajp drops it and
#      chunks the body, or to an HTTP/1.0 client ends it with the connection (Connection: close
#      to a keep-alive HTTP/1.0 client too).
#   B. httpd merges repeated request fields into one joined by ", " (Cookie too, which RFC 6265
#      wants joined by "; "); ringlb forwards each field as the client sent it.
#   C. httpd closes the client connection after a 400, 408, 411, 413, 414, 500, 501 or 503
#      (ap_status_drops_connection); ringlb keeps a connection whose response was complete.
#   D. a request head that does not fit one AJP packet: ringlb answers 431 itself, httpd 400
#      with its error page (AH00988 ajp_marshal_into_msgb failed); neither reaches Tomcat.
#
# Needs: tomcat10 and apache2 (installed with apt-get when missing; root or sudo), python3,
# curl, java. Loopback only; httpd runs from a generated config in the work dir (its own
# PidFile, never the system service); stops only what it started.
# Run time: about 10 s once the packages are installed (most of it Tomcat's start). CI runs it
# after scripts/tomcat-pair.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/tomcat-lib.sh
source scripts/tomcat-lib.sh

LB_PORT=${RINGLB_PORT:-18180}
HTTPD_PORT=${HTTPD_PORT:-18181}
TC_PORT=${TOMCAT1_PORT:-18182}
AJP_PORT=${TOMCAT1_AJP_PORT:-18183}
IO_DRIVER=${IO_DRIVER:-auto}
START_TIMEOUT=${TOMCAT_START_TIMEOUT:-120}
APACHE=/usr/sbin/apache2
APACHE_MODS=/usr/lib/apache2/modules
TOMCAT_BIG_BYTES=1048576

script_start=$SECONDS
die() { echo "ajp-differential: $*" >&2; exit 1; }

tomcat_install || die "$CATALINA_HOME/bin/catalina.sh still missing"
if [[ ! -x $APACHE || ! -f $APACHE_MODS/mod_proxy_ajp.so ]]; then
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    echo "== installing apache2 (apt-get; its service is not started)"
    # policy-rc.d exit 101: the package's scripts must not start the system service.
    made_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${sudo[@]}" chmod +x /usr/sbin/policy-rc.d
        made_policy=1
    fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends apache2 >/dev/null || true
    [[ $made_policy == 1 ]] && "${sudo[@]}" rm -f /usr/sbin/policy-rc.d
fi
[[ -x $APACHE && -f $APACHE_MODS/mod_proxy_ajp.so ]] || die "apache2 with mod_proxy_ajp is missing"
for tool in java curl python3; do command -v $tool >/dev/null || die "$tool not found"; done

if [[ -z ${RINGLB_BIN:-} ]]; then
    echo "== cargo build --release"
    cargo build --release --quiet
    RINGLB_BIN=${CARGO_TARGET_DIR:-target}/release/ringlb
fi
[[ -x $RINGLB_BIN ]] || die "ringlb binary not found: $RINGLB_BIN"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$LB_PORT" "$HTTPD_PORT" "$TC_PORT" "$AJP_PORT"; do
    if port_in_use "$p"; then die "127.0.0.1:$p is already in use"; fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ajp-differential.XXXXXX")
chmod 755 "$WORK" # httpd's children (www-data) use its runtime dir
TOMCAT_WORK=$WORK
PIDS=()
ok_run=0
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    if [[ $ok_run -ne 1 ]]; then
        for f in "$WORK"/node1/logs/console.log "$WORK"/ringlb.log "$WORK"/httpd/error.log; do
            [[ -s $f ]] && { echo "--- tail $f"; tail -n 20 "$f"; }
        done
    fi
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [[ -n ${KEEP_WORK:-} ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Tomcat ---------------------------------------------------------------------------------
SECRET=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
echo "== starting Tomcat node1 (http :$TC_PORT, ajp :$AJP_PORT)"
tomcat_make_base "$WORK/node1" node1 "$TC_PORT" "$AJP_PORT" "$SECRET" || die "could not make the Tomcat base"
tomcat_start "$WORK/node1" node1
PIDS+=("$TC_PID")
tomcat_wait node1 "$TC_PID" "http://127.0.0.1:$TC_PORT/index.jsp" "$START_TIMEOUT" || exit 1
for child in $(tomcat_children "$TC_PID"); do PIDS+=("$child"); done
echo "Tomcat: $(tomcat_version "$WORK/node1"), answered after $((SECONDS - script_start)) s"
for jsp in index stream status throw redirect headers form; do
    curl -sS --noproxy '*' --max-time 60 -o /dev/null "http://127.0.0.1:$TC_PORT/$jsp.jsp?jsp_precompile=true"
done

# --- ringlb ---------------------------------------------------------------------------------
cat >"$WORK/ringlb.toml" <<EOF
workers = 1
io_driver = "$IO_DRIVER"
listen = ["127.0.0.1:$LB_PORT"]
shutdown_grace = "1s"

[[balancer]]
name = "tomcats"
mount = "/"
stickysession = "JSESSIONID|jsessionid"

[[balancer.member]]
url = "ajp://127.0.0.1:$AJP_PORT"
route = "node1"
secret = "$SECRET"
EOF
"$RINGLB_BIN" check -c "$WORK/ringlb.toml" >/dev/null || die "ringlb check refused its config"
"$RINGLB_BIN" run -c "$WORK/ringlb.toml" >"$WORK/ringlb.log" 2>&1 </dev/null &
PIDS+=("$!")
tomcat_wait ringlb "$!" "http://127.0.0.1:$LB_PORT/index.jsp" 20 || exit 1

# --- httpd ----------------------------------------------------------------------------------
mkdir -p "$WORK/httpd"
chmod 755 "$WORK/httpd"
cat >"$WORK/httpd/httpd.conf" <<EOF
ServerName localhost
Listen 127.0.0.1:$HTTPD_PORT
PidFile $WORK/httpd/httpd.pid
DefaultRuntimeDir $WORK/httpd
Mutex file:$WORK/httpd default
ErrorLog $WORK/httpd/error.log
LogLevel warn
$( [[ $(id -u) -eq 0 ]] && printf 'User www-data\nGroup www-data' )
LoadModule mpm_event_module $APACHE_MODS/mod_mpm_event.so
LoadModule authz_core_module $APACHE_MODS/mod_authz_core.so
LoadModule slotmem_shm_module $APACHE_MODS/mod_slotmem_shm.so
LoadModule proxy_module $APACHE_MODS/mod_proxy.so
LoadModule proxy_ajp_module $APACHE_MODS/mod_proxy_ajp.so
LoadModule proxy_balancer_module $APACHE_MODS/mod_proxy_balancer.so
LoadModule lbmethod_byrequests_module $APACHE_MODS/mod_lbmethod_byrequests.so
StartServers 1
ServerLimit 1
ThreadsPerChild 16
MaxRequestWorkers 16
KeepAlive On
<Proxy balancer://tomcats>
    BalancerMember ajp://127.0.0.1:$AJP_PORT route=node1 secret=$SECRET
</Proxy>
ProxyPass / balancer://tomcats/ stickysession=JSESSIONID|jsessionid
ProxyPassReverse / balancer://tomcats/
<Location />
    Require all granted
</Location>
EOF
"$APACHE" -t -f "$WORK/httpd/httpd.conf" >"$WORK/httpd/configtest.log" 2>&1 ||
    die "httpd refused its config: $(cat "$WORK/httpd/configtest.log")"
"$APACHE" -f "$WORK/httpd/httpd.conf" -DFOREGROUND >"$WORK/httpd/console.log" 2>&1 </dev/null &
PIDS+=("$!")
tomcat_wait httpd "$!" "http://127.0.0.1:$HTTPD_PORT/index.jsp" 20 || exit 1
echo "httpd: $("$APACHE" -v | head -1 | sed 's/.*: //'), ringlb: $("$RINGLB_BIN" --version) (driver $IO_DRIVER)"

# --- the table ------------------------------------------------------------------------------
echo "== the same requests through ringlb (:$LB_PORT) and httpd mod_proxy_ajp (:$HTTPD_PORT), both to Tomcat's AJP :$AJP_PORT"
rc=0
python3 scripts/ajp-differential.py "$LB_PORT" "$HTTPD_PORT" >"$WORK/table.txt" || rc=$?
summary=$(tail -n 1 "$WORK/table.txt")
sed '$d' "$WORK/table.txt"
echo "whole run $((SECONDS - script_start)) s"
echo "$summary"
[[ $rc -eq 0 && $summary == *" passed, 0 failed" ]] && ok_run=1
exit "$rc"
