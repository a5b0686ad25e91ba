#!/usr/bin/env bash
# Real-peer check of replication domains: ringlb in front of three real Apache Tomcat 10 JVMs
# (Debian/Ubuntu package tomcat10). node1 and node2 are one Tomcat cluster (SimpleTcpCluster,
# DeltaManager, static membership over NioReceivers on 127.0.0.1, ReplicationValve) and one
# ringlb `domain = "east"`; node3 is a standalone Tomcat with no domain and loadfactor 10, so
# plain balancing would send a moved session there (and lose it).
#
#   scripts/tomcat-cluster.sh                   # builds ringlb (cargo build --release)
#   RINGLB_BIN=/path/to/ringlb scripts/tomcat-cluster.sh
#   RINGLB_PORT=28090 TOMCAT_PORT_BASE=28090 TRIBES_PORT_BASE=24000 scripts/tomcat-cluster.sh
#   IO_DRIVER=epoll scripts/tomcat-cluster.sh   # ringlb io_driver: auto (default), io_uring, epoll
#   KEEP_WORK=1 scripts/tomcat-cluster.sh       # keep the Tomcat bases and logs for inspection
#
# Installs tomcat10 with apt-get when /usr/share/tomcat10/bin/catalina.sh is missing (needs root
# or sudo). Everything listens on 127.0.0.1 only (no multicast: membership is static). Checks:
#   a) a new session is balanced to node1 or node2 (node3 takes most new sessions, 10:1:1: the
#      ones before it)
#   b) it stays on its node for 10 requests by JSESSIONID cookie; its counter reaches 10
#   c) the cluster peer holds the replicated session with count 10 (polled directly, deadline)
#   d) after kill -9 of the session's JVM, 20 requests through ringlb: all 200, all served by
#      the peer (never node3), the same session id, the counter going on 11..30
# Prints the request transcript, one line per check and "N passed, M failed"; exits non-zero if
# any failed. Stops only the processes it started (ringlb and the three JVMs), by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/tomcat-lib.sh
source scripts/tomcat-lib.sh # stop_pid

LB_PORT=${RINGLB_PORT:-18090}
TC_BASE=${TOMCAT_PORT_BASE:-18090} # node N listens on TC_BASE + N
TRIBES_BASE=${TRIBES_PORT_BASE:-14000} # node N's cluster receiver on TRIBES_BASE + N
START_TIMEOUT=${TOMCAT_START_TIMEOUT:-120}
REPLICATION_TIMEOUT=${REPLICATION_TIMEOUT:-30}
IO_DRIVER=${IO_DRIVER:-auto}
CATALINA_HOME=/usr/share/tomcat10
CURL=(curl -sS --max-time 10 --noproxy '*')

script_start=$(date +%s.%N)
elapsed() { # start -> seconds since, one decimal
    awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}
die() { echo "tomcat-cluster: $*" >&2; exit 1; }

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
[[ -f $CATALINA_HOME/lib/catalina-ha.jar ]] || die "$CATALINA_HOME/lib/catalina-ha.jar missing (clustering)"
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

http_port() { echo $((TC_BASE + $1)); }
tribes_port() { echo $((TRIBES_BASE + $1)); }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$LB_PORT" "$(http_port 1)" "$(http_port 2)" "$(http_port 3)" "$(tribes_port 1)" "$(tribes_port 2)"; do
    if port_in_use "$p"; then die "127.0.0.1:$p is already in use"; fi
done

