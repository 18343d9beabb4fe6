package dhcpv4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Sizes of the message layout (RFC 2131 §2, Figure 1).
const (
	// HeaderLen is the length of the fixed BOOTP fields before the options.
	HeaderLen = 236
	// MinLen is the shortest DHCP message: the fixed fields and the magic
	// cookie.
	MinLen = HeaderLen + 4
	// BOOTPMinLen is the shortest message a relay or BOOTP client must
	// accept; shorter messages are padded to it (RFC 1542 §3.1.1).
	BOOTPMinLen = 300
	// DefaultMaxMessageSize is the largest DHCP message (UDP payload) a
	// client must accept when it says nothing else: the 576-byte minimum IP
	// datagram less 20 bytes of IP and 8 of UDP header (RFC 2131 §2).
	DefaultMaxMessageSize = 576 - 28

	offOptions = MinLen
	offSName   = 44
	offFile    = 108
	lenSName   = 64
	lenFile    = 128
)

// FlagBroadcast is the broadcast bit of the flags field (RFC 2131 §2,
// Figure 2): the client cannot receive unicast before it is configured.
const FlagBroadcast uint16 = 0x8000

// magic is the magic cookie that starts the options field (RFC 2131 §3).
var magic = [4]byte{99, 130, 83, 99}

// Overload values of option 52 (RFC 2132 §9.3).
const (
	OverloadFile  uint8 = 1
	OverloadSName uint8 = 2
	OverloadBoth  uint8 = 3
)

// Packet is one DHCP message: the fixed BOOTP fields (RFC 2131 §2) and the
// options. Reuse one Packet for many Parse calls to avoid allocation. A
// Packet is large (its option index is inline): pass it by pointer, and do
// not copy one with assignment, which would share the option buffers; use
// CopyFrom.
//
// The address fields are written as 0.0.0.0 when they are not IPv4
// addresses (the zero Addr included); Parse always sets them to IPv4
// addresses.
type Packet struct {
	Op     OpCode
	HType  uint8      // hardware address type (1 = Ethernet)
	HLen   uint8      // hardware address length, at most 16
	Hops   uint8      // relay agents the message has passed
	XID    uint32     // transaction ID chosen by the client
	Secs   uint16     // seconds since the client began acquiring or renewing
	Flags  uint16     // FlagBroadcast; the other bits must be zero
	CIAddr netip.Addr // client's address, when it has one
	YIAddr netip.Addr // "your" address: the one offered or assigned
	SIAddr netip.Addr // next server (boot server)
	GIAddr netip.Addr // relay agent address
	CHAddr [16]byte   // client hardware address; the first HLen bytes count
	// SName and File are the raw server-name and boot-file fields. When
	// option 52 overloads them they hold options, not text: use ServerName
	// and BootFile for their text.
	SName [lenSName]byte
	File  [lenFile]byte

	Options Options
}

// CopyFrom makes p an independent copy of src, reusing p's buffers.
func (p *Packet) CopyFrom(src *Packet) {
	if p == src {
		return
	}
	p.Op, p.HType, p.HLen, p.Hops = src.Op, src.HType, src.HLen, src.Hops
	p.XID, p.Secs, p.Flags = src.XID, src.Secs, src.Flags
	p.CIAddr, p.YIAddr, p.SIAddr, p.GIAddr = src.CIAddr, src.YIAddr, src.SIAddr, src.GIAddr
	p.CHAddr, p.SName, p.File = src.CHAddr, src.SName, src.File
	p.Options.CopyFrom(&src.Options)
}

// Reset makes p an empty message, keeping its buffers.
func (p *Packet) Reset() {
	p.Options.Reset()
	p.Op, p.HType, p.HLen, p.Hops = 0, 0, 0, 0
	p.XID, p.Secs, p.Flags = 0, 0, 0
	p.CIAddr, p.YIAddr, p.SIAddr, p.GIAddr = netip.Addr{}, netip.Addr{}, netip.Addr{}, netip.Addr{}
	clear(p.CHAddr[:])
	clear(p.SName[:])
	clear(p.File[:])
}

// Broadcast reports whether the broadcast flag is set.
func (p *Packet) Broadcast() bool { return p.Flags&FlagBroadcast != 0 }

// HardwareAddr returns the valid part of chaddr. It aliases p.
func (p *Packet) HardwareAddr() []byte {
	return p.CHAddr[:min(int(p.HLen), len(p.CHAddr))]
}

// SetHardwareAddr sets htype, hlen and chaddr. Addresses longer than 16
// bytes are cut to 16.
func (p *Packet) SetHardwareAddr(htype uint8, addr []byte) {
	p.HType = htype
	n := copy(p.CHAddr[:], addr)
	clear(p.CHAddr[n:])
	p.HLen = uint8(n)
}

