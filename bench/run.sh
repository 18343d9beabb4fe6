#!/usr/bin/env bash
# run.sh - measure leased against ISC Kea, ISC dhcpd and dnsmasq on the
# same harness, and print one table with the ratios of leased to each.
#
# Usage, as root, from anywhere in a clone of the repository:
#
#     sudo bench/run.sh              # the full comparison (at most --max-time)
#     sudo bench/run.sh --quick      # a smoke run of a minute or two
#     sudo bench/run.sh -h           # every flag
#
# What it does (see bench/README.md for the method and the latest results):
#
#   1. builds leased from this checkout (or takes --leased BIN) and installs
#      the peers from Debian packages where missing: kea-dhcp4-server,
#      isc-dhcp-server, dnsmasq-base, and kea-admin for perfdhcp. While it
#      installs, a policy-rc.d keeps the packages' services from starting;
#   2. makes two network namespaces joined by a veth pair, the server's at
#      198.18.0.1/20 and the clients' at 198.18.0.2/20 (198.18.0.0/15 is set
#      aside for benchmarks, RFC 2544; nothing is sent anywhere else);
#   3. for each server and each rate of the ladder, 3 times: starts the
#      server afresh (empty lease store) pinned to one CPU, runs perfdhcp
#      pinned to another as a relay agent (giaddr 198.18.0.2) with 3,000
#      simulated clients for 5 seconds, reads the server's CPU time from
#      /proc, and stops the server. A server's ladder stops after a step
#      whose median loss reaches --stop-loss, or after two steps over 1%;
#   4. prints the ladder, one table of medians (highest rate with < 1%
#      loss, latency, CPU per 1,000 leases) and the ratios of leased to
#      each peer, and writes them with every raw result to the work
#      directory;
#   5. stops what it started (by process ID) and deletes its namespaces,
#      also on failure or Ctrl-C.
#
# Every server gets the same pool (198.18.1.0-198.18.15.254, 3,839
# addresses in 198.18.0.0/20), the same 300 s lease time, and its lease
# file or store in the same work directory on disk.

set -euo pipefail

usage() {
	cat <<'EOF'
usage: sudo bench/run.sh [flags]

  --servers "LIST"   servers to measure, among leased kea dhcpd dnsmasq and
                     the PostgreSQL runs: leased-pg (one leased on PostgreSQL),
                     leased-pg2 (two leased on one PostgreSQL, both answering),
                     kea-pg (Kea with its PostgreSQL lease backend)
                     (default: leased kea dhcpd dnsmasq; --pg: leased leased-pg
                     leased-pg2 kea-pg)
  --pg               the PostgreSQL comparison: --servers "leased leased-pg
                     leased-pg2 kea-pg" unless --servers says otherwise
  --rates "LIST"     the ladder, exchanges per second
                     (default: 1000 2000 5000 10000 15000 20000 25000 30000 40000 50000 60000)
  --runs N           runs per step; medians are reported (default 3)
  --period S         seconds per run (perfdhcp -p; default 5)
  --clients N        simulated clients (perfdhcp -R; default 3000)
  --exit-wait MS     perfdhcp -W: after the period, wait this long for the
                     replies in flight, so that they are not counted lost
                     (default 1000, perfdhcp's drop time; 0: no wait)
  --stop-loss PCT    end a server's ladder after a step with this median loss (default 10)
  --tool T           perfdhcp (default) or loadgen: drive the ladder with
                     "leased bench" at the same rates instead of perfdhcp
  --ceiling          also run "leased bench" closed loop against each server,
                     with each number of exchanges in flight of --outstanding:
                     the most it completes
  --outstanding "LIST"  exchanges in flight for --ceiling (default: 64 256)
  --leased BIN       use this leased binary instead of building one
  --no-install       do not install missing packages; skip servers not installed
  --workdir DIR      parent of the work directory (default /var/tmp; it must
                     be on disk, not tmpfs, for fsync to mean anything)
  --keep             keep the work directory (logs, stores, raw results)
  --out FILE         also write the report to FILE and the raw results to FILE.tsv
  --max-time S       stop starting runs after this many seconds (default 2400)
  --cpus S,C         CPU of the server and of the load generator (default 0,1)
  --db-cpus LIST     CPUs of PostgreSQL, a taskset list (default: the server's)
  --leased-flags "F" more flags for every leased server, e.g. "--cpuprofile FILE"
                     (with one run: each run starts the server afresh)
  --kea-threads N    threads of Kea on PostgreSQL (kea-pg; default 4, 0: Kea's
                     single-threaded mode)
  --quick            smoke run: rates 1000 5000 10000, 1 run of 2 s each
  -h, --help         this text
EOF
}

# The network and the pool, the same for every server.
readonly srv_addr=198.18.0.1 cli_addr=198.18.0.2 plen=20 netmask=255.255.240.0
readonly subnet=198.18.0.0 pool_first=198.18.1.0 pool_last=198.18.15.254 lease_time=300
# The second server of leased-pg2, on the same link (an address of the
# same interface; both servers get every broadcast request).
readonly srv2_addr=198.18.0.3

servers=
pg_mode=0
rates="1000 2000 5000 10000 15000 20000 25000 30000 40000 50000 60000"
runs=3
period=5
clients=3000
exit_wait=1000
stop_loss=10
tool=perfdhcp
ceiling=0
outstanding="64 256"
leased_bin=
install=1
workdir_parent=/var/tmp
keep=0
out_file=
max_time=2400
cpu_server=0
cpu_client=1
cpu_db=
kea_threads=4
leased_flags=

die() {
	echo "run.sh: $*" >&2
	exit 1
}
say() { printf '%s\n' "$*" >&2; }

while (($#)); do
	case $1 in
	--servers) servers=$2; shift ;;
	--rates) rates=$2; shift ;;
	--runs) runs=$2; shift ;;
	--period) period=$2; shift ;;
	--clients) clients=$2; shift ;;
	--exit-wait) exit_wait=$2; shift ;;
	--stop-loss) stop_loss=$2; shift ;;
	--tool) tool=$2; shift ;;
	--ceiling) ceiling=1 ;;
	--outstanding) outstanding=$2; shift ;;
	--leased) leased_bin=$2; shift ;;
	--no-install) install=0 ;;
	--workdir) workdir_parent=$2; shift ;;
	--keep) keep=1 ;;
	--out) out_file=$2; shift ;;
	--max-time) max_time=$2; shift ;;
	--cpus) cpu_server=${2%,*}; cpu_client=${2#*,}; shift ;;
	--db-cpus) cpu_db=$2; shift ;;
	--kea-threads) kea_threads=$2; shift ;;
	--leased-flags) leased_flags=$2; shift ;;
	--pg) pg_mode=1 ;;
	--quick) rates="1000 5000 10000"; runs=1; period=2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown flag $1" ;;
	esac
	shift
