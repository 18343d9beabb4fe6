package netio

import (
	"encoding/binary"
	"net/netip"
)

// UDP/IPv4 header sizes.
const (
	ipv4HeaderLen = 20
	udpHeaderLen  = 8
)

// AppendUDP4 appends an IPv4 header, a UDP header and payload to dst: the
// datagram a packet socket sends when the kernel cannot route it itself.
// TTL is 64, the IP identification zero with don't-fragment clear, and the
// UDP checksum is computed (RFC 768) over the pseudo-header.
func AppendUDP4(dst []byte, src, dstAddr netip.AddrPort, payload []byte) []byte {
	total := ipv4HeaderLen + udpHeaderLen + len(payload)
	start := len(dst)
	dst = append(dst, make([]byte, ipv4HeaderLen+udpHeaderLen)...)
	h := dst[start:]
	h[0] = 0x45 // version 4, header length 5 words
	h[1] = 0x10 // TOS: low delay, as DHCP servers customarily send
	binary.BigEndian.PutUint16(h[2:4], uint16(total))
	h[8] = 64 // TTL
	h[9] = 17 // UDP
	s4, d4 := src.Addr().As4(), dstAddr.Addr().As4()
	copy(h[12:16], s4[:])
	copy(h[16:20], d4[:])
	binary.BigEndian.PutUint16(h[10:12], ^onesSum(0, h[:ipv4HeaderLen]))

	u := h[ipv4HeaderLen:]
	binary.BigEndian.PutUint16(u[0:2], src.Port())
	binary.BigEndian.PutUint16(u[2:4], dstAddr.Port())
	binary.BigEndian.PutUint16(u[4:6], uint16(udpHeaderLen+len(payload)))
	dst = append(dst, payload...)
	u = dst[start+ipv4HeaderLen:]

	// Pseudo-header: source, destination, zero, protocol, UDP length.
	var pseudo [12]byte
	copy(pseudo[0:4], s4[:])
	copy(pseudo[4:8], d4[:])
	pseudo[9] = 17
	binary.BigEndian.PutUint16(pseudo[10:12], uint16(udpHeaderLen+len(payload)))
	sum := ^onesSum(onesSum(0, pseudo[:]), u)
	if sum == 0 {
		sum = 0xffff // RFC 768: a computed zero is sent as all ones
	}
	binary.BigEndian.PutUint16(u[6:8], sum)
	return dst
}

// onesSum adds b to the 16-bit one's complement sum acc (RFC 1071).
func onesSum(acc uint16, b []byte) uint16 {
	s := uint32(acc)
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}
