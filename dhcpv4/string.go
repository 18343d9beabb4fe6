package dhcpv4

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"leased/escape"
)

// String formats p on one line for logs and debugging: the message type
// (or op for BOOTP), the fixed fields that are set, and the options in
// order, each as name=value (see FormatOption), or the bare name for an
// option with no value:
//
//	DHCPDISCOVER xid=0x1234abcd chaddr=02:00:00:00:00:01 flags=broadcast [message-type=DHCPDISCOVER client-id=01020000000001 rapid-commit]
//
// It allocates; do not call it on the hot path unless logging is enabled.
func (p *Packet) String() string {
	var b strings.Builder
	if t := p.MessageType(); t != 0 {
		b.WriteString(t.String())
	} else {
		b.WriteString(p.Op.String())
	}
	fmt.Fprintf(&b, " xid=0x%08x", p.XID)
	if hw := p.HardwareAddr(); len(hw) > 0 {
		b.WriteString(" chaddr=")
		b.WriteString(net.HardwareAddr(hw).String())
	}
	if p.HType != 1 {
		fmt.Fprintf(&b, " htype=%d", p.HType)
	}
	if p.Hops != 0 {
		fmt.Fprintf(&b, " hops=%d", p.Hops)
	}
	if p.Secs != 0 {
		fmt.Fprintf(&b, " secs=%d", p.Secs)
	}
	switch {
	case p.Flags == FlagBroadcast:
		b.WriteString(" flags=broadcast")
	case p.Flags != 0: // reserved bits set (RFC 2131 §2 says they must be zero)
		fmt.Fprintf(&b, " flags=0x%04x", p.Flags)
	}
	for _, f := range []struct {
		name string
		a    netip.Addr
	}{{"ciaddr", p.CIAddr}, {"yiaddr", p.YIAddr}, {"siaddr", p.SIAddr}, {"giaddr", p.GIAddr}} {
		if f.a.IsValid() && !f.a.IsUnspecified() {
			fmt.Fprintf(&b, " %s=%v", f.name, f.a)
		}
	}
	if s := p.ServerName(); s != "" {
		b.WriteString(" sname=" + quoteText(s))
	}
	if s := p.BootFile(); s != "" {
		b.WriteString(" file=" + quoteText(s))
	}
	b.WriteString(" [")
	for i, c := range p.Options.order {
		if i > 0 {
			b.WriteByte(' ')
		}
		v, _ := p.Options.Get(c)
		b.WriteString(c.String())
		if len(v) > 0 {
			b.WriteByte('=')
			b.WriteString(FormatOption(c, v))
		}
	}
	b.WriteByte(']')
	return b.String()
}

// FormatOption renders an option value readably for its code: addresses
// dotted and comma-separated, times in seconds, text quoted with its
// control characters, spaces and bytes that are not UTF-8 escaped
// (escape.Text), the parameter request list as option names, domain
// search lists and classless routes decoded, relay agent information as
// its sub-options, and anything else, or any value not encoded as its
// code requires, as hex.
func FormatOption(c OptionCode, v []byte) string {
	switch c {
	case OptSubnetMask, OptRequestedIP, OptServerID, OptBroadcastAddress,
		OptRouter, OptDNSServers, OptNTPServers, OptTimeServer, OptNameServer,
		OptLogServer, OptNISServers, OptNetBIOSNameServers:
		if len(v) > 0 && len(v)%4 == 0 {
			parts := make([]string, 0, len(v)/4)
			for i := 0; i < len(v); i += 4 {
				parts = append(parts, netip.AddrFrom4([4]byte(v[i:i+4])).String())
			}
			return strings.Join(parts, ",")
		}
	case OptLeaseTime, OptRenewalTime, OptRebindingTime:
		if len(v) == 4 {
			return strconv.FormatUint(uint64(v[0])<<24|uint64(v[1])<<16|uint64(v[2])<<8|uint64(v[3]), 10) + "s"
		}
	case OptMaxMessageSize, OptInterfaceMTU, OptBootFileSize:
		if len(v) == 2 {
			return strconv.Itoa(int(v[0])<<8 | int(v[1]))
		}
	case OptMessageType:
		if len(v) == 1 {
			return MessageType(v[0]).String()
		}
	case OptOverload:
		if len(v) == 1 {
			return strconv.Itoa(int(v[0]))
		}
	case OptRelayAgentInfo:
		if ValidateSubOptions(v) == nil && len(v) > 0 {
			return formatRelayInfo(v)
		}
	case OptUserClass:
		if cs, err := ParseUserClass(v, nil); err == nil {
			parts := make([]string, len(cs))
			for i, c := range cs {
				parts[i] = quoteText(string(c))
			}
			return strings.Join(parts, ",")
		}
	case OptHostName, OptDomainName, OptMessage, OptVendorClass, OptRootPath,
		OptNISDomain, OptTFTPServerName, OptBootfileName:
		return quoteText(string(v))
	case OptParameterRequestList:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = OptionCode(x).String()
		}
		return strings.Join(parts, ",")
	case OptDomainSearch:
		if names, err := ParseDomainList(v, nil); err == nil {
			for i, n := range names {
				names[i] = escape.Text(n)
			}
			return strings.Join(names, ",")
		}
	case OptClasslessRoutes:
		if rs, err := ParseClasslessRoutes(v, nil); err == nil {
			parts := make([]string, len(rs))
			for i, r := range rs {
				parts[i] = r.String()
			}
			return strings.Join(parts, ",")
		}
	}
	return hex.EncodeToString(v)
}

// quoteText quotes text that a peer sent, for a log line: between double
// quotes, with control characters, spaces and bytes that are not UTF-8
// escaped (escape.Text), so that no control character reaches a terminal.
func quoteText(s string) string { return `"` + escape.Text(s) + `"` }

// relaySubOptionNames names the relay agent information sub-options this
// package knows.
var relaySubOptionNames = map[uint8]string{
	RelayCircuitID:        "circuit-id",
	RelayRemoteID:         "remote-id",
	RelayLinkSelection:    "link-selection",
	RelayServerIDOverride: "server-id-override",
}

// formatRelayInfo formats a well-formed relay agent information value as
// its sub-options: "circuit-id=0102,link-selection=198.18.0.1,sub-9=ff".
func formatRelayInfo(v []byte) string {
	var b strings.Builder
	for i := 0; i+1 < len(v); i += 2 + int(v[i+1]) {
		code, val := v[i], v[i+2:i+2+int(v[i+1])]
		if i > 0 {
			b.WriteByte(',')
		}
		if n, ok := relaySubOptionNames[code]; ok {
			b.WriteString(n)
		} else {
			b.WriteString("sub-" + strconv.Itoa(int(code)))
		}
		b.WriteByte('=')
		if (code == RelayLinkSelection || code == RelayServerIDOverride) && len(val) == 4 {
			b.WriteString(netip.AddrFrom4([4]byte(val)).String())
		} else {
			b.WriteString(hex.EncodeToString(val))
		}
	}
	return b.String()
}
