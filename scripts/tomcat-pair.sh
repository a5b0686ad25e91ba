#!/usr/bin/env bash
# Real-peer check: ringlb in front of two real Apache Tomcat 10 instances (Debian/Ubuntu package
# tomcat10), jvmRoute node1 and node2, loadfactors 1 and 3, workers = 1.
#
#   scripts/tomcat-pair.sh                      # builds ringlb (cargo build --release)
#   RINGLB_BIN=/path/to/ringlb scripts/tomcat-pair.sh
#   RINGLB_PORT=28080 TOMCAT1_PORT=28081 TOMCAT2_PORT=28082 scripts/tomcat-pair.sh
#   IO_DRIVER=epoll scripts/tomcat-pair.sh      # ringlb io_driver: auto (default), io_uring, epoll
#   KEEP_WORK=1 scripts/tomcat-pair.sh          # keep the Tomcat bases and logs for inspection
#
# Installs tomcat10 with apt-get when /usr/share/tomcat10/bin/catalina.sh is missing (needs root
# or sudo). Everything listens on 127.0.0.1 only. Checks:
#   a) 40 new sessions spread 10/30 over node1/node2 (byrequests, loadfactor 1:3)
#   b) a session stays on its node for 100 requests by JSESSIONID cookie; its counter reaches 100
#   c) the same session by ;jsessionid=<id>.<route> in the URL for 20 more requests (count 120)
#   d) a node1 and a node2 session, interleaved by cookie, each stay on their node
#   e) the link Tomcat writes with response.encodeURL (;jsessionid=...) is followed on both nodes
# Prints one line per check and "N passed, M failed"; exits non-zero if any failed.
# Stops only the processes it started (ringlb and the two Tomcat JVMs) and removes its work dir.
set -euo pipefail
cd "$(dirname "$0")/.."

LB_PORT=${RINGLB_PORT:-18080}
TC1_PORT=${TOMCAT1_PORT:-18081}
TC2_PORT=${TOMCAT2_PORT:-18082}
START_TIMEOUT=${TOMCAT_START_TIMEOUT:-120}
IO_DRIVER=${IO_DRIVER:-auto}
CATALINA_HOME=/usr/share/tomcat10
CURL=(curl -sS --max-time 10 --noproxy '*')

script_start=$(date +%s.%N)
elapsed() { # start -> seconds since, one decimal
    awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}
die() { echo "tomcat-pair: $*" >&2; exit 1; }

# --- tomcat10 -------------------------------------------------------------------------------
if [[ ! -x $CATALINA_HOME/bin/catalina.sh ]]; then
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    echo "== installing tomcat10 (apt-get)"
    t=$(date +%s.%N)
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tomcat10 >/dev/null
    echo "tomcat10 installed in $(elapsed "$t") s"
fi
[[ -x $CATALINA_HOME/bin/catalina.sh ]] || die "$CATALINA_HOME/bin/catalina.sh still missing"
command -v java >/dev/null || die "java not found"
command -v curl >/dev/null || die "curl not found"
if [[ -d $CATALINA_HOME/etc ]]; then CONF_SRC=$CATALINA_HOME/etc; else CONF_SRC=/etc/tomcat10; fi

# --- ringlb ---------------------------------------------------------------------------------
if [[ -z ${RINGLB_BIN:-} ]]; then
    echo "== cargo build --release"
    cargo build --release --quiet
    RINGLB_BIN=${CARGO_TARGET_DIR:-target}/release/ringlb
fi
[[ -x $RINGLB_BIN ]] || die "ringlb binary not found: $RINGLB_BIN"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$LB_PORT" "$TC1_PORT" "$TC2_PORT"; do
    if port_in_use "$p"; then die "127.0.0.1:$p is already in use"; fi
done

