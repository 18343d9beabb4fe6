package dhcpv4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// ErrNoRoom is wrapped by the error Append returns when the options do not
// fit in the maximum message size even with sname and file overloaded.
var ErrNoRoom = errors.New("options do not fit in the maximum message size")

// MaxUDPPayload is the largest UDP payload an IPv4 datagram can carry:
// 65,535 bytes less 20 of IP and 8 of UDP header. Append never builds a
// larger message.
const MaxUDPPayload = 65535 - 28

// MaxMessageSize returns the largest DHCP message (UDP payload) that may be
// sent to the sender of p. The maximum DHCP message size option (57) counts
// the whole IP datagram (RFC 2132 §9.10, whose minimum legal value is 576),
// so the payload is its value less 28 bytes of IP and UDP headers. Without
// the option, or with a value below 576, it is DefaultMaxMessageSize
// (548, RFC 2131 §2).
func (p *Packet) MaxMessageSize() int {
	v, ok := p.Options.Uint16(OptMaxMessageSize)
	if !ok || int(v)-28 < DefaultMaxMessageSize {
		return DefaultMaxMessageSize
	}
	return int(v) - 28
}

// encodedLen is the number of bytes an option with an n-byte value takes
// on the wire when split into parts of at most 255 bytes (RFC 3396).
func encodedLen(n int) int {
	if n == 0 {
		return 2
	}
	return n + 2*((n+254)/255)
}

// Append encodes p and appends the message to dst. maxLen is the largest
// message (UDP payload) allowed: 0 or less means DefaultMaxMessageSize,
// values below the BOOTP minimum of 300 bytes are taken as 300, and values
// above MaxUDPPayload as MaxUDPPayload. The message is padded with zeros
// (Pad) to at least 300 bytes (RFC 1542 §3.1.1).
//
// The message type (53) is written first, the other options in the order
// of p.Options, and End last. Values longer than 255 bytes are split into
// consecutive instances of the option (RFC 3396). Option 52 in p.Options
// is never written as it is: Append decides overloading itself. When the
// options do not fit in the options field, Append sets option 52 and
// places options in the file and then the sname field as well
// (RFC 2132 §9.3), each ending with End. Only fields free of text are used:
// a field is free when it is all zeros, or when p's own option 52 says it
// holds options (as in a parsed message; those options are already in
// p.Options, so the field's bytes are not copied). Each option, or each
// 255-byte part of a long one, goes whole into the first field with room;
// only when it fits whole in none is it split across fields, in the order
// options, file, sname in which a receiver concatenates them (RFC 3396
// §5). If the options still do not fit, Append returns dst unchanged and
// an error wrapping ErrNoRoom. A Packet whose Op is neither BootRequest
// nor BootReply is refused with an error wrapping ErrOp.
//
// Append allocates only when dst lacks the capacity for the message.
func (p *Packet) Append(dst []byte, maxLen int) ([]byte, error) {
	if p.Op != BootRequest && p.Op != BootReply {
		return dst, fmt.Errorf("dhcpv4: cannot build a message with %v: %w", p.Op, ErrOp)
	}
	if maxLen <= 0 {
		maxLen = DefaultMaxMessageSize
	}
	maxLen = min(max(maxLen, BOOTPMinLen), MaxUDPPayload)

	need := 0
	for _, c := range p.Options.order {
		if c != OptOverload {
			need += encodedLen(int(p.Options.refs[c].n))
		}
	}
	own := p.overload()
	fileFree := own&OverloadFile != 0 || p.File == [lenFile]byte{}
	snameFree := own&OverloadSName != 0 || p.SName == [lenSName]byte{}

	overload := MinLen+need+1 > maxLen
	size := max(MinLen+need+1, BOOTPMinLen)
	if overload {
		size = maxLen
	}
	base := len(dst)
	dst = slices.Grow(dst, size)[:base+size]
	msg := dst[base:]
	clear(msg)
	p.putHeader(msg, !fileFree, !snameFree)

	w := areaWriter{msg: msg, n: 1}
	// The fields in the order RFC 3396 §5 concatenates them; each end
	// leaves one byte for End.
	w.areas[0] = area{pos: offOptions, end: size - 1}
	if overload {
		w.areas[0].pos += 3 // option 52
		if fileFree {
			w.areas[w.n] = area{pos: offFile, end: offFile + lenFile - 1, bit: OverloadFile}
			w.n++
		}
		if snameFree {
			w.areas[w.n] = area{pos: offSName, end: offSName + lenSName - 1, bit: OverloadSName}
			w.n++
		}
	}

	if v, ok := p.Options.Get(OptMessageType); ok {
		w.put(OptMessageType, v)
	}
	for _, c := range p.Options.order {
		if c == OptMessageType || c == OptOverload {
			continue
		}
		v, _ := p.Options.Get(c)
		w.put(c, v)
	}
	if w.full {
		return dst[:base], fmt.Errorf("dhcpv4: %d bytes of options do not fit in a message of at most %d bytes: %w", need, maxLen, ErrNoRoom)
	}
	end := w.areas[0].pos
	msg[end] = byte(OptEnd)
	end++
	if overload {
		var ov uint8
		for _, a := range w.areas[1:w.n] {
			if a.used {
				ov |= a.bit
				msg[a.pos] = byte(OptEnd)
			}
		}
		msg[offOptions] = byte(OptOverload)
		msg[offOptions+1] = 1
		msg[offOptions+2] = ov
	}
	return dst[:base+max(end, BOOTPMinLen)], nil
}

