#!/usr/bin/env bash
# Builds the Debian package and tests it on this machine (root, no running systemd): install,
# `ringlb check` on the example config, `systemd-analyze verify` of the installed unit, the
# unit's ExecStart run as the `ringlb` user with only CAP_NET_BIND_SERVICE (the unit's
# AmbientCapabilities) until the :80 listener and the admin page answer, stop, purge, and
# nothing left behind. RINGLB_PROFILE=dev packages a debug build (faster; release by default).
# Needs: cargo-deb (cargo install cargo-deb --locked), curl, systemd (systemd-analyze), man-db.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${RINGLB_PROFILE:-release}
log() { printf '== %s\n' "$*"; }

log "build ($profile) and man pages"
cargo build --profile "$profile" --bin ringlb
rm -rf target/man
cargo run --quiet --example manpage -- target/man
log "cargo deb"
deb=$(cargo deb --no-build --profile "$profile" 2>&1 | tail -n1)
[ -f "$deb" ] || { echo "cargo deb gave no package: $deb"; exit 1; }
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
dpkg-deb --contents "$deb"

pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT

log "dpkg -i"
dpkg -i "$deb"
log "ringlb check -c /etc/ringlb/ringlb.toml"
ringlb check -c /etc/ringlb/ringlb.toml >/dev/null && echo "check: ok"
log "systemd-analyze verify /lib/systemd/system/ringlb.service"
unit=$(dpkg -L ringlb | grep '/ringlb\.service$')
systemd-analyze verify "$unit" && echo "verify: ok"
log "ExecStart as user ringlb with CAP_NET_BIND_SERVICE only"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
# shellcheck disable=SC2086 # the unit's command line, split as systemd splits it
setpriv --reuid=ringlb --regid=ringlb --init-groups --inh-caps=-all,+net_bind_service \
	--ambient-caps=-all,+net_bind_service --bounding-set=-all,+net_bind_service \
	--no-new-privs $exec_start >/tmp/ringlb-package.out 2>&1 &
pid=$!
deadline=$((SECONDS + 20))
until curl -s -o /dev/null -w 'listener :80 -> HTTP %{http_code}\n' http://127.0.0.1:80/ &&
	curl -sf -o /dev/null -w 'admin 127.0.0.1:8090 -> HTTP %{http_code}\n' \
		http://127.0.0.1:8090/balancer-manager; do
	kill -0 "$pid" 2>/dev/null || { cat /tmp/ringlb-package.out; exit 1; }
	[ $SECONDS -lt $deadline ] || { echo "no answer within 20 s"; cat /tmp/ringlb-package.out; exit 1; }
	sleep 0.2
done
echo "running as: $(ps -o user=,pid=,comm= -p "$pid")"
grep -i cap /proc/"$pid"/status | grep -E 'CapEff|CapAmb'
kill -TERM "$pid"
deadline=$((SECONDS + 20))
while kill -0 "$pid" 2>/dev/null; do
	[ $SECONDS -lt $deadline ] || { echo "still running after SIGTERM"; exit 1; }
	sleep 0.2
done
pid=
echo "stopped"
log "dpkg -P ringlb"
dpkg -P ringlb
left=0
for p in /usr/bin/ringlb /etc/ringlb /lib/systemd/system/ringlb.service /etc/logrotate.d/ringlb \
	/usr/share/man/man1/ringlb.1.gz /var/log/ringlb /etc/systemd/system/multi-user.target.wants/ringlb.service; do
	if [ -e "$p" ]; then echo "left behind: $p"; left=1; fi
done
if getent passwd ringlb >/dev/null; then echo "left behind: user ringlb"; left=1; fi
[ $left = 0 ] && echo "nothing left"
exit $left
