#!/usr/bin/env bash
# End to end: httpd configurations as their operators write them (scripts/import-e2e/), run by
# a real httpd (Debian apache2, libapache2-mod-jk) and, imported with `ringlb import` and no
# edits, by ringlb, in front of the same two real Apache Tomcat 10 instances (the pair of
# scripts/tomcat-pair.sh: jvmRoute node1 and node2, HTTP and AJP connectors, the webapps in
# scripts/tomcat/). The same checks go through each; passing through httpd shows the files
# are honest, passing through ringlb that the import keeps what they mean.
#
#   scripts/import-e2e.sh                       # builds ringlb (cargo build --release)
#   RINGLB_BIN=/path/to/ringlb scripts/import-e2e.sh
#   TARGETS=httpd scripts/import-e2e.sh         # httpd only; default "httpd ringlb"
#   CONFIGS=jk scripts/import-e2e.sh            # default "proxy jk"
#   LB_PORT=28280 TC1_HTTP=28281 TC2_HTTP=28282 TC1_AJP=28283 TC2_AJP=28284 scripts/import-e2e.sh
#   KEEP_WORK=1 scripts/import-e2e.sh           # keep the Tomcat bases, logs, imported TOML
#
# Configurations (ports, the AJP secret and httpd's runtime paths come from the environment,
# as ${NAME} in httpd's files and $(NAME) in mod_jk's, which is why nothing needs editing):
#   proxy  httpd-proxy.conf (+ base.conf): mod_proxy_balancer, balancer://cluster of the two
#          HTTP connectors (route node1 loadfactor 1, node2 loadfactor 3, stickysession
#          JSESSIONID|jsessionid) in the name-based vhost www.example.test (the first, so the
#          default): ProxyPass /static !, /mnt -> balancer://cluster/app with ProxyPassReverse
#          and ProxyPassReverseCookiePath, / -> the cluster, a balancer-manager Location; the
#          vhost admin.example.test: / -> node1's AJP connector alone (ajp://, secret=).
#          Targets: httpd; ringlb from `ringlb import httpd httpd-proxy.conf`.
#   jk     httpd-jk.conf (+ base.conf, workers.properties, uriworkermap.properties): mod_jk, an
#          lb worker over the two AJP connectors (ajp13 workers node1 lbfactor 1, node2
#          lbfactor 3, sticky), www.example.test with JkMountFile (/*=lb, !/static/*=lb,
#          /jkstatus) and JkUnMount /*.gif lb; admin.example.test: JkMount /* backoffice
#          (node1's connector, not balanced). Targets: httpd; ringlb from `ringlb import httpd
#          httpd-jk.conf` (the server's file alone: it names workers.properties in
#          JkWorkersFile and uriworkermap.properties in JkMountFile). Not `ringlb import
#          modjk --httpd`: that reads only the JkMount lines of the httpd file, not its
#          Listen or virtual hosts, so it is the command for a workers.properties alone.
# Checks, through each target (Host: www.example.test:PORT unless said):
#   sessions  80 new sessions (counter.jsp): all well formed, both nodes get some, node2 more
#             (loadfactor 1:3; httpd gives exactly 20/60, ringlb about that: its byrequests is
#             per worker, and the import does not choose the workers)
#   cookie    the first node1 and node2 sessions, 10 requests each by JSESSIONID cookie (5 in a
#             row each, then 5 each interleaved): each stays on its node, its counter goes on
#   url       the same sessions by ;jsessionid=<id>.<route> in the URL, no cookie, 10 each
#   excluded  /static/logo.txt (and, jk, /images/logo.gif), which both Tomcats serve, are 404
#             through the target and never reach Tomcat; /small.txt still does
#   context   proxy: /mnt/session.jsp reaches Tomcat's /app context, its JSESSIONID cookie has
#             Path=/mnt, the session stays on its node by that cookie, and an absolute Location
#             naming the member comes back as http://www.example.test:PORT/mnt/...;
#             jk: /app/session.jsp reaches /app, Path=/app, the session sticks
#   vhost     Host: admin.example.test: 10 new sessions, all on node1, and /static/logo.txt is
#             proxied there (200: not excluded in that vhost); a Host no vhost names gets the
#             first vhost (/static/logo.txt 404 again)
#   post      a 1 MiB POST body with Content-Length and the same chunked reach Tomcat byte-exact
#             (RinglbEcho's length and SHA-256)
# Prints PASS/FAIL per check per target, a table, "N passed, M failed"; exits non-zero if any
# failed (a target that does not start, or an import that is refused, fails all its checks).
#
# Needs: tomcat10, apache2, libapache2-mod-jk (installed with apt-get when missing; root or
# sudo; apache2's service is not started), curl, java. Loopback only, on free ports; httpd runs
# in the foreground from these files with its own runtime dir, never as the system service.
# Stops only what it started (the two JVMs, httpd, ringlb) and removes its work dir.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/tomcat-lib.sh
source scripts/tomcat-lib.sh

