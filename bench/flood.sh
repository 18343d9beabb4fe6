#!/usr/bin/env bash
# flood.sh - a DHCP server under a flood of DHCPDISCOVERs from random
# hardware addresses: the server's CPU and memory (RSS) while it lasts,
# for leased with its default limits, leased with them off, and Kea.
#
# Usage: sudo bench/flood.sh [--duration S] [--leased BIN] [--servers LIST] [--cpus S,C] [--keep]
#
# It makes two network namespaces joined by a veth pair (198.18.0.1/20 for
# the server, 198.18.0.2/20 for the flood; nothing leaves them), starts
# each server in turn pinned to one CPU, floods it for --duration seconds
# from the other CPU with "leased bench --flood" (relayed DISCOVERs, a new
# hardware address each, as fast as the socket takes them), and prints one
# line per server. The namespaces, the processes and the work directory
# are the script's own and are removed at the end, also on failure.
set -euo pipefail

duration=30
leased_bin=
servers="leased leased-nolimits kea"
cpus=0,1
keep=0

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
say() { printf '%s\n' "$*" >&2; }
die() {
	say "flood.sh: $*"
	exit 1
}

while (($#)); do
	case $1 in
	--duration) duration=$2; shift ;;
	--leased) leased_bin=$2; shift ;;
	--servers) servers=$2; shift ;;
	--cpus) cpus=$2; shift ;;
	--keep) keep=1 ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument $1 (see -h)" ;;
	esac
	shift
done
[[ $duration =~ ^[0-9]+$ ]] && ((duration > 0 && duration <= 600)) || die "--duration $duration: want 1 to 600 seconds"
for s in $servers; do
	case $s in leased | leased-nolimits | kea) ;; *) die "--servers: unknown server $s" ;; esac
done
cpu_server=${cpus%,*} cpu_flood=${cpus#*,}
((EUID == 0)) || die "needs root: network namespaces and port 67"
for c in ip taskset ss; do command -v "$c" >/dev/null || die "needs $c"; done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d /var/tmp/leased-flood.XXXXXX)
tag=lf$$
sns=$tag-srv cns=$tag-cli sif=${tag}s cif=${tag}c
srv_addr=198.18.0.1 cli_addr=198.18.0.2 plen=20 subnet=198.18.0.0
pool_first=198.18.1.0 pool_last=198.18.15.254 lease_time=300
made_ns=()
server_pid=
flood_pid=

cleanup() {
	local rc=$?
	set +e
	# Only what this script started, by process ID.
	[[ -n $flood_pid ]] && kill "$flood_pid" 2>/dev/null
	[[ -n $server_pid ]] && stop_server
	for ns in "${made_ns[@]}"; do ip netns del "$ns" 2>/dev/null; done
	if ((keep)) || ((rc != 0)); then say "work directory kept: $work"; else rm -rf "$work"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z $leased_bin ]]; then
	say "building leased"
	(cd "$repo" && go build -o "$work/leased" ./cmd/leased) || die "go build failed"
	leased_bin=$work/leased
