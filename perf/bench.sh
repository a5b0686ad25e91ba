#!/usr/bin/env bash
# Whole-system benchmark: ringlb against nginx, HAProxy and Apache httpd (and any EXTRA_PROXY),
# all in front of the same two `ringlb bench-member` members, plus a direct-to-member baseline.
# The TLS workloads (tls-get tls-handshake h2 tls-idle-rss) run ringlb, nginx and HAProxy only,
# each terminating TLS with the same ECDSA P-256 certificate made here with openssl.
# One command, one machine, one run; see perf/README.md for what each number means.
#
#   perf/bench.sh                              # ROUNDS=3 DURATION=10s, all proxies, all workloads
#   ROUNDS=1 DURATION=2s WARMUP=0 perf/bench.sh # smoke run
#   PROXIES="ringlb-1 nginx-1 direct" WORKLOADS="get close" perf/bench.sh
#   PROXIES="ringlb-1 nginx-1 haproxy-1" WORKLOADS="tls-get tls-handshake h2 tls-idle-rss" perf/bench.sh
#   EXTRA_PROXY='envoy:/opt/envoy/run.sh {port} {m1} {m2}' perf/bench.sh
#   ROUNDS=2 DURATION=5s WORKLOADS=ajp-get perf/bench.sh   # ringlb, httpd mod_proxy_ajp and
#                                              # httpd + mod_jk to two real Tomcat 10 over AJP13
#
# Loopback only. Installs missing tools with apt (without starting their services), runs every
# proxy binary itself with a generated config in a temp dir, and stops only what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}          # per measurement (wrk -d, h2load -D)
WARMUP=${WARMUP:-1s}               # unmeasured load on each fresh proxy instance first; 0 = none
CONNS=${CONNS:-64}                 # wrk/h2load connections for the small-response workloads
BIG_CONNS=${BIG_CONNS:-8}          # connections for the 1 MB workload
BIG_BYTES=${BIG_BYTES:-1048576}
IDLE_CONNS=${IDLE_CONNS:-5000}     # idle keep-alive connections for the RSS measurement
TLS_IDLE_CONNS=${TLS_IDLE_CONNS:-2000} # idle TLS keep-alive connections for tls-idle-rss
HS_CLIENTS=${HS_CLIENTS:-8}        # parallel `openssl s_time -new` clients for tls-handshake
H2_CONNS=${H2_CONNS:-64}           # h2load connections for h2
H2_STREAMS=${H2_STREAMS:-10}       # h2load -m: concurrent streams per connection for h2
RATE=${RATE:-2000}                 # fixed request rate (req/s) for the latency-at-rate workload
RATE_CONNS=${RATE_CONNS:-20}       # h2load clients sharing RATE
PROXY_CPU=${PROXY_CPU:-0}          # taskset list for the proxies and the members
LOAD_CPU=${LOAD_CPU:-1}            # taskset list for wrk / h2load / the idle-connection client
IO_DRIVER=${IO_DRIVER:-auto}       # ringlb and bench-member driver
WORKERS=${WORKERS:-1 2}            # worker counts (ringlb workers, nginx processes, HAProxy threads, httpd children)
PROXIES=${PROXIES:-}               # default: ringlb nginx haproxy apache (modjk with ajp-get) for each WORKERS, extra, direct
PROXIES_GIVEN=$PROXIES
WORKLOADS=${WORKLOADS:-get h2load close big sticky rate idle tls-get tls-handshake h2 tls-idle-rss}
# ajp-get (not in the default list: it needs tomcat10 and a few minutes) runs ringlb, httpd
# mod_proxy_ajp (apache-N) and httpd + mod_jk (modjk-N) to two Tomcat 10 over AJP13, and
# `direct` to node1's HTTP connector; the Tomcats run on TOMCAT_CPU.
TOMCAT_CPU=${TOMCAT_CPU:-}         # taskset list for the two Tomcat JVMs; default: PROXY_CPU
TOMCAT_WARMUP=${TOMCAT_WARMUP:-10s} # wrk on each Tomcat's HTTP connector before the first ajp-get
AJP_PATH=${AJP_PATH:-/small.txt}   # what ajp-get asks Tomcat for: its default servlet, 13 bytes
BASE_PORT=${BASE_PORT:-18000}
EXTRA_PROXY=${EXTRA_PROXY:-}       # "name:command with {port} {m1} {m2}" ({m1}/{m2}: member host:port)
LABEL=${LABEL:-}                   # free text put at the top of the results file
INSTALL=${INSTALL:-1}              # 0: do not apt-get install anything
UPDATE_README=${UPDATE_README:-0}  # 1: copy the summary table into README.md afterwards
RESULTS_DIR=${RESULTS_DIR:-$ROOT/perf/results}
RINGLB=${RINGLB:-}                 # a prebuilt binary; default: cargo build --release
MEMBERS=${MEMBERS:-ringlb}         # ringlb: `ringlb bench-member`; nginx: one single-process nginx each

secs() { # 10s | 2m | 500ms | 10 -> whole seconds (at least 1)
    local d=$1
    case $d in
        *ms) echo $(((${d%ms} + 999) / 1000)) ;;
        *s) echo "${d%s}" ;;
        *m) echo $((${d%m} * 60)) ;;
        *) echo "$d" ;;
    esac
}
DUR_S=$(secs "$DURATION")
[ "$DUR_S" -ge 1 ] || DUR_S=1

log() { printf '%s\n' "$*" | tee -a "$RAW" >&2; }