CONF_DIR=$PWD/scripts/import-e2e
TARGETS=${TARGETS:-httpd ringlb}
CONFIGS=${CONFIGS:-proxy jk}
START_TIMEOUT=${TOMCAT_START_TIMEOUT:-120}
APACHE=/usr/sbin/apache2
APACHE_MODS=/usr/lib/apache2/modules
TOMCAT_BIG_BYTES=1048576
CURL=(curl -sS --max-time 10 --noproxy '*')
WWW=www.example.test
ADMIN=admin.example.test

script_start=$SECONDS
die() { echo "import-e2e: $*" >&2; exit 1; }

for t in $TARGETS; do
    case $t in httpd | ringlb) ;; *) die "TARGETS: unknown target '$t' (httpd, ringlb)" ;; esac
done
for c in $CONFIGS; do
    case $c in proxy | jk) ;; *) die "CONFIGS: unknown configuration '$c' (proxy, jk)" ;; esac
done

# --- tools ----------------------------------------------------------------------------------
tomcat_install || die "$CATALINA_HOME/bin/catalina.sh still missing"
if [[ ! -x $APACHE || ! -f $APACHE_MODS/mod_proxy_balancer.so || ! -f $APACHE_MODS/mod_jk.so ]]; then
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    echo "== installing apache2 libapache2-mod-jk (apt-get; apache2's service is not started)"
    # policy-rc.d exit 101: the packages' scripts must not start the system service.
    made_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${sudo[@]}" chmod +x /usr/sbin/policy-rc.d
        made_policy=1
    fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        apache2 libapache2-mod-jk >/dev/null || true
    [[ $made_policy == 1 ]] && "${sudo[@]}" rm -f /usr/sbin/policy-rc.d
fi
[[ -x $APACHE && -f $APACHE_MODS/mod_proxy_balancer.so ]] || die "apache2 with mod_proxy_balancer is missing"
[[ -f $APACHE_MODS/mod_jk.so ]] || die "mod_jk ($APACHE_MODS/mod_jk.so, libapache2-mod-jk) is missing"
for tool in java curl sha256sum; do command -v $tool >/dev/null || die "$tool not found"; done

if [[ " $TARGETS " == *" ringlb "* ]]; then
    if [[ -z ${RINGLB_BIN:-} ]]; then
        echo "== cargo build --release"
        cargo build --release --quiet
        RINGLB_BIN=${CARGO_TARGET_DIR:-target}/release/ringlb
    fi
    [[ -x $RINGLB_BIN ]] || die "ringlb binary not found: $RINGLB_BIN"
fi