fi
if [[ " $servers " == *" kea "* ]] && ! command -v kea-dhcp4 >/dev/null; then
	say "kea-dhcp4 is not installed (Debian: kea-dhcp4-server): left out"
	servers=${servers//kea/}
fi

ip netns add "$sns" && made_ns+=("$sns")
ip netns add "$cns" && made_ns+=("$cns")
ip link add "$sif" netns "$sns" type veth peer name "$cif" netns "$cns"
ip -n "$sns" addr add "$srv_addr/$plen" dev "$sif"
ip -n "$cns" addr add "$cli_addr/$plen" dev "$cif"
for ns in "$sns" "$cns"; do ip -n "$ns" link set lo up; done
ip -n "$sns" link set "$sif" up
ip -n "$cns" link set "$cif" up

# start_server SERVER DIR starts the server, pinned, and waits until it
# listens on port 67.
start_server() {
	local s=$1 d=$2 cmd=() limits=""
	case $s in
	leased | leased-nolimits)
		[[ $s == leased-nolimits ]] && limits=$'rate-limit: off\noffer-limit: off\n'
		printf 'interfaces: [%s]\nlease-time: %ss\n%ssubnets:\n  - prefix: %s/%s\n    pools: [%s-%s]\n' \
			"$sif" "$lease_time" "$limits" "$subnet" "$plen" "$pool_first" "$pool_last" >"$d/leased.yaml"
		cmd=("$leased_bin" server --config "$d/leased.yaml" --store "$d/store" --log-level warn
			--control "$d/control.sock") ;;
	kea)
		cat >"$d/kea.conf" <<EOC
{"Dhcp4": {
  "interfaces-config": {"interfaces": ["$sif"], "dhcp-socket-type": "udp"},
  "lease-database": {"type": "memfile", "persist": true, "name": "$d/kea-leases4.csv", "lfc-interval": 0},
  "valid-lifetime": $lease_time,
  "subnet4": [{"subnet": "$subnet/$plen", "pools": [{"pool": "$pool_first - $pool_last"}]}],
  "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "stderr"}], "severity": "WARN"}]
}}
EOC
		cmd=(env "KEA_PIDFILE_DIR=$d" "KEA_LOCKFILE_DIR=$d" kea-dhcp4 -c "$d/kea.conf") ;;
	esac
	# ip netns exec, taskset and env exec in turn: $! is the server.
	ip netns exec "$sns" taskset -c "$cpu_server" "${cmd[@]}" >"$d/server.log" 2>&1 &
	server_pid=$!
	local i
	for i in $(seq 100); do
		kill -0 "$server_pid" 2>/dev/null || die "$s did not start; see $d/server.log"
		if ip netns exec "$sns" ss -Hulnp 'sport = :67' 2>/dev/null | grep -q "pid=$server_pid,"; then
			return 0
		fi
		sleep 0.1
	done
	die "$s does not listen on port 67 after 10 s; see $d/server.log"
}

stop_server() {
	local pid=$server_pid i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	server_pid=
}

# cpu_ticks PID prints the user and system time of PID, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# rss_kb PID prints the resident set size of PID in KiB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

hz=$(getconf CLK_TCK)
printf '%-16s %10s %10s %9s %9s %9s %9s  %s\n' server "flood/s" "offers/s" "CPU %" "RSS0 MiB" "peak MiB" "end MiB" "outcomes (leased)"
for s in $servers; do
	d=$work/$s
	mkdir -p "$d"
	start_server "$s" "$d"
	sleep 1 # let it settle
	rss0=$(rss_kb "$server_pid") peak=$rss0 t0=$(cpu_ticks "$server_pid")
	ip netns exec "$cns" taskset -c "$cpu_flood" "$leased_bin" bench --flood --server "$srv_addr" --local "$cli_addr:67" \
		--duration "${duration}s" --timeout 1s --json >"$d/flood.json" 2>"$d/flood.log" &
	flood_pid=$!
	while kill -0 "$flood_pid" 2>/dev/null; do
		r=$(rss_kb "$server_pid")
		((r > peak)) && peak=$r
		sleep 1
	done
	wait "$flood_pid" || die "the flood failed; see $d/flood.log"
	flood_pid=
	t1=$(cpu_ticks "$server_pid") rss1=$(rss_kb "$server_pid")
	outcomes=""
	if [[ $s == leased* ]]; then
		outcomes=$("$leased_bin" status --control "$d/control.sock" --json 2>/dev/null |
			python3 -c 'import json,sys; o=json.load(sys.stdin).get("outcomes",{}); print(" ".join(f"{k}={v}" for k,v in sorted(o.items())))' 2>/dev/null || true)
	fi
	stop_server
	python3 - "$d/flood.json" "$s" "$t0" "$t1" "$hz" "$duration" "$rss0" "$peak" "$rss1" "$outcomes" <<'EOP'
import json, sys
f, s, t0, t1, hz, dur, r0, peak, r1, outcomes = sys.argv[1:]
j = json.load(open(f))
cpu = (int(t1) - int(t0)) / int(hz) / float(j["elapsed_s"]) * 100
mib = lambda k: int(k) / 1024
print(f'{s:<16} {j["rate"]:10.0f} {j["offers"] / j["elapsed_s"]:10.0f} {cpu:9.1f} {mib(r0):9.1f} {mib(peak):9.1f} {mib(r1):9.1f}  {outcomes}')
EOP
done
say "flood: 'leased bench --flood' for ${duration}s per server; CPU is the server's user+system time over the flood, in % of one CPU"