done

if [[ -z $servers ]]; then
	if ((pg_mode)); then servers="leased leased-pg leased-pg2 kea-pg"; else servers="leased kea dhcpd dnsmasq"; fi
fi
: "${cpu_db:=$cpu_server}"
[[ $cpu_db =~ ^[0-9,-]+$ ]] || die "--db-cpus: $cpu_db is not a CPU list"
for v in kea_threads runs period clients exit_wait stop_loss max_time cpu_server cpu_client; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "--${v//_/-}: ${!v} is not a whole number"
done
((runs >= 1 && period >= 1 && clients >= 1)) || die "--runs, --period and --clients must be at least 1"
for r in $rates; do [[ $r =~ ^[0-9]+$ && $r -gt 0 ]] || die "--rates: $r is not a positive whole number"; done
for r in $outstanding; do [[ $r =~ ^[0-9]+$ && $r -gt 0 ]] || die "--outstanding: $r is not a positive whole number"; done
for s in $servers; do
	case $s in leased | kea | dhcpd | dnsmasq | leased-pg | leased-pg2 | kea-pg) ;; *) die "--servers: unknown server $s" ;; esac
done
case $tool in perfdhcp | loadgen) ;; *) die "--tool: $tool is neither perfdhcp nor loadgen" ;; esac
[[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces, port 67): sudo $0"
for c in ip taskset awk ss; do command -v $c >/dev/null || die "$c not found (apt-get install iproute2 util-linux mawk)"; done
ncpu=$(nproc)
((cpu_server < ncpu && cpu_client < ncpu)) || die "--cpus $cpu_server,$cpu_client: this machine has CPUs 0-$((ncpu - 1))"
((cpu_server != cpu_client)) || say "warning: server and load generator share CPU $cpu_server; the results measure both"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
started_at=$(date +%s)
[[ -d $workdir_parent ]] || die "--workdir $workdir_parent is not a directory"
work=$(mktemp -d "$workdir_parent/leased-bench.XXXXXX")
chmod 755 "$work"
tag=lb$$
sns=$tag-srv cns=$tag-cli sif=${tag}s cif=${tag}c
made_ns=()
server_pids=()
gen_pid=
pg_started=0
policy_made=0

cleanup() {
	local rc=$?
	set +e
	# Only what this script started, by process ID.
	[[ -n $gen_pid ]] && kill "$gen_pid" 2>/dev/null
	((${#server_pids[@]})) && stop_server
	((pg_started)) && stop_pg
	for ns in "${made_ns[@]}"; do ip netns del "$ns" 2>/dev/null; done
	((policy_made)) && rm -f /usr/sbin/policy-rc.d
	if ((keep)) || ((rc != 0)); then
		say "work directory kept: $work"
	else
		rm -rf "$work"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- packages ---------------------------------------------------------

# missing_pkg prints the Debian package that provides what a server (or
# perfdhcp) needs, if it is missing.
missing_pkg() {
	case $1 in
	perfdhcp) command -v perfdhcp >/dev/null || echo kea-admin ;;
	kea) command -v kea-dhcp4 >/dev/null || echo kea-dhcp4-server ;;
	kea-pg) command -v kea-dhcp4 >/dev/null || echo kea-dhcp4-server
		command -v kea-admin >/dev/null || echo kea-admin
		[[ -n $(pg_bin) ]] || echo postgresql ;;
	leased-pg | leased-pg2) [[ -n $(pg_bin) ]] || echo postgresql ;;
	dhcpd) command -v dhcpd >/dev/null || echo isc-dhcp-server ;;
	dnsmasq) command -v dnsmasq >/dev/null || echo dnsmasq-base ;;
	esac
}