# --- ports: free ones on 127.0.0.1 unless given ---------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
TAKEN=' '
free_port() { # -> a port nobody listens on and not handed out yet, below Linux's ephemeral range
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 12000))
        [[ $TAKEN == *" $p "* ]] && continue
        port_in_use "$p" && continue
        TAKEN+="$p "
        echo "$p"
        return 0
    done
    echo "import-e2e: no free port found in 20000..31999" >&2
    return 1
}
for v in LB_PORT TC1_HTTP TC2_HTTP TC1_AJP TC2_AJP; do
    if [[ -n ${!v:-} ]]; then
        port_in_use "${!v}" && die "$v: 127.0.0.1:${!v} is already in use"
        TAKEN+="${!v} "
    else
        printf -v "$v" '%s' "$(free_port)"
        [[ -n ${!v} ]] || exit 1
        TAKEN+="${!v} "
    fi
done
AJP_SECRET=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
export LB_PORT TC1_HTTP TC2_HTTP TC1_AJP TC2_AJP AJP_SECRET

# --- cleanup: only what this script started -------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/import-e2e.XXXXXX")
chmod 755 "$WORK" # httpd's children (www-data when run as root) use its runtime dir
TOMCAT_WORK=$WORK
PIDS=()
ok_run=0 table=0
cleanup() {
    local rc=$? pid f
    trap - EXIT INT TERM
    # (A target's failure is told where it happens; Tomcat's logs only when the run broke off.)
    if [[ $ok_run -ne 1 && $table -ne 1 ]]; then
        for f in "$WORK"/node1/logs/console.log "$WORK"/node2/logs/console.log; do
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

# --- the Tomcats ----------------------------------------------------------------------------
tomcat_pair_start "$AJP_SECRET" "$TC1_HTTP" "$TC1_AJP" "$TC2_HTTP" "$TC2_AJP" "$START_TIMEOUT" || exit 1
# What the exclusions keep from Tomcat: both nodes serve these, so a 200 through a target
# would mean it forwarded an excluded path.
for n in node1 node2; do
    mkdir -p "$WORK/$n/webapps/ROOT/static" "$WORK/$n/webapps/ROOT/images"
    echo "tomcat static $n" >"$WORK/$n/webapps/ROOT/static/logo.txt"
    echo "tomcat image $n" >"$WORK/$n/webapps/ROOT/images/logo.gif"
done
for p in "$TC1_HTTP" "$TC2_HTTP"; do
    for f in static/logo.txt images/logo.gif; do
        [[ $("${CURL[@]}" "http://127.0.0.1:$p/$f" 2>&1) == "tomcat "* ]] || die "Tomcat :$p does not serve /$f"
    done
done
UPLOAD=$WORK/upload.bin
head -c 1048576 /dev/urandom >"$UPLOAD"
UPLOAD_SHA=$(sha256sum "$UPLOAD" | cut -d' ' -f1)

# --- targets --------------------------------------------------------------------------------
# Debian's /etc/apache2/envvars, pointed into the work dir (fresh for every target run).
httpd_env() { # NAME -> exports APACHE_* for a run called NAME
    export APACHE_RUN_DIR=$WORK/$1/run APACHE_LOCK_DIR=$WORK/$1/lock APACHE_LOG_DIR=$WORK/$1/log
    export APACHE_PID_FILE=$APACHE_RUN_DIR/apache2.pid
    if [[ $(id -u) -eq 0 ]]; then
        export APACHE_RUN_USER=www-data APACHE_RUN_GROUP=www-data
    else
        APACHE_RUN_USER=$(id -un) APACHE_RUN_GROUP=$(id -gn)
        export APACHE_RUN_USER APACHE_RUN_GROUP
    fi
    mkdir -p "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR" "$APACHE_LOG_DIR"
    chmod 755 "$WORK/$1"
    if [[ $(id -u) -eq 0 ]]; then
        chown "$APACHE_RUN_USER:$APACHE_RUN_GROUP" "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR" "$APACHE_LOG_DIR"
    fi
}

SERVER_PID='' START_ERROR=''
# start_target CONFIG TARGET: TARGET is httpd or ringlb-httpd (import httpd). 0 once it
# answers /index.jsp; else 1 with START_ERROR saying why.
start_target() {
    local c=$1 t=$2 run=$1-$2 conf=$CONF_DIR/httpd-$1.conf toml log
    SERVER_PID='' START_ERROR=''
    httpd_env "$run"
    log=$WORK/$run/console.log
    case $t in
    httpd)
        if ! "$APACHE" -d "$CONF_DIR" -f "$conf" -t >"$WORK/$run/configtest.log" 2>&1; then
            START_ERROR="apache2 -t refused $conf: $(tr '\n' ' ' <"$WORK/$run/configtest.log")"
            return 1
        fi
        echo "== $run: $APACHE -d $CONF_DIR -f $conf -DFOREGROUND"
        "$APACHE" -d "$CONF_DIR" -f "$conf" -DFOREGROUND >"$log" 2>&1 </dev/null &
        ;;
    ringlb-*)
        toml=$WORK/$run/ringlb.toml
        local import=("$RINGLB_BIN" import httpd "$conf" --server-root "$CONF_DIR")
        echo "== $run: ${import[*]#"$PWD/"}"
        if ! "${import[@]}" >"$toml" 2>"$WORK/$run/import-report.txt"; then
            START_ERROR="import refused: $(tail -n 3 "$WORK/$run/import-report.txt" | tr '\n' ' ')"
            return 1
        fi
        sed 's/^/  report: /' "$WORK/$run/import-report.txt"
        sed 's/^/  toml: /' "$toml"
        if ! "$RINGLB_BIN" check -c "$toml" >"$WORK/$run/check.log" 2>&1; then
            START_ERROR="ringlb check refused the import: $(tr '\n' ' ' <"$WORK/$run/check.log")"
            return 1
        fi
        echo "== $run: $RINGLB_BIN run -c $toml"
        "$RINGLB_BIN" run -c "$toml" >"$log" 2>&1 </dev/null &
        ;;
    esac
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    if ! tomcat_wait "$run" "$SERVER_PID" "http://127.0.0.1:$LB_PORT/index.jsp" 20 2>"$WORK/$run/wait.log"; then
        START_ERROR="$(cat "$WORK/$run/wait.log"); log: $(tail -n 5 "$log" "$APACHE_LOG_DIR/error.log" 2>/dev/null | tr '\n' ' ')"
        stop_target
        return 1
    fi
}
stop_target() { # stops SERVER_PID and waits until LB_PORT is free again
    [[ -n $SERVER_PID ]] || return 0
    stop_pid "$SERVER_PID"
    local keep=() pid
    for pid in "${PIDS[@]}"; do [[ $pid == "$SERVER_PID" ]] || keep+=("$pid"); done
    PIDS=("${keep[@]}")
    SERVER_PID=''
    for _ in $(seq 100); do port_in_use "$LB_PORT" || return 0; sleep 0.1; done
    die "127.0.0.1:$LB_PORT still taken after stopping the target"
}

