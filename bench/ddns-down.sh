#!/usr/bin/env bash
# ddns-down.sh - leased under load with dynamic DNS updates to BIND 9, with
# BIND up and with BIND down: DHCP throughput and loss in each case, and
# how long the names take to reach the DNS once BIND is back, across a
# restart of leased while it was down.
#
# Usage: sudo bench/ddns-down.sh [--modes "off up stop drop"] [--duration S] [--rate R | --outstanding N] [flags]
#
# It makes three network namespaces: the server's (198.18.0.1/20 towards
# the load generator, 198.18.16.1/24 towards the DNS server), the load
# generator's (198.18.0.2/20) and BIND's (198.18.16.53/24); nothing
# leaves them. For each mode it starts leased afresh (empty store,
# pinned to one CPU) and BIND afresh (zones bench.test and
# 18.198.in-addr.arpa, a TSIG key, update-quota 1000), runs "leased bench
# --hostnames" from the other CPU (each simulated client sends a host
# name, so each lease gets a name), and prints the rate of completed
# exchanges and the loss; --runs rounds of every mode, interleaved, and the
# medians. The modes:
#
#   off    ddns disabled: the baseline
#   up     ddns to BIND, BIND running
#   stop   ddns to BIND, BIND stopped: updates are refused at once (ICMP
#          port unreachable, TCP reset)
#   drop   ddns to BIND, BIND unreachable: updates vanish (a neighbour
#          entry of the server sends them to a hardware address nobody
#          has), so every attempt waits for its timeout
#
# After the load: with BIND up, it waits until every bound lease's name
# and address are in BIND's zones (by zone transfer); with BIND down, it
# restarts leased (SIGTERM, start again on the same store) while BIND is
# still down, then starts BIND (or lifts the drop) and waits the same way.
# The namespaces, processes and work directory are the script's own and
# are removed at the end, also on failure.
set -euo pipefail

modes="off up stop drop"
duration=10
rate=0
outstanding=64
clients=3000
runs=3
leased_bin=
cpus=0,1
rescan=
converge_timeout=600
keep=0

usage() { sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; cat <<'EOF'

flags:
  --modes "LIST"        modes to run, among off up stop drop (default: all four)
  --duration S          seconds of load per mode (default 10)
  --rate R              open loop: exchanges started per second (default: closed loop)
  --outstanding N       closed loop: exchanges in flight (default 64)
  --clients N           simulated clients, each with its own name (default 3000)
  --runs N              rounds of every mode, interleaved; medians are reported (default 3)
  --rescan D            leased's ddns.rescan, a Go duration (default: leased's own)
  --converge-timeout S  longest wait for the names (default 600)
  --leased BIN          use this leased binary instead of building one
  --cpus S,C            CPU of leased and of the load generator and BIND (default 0,1)
  --keep                keep the work directory (configurations, logs, stores)
EOF
}
say() { printf '%s\n' "$*" >&2; }
die() {
	say "ddns-down.sh: $*"
	exit 1
}

while (($#)); do
	case $1 in
	--modes) modes=$2; shift ;;
	--duration) duration=$2; shift ;;
	--rate) rate=$2; shift ;;
	--outstanding) outstanding=$2; shift ;;
	--clients) clients=$2; shift ;;
	--runs) runs=$2; shift ;;
	--rescan) rescan=$2; shift ;;
	--converge-timeout) converge_timeout=$2; shift ;;
	--leased) leased_bin=$2; shift ;;
	--cpus) cpus=$2; shift ;;
	--keep) keep=1 ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument $1 (see -h)" ;;
	esac
	shift
done
[[ $duration =~ ^[0-9]+$ ]] && ((duration > 0 && duration <= 600)) || die "--duration $duration: want 1 to 600 seconds"
[[ $rate =~ ^[0-9]+$ ]] || die "--rate $rate: want a whole number of exchanges per second"
[[ $clients =~ ^[0-9]+$ ]] && ((clients > 0 && clients <= 3839)) || die "--clients $clients: want 1 to 3839 (the pool)"
[[ $runs =~ ^[0-9]+$ ]] && ((runs > 0 && runs <= 20)) || die "--runs $runs: want 1 to 20"
[[ $converge_timeout =~ ^[0-9]+$ ]] || die "--converge-timeout $converge_timeout: want seconds"
for m in $modes; do
	case $m in off | up | stop | drop) ;; *) die "--modes: unknown mode $m" ;; esac
