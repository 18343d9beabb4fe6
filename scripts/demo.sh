#!/usr/bin/env bash
# demo.sh - see leased hand out a lease to a real DHCP client, in two
# network namespaces of its own, in a few seconds.
#
# Usage, from anywhere in a clone of the repository:
#
#     sudo scripts/demo.sh
#
# Needs Linux, root (network namespaces), Go, and on Debian or Ubuntu:
#
#     sudo apt-get install iproute2 isc-dhcp-client
#
# (busybox's udhcpc, Debian package udhcpc, is used when dhclient is not
# installed.)
#
# What it does:
#
#   1. builds leased from this checkout (go build), or uses the binary in
#      $LEASED_BIN when set;
#   2. makes two network namespaces, demo-server and demo-client, joined by
#      a veth pair: srv0 (198.18.0.1/24) in demo-server, cli0 in
#      demo-client. Nothing is created in, or sent to, the host's own
#      network; 198.18.0.0/15 is the range set aside for benchmarks
#      (RFC 2544);
#   3. runs "leased server" in quick mode on srv0;
#   4. runs the DHCP client on cli0, with a hook script that puts the
#      address and the default route on cli0 (and nothing else: no
#      resolv.conf is touched);
#   5. prints the exchange as the server logged it, the client's address
#      and routes, and the lease store ("leased leases list");
#   6. releases the lease, stops the server with SIGTERM, and removes
#      everything it made (also on failure or Ctrl-C).
#
# Set LEASED_DEMO_PREFIX to name the namespaces PREFIX-server and
# PREFIX-client instead (default: demo).

set -euo pipefail

prefix=${LEASED_DEMO_PREFIX:-demo}
srv_ns=$prefix-server
cli_ns=$prefix-client
srv_if=srv0
cli_if=cli0
srv_addr=198.18.0.1
pool=198.18.0.100-198.18.0.199

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() {
	echo "demo.sh: $*" >&2
	exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root (it creates network namespaces): sudo $0"
command -v ip >/dev/null || die "ip not found: apt-get install iproute2"
if command -v dhclient >/dev/null; then
	client=dhclient
elif command -v udhcpc >/dev/null; then
	client=udhcpc
else
	die "no DHCP client found: apt-get install isc-dhcp-client (or udhcpc)"
fi
for ns in "$srv_ns" "$cli_ns"; do
	if ip netns list | grep -qw -- "$ns"; then
		die "network namespace $ns exists already (another demo running?); remove it with: ip netns del $ns"
	fi
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leased-demo.XXXXXX")
chmod 755 "$tmp"
server_pid=
client_pid=
made_ns=()

cleanup() {
	local rc=$?
	set +e
	# Only what this script started, by process ID.
	[[ -n $client_pid ]] && kill "$client_pid" 2>/dev/null
	[[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	for ns in "${made_ns[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. build ------------------------------------------------------------------

if [[ -n ${LEASED_BIN:-} ]]; then
	leased=$LEASED_BIN
	say "using $leased"
else
	gocmd=$(command -v go || true)
	# sudo resets PATH: look where Go's installer puts it, too.
	[[ -z $gocmd && -x /usr/local/go/bin/go ]] && gocmd=/usr/local/go/bin/go
	[[ -n $gocmd ]] || die "go not found; install Go (https://go.dev/dl/) or set LEASED_BIN"
	say "building leased"
	leased=$tmp/leased
	(cd "$repo" && "$gocmd" build -o "$leased" ./cmd/leased)
	echo "built $leased"
fi

# --- 2. the network ------------------------------------------------------------

say "making namespaces $srv_ns ($srv_if $srv_addr/24) and $cli_ns ($cli_if), joined by a veth pair"
for ns in "$srv_ns" "$cli_ns"; do
	ip netns add "$ns"
	made_ns+=("$ns")
	ip -n "$ns" link set lo up
done
ip -n "$srv_ns" link add "$srv_if" type veth peer name "$cli_if" netns "$cli_ns"
ip -n "$srv_ns" addr add "$srv_addr/24" dev "$srv_if"
ip -n "$srv_ns" link set "$srv_if" up
ip -n "$cli_ns" link set "$cli_if" up

# --- 3. the server -------------------------------------------------------------

store=$tmp/store
server_cmd=("$leased" server -i "$srv_if" --range "$pool" --router "$srv_addr"
	--dns 198.18.0.53 --domain demo.example --lease-time 10m
	--store "$store" --log-level debug --control "$tmp/control.sock")
say "starting the server in $srv_ns"
echo "leased ${server_cmd[*]:1}"
ip netns exec "$srv_ns" "${server_cmd[@]}" 2>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 100); do
	grep -q 'msg=serving' "$tmp/server.log" && break
	kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log" >&2; die "the server exited"; }
	sleep 0.1
done
grep -q 'msg=serving' "$tmp/server.log" || { cat "$tmp/server.log" >&2; die "the server did not start"; }
grep 'msg=serving' "$tmp/server.log"

# --- 4. the client -------------------------------------------------------------

cat >"$tmp/hook" <<'EOF'
#!/bin/sh
# Configure the leased address and the default route on the interface.
reason=${reason:-$1}
case $reason in
BOUND|RENEW|REBIND|REBOOT) # dhclient
	ip -4 addr replace "$new_ip_address/$new_subnet_mask" dev "$interface"
	for r in $new_routers; do ip -4 route replace default via "$r" dev "$interface"; break; done ;;
EXPIRE|FAIL|RELEASE|STOP)
	[ -n "$old_ip_address" ] && ip -4 addr del "$old_ip_address/$old_subnet_mask" dev "$interface" ;;
bound|renew) # udhcpc
	ip -4 addr replace "$ip/$mask" dev "$interface"
	for r in $router; do ip -4 route replace default via "$r" dev "$interface"; break; done ;;