# ---------------------------------------------------------------- tools
install_missing() {
    local need=()
    command -v wrk >/dev/null || need+=(wrk)
    command -v h2load >/dev/null || need+=(nghttp2-client)
    command -v curl >/dev/null || need+=(curl)
    command -v openssl >/dev/null || need+=(openssl)
    [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || need+=(nginx) # a proxy, or MEMBERS=nginx
    [ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null || need+=(haproxy)
    [ -x /usr/sbin/apache2 ] || need+=(apache2)
    if [[ " $WORKLOADS " == *" ajp-get "* ]]; then
        [ -f /usr/lib/apache2/modules/mod_jk.so ] || need+=(libapache2-mod-jk)
        [ -x /usr/share/tomcat10/bin/catalina.sh ] || need+=(tomcat10)
    fi
    [ ${#need[@]} -eq 0 ] && return 0
    if [ "$INSTALL" != 1 ] || ! command -v apt-get >/dev/null; then
        echo "missing: ${need[*]} (INSTALL=0 or no apt-get); those proxies are skipped" >&2
        return 0
    fi
    echo "installing with apt: ${need[*]}" >&2
    apt-get update -q >&2
    # Keep the packages' init scripts from starting nginx/haproxy/apache2 (policy-rc.d, exit 101
    # = "action forbidden"), and put back whatever was there before.
    local policy=/usr/sbin/policy-rc.d made_policy=0 rc=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >&2 || rc=$?
    [ "$made_policy" = 1 ] && rm -f "$policy"
    # If a service got started anyway (no policy-rc.d honoured), stop it again, but only if it was
    # not running before this script (we only ever reach here for packages that were missing).
    local svc
    for svc in nginx haproxy apache2 tomcat10; do
        if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
            if systemctl is-active --quiet "$svc" 2>/dev/null; then
                echo "stopping $svc, started by its package install" >&2
                systemctl stop "$svc" || true
                systemctl disable "$svc" 2>/dev/null || true
            fi
        elif command -v service >/dev/null && [ -x "/etc/init.d/$svc" ]; then
            if service "$svc" status >/dev/null 2>&1; then
                echo "stopping $svc, started by its package install" >&2
                service "$svc" stop || true
            fi
        fi
    done
    return "$rc"
}
[ "$(id -u)" = 0 ] || [ "$INSTALL" != 1 ] || { echo "run as root to install tools, or INSTALL=0" >&2; }
[ "$(id -u)" = 0 ] && install_missing
command -v wrk >/dev/null || { echo "wrk is required" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
APACHE=/usr/sbin/apache2
APACHE_MODS=/usr/lib/apache2/modules

if [ -z "$RINGLB" ]; then
    cargo build --release --quiet
    RINGLB=${CARGO_TARGET_DIR:-$ROOT/target}/release/ringlb
fi
[ -x "$RINGLB" ] || { echo "no ringlb binary at $RINGLB" >&2; exit 1; }

# 5000 idle connections plus member connections need more than the usual 1024 descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] && NOFILE=65536
MAXCONN=$(((NOFILE - 200) / 2)) # client + member side of each proxied connection

# ---------------------------------------------------------------- bookkeeping
STAMP=$(date +%Y-%m-%d-%H%M)
mkdir -p "$RESULTS_DIR"
MD=$RESULTS_DIR/$STAMP.md
RAW=$RESULTS_DIR/$STAMP.log
TMP=$(mktemp -d /tmp/ringlb-bench.XXXXXX)
chmod 755 "$TMP"
TSV=$TMP/results.tsv
: >"$RAW"
printf 'round\tproxy\tworkload\trequests\tseconds\terrors\tp50_us\tp99_us\tp999_us\tcpu_s\thwm_kib\tnote\n' >"$TSV"
STARTED=() # PIDs this script started; stopped on exit

stop_pid() { # pid: TERM, wait up to 5 s, then KILL (only our own PIDs are ever passed here)
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do stop_pid "$pid"; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_http() { # port pid [scheme] -> waits until GET / answers 200 (10 s); https: any certificate
    local i
    for i in $(seq 100); do
        if [ "$(curl -sk -o /dev/null -m 1 -w '%{http_code}' "${3:-http}://127.0.0.1:$1/")" = 200 ]; then
            return 0
        fi
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

tree() { # pid -> pid and all its descendants
    local c
    echo "$1"
    for c in $(pgrep -P "$1" 2>/dev/null); do tree "$c"; done
}

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { # pid -> utime+stime+cutime+cstime over the process tree (all threads)
    local p total=0 s
    for p in $(tree "$1"); do
        s=$(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null) || continue
        # after "comm)": state(3) ... utime is field 14 overall = 12th here
        total=$((total + $(awk '{print $12 + $13 + $14 + $15}' <<<"$s")))
    done
    echo "$total"
}
mem_kib() { # pid field(VmHWM|VmRSS) -> sum over the process tree
    local p total=0 v
    for p in $(tree "$1"); do
        v=$(awk -v f="$2:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null) || continue
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# ---------------------------------------------------------------- members
M1=$((BASE_PORT + 1)) M2=$((BASE_PORT + 2)) B1=$((BASE_PORT + 11)) B2=$((BASE_PORT + 12))
start_member() { # port route body_bytes
    port_free "$1" || { echo "port $1 is in use; set BASE_PORT" >&2; exit 1; }
    if [ "$MEMBERS" = nginx ]; then
        start_nginx_member "$@"
    else
        taskset -c "$PROXY_CPU" "$RINGLB" bench-member --listen "127.0.0.1:$1" --route "$2" \
            --body-bytes "$3" --io-driver "$IO_DRIVER" >>"$TMP/members.log" 2>&1 &
    fi
    STARTED+=($!)
    wait_http "$1" $! || { cat "$TMP/members.log" >&2; exit 1; }
}
# MEMBERS=nginx: one single-process nginx per member, the body from a file of body_bytes bytes
# (the 13-byte one is "Hello, world!"), X-Member: route, keep-alive as long as the proxies'.
start_nginx_member() { # port route body_bytes
    local dir=$TMP/member-$1
    mkdir -p "$dir/www"
    if [ "$3" = 13 ]; then
        printf 'Hello, world!' >"$dir/www/index.html"
    else
        head -c "$3" /dev/zero | tr '\0' x >"$dir/www/index.html"
    fi
    cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
master_process off;
daemon off;
user root;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir;
    uwsgi_temp_path $dir; scgi_temp_path $dir;
    keepalive_timeout 300s;
    keepalive_requests 10000000;
    default_type text/plain;
    server {
        listen 127.0.0.1:$1 backlog=4096;
        root $dir/www;
        location / { add_header X-Member $2 always; try_files /index.html =404; }
    }
}
EOF
    taskset -c "$PROXY_CPU" "$NGINX" -c "$dir/nginx.conf" -p "$dir" >>"$TMP/members.log" 2>&1 &
}
start_member "$M1" node1 13
start_member "$M2" node2 13
start_member "$B1" node1 "$BIG_BYTES"
start_member "$B2" node2 "$BIG_BYTES"

# ---------------------------------------------------------------- TLS
# One self-signed ECDSA P-256 certificate for every proxy (the key exchange is each TLS
# library's default, X25519 for all three; the raw log's `tls=` notes show what was negotiated).
TLSDIR=$TMP/tls
mkdir -p "$TLSDIR"
if command -v openssl >/dev/null; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
        -keyout "$TLSDIR/site.key" -out "$TLSDIR/site.crt" -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >"$TLSDIR/openssl.log" 2>&1
    cat "$TLSDIR/site.crt" "$TLSDIR/site.key" >"$TLSDIR/site.pem" # HAProxy's crt: both in one file
    chmod 644 "$TLSDIR"/*
fi
TLS_MODE="" # set by start_proxy: "" plain, h1 (ALPN http/1.1), h2 (ALPN h2, http/1.1)
AJP_MODE="" # set by start_proxy: 1 for ajp-get (members are the Tomcats' AJP connectors)

is_tls_workload() { case $1 in tls-* | h2) return 0 ;; esac; return 1; }

# ringlb's config for a TLS listener: one [[listener]] with ringlb's default TLS settings but
# for alpn, the balancer and members of the plain runs, keep-alive as long as nginx's and HAProxy's.
ringlb_tls_config() { # dir port workers m1 m2
    local alpn='"http/1.1"'
    [ "$TLS_MODE" = h2 ] && alpn='"h2", "http/1.1"'
    cat >"$1/ringlb.toml" <<EOF
workers = $3
io_driver = "$IO_DRIVER"

[[listener]]
address = "127.0.0.1:$2"
cert = "$TLSDIR/site.crt"
key = "$TLSDIR/site.key"
alpn = [$alpn]

EOF
    ringlb_http_balancer "$4" "$5" >>"$1/ringlb.toml"
}

# The balancer of ringlb's plain and TLS runs, with keep-alive as long as nginx's and HAProxy's.
ringlb_http_balancer() { # m1 m2
    cat <<EOF
[timeouts]
keepalive_idle = 300

[[balancer]]
name = "cluster"
mount = "/"
stickysession = "JSESSIONID|jsessionid"

[[balancer.member]]
url = "http://127.0.0.1:$1"
route = "node1"

[[balancer.member]]
url = "http://127.0.0.1:$2"
route = "node2"
EOF
}

# ---------------------------------------------------------------- proxies
# start_<kind> dir port workers m1 m2 -> prints the PID of the started proxy (root of its tree);
# TLS_MODE says whether the listener terminates TLS.
start_ringlb() {
    if [ -n "$AJP_MODE" ]; then
        cat >"$1/ringlb.toml" <<EOF
workers = $3
io_driver = "$IO_DRIVER"
listen = ["127.0.0.1:$2"]

[timeouts]
keepalive_idle = 300

[[balancer]]
name = "cluster"
mount = "/"
stickysession = "JSESSIONID|jsessionid"

[[balancer.member]]
url = "ajp://127.0.0.1:$4"
route = "node1"
secret = "$AJP_SECRET"

[[balancer.member]]
url = "ajp://127.0.0.1:$5"
route = "node2"
secret = "$AJP_SECRET"
EOF
        taskset -c "$PROXY_CPU" "$RINGLB" run -c "$1/ringlb.toml" >"$1/ringlb.log" 2>&1 &
        echo $!
        return
    fi
    if [ -n "$TLS_MODE" ]; then
        ringlb_tls_config "$@"
        taskset -c "$PROXY_CPU" "$RINGLB" run -c "$1/ringlb.toml" >"$1/ringlb.log" 2>&1 &
        echo $!
        return
    fi
    # The members and stickiness of the TLS runs, on a plain listener.
    cat >"$1/ringlb.toml" <<EOF
workers = $3
io_driver = "$IO_DRIVER"
listen = ["127.0.0.1:$2"]

EOF
    ringlb_http_balancer "$4" "$5" >>"$1/ringlb.toml"
    taskset -c "$PROXY_CPU" "$RINGLB" run -c "$1/ringlb.toml" >"$1/ringlb.log" 2>&1 &
    echo $!
}

start_nginx() {
    local listen="listen 127.0.0.1:$2 backlog=4096;" tls=""
    if [ -n "$TLS_MODE" ]; then
        # nginx 1.22's own default ssl_protocols still includes TLSv1 and TLSv1.1: set ringlb's.
        listen="listen 127.0.0.1:$2 ssl$([ "$TLS_MODE" = h2 ] && echo ' http2') backlog=4096;"
        tls="ssl_certificate $TLSDIR/site.crt; ssl_certificate_key $TLSDIR/site.key; ssl_protocols TLSv1.2 TLSv1.3;"
    fi
    mkdir -p "$1/nginx"
    cat >"$1/nginx.conf" <<EOF
worker_processes $3;
daemon off;
master_process on;
user root;
pid $1/nginx.pid;
error_log $1/nginx-error.log warn;
worker_rlimit_nofile $NOFILE;
events { worker_connections $MAXCONN; }
http {
    access_log off;
    keepalive_timeout 300s;
    keepalive_requests 10000000;
    client_body_temp_path $1/nginx/body;
    proxy_temp_path $1/nginx/proxy;
    fastcgi_temp_path $1/nginx/fastcgi;
    uwsgi_temp_path $1/nginx/uwsgi;
    scgi_temp_path $1/nginx/scgi;
    upstream cluster { server 127.0.0.1:$4; server 127.0.0.1:$5; keepalive 64; keepalive_requests 10000000; }
    upstream node1 { server 127.0.0.1:$4; keepalive 64; keepalive_requests 10000000; }
    upstream node2 { server 127.0.0.1:$5; keepalive 64; keepalive_requests 10000000; }
    # Sticky by the Tomcat route suffix (nginx OSS has no sticky module): JSESSIONID=<id>.<route>.
    map \$cookie_JSESSIONID \$sticky_upstream { ~\.node1\$ node1; ~\.node2\$ node2; default cluster; }
    server {
        $listen
        $tls
        location / {
            proxy_pass http://\$sticky_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_max_temp_file_size 0;   # never spool large responses to disk
        }
    }
}
EOF
    taskset -c "$PROXY_CPU" "$NGINX" -p "$1/nginx" -c "$1/nginx.conf" -e "$1/nginx-error.log" \
        >"$1/nginx.log" 2>&1 &
    echo $!
}

start_haproxy() {
    local bind="bind 127.0.0.1:$2" tls_global=""
    if [ -n "$TLS_MODE" ]; then
        bind+=" ssl crt $TLSDIR/site.pem alpn $([ "$TLS_MODE" = h2 ] && echo h2,)http/1.1"
        # No server-side session cache (ringlb and nginx keep none either; tickets stay on).
        tls_global="ssl-default-bind-options ssl-min-ver TLSv1.2
    tune.ssl.cachesize 0"
    fi
    cat >"$1/haproxy.cfg" <<EOF
global
    nbthread $3
    maxconn $MAXCONN
    $tls_global
    # no log lines
defaults
    mode http
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-keep-alive 300s
    option http-keep-alive
frontend fe
    $bind
    default_backend cluster
backend cluster
    balance roundrobin
    http-reuse always
    # Sticky by the Tomcat route suffix: JSESSIONID=<id>.<route>.
    use-server node1 if { req.cook(JSESSIONID) -m end .node1 }
    use-server node2 if { req.cook(JSESSIONID) -m end .node2 }
    server node1 127.0.0.1:$4
    server node2 127.0.0.1:$5
EOF
    taskset -c "$PROXY_CPU" "$HAPROXY" -db -f "$1/haproxy.cfg" >"$1/haproxy.log" 2>&1 &
    echo $!
}

# httpd's configuration without any proxy module: event MPM, N children x 64 threads, keep-alive
# as long as the others', no access log.
apache_conf_base() { # dir port workers
    local threads=64
    cat <<EOF
ServerName localhost
Listen 127.0.0.1:$2
PidFile $1/httpd.pid
DefaultRuntimeDir $1
Mutex file:$1 default
ErrorLog $1/apache-error.log
LogLevel warn
User www-data
Group www-data
LoadModule mpm_event_module $APACHE_MODS/mod_mpm_event.so
LoadModule authz_core_module $APACHE_MODS/mod_authz_core.so
ServerLimit $3
StartServers $3
ThreadLimit $threads
ThreadsPerChild $threads
MaxRequestWorkers $(($3 * threads))
MinSpareThreads 1
MaxSpareThreads $(($3 * threads))
AsyncRequestWorkerFactor 100
MaxConnectionsPerChild 0
ListenBacklog 4096
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 300
# no access log (no CustomLog)
<Location />
    Require all granted
</Location>
EOF
}

# mod_proxy_balancer over mod_proxy_http, or (AJP_MODE) over mod_proxy_ajp with the secret.
start_apache() {
    local scheme=http params="enablereuse=on keepalive=on"
    if [ -n "$AJP_MODE" ]; then
        scheme=ajp params="secret=$AJP_SECRET"
    fi
    {
        apache_conf_base "$1" "$2" "$3"
        cat <<EOF
LoadModule slotmem_shm_module $APACHE_MODS/mod_slotmem_shm.so
LoadModule proxy_module $APACHE_MODS/mod_proxy.so
LoadModule proxy_${scheme}_module $APACHE_MODS/mod_proxy_${scheme}.so
LoadModule proxy_balancer_module $APACHE_MODS/mod_proxy_balancer.so
LoadModule lbmethod_byrequests_module $APACHE_MODS/mod_lbmethod_byrequests.so
<Proxy balancer://cluster>
    BalancerMember $scheme://127.0.0.1:$4 route=node1 $params
    BalancerMember $scheme://127.0.0.1:$5 route=node2 $params
    ProxySet lbmethod=byrequests
</Proxy>
ProxyPass / balancer://cluster/ stickysession=JSESSIONID|jsessionid
EOF
    } >"$1/httpd.conf"
    taskset -c "$PROXY_CPU" "$APACHE" -f "$1/httpd.conf" -DFOREGROUND >"$1/apache.log" 2>&1 &
    echo $!
}

# httpd + mod_jk: two ajp13 workers with the secret under a sticky lb worker (mod_jk's defaults
# otherwise: each child's connection pool as large as ThreadsPerChild), JkMount /*.
start_modjk() {
    cat >"$1/workers.properties" <<EOF
worker.list=lb
worker.node1.type=ajp13
worker.node1.host=127.0.0.1
worker.node1.port=$4
worker.node1.secret=$AJP_SECRET
worker.node1.route=node1
worker.node2.type=ajp13
worker.node2.host=127.0.0.1
worker.node2.port=$5
worker.node2.secret=$AJP_SECRET
worker.node2.route=node2
worker.lb.type=lb
worker.lb.balance_workers=node1,node2
worker.lb.sticky_session=true
EOF
    {
        apache_conf_base "$1" "$2" "$3"
        cat <<EOF
LoadModule jk_module $APACHE_MODS/mod_jk.so
JkWorkersFile $1/workers.properties
JkShmFile $1/mod_jk.shm
JkLogFile $1/mod_jk.log
JkLogLevel error
JkMount /* lb
EOF
    } >"$1/httpd.conf"
    taskset -c "$PROXY_CPU" "$APACHE" -f "$1/httpd.conf" -DFOREGROUND >"$1/apache.log" 2>&1 &
    echo $!
}

start_extra() {
    local cmd=${EXTRA_PROXY#*:}
    cmd=${cmd//\{port\}/$2}
    cmd=${cmd//\{m1\}/127.0.0.1:$4}
    cmd=${cmd//\{m2\}/127.0.0.1:$5}
    (cd "$1" && exec taskset -c "$PROXY_CPU" bash -c "exec $cmd") >"$1/extra.log" 2>&1 &
    echo $!
}

# ---------------------------------------------------------------- Tomcat (ajp-get)
# Two Tomcat 10 (scripts/tomcat-lib.sh: jvmRoute node1/node2, an AJP/1.3 connector with a
# secret and an HTTP one), full JIT, warmed on their HTTP connectors before the first
# measurement. Skipped, with ajp-get, when tomcat10 is missing.
AJ1=$((BASE_PORT + 21)) AJ2=$((BASE_PORT + 22)) TH1=$((BASE_PORT + 23)) TH2=$((BASE_PORT + 24))
AJP_SECRET=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
TOMCAT_VERSION=''
if [[ " $WORKLOADS " == *" ajp-get "* ]]; then
    # shellcheck source=scripts/tomcat-lib.sh
    source "$ROOT/scripts/tomcat-lib.sh"
    if [ -x "$CATALINA_HOME/bin/catalina.sh" ]; then
        TOMCAT_WORK=$TMP
        TOMCAT_BIG_BYTES=65536
        TOMCAT_JAVA_OPTS="-Xms256m -Xmx256m -XX:+UseSerialGC -Djava.security.egd=file:/dev/./urandom"
        for t in "node1 $TH1 $AJ1" "node2 $TH2 $AJ2"; do
            read -r route hport aport <<<"$t"
            port_free "$hport" && port_free "$aport" || { echo "port $hport or $aport is in use; set BASE_PORT" >&2; exit 1; }
            tomcat_make_base "$TMP/tomcat-$route" "$route" "$hport" "$aport" "$AJP_SECRET" || exit 1
            tomcat_start "$TMP/tomcat-$route" "$route" "${TOMCAT_CPU:-$PROXY_CPU}"
            STARTED+=("$TC_PID")
            tomcat_wait "tomcat $route" "$TC_PID" "http://127.0.0.1:$hport$AJP_PATH" 180 || exit 1
            for c in $(tomcat_children "$TC_PID"); do STARTED+=("$c"); done
        done
        TOMCAT_VERSION=$(tomcat_version "$TMP/tomcat-node1")
        for port in "$TH1" "$TH2"; do
            taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$TOMCAT_WARMUP" "http://127.0.0.1:$port$AJP_PATH" >/dev/null 2>&1 || true
        done
        # Tomcat's AJP code paths need their JIT warm-up too, or the first proxy measured pays
        # for it: one ringlb (the proxy itself does not matter here) for as long again.
        mkdir -p "$TMP/ajp-warmup"
        AJP_MODE=1 warm_pid=$(start_ringlb "$TMP/ajp-warmup" "$((BASE_PORT + 25))" 2 "$AJ1" "$AJ2")
        STARTED+=("$warm_pid")
        if wait_http "$((BASE_PORT + 25))" "$warm_pid"; then
            taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"$TOMCAT_WARMUP" \
                "http://127.0.0.1:$((BASE_PORT + 25))$AJP_PATH" >/dev/null 2>&1 || true
        fi
        stop_pid "$warm_pid"
    else
        WORKLOADS=$(tr ' ' '\n' <<<"$WORKLOADS" | grep -vx 'ajp-get' | tr '\n' ' ')
        echo "tomcat10 missing: ajp-get skipped" >&2
    fi
fi

# The proxy list: name -> kind, worker count, port.
declare -A KIND NWORK PORT
ORDER=()
add_proxy() { KIND[$1]=$2; NWORK[$1]=$3; PORT[$1]=$((BASE_PORT + 100 + ${#ORDER[@]})); ORDER+=("$1"); }
if [ -z "$PROXIES" ]; then
    kinds="ringlb nginx haproxy apache"
    [[ " $WORKLOADS " == *" ajp-get "* ]] && kinds+=" modjk"
    for kind in $kinds; do
        for w in $WORKERS; do PROXIES+=" $kind-$w"; done
    done
    [ -n "$EXTRA_PROXY" ] && PROXIES+=" ${EXTRA_PROXY%%:*}"
    PROXIES+=" direct"
fi
SKIPPED=()
for p in $PROXIES; do
    case $p in
        ringlb-*) add_proxy "$p" ringlb "${p#*-}" ;;
        nginx-*) [ -x "$NGINX" ] && add_proxy "$p" nginx "${p#*-}" || SKIPPED+=("$p (nginx not installed)") ;;
        haproxy-*) [ -x "$HAPROXY" ] && add_proxy "$p" haproxy "${p#*-}" || SKIPPED+=("$p (haproxy not installed)") ;;
        apache-*) [ -x "$APACHE" ] && add_proxy "$p" apache "${p#*-}" || SKIPPED+=("$p (apache2 not installed)") ;;
        modjk-*) [ -x "$APACHE" ] && [ -f "$APACHE_MODS/mod_jk.so" ] && add_proxy "$p" modjk "${p#*-}" ||
            SKIPPED+=("$p (apache2 or libapache2-mod-jk not installed)") ;;
        direct) add_proxy direct direct 0 ;;
        *)
            if [ -n "$EXTRA_PROXY" ] && [ "$p" = "${EXTRA_PROXY%%:*}" ]; then
                add_proxy "$p" extra 0
            else
                echo "unknown proxy $p" >&2
                exit 2
            fi
            ;;
    esac
done

# ---------------------------------------------------------------- one measurement
PROXY_PID=""
start_proxy() { # name workload -> sets PROXY_PID, TARGET (port), SCHEME, TLS_MODE;
    # 1 if it would not start, 2 if ringlb's config refuses alpn h2 (HTTP/2 not there yet)
    local name=$1 w=$2 dir m1=$M1 m2=$M2
    [ "$w" = big ] && m1=$B1 m2=$B2
    AJP_MODE=""
    if [ "$w" = ajp-get ]; then
        AJP_MODE=1 m1=$AJ1 m2=$AJ2
    fi
    TLS_MODE="" SCHEME=http
    if is_tls_workload "$w"; then
        TLS_MODE=h1 SCHEME=https
        [ "$w" = h2 ] && TLS_MODE=h2
    fi
    if [ "${KIND[$name]}" = direct ]; then
        PROXY_PID="" TARGET=$m1
        [ "$w" = sticky ] && TARGET=$m2 # the member the sticky cookie names
        [ "$w" = ajp-get ] && TARGET=$TH1 # node1's HTTP connector
        return 0
    fi
    TARGET=${PORT[$name]}
    port_free "$TARGET" || { log "port $TARGET busy; $name skipped"; return 1; }
    dir=$TMP/$name-$w
    mkdir -p "$dir"
    if [ "${KIND[$name]}" = ringlb ] && [ "$TLS_MODE" = h2 ]; then
        ringlb_tls_config "$dir" "$TARGET" "${NWORK[$name]}" "$m1" "$m2"
        if ! "$RINGLB" check -c "$dir/ringlb.toml" >"$dir/check.log" 2>&1; then
            log "$name: n/a for $w, its config check refuses alpn h2: $(tail -1 "$dir/check.log")"
            return 2
        fi
    fi
    PROXY_PID=$("start_${KIND[$name]}" "$dir" "$TARGET" "${NWORK[$name]}" "$m1" "$m2")
    STARTED+=("$PROXY_PID")
    if ! wait_http "$TARGET" "$PROXY_PID" "$SCHEME"; then
        log "$name did not start for $w:"
        cat "$dir"/*.log >>"$RAW" 2>/dev/null || true
        tail -5 "$dir"/*.log >&2 2>/dev/null || true
        stop_pid "$PROXY_PID"
        return 1
    fi
}

# Records a TSV row: round proxy workload requests seconds errors p50 p99 p999 cpu hwm note
row() { local IFS=$'\t'; printf '%s\n' "$*" >>"$TSV"; }

wrk_run() { # port extra-args... -> sets REQ SECS ERR P50 P99 P999
    local out
    out=$(taskset -c "$LOAD_CPU" wrk -t1 "$@" --latency -s "$ROOT/perf/wrk-report.lua" 2>&1) || true
    printf '%s\n' "$out" >>"$RAW"
    local r
    r=$(grep '^WRK_REPORT' <<<"$out" || true)
    [ -n "$r" ] || { REQ=0 SECS=1 ERR=-1 P50=- P99=- P999=-; return; }
    REQ=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$r")
    SECS=$(sed 's/.*duration_us=\([0-9]*\).*/\1/' <<<"$r" | awk '{printf "%.3f", $1 / 1e6}')
    ERR=$(sed 's/.*errors=\([0-9]*\).*/\1/' <<<"$r")
    P50=$(sed 's/.*p50_us=\([0-9]*\).*/\1/' <<<"$r")
    P99=$(sed 's/.*p99_us=\([0-9]*\).*/\1/' <<<"$r")
    P999=$(sed 's/.*p999_us=\([0-9]*\).*/\1/' <<<"$r")
}

h2load_run() { # url extra-args... -> sets REQ SECS ERR P50 P99 P999 (percentiles from --log-file)
    # and H2LOAD_ALPN (the protocol h2load says it negotiated, over TLS)
    local url=$1 out lf=$TMP/h2load-requests.log
    shift
    rm -f "$lf"
    out=$(taskset -c "$LOAD_CPU" h2load -t1 "$@" --log-file="$lf" "$url" 2>&1) || true
    grep -vE 'progress: |Stopp|Main benchmark|Warm-up' <<<"$out" >>"$RAW"
    H2LOAD_ALPN=$(awk -F': ' '/^Application protocol:/ {print $2}' <<<"$out")
    REQ=$(awk '/^requests:/ {print $8}' <<<"$out") # "N succeeded"
    SECS=$(awk '/^finished in/ {sub(/s,$/, "", $3); print $3}' <<<"$out")
    ERR=$(awk '/^requests:/ {print $10 + $12 + $14}' <<<"$out")
    REQ=${REQ:-0} SECS=${SECS:-1} ERR=${ERR:--1}
    read -r P50 P99 P999 < <(cut -f3 "$lf" 2>/dev/null | sort -n | awk '
        {v[NR] = $1}
        function pct(p,  i) { i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; return v[i] }
        END { if (NR == 0) print "- - -"; else print pct(50), pct(99), pct(99.9) }')
}

sticky_check() { # port -> "ok" or what went wrong
    local i got bad=0 seen=""
    # Without a cookie first: byrequests should use both members. (Sticky requests may count
    # in the round-robin bookkeeping, as in mod_jk, so they go second.)
    for i in 1 2 3 4 5 6; do
        seen+=" $(curl -s -D - -o /dev/null -m 2 "http://127.0.0.1:$1/" |
            awk -F': *' 'tolower($1) == "x-member" {gsub(/\r/, "", $2); print $2}')"
    done
    for i in 1 2 3 4 5; do
        got=$(curl -s -D - -o /dev/null -m 2 -H 'Cookie: JSESSIONID=x.node2' "http://127.0.0.1:$1/" |
            awk -F': *' 'tolower($1) == "x-member" {gsub(/\r/, "", $2); print $2}')
        [ "$got" = node2 ] || bad=$((bad + 1))
    done
    if [ "$bad" -gt 0 ]; then
        echo "FAIL: $bad/5 cookie requests missed node2"
    elif [ "$TARGET_IS_DIRECT" = 0 ] && ! { [[ $seen == *node1* ]] && [[ $seen == *node2* ]]; }; then
        echo "cookie ok; no-cookie spread:$seen"
    else
        echo ok
    fi
}

# RSS of the proxy once it settles: read each 1.5 s until two readings in a row differ by at
# most 64 KiB, for at most 12 s (a proxy may free buffers a little after its load ends). The
# spacing is longer than ringlb's once-a-second trim of its free lists, so two readings always
# straddle a trim (closer ones could both fall between two trims and call it settled).
settled_rss() { # pid -> KiB
    local prev now i
    prev=$(mem_kib "$1" VmRSS)
    for i in $(seq 8); do
        sleep 1.5
        now=$(mem_kib "$1" VmRSS)
        [ $((now - prev)) -le 64 ] && [ $((prev - now)) -le 64 ] && break
        prev=$now
    done
    echo "$now"
}

idle_run() { # port conns [--tls] -> sets NOTE with rss before/after/closed and KiB per connection
    local port=$1 n=$2 before after closed fifo=$TMP/idle.fifo opened cpid
    shift 2
    before=$(settled_rss "$PROXY_PID")
    rm -f "$fifo"
    mkfifo "$fifo"
    # stdin of the client is the fifo: it holds the connections until we close the write end.
    taskset -c "$LOAD_CPU" python3 "$ROOT/perf/idle-conns.py" "$@" 127.0.0.1 "$port" "$n" 120 \
        <"$fifo" >"$TMP/idle.out" 2>&1 &
    cpid=$!
    exec 7>"$fifo"
    for _ in $(seq 600); do
        grep -q '^OPEN' "$TMP/idle.out" && break
        kill -0 "$cpid" 2>/dev/null || break
        sleep 0.1
    done
    after=$(settled_rss "$PROXY_PID")
    opened=$(awk '/^OPEN/ {print $2}' "$TMP/idle.out")
    exec 7>&-
    wait "$cpid" 2>/dev/null || true
    # After the connections closed: how much of the growth the proxy gave back.
    closed=$(settled_rss "$PROXY_PID")
    cat "$TMP/idle.out" >>"$RAW"
    opened=${opened:-0}
    REQ=$opened SECS=0 ERR=$(awk '/^OPEN/ {print $4}' "$TMP/idle.out") P50=- P99=- P999=-
    NOTE="rss_before_kib=$before rss_after_kib=$after rss_closed_kib=$closed conns=$opened"
}

# Full TLS handshakes, one request each: HS_CLIENTS `openssl s_time -new` processes side by
# side for DUR_S seconds. s_time never resumes with -new, sends `GET / HTTP/1.0` and reads to
# the close. -> sets REQ (handshakes) SECS (wall) ERR (clients that stopped on an error)
handshake_run() { # port
    local port=$1 i pids=() t0 t1 n
    t0=$(date +%s.%N)
    for i in $(seq "$HS_CLIENTS"); do
        taskset -c "$LOAD_CPU" openssl s_time -connect "127.0.0.1:$port" -new -www / \
            -time "$DUR_S" >"$TMP/s_time.$i" 2>&1 &
        pids+=($!)
    done
    ERR=0
    for i in "${!pids[@]}"; do wait "${pids[$i]}" || ERR=$((ERR + 1)); done
    t1=$(date +%s.%N)
    REQ=0
    for i in $(seq "$HS_CLIENTS"); do
        tr -d '*' <"$TMP/s_time.$i" | grep -v '^$' >>"$RAW"
        # "N connections in X.XXs; ..." (the first such line: the -new run)
        n=$(awk '/ connections in [0-9.]+s;/ {print $1; exit}' "$TMP/s_time.$i")
        REQ=$((REQ + ${n:-0}))
    done
    SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
    P50=- P99=- P999=-
}

# What a client negotiates with the proxy: one openssl s_client handshake before the
# measurement, offering the ALPN list given.
tls_probe() { # port alpn-list -> prints tls=PROTOCOL/CIPHER/GROUP/ALPN
    local out proto group alpn
    out=$(timeout 5 openssl s_client -connect "127.0.0.1:$1" -alpn "$2" </dev/null 2>/dev/null | tr -d '\000' || true)
    proto=$(awk '/^New, / {gsub(/,/, ""); print $2 "/" $5; exit}' <<<"$out")
    group=$(awk -F'[:,] *' '/^Server Temp Key/ {print $2; exit}' <<<"$out")
    alpn=$(awk -F': ' '/^ALPN protocol/ {print $2; exit}' <<<"$out")
    printf 'tls=%s/%s/%s' "${proto:-?}" "${group:-?}" "${alpn:-none}"
}

measure() { # round name workload
    local round=$1 name=$2 w=$3 url c0 c1 cpu hwm rc=0
    TARGET_IS_DIRECT=0
    [ "${KIND[$name]}" = direct ] && TARGET_IS_DIRECT=1
    [ "$TARGET_IS_DIRECT" = 1 ] && [ "$w" = idle ] && return # no proxy to weigh
    if is_tls_workload "$w"; then
        case ${KIND[$name]} in ringlb | nginx | haproxy) ;; *) return ;; esac # TLS: these three only
    fi
    if [ "$w" = ajp-get ]; then
        case ${KIND[$name]} in ringlb | apache | modjk | direct) ;; *) return ;; esac # AJP speakers
    elif [ "${KIND[$name]}" = modjk ]; then
        return # mod_jk speaks AJP only
    fi
    start_proxy "$name" "$w" || rc=$?
    if [ "$rc" = 2 ]; then
        row "$round" "$name" "$w" 0 0 -1 - - - - - "n/a (no h2)"
        log "round $round $(printf '%-10s %-7s' "$name" "$w") n/a (no h2)"
        return
    fi
    [ "$rc" = 0 ] || { row "$round" "$name" "$w" 0 0 -1 - - - - - "did not start"; return; }
    url="$SCHEME://127.0.0.1:$TARGET/"
    [ "$w" = ajp-get ] && url="http://127.0.0.1:$TARGET$AJP_PATH"
    NOTE=""
    if [ -n "$TLS_MODE" ]; then
        NOTE=$(tls_probe "$TARGET" "$([ "$TLS_MODE" = h2 ] && echo h2,)http/1.1")
        if [ "$w" = tls-handshake ]; then # the status s_time's own request gets
            NOTE+=" status=$(printf 'GET / HTTP/1.0\r\n\r\n' |
                timeout 5 openssl s_client -quiet -connect "127.0.0.1:$TARGET" 2>/dev/null |
                awk 'NR == 1 {print $2}' || true)"
        fi
    fi
    if [ "$WARMUP" != 0 ] && [ "$w" != idle ] && [ "$w" != rate ] && [ "$w" != tls-idle-rss ]; then
        local wc=$CONNS
        [ "$w" = big ] && wc=$BIG_CONNS
        taskset -c "$LOAD_CPU" wrk -t1 -c"$wc" -d"$WARMUP" "$url" >/dev/null 2>&1 || true
    fi
    [ -n "$PROXY_PID" ] && c0=$(cpu_ticks "$PROXY_PID")
    echo "== round $round $name $w ($url)" >>"$RAW"
    case $w in
        get | ajp-get) wrk_run -c"$CONNS" -d"$DURATION" "$url" ;;
        h2load) h2load_run "$url" --h1 -c"$CONNS" -D "$DUR_S" ;;
        close) wrk_run -c"$CONNS" -d"$DURATION" -H 'Connection: close' "$url" ;;
        big) wrk_run -c"$BIG_CONNS" -d"$DURATION" "$url" ;;
        sticky)
            NOTE="sticky=$(sticky_check "$TARGET" | tr ' ' '_')"
            wrk_run -c"$CONNS" -d"$DURATION" -H 'Cookie: JSESSIONID=abc.node2' "$url"
            ;;
        rate)
            local per=$(((RATE + RATE_CONNS - 1) / RATE_CONNS))
            h2load_run "$url" --h1 -c"$RATE_CONNS" --rps="$per" -D "$DUR_S"
            NOTE="rate=$((per * RATE_CONNS))"
            ;;
        idle) idle_run "$TARGET" "$IDLE_CONNS" ;;
        tls-get) wrk_run -c"$CONNS" -d"$DURATION" "$url" ;;
        tls-handshake) handshake_run "$TARGET" ;;
        h2)
            h2load_run "$url" -c"$H2_CONNS" -m"$H2_STREAMS" -D "$DUR_S"
            [ "$H2LOAD_ALPN" = h2 ] || NOTE+=" h2load_protocol=${H2LOAD_ALPN:-none}"
            ;;
        tls-idle-rss)
            local probe=$NOTE
            idle_run "$TARGET" "$TLS_IDLE_CONNS" --tls
            NOTE="$probe $NOTE"
            ;;
    esac
    cpu=- hwm=-
    if [ -n "$PROXY_PID" ]; then
        c1=$(cpu_ticks "$PROXY_PID")
        cpu=$(awk -v a="$c0" -v b="$c1" -v t="$CLK_TCK" 'BEGIN {printf "%.2f", (b - a) / t}')
        hwm=$(mem_kib "$PROXY_PID" VmHWM)
        stop_pid "$PROXY_PID"
    fi
    row "$round" "$name" "$w" "$REQ" "$SECS" "$ERR" "$P50" "$P99" "$P999" "$cpu" "$hwm" "$NOTE"
    log "round $round $(printf '%-10s %-7s' "$name" "$w") requests=$REQ secs=$SECS errors=$ERR p50=${P50}us p99=${P99}us p99.9=${P999}us cpu=${cpu}s hwm=${hwm}KiB $NOTE"
}

