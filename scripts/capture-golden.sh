#!/usr/bin/env bash
# capture-golden.sh - capture DHCPv4 packets from real clients and a real
# server, and write them as the golden test vectors of package dhcpv4.
#
# Usage (as root, from anywhere in the repository):
#
#     scripts/capture-golden.sh [OUTDIR]
#
# OUTDIR defaults to dhcpv4/testdata/golden. Needs the Debian packages
# isc-dhcp-client, udhcpc (or busybox), dnsmasq-base, tcpdump and iproute2,
# plus python3 (standard library only) for the extraction.
#
# What it does:
#
#   - creates two network namespaces, a server and a client, joined by a veth
#     pair; the server end has 198.18.0.1/24. Nothing is created in the
#     initial namespace and no traffic leaves the pair.
#   - runs dnsmasq (DHCP only, DNS disabled, authoritative so that it NAKs a
#     request for an address of another network) on the server end, with a
#     120 s lease so that T1 is 60 s, and options router, domain-name-server
#     and domain-name so that its ACKs carry them. dnsmasq-base is enough: the
#     dnsmasq package would also install and start a system service.
#   - captures UDP ports 67 and 68 on the server end with tcpdump.
#   - in the client namespace, with the interface's MAC address set per
#     scenario so each packet can be told apart by its chaddr:
#       02:c6:12:00:00:01  ISC dhclient: DORA, renewal at T1, restart with the
#                          lease file kept (INIT-REBOOT), then dhclient -r.
#       02:c6:12:00:00:02  busybox udhcpc: DORA, renew (SIGUSR1), release on
#                          exit (-R, SIGTERM).
#       02:c6:12:00:00:03  ISC dhclient with a lease file remembering
#                          198.19.0.77, outside the server's subnet: its
#                          INIT-REBOOT REQUEST is answered with a DHCPNAK.
#       02:c6:12:00:00:04  busybox udhcpc -B: DORA with the broadcast flag.
#   - extracts the UDP payload (the BOOTP message from the op byte on) of one
#     packet per kind and writes it as lowercase hex, 32 bytes per line, to
#     OUTDIR/<sender>-<message>.hex.
#
# The clients run with hook scripts of their own (written to a temporary
# directory) that only add or remove the leased address on the client
# namespace's interface; no resolv.conf, route or host setting is touched.
# dhclient runs in its own UTS namespace with host name "golden-client", so
# the host-name option it sends does not depend on the capturing machine.
#
# A run takes a little over a minute, most of it waiting for dhclient's
# renewal at T1. Transaction IDs differ from run to run; addresses, options,
# flags and lengths do not.
#
# On exit (normal or not) it stops only the processes it started, deletes its
# namespaces and removes its temporary directory.

set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
	echo "capture-golden.sh: must run as root (network namespaces)" >&2
	exit 1
fi

for cmd in ip dhclient udhcpc dnsmasq tcpdump unshare python3; do
	if ! command -v "$cmd" >/dev/null 2>&1; then
		echo "capture-golden.sh: $cmd not found; install isc-dhcp-client udhcpc dnsmasq-base tcpdump iproute2 python3" >&2
		exit 1
	fi
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
outdir=${1:-$repo/dhcpv4/testdata/golden}

srv_ns=golden-srv-$$
cli_ns=golden-cli-$$
srv_if=srv0
cli_if=eth0
srv_addr=198.18.0.1

mac_dhclient=02:c6:12:00:00:01
mac_udhcpc=02:c6:12:00:00:02
mac_nak=02:c6:12:00:00:03
mac_bcast=02:c6:12:00:00:04

tmp=$(mktemp -d "${TMPDIR:-/tmp}/capture-golden.XXXXXX")
pids=()
netns_made=()

cleanup() {
	local rc=$?
	set +e
	# Stop what we started, newest first, by PID only.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	# Anything still running in our namespaces was started by this script
	# (a client's hook script, say): stop it before removing them.
	for ns in "${netns_made[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
	done
	sleep 0.2
	for ns in "${netns_made[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "capture-golden: $*" >&2; }

die() {
	log "error: $*"
	for f in "$tmp"/*.log; do
		[[ -s $f ]] || continue
		echo "--- ${f##*/}" >&2
		tail -n 20 "$f" >&2
	done
	exit 1
}

