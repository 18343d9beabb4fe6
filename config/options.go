package config

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"leased/dhcpv4"
)

// valueKind is the type of an option's value, as written in the file and as
// encoded on the wire.
type valueKind uint8

const (
	kindRefused         valueKind = iota // not configurable; see optionSpec.refused
	kindAddr                             // one IPv4 address
	kindMask                             // one IPv4 subnet mask, contiguous ones
	kindAddrs                            // one or more IPv4 addresses
	kindText                             // non-empty text without control characters
	kindDomain                           // one domain or host name, as text
	kindDomainList                       // domain names, RFC 3397 wire format
	kindClasslessRoutes                  // RFC 3442 routes
	kindStaticRoutes                     // RFC 2132 §5.8 destination/router pairs
	kindUint8                            // one octet
	kindUint16                           // two octets, big-endian
	kindUint32                           // four octets, big-endian
	kindInt32                            // four octets, two's complement (seconds)
	kindBool                             // one octet, 0 or 1
	kindHex                              // raw bytes, non-empty
)

// optionSpec says how a named option is written and checked.
type optionSpec struct {
	kind     valueKind
	min, max int64   // bounds of an integer kind, when max > 0
	oneOf    []int64 // the only values an integer kind may take, when set
	note     string  // why the bounds, or the values of oneOf
	refused  string  // for kindRefused: why, and what to use instead
}

// namedOptions lists every option code package dhcpv4 has a name for:
// those that can be configured, with their value kind, and those that
// cannot, with the reason. Codes without a name are written "option-N"
// with a typed value; so would a named code missing from this table, by
// its name.
var namedOptions = map[dhcpv4.OptionCode]optionSpec{
	dhcpv4.OptPad:                  {refused: "pad is framing, not an option (RFC 2132 §3.1)"},
	dhcpv4.OptEnd:                  {refused: "end is framing, not an option (RFC 2132 §3.2)"},
	dhcpv4.OptSubnetMask:           {kind: kindMask},
	dhcpv4.OptTimeOffset:           {kind: kindInt32},
	dhcpv4.OptRouter:               {kind: kindAddrs},
	dhcpv4.OptTimeServer:           {kind: kindAddrs},
	dhcpv4.OptNameServer:           {kind: kindAddrs},
	dhcpv4.OptDNSServers:           {kind: kindAddrs},
	dhcpv4.OptLogServer:            {kind: kindAddrs},
	dhcpv4.OptHostName:             {kind: kindDomain},
	dhcpv4.OptBootFileSize:         {kind: kindUint16},
	dhcpv4.OptDomainName:           {kind: kindDomain},
	dhcpv4.OptRootPath:             {kind: kindText},
	dhcpv4.OptIPForwarding:         {kind: kindBool},
	dhcpv4.OptDefaultTTL:           {kind: kindUint8, min: 1, max: 255, note: "(RFC 2132 §4.5)"},
	dhcpv4.OptInterfaceMTU:         {kind: kindUint16, min: 68, max: 65535, note: "(RFC 2132 §5.1)"},
	dhcpv4.OptBroadcastAddress:     {kind: kindAddr},
	dhcpv4.OptStaticRoutes:         {kind: kindStaticRoutes},
	dhcpv4.OptNISDomain:            {kind: kindText},
	dhcpv4.OptNISServers:           {kind: kindAddrs},
	dhcpv4.OptNTPServers:           {kind: kindAddrs},
	dhcpv4.OptVendorSpecific:       {kind: kindHex},
	dhcpv4.OptNetBIOSNameServers:   {kind: kindAddrs},
	dhcpv4.OptNetBIOSNodeType:      {kind: kindUint8, oneOf: []int64{1, 2, 4, 8}, note: "(1 B-node, 2 P-node, 4 M-node, 8 H-node; RFC 2132 §8.7)"},
	dhcpv4.OptNetBIOSScope:         {kind: kindText},
	dhcpv4.OptRequestedIP:          {refused: "clients send it (RFC 2132 §9.1)"},
	dhcpv4.OptLeaseTime:            {refused: "use the lease-time key"},
	dhcpv4.OptOverload:             {refused: "the server sets it when options do not fit (RFC 2132 §9.3)"},
	dhcpv4.OptMessageType:          {refused: "the server sets it in every reply"},
	dhcpv4.OptServerID:             {refused: "use the server-id key"},
	dhcpv4.OptParameterRequestList: {refused: "clients send it (RFC 2132 §9.8)"},
	dhcpv4.OptMessage:              {refused: "the server sets it in DHCPNAK replies"},
	dhcpv4.OptMaxMessageSize:       {refused: "clients send it (RFC 2132 §9.10)"},
	dhcpv4.OptRenewalTime:          {refused: "use the renewal-time key"},
	dhcpv4.OptRebindingTime:        {refused: "use the rebinding-time key"},
	dhcpv4.OptVendorClass:          {refused: "clients send it (RFC 2132 §9.13)"},
	dhcpv4.OptClientID:             {refused: "clients send it; to reserve an address for one, use client-id in a reservation"},
	dhcpv4.OptTFTPServerName:       {kind: kindText},
	dhcpv4.OptBootfileName:         {kind: kindText},
	dhcpv4.OptUserClass:            {refused: "clients send it (RFC 3004)"},
	dhcpv4.OptRapidCommit:          {refused: "the server negotiates it for each request (RFC 4039)"},
	dhcpv4.OptClientFQDN:           {refused: "the server negotiates it for each client (RFC 4702)"},
	dhcpv4.OptRelayAgentInfo:       {refused: "relay agents add it and the server echoes it (RFC 3046)"},
	dhcpv4.OptDomainSearch:         {kind: kindDomainList},
	dhcpv4.OptClasslessRoutes:      {kind: kindClasslessRoutes},
	OptIPv6OnlyPreferred:           {refused: "use the ipv6-only-preferred key of a subnet (RFC 8925)"},
	OptSubnetSelection:             {refused: "clients and relays send it and the server echoes it (RFC 3011)"},
}