# ---------------------------------------------------------------- environment
CMD_EXTRA=()
[ -n "$TOMCAT_CPU" ] && CMD_EXTRA+=(TOMCAT_CPU="$TOMCAT_CPU")
[ -n "$PROXIES_GIVEN" ] && CMD_EXTRA+=(PROXIES="$PROXIES_GIVEN")
CMDLINE="$(printf '%q ' env ROUNDS="$ROUNDS" DURATION="$DURATION" WARMUP="$WARMUP" CONNS="$CONNS" \
    BIG_CONNS="$BIG_CONNS" IDLE_CONNS="$IDLE_CONNS" TLS_IDLE_CONNS="$TLS_IDLE_CONNS" \
    HS_CLIENTS="$HS_CLIENTS" H2_CONNS="$H2_CONNS" H2_STREAMS="$H2_STREAMS" RATE="$RATE" PROXY_CPU="$PROXY_CPU" \
    LOAD_CPU="$LOAD_CPU" IO_DRIVER="$IO_DRIVER" WORKERS="$WORKERS" WORKLOADS="$WORKLOADS" \
    "${CMD_EXTRA[@]}")perf/bench.sh"
{
    echo "label: ${LABEL:-}"
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "command: $CMDLINE"
    echo "proxies: ${ORDER[*]}"
    echo "skipped: ${SKIPPED[*]:-none}"
    echo "kernel: $(uname -srm)"
    echo "cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo) x $(nproc) online"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "ringlb: $("$RINGLB" --version) (git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ', dirty')), driver $IO_DRIVER"
    echo "members: ringlb bench-member x2 (13 B body) + x2 ($BIG_BYTES B body), on cpu $PROXY_CPU"
    [ -x "$NGINX" ] && echo "nginx: $("$NGINX" -v 2>&1 | sed 's/.*: //')"
    [ -x "$HAPROXY" ] && echo "haproxy: $("$HAPROXY" -v 2>&1 | head -1)"
    [ -x "$APACHE" ] && echo "apache: $("$APACHE" -v 2>&1 | head -1 | sed 's/.*: //')"
    [ -n "$EXTRA_PROXY" ] && echo "extra: $EXTRA_PROXY"
    if [ -n "$TOMCAT_VERSION" ]; then
        echo "tomcat: $TOMCAT_VERSION x2 (node1, node2), AJP/1.3 connectors with a secret, $(java -version 2>&1 | head -1), JAVA_OPTS $TOMCAT_JAVA_OPTS, on cpu ${TOMCAT_CPU:-$PROXY_CPU}; ajp-get asks for $AJP_PATH (the default servlet, 13 bytes); warmed $TOMCAT_WARMUP on each HTTP connector"
        [ -f "$APACHE_MODS/mod_jk.so" ] && echo "mod_jk: $(dpkg-query -W -f '${Version}' libapache2-mod-jk 2>/dev/null || echo '?')"
    fi
    echo "wrk: $(wrk -v 2>&1 | head -1)"
    command -v h2load >/dev/null && echo "h2load: $(h2load --version 2>&1 | head -1)"
    echo "python: $(python3 --version 2>&1)"
    command -v openssl >/dev/null && echo "openssl: $(openssl version 2>&1)"
    echo "tls: one self-signed ECDSA P-256 certificate for all; ringlb's default TLS settings, nginx ssl_protocols TLSv1.2 TLSv1.3, HAProxy ssl-min-ver TLSv1.2 and tune.ssl.cachesize 0; TLS workloads run ringlb, nginx and HAProxy only"
    echo "handshake tool: $HS_CLIENTS x openssl s_time -new (full handshakes, no resumption, one HTTP/1.0 GET each)"
    echo "fixed-rate tool: h2load --rps (wrk2 is not packaged for Debian 12)"
    echo "load cpu: $LOAD_CPU; proxy+members cpu: $PROXY_CPU"
} >"$TMP/env.txt"
cat "$TMP/env.txt" | tee -a "$RAW" >&2