// MessageType returns the DHCP message type, or 0 for a BOOTP message.
func (p *Packet) MessageType() MessageType { return p.Options.MessageType() }

// overload returns the value of option 52, or 0.
func (p *Packet) overload() uint8 {
	v, _ := p.Options.Uint8(OptOverload)
	return v & OverloadBoth
}

// ServerName returns the sname field as text, or "" when it is overloaded
// with options. The string is a copy.
func (p *Packet) ServerName() string {
	if p.overload()&OverloadSName != 0 {
		return ""
	}
	return cString(p.SName[:])
}

// BootFile returns the file field as text, or "" when it is overloaded with
// options. The string is a copy.
func (p *Packet) BootFile() string {
	if p.overload()&OverloadFile != 0 {
		return ""
	}
	return cString(p.File[:])
}

// SetServerName sets the sname field to the text s, NUL-terminated
// (RFC 2131 §2). It returns false, changing nothing, when s is longer than
// 63 bytes.
func (p *Packet) SetServerName(s string) bool {
	if len(s) >= lenSName {
		return false
	}
	clear(p.SName[copy(p.SName[:], s):])
	return true
}

// SetBootFile sets the file field to the text s, NUL-terminated
// (RFC 2131 §2). It returns false, changing nothing, when s is longer than
// 127 bytes.
func (p *Packet) SetBootFile(s string) bool {
	if len(s) >= lenFile {
		return false
	}
	clear(p.File[copy(p.File[:], s):])
	return true
}

// cString returns the text of a NUL-terminated field.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Errors that Parse wraps in a *ParseError; test for them with errors.Is.
var (
	ErrShort         = errors.New("message shorter than 240 bytes")
	ErrOp            = errors.New("op is neither BOOTREQUEST (1) nor BOOTREPLY (2)")
	ErrHLen          = errors.New("hlen greater than 16")
	ErrCookie        = errors.New("bad magic cookie")
	ErrOptionOverrun = errors.New("option runs past the end of its field")
	ErrTooLarge      = errors.New("options exceed 65535 bytes")
)

// ParseError says what is wrong with a message and where.
type ParseError struct {
	// Field is the part of the message at fault: "message" (its length),
	// "op", "hlen", "cookie", or the field holding a bad option:
	// "options", "file" or "sname".
	Field string
	// Offset is the byte offset in the message of the field or, for an
	// option, of its code byte; for ErrShort, the message's length.
	Offset int
	// Code is the option's code, or -1 when the error is not about an
	// option.
	Code int
	// Err is ErrShort, ErrOp, ErrHLen, ErrCookie, ErrOptionOverrun or
	// ErrTooLarge.
	Err error
}

// Error returns, for example, "dhcpv4: options field, option 12 at offset
// 243: option runs past the end of its field".
func (e *ParseError) Error() string {
	if e.Code >= 0 {
		return fmt.Sprintf("dhcpv4: %s field, option %d at offset %d: %v", e.Field, e.Code, e.Offset, e.Err)
	}
	return fmt.Sprintf("dhcpv4: %s at offset %d: %v", e.Field, e.Offset, e.Err)
}

// Unwrap returns e.Err.
func (e *ParseError) Unwrap() error { return e.Err }

// Parse decodes b into p, replacing its contents. p's option values are
// copies: b may be reused as soon as Parse returns. Parsing into a Packet
// that has been used before allocates nothing once its buffers have grown
// to the size of the messages seen.
//
// Parse checks what a receiver must rely on: the length (at least 240
// bytes), op (1 or 2), hlen (at most 16), the magic cookie, and that every
// option fits inside its field. A missing End option is tolerated, as real
// servers and clients do; bytes after End are padding and are ignored.
// When the options field holds option 52 with a one-byte value, the file
// and then the sname field are read as further options (RFC 2131 §4.1,
// RFC 2132 §9.3); option 52 in those fields is ignored. Options that appear
// more than once are concatenated into one value in the order options
// field, file, sname (RFC 3396 §5), and the set lists each code where it
// first appeared.
//
// The four addresses are always set to IPv4 addresses (0.0.0.0 when the
// field is empty). SName and File are copied as they are, even when they
// hold overloaded options; ServerName and BootFile give their text.
//
// On error, p's options are empty and its fixed fields are unspecified.
// The error is a *ParseError saying which field and offset are at fault.
// Any other checking (a message type present, option values of sensible
// length) is for the caller.
func Parse(b []byte, p *Packet) error {
	p.Options.Reset()
	if len(b) < MinLen {
		return &ParseError{Field: "message", Offset: len(b), Code: -1, Err: ErrShort}
	}
	op := OpCode(b[0])
	if op != BootRequest && op != BootReply {
		return &ParseError{Field: "op", Offset: 0, Code: -1, Err: ErrOp}
	}
	if b[2] > 16 {
		return &ParseError{Field: "hlen", Offset: 2, Code: -1, Err: ErrHLen}
	}
	if [4]byte(b[HeaderLen:MinLen]) != magic {
		return &ParseError{Field: "cookie", Offset: HeaderLen, Code: -1, Err: ErrCookie}
	}
	p.Op = op
	p.HType = b[1]
	p.HLen = b[2]
	p.Hops = b[3]
	p.XID = binary.BigEndian.Uint32(b[4:8])
	p.Secs = binary.BigEndian.Uint16(b[8:10])
	p.Flags = binary.BigEndian.Uint16(b[10:12])
	p.CIAddr = netip.AddrFrom4([4]byte(b[12:16]))
	p.YIAddr = netip.AddrFrom4([4]byte(b[16:20]))
	p.SIAddr = netip.AddrFrom4([4]byte(b[20:24]))
	p.GIAddr = netip.AddrFrom4([4]byte(b[24:28]))
	copy(p.CHAddr[:], b[28:44])
	copy(p.SName[:], b[offSName:offSName+lenSName])
	copy(p.File[:], b[offFile:offFile+lenFile])

	if err := p.Options.parse(b); err != nil {
		p.Options.Reset()
		return err
	}
	return nil
}

