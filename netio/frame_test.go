package netio

import (
	"encoding/binary"
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
