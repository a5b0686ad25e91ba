#!/usr/bin/env bash
# Real-peer check: ringlb in front of two real Apache Tomcat 10 instances (Debian/Ubuntu package
# tomcat10), jvmRoute node1 and node2, loadfactors 1 and 3, workers = 1, once per member
# protocol: over HTTP/1.1 (member url http://) and over AJP13 (member url ajp://, with the
# connector's secret). Each Tomcat has both connectors; the webapps are scripts/tomcat/.
#
#   scripts/tomcat-pair.sh                      # builds ringlb (cargo build --release)
#   RINGLB_BIN=/path/to/ringlb scripts/tomcat-pair.sh
#   PROTOCOLS=ajp scripts/tomcat-pair.sh        # member protocols to run, in order (default "http ajp")
#   RINGLB_PORT=28080 RINGLB_TLS_PORT=28443 RINGLB_ADMIN_PORT=28079 TOMCAT1_PORT=28081 \
#     TOMCAT2_PORT=28082 TOMCAT1_AJP_PORT=28091 TOMCAT2_AJP_PORT=28092 scripts/tomcat-pair.sh
#   IO_DRIVER=epoll scripts/tomcat-pair.sh      # ringlb io_driver: auto (default), io_uring, epoll
#   KEEP_WORK=1 scripts/tomcat-pair.sh          # keep the Tomcat bases, configs and logs
#
# Installs tomcat10 with apt-get when /usr/share/tomcat10/bin/catalina.sh is missing (needs root
# or sudo). Everything listens on 127.0.0.1 only. ringlb has a plain listener and a TLS
# [[listener]] (a self-signed certificate made here with openssl), balancer "tomcats" on / and
# balancer "mounted" on /mnt with target_path /app (Tomcat's /app context).
# Checks, for each protocol in PROTOCOLS (a fresh ringlb for each):
#   a) 40 new sessions spread 10/30 over node1/node2 (byrequests, loadfactor 1:3)
#   b) a session stays on its node for 100 requests by JSESSIONID cookie; its counter reaches 100
#   c) the same session by ;jsessionid=<id>.<route> in the URL for 20 more requests (count 120)
#   d) a node1 and a node2 session, interleaved by cookie, each stay on their node
#   e) the link Tomcat writes with response.encodeURL (;jsessionid=...) is followed on both nodes
#   f) /mnt -> /app: sendRedirect's Location, an absolute Location, the session cookie's Path and
#      another cookie's Path come back in /mnt terms, and the /mnt session stays on its node
#   g) a 10 MiB upload with Content-Length (and Expect: 100-continue) reaches Tomcat byte-exact
#      (the RinglbEcho servlet's length and SHA-256 against sha256sum of what curl sent)
#   h) the same upload with Transfer-Encoding: chunked
#   i) a 10 MiB download byte-exact: a static file (Content-Length) and a JSP that streams it
#      without a length (chunked to the client)
# and over AJP only:
#   j) what Tomcat reports of the client on the plain listener (facts.jsp): getRemoteAddr and
#      getRemotePort are curl's, isSecure false, scheme http, server name and port the ones
#      curl asked for, the query string as sent, JK_LB_ACTIVATION = ACT
#   k) the same over the TLS listener: isSecure true, scheme https, the TLS port, a cipher suite,
#      the TLS protocol and key size as the TLS attributes
#   l) (last: a fresh ringlb whose members have ping = "1s", retry = 1, slowstart = 0 and a CPING
#      health check every second) node1's JVM hung by SIGSTOP while ringlb holds pooled
#      connections to it: the next 20 requests (new sessions, and a node1 session by cookie)
#      all get 200 from node2, no 5xx; the health check marks node1 failed
#   m) SIGCONT: node1 passes CPING again and is back; then node1's JVM is killed with SIGKILL
#      while ringlb holds pooled connections to it: the next 40 requests all get 200 from
#      node2, no 5xx; node1 is out
# Prints one line per check and "N passed, M failed"; exits non-zero if any failed.
# Stops only the processes it started (ringlb and the two Tomcat JVMs) and removes its work dir.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/tomcat-lib.sh
source scripts/tomcat-lib.sh