# forget PID removes a process we have already waited for from the list.
forget() {
	local keep=() p
	for p in "${pids[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	pids=("${keep[@]}")
}

# stop PID sends SIGTERM to a process we started and waits for it.
stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	forget "$1"
}

# wait_for SECONDS DESCRIPTION COMMAND... polls COMMAND until it succeeds.
wait_for() {
	local secs=$1 what=$2 n
	shift 2
	for ((n = 0; n < secs * 10; n++)); do
		if "$@"; then
			return 0
		fi
		sleep 0.1
	done
	die "timed out after ${secs}s waiting for $what"
}

# has_event CLIENT EVENT: the client's hook script has reported EVENT.
has_event() { grep -qx "$2" "$tmp/$1.events" 2>/dev/null; }

# count_event CLIENT EVENT prints how often the hook has reported EVENT.
count_event() {
	local n
	n=$(grep -cx "$2" "$tmp/$1.events" 2>/dev/null) || true
	echo "${n:-0}"
}

# more_events CLIENT EVENT N: the hook has reported EVENT more than N times.
more_events() { [[ $(count_event "$1" "$2") -gt $3 ]]; }

# spawn LOG COMMAND... starts COMMAND in the background with its output in
# LOG, records its PID for cleanup and leaves it in $spawned. COMMAND must be
# an executable (not a shell function) so that the PID is its own.
spawn() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	spawned=$!
	pids+=("$spawned")
}

in_srv() { ip netns exec "$srv_ns" "$@"; }
in_cli() { ip netns exec "$cli_ns" "$@"; }

# set_mac MAC gives the client interface a new identity, without addresses.
set_mac() {
	in_cli ip link set dev "$cli_if" down
	in_cli ip link set dev "$cli_if" address "$1"
	in_cli ip -4 addr flush dev "$cli_if"
	in_cli ip link set dev "$cli_if" up
}

log "packages: $(dpkg-query -W -f='${Package} ${Version}; ' isc-dhcp-client udhcpc busybox dnsmasq-base tcpdump 2>/dev/null || true)"

# --- the network ------------------------------------------------------------

ip netns add "$srv_ns"
netns_made+=("$srv_ns")
ip netns add "$cli_ns"
netns_made+=("$cli_ns")
ip link add name "$srv_if" netns "$srv_ns" type veth peer name "$cli_if" netns "$cli_ns"
in_srv ip link set dev lo up
in_cli ip link set dev lo up
in_srv ip addr add "$srv_addr/24" dev "$srv_if"
in_srv ip link set dev "$srv_if" up
set_mac "$mac_dhclient"

# --- capture and server -----------------------------------------------------

pcap=$tmp/golden.pcap
spawn "$tmp/tcpdump.log" ip netns exec "$srv_ns" \
	tcpdump -i "$srv_if" -n -s 0 -U -Z root -w "$pcap" 'udp port 67 or udp port 68'
tcpdump_pid=$spawned
wait_for 10 "tcpdump to listen" grep -q 'listening on' "$tmp/tcpdump.log"

spawn "$tmp/dnsmasq.log" ip netns exec "$srv_ns" \
	dnsmasq --no-daemon --conf-file=/dev/null --port=0 --no-resolv --no-hosts \
	--user=root --group=root --pid-file="$tmp/dnsmasq.pid" --dhcp-authoritative \
	--interface="$srv_if" --bind-interfaces \
	--dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,120s \
	--dhcp-leasefile="$tmp/dnsmasq.leases" \
	--dhcp-option=option:router,198.18.0.1 \
	--dhcp-option=option:dns-server,198.18.0.53,198.18.0.54 \
	--dhcp-option=option:domain-name,golden.test \
	--log-dhcp --log-facility=-
dnsmasq_pid=$spawned
wait_for 10 "dnsmasq to start" grep -q 'DHCP, IP range' "$tmp/dnsmasq.log"

