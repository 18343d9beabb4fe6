package udp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// UDP/IPv4 header sizes.
const (
	ipv4HeaderLen = 20
	udpHeaderLen  = 8

	// HeaderLen is the length of the IPv4 header (without options) and
	// the UDP header that AppendUDP4 writes before the payload.
	HeaderLen = ipv4HeaderLen + udpHeaderLen
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

// Errors of ParseUDP4.
var (
	ErrNotIPv4   = errors.New("not an IPv4 header")
	ErrTruncated = errors.New("truncated datagram")
	ErrChecksum  = errors.New("bad checksum")
	ErrNotUDP    = errors.New("not unfragmented UDP")
)

// ParseUDP4 checks the IPv4 and UDP headers of datagram b (as a SOCK_DGRAM
// packet socket delivers it, possibly with link padding after it) and
// returns the UDP payload, which aliases b, and the source and destination.
// The IPv4 header checksum is always checked; the UDP checksum only when
// verifyUDP is set and the sender computed one (non-zero, RFC 768).
func ParseUDP4(b []byte, verifyUDP bool) (payload []byte, src, dst netip.AddrPort, err error) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return nil, src, dst, ErrNotIPv4
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if ihl < 20 || total < ihl+8 || total > len(b) {
		return nil, src, dst, fmt.Errorf("%w: header %d, total %d, have %d", ErrTruncated, ihl, total, len(b))
	}
	b = b[:total]
	if onesSum(0, b[:ihl]) != 0xffff {
		return nil, src, dst, fmt.Errorf("%w: IPv4 header", ErrChecksum)
	}
	if b[9] != 17 || binary.BigEndian.Uint16(b[6:8])&0x3fff != 0 {
		return nil, src, dst, ErrNotUDP
	}
	srcIP := netip.AddrFrom4([4]byte(b[12:16]))
	dstIP := netip.AddrFrom4([4]byte(b[16:20]))
	u := b[ihl:]
	ulen := int(binary.BigEndian.Uint16(u[4:6]))
	if ulen < 8 || ulen > len(u) {
		return nil, src, dst, fmt.Errorf("%w: UDP length %d, have %d", ErrTruncated, ulen, len(u))
	}
	u = u[:ulen]
	if sum := binary.BigEndian.Uint16(u[6:8]); verifyUDP && sum != 0 {
		var pseudo [12]byte
		copy(pseudo[0:8], b[12:20])
		pseudo[9] = 17
		binary.BigEndian.PutUint16(pseudo[10:12], uint16(ulen))
		if onesSum(onesSum(0, pseudo[:]), u) != 0xffff {
			return nil, src, dst, fmt.Errorf("%w: UDP", ErrChecksum)
		}
	}
	src = netip.AddrPortFrom(srcIP, binary.BigEndian.Uint16(u[0:2]))
	dst = netip.AddrPortFrom(dstIP, binary.BigEndian.Uint16(u[2:4]))
	return u[8:], src, dst, nil
}

// InternetChecksum returns the checksum of b as IPv4 and UDP headers carry
// it: the one's complement of the one's complement sum (RFC 1071).
func InternetChecksum(b []byte) uint16 { return ^onesSum(0, b) }