done
cpu_server=${cpus%,*} cpu_load=${cpus#*,}
((EUID == 0)) || die "needs root: network namespaces and port 67"
for c in ip taskset ss named tsig-keygen dig python3; do
	command -v "$c" >/dev/null || die "needs $c (Debian: iproute2, util-linux, bind9, bind9-dnsutils, python3)"
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d /var/tmp/leased-ddns.XXXXXX)
tag=ld$$
sns=$tag-srv cns=$tag-cli dns=$tag-dns
sif=${tag}s cif=${tag}c sdif=${tag}sd dif=${tag}d
srv_addr=198.18.0.1 cli_addr=198.18.0.2 plen=20 subnet=198.18.0.0
pool_first=198.18.1.0 pool_last=198.18.15.254 lease_time=300
srv_dns_addr=198.18.16.1 dns_addr=198.18.16.53
zone=bench.test rzone=18.198.in-addr.arpa
made_ns=()
server_pid=
named_pid=

cleanup() {
	local rc=$?
	set +e
	# Only what this script started, by process ID.
	[[ -n $server_pid ]] && stop_server
	[[ -n $named_pid ]] && stop_named
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

for ns in "$sns" "$cns" "$dns"; do
	ip netns add "$ns" && made_ns+=("$ns")
	ip -n "$ns" link set lo up
done
ip link add "$sif" netns "$sns" type veth peer name "$cif" netns "$cns"
ip link add "$sdif" netns "$sns" type veth peer name "$dif" netns "$dns"
ip -n "$sns" addr add "$srv_addr/$plen" dev "$sif"
ip -n "$cns" addr add "$cli_addr/$plen" dev "$cif"
ip -n "$sns" addr add "$srv_dns_addr/24" dev "$sdif"
ip -n "$dns" addr add "$dns_addr/24" dev "$dif"
for l in "$sns $sif" "$cns $cif" "$sns $sdif" "$dns $dif"; do
	read -r ns dev <<<"$l"
	ip -n "$ns" link set "$dev" up
done

tsig-keygen -a hmac-sha256 leased >"$work/tsig.key"
chmod 600 "$work/tsig.key"

# write_named DIR writes BIND's configuration and empty zones into DIR.
write_named() {
	local d=$1 z
	mkdir -p "$d"
	cat >"$d/named.conf" <<EOC
include "$work/tsig.key";
options {
	directory "$d";
	pid-file "$d/named.pid";
	listen-on { $dns_addr; };
	listen-on-v6 { none; };
	recursion no;
	notify no;
	dnssec-validation no;
	allow-transfer { any; };
	session-keyfile none;
	// BIND refuses updates past this many in progress; its default, 100,
	// is below a burst of leased's updates after an outage.
	update-quota 1000;
};
controls { };
zone "$zone" { type primary; file "$d/$zone.zone"; update-policy { grant leased zonesub A DHCID; }; };
zone "$rzone" { type primary; file "$d/$rzone.zone"; update-policy { grant leased zonesub PTR DHCID; }; };
EOC
	for z in "$zone" "$rzone"; do
		printf '$ORIGIN %s.\n$TTL 300\n@ SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n@ NS ns.%s.\n' \
			"$z" "$zone" "$zone" "$zone" >"$d/$z.zone"
	done
	printf 'ns A %s\n' "$dns_addr" >>"$d/$zone.zone"
}

# start_named DIR starts BIND on DIR's configuration, pinned with the load
# generator, and waits until it answers.
start_named() {
	local d=$1 i
	ip netns exec "$dns" taskset -c "$cpu_load" named -g -4 -c "$d/named.conf" >>"$d/named.log" 2>&1 &
	named_pid=$!
	for i in $(seq 100); do
		kill -0 "$named_pid" 2>/dev/null || die "named did not start; see $d/named.log"
		if [[ -n $(ip netns exec "$dns" dig @"$dns_addr" +short +norec +time=1 +tries=1 "$zone" SOA 2>/dev/null) ]]; then
			return 0
		fi
		sleep 0.1
	done
	die "named does not answer after 10 s; see $d/named.log"
}

stop_named() {
	local pid=$named_pid i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	named_pid=
}

# write_leased DIR MODE writes leased's configuration for MODE into DIR.
write_leased() {
	local d=$1 m=$2
	mkdir -p "$d"
	{
		printf 'interfaces: [%s]\nlease-time: %ss\nrate-limit: off\noffer-limit: off\n' "$sif" "$lease_time"
		if [[ $m != off ]]; then
			printf 'ddns:\n  enabled: true\n  qualifying-suffix: %s\n  servers: [%s]\n  key-file: %s\n' \
				"$zone" "$dns_addr" "$work/tsig.key"
			[[ -n $rescan ]] && printf '  rescan: %s\n' "$rescan"
		fi
		printf 'subnets:\n  - prefix: %s/%s\n    pools: [%s-%s]\n' "$subnet" "$plen" "$pool_first" "$pool_last"
	} >"$d/leased.yaml"
}

# start_server DIR starts leased on DIR's configuration and store, pinned,
# and waits until it listens on port 67.
start_server() {
	local d=$1 i
	ip netns exec "$sns" taskset -c "$cpu_server" "$leased_bin" server --config "$d/leased.yaml" --store "$d/store" \
		--log-level warn --control "$d/control.sock" >>"$d/server.log" 2>&1 &
	server_pid=$!
	for i in $(seq 100); do
		kill -0 "$server_pid" 2>/dev/null || die "leased did not start; see $d/server.log"
		if ip netns exec "$sns" ss -Hulnp 'sport = :67' 2>/dev/null | grep -q "pid=$server_pid,"; then
			return 0
		fi
		sleep 0.1
	done
	die "leased does not listen on port 67 after 10 s; see $d/server.log"
}

# stop_server stops leased (SIGTERM) and prints how long it took, in
# seconds.
stop_server() {
	local pid=$server_pid i t0
	t0=$(date +%s.%N)
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	server_pid=
	python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)"
}

