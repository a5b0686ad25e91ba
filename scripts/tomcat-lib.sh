# Shared by the real-Tomcat scripts (scripts/tomcat-pair.sh, scripts/ajp-differential.sh,
# scripts/import-e2e.sh, perf/bench.sh's ajp-get workload): sourced, not run. Makes Apache Tomcat 10 instances (Debian
# package tomcat10) from the webapp sources in scripts/tomcat/, each with its own CATALINA_BASE,
# an HTTP/1.1 connector and an AJP/1.3 connector (secret required), both on 127.0.0.1 only.
#
# Functions (all set -u safe; none stops anything: the caller tracks and stops the PIDs):
#   tomcat_install                    apt-get install tomcat10 when catalina.sh is missing
#   tomcat_make_base BASE ROUTE HTTP_PORT AJP_PORT SECRET [PACKET_SIZE]
#   tomcat_start BASE ROUTE [CPUS]    catalina.sh run (under taskset -c CPUS when given) -> TC_PID
#   tomcat_wait NAME PID URL TIMEOUT  0 once URL answers 200 before TIMEOUT seconds
#   tomcat_pair_start SECRET HTTP1 AJP1 HTTP2 AJP2 TIMEOUT
#                                     node1 and node2 made, started together and answering;
#                                     their PIDs added to the caller's PIDS -> TC1_PID TC2_PID
#   tomcat_children PID               the PIDs to stop besides PID when PID is not the JVM itself
#   tomcat_version BASE               the "Server version name" Tomcat logged
#   stop_pid PID                      TERM, up to 10 s, then KILL, and reap (a PID this shell started)
#
# Webapps in every base: ROOT (scripts/tomcat/ROOT/*.jsp, the RinglbEcho servlet on /echo/*,
# big.bin: TOMCAT_BIG_BYTES random bytes, the same file in every base, its SHA-256 in
# $TOMCAT_BIG_SHA256, small.txt: 13 bytes) and app (scripts/tomcat/app/*.jsp, the context /app).
# Set TOMCAT_WORK (a directory the caller removes) before the first tomcat_make_base.

TOMCAT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CATALINA_HOME=${CATALINA_HOME:-/usr/share/tomcat10}
TOMCAT_BIG_BYTES=${TOMCAT_BIG_BYTES:-10485760}
TOMCAT_JAVA_OPTS=${TOMCAT_JAVA_OPTS:--Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Djava.security.egd=file:/dev/./urandom}
TOMCAT_BIG_SHA256=''
# Tomcat's JSP compiler (Eclipse JDT, a dependency of libtomcat10-java) also compiles the servlet.
TOMCAT_ECJ=${TOMCAT_ECJ:-/usr/share/java/eclipse-jdt-core.jar}

tomcat_install() {
    [[ -x $CATALINA_HOME/bin/catalina.sh ]] && return 0
    local sudo=() t
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    echo "== installing tomcat10 (apt-get)"
    t=$SECONDS
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tomcat10 >/dev/null
    echo "tomcat10 installed in $((SECONDS - t)) s"
    [[ -x $CATALINA_HOME/bin/catalina.sh ]]
}

# The configuration Tomcat's package ships: $CATALINA_HOME/etc on Debian, else /etc/tomcat10.
tomcat_conf_src() {
    if [[ -d $CATALINA_HOME/etc ]]; then echo "$CATALINA_HOME/etc"; else echo /etc/tomcat10; fi
}

# Compiles RinglbEcho once per TOMCAT_WORK and makes big.bin; both are copied into every base.
tomcat_shared_files() {
    local shared=$TOMCAT_WORK/tomcat-shared
    [[ -s $shared/RinglbEcho.class && -s $shared/big.bin ]] && return 0
    mkdir -p "$shared"
    java -cp "$TOMCAT_ECJ" org.eclipse.jdt.internal.compiler.batch.Main -17 -proc:none -nowarn \
        -cp "$CATALINA_HOME/lib/servlet-api.jar" -d "$shared" "$TOMCAT_LIB_DIR/tomcat/RinglbEcho.java" \
        >"$shared/ecj.log" 2>&1 || { cat "$shared/ecj.log" >&2; return 1; }
    head -c "$TOMCAT_BIG_BYTES" /dev/urandom >"$shared/big.bin"
}