# --- checks ---------------------------------------------------------------------------------
LB=http://127.0.0.1:$LB_PORT
RE_COOKIE='[Ss]et-[Cc]ookie: JSESSIONID=([^;[:space:]]*)'
RE_BODY='node=([^[:space:]]*) session=([^[:space:]]*) count=([0-9]+) link=([^[:space:]]*)'
# get HOST PATH [curl args...]: one fresh connection; sets CODE NODE SID COUNT LINK NEWCOOKIE BODY
get() {
    local host=$1 path=$2 out
    shift 2
    CODE='' NODE='' SID='' COUNT='' LINK='' NEWCOOKIE='' BODY=''
    out=$("${CURL[@]}" -i -H "Host: $host:$LB_PORT" "$@" "$LB$path" 2>&1 | tr -d '\r') || true
    [[ $out =~ ^HTTP/[0-9.]+\ ([0-9]+) ]] && CODE=${BASH_REMATCH[1]}
    [[ $out =~ $RE_COOKIE ]] && NEWCOOKIE=${BASH_REMATCH[1]}
    if [[ $out =~ $RE_BODY ]]; then
        NODE=${BASH_REMATCH[1]} SID=${BASH_REMATCH[2]} COUNT=${BASH_REMATCH[3]} LINK=${BASH_REMATCH[4]}
    fi
    BODY=${out#*$'\n\n'}
}
# A response is well formed when it is a 200 from the node that the session id names.
ok_resp() { [[ $CODE == 200 && -n $NODE && $SID == *."$NODE" ]]; }
field() { if [[ $2 =~ (^|[[:space:]])$1=([^[:space:]]*) ]]; then echo "${BASH_REMATCH[2]}"; fi; }
header() { tr -d '\r' <"$2" | awk -v n="$(tr 'A-Z' 'a-z' <<<"$1")" -F': ' 'tolower($1) == n { sub(/^[^:]*: /, ""); print }'; }

passed=0 failed=0
declare -A RESULT=()
CHECKS=(sessions cookie url excluded context vhost post)
RUNS=()
report() { # ok|fail CONFIG TARGET CHECK text
    local st=PASS
    if [[ $1 == ok ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); st=FAIL; fi
    RESULT[$2/$3/$4]=$st
    echo "$st $2 $3 $4: $5"
}

declare -A SESS=()
check_sessions() { # C T
    local n1=0 n2=0 bad=0 st
    SESS=()
    for _ in $(seq 80); do
        get $WWW /counter.jsp
        if ok_resp && [[ $COUNT == 1 && $NEWCOOKIE == "$SID" ]]; then
            [[ -z ${SESS[$NODE]:-} ]] && SESS[$NODE]=$SID
            case $NODE in node1) n1=$((n1 + 1)) ;; node2) n2=$((n2 + 1)) ;; *) bad=$((bad + 1)) ;; esac
        else
            bad=$((bad + 1))
        fi
    done
    if ((bad == 0 && n1 > 0 && n2 > n1)); then st=ok; else st=fail; fi
    report $st "$1" "$2" sessions "80 new sessions: node1=$n1 node2=$n2 bad=$bad (want both, node2 more: loadfactor 1:3)"
}