# --- hook scripts -----------------------------------------------------------

# dhclient runs its script with a minimal environment, so paths are baked in.
cat >"$tmp/dhclient-hook" <<EOF
#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
echo "\$reason" >>"$tmp/dhclient.events"
case "\$reason" in
BOUND|RENEW|REBIND|REBOOT)
	ip -4 addr flush dev "\$interface"
	ip addr add "\$new_ip_address/\$new_subnet_mask" dev "\$interface"
	;;
EXPIRE|FAIL|RELEASE|STOP)
	ip -4 addr flush dev "\$interface"
	;;
esac
exit 0
EOF

cat >"$tmp/udhcpc-hook" <<EOF
#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
echo "\$1" >>"$tmp/udhcpc.events"
case "\$1" in
bound|renew)
	ip -4 addr flush dev "\$interface"
	ip addr add "\$ip/\$mask" dev "\$interface"
	;;
deconfig)
	ip -4 addr flush dev "\$interface"
	;;
esac
exit 0
EOF
chmod 755 "$tmp/dhclient-hook" "$tmp/udhcpc-hook"

# The default configuration Debian ships in /etc/dhcp/dhclient.conf, written
# out so that a locally edited copy cannot change the capture.
cat >"$tmp/dhclient.conf" <<'EOF'
option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
send host-name = gethostname();
request subnet-mask, broadcast-address, time-offset, routers,
	domain-name, domain-name-servers, domain-search, host-name,
	dhcp6.name-servers, dhcp6.domain-search, dhcp6.fqdn, dhcp6.sntp-servers,
	netbios-name-servers, netbios-scope, interface-mtu,
	rfc3442-classless-static-routes, ntp-servers;
EOF

# The dhclient command line, run in the client namespace and in a UTS
# namespace of its own named golden-client. Append -lf FILE, mode flags and
# the interface.
dhclient_cmd=(ip netns exec "$cli_ns" unshare --uts sh -c 'hostname golden-client && exec "$@"' sh
	dhclient -4 -cf "$tmp/dhclient.conf" -pf "$tmp/dhclient.pid" -sf "$tmp/dhclient-hook")

# --- ISC dhclient: DORA, renewal, INIT-REBOOT, release ----------------------

log "dhclient: DORA"
spawn "$tmp/dhclient-1.log" "${dhclient_cmd[@]}" -lf "$tmp/dhclient.leases" -d -1 "$cli_if"
dhc=$spawned
wait_for 30 "dhclient BOUND" has_event dhclient BOUND

log "dhclient: waiting for the renewal at T1 (up to 70 s)"
wait_for 70 "dhclient RENEW" has_event dhclient RENEW
stop "$dhc"
rm -f "$tmp/dhclient.pid"

log "dhclient: restart with the lease file kept (INIT-REBOOT)"
spawn "$tmp/dhclient-2.log" "${dhclient_cmd[@]}" -lf "$tmp/dhclient.leases" -d -1 "$cli_if"
dhc=$spawned
wait_for 30 "dhclient REBOOT" has_event dhclient REBOOT
stop "$dhc"
rm -f "$tmp/dhclient.pid"

log "dhclient: release (dhclient -r)"
timeout 30 "${dhclient_cmd[@]}" -lf "$tmp/dhclient.leases" -r "$cli_if" \
	>"$tmp/dhclient-3.log" 2>&1 || die "dhclient -r failed"
has_event dhclient RELEASE || die "dhclient -r did not release"
rm -f "$tmp/dhclient.pid"

# --- ISC dhclient: INIT-REBOOT for an address of another subnet -> NAK -------

