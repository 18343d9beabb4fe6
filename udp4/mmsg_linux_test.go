package udp4

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

func TestPktinfoSpace(t *testing.T) {
	if want := unix.CmsgSpace(unix.SizeofInet4Pktinfo); pktinfoSpace != want {
		t.Fatalf("pktinfoSpace = %d, CMSG_SPACE = %d", pktinfoSpace, want)
	}
	var oob [pktinfoSpace]byte
	putPktinfo(oob[:], 7)
	if ifIndex, _ := parsePktinfo(oob[:]); ifIndex != 7 {
		t.Fatalf("parsePktinfo of putPktinfo(7) = %d", ifIndex)
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