check_sticky() { # C T cookie|url: the sessions of check_sessions, 10 requests each
    local how=$3 bad=0 n st detail=''
    if [[ -z ${SESS[node1]:-} || -z ${SESS[node2]:-} ]]; then
        report fail "$1" "$2" "$how" "no node1 and node2 session from the sessions check"
        return
    fi
    # 5 in a row each (which no rotation of new requests can match), then 5 each interleaved.
    declare -A i=([node1]=0 [node2]=0)
    for n in node1 node1 node1 node1 node1 node2 node2 node2 node2 node2 $(printf 'node2 node1 %.0s' 1 2 3 4 5); do
        i[$n]=$((i[$n] + 1))
        if [[ $how == cookie ]]; then
            get $WWW /counter.jsp -b "JSESSIONID=${SESS[$n]}"
        else
            get $WWW "/counter.jsp;jsessionid=${SESS[$n]}"
        fi
        if ok_resp && [[ $NODE == "$n" && $SID == "${SESS[$n]}" && -z $NEWCOOKIE && $COUNT == "$((BASE[$n] + i[$n]))" ]]; then :; else
            bad=$((bad + 1))
        fi
        LAST[$n]=$COUNT
    done
    for n in node1 node2; do
        detail+=" $n:${SESS[$n]} count ${BASE[$n]}->${LAST[$n]}"
        BASE[$n]=$((BASE[$n] + 10))
    done
    if ((bad == 0)); then st=ok; else st=fail; fi
    report $st "$1" "$2" "$how" "10 requests each by $([[ $how == cookie ]] && echo JSESSIONID cookie || echo ';jsessionid= URL'):$detail, off-node or bad=$bad"
}