install_peers() {
	local want=() s p
	for s in $servers perfdhcp; do
		[[ $s == perfdhcp && $tool == loadgen ]] && continue
		for p in $(missing_pkg "$s"); do
			[[ " ${want[*]} " == *" $p "* ]] || want+=("$p")
		done
	done
	((${#want[@]})) || return 0
	if ((!install)); then
		say "not installed (--no-install): ${want[*]}"
		return 0
	fi
	command -v apt-get >/dev/null || die "missing ${want[*]} and no apt-get: install them by hand"
	# The server packages start their services on install, on the host's
	# network: forbid that while installing (Debian's policy-rc.d).
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy_made=1
	fi
	say "installing ${want[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${want[@]}" >"$work/apt.log" 2>&1 ||
		die "apt-get install ${want[*]} failed; see $work/apt.log"
	if ((policy_made)); then
		rm -f /usr/sbin/policy-rc.d
		policy_made=0
	fi
}

# --- namespaces --------------------------------------------------------

setup_netns() {
	ip netns add "$sns" && made_ns+=("$sns")
	ip netns add "$cns" && made_ns+=("$cns")
	ip link add "$sif" netns "$sns" type veth peer name "$cif" netns "$cns"
	ip -n "$sns" addr add "$srv_addr/$plen" dev "$sif"
	ip -n "$sns" addr add "$srv2_addr/$plen" dev "$sif"
	ip -n "$cns" addr add "$cli_addr/$plen" dev "$cif"
	for ns in "$sns" "$cns"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$sns" link set "$sif" up
	ip -n "$cns" link set "$cif" up
}

# --- PostgreSQL --------------------------------------------------------

# pg_bin prints the directory of the PostgreSQL server binaries (Debian's
# postgresql package), the highest version; nothing if there are none.
pg_bin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n | tail -1)
	[[ -n $d && -x $d/pg_ctl ]] && echo "$d"
}

# as_pg runs a command as the postgres user (PostgreSQL refuses to run as
# root).
as_pg() { runuser -u postgres -- "$@"; }

# start_pg makes a PostgreSQL of the script's own in the work directory:
# initdb, then pg_ctl start pinned to --db-cpus, its Unix socket in that
# directory and no TCP listener, fsync and synchronous commit on (every
# commit waits for its WAL flush, as every ACK waits for its commit).
start_pg() {
	pgbin=$(pg_bin)
	pgdir=$work/pg
	mkdir -p "$pgdir"
	chown postgres: "$pgdir"
	as_pg "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres -E UTF8 --no-locale --no-instructions >"$work/pg-initdb.log" 2>&1 ||
		die "initdb failed; see $work/pg-initdb.log"
	taskset -c "$cpu_db" runuser -u postgres -- "$pgbin/pg_ctl" start -w -t 60 -D "$pgdir/data" -l "$pgdir/log" \
		-o "-k $pgdir -p 5432 -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c max_connections=100 -c shared_buffers=128MB" \
		>"$work/pg-start.log" 2>&1 || die "pg_ctl start failed; see $pgdir/log"
	pg_started=1
	pg_pid=$(head -1 "$pgdir/data/postmaster.pid")
}

stop_pg() {
	as_pg "$pgbin/pg_ctl" stop -w -m fast -D "$pgdir/data" >/dev/null 2>&1
	pg_started=0
}

# psql_pg runs SQL as the database's superuser.
psql_pg() { as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$pgdir" -U postgres -d postgres -c "$1" >/dev/null; }

# pg_ticks prints the CPU time of PostgreSQL, every process of it: the
# postmaster, its children now, and the children it reaped (backends of
# connections closed meanwhile), in clock ticks.
pg_ticks() {
	# cat goes on past the processes that end meanwhile.
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$pg_pid" '
		{
			pid = $1; line = $0; sub(/.*\) /, "", line); split(line, f, " ")
			if (pid == pm) t += f[12] + f[13] + f[14] + f[15]
			else if (f[2] == pm) t += f[12] + f[13]
		}
		END { print t + 0 }'
}

# --- servers -----------------------------------------------------------

storage_of() {
	case $1 in
	leased) echo "journal, fdatasync before each ACK (group commit)" ;;
	leased-pg) echo "PostgreSQL, one transaction for many ACKs (group commit)" ;;
	leased-pg2) echo "two servers, one PostgreSQL, each its own group commit" ;;
	kea-pg) if ((kea_threads)); then echo "PostgreSQL, a commit per lease (autocommit), $kea_threads threads"; else echo "PostgreSQL, a commit per lease (autocommit), one thread"; fi ;;
	kea) echo "memfile CSV, one write per lease, no fsync" ;;
	dhcpd) echo "lease file, fsync per ACK" ;;
	dnsmasq) echo "lease file rewritten per ACK" ;;
	esac
}

version_of() {
	case $1 in
	leased | leased-pg | leased-pg2) "$leased_bin" version 2>/dev/null | head -1 ;;
	kea | kea-pg) echo "Kea $(kea-dhcp4 -v 2>/dev/null | head -1)" ;;
	dhcpd) dhcpd --version 2>&1 | head -1 ;;
	dnsmasq) dnsmasq --version 2>/dev/null | head -1 | awk '{print $1, $2, $3}' ;;
	esac
}

# write_config SERVER DIR [N] writes the configuration of the server's
# Nth process (1 or 2) into DIR.
write_config() {
	local s=$1 d=$2 n=${3:-1}
	case $s in
	leased | leased-pg | leased-pg2)
		# What quick mode (-i, --range, --lease-time) gives, with the
		# rate limits and the offer limit off: 3,000 clients behind one
		# relay agent, each starting 20 exchanges a second at the top of
		# the ladder, are a flood by the defaults' measure, and no peer
		# limits anything (bench/flood.sh measures the limits).
		cat >"$d/leased$n.yaml" <<EOF
interfaces: [$sif]
lease-time: ${lease_time}s
rate-limit: off
offer-limit: off
subnets:
  - prefix: $subnet/$plen
    pools: [$pool_first-$pool_last]
EOF
		if [[ $s != leased ]]; then
			# One database for every server of the run; the second
			# server of leased-pg2 answers from its own address and
			# starts its offers half way through the pool.
			cat >>"$d/leased$n.yaml" <<EOF
store:
  type: postgres
  url: host=$pgdir port=5432 user=postgres dbname=$pg_db sslmode=disable
EOF
			if ((n == 2)); then
				printf 'server-id: %s\npool-start-percent: 50\n' "$srv2_addr" >>"$d/leased$n.yaml"
			elif [[ $s == leased-pg2 ]]; then
				printf 'server-id: %s\n' "$srv_addr" >>"$d/leased$n.yaml"
			fi
		fi
		;;
	kea | kea-pg)
		local db='{"type": "memfile", "persist": true, "name": "'"$d"'/kea-leases4.csv", "lfc-interval": 0}'
		local mt=
		if [[ $s == kea-pg ]]; then
			# Kea's PostgreSQL backend commits each lease in a transaction
			# of its own; several threads keep several in the database at
			# once (ISC's figures for Kea 2.0: 2,396 leases/s on one
			# thread, 7,441 on several).
			db='{"type": "postgresql", "name": "'"$pg_db"'", "host": "'"$pgdir"'", "user": "postgres"}'
			((kea_threads == 0)) ||
				mt='"multi-threading": {"enable-multi-threading": true, "thread-pool-size": '$kea_threads', "packet-queue-size": 64},'
		fi
		cat >"$d/kea.conf" <<EOF
{"Dhcp4": {
  "interfaces-config": {"interfaces": ["$sif"], "dhcp-socket-type": "udp"},
  "lease-database": $db,
  $mt
  "valid-lifetime": $lease_time,
  "subnet4": [{"subnet": "$subnet/$plen", "pools": [{"pool": "$pool_first - $pool_last"}]}],
  "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "stderr"}], "severity": "WARN"}]
}}
EOF
		;;
	dhcpd)
		# No ping before offering (on by default in dhcpd, and in
		# dnsmasq): the others do not ping either.
		cat >"$d/dhcpd.conf" <<EOF