# drop_dns makes the server's packets to BIND vanish: its neighbour entry
# for BIND's address points at a hardware address nobody has. lift_drop
# undoes it.
drop_dns() { ip -n "$sns" neigh replace "$dns_addr" lladdr 02:00:5e:00:00:99 nud permanent dev "$sdif"; }
lift_drop() { ip -n "$sns" neigh del "$dns_addr" dev "$sdif" 2>/dev/null || true; }

# names_missing DIR prints how many bound leases of the store lack their
# A or PTR record in BIND's zones, then the number of bound leases.
names_missing() {
	local d=$1
	"$leased_bin" leases list --store "$d/store" --json >"$d/leases.json" 2>/dev/null || true
	ip netns exec "$dns" dig @"$dns_addr" +noall +answer +onesoa "$zone" AXFR >"$d/fwd.axfr" 2>/dev/null || true
	ip netns exec "$dns" dig @"$dns_addr" +noall +answer +onesoa "$rzone" AXFR >"$d/rev.axfr" 2>/dev/null || true
	python3 - "$d" "$zone" <<'EOP'
import json, sys
d, zone = sys.argv[1], sys.argv[2]
fwd, rev = {}, {}
for line in open(f"{d}/fwd.axfr"):
    f = line.split()
    if len(f) >= 5 and f[3] == "A":
        fwd[f[0].rstrip(".").lower()] = f[4]
for line in open(f"{d}/rev.axfr"):
    f = line.split()
    if len(f) >= 5 and f[3] == "PTR":
        rev[f[0].rstrip(".").lower()] = f[4].rstrip(".").lower()
bound = missing = 0
dec = json.JSONDecoder()
text = open(f"{d}/leases.json").read()
i = 0
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    l, i = dec.raw_decode(text, i)
    if l.get("state") != "bound":
        continue
    bound += 1
    name = (l.get("fqdn") or (l.get("hostname", "") + "." + zone)).rstrip(".").lower()
    ptr = ".".join(reversed(l["address"].split("."))) + ".in-addr.arpa"
    if fwd.get(name) != l["address"] or rev.get(ptr) != name:
        missing += 1
print(missing, bound)
EOP
}

# wait_names DIR waits until no bound lease lacks its names and prints the
# seconds it took, or "timeout".
wait_names() {
	local d=$1 t0 missing bound
	t0=$(date +%s)
	while :; do
		read -r missing bound < <(names_missing "$d")
		if ((bound > 0 && missing == 0)); then
			echo $(($(date +%s) - t0))
			return
		fi
		if (($(date +%s) - t0 > converge_timeout)); then
			say "  names: $missing of $bound bound leases still missing after ${converge_timeout}s"
			echo timeout
			return
		fi
		sleep 1
	done
}