PROTOCOLS=${PROTOCOLS:-http ajp}
LB_PORT=${RINGLB_PORT:-18080}
LB_TLS_PORT=${RINGLB_TLS_PORT:-18443}
ADMIN_PORT=${RINGLB_ADMIN_PORT:-18079}
TC1_PORT=${TOMCAT1_PORT:-18081}
TC2_PORT=${TOMCAT2_PORT:-18082}
AJP1_PORT=${TOMCAT1_AJP_PORT:-18091}
AJP2_PORT=${TOMCAT2_AJP_PORT:-18092}
START_TIMEOUT=${TOMCAT_START_TIMEOUT:-120}
IO_DRIVER=${IO_DRIVER:-auto}
CURL=(curl -sS --max-time 10 --noproxy '*')

script_start=$(date +%s.%N)
elapsed() { # start -> seconds since, one decimal
    awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}
die() { echo "tomcat-pair: $*" >&2; exit 1; }

for proto in $PROTOCOLS; do
    case $proto in http | ajp) ;; *) die "PROTOCOLS: unknown protocol '$proto' (http, ajp)" ;; esac
done

# --- tools ----------------------------------------------------------------------------------
tomcat_install || die "$CATALINA_HOME/bin/catalina.sh still missing"
for tool in java curl openssl sha256sum; do
    command -v $tool >/dev/null || die "$tool not found"
done

# --- ringlb ---------------------------------------------------------------------------------
if [[ -z ${RINGLB_BIN:-} ]]; then
    echo "== cargo build --release"
    cargo build --release --quiet
    RINGLB_BIN=${CARGO_TARGET_DIR:-target}/release/ringlb
fi
[[ -x $RINGLB_BIN ]] || die "ringlb binary not found: $RINGLB_BIN"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$LB_PORT" "$LB_TLS_PORT" "$ADMIN_PORT" "$TC1_PORT" "$TC2_PORT" "$AJP1_PORT" "$AJP2_PORT"; do
    if port_in_use "$p"; then die "127.0.0.1:$p is already in use"; fi
done

# --- cleanup: only what this script started -------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tomcat-pair.XXXXXX")
TOMCAT_WORK=$WORK
PIDS=()
failed_run=1
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    if [[ $failed_run -ne 0 || $rc -ne 0 ]]; then
        for f in "$WORK"/node1/logs/console.log "$WORK"/node2/logs/console.log "$WORK"/ringlb-*.log; do
            [[ -s $f ]] && { echo "--- tail $f"; tail -n 20 "$f"; }
        done
    fi
    # (-CONT first: the failover check may have stopped a JVM.)
    for pid in "${PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [[ -n ${KEEP_WORK:-} ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- two CATALINA_BASEs, each with an HTTP and an AJP connector -----------------------------
SECRET=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
tomcat_pair_start "$SECRET" "$TC1_PORT" "$AJP1_PORT" "$TC2_PORT" "$AJP2_PORT" "$START_TIMEOUT" || exit 1
BIG_SHA=$TOMCAT_BIG_SHA256

# --- TLS listener certificate and the upload body -------------------------------------------
mkdir -p "$WORK/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$WORK/tls/site.key" -out "$WORK/tls/site.crt" -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >"$WORK/tls/openssl.log" 2>&1 ||
    die "openssl could not make a certificate: $(tail -1 "$WORK/tls/openssl.log")"
UPLOAD=$WORK/upload.bin
head -c 10485760 /dev/urandom >"$UPLOAD"
UPLOAD_SHA=$(sha256sum "$UPLOAD" | cut -d' ' -f1)

