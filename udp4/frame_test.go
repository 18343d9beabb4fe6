package udp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
)

func TestAppendUDP4(t *testing.T) {
	src := netip.MustParseAddrPort("198.18.0.1:67")
	dst := netip.MustParseAddrPort("198.18.0.10:68")
	for _, n := range []int{0, 1, 300, 301} {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(i * 7)
		}
		b := AppendUDP4([]byte{0xee}, src, dst, payload)[1:]
		if len(b) != 28+n {
			t.Fatalf("length %d, want %d", len(b), 28+n)
		}
		// RFC 791: the one's complement sum of the header, checksum
		// included, is all ones.
		if s := onesSum(0, b[:20]); s != 0xffff {
			t.Errorf("payload %d: IP header checksum does not verify (sum %#x)", n, s)
		}
		if got := binary.BigEndian.Uint16(b[2:4]); int(got) != 28+n {
			t.Errorf("IP total length %d", got)
		}
		if b[9] != 17 || b[8] != 64 || b[0] != 0x45 {
			t.Errorf("header fields %x", b[:20])
		}
		// RFC 768: pseudo-header + UDP header + data sums to all ones.
		var pseudo [12]byte
		copy(pseudo[0:4], b[12:16])
		copy(pseudo[4:8], b[16:20])
		pseudo[9] = 17
		binary.BigEndian.PutUint16(pseudo[10:], uint16(8+n))
		if s := onesSum(onesSum(0, pseudo[:]), b[20:]); s != 0xffff {
			t.Errorf("payload %d: UDP checksum does not verify (sum %#x)", n, s)
		}
		if sp, dp := binary.BigEndian.Uint16(b[20:22]), binary.BigEndian.Uint16(b[22:24]); sp != 67 || dp != 68 {
			t.Errorf("ports %d -> %d", sp, dp)
		}
		if string(b[28:]) != string(payload) {
			t.Error("payload changed")
		}
	}
}

func BenchmarkAppendUDP4(b *testing.B) {
	src := netip.MustParseAddrPort("198.18.0.1:67")
	dst := netip.MustParseAddrPort("198.18.0.10:68")
	payload := make([]byte, 300)
	buf := make([]byte, 0, 1600)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendUDP4(buf[:0], src, dst, payload)
	}
}

var (
	server = netip.MustParseAddrPort("198.18.0.1:67")
	bcast  = netip.MustParseAddrPort("255.255.255.255:68")
)

// datagram returns an IPv4/UDP datagram from src to dst with payload,
// changed by edit (then the checksums are not recomputed).
func datagram(src, dst netip.AddrPort, payload []byte, edit func([]byte)) []byte {
	b := AppendUDP4(nil, src, dst, payload)
	if edit != nil {
		edit(b)
	}
	return b
}

// fixIPChecksum recomputes the IPv4 header checksum after an edit.
func fixIPChecksum(b []byte) {
	b[10], b[11] = 0, 0
	ihl := int(b[0]&0x0f) * 4
	binary.BigEndian.PutUint16(b[10:12], InternetChecksum(b[:ihl]))
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

func TestParseUDP4(t *testing.T) {
	payload := []byte("a DHCP message would be here")
	good := datagram(server, bcast, payload, nil)
	for _, tc := range []struct {
		name      string
		b         []byte
		verifyUDP bool
		wantErr   error
	}{
		{"well formed", good, true, nil},
		{"link padding after the datagram ignored", append(append([]byte(nil), good...), 0, 0, 0, 0), true, nil},
		{"IPv4 options skipped", withOptions(good), true, nil},
		{"bad IPv4 header checksum", datagram(server, bcast, payload, func(b []byte) { b[10] ^= 0xff }), true, ErrChecksum},
		{"bad UDP checksum", datagram(server, bcast, payload, func(b []byte) { b[27] ^= 0xff }), true, ErrChecksum},
		{"bad UDP checksum not verified when the kernel says it is not filled in", datagram(server, bcast, payload, func(b []byte) { b[27] ^= 0xff }), false, nil},
		{"zero UDP checksum means none (RFC 768)", datagram(server, bcast, payload, func(b []byte) { b[26], b[27] = 0, 0 }), true, nil},
		{"truncated: total length past the end", good[:len(good)-1], true, ErrTruncated},
		{"truncated: UDP length past the end", datagram(server, bcast, payload, func(b []byte) { binary.BigEndian.PutUint16(b[24:26], 2000) }), false, ErrTruncated},
		{"not IPv4", datagram(server, bcast, payload, func(b []byte) { b[0] = 0x60 }), true, ErrNotIPv4},
		{"too short", good[:19], true, ErrNotIPv4},
		{"not UDP", datagram(server, bcast, payload, func(b []byte) { b[9] = 6; fixIPChecksum(b) }), true, ErrNotUDP},
		{"fragment", datagram(server, bcast, payload, func(b []byte) { b[6] |= 0x20; fixIPChecksum(b) }), true, ErrNotUDP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, src, dst, err := ParseUDP4(tc.b, tc.verifyUDP)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, payload) || src != server || dst != bcast {
				t.Errorf("payload %q from %v to %v", got, src, dst)
			}
		})
	}
}

func FuzzParseUDP4(f *testing.F) {
	f.Add(datagram(server, bcast, []byte("payload"), nil))
	f.Add(withOptions(datagram(server, bcast, []byte("payload"), nil)))
	f.Fuzz(func(t *testing.T, b []byte) {
		payload, _, _, err := ParseUDP4(b, true)
		if err == nil && len(payload) > len(b)-28 {
			t.Fatalf("payload of %d bytes from a datagram of %d", len(payload), len(b))
		}
	})
}

func BenchmarkParseUDP4(b *testing.B) {
	d := datagram(server, bcast, bytes.Repeat([]byte{0xaa}, 548), nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(d)))
	for b.Loop() {
		if _, _, _, err := ParseUDP4(d, true); err != nil {
			b.Fatal(err)
		}
	}
}
