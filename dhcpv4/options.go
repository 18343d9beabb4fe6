package dhcpv4

import (
	"encoding/binary"
	"iter"
	"net/netip"
	"time"
)

// maxOptionsBytes bounds the total size of the option values one Options
// holds: 65,535 bytes, more than any UDP payload can carry.
const maxOptionsBytes = 65535

// optRef locates one option's value inside Options.buf.
type optRef struct {
	off uint16
	n   uint16
	ok  bool
}

// Options is the set of options of one message, in the order they were
// first added or parsed. Each code appears once: an option that arrived
// split over several instances (RFC 3396) holds their concatenated value.
// Pad (0) and End (255) are framing, never members of the set.
//
// The zero value is an empty set ready to use. Options keeps its buffers
// across Reset, so a reused Options allocates nothing in steady state.
// Values returned by Get and the typed getters alias the internal buffer:
// they are valid until the next change to the set.
//
// Copying an Options value shares its buffers between the copies; use
// CopyFrom to make an independent copy. Options is not safe for concurrent
// modification.
type Options struct {
	buf   []byte
	order []OptionCode
	refs  [256]optRef
}

// Reset empties the set, keeping its buffers.
func (o *Options) Reset() {
	for _, c := range o.order {
		o.refs[c] = optRef{}
	}
	o.order = o.order[:0]
	o.buf = o.buf[:0]
}

// Len returns the number of distinct options in the set.
func (o *Options) Len() int { return len(o.order) }

// Has reports whether the set holds option c.
func (o *Options) Has(c OptionCode) bool { return o.refs[c].ok }

// Get returns the value of option c. The value aliases the set's buffer;
// an option present with an empty value (such as rapid commit, 80) returns
// an empty slice and true.
func (o *Options) Get(c OptionCode) ([]byte, bool) {
	r := o.refs[c]
	if !r.ok {
		return nil, false
	}
	end := int(r.off) + int(r.n)
	return o.buf[r.off:end:end], true
}

// Codes returns the codes present, in order. The slice aliases the set.
func (o *Options) Codes() []OptionCode { return o.order }

// All yields each option's code and value, in order.
func (o *Options) All() iter.Seq2[OptionCode, []byte] {
	return func(yield func(OptionCode, []byte) bool) {
		for _, c := range o.order {
			v, _ := o.Get(c)
			if !yield(c, v) {
				return
			}
		}
	}
}

// Set sets option c to a copy of value, replacing any earlier value but
// keeping its position. A nil or empty value sets an option with no data,
// such as rapid commit (80). Pad (0) and End (255) cannot be set. Set
// returns false, changing nothing, when c is Pad or End or the set would
// hold more than 65,535 bytes of values.
func (o *Options) Set(c OptionCode, value []byte) bool {
	off, ok := o.reserve(c, len(value))
	if ok {
		copy(o.buf[off:], value)
	}
	return ok
}

// SetString sets option c to the bytes of s, as Set does.
func (o *Options) SetString(c OptionCode, s string) bool {
	off, ok := o.reserve(c, len(s))
	if ok {
		copy(o.buf[off:], s)
	}
	return ok
}

// reserve makes room for an n-byte value of option c, records it, and
// returns its offset in o.buf. A value no longer than the one it replaces
// is written in place; otherwise it goes at the end of the buffer, and when
// the space left behind by replaced and deleted values would push the
// buffer past maxOptionsBytes, the live values are first compacted into a
// new buffer (so that values aliasing the old one stay intact).
func (o *Options) reserve(c OptionCode, n int) (int, bool) {
	if c == OptPad || c == OptEnd || n > maxOptionsBytes {
		return 0, false
	}
	r := o.refs[c]
	if r.ok && n <= int(r.n) {
		o.refs[c].n = uint16(n)
		return int(r.off), true
	}
	if len(o.buf)+n > maxOptionsBytes {
		live := 0
		for _, oc := range o.order {
			if oc != c {
				live += int(o.refs[oc].n)
			}
		}
		if live+n > maxOptionsBytes {
			return 0, false
		}
		o.compact(c, live+n)
	}
	off := len(o.buf)
	o.buf = grow(o.buf, n)
	if !r.ok {
		o.order = append(o.order, c)
	}
	o.refs[c] = optRef{off: uint16(off), n: uint16(n), ok: true}
	return off, true
}

// compact copies every value but skip's into a new buffer with capacity
// for size bytes.
func (o *Options) compact(skip OptionCode, size int) {
	nb := make([]byte, 0, size)
	for _, c := range o.order {
		if c == skip {
			continue
		}
		r := &o.refs[c]
		off := len(nb)
		nb = append(nb, o.buf[r.off:int(r.off)+int(r.n)]...)
		r.off = uint16(off)
	}
	o.buf = nb
}

// Del removes option c.
func (o *Options) Del(c OptionCode) {
	if !o.refs[c].ok {
		return
	}
	o.refs[c] = optRef{}
	for i, oc := range o.order {
		if oc == c {
			o.order = append(o.order[:i], o.order[i+1:]...)
			break
		}
	}
}

// grow extends b by n bytes, reusing its capacity when it can.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// CopyFrom makes o an independent copy of src, reusing o's buffers.
func (o *Options) CopyFrom(src *Options) {
	if o == src {
		return
	}
	o.Reset()
	for _, c := range src.order {
		v, _ := src.Get(c)
		o.Set(c, v)
	}
}

// Typed getters. Each returns false when the option is absent or its value
// does not have the encoding the getter reads.

