#!/usr/bin/env bash
# The classic Tomcat pre-deploy drain through mod_jk's status worker, run against ringlb:
# disable the member (vwa=D), wait until it is idle (cmd=show mime=prop, busy=0), deploy,
# activate it again (vwa=A). Checks, while it is drained, that new sessionless requests go only
# to the other member and that sticky ones (JSESSIONID=....n1) still reach it.
#
#   scripts/jkstatus-drain.sh     $RINGLB (default target/debug/ringlb), two `ringlb bench-member`s,
#                                 127.0.0.1 ports picked here
#
# Builds nothing. Every process it starts is stopped by PID on exit; every wait has a deadline.
set -euo pipefail

RINGLB=${RINGLB:-target/debug/ringlb}
# shellcheck source=scripts/lib/processes.sh
. "$(dirname "$0")/lib/processes.sh"

p1=$(free_port); p2=$(free_port); proxy_port=$(free_port); admin_port=$(free_port)
"$RINGLB" bench-member --listen "127.0.0.1:$p1" --route n1 >"$work/n1.log" 2>&1 & pids+=($!)
"$RINGLB" bench-member --listen "127.0.0.1:$p2" --route n2 >"$work/n2.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$p1/" "$work/n1.log"
wait_http "http://127.0.0.1:$p2/" "$work/n2.log"
cat >"$work/ringlb.toml" <<EOF
listen = ["127.0.0.1:$proxy_port"]
workers = 1

[admin]
listen = "127.0.0.1:$admin_port"
allow = ["127.0.0.1/32"]

[[balancer]]
name = "lb"
mount = "/"
stickysession = "JSESSIONID|jsessionid"

[[balancer.member]]
url = "http://127.0.0.1:$p1"
route = "n1"

[[balancer.member]]
url = "http://127.0.0.1:$p2"
route = "n2"
EOF
"$RINGLB" run -c "$work/ringlb.toml" >"$work/ringlb.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$admin_port/jkstatus?cmd=version" "$work/ringlb.log"

# ---- the drain script, as written for mod_jk ----
JK="http://127.0.0.1:$admin_port/jkstatus"
LB=lb
NODE=n1
jk() { curl -fsS --max-time 5 "$JK?$1"; }
member_of() { # a request's answering member (bench-member's X-Member header)
    curl -sS --max-time 5 -o /dev/null -D - "$@" "http://127.0.0.1:$proxy_port/" \
        | tr -d '\r' | sed -n 's/^[Xx]-[Mm]ember: //p'
}

echo "\$ curl '$JK?cmd=list&mime=prop' | grep -E 'balance_workers|activation'"
jk "cmd=list&mime=prop" | grep -E 'balance_workers|activation'
jk "cmd=list&mime=prop" | grep -qx "worker.$LB.balance_workers=$NODE" || fail "$NODE is not a member of $LB"

echo "\$ curl '$JK?cmd=update&mime=prop&w=$LB&sw=$NODE&vwa=D'"
out=$(jk "cmd=update&mime=prop&w=$LB&sw=$NODE&vwa=D")
echo "$out"
echo "$out" | grep -qx 'worker.result.type=OK' || fail "update refused"

for i in $(seq 50); do
    busy=$(jk "cmd=show&mime=prop&w=$LB&sw=$NODE" | sed -n "s/^worker\.$NODE\.busy=//p")
    activation=$(jk "cmd=show&mime=prop&w=$LB&sw=$NODE" | sed -n "s/^worker\.$NODE\.activation=//p")
    echo "poll $i: activation=$activation busy=$busy"
    [ "$activation" = DIS ] || fail "activation is $activation, not DIS"
    [ "$busy" = 0 ] && break
    [ "$i" = 50 ] && fail "$NODE still busy after 50 polls"
    sleep 0.2
done

new=$(for _ in $(seq 20); do member_of; done | sort | uniq -c | tr '\n' ' ')
echo "20 sessionless requests while drained: $new"
case $new in *n1*) fail "a new session went to the drained member" ;; esac
sticky=$(for _ in $(seq 5); do member_of -H "Cookie: JSESSIONID=abc.$NODE"; done | sort | uniq -c | tr '\n' ' ')
echo "5 requests with JSESSIONID=abc.$NODE while drained: $sticky"
[ "$(echo $sticky)" = "5 $NODE" ] || fail "sticky requests did not all reach $NODE"

echo "deploying to $NODE ... (simulated)"

echo "\$ curl '$JK?cmd=update&mime=prop&w=$LB&sw=$NODE&vwa=A'"
out=$(jk "cmd=update&mime=prop&w=$LB&sw=$NODE&vwa=A")
echo "$out"
echo "$out" | grep -qx 'worker.result.type=OK' || fail "update refused"
activation=$(jk "cmd=show&mime=prop&w=$LB&sw=$NODE" | sed -n "s/^worker\.$NODE\.activation=//p")
echo "activation now: $activation"
[ "$activation" = ACT ] || fail "activation is $activation, not ACT"
new=$(for _ in $(seq 20); do member_of; done | sort | uniq -c | tr '\n' ' ')
echo "20 sessionless requests after activation: $new"
case $new in *n1*) ;; *) fail "no new session reached $NODE after activation" ;; esac
echo OK