default-lease-time $lease_time;
max-lease-time $lease_time;
authoritative;
ping-check false;
ddns-update-style none;
subnet $subnet netmask $netmask {
  range $pool_first $pool_last;
}
EOF
		: >"$d/dhcpd.leases"
		;;
	esac
}

# fresh_db makes an empty database for a run on PostgreSQL, with the
# schema of the server that will use it.
fresh_db() {
	local s=$1 d=$2
	pg_runs=$((pg_runs + 1))
	pg_db=run$pg_runs
	psql_pg "CREATE DATABASE $pg_db"
	case $s in
	leased-pg | leased-pg2)
		"$leased_bin" db init --url "host=$pgdir port=5432 user=postgres dbname=$pg_db sslmode=disable" >"$d/db-init.log" 2>&1 ||
			die "leased db init failed; see $d/db-init.log" ;;
	kea-pg)
		kea-admin db-init pgsql -h "$pgdir" -u postgres -n "$pg_db" >"$d/db-init.log" 2>&1 ||
			die "kea-admin db-init pgsql failed; see $d/db-init.log" ;;
	esac
}

# drop_db drops the database of the run that ended.
drop_db() {
	[[ -n $pg_db ]] || return 0
	psql_pg "DROP DATABASE IF EXISTS $pg_db" || say "warning: could not drop database $pg_db"
	pg_db=
}

# start_server SERVER DIR starts the server (both of leased-pg2) in the
# server namespace, pinned, with a fresh store in DIR, and waits until it
# listens.
start_server() {
	local s=$1 d=$2 n nproc=1
	[[ $s == leased-pg2 ]] && nproc=2
	[[ $s == leased-pg* || $s == kea-pg ]] && fresh_db "$s" "$d"
	for n in $(seq "$nproc"); do
		write_config "$s" "$d" "$n"
		local cmd=()
		case $s in
		leased | leased-pg | leased-pg2)
			cmd=("$leased_bin" server --config "$d/leased$n.yaml" --store "$d/store$n" --log-level warn --control "")
			# shellcheck disable=SC2206 # split on purpose
			[[ -z $leased_flags ]] || cmd+=($leased_flags)
			# The two servers of leased-pg2 share port 67 on purpose.
			[[ $s == leased-pg2 ]] && cmd+=(--share-port) ;;
		kea | kea-pg)
			cmd=(env "KEA_PIDFILE_DIR=$d" "KEA_LOCKFILE_DIR=$d" kea-dhcp4 -c "$d/kea.conf") ;;
		dhcpd)
			cmd=(dhcpd -4 -f -q -cf "$d/dhcpd.conf" -lf "$d/dhcpd.leases" -pf "$d/dhcpd.pid" "$sif") ;;
		dnsmasq)
			cmd=(dnsmasq -k --conf-file=/dev/null --port=0 --user=root --group=root --interface="$sif"
				--dhcp-range="$pool_first,$pool_last,$netmask,${lease_time}s" --dhcp-lease-max=10000
				--dhcp-leasefile="$d/dnsmasq.leases" --dhcp-authoritative --no-ping --quiet-dhcp
				--log-facility="$d/dnsmasq.log" --pid-file="$d/dnsmasq.pid") ;;
		esac
		# ip netns exec, taskset and env exec in turn: $! is the server.
		ip netns exec "$sns" taskset -c "$cpu_server" "${cmd[@]}" >"$d/server$n.log" 2>&1 &
		local pid=$!
		server_pids+=("$pid")
		local i up=0
		for i in $(seq 100); do
			if ! kill -0 "$pid" 2>/dev/null; then
				die "$s did not start; its log, $d/server$n.log:
$(tail -20 "$d/server$n.log")"
			fi
			if ip netns exec "$sns" ss -Hulnp 'sport = :67' 2>/dev/null | grep -q "pid=$pid,"; then
				up=1
				break
			fi
			sleep 0.1
		done
		((up)) || die "$s does not listen on port 67 after 10 s; see $d/server$n.log"
	done
	sleep 0.3
}

stop_server() {
	local pid i
	for pid in "${server_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${server_pids[@]}"; do
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	server_pids=()
	((pg_started)) && drop_db
	return 0
}

# cpu_ticks PID... prints the processes' user+system time in clock ticks,
# every thread included (/proc/PID/stat fields 14 and 15).
cpu_ticks() {
	local pid t=0 v
	for pid in "$@"; do
		v=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
		t=$((t + v))
	done
	echo "$t"
}