# ---------------------------------------------------------------- the run
if ! command -v h2load >/dev/null; then
    WORKLOADS=$(tr ' ' '\n' <<<"$WORKLOADS" | grep -vE '^(h2load|rate|h2)$' | tr '\n' ' ')
    log "h2load missing: h2load, rate and h2 workloads skipped"
fi
if ! command -v openssl >/dev/null; then
    WORKLOADS=$(tr ' ' '\n' <<<"$WORKLOADS" | grep -vE '^(tls-.*|h2)$' | tr '\n' ' ')
    log "openssl missing: TLS workloads skipped"
fi
for round in $(seq "$ROUNDS"); do
    for w in $WORKLOADS; do
        for name in "${ORDER[@]}"; do
            measure "$round" "$name" "$w"
        done
    done
done

cp "$TSV" "$RESULTS_DIR/$STAMP.tsv"
python3 "$ROOT/perf/bench-report.py" "$TMP/env.txt" "$TSV" >"$MD"
{ echo; echo "== results.tsv"; cat "$TSV"; } >>"$RAW"
rm -f "$RESULTS_DIR/$STAMP.tsv"
echo "results: $MD" >&2
echo "raw log: $RAW" >&2
if [ "$UPDATE_README" = 1 ]; then
    "$ROOT/perf/update-readme.sh" "$MD"
fi
