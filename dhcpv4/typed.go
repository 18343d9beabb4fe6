package dhcpv4

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Sub-options: the relay agent information option (82) is a sequence of
// code, length, value sub-options (RFC 3046 §2.0), and so are encapsulated
// vendor-specific options (43, RFC 2132 §8.4). The functions below work on
// either value.

// SubOption returns the value of the first sub-option code in a relay
// agent information (or encapsulated vendor-specific) value. It returns
// false when the sub-option is absent or a sub-option before it is
// malformed. The result aliases info.
func SubOption(info []byte, code uint8) ([]byte, bool) {
	for i := 0; i+1 < len(info); {
		c, n := info[i], int(info[i+1])
		if i+2+n > len(info) {
			return nil, false
		}
		if c == code {
			return info[i+2 : i+2+n], true
		}
		i += 2 + n
	}
	return nil, false
}

// ErrSubOption is wrapped by the error ValidateSubOptions returns.
var ErrSubOption = errors.New("malformed sub-option")

// ValidateSubOptions checks that info is a well-formed sequence of
// sub-options that exactly fills it. The error wraps ErrSubOption and gives
// the offset of the first malformed sub-option.
func ValidateSubOptions(info []byte) error {
	i := 0
	for i < len(info) {
		if i+1 >= len(info) || i+2+int(info[i+1]) > len(info) {
			return fmt.Errorf("dhcpv4: sub-option %d at offset %d runs past the end: %w", info[i], i, ErrSubOption)
		}
		i += 2 + int(info[i+1])
	}
	return nil
}

// AppendSubOption appends a sub-option to dst. Values longer than 255 bytes
// are cut to 255, the most a sub-option can hold.
func AppendSubOption(dst []byte, code uint8, value []byte) []byte {
	value = value[:min(len(value), 255)]
	dst = append(dst, code, byte(len(value)))
	return append(dst, value...)
}

// LinkSelection returns the link selection sub-option (RFC 3527) of a relay
// agent information value.
func LinkSelection(info []byte) (netip.Addr, bool) {
	v, ok := SubOption(info, RelayLinkSelection)
	if !ok || len(v) != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(v)), true
}

// ServerIDOverride returns the server identifier override sub-option
// (RFC 5107) of a relay agent information value.
func ServerIDOverride(info []byte) (netip.Addr, bool) {
	v, ok := SubOption(info, RelayServerIDOverride)
	if !ok || len(v) != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(v)), true
}

// Domain lists: option 119 (RFC 3397) holds domain names in DNS wire format
// (RFC 1035 §3.1) with message compression (§4.1.4), offsets counted from the
// start of the option's (concatenated) value.

// ErrDomainName is wrapped by errors about domain names and lists.
var ErrDomainName = errors.New("invalid domain name")

// AppendDomainList encodes names as an option 119 value and appends it to
// dst. Names are dot-separated; a trailing dot is optional and dropped.
// Each label must be 1 to 63 bytes and each name at most 255 bytes on the
// wire (253 characters). A suffix that an earlier name already holds,
// spelt the same, is written as a compression pointer (RFC 1035 §4.1.4);
// pointers count from the first byte appended, so dst must not hold an
// earlier part of the same option value. On error, dst is returned
// unchanged.
func AppendDomainList(dst []byte, names []string) ([]byte, error) {
	base := len(dst)
	type suffix struct {
		name string
		off  int
	}
	var seen []suffix
	for _, name := range names {
		name = strings.TrimSuffix(name, ".")
		if err := checkDomainName(name); err != nil {
			return dst[:base], err
		}
		rest := name
		for rest != "" {
			off := -1
			for _, s := range seen {
				if s.name == rest {
					off = s.off
					break
				}
			}
			if off >= 0 {
				dst = append(dst, 0xc0|byte(off>>8), byte(off))
				break
			}
			if pos := len(dst) - base; pos < 0x4000 {
				seen = append(seen, suffix{rest, pos})
			}
			label, tail, _ := strings.Cut(rest, ".")
			dst = append(dst, byte(len(label)))
			dst = append(dst, label...)
			rest = tail
			if rest == "" {
				dst = append(dst, 0)
			}
		}
	}
	return dst, nil
}