# --- cleanup: only what this script started -------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tomcat-pair.XXXXXX")
PIDS=()
failed_run=1
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    if [[ $failed_run -ne 0 || $rc -ne 0 ]]; then
        for f in "$WORK"/node1/logs/console.log "$WORK"/node2/logs/console.log "$WORK"/ringlb.log; do
            [[ -s $f ]] && { echo "--- tail $f"; tail -n 20 "$f"; }
        done
    fi
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n ${KEEP_WORK:-} ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- two CATALINA_BASEs ---------------------------------------------------------------------
make_base() { # name port
    local base=$WORK/$1
    mkdir -p "$base"/{conf,logs,temp,work,webapps/ROOT/WEB-INF,webapps/ROOT/META-INF}
    for f in catalina.properties context.xml logging.properties web.xml; do
        cp "$CONF_SRC/$f" "$base/conf/"
    done
    cat >"$base/conf/server.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <Listener className="org.apache.catalina.core.JreMemoryLeakPreventionListener" />
  <Listener className="org.apache.catalina.core.ThreadLocalLeakPreventionListener" />
  <Service name="Catalina">
    <Connector protocol="HTTP/1.1" address="127.0.0.1" port="$2" connectionTimeout="20000" />
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="$1">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false" />
    </Engine>
  </Service>
</Server>
EOF
    cat >"$base/webapps/ROOT/WEB-INF/web.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="5.0" metadata-complete="true">
  <session-config>
    <session-timeout>10</session-timeout>
    <tracking-mode>COOKIE</tracking-mode>
    <tracking-mode>URL</tracking-mode>
  </session-config>
</web-app>
EOF
    # No session persistence across restarts (nothing written to work/ at shutdown).
    cat >"$base/webapps/ROOT/META-INF/context.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Context>
  <Manager pathname="" />
</Context>
EOF
    cat >"$base/webapps/ROOT/index.jsp" <<'EOF'
<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %>
ok node=<%= System.getProperty("jvm.route", "?") %>
EOF
    cat >"$base/webapps/ROOT/counter.jsp" <<'EOF'
<%@ page contentType="text/plain; charset=UTF-8" session="true" trimDirectiveWhitespaces="true" %>
<%
    Integer count = (Integer) session.getAttribute("count");
    count = (count == null) ? 1 : count + 1;
    session.setAttribute("count", count);
    String link = response.encodeURL(request.getContextPath() + "/counter.jsp");
%>
node=<%= System.getProperty("jvm.route", "?") %> session=<%= session.getId() %> count=<%= count %> link=<%= link %>
EOF
}

start_tomcat() { # name port -> pid in TC_PID
    local base=$WORK/$1
    env CATALINA_HOME="$CATALINA_HOME" CATALINA_BASE="$base" CATALINA_TMPDIR="$base/temp" \
        JAVA_OPTS="-Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Djava.security.egd=file:/dev/./urandom" \
        CATALINA_OPTS="-Djvm.route=$1" CATALINA_PID= JPDA_OPTS= \
        "$CATALINA_HOME/bin/catalina.sh" run >"$base/logs/console.log" 2>&1 </dev/null &
    TC_PID=$!
    PIDS+=("$TC_PID")
}

wait_http() { # name pid url -> 0 when url answers 200 before the deadline
    local deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        kill -0 "$2" 2>/dev/null || { echo "$1 (pid $2) exited during start" >&2; return 1; }
        if [[ $("${CURL[@]}" --max-time 3 -o /dev/null -w '%{http_code}' "$3" 2>/dev/null) == 200 ]]; then
            return 0
        fi
        sleep 0.2
    done
    echo "$1 did not answer $3 within $START_TIMEOUT s" >&2
    return 1
}

jvm_of() { # name pid -> COMM; catalina.sh run execs java, so the PID should be the JVM's
    COMM=$(cat "/proc/$2/comm" 2>/dev/null || echo '?')
    if [[ $COMM != java ]]; then
        # Not exec'd: also stop the JVM child (found by parent PID only) at cleanup.
        local child
        for child in $(ps -o pid= --ppid "$2" 2>/dev/null); do PIDS+=("$child"); done
        echo "$1: pid $2 is '$COMM', not java; also tracking its children" >&2
    fi
}

echo "== starting Tomcat node1 (:$TC1_PORT) and node2 (:$TC2_PORT) from $CATALINA_HOME, conf from $CONF_SRC"
make_base node1 "$TC1_PORT"
make_base node2 "$TC2_PORT"
tc_start=$(date +%s.%N)
start_tomcat node1 "$TC1_PORT"; TC1_PID=$TC_PID
start_tomcat node2 "$TC2_PORT"; TC2_PID=$TC_PID
wait_http node1 "$TC1_PID" "http://127.0.0.1:$TC1_PORT/index.jsp" || exit 1
t1=$(elapsed "$tc_start")
wait_http node2 "$TC2_PID" "http://127.0.0.1:$TC2_PORT/index.jsp" || exit 1
t2=$(elapsed "$tc_start")
jvm_of node1 "$TC1_PID"; comm1=$COMM
jvm_of node2 "$TC2_PID"; comm2=$COMM
echo "Tomcat node1 pid $TC1_PID ($comm1) answered after $t1 s; node2 pid $TC2_PID ($comm2) after $t2 s (started together)"
echo "Tomcat version: $(grep -m1 -o 'Server version name: *[^ ].*' "$WORK/node1/logs/console.log" | sed 's/.*: *//' || echo '?')"
# Compile counter.jsp on both now, so JSP compilation is not inside a timed request.
for port in "$TC1_PORT" "$TC2_PORT"; do
    "${CURL[@]}" --max-time 60 -o /dev/null "http://127.0.0.1:$port/counter.jsp?jsp_precompile=true"
