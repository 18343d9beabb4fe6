package netio

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
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

func TestParsePktinfo(t *testing.T) {
	// Two control messages: something else first, then IP_PKTINFO
	// (struct in_pktinfo: ifindex 7, spec_dst 198.18.0.1, addr
	// 255.255.255.255), laid out as the kernel does.
	other := make([]byte, unix.CmsgSpace(4))
	binary.NativeEndian.PutUint64(other[0:8], uint64(unix.CmsgLen(4)))
	binary.NativeEndian.PutUint32(other[8:12], uint32(unix.SOL_SOCKET))
	binary.NativeEndian.PutUint32(other[12:16], 99)
	pi := make([]byte, unix.CmsgSpace(unix.SizeofInet4Pktinfo))
	binary.NativeEndian.PutUint64(pi[0:8], uint64(unix.CmsgLen(unix.SizeofInet4Pktinfo)))
	binary.NativeEndian.PutUint32(pi[8:12], uint32(unix.IPPROTO_IP))
	binary.NativeEndian.PutUint32(pi[12:16], uint32(unix.IP_PKTINFO))
	d := pi[unix.CmsgLen(0):]
	binary.NativeEndian.PutUint32(d[0:4], 7)
	copy(d[4:8], []byte{198, 18, 0, 1})
	copy(d[8:12], []byte{255, 255, 255, 255})
	oob := append(other, pi...)
	ifIndex, dst := parsePktinfo(oob)
	if ifIndex != 7 || dst != netip.MustParseAddr("255.255.255.255") {
		t.Errorf("got %d %v", ifIndex, dst)
	}
	// Cut short or empty: nothing, and no panic.
	for n := range len(oob) {
		parsePktinfo(oob[:n])
	}
	if i, a := parsePktinfo(nil); i != 0 || a.IsValid() {
		t.Errorf("empty: %d %v", i, a)
	}
}
