package link

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/net/bpf"

	"leased/udp4"
)

// Filter returns the classic BPF program of the DHCP socket. It runs on
// what a SOCK_DGRAM packet socket sees, the IPv4 header at offset 0, and
// accepts whole IPv4 datagrams that are UDP to port 68 and not fragments
// (more-fragments flag clear, offset zero); it drops everything else.
func Filter() []bpf.Instruction {
	return []bpf.Instruction{
		// Version 4.
		bpf.LoadAbsolute{Off: 0, Size: 1},
		bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x40, SkipTrue: 8},
		// Protocol UDP.
		bpf.LoadAbsolute{Off: 9, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 17, SkipTrue: 6},
		// Not a fragment: MF and the offset are zero.
		bpf.LoadAbsolute{Off: 6, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x3fff, SkipTrue: 4},
		// X = the IPv4 header length; the UDP destination port follows.
		bpf.LoadMemShift{Off: 0},
		bpf.LoadIndirect{Off: 2, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: udp4.ClientPort, SkipTrue: 1},
		bpf.RetConstant{Val: 0x40000},
		bpf.RetConstant{Val: 0},
	}
}

// ARP operations (RFC 826).
const (
	arpRequest = 1
	arpReply   = 2
)

// arpLen is the length of an ARP packet for IPv4 over Ethernet.
const arpLen = 28

// arpPacket is an ARP packet for IPv4 over Ethernet (RFC 826).
type arpPacket struct {
	op       uint16
	sha, tha [6]byte
	spa, tpa netip.Addr
}

// appendARP encodes p and appends it to dst.
func appendARP(dst []byte, p arpPacket) []byte {
	var b [arpLen]byte
	binary.BigEndian.PutUint16(b[0:2], 1)      // hardware type: Ethernet
	binary.BigEndian.PutUint16(b[2:4], 0x0800) // protocol type: IPv4
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:8], p.op)
	copy(b[8:14], p.sha[:])
	spa, tpa := as4(p.spa), as4(p.tpa)
	copy(b[14:18], spa[:])
	copy(b[18:24], p.tha[:])
	copy(b[24:28], tpa[:])
	return append(dst, b[:]...)
}

func as4(a netip.Addr) [4]byte {
	if a.Is4() {
		return a.As4()
	}
	return [4]byte{}
}

// parseARP decodes an ARP packet for IPv4 over Ethernet; it reports false
// for anything else.
func parseARP(b []byte) (arpPacket, bool) {
	if len(b) < arpLen || binary.BigEndian.Uint16(b[0:2]) != 1 || binary.BigEndian.Uint16(b[2:4]) != 0x0800 || b[4] != 6 || b[5] != 4 {
		return arpPacket{}, false
	}
	p := arpPacket{op: binary.BigEndian.Uint16(b[6:8])}
	copy(p.sha[:], b[8:14])
	p.spa = netip.AddrFrom4([4]byte(b[14:18]))
	copy(p.tha[:], b[18:24])
	p.tpa = netip.AddrFrom4([4]byte(b[24:28]))
	return p, true
}

// conflicts reports whether ARP packet p, received while probing for addr
// from hardware address own, shows another host using or wanting addr
// (RFC 5227 §2.1.1): any packet whose sender address is addr, or a probe
// (sender address 0.0.0.0) for addr, from a hardware address not ours.
func conflicts(p arpPacket, addr netip.Addr, own [6]byte) bool {
	if p.sha == own {
		return false
	}
	if p.spa == addr {
		return true
	}
	return p.op == arpRequest && p.spa.IsUnspecified() && p.tpa == addr
}