# --- ringlb ---------------------------------------------------------------------------------
# ringlb_config PROTO [ping] -> $WORK/ringlb-PROTO[-ping].toml; ping: members with ping = "1s",
# a CPING health check every second and the admin listener (for the failover check).
ringlb_config() {
    local proto=$1 ping=${2:-} file p1=$TC1_PORT p2=$TC2_PORT extra='' b m
    file=$WORK/ringlb-$proto${ping:+-ping}.toml
    if [[ $proto == ajp ]]; then
        p1=$AJP1_PORT p2=$AJP2_PORT
        extra="secret = \"$SECRET\""
        [[ -n $ping ]] && extra+=$'\nping = "1s"'
    fi
    {
        cat <<EOF
workers = 1
io_driver = "$IO_DRIVER"
listen = ["127.0.0.1:$LB_PORT"]
shutdown_grace = "1s"

[[listener]]
address = "127.0.0.1:$LB_TLS_PORT"
cert = "$WORK/tls/site.crt"
key = "$WORK/tls/site.key"
alpn = ["http/1.1"]
EOF
        [[ -n $ping ]] && printf '\n[admin]\nlisten = "127.0.0.1:%s"\n' "$ADMIN_PORT"
        for b in "tomcats /" "mounted /mnt"; do
            printf '\n[[balancer]]\nname = "%s"\nmount = "%s"\nstickysession = "JSESSIONID|jsessionid"\n' ${b}
            [[ $b == mounted* ]] && echo 'target_path = "/app"'
            [[ -n $ping ]] && printf '\n[balancer.health]\nmethod = "CPING"\ninterval = "1s"\n'
            for m in "node1 $p1 1" "node2 $p2 3"; do
                set -- $m
                printf '\n[[balancer.member]]\nurl = "%s://127.0.0.1:%s"\nroute = "%s"\nloadfactor = %s\n' \
                    "$proto" "$2" "$1" "$3"
                [[ -n $extra ]] && echo "$extra"
                if [[ -n $ping ]]; then printf 'retry = 1\nslowstart = 0\n'; fi
            done
        done
    } >"$file"
    "$RINGLB_BIN" check -c "$file" >/dev/null || die "ringlb check refused $file"
    CONFIG=$file
}

LB_PID=''
start_ringlb() { # config log
    stop_ringlb
    echo "== starting ringlb (:$LB_PORT, TLS :$LB_TLS_PORT) $RINGLB_BIN -c $1"
    "$RINGLB_BIN" run -c "$1" >"$2" 2>&1 </dev/null &
    LB_PID=$!
    PIDS+=("$LB_PID")
    tomcat_wait ringlb "$LB_PID" "http://127.0.0.1:$LB_PORT/index.jsp" 20 || exit 1
    sed 's/^/ringlb log: /' "$2"
}
stop_ringlb() {
    [[ -n $LB_PID ]] || return 0
    stop_pid "$LB_PID"
    local keep=() pid
    for pid in "${PIDS[@]}"; do [[ $pid == "$LB_PID" ]] || keep+=("$pid"); done
    PIDS=("${keep[@]}")
    LB_PID=''
}

# --- checks ---------------------------------------------------------------------------------
LB=http://127.0.0.1:$LB_PORT
LB_TLS=https://127.0.0.1:$LB_TLS_PORT
RE_COOKIE='[Ss]et-[Cc]ookie: JSESSIONID=([^;[:space:]]*)'
RE_BODY='node=([^[:space:]]*) session=([^[:space:]]*) count=([0-9]+) link=([^[:space:]]*)'
# get PATH [curl args...]: one fresh curl through ringlb; sets CODE NODE SID COUNT LINK NEWCOOKIE
get() {
    local path=$1 out
    shift
    CODE='' NODE='' SID='' COUNT='' LINK='' NEWCOOKIE=''
    out=$("${CURL[@]}" -i "$@" "$LB$path" 2>&1 | tr -d '\r') || true
    [[ $out =~ ^HTTP/[0-9.]+\ ([0-9]+) ]] && CODE=${BASH_REMATCH[1]}
    [[ $out =~ $RE_COOKIE ]] && NEWCOOKIE=${BASH_REMATCH[1]}
    if [[ $out =~ $RE_BODY ]]; then
        NODE=${BASH_REMATCH[1]} SID=${BASH_REMATCH[2]} COUNT=${BASH_REMATCH[3]} LINK=${BASH_REMATCH[4]}
    fi
}
# A response is well formed when it is a 200 from the node that the session id names.
ok_resp() { [[ $CODE == 200 && -n $NODE && $SID == *."$NODE" ]]; }
# field NAME TEXT -> the value of NAME=value in TEXT (values have no spaces)
field() { if [[ $2 =~ (^|[[:space:]])$1=([^[:space:]]*) ]]; then echo "${BASH_REMATCH[2]}"; fi; }
# header NAME FILE -> every value of the response header NAME in the header dump FILE, one a line
header() { tr -d '\r' <"$2" | awk -v n="$(tr 'A-Z' 'a-z' <<<"$1")" -F': ' 'tolower($1) == n { sub(/^[^:]*: /, ""); print }'; }

passed=0 failed=0
report() { # ok|fail text
    if [[ $1 == ok ]]; then passed=$((passed + 1)); echo "PASS $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi
}

