package loadgen

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"leased/dhcpv4"
)

// Offsets of the fixed fields a template patches (RFC 2131 §2, Figure 1).
const (
	offXID    = 4
	offCHAddr = 28
	macLen    = 6
)

// requestedParams is the parameter request list of the generated messages
// (RFC 2132 §9.8): what a typical client asks for.
var requestedParams = []dhcpv4.OptionCode{
	dhcpv4.OptSubnetMask, dhcpv4.OptRouter, dhcpv4.OptDNSServers, dhcpv4.OptDomainName,
	dhcpv4.OptLeaseTime, dhcpv4.OptServerID, dhcpv4.OptRenewalTime, dhcpv4.OptRebindingTime,
}

// template is an encoded message of one type with the offsets of the
// fields that change from one exchange to the next, so that a message is
// made by copying and patching, without encoding or allocating.
type template struct {
	msg []byte
	// offServerID and offRequested are the offsets of the values of
	// options 54 and 50, or -1 when the message has none.
	offServerID, offRequested int
	// offHostName is the offset of the value of option 12, or -1 when
	// the message has none.
	offHostName int
}

// hostNamePrefix starts the host name of a simulated client (option 12,
// RFC 2132 §3.14); the last four bytes of its hardware address follow in
// hexadecimal: "lg0000002a" for 02:00:00:00:00:2a.
const hostNamePrefix = "lg"

// hostNameLen is the length of a simulated client's host name.
const hostNameLen = len(hostNamePrefix) + 8

// newTemplate encodes a relayed message of type typ (RFC 1542 §4.1.1: giaddr
// set, hops 1) for a client with an Ethernet address; xid and chaddr are
// patched per message. A DHCPREQUEST carries a server identifier and a
// requested address (RFC 2131 §4.3.2, SELECTING), patched per message too.
// With hostNames, the message carries the client's host name (option 12),
// patched per message from its hardware address.
func newTemplate(typ dhcpv4.MessageType, giaddr netip.Addr, hostNames bool) (template, error) {
	p := &dhcpv4.Packet{Op: dhcpv4.BootRequest, Hops: 1, GIAddr: giaddr}
	p.SetHardwareAddr(1, make([]byte, macLen))
	p.Options.SetMessageType(typ)
	if typ == dhcpv4.Request {
		p.Options.SetAddr(dhcpv4.OptServerID, netip.IPv4Unspecified())
		p.Options.SetAddr(dhcpv4.OptRequestedIP, netip.IPv4Unspecified())
	}
	if hostNames {
		p.Options.SetString(dhcpv4.OptHostName, hostNamePrefix+"00000000")
	}
	p.Options.SetParameterRequestList(requestedParams)
	b, err := p.Append(nil, 0)
	if err != nil {
		return template{}, fmt.Errorf("loadgen: encode %v template: %w", typ, err)
	}
	t := template{msg: b, offServerID: optionValueOffset(b, dhcpv4.OptServerID), offRequested: optionValueOffset(b, dhcpv4.OptRequestedIP),
		offHostName: optionValueOffset(b, dhcpv4.OptHostName)}
	if typ == dhcpv4.Request && (t.offServerID < 0 || t.offRequested < 0) {
		return template{}, fmt.Errorf("loadgen: %v template lacks option 50 or 54", typ)
	}
	return t, nil
}

// optionValueOffset returns the offset in msg of the value of the first
// option code in the options field, or -1.
func optionValueOffset(msg []byte, code dhcpv4.OptionCode) int {
	i := dhcpv4.MinLen
	for i < len(msg) {
		c := dhcpv4.OptionCode(msg[i])
		switch c {
		case dhcpv4.OptPad:
			i++
			continue
		case dhcpv4.OptEnd:
			return -1
		}
		if i+1 >= len(msg) {
			return -1
		}
		n := int(msg[i+1])
		if i+2+n > len(msg) {
			return -1
		}
		if c == code {
			return i + 2
		}
		i += 2 + n
	}
	return -1
}

// fill writes the template into dst (which must be as long as the
// template) for one exchange: its transaction ID and the client's hardware
// address, and for a DHCPREQUEST the server identifier and the address
// offered; and the host name, when the template has one.
func (t *template) fill(dst []byte, xid uint32, mac *[macLen]byte, serverID, requested netip.Addr) {
	copy(dst, t.msg)
	binary.BigEndian.PutUint32(dst[offXID:], xid)
	copy(dst[offCHAddr:], mac[:])
	if t.offServerID >= 0 {
		a := as4(serverID)
		copy(dst[t.offServerID:], a[:])
	}
	if t.offRequested >= 0 {
		a := as4(requested)
		copy(dst[t.offRequested:], a[:])
	}
	if t.offHostName >= 0 {
		const hex = "0123456789abcdef"
		name := dst[t.offHostName+len(hostNamePrefix) : t.offHostName+hostNameLen]
		for i, b := range mac[2:] {
			name[2*i], name[2*i+1] = hex[b>>4], hex[b&0xf]
		}
	}
}

// as4 returns the four bytes of an IPv4 (or IPv4-mapped) address, and
// zeros for anything else.
func as4(a netip.Addr) [4]byte {
	if a = a.Unmap(); a.Is4() {
		return a.As4()
	}
	return [4]byte{}
}

// macOf returns the hardware address of client i: base plus i, counted in
// the last four bytes.
func macOf(base [macLen]byte, i uint32) [macLen]byte {
	mac := base
	binary.BigEndian.PutUint32(mac[2:], binary.BigEndian.Uint32(base[2:])+i)
	return mac
}

// clientOf returns the index of the client with hardware address mac, or
// false when mac is not one of the n clients counted from base.
func clientOf(base [macLen]byte, n int, mac []byte) (uint32, bool) {
	if len(mac) != macLen || mac[0] != base[0] || mac[1] != base[1] {
		return 0, false
	}
	i := binary.BigEndian.Uint32(mac[2:]) - binary.BigEndian.Uint32(base[2:])
	if uint64(i) >= uint64(n) {
		return 0, false
	}
	return i, true
}
