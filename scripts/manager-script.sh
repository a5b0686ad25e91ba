#!/usr/bin/env bash
# Drains a member through the balancer-manager the way an httpd operator's script does (curl,
# sed, grep): read the nonce, POST w_status_N=1 with a same-origin Referer, check the XML says
# "Drn", check that a POST with a foreign Referer changes nothing, then undrain.
#
#   scripts/manager-script.sh            against ringlb: $RINGLB (default target/debug/ringlb)
#                                        with one `ringlb bench-member`, on 127.0.0.1 ports
#                                        picked here; also against /usr/sbin/apache2 with
#                                        mod_proxy_balancer when it is installed
#   scripts/manager-script.sh --only-ringlb
#
# Builds nothing. Every process it starts is stopped by PID on exit. Exits non-zero on any
# failure; bounded by curl's --max-time and deadlines on every wait.
set -euo pipefail

RINGLB=${RINGLB:-target/debug/ringlb}
APACHE=${APACHE:-/usr/sbin/apache2}
APACHE_MODULES=${APACHE_MODULES:-/usr/lib/apache2/modules}
# shellcheck source=scripts/lib/processes.sh
. "$(dirname "$0")/lib/processes.sh"
curl_() { curl -sS --max-time 5 "$@"; }

# The script proper: manager URL, balancer name, member URL.
drive() {
    local m=$1 b=$2 w=$3 xml nonce status code
    # httpd 2.4 ignores every parameter, xml=1 included, of a request without a Referer naming
    # the manager: send one with each request, as scripts written for httpd do.
    xml=$(curl_ -H "Referer: $m" "$m?b=$b&xml=1")
    echo "$xml" | grep -q "<httpd:name>balancer://$b</httpd:name>" || fail "no balancer $b in the XML"
    # The nonce: httpd.apache.org's XML has none; the page links carry it (&nonce=...).
    nonce=$(echo "$xml" | sed -n 's|.*<httpd:nonce>\(.*\)</httpd:nonce>.*|\1|p' | head -n1)
    if [ -z "$nonce" ]; then
        nonce=$(curl_ "$m?b=$b" | grep -o "nonce=['\"]\?[0-9A-Za-z-]*" | head -n1 | sed "s/nonce=['\"]\?//")
    fi
    if [ -z "$nonce" ]; then
        nonce=$(curl_ "$m?b=$b" | sed -n 's/.*name="nonce" value="\([^"]*\)".*/\1/p' | head -n1)
    fi
    [ -n "$nonce" ] || fail "no nonce found"
    echo "$xml" | sed -n "\|<httpd:name>$w</httpd:name>|,\|</httpd:worker>|p"
    echo "nonce: $nonce"

    worker_status() {
        curl_ -H "Referer: $m" "$m?b=$b&xml=1" | sed -n "\|<httpd:name>$w</httpd:name>|,\|</httpd:worker>|p" \
            | sed -n 's|.*<httpd:status>\(.*\)</httpd:status>.*|\1|p'
    }
    post() { # REFERER, then form fields
        local ref=$1; shift
        curl_ -o /dev/null -w '%{http_code}' -H "Referer: $ref" \
            --data-urlencode "b=$b" --data-urlencode "w=$w" --data-urlencode "nonce=$nonce" "$@" "$m"
    }
    echo "before: [$(worker_status)]"
    code=$(post "$m?b=$b&w=$w&nonce=$nonce" -d w_status_N=1)
    status=$(worker_status)
    echo "drain POST: HTTP $code, status now [$status]"
    case $status in *Drn*) ;; *) fail "member not draining after the POST" ;; esac

    code=$(post "http://evil.example/balancer-manager" -d w_status_N=0)
    status=$(worker_status)
    echo "foreign-Referer POST: HTTP $code, status now [$status]"
    case $status in *Drn*) ;; *) fail "a POST with a foreign Referer was applied" ;; esac

    code=$(post "$m?b=$b&w=$w&nonce=$nonce" -d w_status_N=0)
    status=$(worker_status)
    echo "undrain POST: HTTP $code, status now [$status]"
    case $status in *Drn*) fail "member still draining after the undrain POST" ;; esac
    case $status in *Ok*) ;; *) fail "member not Ok after the undrain POST" ;; esac
}

member_port=$(free_port)
"$RINGLB" bench-member --listen "127.0.0.1:$member_port" --route n1 >"$work/member.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$member_port/"

proxy_port=$(free_port)
admin_port=$(free_port)
cat >"$work/ringlb.toml" <<EOF
listen = ["127.0.0.1:$proxy_port"]
workers = 1

[admin]
listen = "127.0.0.1:$admin_port"
allow = ["127.0.0.1/32"]

[[balancer]]
name = "app"
mount = "/"
stickysession = "JSESSIONID|jsessionid"

[[balancer.member]]
url = "http://127.0.0.1:$member_port"
route = "n1"
EOF
"$RINGLB" run -c "$work/ringlb.toml" >"$work/ringlb.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$admin_port/balancer-manager" "$work/ringlb.log"
echo "== ringlb $("$RINGLB" --version 2>&1 | head -n1) (admin 127.0.0.1:$admin_port)"
drive "http://127.0.0.1:$admin_port/balancer-manager" app "http://127.0.0.1:$member_port"

if [ "${1:-}" != "--only-ringlb" ] && [ -x "$APACHE" ]; then
    httpd_port=$(free_port)
    mkdir -p "$work/httpd"
    cat >"$work/httpd/httpd.conf" <<EOF
ServerRoot "$work/httpd"
ServerName 127.0.0.1
Listen 127.0.0.1:$httpd_port
PidFile "$work/httpd/httpd.pid"
ErrorLog "$work/httpd/error.log"
DefaultRuntimeDir "$work/httpd"
LoadModule mpm_event_module $APACHE_MODULES/mod_mpm_event.so
LoadModule authz_core_module $APACHE_MODULES/mod_authz_core.so
LoadModule authz_host_module $APACHE_MODULES/mod_authz_host.so
LoadModule slotmem_shm_module $APACHE_MODULES/mod_slotmem_shm.so
LoadModule proxy_module $APACHE_MODULES/mod_proxy.so
LoadModule proxy_http_module $APACHE_MODULES/mod_proxy_http.so
LoadModule proxy_balancer_module $APACHE_MODULES/mod_proxy_balancer.so
LoadModule lbmethod_byrequests_module $APACHE_MODULES/mod_lbmethod_byrequests.so
$( [ "$(id -u)" = 0 ] && printf 'User nobody\nGroup nogroup\n' )
<Proxy "balancer://app">
    BalancerMember "http://127.0.0.1:$member_port" route=n1
    ProxySet stickysession=JSESSIONID|jsessionid
</Proxy>
<Location "/balancer-manager">
    SetHandler balancer-manager
    Require ip 127.0.0.1
</Location>
ProxyPass "/balancer-manager" "!"
ProxyPass "/" "balancer://app/"
EOF
    chmod 755 "$work" "$work/httpd"
    "$APACHE" -f "$work/httpd/httpd.conf" -DFOREGROUND >"$work/httpd/stdout.log" 2>&1 &
    pids+=($!)
    wait_http "http://127.0.0.1:$httpd_port/balancer-manager" "$work/httpd/stdout.log"
    echo "== $("$APACHE" -v | head -n1) (127.0.0.1:$httpd_port)"
    drive "http://127.0.0.1:$httpd_port/balancer-manager" app "http://127.0.0.1:$member_port"
fi
echo "OK"