# load DIR runs "leased bench" and prints its JSON summary's rate, loss
# and 99th percentile of DISCOVER-ACK latency (ms).
load() {
	local d=$1 flow
	if ((rate > 0)); then flow=(--rate "$rate"); else flow=(--outstanding "$outstanding"); fi
	ip netns exec "$cns" taskset -c "$cpu_load" "$leased_bin" bench --server "$srv_addr" --local "$cli_addr:67" \
		--clients "$clients" --hostnames "${flow[@]}" --duration "${duration}s" --timeout 1s --progress 0 --json \
		>"$d/bench.json" 2>"$d/bench.log" || die "leased bench failed; see $d/bench.log"
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("%.0f %.2f %.2f" % (j["rate"], 100*j["loss"], j["discover_ack"]["p99_us"]/1000))' "$d/bench.json"
}

results=()
for r in $(seq "$runs"); do
	for m in $modes; do
		d=$work/$m-$r
		say "== $m, round $r of $runs"
		write_named "$d/named"
		write_leased "$d" "$m"
		lift_drop
		case $m in up) start_named "$d/named" ;; drop) drop_dns ;; esac
		start_server "$d"
		out=$(load "$d") || exit 1
		read -r dora loss p99 <<<"$out"
		say "  load: $dora DORA/s, loss $loss%, DISCOVER-ACK p99 ${p99} ms"
		stopped=- converge=-
		case $m in
		up)
			converge=$(wait_names "$d") ;;
		stop | drop)
			# The durable queue: leased restarts while the DNS is down, then
			# the DNS comes back.
			stopped=$(stop_server)
			say "  leased stopped in ${stopped}s; restarting it with BIND still down"
			start_server "$d"
			lift_drop
			start_named "$d/named"
			converge=$(wait_names "$d") ;;
		esac
		if [[ $m == off ]]; then
			missing=-
			bound=$("$leased_bin" leases list --store "$d/store" --json | grep -c '"state":"bound"' || true)
		else
			read -r missing bound < <(names_missing "$d")
		fi
		[[ -n $server_pid ]] && stop_server >/dev/null
		[[ -n $named_pid ]] && stop_named
		[[ $m == off ]] || say "  names of $bound bound leases in the DNS after ${converge}s ($missing missing)"
		results+=("$m $dora $loss $bound $missing $converge $stopped $p99")
	done
done

printf '%s\n' "${results[@]}" >"$work/results.txt"
python3 - "$rate" "$outstanding" "$duration" "$clients" "${rescan:-default}" "$runs" "${results[@]}" <<'EOP'
import statistics, sys
rate, outstanding, duration, clients, rescan, runs = sys.argv[1:7]
rows = [r.split() for r in sys.argv[7:]]
modes = list(dict.fromkeys(r[0] for r in rows))
def med(vals, fmt="{:.1f}"):
    nums = [float(v) for v in vals if v not in ("-", "timeout")]
    if not nums:
        return "-" if all(v == "-" for v in vals) else "timeout"
    return fmt.format(statistics.median(nums)) + ("*" if "timeout" in vals else "")
INT = "{:.0f}"
per = {m: [r for r in rows if r[0] == m] for m in modes}
dora = {m: statistics.median(float(r[1]) for r in per[m]) for m in modes}
base = dora.get("off", dora[modes[0]])
load = f"open loop at {rate}/s" if rate != "0" else f"closed loop, {outstanding} in flight"
print(f"leased bench --hostnames, {clients} clients, {load}, {duration} s per run, {runs} rounds; ddns.rescan {rescan}")
print(f"{'mode':<6} {'DORA/s':>8} {'ratio':>6} {'loss %':>7} {'p99 ms':>7} {'runs (DORA/s)':>26} {'bound':>6} {'missing':>8} {'names in (s)':>13} {'stop (s)':>9}")
for m in modes:
    rs = per[m]
    each = " ".join(f"{float(r[1]):.0f}" for r in rs)
    print(f"{m:<6} {dora[m]:8.0f} {dora[m]/base:6.2f} {statistics.median(float(r[2]) for r in rs):7.2f} "
          f"{statistics.median(float(r[7]) for r in rs):7.1f} {each:>26} "
          f"{int(statistics.median(int(r[3]) for r in rs)):>6} {med([r[4] for r in rs], INT):>8} {med([r[5] for r in rs]):>13} {med([r[6] for r in rs]):>9}")
print("medians of the rounds; ratio: DORA/s over off's (or the first mode's); p99: DISCOVER-ACK latency; names in: seconds from the end"
      " of the load (up) or from BIND's return after the restart of leased (stop, drop) until every bound"
      " lease's A and PTR records were in the zones (* some rounds timed out); stop: seconds leased took to"
      " stop on SIGTERM with BIND down")
EOP