log "dhclient: INIT-REBOOT for 198.19.0.77 (expect DHCPNAK)"
set_mac "$mac_nak"
when() { date -u -d "$1" '+%w %Y/%m/%d %H:%M:%S'; }
cat >"$tmp/dhclient-moved.leases" <<EOF
lease {
  interface "$cli_if";
  fixed-address 198.19.0.77;
  option subnet-mask 255.255.255.0;
  option routers 198.19.0.1;
  option dhcp-lease-time 3600;
  option dhcp-message-type 5;
  option dhcp-server-identifier 198.19.0.1;
  renew $(when '+30 min');
  rebind $(when '+50 min');
  expire $(when '+60 min');
}
EOF
bound_before=$(count_event dhclient BOUND)
spawn "$tmp/dhclient-4.log" "${dhclient_cmd[@]}" -lf "$tmp/dhclient-moved.leases" -d -1 "$cli_if"
dhc=$spawned
wait_for 30 "dnsmasq to NAK" grep -q 'DHCPNAK' "$tmp/dnsmasq.log"
# After the NAK the client starts over with a DISCOVER; let it finish so the
# exchange is complete in the capture.
wait_for 30 "dhclient BOUND after NAK" more_events dhclient BOUND "$bound_before"
stop "$dhc"
rm -f "$tmp/dhclient.pid"

# --- busybox udhcpc: DORA, renew, release -----------------------------------

log "udhcpc: DORA, renew (SIGUSR1), release on exit (-R)"
set_mac "$mac_udhcpc"
spawn "$tmp/udhcpc-1.log" ip netns exec "$cli_ns" \
	udhcpc -f -i "$cli_if" -s "$tmp/udhcpc-hook" -R -n -t 5 -T 2
udc=$spawned
wait_for 30 "udhcpc bound" has_event udhcpc bound
kill -USR1 "$udc"
wait_for 30 "udhcpc renew" has_event udhcpc renew
kill -TERM "$udc"
wait "$udc" 2>/dev/null || true
forget "$udc"

log "udhcpc -B: DORA with the broadcast flag, release on exit"
set_mac "$mac_bcast"
bound_before=$(count_event udhcpc bound)
spawn "$tmp/udhcpc-2.log" ip netns exec "$cli_ns" \
	udhcpc -f -i "$cli_if" -s "$tmp/udhcpc-hook" -B -R -q -n -t 5 -T 2
udc=$spawned
wait_for 30 "udhcpc -B bound" more_events udhcpc bound "$bound_before"
wait "$udc" 2>/dev/null || true
forget "$udc"

# Let the last replies reach the capture, then stop it.
sleep 1
stop "$dnsmasq_pid"
kill -INT "$tcpdump_pid" 2>/dev/null || true
wait "$tcpdump_pid" 2>/dev/null || true
forget "$tcpdump_pid"

# --- extraction -------------------------------------------------------------

mkdir -p "$outdir"
python3 - "$pcap" "$outdir" "$mac_dhclient" "$mac_udhcpc" "$mac_nak" "$mac_bcast" <<'EOF' || die "extraction failed"
"""Pick one packet of each kind out of the capture and write it as hex."""
import ipaddress
import os
import struct
import sys

pcap, outdir, mac_dhclient, mac_udhcpc, mac_nak, mac_bcast = sys.argv[1:]
MAGIC = b"\x63\x82\x53\x63"
SERVER_NET = ipaddress.ip_network("198.18.0.0/24")
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)


