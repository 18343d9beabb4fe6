package udp4

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr of <sys/socket.h>.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// pktinfoSpace is the size of an IP_PKTINFO control message, as
// CMSG_SPACE(sizeof(struct in_pktinfo)): header and data, each rounded up
// to the alignment of a long.
const (
	cmsgAlign    = int(unsafe.Sizeof(uintptr(0)))
	pktinfoSpace = (unix.SizeofCmsghdr+cmsgAlign-1)&^(cmsgAlign-1) + (unix.SizeofInet4Pktinfo+cmsgAlign-1)&^(cmsgAlign-1)
)

// putPktinfo writes an IP_PKTINFO control message naming interface ifIndex
// into oob, which holds pktinfoSpace bytes.
func putPktinfo(oob []byte, ifIndex int) {
	clear(oob[:pktinfoSpace])
	binary.NativeEndian.PutUint64(oob[0:8], uint64(unix.CmsgLen(unix.SizeofInet4Pktinfo)))
	binary.NativeEndian.PutUint32(oob[8:12], uint32(unix.IPPROTO_IP))
	binary.NativeEndian.PutUint32(oob[12:16], uint32(unix.IP_PKTINFO))
	binary.NativeEndian.PutUint32(oob[unix.SizeofCmsghdr:], uint32(int32(ifIndex)))
}

// parsePktinfo returns the interface index and the header destination
// address of an IP_PKTINFO control message in oob, or zeros.
func parsePktinfo(oob []byte) (ifIndex int, dst netip.Addr) {
	const hdr = unix.SizeofCmsghdr
	for len(oob) >= hdr {
		l := int(binary.NativeEndian.Uint64(oob[0:8]))
		level := int32(binary.NativeEndian.Uint32(oob[8:12]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:16]))
		if l < hdr || l > len(oob) {
			break
		}
		if level == unix.IPPROTO_IP && typ == unix.IP_PKTINFO && l >= hdr+unix.SizeofInet4Pktinfo {
			// struct in_pktinfo: ifindex, spec_dst, addr.
			d := oob[hdr:]
			ifIndex = int(int32(binary.NativeEndian.Uint32(d[0:4])))
			dst = netip.AddrFrom4([4]byte(d[8:12]))
		}
		oob = oob[min(unix.CmsgSpace(l-hdr), len(oob)):]
	}
	return ifIndex, dst
}

// putSockaddr writes a as a struct sockaddr_in.
func putSockaddr(sa *unix.RawSockaddrInet4, a netip.AddrPort) {
	*sa = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Addr().As4()}
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], a.Port())
}

// sockaddrAddrPort returns the address and port of a struct sockaddr_in.
func sockaddrAddrPort(sa *unix.RawSockaddrInet4) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:]))
}