// putHeader writes the fixed fields and the magic cookie into msg, which
// is zero. The sname and file fields are left zero when they hold
// overloaded options.
func (p *Packet) putHeader(msg []byte, copyFile, copySName bool) {
	msg[0] = byte(p.Op)
	msg[1] = p.HType
	msg[2] = min(p.HLen, 16)
	msg[3] = p.Hops
	binary.BigEndian.PutUint32(msg[4:8], p.XID)
	binary.BigEndian.PutUint16(msg[8:10], p.Secs)
	binary.BigEndian.PutUint16(msg[10:12], p.Flags)
	putAddr(msg[12:16], p.CIAddr)
	putAddr(msg[16:20], p.YIAddr)
	putAddr(msg[20:24], p.SIAddr)
	putAddr(msg[24:28], p.GIAddr)
	copy(msg[28:44], p.CHAddr[:])
	if copySName {
		copy(msg[offSName:offSName+lenSName], p.SName[:])
	}
	if copyFile {
		copy(msg[offFile:offFile+lenFile], p.File[:])
	}
	copy(msg[HeaderLen:MinLen], magic[:])
}

// area is one field that options are written into, from pos up to end
// (exclusive, leaving one byte for End).
type area struct {
	pos, end int
	bit      uint8 // overload bit of the field
	used     bool
}

// room is the largest value one option instance can take in a.
func (a *area) room() int { return a.end - a.pos - 2 }

// areaWriter places options into up to three areas: the options field,
// then the file and sname fields when overloading.
type areaWriter struct {
	msg   []byte
	areas [3]area
	n     int  // areas in use
	full  bool // an option did not fit
}

// put writes option c with value v, split into parts of at most 255 bytes.
// Each part goes whole into the first area, at or after the previous
// part's, with room for it; a part that fits whole nowhere is split over
// the areas with room left. The areas' order is the concatenation order,
// so the parts reassemble in order.
func (w *areaWriter) put(c OptionCode, v []byte) {
	first := 0 // the first area the next part may go to
	for {
		k := min(len(v), 255)
		i := first
		for i < w.n && w.areas[i].room() < k {
			i++
		}
		if i < w.n {
			w.write(i, c, v[:k])
			first = i
		} else {
			// Split the part over the areas that have room for at least
			// one byte of it.
			rest := v[:k]
			for i = first; i < w.n && len(rest) > 0; i++ {
				if r := w.areas[i].room(); r > 0 {
					m := min(r, len(rest))
					w.write(i, c, rest[:m])
					rest = rest[m:]
					first = i
				}
			}
			if len(rest) > 0 || k == 0 {
				w.full = true
				return
			}
		}
		v = v[k:]
		if len(v) == 0 {
			return
		}
	}
}

// write writes one instance of option c with value v (at most 255 bytes,
// and fitting) into area i.
func (w *areaWriter) write(i int, c OptionCode, v []byte) {
	a := &w.areas[i]
	w.msg[a.pos] = byte(c)
	w.msg[a.pos+1] = byte(len(v))
	copy(w.msg[a.pos+2:], v)
	a.pos += 2 + len(v)
	a.used = true
}