// Uint8 returns a one-byte option.
func (o *Options) Uint8(c OptionCode) (uint8, bool) {
	v, ok := o.Get(c)
	if !ok || len(v) != 1 {
		return 0, false
	}
	return v[0], true
}

// Uint16 returns a two-byte big-endian option, such as the maximum message
// size (57).
func (o *Options) Uint16(c OptionCode) (uint16, bool) {
	v, ok := o.Get(c)
	if !ok || len(v) != 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(v), true
}

// Uint32 returns a four-byte big-endian option.
func (o *Options) Uint32(c OptionCode) (uint32, bool) {
	v, ok := o.Get(c)
	if !ok || len(v) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(v), true
}

// Addr returns an option holding one IPv4 address, such as the subnet mask
// (1), broadcast address (28), requested address (50) or server identifier
// (54).
func (o *Options) Addr(c OptionCode) (netip.Addr, bool) {
	v, ok := o.Get(c)
	if !ok || len(v) != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(v)), true
}

// Addrs appends the addresses of an option holding a list of IPv4
// addresses, such as routers (3), DNS servers (6) or NTP servers (42), to
// dst. It returns dst unchanged and false when the option is absent, empty
// or not a multiple of four bytes long.
func (o *Options) Addrs(c OptionCode, dst []netip.Addr) ([]netip.Addr, bool) {
	v, ok := o.Get(c)
	if !ok || len(v) == 0 || len(v)%4 != 0 {
		return dst, false
	}
	for i := 0; i < len(v); i += 4 {
		dst = append(dst, netip.AddrFrom4([4]byte(v[i:i+4])))
	}
	return dst, true
}

// Infinite is the lease time that never ends: 0xffffffff seconds
// (RFC 2131 §3.3).
const Infinite = time.Duration(0xffffffff) * time.Second

// Duration returns an option holding a time in whole seconds, such as the
// lease time (51) or the renewal (58) and rebinding (59) times, as a
// Duration; 0xffffffff is Infinite.
func (o *Options) Duration(c OptionCode) (time.Duration, bool) {
	v, ok := o.Uint32(c)
	if !ok {
		return 0, false
	}
	return time.Duration(v) * time.Second, true
}

// MessageType returns the DHCP message type (option 53), or 0 when absent
// or malformed.
func (o *Options) MessageType() MessageType {
	v, _ := o.Uint8(OptMessageType)
	return MessageType(v)
}

// ParameterRequested reports whether the parameter request list (55)
// holds code c.
func (o *Options) ParameterRequested(c OptionCode) bool {
	v, _ := o.Get(OptParameterRequestList)
	for _, x := range v {
		if OptionCode(x) == c {
			return true
		}
	}
	return false
}

// Typed setters. Each returns false, changing nothing, when the set would
// exceed 65,535 bytes of values or c is Pad or End.

// SetUint8 sets a one-byte option.
func (o *Options) SetUint8(c OptionCode, v uint8) bool {
	off, ok := o.reserve(c, 1)
	if ok {
		o.buf[off] = v
	}
	return ok
}

// SetUint16 sets a two-byte big-endian option.
func (o *Options) SetUint16(c OptionCode, v uint16) bool {
	off, ok := o.reserve(c, 2)
	if ok {
		binary.BigEndian.PutUint16(o.buf[off:], v)
	}
	return ok
}

// SetUint32 sets a four-byte big-endian option.
func (o *Options) SetUint32(c OptionCode, v uint32) bool {
	off, ok := o.reserve(c, 4)
	if ok {
		binary.BigEndian.PutUint32(o.buf[off:], v)
	}
	return ok
}

// SetAddr sets an option holding one IPv4 address. An IPv4-mapped IPv6
// address is written as its IPv4 address; any other address that is not
// IPv4, including the zero Addr, is written as 0.0.0.0.
func (o *Options) SetAddr(c OptionCode, a netip.Addr) bool {
	off, ok := o.reserve(c, 4)
	if ok {
		putAddr(o.buf[off:], a)
	}
	return ok
}

// SetAddrs sets an option holding a list of IPv4 addresses, each written
// as SetAddr writes it.
func (o *Options) SetAddrs(c OptionCode, as []netip.Addr) bool {
	off, ok := o.reserve(c, 4*len(as))
	if ok {
		for i, a := range as {
			putAddr(o.buf[off+4*i:], a)
		}
	}
	return ok
}

// SetDuration sets an option holding a time in whole seconds (51, 58,
// 59), rounding down. Durations of Infinite or more are written as
// 0xffffffff, negative ones as zero.
func (o *Options) SetDuration(c OptionCode, d time.Duration) bool {
	s := d / time.Second
	switch {
	case d >= Infinite:
		s = 0xffffffff
	case s < 0:
		s = 0
	}
	return o.SetUint32(c, uint32(s))
}

// SetMessageType sets option 53.
func (o *Options) SetMessageType(t MessageType) bool {
	return o.SetUint8(OptMessageType, uint8(t))
}

// SetParameterRequestList sets option 55 to codes, in the client's order
// of preference.
func (o *Options) SetParameterRequestList(codes []OptionCode) bool {
	off, ok := o.reserve(OptParameterRequestList, len(codes))
	if ok {
		for i, c := range codes {
			o.buf[off+i] = byte(c)
		}
	}
	return ok
}

// putAddr writes a as four bytes; see SetAddr.
func putAddr(b []byte, a netip.Addr) {
	if a.Is4() || a.Is4In6() {
		v := a.Unmap().As4()
		copy(b[:4], v[:])
		return
	}
	clear(b[:4])
}