# --- cleanup: only what this script started -------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tomcat-cluster.XXXXXX")
declare -A PID_OF=() # name -> pid of each process this script started and has not reaped
failed_run=1
cleanup() {
    local rc=$? name pid
    trap - EXIT INT TERM
    if [[ $failed_run -ne 0 || $rc -ne 0 ]]; then
        for f in "$WORK"/node{1,2,3}/logs/console.log "$WORK"/ringlb.log; do
            [[ -s $f ]] && { echo "--- tail $f"; tail -n 30 "$f"; }
        done
    fi
    for pid in "${PID_OF[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PID_OF[@]}"; do stop_pid "$pid"; done
    if [[ -n ${KEEP_WORK:-} ]]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- three CATALINA_BASEs -------------------------------------------------------------------
# The <Cluster> of node N (1 or 2) in the two-node cluster: its receiver on tribes_port N, the
# other node as its one static member. uniqueIds: 16 bytes, node N's is {N,N,...}, and each
# node names itself as LocalMember with the id its peer expects. channelStartOptions="3" starts
# only the sender and the receiver, not the multicast membership service.
cluster_xml() { # n
    local n=$1 peer=$((3 - $1))
    local me_id peer_id
    me_id="{$(printf "$n,%.0s" $(seq 15))$n}"
    peer_id="{$(printf "$peer,%.0s" $(seq 15))$peer}"
    cat <<EOF
    <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster"
               channelSendOptions="6" channelStartOptions="3">
        <Manager className="org.apache.catalina.ha.session.DeltaManager"
                 expireSessionsOnShutdown="false" notifyListenersOnReplication="true"
                 stateTransferTimeout="10" />
        <Channel className="org.apache.catalina.tribes.group.GroupChannel">
          <Receiver className="org.apache.catalina.tribes.transport.nio.NioReceiver"
                    address="127.0.0.1" port="$(tribes_port "$n")"
                    selectorTimeout="100" maxThreads="6" />
          <Sender className="org.apache.catalina.tribes.transport.ReplicationTransmitter">
            <Transport className="org.apache.catalina.tribes.transport.nio.PooledParallelSender" />
          </Sender>
          <Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpPingInterceptor" />
          <Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector" />
          <Interceptor className="org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor" />
          <Interceptor className="org.apache.catalina.tribes.group.interceptors.StaticMembershipInterceptor">
            <LocalMember className="org.apache.catalina.tribes.membership.StaticMember"
                         uniqueId="$me_id" />
            <Member className="org.apache.catalina.tribes.membership.StaticMember"
                    host="127.0.0.1" port="$(tribes_port "$peer")" uniqueId="$peer_id" />
          </Interceptor>
        </Channel>
        <Valve className="org.apache.catalina.ha.tcp.ReplicationValve" filter="" />
        <ClusterListener className="org.apache.catalina.ha.session.ClusterSessionListener" />
      </Cluster>
EOF
}

make_base() { # n clustered(0|1)
    local name=node$1 base=$WORK/node$1 cluster=''
    mkdir -p "$base"/{conf,logs,temp,work,webapps/ROOT/WEB-INF,webapps/ROOT/META-INF}
    for f in catalina.properties context.xml logging.properties web.xml; do
        cp "$CONF_SRC/$f" "$base/conf/"
    done
    [[ $2 == 1 ]] && cluster=$(cluster_xml "$1")
    cat >"$base/conf/server.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <Listener className="org.apache.catalina.core.JreMemoryLeakPreventionListener" />
  <Listener className="org.apache.catalina.core.ThreadLocalLeakPreventionListener" />
  <Service name="Catalina">
    <Connector protocol="HTTP/1.1" address="127.0.0.1" port="$(http_port "$1")" connectionTimeout="20000" />
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="$name">
$cluster
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false" />
    </Engine>
  </Service>
</Server>
EOF
    cat >"$base/webapps/ROOT/WEB-INF/web.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="5.0" metadata-complete="true">
  <distributable/>
  <session-config>
    <session-timeout>10</session-timeout>
    <tracking-mode>COOKIE</tracking-mode>
  </session-config>
</web-app>
EOF
    # node3: no session persistence across restarts (nothing written to work/ at shutdown).
    # node1 and node2: no <Manager> here, or it would replace the cluster's DeltaManager.
    local manager='<Manager pathname="" />'
    [[ $2 == 1 ]] && manager=''
    cat >"$base/webapps/ROOT/META-INF/context.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Context>
  $manager
</Context>
EOF
    cat >"$base/webapps/ROOT/index.jsp" <<'EOF'
<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %>
ok node=<%= System.getProperty("jvm.route", "?") %>
EOF
    # A new Integer set on every request: DeltaManager replicates each change.
    cat >"$base/webapps/ROOT/counter.jsp" <<'EOF'
<%@ page contentType="text/plain; charset=UTF-8" session="true" trimDirectiveWhitespaces="true" %>
<%
    Integer count = (Integer) session.getAttribute("count");
    count = (count == null) ? 1 : count + 1;
    session.setAttribute("count", count);
%>
node=<%= System.getProperty("jvm.route", "?") %> session=<%= session.getId() %> count=<%= count %>
EOF
    # Reads the session without creating or changing one.
    cat >"$base/webapps/ROOT/peek.jsp" <<'EOF'
<%@ page contentType="text/plain; charset=UTF-8" session="false" trimDirectiveWhitespaces="true" %>
<%
    jakarta.servlet.http.HttpSession s = request.getSession(false);
    Object count = (s == null) ? "none" : s.getAttribute("count");
%>
node=<%= System.getProperty("jvm.route", "?") %> count=<%= count %>
EOF
}

start_tomcat() { # n
    local name=node$1 base=$WORK/node$1
    env CATALINA_HOME="$CATALINA_HOME" CATALINA_BASE="$base" CATALINA_TMPDIR="$base/temp" \
        JAVA_OPTS="-Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Djava.security.egd=file:/dev/./urandom" \
        CATALINA_OPTS="-Djvm.route=$name" CATALINA_PID= JPDA_OPTS= \
        "$CATALINA_HOME/bin/catalina.sh" run >"$base/logs/console.log" 2>&1 </dev/null &
    PID_OF[$name]=$!
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

is_jvm() { # name pid: catalina.sh run execs java, so the PID must be the JVM's (kill -9 below)
    local comm
    comm=$(cat "/proc/$2/comm" 2>/dev/null || echo '?')
    [[ $comm == java ]] || die "$1: pid $2 is '$comm', not the JVM"
}

echo "== starting Tomcat node1, node2 (cluster, receivers :$(tribes_port 1) :$(tribes_port 2)) and node3 (standalone) from $CATALINA_HOME"
for n in 1 2 3; do make_base "$n" $((n < 3 ? 1 : 0)); done
tc_start=$(date +%s.%N)
# node1 first: a cluster node that starts asks its peer for the sessions it holds and waits
# for the answer (stateTransferTimeout) when the peer is starting too; node1 alone finds no
# peer, and node2 then gets node1's answer at once.
start_tomcat 1
wait_http node1 "${PID_OF[node1]}" "http://127.0.0.1:$(http_port 1)/index.jsp" || exit 1
t1=$(elapsed "$tc_start")
start_tomcat 2
start_tomcat 3
for n in 1 2 3; do
    wait_http "node$n" "${PID_OF[node$n]}" "http://127.0.0.1:$(http_port "$n")/index.jsp" || exit 1
    is_jvm "node$n" "${PID_OF[node$n]}"
done
echo "Tomcat node1 :$(http_port 1) pid ${PID_OF[node1]}, node2 :$(http_port 2) pid ${PID_OF[node2]}, node3 :$(http_port 3) pid ${PID_OF[node3]}: answered after $t1 s (node1) and $(elapsed "$tc_start") s (all)"
echo "Tomcat version: $(grep -m1 -o 'Server version name: *[^ ].*' "$WORK/node1/logs/console.log" | sed 's/.*: *//' || echo '?')"
for n in 1 2; do
    grep -q 'DeltaManager' "$WORK/node$n/logs/console.log" || die "node$n: no DeltaManager in its log: the cluster did not start"
done
# Compile the JSPs on every node now, so compilation is not inside a checked request.
for n in 1 2 3; do
    for jsp in counter peek; do
        "${CURL[@]}" --max-time 60 -o /dev/null "http://127.0.0.1:$(http_port "$n")/$jsp.jsp?jsp_precompile=true"
    done
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
url = "http://127.0.0.1:$(http_port 1)"
route = "node1"
domain = "east"
loadfactor = 1

[[balancer.member]]
url = "http://127.0.0.1:$(http_port 2)"
route = "node2"
domain = "east"
loadfactor = 1

[[balancer.member]]
url = "http://127.0.0.1:$(http_port 3)"
route = "node3"
loadfactor = 10
EOF
"$RINGLB_BIN" check -c "$WORK/ringlb.toml" >/dev/null
echo "== starting ringlb (:$LB_PORT) $RINGLB_BIN"
"$RINGLB_BIN" run -c "$WORK/ringlb.toml" >"$WORK/ringlb.log" 2>&1 </dev/null &
PID_OF[ringlb]=$!
START_TIMEOUT=20 wait_http ringlb "${PID_OF[ringlb]}" "http://127.0.0.1:$LB_PORT/index.jsp" || exit 1

# --- checks ---------------------------------------------------------------------------------
LB=http://127.0.0.1:$LB_PORT
RE_COOKIE='[Ss]et-[Cc]ookie: JSESSIONID=([^;[:space:]]*)'
RE_BODY='node=([^[:space:]]*) session=([^[:space:]]*) count=([0-9]+)'
# get URL [curl args...]: one fresh curl; sets CODE NODE SID COUNT NEWCOOKIE
get() {
    local url=$1 out
    shift
    CODE='' NODE='' SID='' COUNT='' NEWCOOKIE=''
    out=$("${CURL[@]}" -i "$@" "$url" 2>&1 | tr -d '\r') || true
    [[ $out =~ ^HTTP/[0-9.]+\ ([0-9]+) ]] && CODE=${BASH_REMATCH[1]}
    [[ $out =~ $RE_COOKIE ]] && NEWCOOKIE=${BASH_REMATCH[1]}
    if [[ $out =~ $RE_BODY ]]; then
        NODE=${BASH_REMATCH[1]} SID=${BASH_REMATCH[2]} COUNT=${BASH_REMATCH[3]}
    fi
}
transcript() { # label: one line for the request just made
    printf '  %-26s -> status=%s node=%s count=%s session=%s\n' "$1" "${CODE:-none}" "${NODE:--}" "${COUNT:--}" "${SID:--}"
}

passed=0 failed=0
report() { # ok|fail text
    if [[ $1 == ok ]]; then passed=$((passed + 1)); echo "PASS $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi
}
checks_start=$(date +%s.%N)
echo "== transcript (request -> status, serving node, session counter)"

# a) a new session on node1 or node2; node3 (loadfactor 10) takes most new ones
S_SID='' S_NODE='' tries=0 on3=0
while [[ -z $S_SID ]] && ((tries < 24)); do
    tries=$((tries + 1))
    get "$LB/counter.jsp"
    transcript "new session $tries"
    if [[ $CODE == 200 && $COUNT == 1 && $NEWCOOKIE == "$SID" && $SID == *."$NODE" ]]; then
        case $NODE in
            node1 | node2) S_SID=$SID S_NODE=$NODE ;;
            node3) on3=$((on3 + 1)) ;;
        esac
    fi