// typedKinds are the value types of an "option-N" entry, by their key.
var typedKinds = map[string]valueKind{
	"ip":     kindAddr,
	"ips":    kindAddrs,
	"string": kindText,
	"uint8":  kindUint8,
	"uint16": kindUint16,
	"uint32": kindUint32,
	"int32":  kindInt32,
	"bool":   kindBool,
	"hex":    kindHex,
}

// typedKeys are the keys of typedKinds, in the order the documentation
// gives them.
var typedKeys = []string{"ip", "ips", "string", "uint8", "uint16", "uint32", "int32", "bool", "hex"}

// optionNames returns the names of the configurable options, sorted, for
// suggestions.
func optionNames() []string {
	names := make([]string, 0, len(namedOptions))
	for c, s := range namedOptions {
		if s.kind != kindRefused {
			names = append(names, c.String())
		}
	}
	slices.Sort(names)
	return names
}

// want returns what the file must hold for a value of kind k.
func (k valueKind) want() string {
	switch k {
	case kindAddr:
		return "an IPv4 address"
	case kindMask:
		return "a subnet mask such as 255.255.255.0"
	case kindAddrs:
		return "a list of IPv4 addresses"
	case kindText:
		return "a string"
	case kindDomain:
		return "a domain name"
	case kindDomainList:
		return "a list of domain names"
	case kindClasslessRoutes:
		return "a list of routes ({destination: 198.19.0.0/16, router: 198.18.0.1})"
	case kindStaticRoutes:
		return "a list of routes ({destination: 198.19.0.1, router: 198.18.0.1})"
	case kindUint8:
		return "an integer from 0 to 255"
	case kindUint16:
		return "an integer from 0 to 65535"
	case kindUint32:
		return "an integer from 0 to 4294967295"
	case kindInt32:
		return "a signed number of seconds or a duration such as -5h"
	case kindBool:
		return "true or false"
	case kindHex:
		return "hex bytes such as 0a0b0c or 0a:0b:0c"
	}
	return "a value"
}

// parseHex decodes hex bytes written "0a0b0c", "0a:0b:0c" or "0a-0b-0c"
// (dhcpv4.ParseHex), with the message the configuration shows.
func parseHex(s string) ([]byte, error) {
	b, err := dhcpv4.ParseHex(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not hex bytes such as 0a0b0c or 0a:0b:0c", clip(s))
	}
	return b, nil
}

// checkDomainName reports whether name is a usable domain or host name,
// by the rule of dhcpv4.ValidHostname.
func checkDomainName(name string) error {
	if !dhcpv4.ValidHostname(name) {
		return fmt.Errorf("%q is not a valid domain name (labels of letters, digits, '-' and '_', 1 to 63 characters each, 253 in all)", clip(name))
	}
	return nil
}