# child_ticks prints the CPU time of this shell's reaped children (fields
# 16 and 17 of its stat): read before and after waiting for the load
# generator, it gives the generator's CPU time.
child_ticks() {
	local line
	read -r line <"/proc/$$/stat"
	line=${line##*) }
	local f=($line)
	echo $((f[13] + f[14]))
}

# rcvbuf_errors NS prints the UDP datagrams the kernel dropped for want of
# socket receive buffer in namespace NS since it was made.
rcvbuf_errors() {
	ip netns exec "$1" awk '/^Udp:/ { if (!c) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i } else { print $c; exit } }' /proc/net/snmp
}

# --- load --------------------------------------------------------------

# run_perfdhcp RATE OUT runs perfdhcp and sets load_line to: started
# completed achieved-rate avg-DO avg-RA max-DO max-RA (ms; "-" when none).
run_perfdhcp() {
	local rate=$1 out=$2
	# Given an interface and no server, perfdhcp broadcasts its relayed
	# requests (from the interface's address, giaddr set): to every
	# server on the link.
	local perfdhcp_to=(-l "$cli_addr" "$target")
	[[ $target == 255.255.255.255 ]] && perfdhcp_to=(-l "$cif")
	ip netns exec "$cns" taskset -c "$cpu_client" timeout -k 5 $((period + exit_wait / 1000 + 30)) \
		perfdhcp -4 -g single -R "$clients" -r "$rate" -p "$period" "${wait_flag[@]}" "${perfdhcp_to[@]}" >"$out" 2>&1 &
	gen_pid=$!
	local c0
	c0=$(child_ticks)
	wait "$gen_pid" || true # exit status 3: some exchanges were lost
	gen_ticks=$(($(child_ticks) - c0))
	gen_pid=
	load_line=$(awk '
		function num(v) { return (v ~ /^[0-9.]+$/) ? v : "-" }
		/^Rate:/ { rate = $2 }
		/Statistics for: DISCOVER-OFFER/ { sec = "do" }
		/Statistics for: REQUEST-ACK/ { sec = "ra" }
		/^sent packets:/ { sent[sec] = $3 }
		/^received packets:/ { recv[sec] = $3 }
		/^avg delay:/ { avg[sec] = $NF == "ms" ? $(NF-1) : $NF }
		/^max delay:/ { mx[sec] = $NF == "ms" ? $(NF-1) : $NF }
		END { printf "%d %d %s %s %s %s %s\n", sent["do"], recv["ra"], num(rate), num(avg["do"]), num(avg["ra"]), num(mx["do"]), num(mx["ra"]) }
	' "$out")
}

# jfield JSON OBJECT KEY prints a number from leased bench's JSON summary;
# OBJECT is "" for the top level.
jfield() {
	local j=$1
	[[ -z $2 ]] || j=$(sed -n "s/.*\"$2\":{\([^}]*\)}.*/\1/p" <<<"$j")
	sed -n "s/.*\"$3\":\([-0-9.e+]*\).*/\1/p" <<<"$j" | head -1
}

# run_loadgen MODE N OUT runs leased bench, open loop at N exchanges per
# second (MODE ladder) or closed loop with N in flight (MODE ceiling), and
# sets load_line as run_perfdhcp does.
run_loadgen() {
	local mode=$1 n=$2 out=$3 load
	if [[ $mode == ladder ]]; then load=(--rate "$n"); else load=(--outstanding "$n"); fi
	ip netns exec "$cns" taskset -c "$cpu_client" timeout -k 5 $((period + 30)) \
		"$leased_bin" bench --server "$target" --local "$cli_addr:67" --clients "$clients" "${load[@]}" \
		--duration "${period}s" --timeout 1s --progress 0 --json >"$out" 2>"$out.err" &
	gen_pid=$!
	local c0
	c0=$(child_ticks)
	wait "$gen_pid" || true # exit status 1: nothing completed
	gen_ticks=$(($(child_ticks) - c0))
	gen_pid=
	local j ms='{ printf "%.3f", $1 / 1000 }'
	j=$(tail -1 "$out")
	if [[ $j != "{"* ]]; then
		load_line="0 0 - - - - -"
		return
	fi
	load_line="$(jfield "$j" "" started) $(jfield "$j" "" completed) $(jfield "$j" "" rate | awk '{ printf "%.1f", $1 }')"
	load_line+=" $(jfield "$j" discover_offer mean_us | awk "$ms") $(jfield "$j" request_ack mean_us | awk "$ms")"
	load_line+=" $(jfield "$j" discover_offer max_us | awk "$ms") $(jfield "$j" request_ack max_us | awk "$ms")"
}

# one_run SERVER MODE RATE RUN measures one run, appends it to the results
# and sets load_line: MODE is ladder, or ceiling with RATE the number of
# exchanges in flight.
one_run() {
	local s=$1 mode=$2 rate=$3 n=$4
	local d=$work/$s-$mode-$rate-$n t0 t1
	mkdir -p "$d"
	start_server "$s" "$d"
	# Both servers of leased-pg2 are on the link: the load generator, a
	# relay agent, sends every request to the link's broadcast address,
	# and each server gets them all.
	target=$srv_addr
	[[ $s == leased-pg2 ]] && target=255.255.255.255
	local s0 g0 s1 g1 p0=0 p1=0 db=0
	[[ $s == leased-pg* || $s == kea-pg ]] && db=1
	s0=$(rcvbuf_errors "$sns") g0=$(rcvbuf_errors "$cns")
	((db)) && p0=$(pg_ticks)
	t0=$(cpu_ticks "${server_pids[@]}")
	local w0 w1
	w0=$(date +%s%N)
	if [[ $mode == ceiling || $tool == loadgen ]]; then
		run_loadgen "$mode" "$rate" "$d/load.out"
	else
		run_perfdhcp "$rate" "$d/load.out"
	fi
	w1=$(date +%s%N)
	t1=$(cpu_ticks "${server_pids[@]}")
	((db)) && p1=$(pg_ticks)
	s1=$(rcvbuf_errors "$sns") g1=$(rcvbuf_errors "$cns")
	stop_server
	local ms='{ printf "%.0f", $1 * 1000 / hz }' dbms=-
	((db)) && dbms=$(awk -v hz="$hz" "$ms" <<<$((p1 - p0)))
	# server mode rate run started completed achieved avgDO avgRA maxDO maxRA
	# cpu-ms server-socket-drops generator-socket-drops db-cpu-ms generator-cpu-ms
	# wall-ms (the time over which the CPU was measured: the period, and
	# the wait for the last replies)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$mode" "$rate" "$n" "${load_line// /$'\t'}" \
		"$(awk -v hz="$hz" "$ms" <<<$((t1 - t0)))" $((s1 - s0)) $((g1 - g0)) "$dbms" \
		"$(awk -v hz="$hz" "$ms" <<<"$gen_ticks")" $(((w1 - w0) / 1000000)) >>"$results"
	load_line+=" cpu=$(((t1 - t0) * 1000 / hz))ms db=${dbms}ms generator=$((gen_ticks * 1000 / hz))ms drops: server $((s1 - s0)) generator $((g1 - g0))"
}

# step_median SERVER MODE RATE prints the median loss (%) and the median
# start rate of the step's runs.
step_median() {
	awk -F'\t' -v s="$1" -v m="$2" -v r="$3" -v p="$period" '
		function median(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
			return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
		}
		$1 == s && $2 == m && $3 == r { n++; loss[n] = $5 > 0 ? 100 * ($5 - $6) / $5 : 100; st[n] = $5 / p }
		END { if (n) printf "%.2f %.0f\n", median(loss, n), median(st, n); else print "100 0" }
	' "$results"
}

out_of_time() { (($(date +%s) - started_at >= max_time)); }

# --- main --------------------------------------------------------------

results=$work/results.tsv
: >"$results"
hz=$(getconf CLK_TCK)
load_line=
gen_ticks=0
target=$srv_addr
pg_db=
pg_runs=0

export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin
if [[ -z $leased_bin ]]; then
	command -v go >/dev/null || die "go not found: install Go or pass --leased BIN"
	say "building leased"
	(cd "$repo" && go build -o "$work/leased" ./cmd/leased) || die "go build failed"
	leased_bin=$work/leased
fi
[[ -x $leased_bin ]] || die "--leased $leased_bin is not executable"
leased_bin=$(cd "$(dirname "$leased_bin")" && pwd)/$(basename "$leased_bin")
install_peers
[[ $tool == loadgen ]] || command -v perfdhcp >/dev/null || die "perfdhcp not found (Debian package kea-admin)"
active=()
for s in $servers; do
	if [[ $s != leased && -n $(missing_pkg "$s") ]]; then
		say "skipping $s: not installed"
		continue
	fi
	active+=("$s")
done

fstype=$(findmnt -n -o FSTYPE --target "$work" 2>/dev/null || stat -f -c %T "$work")
[[ $fstype == tmpfs || $fstype == ramfs ]] &&
	say "warning: $work is on $fstype, where fsync costs nothing; use --workdir on a disk"

setup_netns
for s in "${active[@]}"; do
	if [[ $s == leased-pg* || $s == kea-pg ]]; then
		start_pg
		break
	fi
done
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "machine: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $ncpu CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)"
	echo "store directory: $fstype; server on CPU $cpu_server, load generator on CPU $cpu_client"
	echo "load average at start: $load_start"
	for s in "${active[@]}"; do echo "$s: $(version_of "$s")"; done
	if ((pg_started)); then
		echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'), its own in the work directory (Unix socket, fsync on, synchronous_commit on), on CPUs $cpu_db"
	fi
	if [[ $tool == perfdhcp ]]; then echo "perfdhcp $(perfdhcp -v 2>&1 | head -1)"; fi
} | tee "$work/machine.txt" >&2

wait_flag=()
((exit_wait == 0)) || wait_flag=(-W $((exit_wait * 1000)))
if [[ $tool == perfdhcp ]]; then
	gen_cmd="perfdhcp -4 -g single -R $clients -r RATE -p $period ${wait_flag[*]} -l $cli_addr $srv_addr"
else
	gen_cmd="leased bench --server $srv_addr --local $cli_addr:67 --clients $clients --rate RATE --duration ${period}s"
fi
say "ladder: $rates /s, $runs runs of ${period}s each; load: $gen_cmd"

for s in "${active[@]}"; do
	fails=0
	for rate in $rates; do
		if out_of_time; then
			say "--max-time reached: no more runs"
			break 2
		fi
		for n in $(seq "$runs"); do
			one_run "$s" ladder "$rate" "$n"
			say "$(printf '%-8s %6s/s run %d: %s' "$s" "$rate" "$n" "$load_line")"
		done
		read -r loss _ < <(step_median "$s" ladder "$rate")
		say "$(printf '%-8s %6s/s median loss %s%%' "$s" "$rate" "$loss")"
		if awk -v l="$loss" -v m="$stop_loss" 'BEGIN { exit !(l >= m) }'; then break; fi
		if awk -v l="$loss" 'BEGIN { exit !(l >= 1) }'; then
			fails=$((fails + 1))
			((fails < 2)) || break
		else
			fails=0
		fi
	done
done

if ((ceiling)); then
	for s in "${active[@]}"; do
		for o in $outstanding; do
			for n in $(seq "$runs"); do
				out_of_time && break 3
				one_run "$s" ceiling "$o" "$n"
				say "$(printf '%-8s closed loop, %d in flight, run %d: %s' "$s" "$o" "$n" "$load_line")"
			done
		done
	done
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ------------------------------------------------------------

storage_list=
for s in "${active[@]}"; do storage_list+="$s=$(storage_of "$s")|"; done

report() {
	awk -F'\t' -v period="$period" -v storage="$storage_list" -v order="${active[*]}" \
		-v tool="$tool" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
		return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
	}
	# med(key, column): median of a column over the runs of key; "-" if none.
	function med(key, col,   i, n, a, v) {
		n = 0
		for (i = 1; i <= runs[key]; i++) { v = val[key, i, col]; if (v != "-" && v != "") a[++n] = v + 0 }
		return n ? median(a, n) : "-"
	}
	function f(v, fmt) { return v == "-" ? "-" : sprintf(fmt, v) }
	function ratio(a, b) {
		if (!(a in best) || !(b in best)) return
		if (best[a] != "" && best[b] != "")
			printf "- %s/%s: %.2f (%s/s vs %s/s)\n", a, b, best[a] / best[b], commas(best[a]), commas(best[b])
		else
			printf "- %s/%s: %s vs %s\n", a, b, best[a] == "" ? "none" : commas(best[a]) "/s", best[b] == "" ? "none" : commas(best[b]) "/s"
	}
	function commas(v,   s, out) {
		if (v == "-" || v == "") return "-"
		s = sprintf("%.0f", v); out = ""
		while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
		return s out
	}
	BEGIN {
		ns = split(order, srv, " ")
		m = split(storage, parts, "|")
		for (i = 1; i <= m; i++) { split(parts[i], kv, "="); st[kv[1]] = kv[2] }
	}
	{
		key = $1 SUBSEP $2 SUBSEP $3
		if (!(key in runs)) { runs[key] = 0; if ($2 == "ladder" && !seen[$3]++) rl[++nr] = $3 + 0 }
		k = ++runs[key]
		for (c = 5; c <= 17; c++) val[key, k, c] = $c
		# CPU shares are over the time the CPU was measured (older
		# results: the period).
		wall = $17 > 0 ? $17 / 1000 : period
		# Derived: loss %, CPU ms per 1,000 leases, CPU % of a core,
		# exchanges started and completed per second, and the datagrams
		# dropped at the sockets of the generator and of the server, in %
		# of the exchanges started.
		val[key, k, 21] = $5 > 0 ? 100 * ($5 - $6) / $5 : 100
		val[key, k, 22] = $6 > 0 ? $12 * 1000 / $6 : "-"
		val[key, k, 23] = 100 * $12 / 1000 / wall
		val[key, k, 24] = $5 / period
		val[key, k, 25] = $6 / period
		val[key, k, 26] = $5 > 0 ? 100 * $14 / $5 : 0
		val[key, k, 27] = $5 > 0 ? 100 * $13 / $5 : 0
		# The CPU of the database and of the load generator, in % of a
		# core, and that of the server(s) and the database together per
		# 1,000 leases.
		val[key, k, 28] = $15 == "-" || $15 == "" ? "-" : 100 * $15 / 1000 / wall
		val[key, k, 29] = $16 == "-" || $16 == "" ? "-" : 100 * $16 / 1000 / wall
		val[key, k, 30] = $6 > 0 ? ($12 + ($15 == "-" || $15 == "" ? 0 : $15)) * 1000 / $6 : "-"
	}
	END {
		# Sort the rates of the ladder.
		for (i = 2; i <= nr; i++) for (j = i; j > 1 && rl[j-1] > rl[j]; j--) { t = rl[j]; rl[j] = rl[j-1]; rl[j-1] = t }
		printf "\nLadder (%s): median loss %% at each rate. * = the load generator started under 97%% of the rate;\n", tool
		printf "s, g = datagrams dropped by the kernel at the server\047s and at the load generator\047s socket, in %% of the exchanges\n\n"
		printf "| DORA/s |"; for (i = 1; i <= ns; i++) printf " %s |", srv[i]; printf "\n|---:|"
		for (i = 1; i <= ns; i++) printf "---:|"; printf "\n"
		for (r = 1; r <= nr; r++) {
			printf "| %s |", commas(rl[r])
			for (i = 1; i <= ns; i++) {
				key = srv[i] SUBSEP "ladder" SUBSEP rl[r]
				if (!(key in runs)) { printf " |"; continue }
				short = med(key, 24) < 0.97 * rl[r] ? "*" : ""
				note = ""
				if (med(key, 27) >= 0.01) note = note sprintf(" s%.1f", med(key, 27))
				if (med(key, 26) >= 0.01) note = note sprintf(" g%.1f", med(key, 26))
				printf " %s%s%s |", f(med(key, 21), "%.2f"), short, note
			}
			printf "\n"
		}
		# Per server: the highest rate with < 1% loss (and a full load),
		# and the peak completed rate.
		for (i = 1; i <= ns; i++) {
			s = srv[i]; best[s] = ""; peak[s] = 0
			for (r = 1; r <= nr; r++) {
				key = s SUBSEP "ladder" SUBSEP rl[r]
				if (!(key in runs)) continue
				if (med(key, 21) < 1 && med(key, 24) >= 0.97 * rl[r]) best[s] = rl[r]
				a = med(key, 25)
				if (a != "-" && a > peak[s]) { peak[s] = a; peakloss[s] = med(key, 21) }
			}
		}
		printf "\nResults (%s, medians): at the highest rate with < 1%% loss\n\n", tool
		printf "| server | storage | highest DORA/s with < 1%% loss | avg latency DO / RA (ms) | max latency DO / RA (ms) | server CPU per 1,000 leases (ms) | server CPU (%% of a core) | peak DORA/s (loss) |\n"
		printf "|---|---|---:|---:|---:|---:|---:|---:|\n"
		for (i = 1; i <= ns; i++) {
			s = srv[i]
			if (best[s] == "") {
				printf "| %s | %s | none | - | - | - | - | %s (%s%%) |\n", s, st[s], commas(peak[s]), f(peakloss[s], "%.1f")
				continue
			}
			key = s SUBSEP "ladder" SUBSEP best[s]
			printf "| %s | %s | %s | %s / %s | %s / %s | %s | %s | %s (%s%%) |\n", s, st[s], commas(best[s]),
				f(med(key, 8), "%.2f"), f(med(key, 9), "%.2f"), f(med(key, 10), "%.1f"), f(med(key, 11), "%.1f"),
				f(med(key, 22), "%.1f"), f(med(key, 23), "%.0f"), commas(peak[s]), f(peakloss[s], "%.1f")
		}
		# Where the CPU goes, at the highest rate of each server with < 1% loss
		# (or its peak): two cores are shared by the server(s), the
		# database and the load generator.
		printf "\nWhere the CPU goes (%% of one core, medians; at the highest rate with < 1%% loss, else at the peak)\n\n"
		printf "| server | DORA/s | server(s) | PostgreSQL | load generator | server(s) + PostgreSQL per 1,000 leases (ms) |\n"
		printf "|---|---:|---:|---:|---:|---:|\n"
		for (i = 1; i <= ns; i++) {
			s = srv[i]; r = best[s]
			if (r == "") for (j = 1; j <= nr; j++) { key = s SUBSEP "ladder" SUBSEP rl[j]; if ((key in runs) && med(key, 25) == peak[s]) r = rl[j] }
			if (r == "") continue
			key = s SUBSEP "ladder" SUBSEP r
			printf "| %s | %s | %s | %s | %s | %s |\n", s, commas(med(key, 25)), f(med(key, 23), "%.0f"),
				f(med(key, 28), "%.0f"), f(med(key, 29), "%.0f"), f(med(key, 30), "%.1f")
		}
		# The PostgreSQL comparison: the ratios the targets are set in.
		if (("leased-pg" in best) || ("leased-pg2" in best) || ("kea-pg" in best)) {
			printf "\nOn PostgreSQL (highest rates with < 1%% loss, this run)\n\n"
			ratio("leased-pg", "kea-pg"); ratio("leased-pg2", "leased-pg"); ratio("leased-pg", "leased")
		}
		# Ratios of leased to each peer.
		if (!("leased" in best) || ns < 2) exit
		printf "\nleased compared with each peer\n\n"
		for (i = 1; i <= ns; i++) {
			p = srv[i]
			if (p == "leased") continue
			if (best["leased"] != "" && best[p] != "")
				printf "- %s: highest rate with < 1%% loss %s/s vs %s/s (leased/%s %.2f)\n", p, commas(best["leased"]), commas(best[p]), p, best["leased"] / best[p]
			else
				printf "- %s: highest rate with < 1%% loss %s vs %s\n", p, best["leased"] == "" ? "none" : commas(best["leased"]), best[p] == "" ? "none" : commas(best[p])
			# The highest rate both passed: CPU and latency side by side.
			common = ""
			for (r = 1; r <= nr; r++) {
				kl = "leased" SUBSEP "ladder" SUBSEP rl[r]; kp = p SUBSEP "ladder" SUBSEP rl[r]
				if ((kl in runs) && (kp in runs) && med(kl, 21) < 1 && med(kp, 21) < 1) common = rl[r]
			}
			if (common != "") {
				kl = "leased" SUBSEP "ladder" SUBSEP common; kp = p SUBSEP "ladder" SUBSEP common
				cl = med(kl, 22); cp = med(kp, 22)
				printf "  at %s/s, the highest rate both passed: CPU per 1,000 leases %s ms vs %s ms", commas(common), f(cl, "%.1f"), f(cp, "%.1f")
				if (cl != "-" && cp != "-" && cl > 0) printf " (%s/leased %.2f)", p, cp / cl
				printf "; avg latency DO %s vs %s ms, RA %s vs %s ms\n", f(med(kl, 8), "%.2f"), f(med(kp, 8), "%.2f"), f(med(kl, 9), "%.2f"), f(med(kp, 9), "%.2f")
			}
			worse = ""
			for (r = 1; r <= nr; r++) {
				kl = "leased" SUBSEP "ladder" SUBSEP rl[r]; kp = p SUBSEP "ladder" SUBSEP rl[r]
				if ((kl in runs) && (kp in runs) && med(kl, 21) > med(kp, 21)) worse = worse " " commas(rl[r])
			}
			printf "  steps where leased lost more than %s:%s\n", p, worse == "" ? " none" : worse
		}
	}' "$results"

	# Closed loop: the most each server completes.
	if ((ceiling)); then
		awk -F'\t' -v order="${active[*]}" -v outs="$outstanding" -v period="$period" '
		function median(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
			return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
		}
		$2 == "ceiling" { k = $1 SUBSEP $3; n = ++cnt[k]
			v[k, n, 1] = $7; v[k, n, 2] = $5 > 0 ? 100 * ($5 - $6) / $5 : 100
			v[k, n, 3] = $8; v[k, n, 4] = $9; v[k, n, 5] = $6 > 0 ? $12 * 1000 / $6 : 0
			wall = $17 > 0 ? $17 / 1000 : period
			v[k, n, 6] = $15 == "-" || $15 == "" ? 0 : 100 * $15 / 1000 / wall
			v[k, n, 7] = $16 == "-" || $16 == "" ? 0 : 100 * $16 / 1000 / wall
			v[k, n, 8] = 100 * $12 / 1000 / wall }
		END {
			printf "\nCeiling (leased bench, closed loop, medians)\n\n"
			printf "| server | in flight | DORA/s | loss %% | mean latency DO / RA (ms) | server CPU per 1,000 leases (ms) | CPU %% of a core: server(s) / PostgreSQL / generator |\n|---|---:|---:|---:|---:|---:|---:|\n"
			ns = split(order, srv, " "); no = split(outs, out, " ")
			for (i = 1; i <= ns; i++) for (o = 1; o <= no; o++) {
				k = srv[i] SUBSEP out[o]; n = cnt[k]; if (!n) continue
				for (c = 1; c <= 8; c++) { for (r = 1; r <= n; r++) a[r] = v[k, r, c]; m[c] = median(a, n) }
				printf "| %s | %d | %.0f | %.2f | %.2f / %.2f | %.1f | %.0f / %.0f / %.0f |\n", srv[i], out[o], m[1], m[2], m[3], m[4], m[5], m[8], m[6], m[7]
			}
		}' "$results"
	fi
	echo
	cat "$work/machine.txt"
	echo "load average at end: $load_end"
	echo "load: $gen_cmd ($runs runs per step, medians; server and generator pinned to CPUs $cpu_server and $cpu_client)"
}

report | tee "$work/report.md"
if [[ -n $out_file ]]; then
	cp "$work/report.md" "$out_file"
	cp "$results" "$out_file.tsv"
	say "report written to $out_file, raw results to $out_file.tsv"
fi