check_sessions() { # proto: checks a) to e)
    local P=$1 n1=0 n2=0 bad=0 st i n last link detail c1='' c2=''
    # a) new sessions spread 1:3. The first session on each node is kept for d) and e): sessions
    # cannot be made on demand later, because (as in Apache's mod_proxy_balancer) sticky requests
    # move the byrequests credit too, so after b) and c) put 120 requests on one node every new
    # session goes to the other one for a long while.
    SESS=() LINKS=()
    for _ in $(seq 40); do
        get /counter.jsp
        if ok_resp && [[ $COUNT == 1 && $NEWCOOKIE == "$SID" ]]; then
            [[ -z ${SESS[$NODE]:-} ]] && { SESS[$NODE]=$SID; LINKS[$NODE]=$LINK; }
            case $NODE in node1) n1=$((n1 + 1)) ;; node2) n2=$((n2 + 1)) ;; *) bad=$((bad + 1)) ;; esac
        else
            bad=$((bad + 1))
        fi
    done
    if ((n1 == 10 && n2 == 30 && bad == 0)); then st=ok; else st=fail; fi
    report $st "$P a) 40 new sessions: node1=$n1 node2=$n2 bad=$bad (want 10/30, loadfactor 1:3)"

    # b) cookie stickiness over 100 requests
    get /counter.jsp
    local B_SID=$SID B_NODE=$NODE
    bad=0 last=$COUNT
    ok_resp && [[ $COUNT == 1 ]] || bad=$((bad + 1))
    for i in $(seq 2 100); do
        get /counter.jsp -b "JSESSIONID=$B_SID"
        if ok_resp && [[ $NODE == "$B_NODE" && $SID == "$B_SID" && $COUNT == "$i" && -z $NEWCOOKIE ]]; then :; else bad=$((bad + 1)); fi
        last=$COUNT
    done
    if [[ -n $B_SID && $bad == 0 && $last == 100 ]]; then st=ok; else st=fail; fi
    report $st "$P b) cookie JSESSIONID=$B_SID: 100 requests on $B_NODE, count=$last, off-node or bad=$bad"

    # c) the same session, by ;jsessionid= in the URL, no cookie
    bad=0 last=''
    for i in $(seq 101 120); do
        get "/counter.jsp;jsessionid=$B_SID"
        if ok_resp && [[ $NODE == "$B_NODE" && $SID == "$B_SID" && $COUNT == "$i" && -z $NEWCOOKIE ]]; then :; else bad=$((bad + 1)); fi
        last=$COUNT
    done
    if [[ -n $B_SID && $bad == 0 && $last == 120 ]]; then st=ok; else st=fail; fi
    report $st "$P c) URL ;jsessionid=$B_SID: 20 requests on $B_NODE, count=$last (continued from 100), off-node or bad=$bad"

    # d) interleaved node1 and node2 sessions by cookie
    bad=0
    if [[ -n ${SESS[node1]:-} && -n ${SESS[node2]:-} ]]; then
        for i in $(seq 2 31); do
            for n in node2 node1; do
                get /counter.jsp -b "JSESSIONID=${SESS[$n]}"
                if ok_resp && [[ $NODE == "$n" && $SID == "${SESS[$n]}" && $COUNT == "$i" ]]; then :; else bad=$((bad + 1)); fi
                if [[ $n == node1 ]]; then c1=$COUNT; else c2=$COUNT; fi
            done
        done
    else
        bad=1
    fi
    if [[ $bad == 0 && $c1 == 31 && $c2 == 31 ]]; then st=ok; else st=fail; fi
    report $st "$P d) interleaved 30+30 by cookie: node1 session count=$c1, node2 session count=$c2, off-node or bad=$bad"

    # e) follow the URL Tomcat rewrote with response.encodeURL (no cookie sent), on both nodes
    bad=0 detail=''
    for n in node1 node2; do
        link=${LINKS[$n]:-}
        if [[ $link != "/counter.jsp;jsessionid=${SESS[$n]:-x}" ]]; then
            bad=$((bad + 1)); detail+=" $n:no-link($link)"; continue
        fi
        for i in $(seq 32 41); do
            get "$link"
            if ok_resp && [[ $NODE == "$n" && $SID == "${SESS[$n]}" && $COUNT == "$i" && $LINK == "$link" ]]; then :; else bad=$((bad + 1)); fi
        done
        detail+=" $n:count=$COUNT"
    done
    if [[ $bad == 0 ]]; then st=ok; else st=fail; fi
    report $st "$P e) encodeURL links followed 10x each:$detail, off-node or bad=$bad"
}