done

# --- ringlb ---------------------------------------------------------------------------------
cat >"$WORK/ringlb.toml" <<EOF
workers = 1
io_driver = "$IO_DRIVER"
listen = ["127.0.0.1:$LB_PORT"]

[[balancer]]
name = "tomcats"
mount = "/"
stickysession = "JSESSIONID|jsessionid"

[[balancer.member]]
url = "http://127.0.0.1:$TC1_PORT"
route = "node1"
loadfactor = 1

[[balancer.member]]
url = "http://127.0.0.1:$TC2_PORT"
route = "node2"
loadfactor = 3
EOF
"$RINGLB_BIN" check -c "$WORK/ringlb.toml" >/dev/null
echo "== starting ringlb (:$LB_PORT) $RINGLB_BIN"
"$RINGLB_BIN" run -c "$WORK/ringlb.toml" >"$WORK/ringlb.log" 2>&1 </dev/null &
LB_PID=$!
PIDS+=("$LB_PID")
START_TIMEOUT=20 wait_http ringlb "$LB_PID" "http://127.0.0.1:$LB_PORT/index.jsp" || exit 1
sed 's/^/ringlb log: /' "$WORK/ringlb.log"

# --- checks ---------------------------------------------------------------------------------
LB=http://127.0.0.1:$LB_PORT
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

passed=0 failed=0
report() { # ok|fail text
    if [[ $1 == ok ]]; then passed=$((passed + 1)); echo "PASS $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi
}
checks_start=$(date +%s.%N)

# a) new sessions spread 1:3. The first session on each node is kept for d) and e): sessions
# cannot be made on demand later, because (as in Apache's mod_proxy_balancer) sticky requests
# move the byrequests credit too, so after b) and c) put 120 requests on one node every new
# session goes to the other one for a long while.
declare -A SESS=() LINKS=()
n1=0 n2=0 bad=0
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
report $st "a) 40 new sessions: node1=$n1 node2=$n2 bad=$bad (want 10/30, loadfactor 1:3)"

# b) cookie stickiness over 100 requests
get /counter.jsp
B_SID=$SID B_NODE=$NODE
bad=0 last=$COUNT
ok_resp && [[ $COUNT == 1 ]] || bad=$((bad + 1))
for i in $(seq 2 100); do
    get /counter.jsp -b "JSESSIONID=$B_SID"
    if ok_resp && [[ $NODE == "$B_NODE" && $SID == "$B_SID" && $COUNT == "$i" && -z $NEWCOOKIE ]]; then :; else bad=$((bad + 1)); fi
    last=$COUNT
done
if [[ -n $B_SID && $bad == 0 && $last == 100 ]]; then st=ok; else st=fail; fi
report $st "b) cookie JSESSIONID=$B_SID: 100 requests on $B_NODE, count=$last, off-node or bad=$bad"

# c) the same session, by ;jsessionid= in the URL, no cookie
bad=0 last=''
for i in $(seq 101 120); do
    get "/counter.jsp;jsessionid=$B_SID"
    if ok_resp && [[ $NODE == "$B_NODE" && $SID == "$B_SID" && $COUNT == "$i" && -z $NEWCOOKIE ]]; then :; else bad=$((bad + 1)); fi
    last=$COUNT
done
if [[ -n $B_SID && $bad == 0 && $last == 120 ]]; then st=ok; else st=fail; fi
report $st "c) URL ;jsessionid=$B_SID: 20 requests on $B_NODE, count=$last (continued from 100), off-node or bad=$bad"

# d) interleaved node1 and node2 sessions by cookie
bad=0 c1='' c2=''
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
report $st "d) interleaved 30+30 by cookie: node1 session count=$c1, node2 session count=$c2, off-node or bad=$bad"

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
report $st "e) encodeURL links followed 10x each:$detail, off-node or bad=$bad"

echo "checks took $(elapsed "$checks_start") s; whole run $(elapsed "$script_start") s"
echo "$passed passed, $failed failed"
((failed == 0)) && failed_run=0
((failed == 0))