check_excluded() { # C T
    local bad=() st p paths=(/static/logo.txt) detail=''
    [[ $1 == jk ]] && paths+=(/images/logo.gif)
    for p in "${paths[@]}"; do
        get $WWW "$p"
        detail+=" $p:$CODE"
        [[ $CODE == 404 && $BODY != *"tomcat "* ]] || bad+=("$p:$CODE")
    done
    get $WWW /small.txt
    detail+=" /small.txt:$CODE"
    [[ $CODE == 200 && $BODY == "hello, world" ]] || bad+=("/small.txt:$CODE")
    if ((${#bad[@]} == 0)); then st=ok; else st=fail; fi
    report $st "$1" "$2" excluded "${detail# }${bad[*]:+; wrong: ${bad[*]}}"
}

check_context() { # C T
    local h=$WORK/ctx.h b=$WORK/ctx.b bad=() st mnt=/mnt ctx sid cpath node node2 sid2 loc='' want=''
    [[ $1 == jk ]] && mnt=/app
    "${CURL[@]}" -H "Host: $WWW:$LB_PORT" -D "$h" -o "$b" "$LB$mnt/session.jsp" || true
    ctx=$(field context "$(cat "$b")") node=$(field node "$(cat "$b")")
    sid=$(header Set-Cookie "$h" | sed -n 's/^JSESSIONID=\([^;]*\).*/\1/p')
    cpath=$(header Set-Cookie "$h" | sed -n 's/^JSESSIONID=[^;]*;.*[Pp]ath=\([^;]*\).*/\1/p')
    [[ $ctx == /app ]] || bad+=("context:$ctx")
    [[ -n $sid && $sid == *."$node" ]] || bad+=("session:sid=$sid,node=$node")
    [[ $cpath == "$mnt" ]] || bad+=("JSESSIONID:Path=$cpath")
    for _ in 1 2 3 4 5; do
        "${CURL[@]}" -H "Host: $WWW:$LB_PORT" -o "$b" -b "JSESSIONID=$sid" "$LB$mnt/session.jsp" || true
        node2=$(field node "$(cat "$b")") sid2=$(field session "$(cat "$b")")
        [[ $node2 == "$node" && $sid2 == "$sid" ]] || { bad+=("sticky:node=$node2,session=$sid2"); break; }
    done
    if [[ $1 == proxy ]]; then
        # Tomcat names itself as httpd (and ringlb) asked it: the member's address.
        "${CURL[@]}" -H "Host: $WWW:$LB_PORT" -D "$h" -o /dev/null "$LB/mnt/absredirect.jsp" || true
        loc=$(header Location "$h") want="http://$WWW:$LB_PORT/mnt/session.jsp?x=2"
        [[ $loc == "$want" ]] || bad+=("Location=$loc")
    fi
    if ((${#bad[@]} == 0)); then st=ok; else st=fail; fi
    report $st "$1" "$2" context "$mnt/session.jsp: context=$ctx, JSESSIONID Path=$cpath, 5 more by cookie on $node${loc:+, absolute Location=$loc}${bad[*]:+; wrong: ${bad[*]}}"
}

check_vhost() { # C T
    local bad=() st n1=0 other=0 code_admin code_default
    for _ in $(seq 10); do
        get $ADMIN /counter.jsp
        if ok_resp && [[ $NODE == node1 && $COUNT == 1 ]]; then n1=$((n1 + 1)); else other=$((other + 1)); fi
    done
    ((n1 == 10)) || bad+=("admin:node1=$n1,other=$other")
    get $ADMIN /static/logo.txt
    code_admin=$CODE
    [[ $CODE == 200 && $BODY == "tomcat static node1" ]] || bad+=("admin:/static/logo.txt=$CODE")
    get unknown.example.test /static/logo.txt
    code_default=$CODE
    [[ $CODE == 404 && $BODY != *"tomcat "* ]] || bad+=("unknown-host:/static/logo.txt=$CODE")
    if ((${#bad[@]} == 0)); then st=ok; else st=fail; fi
    report $st "$1" "$2" vhost "Host $ADMIN: $n1/10 new sessions on node1, /static/logo.txt $code_admin; Host unknown.example.test (the default vhost): /static/logo.txt $code_default${bad[*]:+; wrong: ${bad[*]}}"
}

check_post() { # C T
    local out1 out2 bad=() st
    out1=$("${CURL[@]}" --max-time 30 -H "Host: $WWW:$LB_PORT" -H 'Content-Type: application/octet-stream' \
        --data-binary "@$UPLOAD" "$LB/echo/upload" 2>&1 | head -1) || true
    [[ $(field length "$out1") == 1048576 && $(field sha256 "$out1") == "$UPLOAD_SHA" ]] || bad+=("content-length:${out1:0:160}")
    out2=$("${CURL[@]}" --max-time 30 -H "Host: $WWW:$LB_PORT" -H 'Content-Type: application/octet-stream' \
        -H 'Transfer-Encoding: chunked' --data-binary "@$UPLOAD" "$LB/echo/upload-chunked" 2>&1 | head -1) || true
    [[ $(field length "$out2") == 1048576 && $(field sha256 "$out2") == "$UPLOAD_SHA" ]] || bad+=("chunked:${out2:0:160}")
    if ((${#bad[@]} == 0)); then st=ok; else st=fail; fi
    report $st "$1" "$2" post "1 MiB by Content-Length: length=$(field length "$out1") sha256 $(field sha256 "$out1" | cut -c1-16).. on $(field node "$out1"); chunked: length=$(field length "$out2") sha256 $(field sha256 "$out2" | cut -c1-16).. on $(field node "$out2") (sent ${UPLOAD_SHA:0:16}..)${bad[*]:+; wrong: ${bad[*]}}"
}

declare -A BASE=() LAST=() # per node: the kept session's count before a sticky check, the last seen
run_checks() { # C T
    local t0=$SECONDS
    check_sessions "$1" "$2"
    BASE=([node1]=1 [node2]=1) LAST=()
    check_sticky "$1" "$2" cookie
    check_sticky "$1" "$2" url
    check_excluded "$1" "$2"
    check_context "$1" "$2"
    check_vhost "$1" "$2"
    check_post "$1" "$2"
    echo "$1 $2: checks took $((SECONDS - t0)) s"
}

echo "== ports: LB_PORT=$LB_PORT TC1_HTTP=$TC1_HTTP TC2_HTTP=$TC2_HTTP TC1_AJP=$TC1_AJP TC2_AJP=$TC2_AJP"
echo "httpd: $("$APACHE" -v | head -1 | sed 's/.*: //'), mod_jk: $(dpkg-query -W -f '${Version}' libapache2-mod-jk 2>/dev/null || echo '?')${RINGLB_BIN:+, ringlb: $("$RINGLB_BIN" --version 2>/dev/null || echo '?')}"
for c in $CONFIGS; do
    targets=()
    for t in $TARGETS; do
        if [[ $t == httpd ]]; then targets+=(httpd); else targets+=(ringlb-httpd); fi
    done
    for t in "${targets[@]}"; do
        RUNS+=("$c/$t")
        if start_target "$c" "$t"; then
            run_checks "$c" "$t"
            stop_target
        else
            echo "$c $t: did not start: $START_ERROR"
            for chk in "${CHECKS[@]}"; do report fail "$c" "$t" "$chk" "not run: $c $t did not start"; done
        fi
    done
done

# --- the table ------------------------------------------------------------------------------
table=1
echo
printf '%-10s' check
for r in "${RUNS[@]}"; do printf ' %-18s' "$r"; done
echo
for chk in "${CHECKS[@]}"; do
    printf '%-10s' "$chk"
    for r in "${RUNS[@]}"; do printf ' %-18s' "${RESULT[${r%%/*}/${r#*/}/$chk]:--}"; done
    echo
done
echo "whole run $((SECONDS - script_start)) s"
echo "$passed passed, $failed failed"
((failed == 0)) && ok_run=1
((failed == 0))
