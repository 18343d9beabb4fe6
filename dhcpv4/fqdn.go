package dhcpv4

import "fmt"

// FQDNFlags are the flags of the client FQDN option (81, RFC 4702 §2.1):
//
//	0 1 2 3 4 5 6 7
//	+-+-+-+-+-+-+-+-+
//	|  MBZ  |N|E|O|S|
//	+-+-+-+-+-+-+-+-+
type FQDNFlags uint8

// The client FQDN flags.
const (
	// FQDNServerUpdate (S): from a client, that the server should update
	// the A record; from a server, that it does (RFC 4702 §2.1).
	FQDNServerUpdate FQDNFlags = 1 << 0
	// FQDNOverride (O): set by a server whose choice about the A record
	// differs from what the client asked.
	FQDNOverride FQDNFlags = 1 << 1
	// FQDNEncoded (E): the name is in canonical wire format (RFC 1035
	// §3.1) rather than the deprecated ASCII form (RFC 4702 §2.3).
	FQDNEncoded FQDNFlags = 1 << 2
	// FQDNNoUpdate (N): from a client, that the server should do no
	// updates at all; from a server, that it does none. S and N are never
	// both set.
	FQDNNoUpdate FQDNFlags = 1 << 3
	// fqdnMBZ are the bits that must be zero; a receiver ignores them.
	fqdnMBZ FQDNFlags = 0xf0
)

// FQDNServerRCode is the value a server puts in RCODE1 and RCODE2 (RFC
// 4702 §2.2); clients ignore both.
const FQDNServerRCode = 255

// ClientFQDN is a client FQDN option (81, RFC 4702 §2) as read from a
// message.
type ClientFQDN struct {
	// Flags are the flags as sent, the must-be-zero bits cleared.
	Flags FQDNFlags
	// RCode1 and RCode2 are the deprecated response codes, as sent.
	RCode1, RCode2 uint8
	// Name is the domain name as dot-separated text, without a trailing
	// dot, its labels as sent (not checked against any host name rule);
	// empty when the client sent none and leaves the name to the server.
	// It aliases the buffer given to ParseClientFQDN.
	Name []byte
	// Partial is set for a name that is not fully qualified (RFC 4702
	// §2.3.1): in wire format, one without the terminating zero-length
	// label; in ASCII, one without a trailing dot. The server completes
	// such a name with a domain of its own.
	Partial bool
}

// ParseClientFQDN decodes a client FQDN option value: three octets of
// flags and response codes, then the name in the encoding the E flag says
// (RFC 4702 §2). The name is appended to buf as dotted text, and Name
// aliases the result, so that a caller reusing buf allocates nothing.
//
// In wire format, compression pointers are refused (RFC 4702 §2.3.1 says
// MUST NOT), and so are a label holding a '.' or a zero byte (it cannot
// be written as text) and anything after the terminating zero label. A
// name of the root alone reads as no name. In ASCII, a trailing NUL
// (some clients add one) and one trailing dot are dropped. Either way the
// name is at most 253 characters with labels of 1 to 63. Errors wrap
// ErrDomainName; they never panic on any input.
func ParseClientFQDN(v, buf []byte) (ClientFQDN, error) {
	if len(v) < 3 {
		return ClientFQDN{}, fmt.Errorf("dhcpv4: client FQDN of %d bytes, want at least 3: %w", len(v), ErrDomainName)
	}
	f := ClientFQDN{Flags: FQDNFlags(v[0]) &^ fqdnMBZ, RCode1: v[1], RCode2: v[2]}
	name := v[3:]
	start := len(buf)
	var err error
	if f.Flags&FQDNEncoded != 0 {
		buf, f.Partial, err = appendWireName(buf, name)
	} else {
		buf, f.Partial, err = appendASCIIName(buf, name)
	}
	if err != nil {
		return ClientFQDN{}, err
	}
	if len(buf) > start {
		f.Name = buf[start:len(buf):len(buf)]
	} else {
		f.Partial = false
	}
	return f, nil
}

// appendWireName appends the dotted text of a name in wire format.
func appendWireName(buf, b []byte) ([]byte, bool, error) {
	start := len(buf)
	for i := 0; i < len(b); {
		n := int(b[i])
		switch {
		case n == 0:
			if i+1 != len(b) {
				return buf[:start], false, fmt.Errorf("dhcpv4: client FQDN: %d bytes after the name: %w", len(b)-i-1, ErrDomainName)
			}
			return buf, false, nil
		case n > 63:
			return buf[:start], false, fmt.Errorf("dhcpv4: client FQDN: label type or length %#x at offset %d (no compression allowed): %w", n, i, ErrDomainName)
		case i+1+n > len(b):
			return buf[:start], false, fmt.Errorf("dhcpv4: client FQDN: label at offset %d runs past the end: %w", i, ErrDomainName)
		}
		if len(buf) > start {
			buf = append(buf, '.')
		}
		for _, c := range b[i+1 : i+1+n] {
			if c == '.' || c == 0 {
				return buf[:start], false, fmt.Errorf("dhcpv4: client FQDN: label at offset %d holds a %q: %w", i, c, ErrDomainName)
			}
			buf = append(buf, c)
		}
		if len(buf)-start > 253 {
			return buf[:start], false, fmt.Errorf("dhcpv4: client FQDN: name longer than 253 characters: %w", ErrDomainName)
		}
		i += 1 + n
	}
	return buf, true, nil
}

