//go:build linux

package integration

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"leased/dhcpv4"
)

// capture is tcpdump recording the DHCP traffic of a link's bridge, in
// the hub namespace, where every frame between the link's hosts passes.
type capture struct {
	p    *proc
	file string
}

// startCapture starts tcpdump on l's bridge, writing every UDP datagram
// to or from port 67 or 68 to a pcap file, and waits until it listens.
func startCapture(t *testing.T, l *link) *capture {
	t.Helper()
	c := &capture{file: filepath.Join(t.TempDir(), "dhcp.pcap")}
	hub := &host{link: l, name: "hub", ns: l.hub}
	// -U: each packet written as it comes; -B: a kernel buffer of 64 MiB
	// so that a burst of load is not dropped; -s: DHCP fits in 1500.
	c.p = startProc(t, hub, "tcpdump on the bridge", filepath.Join(t.TempDir(), "tcpdump.log"), nil,
		"tcpdump", "-i", "br0", "-n", "-U", "-B", "65536", "-s", "1600", "-w", c.file, "udp port 67 or udp port 68")
	err := waitFor(startWait, "tcpdump to listen", func() (bool, error) {
		if c.p.exited() {
			return false, fmt.Errorf("it exited (%v):\n%s", c.p.err, tail(c.p.output(), 20))
		}
		return strings.Contains(c.p.output(), "listening on"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dropped matches tcpdump's closing count of the packets it lost.
var dropped = regexp.MustCompile(`(\d+) packets dropped by (kernel|interface)`)

// stop waits until the capture holds at least minAcks DHCPACKs (the
// number the servers sent: tcpdump may still be writing the last ones),
// ends it, and returns the DHCP replies recorded, in the order they
// passed. It fails t if tcpdump lost packets: the checks on the capture
// would then be incomplete.
func (c *capture) stop(t *testing.T, minAcks uint64) []wireReply {
	t.Helper()
	var seen int
	err := waitFor(startWait, fmt.Sprintf("the capture to hold %d DHCPACKs", minAcks), func() (bool, error) {
		b, err := os.ReadFile(c.file)
		if err != nil {
			return false, err
		}
		replies, _ := parsePcap(b, true)
		seen = len(acks(replies))
		return uint64(seen) >= minAcks, nil
	})
	if err != nil {
		t.Errorf("%v: it has %d", err, seen)
	}
	if err := c.p.stop(syscall.SIGINT); err != nil {
		t.Fatalf("tcpdump: %v:\n%s", err, tail(c.p.output(), 20))
	}
	out := c.p.output()
	for _, m := range dropped.FindAllStringSubmatch(out, -1) {
		if n, _ := strconv.Atoi(m[1]); n != 0 {
			t.Fatalf("tcpdump lost packets, the capture is incomplete:\n%s", tail(out, 5))
		}
	}
	b, err := os.ReadFile(c.file)
	if err != nil {
		t.Fatal(err)
	}
	replies, err := parsePcap(b, false)
	if err != nil {
		t.Fatal(err)
	}
	return replies
}

// wireReply is a DHCP reply seen on the wire.
type wireReply struct {
	at        time.Time
	typ       dhcpv4.MessageType
	from      netip.Addr // IPv4 source: the server
	client    string     // chaddr
	yiaddr    netip.Addr
	leaseTime time.Duration
}

// errPcap is wrapped by the errors of parsePcap.
var errPcap = errors.New("pcap")

// parsePcap decodes the replies (BOOTREPLY) in a pcap file of Ethernet
// frames (tcpdump -w): classic format, microsecond timestamps, in the
// byte order of this machine's tcpdump, which is the little-endian one.
// With partial, a file still being written, a truncated last record ends
// the list instead of being an error.
func parsePcap(b []byte, partial bool) ([]wireReply, error) {
	if len(b) < 24 {
		return nil, fmt.Errorf("%w: %d bytes, no header", errPcap, len(b))
	}
	le := binary.LittleEndian
	if magic := le.Uint32(b); magic != 0xa1b2c3d4 {
		return nil, fmt.Errorf("%w: magic %#x, want a little-endian microsecond pcap", errPcap, magic)
	}
	if lt := le.Uint32(b[20:]); lt != 1 {
		return nil, fmt.Errorf("%w: link type %d, want Ethernet", errPcap, lt)
	}
	var out []wireReply
	var p dhcpv4.Packet
	for off := 24; off < len(b); {
		if partial && (len(b)-off < 16 || len(b)-off-16 < int(le.Uint32(b[off+8:]))) {
			break
		}
		if len(b)-off < 16 {
			return nil, fmt.Errorf("%w: truncated record header at %d", errPcap, off)
		}
		sec, usec, n := le.Uint32(b[off:]), le.Uint32(b[off+4:]), int(le.Uint32(b[off+8:]))
		off += 16
		if len(b)-off < n {
			return nil, fmt.Errorf("%w: truncated record at %d", errPcap, off)
		}
		frame := b[off : off+n]
		off += n
		src, payload, ok := udpPayload(frame)
		if !ok || dhcpv4.Parse(payload, &p) != nil || p.Op != dhcpv4.BootReply {
			continue
		}
		r := wireReply{
			at:     time.Unix(int64(sec), int64(usec)*1000),
			typ:    p.MessageType(),
			from:   src,
			client: net.HardwareAddr(p.HardwareAddr()).String(),
			yiaddr: p.YIAddr,
		}
		r.leaseTime, _ = p.Options.Duration(dhcpv4.OptLeaseTime)
		out = append(out, r)
	}
	return out, nil
}

// udpPayload returns the IPv4 source and the UDP payload of an Ethernet
// frame, if it is an unfragmented IPv4 UDP datagram.
func udpPayload(f []byte) (netip.Addr, []byte, bool) {
	if len(f) < 14+20+8 || binary.BigEndian.Uint16(f[12:]) != 0x0800 {
		return netip.Addr{}, nil, false
	}
	ip := f[14:]
	ihl := int(ip[0]&0x0f) * 4
	if ip[0]>>4 != 4 || ihl < 20 || len(ip) < ihl+8 || ip[9] != 17 || binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
		return netip.Addr{}, nil, false
	}
	total := int(binary.BigEndian.Uint16(ip[2:]))
	if total > len(ip) || total < ihl+8 {
		return netip.Addr{}, nil, false
	}
	src := netip.AddrFrom4([4]byte(ip[12:16]))
	return src, ip[ihl+8 : total], true
}

// acks returns the DHCPACKs among replies.
func acks(replies []wireReply) []wireReply {
	var out []wireReply
	for _, r := range replies {
		if r.typ == dhcpv4.Ack {
			out = append(out, r)
		}
	}
	return out
}

// checkAcksUnique fails t for every DHCPACK of an address to a client
// while the lease an earlier DHCPACK gave another client on it had not
// ended (the ACK's time on the wire plus its lease time: the server's own
// clock started the lease a little earlier, so this end is never early).
// acks must be in wire order. It returns the number of violations.
func checkAcksUnique(t *testing.T, acks []wireReply) int {
	t.Helper()
	type holder struct {
		client string
		end    time.Time
	}
	held := map[netip.Addr]holder{}
	bad := 0
	for _, a := range acks {
		h, ok := held[a.yiaddr]
		if ok && h.client != a.client && a.at.Before(h.end) {
			bad++
			if bad <= 10 {
				t.Errorf("%v acknowledged to %s at %s while %s held it until %s",
					a.yiaddr, a.client, a.at.Format("15:04:05.000000"), h.client, h.end.Format("15:04:05.000000"))
			}
		}
		end := a.at.Add(a.leaseTime)
		if ok && h.client == a.client && h.end.After(end) {
			end = h.end // a kept lease's ACK does not shorten it
		}
		held[a.yiaddr] = holder{a.client, end}
	}
	if bad > 10 {
		t.Errorf("... %d such DHCPACKs in all", bad)
	}
	return bad
}