deconfig)
	ip -4 addr flush dev "$interface" ;;
esac
exit 0
EOF
chmod 755 "$tmp/hook"

say "running $client in $cli_ns"
case $client in
dhclient)
	printf 'timeout 30;\ninitial-interval 1;\nrequest subnet-mask, broadcast-address, routers, domain-name, domain-name-servers;\n' >"$tmp/dhclient.conf"
	dh_files=(-cf "$tmp/dhclient.conf" -sf "$tmp/hook" -lf "$tmp/dhclient.leases" -pf "$tmp/dhclient.pid" "$cli_if")
	# -d: in the foreground (of a background job), so that it can be
	# stopped by its process ID; -1: one try, exit status 2 on failure.
	ip netns exec "$cli_ns" dhclient -d -1 -v "${dh_files[@]}" >"$tmp/client.log" 2>&1 &
	client_pid=$!
	for _ in $(seq 300); do
		grep -q '^bound to' "$tmp/client.log" && break
		kill -0 "$client_pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -v -e '^$' -e '^Copyright' -e '^All rights' -e '^For info' -e '^Internet Systems' "$tmp/client.log" || true
	grep -q '^bound to' "$tmp/client.log" || die "dhclient got no lease"
	;;
udhcpc)
	ip netns exec "$cli_ns" udhcpc -f -q -n -t 10 -T 1 -i "$cli_if" -s "$tmp/hook" || die "udhcpc got no lease"
	;;
esac

# --- 5. what happened ----------------------------------------------------------

say "the exchange, as the server logged it"
grep -e 'msg=received' -e 'msg=lease' "$tmp/server.log" | sed -e 's/^time=[^ ]* //'

say "the client's address and routes ($cli_ns)"
ip -n "$cli_ns" -4 addr show dev "$cli_if"
ip -n "$cli_ns" -4 route

say "the lease store: leased leases list --store $store"
"$leased" leases list --store "$store"

# --- 6. release, stop, clean up ------------------------------------------------

if [[ $client == dhclient ]]; then
	say "releasing the lease (dhclient -r)"
	# It stops the running dhclient (through its PID file), then releases.
	ip netns exec "$cli_ns" dhclient -r "${dh_files[@]}" >/dev/null 2>&1 || true
	wait "$client_pid" 2>/dev/null || true
	client_pid=
	for _ in $(seq 50); do
		grep -q 'event=released' "$tmp/server.log" && break
		sleep 0.1
	done
	grep 'event=released' "$tmp/server.log" | sed -e 's/^time=[^ ]* //' || echo "(no release logged)"
fi

say "stopping the server (SIGTERM)"
kill -TERM "$server_pid"
wait "$server_pid" || die "the server exited with status $?"
server_pid=
tail -n 1 "$tmp/server.log" | sed -e 's/^time=[^ ]* //'

say "done; removing the namespaces"