done
if [[ -n $S_SID ]] && ((on3 == tries - 1 && on3 >= 1)); then st=ok; else st=fail; fi
report $st "a) new session $S_SID on ${S_NODE:-none} after $tries tries (node3 took $on3 before it)"
PEER=node1
[[ $S_NODE == node1 ]] && PEER=node2

# b) 9 more requests by cookie on the session's node: count 10
bad=0
for i in $(seq 2 10); do
    get "$LB/counter.jsp" -b "JSESSIONID=$S_SID"
    transcript "session request $i"
    [[ $CODE == 200 && $NODE == "$S_NODE" && $SID == "$S_SID" && $COUNT == "$i" && -z $NEWCOOKIE ]] || bad=$((bad + 1))
done
if [[ -n $S_SID && $bad == 0 && $COUNT == 10 ]]; then st=ok; else st=fail; fi
report $st "b) 10 requests by cookie on $S_NODE, count=$COUNT, off-node or bad=$bad"

# c) the peer holds the replica with count 10 (read directly, the session left as it is)
rep_start=$(date +%s.%N) seen='' deadline=$((SECONDS + REPLICATION_TIMEOUT))
while ((SECONDS < deadline)); do
    seen=$("${CURL[@]}" -b "JSESSIONID=$S_SID" "http://127.0.0.1:$(http_port "${PEER#node}")/peek.jsp" 2>/dev/null | tr -d '\r\n') || true
    [[ $seen == "node=$PEER count=10" ]] && break
    sleep 0.2
done
if [[ $seen == "node=$PEER count=10" ]]; then st=ok; else st=fail; fi
report $st "c) $PEER holds the replicated session: '$seen' after $(elapsed "$rep_start") s (direct read, deadline $REPLICATION_TIMEOUT s)"

# d) kill -9 the session's JVM; the next 20 requests land on its domain peer, counter 11..30
victim=${PID_OF[$S_NODE]:-}
kill -KILL "$victim"
wait "$victim" 2>/dev/null || true
unset "PID_OF[$S_NODE]"
port_in_use "$(http_port "${S_NODE#node}")" && die "$S_NODE still answers after kill -9"
echo "  -- kill -9 $S_NODE (pid $victim) --"
bad=0 on_peer=0 on_other=0 non200=0 first='' last=''
for i in $(seq 11 30); do
    get "$LB/counter.jsp" -b "JSESSIONID=$S_SID"
    transcript "after kill, request $i"
    [[ $CODE == 200 ]] || non200=$((non200 + 1))
    if [[ $NODE == "$PEER" ]]; then on_peer=$((on_peer + 1)); else on_other=$((on_other + 1)); fi
    [[ $CODE == 200 && $NODE == "$PEER" && $SID == "$S_SID" && $COUNT == "$i" ]] || bad=$((bad + 1))
    [[ -z $first ]] && first=$COUNT
    last=$COUNT
done
if [[ $bad == 0 && $non200 == 0 && $on_peer == 20 ]]; then st=ok; else st=fail; fi
report $st "d) after kill -9 of $S_NODE: 20 requests, $on_peer on $PEER, $on_other elsewhere, non-200=$non200, count $first..$last (want 11..30), bad=$bad"

echo "checks took $(elapsed "$checks_start") s; whole run $(elapsed "$script_start") s"
echo "$passed passed, $failed failed"
((failed == 0)) && failed_run=0
((failed == 0))