check_mount() { # proto: f)
    local P=$1 h=$WORK/mnt.h b=$WORK/mnt.b bad=() loc abs sid cookie_path sub_path node node2 sid2
    "${CURL[@]}" -D "$h" -o /dev/null "$LB/mnt/redirect.jsp" || true
    loc=$(header Location "$h")
    [[ $loc == "/mnt/session.jsp?x=1" ]] || bad+=("redirect:Location=$loc")
    "${CURL[@]}" -D "$h" -o /dev/null "$LB/mnt/absredirect.jsp" || true
    abs=$(header Location "$h")
    [[ $abs == "http://127.0.0.1:$LB_PORT/mnt/session.jsp?x=2" ]] || bad+=("absredirect:Location=$abs")
    "${CURL[@]}" -D "$h" -o "$b" "$LB/mnt/session.jsp" || true
    sid=$(header Set-Cookie "$h" | sed -n 's/^JSESSIONID=\([^;]*\).*/\1/p')
    cookie_path=$(header Set-Cookie "$h" | sed -n 's/^JSESSIONID=[^;]*;.*[Pp]ath=\([^;]*\).*/\1/p')
    sub_path=$(header Set-Cookie "$h" | sed -n 's/^sub=[^;]*;.*[Pp]ath=\([^;]*\).*/\1/p')
    node=$(field node "$(cat "$b")")
    [[ -n $sid && $sid == *."$node" ]] || bad+=("session:sid=$sid,node=$node")
    [[ $cookie_path == /mnt ]] || bad+=("JSESSIONID:Path=$cookie_path")
    [[ $sub_path == /mnt/sub ]] || bad+=("sub:Path=$sub_path")
    [[ $(field context "$(cat "$b")") == /app ]] || bad+=("context:$(field context "$(cat "$b")")")
    # the cookie the browser would send back to /mnt keeps the session on its node
    "${CURL[@]}" -D "$h" -o "$b" -b "JSESSIONID=$sid" "$LB/mnt/session.jsp" || true
    node2=$(field node "$(cat "$b")") sid2=$(field session "$(cat "$b")")
    [[ $node2 == "$node" && $sid2 == "$sid" ]] || bad+=("sticky:node=$node2,session=$sid2")
    if ((${#bad[@]} == 0)); then st=ok; else st=fail; fi
    report $st "$P f) /mnt -> /app: Location=$loc, absolute Location=$abs, JSESSIONID Path=$cookie_path, sub Path=$sub_path, session stays on $node${bad[*]:+; wrong: ${bad[*]}}"
}

check_bodies() { # proto: g) h) i)
    local P=$1 out st len sha code te t
    t=$(date +%s.%N)
    out=$("${CURL[@]}" --max-time 60 -H 'Content-Type: application/octet-stream' \
        --data-binary "@$UPLOAD" "$LB/echo/upload" -w ' code=%{http_code}' 2>&1 | head -1) || true
    len=$(field length "$out") sha=$(field sha256 "$out") code=$(field code "$out")
    if [[ $len == 10485760 && $sha == "$UPLOAD_SHA" && $(field content_length "$out") == 10485760 ]]; then st=ok; else st=fail; fi
    report $st "$P g) 10 MiB upload with Content-Length: Tomcat read length=$len sha256 ${sha:0:16}.. (sent ${UPLOAD_SHA:0:16}..) in $(elapsed "$t") s${code:+ }$([[ $st == ok ]] || echo "status=$code ${out:0:200}")"

    t=$(date +%s.%N)
    out=$("${CURL[@]}" --max-time 60 -H 'Content-Type: application/octet-stream' -H 'Transfer-Encoding: chunked' \
        --data-binary "@$UPLOAD" "$LB/echo/upload-chunked" 2>&1 | head -1) || true
    len=$(field length "$out") sha=$(field sha256 "$out") te=$(field transfer_encoding "$out")
    # Over AJP the framing is the protocol's own: Tomcat sees no Transfer-Encoding, and no length.
    if [[ $len == 10485760 && $sha == "$UPLOAD_SHA" ]]; then st=ok; else st=fail; fi
    report $st "$P h) 10 MiB upload with Transfer-Encoding: chunked: Tomcat read length=$len sha256 ${sha:0:16}.. (sent ${UPLOAD_SHA:0:16}..), its Transfer-Encoding=$te, in $(elapsed "$t") s$([[ $st == ok ]] || echo " ${out:0:200}")"

    local h=$WORK/dl.h f=$WORK/dl.bin sha_static sha_stream cl te_stream
    t=$(date +%s.%N)
    "${CURL[@]}" --max-time 60 -D "$h" -o "$f" "$LB/big.bin" || true
    sha_static=$(sha256sum "$f" | cut -d' ' -f1) cl=$(header Content-Length "$h")
    "${CURL[@]}" --max-time 60 -D "$h" -o "$f" "$LB/stream.jsp" || true
    sha_stream=$(sha256sum "$f" | cut -d' ' -f1) te_stream=$(header Transfer-Encoding "$h")
    if [[ $sha_static == "$BIG_SHA" && $cl == 10485760 && $sha_stream == "$BIG_SHA" && $te_stream == chunked ]]; then st=ok; else st=fail; fi
    report $st "$P i) 10 MiB downloads: big.bin Content-Length=$cl sha256 ${sha_static:0:16}.., stream.jsp Transfer-Encoding=$te_stream sha256 ${sha_stream:0:16}.. (file ${BIG_SHA:0:16}..), in $(elapsed "$t") s"
}

check_facts() { # j) k), AJP only
    local P=ajp out port bad=() q='a=1&b=%20x&c=%C3%A9;d'
    out=$("${CURL[@]}" -w ' local_port=%{local_port}' "$LB/facts.jsp?$q" 2>&1) || true
    port=$(field local_port "$out")
    [[ $(field remote_addr "$out") == 127.0.0.1 ]] || bad+=(remote_addr)
    [[ -n $port && $(field remote_port "$out") == "$port" ]] || bad+=(remote_port)
    [[ $(field secure "$out") == false && $(field scheme "$out") == http ]] || bad+=(secure/scheme)
    [[ $(field server_name "$out") == 127.0.0.1 && $(field server_port "$out") == "$LB_PORT" ]] || bad+=(server)
    [[ $(field query "$out") == "$q" ]] || bad+=(query)
    [[ $(field activation "$out") == ACT ]] || bad+=(activation)
    if ((${#bad[@]} == 0)); then st=ok; else st=fail; fi
    report $st "$P j) plain listener, Tomcat sees: ${out//$'\n'/ }${bad[*]:+; wrong: ${bad[*]}}"

    bad=()
    out=$("${CURL[@]}" -k -w ' local_port=%{local_port}' "$LB_TLS/facts.jsp?$q" 2>&1) || true
    port=$(field local_port "$out")
    [[ $(field remote_addr "$out") == 127.0.0.1 ]] || bad+=(remote_addr)
    [[ -n $port && $(field remote_port "$out") == "$port" ]] || bad+=(remote_port)
    [[ $(field secure "$out") == true && $(field scheme "$out") == https ]] || bad+=(secure/scheme)
    [[ $(field server_name "$out") == 127.0.0.1 && $(field server_port "$out") == "$LB_TLS_PORT" ]] || bad+=(server)
    [[ $(field query "$out") == "$q" ]] || bad+=(query)
    [[ $(field activation "$out") == ACT ]] || bad+=(activation)
    [[ $(field cipher "$out") =~ ^TLS_ ]] || bad+=(cipher)
    [[ $(field tls "$out") == TLSv1.3 ]] || bad+=(tls)
    [[ $(field key_size "$out") =~ ^[0-9]+$ ]] || bad+=(key_size)
    if ((${#bad[@]} == 0)); then st=ok; else st=fail; fi
    report $st "$P k) TLS listener, Tomcat sees: ${out//$'\n'/ }${bad[*]:+; wrong: ${bad[*]}}"
}

# node1's state in ringlb's /api/status: "up=True health={...}"
node1_state() {
    "${CURL[@]}" -o "$WORK/status.json" "http://127.0.0.1:$ADMIN_PORT/api/status" 2>/dev/null || true
    python3 - "$WORK/status.json" <<'EOF' 2>/dev/null || true
import json, sys
doc = json.load(open(sys.argv[1]))
for b in doc.get("balancers", []):
    if b.get("name") == "tomcats":
        for m in b.get("members", []):
            if m.get("route") == "node1":
                print("up=%s health=%s" % (m.get("up"), json.dumps(m.get("health"), separators=(",", ":"))))
EOF
}
wait_node1() { # up=True|up=False -> 0 once node1_state says so, within 15 s; STATE: the last seen
    local deadline=$((SECONDS + 15))
    while ((SECONDS < deadline)); do
        STATE=$(node1_state)
        [[ $STATE == *"$1"* ]] && return 0
        sleep 0.2
    done
    return 1
}
# Requests after node1 failed, new sessions and node1's session SID by cookie in turn;
# sets BAD (not a 200 from node2), FIVEXX, TOOK
after_failure() { # count sid
    local i codes=() t
    t=$(date +%s.%N)
    BAD=0
    for i in $(seq "$1"); do
        if ((i % 2)); then get /counter.jsp; else get /counter.jsp -b "JSESSIONID=$2"; fi
        codes+=("${CODE:-none}")
        [[ $CODE == 200 && $NODE == node2 ]] || BAD=$((BAD + 1))
    done
    FIVEXX=$(printf '%s\n' "${codes[@]}" | grep -c '^5' || true)
    TOOK=$(elapsed "$t")
}
# A node1 session, made while ringlb holds pooled connections to both nodes (keep-alive on the
# member side): 12 new sessions, the first on node1 kept. -> S1
node1_session() {
    local i
    S1=''
    for i in $(seq 12); do
        get /counter.jsp
        if [[ $NODE == node1 && -z $S1 ]]; then S1=$SID; fi
    done
}

check_failover() { # l) m), AJP only; stops node1, then kills it
    local P=ajp st stopped back='' hc
    # l) a hung JVM (SIGSTOP): the kernel still accepts connections, nothing answers CPING.
    if ! wait_node1 up=True; then report fail "$P l) node1 not up before the checks: $STATE"; return; fi
    node1_session
    [[ -n $S1 ]] || { report fail "$P l) no node1 session before SIGSTOP"; return; }
    kill -STOP "$TC1_PID"
    after_failure 20 "$S1"
    wait_node1 up=False || true
    stopped=$STATE
    kill -CONT "$TC1_PID"
    if ((BAD == 0 && FIVEXX == 0)) && [[ $stopped == *up=False* ]]; then st=ok; else st=fail; fi
    report $st "$P l) SIGSTOP node1 (ping 1s): 20 requests in $TOOK s, not 200 from node2: $BAD, 5xx: $FIVEXX; node1 after: $stopped"

    # m) a dead JVM (SIGKILL) while ringlb holds pooled connections to it.
    wait_node1 up=True && back=$STATE
    node1_session
    if [[ -z $back || -z $S1 ]]; then report fail "$P m) node1 not back after SIGCONT ($STATE), or no node1 session"; return; fi
    kill -KILL "$TC1_PID"
    wait "$TC1_PID" 2>/dev/null || true
    after_failure 40 "$S1"
    wait_node1 up=False || true
    hc=$(grep -c 'node1) failed its health check' "$WORK/ringlb-ajp-ping.log" || true)
    if ((BAD == 0 && FIVEXX == 0)) && [[ $STATE == *up=False* ]]; then st=ok; else st=fail; fi
    report $st "$P m) node1 back after SIGCONT ($back), then kill -9 node1: 40 requests in $TOOK s, not 200 from node2: $BAD, 5xx: $FIVEXX; node1 after: $STATE; CPING health check failures logged: $hc"
}

checks_start=$(date +%s.%N)
declare -A SESS=() LINKS=()
for proto in $PROTOCOLS; do
    proto_start=$(date +%s.%N)
    ringlb_config "$proto"
    start_ringlb "$CONFIG" "$WORK/ringlb-$proto.log"
    check_sessions "$proto"
    check_mount "$proto"
    check_bodies "$proto"
    [[ $proto == ajp ]] && check_facts
    echo "$proto checks took $(elapsed "$proto_start") s"
done
if [[ " $PROTOCOLS " == *" ajp "* ]]; then
    ringlb_config ajp ping
    start_ringlb "$CONFIG" "$WORK/ringlb-ajp-ping.log"
    check_failover
fi
stop_ringlb

echo "checks took $(elapsed "$checks_start") s; whole run $(elapsed "$script_start") s"
echo "$passed passed, $failed failed"
((failed == 0)) && failed_run=0
((failed == 0))