// field is a part of a message that holds options.
type field struct {
	name       string
	start, end int
}

// parse reads the options of message b (whose fixed fields have been
// checked) in two passes, so that the value of an option split into
// several instances is laid out once, contiguously, whatever the order of
// the instances. The first pass validates every field and adds up each
// option's length; the second copies the values into place.
func (o *Options) parse(b []byte) error {
	fields := [3]field{{"options", offOptions, len(b)}}
	nf := 1
	total, overload, err := o.scan(b, fields[0], 0, true)
	if err != nil {
		return err
	}
	if overload&OverloadFile != 0 {
		fields[nf] = field{"file", offFile, offFile + lenFile}
		nf++
	}
	if overload&OverloadSName != 0 {
		fields[nf] = field{"sname", offSName, offSName + lenSName}
		nf++
	}
	for _, f := range fields[1:nf] {
		if total, _, err = o.scan(b, f, total, false); err != nil {
			return err
		}
	}
	// Lay the values out in order, then fill them in; n counts the bytes
	// filled so far and ends equal to the option's length again.
	off := 0
	for _, c := range o.order {
		r := &o.refs[c]
		r.off = uint16(off)
		off += int(r.n)
		r.n = 0
	}
	o.buf = grow(o.buf[:0], total)
	for _, f := range fields[:nf] {
		for i := f.start; i < f.end; {
			c := OptionCode(b[i])
			if c == OptPad {
				i++
				continue
			}
			if c == OptEnd {
				break
			}
			n := int(b[i+1])
			if c != OptOverload || f.start == offOptions {
				r := &o.refs[c]
				copy(o.buf[int(r.off)+int(r.n):], b[i+2:i+2+n])
				r.n += uint16(n)
			}
			i += 2 + n
		}
	}
	return nil
}

// scan is the first pass of parse over one field: it checks that every
// option fits, adds new codes to o.order and each instance's length to its
// refs entry, and returns the running total of value bytes. Scanning the
// options field (main), it also returns the overload value of option 52:
// the value's one byte when the field holds a one-byte option 52 in total.
func (o *Options) scan(b []byte, f field, total int, main bool) (int, uint8, error) {
	ovAt := -1
	for i := f.start; i < f.end; {
		c := OptionCode(b[i])
		if c == OptPad {
			i++
			continue
		}
		if c == OptEnd {
			break
		}
		if i+1 >= f.end {
			return 0, 0, &ParseError{Field: f.name, Offset: i, Code: int(c), Err: ErrOptionOverrun}
		}
		n := int(b[i+1])
		if i+2+n > f.end {
			return 0, 0, &ParseError{Field: f.name, Offset: i, Code: int(c), Err: ErrOptionOverrun}
		}
		if c == OptOverload {
			if !main {
				i += 2 + n
				continue
			}
			if n > 0 && ovAt < 0 {
				ovAt = i + 2
			}
		}
		total += n
		if total > maxOptionsBytes {
			return 0, 0, &ParseError{Field: f.name, Offset: i, Code: int(c), Err: ErrTooLarge}
		}
		r := &o.refs[c]
		if !r.ok {
			r.ok = true
			o.order = append(o.order, c)
		}
		r.n += uint16(n)
		i += 2 + n
	}
	var overload uint8
	if main && ovAt >= 0 && o.refs[OptOverload].n == 1 {
		overload = b[ovAt] & OverloadBoth
	}
	return total, overload, nil
}