func checkDomainName(name string) error {
	if name == "" {
		return fmt.Errorf("dhcpv4: empty domain name: %w", ErrDomainName)
	}
	if len(name)+2 > 255 {
		return fmt.Errorf("dhcpv4: domain name %q longer than 253 characters: %w", name, ErrDomainName)
	}
	for label := range strings.SplitSeq(name, ".") {
		if len(label) == 0 || len(label) > 63 {
			return fmt.Errorf("dhcpv4: domain name %q has a label of %d bytes (must be 1-63): %w", name, len(label), ErrDomainName)
		}
	}
	return nil
}

// ParseDomainList decodes an option 119 value into names (without trailing
// dots), appending them to dst. The value must be whole: an option split
// into several instances is decoded from their concatenation (RFC 3397
// §2), as Parse presents it. Each compression pointer must point strictly
// before the start of the run of labels it ends, which rules out loops.
// A root (empty) name, a bad label type, a name over 253 characters or a
// name running past the end is an error wrapping ErrDomainName, giving the
// offset; dst is then returned with the names decoded before it.
func ParseDomainList(b []byte, dst []string) ([]string, error) {
	for i := 0; i < len(b); {
		name, next, err := readName(b, i)
		if err != nil {
			return dst, err
		}
		dst = append(dst, name)
		i = next
	}
	return dst, nil
}

// readName reads the name starting at off and returns it and the offset
// after it in the main sequence.
func readName(b []byte, off int) (string, int, error) {
	var sb strings.Builder
	next := -1
	limit := off // pointers must go strictly backwards from here
	for i := off; ; {
		if i >= len(b) {
			return "", 0, fmt.Errorf("dhcpv4: domain list: name at offset %d runs past the end: %w", off, ErrDomainName)
		}
		n := int(b[i])
		switch {
		case n == 0:
			if next < 0 {
				next = i + 1
			}
			if sb.Len() == 0 {
				return "", 0, fmt.Errorf("dhcpv4: domain list: empty name at offset %d: %w", off, ErrDomainName)
			}
			return sb.String(), next, nil
		case n&0xc0 == 0xc0:
			if i+1 >= len(b) {
				return "", 0, fmt.Errorf("dhcpv4: domain list: pointer at offset %d cut short: %w", i, ErrDomainName)
			}
			p := (n&0x3f)<<8 | int(b[i+1])
			if next < 0 {
				next = i + 2
			}
			if p >= limit {
				return "", 0, fmt.Errorf("dhcpv4: domain list: pointer at offset %d does not point backwards: %w", i, ErrDomainName)
			}
			limit = p
			i = p
		case n&0xc0 != 0:
			return "", 0, fmt.Errorf("dhcpv4: domain list: bad label type at offset %d: %w", i, ErrDomainName)
		default:
			if i+1+n > len(b) {
				return "", 0, fmt.Errorf("dhcpv4: domain list: label at offset %d runs past the end: %w", i, ErrDomainName)
			}
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.Write(b[i+1 : i+1+n])
			if sb.Len() > 253 {
				return "", 0, fmt.Errorf("dhcpv4: domain list: name at offset %d longer than 253 characters: %w", off, ErrDomainName)
			}
			i += 1 + n
		}
	}
}

// Route is one classless static route (RFC 3442): packets for Dest go to
// Router. A Router of 0.0.0.0 means the destination is on the link.
type Route struct {
	Dest   netip.Prefix
	Router netip.Addr
}

// String formats the route as "198.18.0.0/15 via 198.18.0.1".
func (r Route) String() string { return r.Dest.String() + " via " + r.Router.String() }

// ErrRoute is wrapped by errors about classless static routes.
var ErrRoute = errors.New("invalid classless static route")