tomcat_make_base() { # BASE ROUTE HTTP_PORT AJP_PORT SECRET [PACKET_SIZE]
    local base=$1 route=$2 http_port=$3 ajp_port=$4 secret=$5 packet=${6:-8192} f conf_src
    conf_src=$(tomcat_conf_src)
    tomcat_shared_files || return 1
    TOMCAT_BIG_SHA256=$(sha256sum "$TOMCAT_WORK/tomcat-shared/big.bin" | cut -d' ' -f1)
    mkdir -p "$base"/{conf,logs,temp,work}
    for f in catalina.properties context.xml logging.properties web.xml; do
        cp "$conf_src/$f" "$base/conf/"
    done
    cat >"$base/conf/server.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <Listener className="org.apache.catalina.core.JreMemoryLeakPreventionListener" />
  <Listener className="org.apache.catalina.core.ThreadLocalLeakPreventionListener" />
  <Service name="Catalina">
    <Connector protocol="HTTP/1.1" address="127.0.0.1" port="$http_port" connectionTimeout="20000" />
    <Connector protocol="AJP/1.3" address="127.0.0.1" port="$ajp_port" secret="$secret"
               secretRequired="true" packetSize="$packet" />
    <Engine name="Catalina" defaultHost="localhost" jvmRoute="$route">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false" />
    </Engine>
  </Service>
</Server>
EOF
    local app servlet
    for app in ROOT app; do
        mkdir -p "$base/webapps/$app/WEB-INF" "$base/webapps/$app/META-INF"
        cp "$TOMCAT_LIB_DIR/tomcat/$app/"*.jsp "$base/webapps/$app/"
        servlet=''
        if [[ $app == ROOT ]]; then
            mkdir -p "$base/webapps/ROOT/WEB-INF/classes"
            cp "$TOMCAT_WORK/tomcat-shared/RinglbEcho.class" "$base/webapps/ROOT/WEB-INF/classes/"
            ln "$TOMCAT_WORK/tomcat-shared/big.bin" "$base/webapps/ROOT/big.bin" 2>/dev/null ||
                cp "$TOMCAT_WORK/tomcat-shared/big.bin" "$base/webapps/ROOT/big.bin"
            printf 'hello, world\n' >"$base/webapps/ROOT/small.txt"
            servlet='  <servlet><servlet-name>echo</servlet-name><servlet-class>RinglbEcho</servlet-class></servlet>
  <servlet-mapping><servlet-name>echo</servlet-name><url-pattern>/echo/*</url-pattern></servlet-mapping>'
        fi
        cat >"$base/webapps/$app/WEB-INF/web.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="5.0" metadata-complete="true">
$servlet
  <session-config>
    <session-timeout>10</session-timeout>
    <tracking-mode>COOKIE</tracking-mode>
    <tracking-mode>URL</tracking-mode>
  </session-config>
</web-app>
EOF
        # No session persistence across restarts (nothing written to work/ at shutdown).
        cat >"$base/webapps/$app/META-INF/context.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Context>
  <Manager pathname="" />
</Context>
EOF
    done
}

tomcat_start() { # BASE ROUTE [CPUS] -> TC_PID
    local base=$1 pin=()
    [[ -n ${3:-} ]] && pin=(taskset -c "$3")
    env CATALINA_HOME="$CATALINA_HOME" CATALINA_BASE="$base" CATALINA_TMPDIR="$base/temp" \
        JAVA_OPTS="$TOMCAT_JAVA_OPTS" CATALINA_OPTS="-Djvm.route=$2" CATALINA_PID= JPDA_OPTS= \
        "${pin[@]}" "$CATALINA_HOME/bin/catalina.sh" run >"$base/logs/console.log" 2>&1 </dev/null &
    TC_PID=$!
}

tomcat_wait() { # NAME PID URL TIMEOUT
    local deadline=$((SECONDS + $4))
    while ((SECONDS < deadline)); do
        kill -0 "$2" 2>/dev/null || { echo "$1 (pid $2) exited during start" >&2; return 1; }
        if [[ $(curl -sS --noproxy '*' --max-time 3 -o /dev/null -w '%{http_code}' "$3" 2>/dev/null) == 200 ]]; then
            return 0
        fi
        sleep 0.2
    done
    echo "$1 did not answer $3 within $4 s" >&2
    return 1
}

# catalina.sh run execs java, so PID should be the JVM's; if not, its children (by parent PID
# only) must be stopped too.
tomcat_children() { # PID
    [[ $(cat "/proc/$1/comm" 2>/dev/null) == java ]] && return 0
    ps -o pid= --ppid "$1" 2>/dev/null || true
}

# The two-node pair of scripts/tomcat-pair.sh and scripts/import-e2e.sh: $TOMCAT_WORK/node1 and
# node2 (jvmRoute node1 and node2, the same SECRET), started together, both waited for up to
# TIMEOUT s. Every PID is added to the caller's array PIDS as soon as it exists (so the caller's
# cleanup stops it whatever fails next); TC1_PID and TC2_PID are the two JVMs. Then the JSPs
# the checks time (ROOT's counter, facts, stream; app's session, redirect, absredirect) are
# compiled on both, so no compilation falls inside a timed request. Prints the start times;
# 1 (after saying why on stderr) if a base cannot be made or a Tomcat does not answer.
tomcat_pair_start() { # SECRET HTTP1 AJP1 HTTP2 AJP2 TIMEOUT -> TC1_PID TC2_PID, PIDS+=
    local secret=$1 http1=$2 ajp1=$3 http2=$4 ajp2=$5 timeout=$6 start t1 t2 pid child port jsp
    echo "== starting Tomcat node1 (http :$http1, ajp :$ajp1) and node2 (http :$http2, ajp :$ajp2) from $CATALINA_HOME, conf from $(tomcat_conf_src)"
    tomcat_make_base "$TOMCAT_WORK/node1" node1 "$http1" "$ajp1" "$secret" || { echo "could not make node1" >&2; return 1; }
    tomcat_make_base "$TOMCAT_WORK/node2" node2 "$http2" "$ajp2" "$secret" || { echo "could not make node2" >&2; return 1; }
    start=$(date +%s.%N)
    tomcat_start "$TOMCAT_WORK/node1" node1; TC1_PID=$TC_PID; PIDS+=("$TC1_PID")
    tomcat_start "$TOMCAT_WORK/node2" node2; TC2_PID=$TC_PID; PIDS+=("$TC2_PID")
    tomcat_wait node1 "$TC1_PID" "http://127.0.0.1:$http1/index.jsp" "$timeout" || return 1
    t1=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    tomcat_wait node2 "$TC2_PID" "http://127.0.0.1:$http2/index.jsp" "$timeout" || return 1
    t2=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    for pid in "$TC1_PID" "$TC2_PID"; do
        for child in $(tomcat_children "$pid"); do
            echo "pid $pid is not java; also tracking its child $child" >&2
            PIDS+=("$child")
        done
    done
    echo "Tomcat node1 pid $TC1_PID answered after $t1 s; node2 pid $TC2_PID after $t2 s (started together)"
    echo "Tomcat version: $(tomcat_version "$TOMCAT_WORK/node1")"
    for port in "$http1" "$http2"; do
        for jsp in counter facts stream; do
            curl -sS --noproxy '*' --max-time 60 -o /dev/null "http://127.0.0.1:$port/$jsp.jsp?jsp_precompile=true"
        done
        for jsp in session redirect absredirect; do
            curl -sS --noproxy '*' --max-time 60 -o /dev/null "http://127.0.0.1:$port/app/$jsp.jsp?jsp_precompile=true"
        done
    done
}

tomcat_version() { # BASE
    grep -m1 -o 'Server version name: *[^ ].*' "$1/logs/console.log" 2>/dev/null | sed 's/.*: *//' || echo '?'
}

stop_pid() { # PID: TERM, up to 10 s, then KILL
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