def read_pcap(path):
    """Yield (linktype, frame) for each record of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit(f"{path}: not a pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8 : off + 12])[0]
        yield linktype, data[off + 16 : off + 16 + incl]
        off += 16 + incl


def udp_payload(linktype, frame):
    """Return (src, dst, sport, dport, payload) of an Ethernet/IPv4/UDP frame, or None."""
    if linktype != 1 or len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype != 0x0800 or len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
        return None
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    udp = ip[ihl:total]
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", udp[:6])
    src, dst = ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20])
    return src, dst, sport, dport, udp[8:ulen]


def options(msg):
    """Parse the options field into {code: value}; the first instance wins."""
    opts = {}
    i = 240
    while i < len(msg):
        code = msg[i]
        if code == 255:
            break
        if code == 0:
            i += 1
            continue
        n = msg[i + 1]
        opts.setdefault(code, msg[i + 2 : i + 2 + n])
        i += 2 + n
    return opts


packets = []
for linktype, frame in read_pcap(pcap):
    u = udp_payload(linktype, frame)
    if u is None:
        continue
    src, dst, sport, dport, msg = u
    if len(msg) < 240 or msg[236:240] != MAGIC:
        continue
    opts = options(msg)
    if 53 not in opts:
        continue
    packets.append(
        {
            "msg": msg,
            "op": msg[0],
            "xid": msg[4:8],
            "ciaddr": ipaddress.ip_address(msg[12:16]),
            "chaddr": ":".join(f"{b:02x}" for b in msg[28:34]),
            "type": opts[53][0],
            "opts": opts,
            "route": f"{src}:{sport} -> {dst}:{dport}",
        }
    )


def first(pred):
    for p in packets:
        if pred(p):
            return p
    return None


def client(mac, typ, extra=lambda p: True):
    return first(lambda p: p["op"] == 1 and p["chaddr"] == mac and p["type"] == typ and extra(p))


def reply_to(req, typ):
    if req is None:
        return None
    return first(lambda p: p["op"] == 2 and p["xid"] == req["xid"] and p["chaddr"] == req["chaddr"] and p["type"] == typ)


def selecting(p):
    return p["ciaddr"].packed == bytes(4) and 54 in p["opts"]


def renewing(p):
    return p["ciaddr"].packed != bytes(4)


def requested(p):
    return ipaddress.ip_address(p["opts"][50]) if 50 in p["opts"] else None


def init_reboot(p):
    return p["ciaddr"].packed == bytes(4) and 54 not in p["opts"] and 50 in p["opts"]


def in_subnet(p):
    return requested(p) in SERVER_NET


vectors = {}
vectors["dhclient-discover"] = client(mac_dhclient, DISCOVER)
vectors["dhclient-request-selecting"] = client(mac_dhclient, REQUEST, selecting)
vectors["dhclient-request-renew"] = client(mac_dhclient, REQUEST, renewing)
vectors["dhclient-request-initreboot"] = client(mac_dhclient, REQUEST, lambda p: init_reboot(p) and in_subnet(p))
vectors["dhclient-release"] = client(mac_dhclient, RELEASE)
vectors["dhclient-request-initreboot-wrongnet"] = client(mac_nak, REQUEST, lambda p: init_reboot(p) and not in_subnet(p))
vectors["udhcpc-discover"] = client(mac_udhcpc, DISCOVER)
vectors["udhcpc-request"] = client(mac_udhcpc, REQUEST, selecting)
vectors["udhcpc-request-renew"] = client(mac_udhcpc, REQUEST, renewing)
vectors["udhcpc-release"] = client(mac_udhcpc, RELEASE)
vectors["udhcpc-discover-broadcast"] = client(mac_bcast, DISCOVER)
vectors["dnsmasq-offer"] = reply_to(vectors["dhclient-discover"], OFFER)
vectors["dnsmasq-ack"] = reply_to(vectors["dhclient-request-selecting"], ACK)
vectors["dnsmasq-ack-renew"] = reply_to(vectors["dhclient-request-renew"], ACK)
vectors["dnsmasq-ack-initreboot"] = reply_to(vectors["dhclient-request-initreboot"], ACK)
vectors["dnsmasq-nak"] = reply_to(vectors["dhclient-request-initreboot-wrongnet"], NAK)
vectors["dnsmasq-offer-udhcpc"] = reply_to(vectors["udhcpc-discover"], OFFER)
vectors["dnsmasq-ack-udhcpc"] = reply_to(vectors["udhcpc-request"], ACK)
vectors["dnsmasq-offer-broadcast"] = reply_to(vectors["udhcpc-discover-broadcast"], OFFER)

missing = sorted(name for name, p in vectors.items() if p is None)
if missing:
    sys.exit("not captured: " + ", ".join(missing))

for name, p in sorted(vectors.items()):
    h = p["msg"].hex()
    lines = [h[i : i + 64] for i in range(0, len(h), 64)]
    with open(os.path.join(outdir, name + ".hex"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{name}.hex: {len(p['msg'])} bytes, {p['route']}")
EOF

log "done: vectors written to $outdir"