// AppendClasslessRoutes encodes routes as an option 121 value and appends
// it to dst: for each route, the prefix length, the significant octets of
// the destination, and the router (RFC 3442 §3). Destination bits beyond
// the prefix length are cleared. A destination that is not a valid IPv4
// prefix or a router that is not an IPv4 address is an error wrapping
// ErrRoute; dst is then returned unchanged.
func AppendClasslessRoutes(dst []byte, routes []Route) ([]byte, error) {
	base := len(dst)
	for _, r := range routes {
		if !r.Dest.IsValid() || !r.Dest.Addr().Is4() {
			return dst[:base], fmt.Errorf("dhcpv4: route destination %v is not an IPv4 prefix: %w", r.Dest, ErrRoute)
		}
		if !r.Router.Is4() {
			return dst[:base], fmt.Errorf("dhcpv4: route %v: router %v is not IPv4: %w", r.Dest, r.Router, ErrRoute)
		}
		d := r.Dest.Masked()
		bits := d.Bits()
		a := d.Addr().As4()
		dst = append(dst, byte(bits))
		dst = append(dst, a[:(bits+7)/8]...)
		g := r.Router.As4()
		dst = append(dst, g[:]...)
	}
	return dst, nil
}

// ParseClasslessRoutes decodes an option 121 value, appending the routes to
// dst. Destination bits beyond the prefix length, which a sender should
// not set, are cleared, as the kernel would need them to be to install the
// route. A prefix length over 32 or a route running past the end is an
// error wrapping ErrRoute, giving the offset; since the rest of the value
// can then not be delimited, dst is returned with the routes decoded
// before it and the caller should ignore the whole option.
func ParseClasslessRoutes(b []byte, dst []Route) ([]Route, error) {
	for i := 0; i < len(b); {
		bits := int(b[i])
		if bits > 32 {
			return dst, fmt.Errorf("dhcpv4: classless route at offset %d: prefix length %d > 32: %w", i, bits, ErrRoute)
		}
		n := (bits + 7) / 8
		if i+1+n+4 > len(b) {
			return dst, fmt.Errorf("dhcpv4: classless route at offset %d runs past the end: %w", i, ErrRoute)
		}
		var a [4]byte
		copy(a[:], b[i+1:i+1+n])
		pfx := netip.PrefixFrom(netip.AddrFrom4(a), bits).Masked()
		dst = append(dst, Route{Dest: pfx, Router: netip.AddrFrom4([4]byte(b[i+1+n : i+5+n]))})
		i += 5 + n
	}
	return dst, nil
}

// User class: option 77 holds one or more user classes, each a length
// byte and 1 to 255 bytes of opaque data (RFC 3004 §4). Some older clients
// send plain text instead; ParseUserClass rejects such values, and the
// caller can fall back to the raw value.

// ErrUserClass is wrapped by errors about user class values.
var ErrUserClass = errors.New("invalid user class")

// AppendUserClass encodes classes as an option 77 value and appends it to
// dst. Each class must be 1 to 255 bytes; otherwise the error wraps
// ErrUserClass and dst is returned unchanged.
func AppendUserClass(dst []byte, classes [][]byte) ([]byte, error) {
	base := len(dst)
	for i, c := range classes {
		if len(c) == 0 || len(c) > 255 {
			return dst[:base], fmt.Errorf("dhcpv4: user class %d is %d bytes long (must be 1-255): %w", i, len(c), ErrUserClass)
		}
		dst = append(dst, byte(len(c)))
		dst = append(dst, c...)
	}
	return dst, nil
}

// ParseUserClass decodes an option 77 value, appending its classes to dst.
// The classes alias b. An empty value, a zero-length class or a class
// running past the end is an error wrapping ErrUserClass, giving the
// offset.
func ParseUserClass(b []byte, dst [][]byte) ([][]byte, error) {
	if len(b) == 0 {
		return dst, fmt.Errorf("dhcpv4: user class: empty value: %w", ErrUserClass)
	}
	for i := 0; i < len(b); {
		n := int(b[i])
		if n == 0 || i+1+n > len(b) {
			return dst, fmt.Errorf("dhcpv4: user class at offset %d: length %d does not fit: %w", i, n, ErrUserClass)
		}
		dst = append(dst, b[i+1:i+1+n:i+1+n])
		i += 1 + n
	}
	return dst, nil
}