// appendASCIIName appends a name in the deprecated ASCII form.
func appendASCIIName(buf, b []byte) ([]byte, bool, error) {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	partial := true
	if len(b) > 0 && b[len(b)-1] == '.' {
		b, partial = b[:len(b)-1], false
	}
	if len(b) == 0 {
		return buf, false, nil
	}
	if len(b) > 253 {
		return buf, false, fmt.Errorf("dhcpv4: client FQDN: name longer than 253 characters: %w", ErrDomainName)
	}
	label := 0
	for i, c := range b {
		switch {
		case c == 0:
			return buf, false, fmt.Errorf("dhcpv4: client FQDN: NUL at offset %d: %w", i, ErrDomainName)
		case c == '.':
			if label == 0 {
				return buf, false, fmt.Errorf("dhcpv4: client FQDN: empty label at offset %d: %w", i, ErrDomainName)
			}
			label = 0
		default:
			if label++; label > 63 {
				return buf, false, fmt.Errorf("dhcpv4: client FQDN: label longer than 63 characters at offset %d: %w", i, ErrDomainName)
			}
		}
	}
	if label == 0 {
		return buf, false, fmt.Errorf("dhcpv4: client FQDN: empty label at the end: %w", ErrDomainName)
	}
	return append(buf, b...), partial, nil
}

// clientFQDNLen returns the length of an option 81 value carrying name
// (dotted text, no trailing dot) in the encoding flags say, or -1 when
// name has an empty label, a label over 63 bytes or is over 253 bytes.
func clientFQDNLen(flags FQDNFlags, name []byte, partial bool) int {
	if len(name) == 0 {
		return 3
	}
	if len(name) > 253 {
		return -1
	}
	label := 0
	for i := 0; i < len(name); i++ {
		if name[i] != '.' {
			if label++; label > 63 {
				return -1
			}
			continue
		}
		if label == 0 {
			return -1
		}
		label = 0
	}
	if label == 0 {
		return -1
	}
	n := 3 + len(name)
	switch {
	case flags&FQDNEncoded != 0:
		n++ // the first length octet; the others replace the dots
		if !partial {
			n++ // the terminating zero label
		}
	case !partial:
		n++ // the trailing dot
	}
	return n
}

// putClientFQDN writes an option 81 value of length n (see
// clientFQDNLen) into b.
func putClientFQDN(b []byte, flags FQDNFlags, rcode1, rcode2 uint8, name []byte, partial bool) {
	b[0], b[1], b[2] = byte(flags&^fqdnMBZ), rcode1, rcode2
	if len(name) == 0 {
		return
	}
	if flags&FQDNEncoded == 0 {
		copy(b[3:], name)
		if !partial {
			b[3+len(name)] = '.'
		}
		return
	}
	at := 3 // the length octet of the current label
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			b[at] = byte(3 + i - at)
			at = 3 + i + 1
			continue
		}
		b[4+i] = name[i]
	}
	if !partial {
		b[4+len(name)] = 0
	}
}

// SetClientFQDN sets option 81 (RFC 4702 §2): flags (the must-be-zero
// bits cleared), the response codes, and name, dot-separated text without
// a trailing dot (empty for no name), in the encoding flags say: canonical
// wire format with FQDNEncoded, else ASCII. A name that is not partial is
// written fully qualified: with the terminating zero label, or in ASCII a
// trailing dot. It writes in place, allocating nothing once the set's
// buffer has grown. It returns false, changing nothing, when name has an
// empty label, a label over 63 bytes or more than 253 bytes, or the set
// would grow too large.
func (o *Options) SetClientFQDN(flags FQDNFlags, rcode1, rcode2 uint8, name []byte, partial bool) bool {
	n := clientFQDNLen(flags, name, partial)
	if n < 0 {
		return false
	}
	off, ok := o.reserve(OptClientFQDN, n)
	if ok {
		putClientFQDN(o.buf[off:off+n], flags, rcode1, rcode2, name, partial)
	}
	return ok
}

// AppendClientFQDN appends an option 81 value, as SetClientFQDN writes
// it, to dst. On error, dst is returned unchanged.
func AppendClientFQDN(dst []byte, flags FQDNFlags, rcode1, rcode2 uint8, name []byte, partial bool) ([]byte, error) {
	n := clientFQDNLen(flags, name, partial)
	if n < 0 {
		return dst, fmt.Errorf("dhcpv4: client FQDN: %q is not a domain name of labels of 1 to 63 bytes, 253 in all: %w", name, ErrDomainName)
	}
	base := len(dst)
	dst = grow(dst, n)
	putClientFQDN(dst[base:], flags, rcode1, rcode2, name, partial)
	return dst, nil
}