// checkText reports whether s is usable as a text option: not empty, valid
// UTF-8, no control characters (RFC 2132 §2: no trailing NUL either).
func checkText(s string) error {
	if s == "" {
		return fmt.Errorf("empty string")
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%q is not valid UTF-8", clip(s))
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%q contains a control character", clip(s))
		}
	}
	return nil
}

// isMask reports whether m is a subnet mask: one or more leading ones, then
// zeros.
func isMask(m uint32) bool {
	return m != 0 && ^m&(^m+1) == 0
}

// checkWire checks the wire value of an option of kind k: its shape, and
// the constraints on its value that the spec gives. It is what Validate
// knows about options, since a Config built in Go holds only wire bytes.
func (s optionSpec) checkWire(v []byte) error {
	switch s.kind {
	case kindAddr:
		if len(v) != 4 {
			return fmt.Errorf("value of %d bytes is not an IPv4 address", len(v))
		}
	case kindMask:
		if len(v) != 4 || !isMask(binary.BigEndian.Uint32(v)) {
			return fmt.Errorf("%s is not a subnet mask (contiguous ones, then zeros)", formatBytesAddr(v))
		}
	case kindAddrs:
		if len(v) == 0 {
			return fmt.Errorf("needs at least one address")
		}
		if len(v)%4 != 0 {
			return fmt.Errorf("value of %d bytes is not a list of IPv4 addresses", len(v))
		}
	case kindText:
		return checkText(string(v))
	case kindDomain:
		return checkDomainName(string(v))
	case kindDomainList:
		if len(v) == 0 {
			return fmt.Errorf("needs at least one domain name")
		}
		if _, err := dhcpv4.ParseDomainList(v, nil); err != nil {
			return fmt.Errorf("value is not a domain list in RFC 3397 wire format")
		}
	case kindClasslessRoutes:
		if len(v) == 0 {
			return fmt.Errorf("needs at least one route")
		}
		if _, err := dhcpv4.ParseClasslessRoutes(v, nil); err != nil {
			return fmt.Errorf("value is not a route list in RFC 3442 wire format")
		}
	case kindStaticRoutes:
		if len(v) == 0 {
			return fmt.Errorf("needs at least one route")
		}
		if len(v)%8 != 0 {
			return fmt.Errorf("value of %d bytes is not a list of destination and router pairs", len(v))
		}
		for i := 0; i < len(v); i += 8 {
			if binary.BigEndian.Uint32(v[i:]) == 0 {
				return fmt.Errorf("0.0.0.0 is not allowed as a destination (RFC 2132 §5.8): the default route goes in routers")
			}
		}
	case kindUint8, kindUint16, kindUint32, kindInt32:
		n, ok := wireInt(s.kind, v)
		if !ok {
			return fmt.Errorf("value of %d bytes is not %s", len(v), s.kind.want())
		}
		if s.max > 0 && (n < s.min || n > s.max) {
			return fmt.Errorf("%d is out of range %d to %d %s", n, s.min, s.max, s.note)
		}
		if s.oneOf != nil && !slices.Contains(s.oneOf, n) {
			return fmt.Errorf("%d is not one of %s %s", n, formatInts(s.oneOf), s.note)
		}
	case kindBool:
		if len(v) != 1 || v[0] > 1 {
			return fmt.Errorf("value is not a boolean (one byte, 0 or 1)")
		}
	case kindHex:
		if len(v) == 0 {
			return fmt.Errorf("needs at least one byte")
		}
	}
	return nil
}

// wireInt decodes an integer option value of kind k.
func wireInt(k valueKind, v []byte) (int64, bool) {
	switch {
	case k == kindUint8 && len(v) == 1:
		return int64(v[0]), true
	case k == kindUint16 && len(v) == 2:
		return int64(binary.BigEndian.Uint16(v)), true
	case k == kindUint32 && len(v) == 4:
		return int64(binary.BigEndian.Uint32(v)), true
	case k == kindInt32 && len(v) == 4:
		return int64(int32(binary.BigEndian.Uint32(v))), true
	}
	return 0, false
}

// formatBytesAddr formats a 4-byte value as an address, anything else as
// hex, for messages.
func formatBytesAddr(v []byte) string {
	if len(v) == 4 {
		return netip.AddrFrom4([4]byte(v)).String()
	}
	return "0x" + hex.EncodeToString(v)
}

func formatInts(vs []int64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.FormatInt(v, 10)
	}
	return strings.Join(s, ", ")
}
