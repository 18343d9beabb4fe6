package link

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/net/bpf"

	"leased/udp4"
)

var (
	server = netip.MustParseAddrPort("198.18.0.1:67")
	bcast  = netip.MustParseAddrPort("255.255.255.255:68")
)

// datagram returns an IPv4/UDP datagram from src to dst with payload,
// changed by edit (then the checksums are not recomputed).
func datagram(src, dst netip.AddrPort, payload []byte, edit func([]byte)) []byte {
	b := udp4.AppendUDP4(nil, src, dst, payload)
	if edit != nil {
		edit(b)
	}
	return b
}

// fixIPChecksum recomputes the IPv4 header checksum after an edit.
func fixIPChecksum(b []byte) {
	b[10], b[11] = 0, 0
	ihl := int(b[0]&0x0f) * 4
	binary.BigEndian.PutUint16(b[10:12], udp4.InternetChecksum(b[:ihl]))
}

func TestFilter(t *testing.T) {
	vm, err := bpf.NewVM(Filter())
	if err != nil {
		t.Fatalf("the filter does not load: %v", err)
	}
	payload := bytes.Repeat([]byte{0xaa}, 300)
	for _, tc := range []struct {
		name   string
		b      []byte
		accept bool
	}{
		{"UDP to port 68, broadcast", datagram(server, bcast, payload, nil), true},
		{"UDP to port 68, unicast", datagram(server, netip.MustParseAddrPort("198.18.0.100:68"), payload, nil), true},
		{"UDP to port 67 (another client's request)", datagram(netip.MustParseAddrPort("0.0.0.0:68"), netip.MustParseAddrPort("255.255.255.255:67"), payload, nil), false},
		{"UDP to port 53", datagram(server, netip.MustParseAddrPort("198.18.0.100:53"), payload, nil), false},
		{"TCP to port 68", datagram(server, bcast, payload, func(b []byte) { b[9] = 6 }), false},
		{"first fragment (more fragments)", datagram(server, bcast, payload, func(b []byte) { b[6] |= 0x20 }), false},
		{"later fragment (offset)", datagram(server, bcast, payload, func(b []byte) { b[7] = 1 }), false},
		{"don't fragment flag is fine", datagram(server, bcast, payload, func(b []byte) { b[6] |= 0x40 }), true},
		{"IPv4 options: port found past them", withOptions(datagram(server, bcast, payload, nil)), true},
		{"IPv6 version", datagram(server, bcast, payload, func(b []byte) { b[0] = 0x65 }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := vm.Run(tc.b)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if got := n > 0; got != tc.accept {
				t.Errorf("accepted %v (%d bytes), want %v", got, n, tc.accept)
			}
			if tc.accept && n < len(tc.b) {
				t.Errorf("accepted %d of %d bytes: the datagram would be cut", n, len(tc.b))
			}
		})
	}
}

// withOptions inserts 4 bytes of IPv4 options (NOP padding) into b.
func withOptions(b []byte) []byte {
	out := append([]byte(nil), b[:20]...)
	out = append(out, 1, 1, 1, 1)
	out = append(out, b[20:]...)
	out[0] = 0x46
	binary.BigEndian.PutUint16(out[2:4], uint16(len(out)))
	fixIPChecksum(out)
	return out
}

func TestARP(t *testing.T) {
	own := [6]byte{2, 0xc6, 0x12, 0, 0, 1}
	other := [6]byte{2, 0xc6, 0x12, 0, 0, 2}
	addr := netip.MustParseAddr("198.18.0.100")
	zero := netip.IPv4Unspecified()
	t.Run("encode and decode", func(t *testing.T) {
		p := arpPacket{op: arpReply, sha: other, spa: addr, tha: own, tpa: netip.MustParseAddr("198.18.0.1")}
		b := appendARP(nil, p)
		if len(b) != arpLen {
			t.Fatalf("%d bytes", len(b))
		}
		got, ok := parseARP(b)
		if !ok || got != p {
			t.Errorf("decoded %+v %v, want %+v", got, ok, p)
		}
		if _, ok := parseARP(b[:27]); ok {
			t.Errorf("short packet decoded")
		}
		b[1] = 6 // hardware type IEEE 802
		if _, ok := parseARP(b); ok {
			t.Errorf("non-Ethernet ARP decoded")
		}
	})
	for _, tc := range []struct {
		name string
		p    arpPacket
		want bool
	}{
		{"RFC5227 2.1.1 reply from the holder of the address", arpPacket{op: arpReply, sha: other, spa: addr, tpa: zero}, true},
		{"RFC5227 2.1.1 request from the holder of the address", arpPacket{op: arpRequest, sha: other, spa: addr, tpa: netip.MustParseAddr("198.18.0.1")}, true},
		{"RFC5227 2.1.1 another host probing for the same address", arpPacket{op: arpRequest, sha: other, spa: zero, tpa: addr}, true},
		{"our own probe, looped back", arpPacket{op: arpRequest, sha: own, spa: zero, tpa: addr}, false},
		{"traffic about other addresses", arpPacket{op: arpRequest, sha: other, spa: netip.MustParseAddr("198.18.0.7"), tpa: netip.MustParseAddr("198.18.0.1")}, false},
		{"a request for the address from a host that has another", arpPacket{op: arpRequest, sha: other, spa: netip.MustParseAddr("198.18.0.7"), tpa: addr}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := conflicts(tc.p, addr, own); got != tc.want {
				t.Errorf("conflicts = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestProbeConfig(t *testing.T) {
	d := ProbeConfig{}.withDefaults()
	if d != ScaledProbeConfig(3, 1e9) {
		t.Errorf("zero config gives %+v, want the RFC 5227 constants", d)
	}
	if d.Count != 3 || d.Wait != 1e9 || d.Min != 1e9 || d.Max != 2e9 || d.AnnounceWait != 2e9 || d.Announcements != 2 || d.AnnounceInterval != 2e9 {
		t.Errorf("RFC 5227 1.1 constants: %+v", d)
	}
	s := ScaledProbeConfig(2, 1e8).withDefaults()
	if s.Count != 2 || s.Min != 1e8 || s.Max != 2e8 || s.AnnounceWait != 2e8 {
		t.Errorf("scaled: %+v", s)
	}
	for range 100 {
		if r := randomIn(s.Min, s.Max); r < s.Min || r > s.Max {
			t.Fatalf("randomIn(%v, %v) = %v", s.Min, s.Max, r)
		}
	}
}
