package dhcpv4

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// header describes the fixed fields of a raw test message.
type header struct {
	op                             byte
	htype, hlen, hops              byte
	xid                            uint32
	secs, flags                    uint16
	ciaddr, yiaddr, siaddr, giaddr [4]byte
	chaddr                         []byte
	sname, file                    []byte // raw field contents
}

// discoverHeader is the header of a typical Ethernet client request.
var discoverHeader = header{
	op: 1, htype: 1, hlen: 6, xid: 0x3903f326,
	chaddr: []byte{0x02, 0xc6, 0x12, 0x00, 0x00, 0x01},
}

// raw builds a message: the header, the magic cookie, then opts verbatim
// (the caller writes End and padding when the case wants them).
func raw(h header, opts ...[]byte) []byte {
	b := make([]byte, MinLen)
	b[0], b[1], b[2], b[3] = h.op, h.htype, h.hlen, h.hops
	binary.BigEndian.PutUint32(b[4:], h.xid)
	binary.BigEndian.PutUint16(b[8:], h.secs)
	binary.BigEndian.PutUint16(b[10:], h.flags)
	copy(b[12:], h.ciaddr[:])
	copy(b[16:], h.yiaddr[:])
	copy(b[20:], h.siaddr[:])
	copy(b[24:], h.giaddr[:])
	copy(b[28:44], h.chaddr)
	copy(b[offSName:offSName+lenSName], h.sname)
	copy(b[offFile:offFile+lenFile], h.file)
	copy(b[HeaderLen:], magic[:])
	for _, o := range opts {
		b = append(b, o...)
	}
	return b
}

// opt encodes one option instance: code, length, value.
func opt(c OptionCode, v ...byte) []byte {
	return append([]byte{byte(c), byte(len(v))}, v...)
}

// optS encodes one option instance with a string value.
func optS(c OptionCode, s string) []byte { return opt(c, []byte(s)...) }

// end is the End option.
var end = []byte{byte(OptEnd)}

// field pads parts to a field of n bytes.
func fieldOf(n int, parts ...[]byte) []byte {
	b := slices.Concat(parts...)
	if len(b) > n {
		panic(fmt.Sprintf("field of %d bytes given %d", n, len(b)))
	}
	return append(b, make([]byte, n-len(b))...)
}

// repeatByte returns n copies of c.
func repeatByte(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }

// seq returns n bytes counting up from start, wrapping.
func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// diffPackets describes how two parsed messages differ in what they mean:
// the fixed fields, the text of sname and file (their raw bytes when
// neither message overloads them), and the options other than overload
// (52), which is framing that Append recomputes. It returns "" when they
// agree.
func diffPackets(a, b *Packet) string {
	var d []string
	add := func(format string, args ...any) { d = append(d, fmt.Sprintf(format, args...)) }
	if a.Op != b.Op || a.HType != b.HType || a.HLen != b.HLen || a.Hops != b.Hops {
		add("op/htype/hlen/hops %d/%d/%d/%d != %d/%d/%d/%d", a.Op, a.HType, a.HLen, a.Hops, b.Op, b.HType, b.HLen, b.Hops)
	}
	if a.XID != b.XID || a.Secs != b.Secs || a.Flags != b.Flags {
		add("xid/secs/flags %#x/%d/%#x != %#x/%d/%#x", a.XID, a.Secs, a.Flags, b.XID, b.Secs, b.Flags)
	}
	// Addresses compare as they go on the wire: anything not IPv4 is
	// 0.0.0.0.
	if wire4(a.CIAddr) != wire4(b.CIAddr) || wire4(a.YIAddr) != wire4(b.YIAddr) ||
		wire4(a.SIAddr) != wire4(b.SIAddr) || wire4(a.GIAddr) != wire4(b.GIAddr) {
		add("addresses %v/%v/%v/%v != %v/%v/%v/%v", a.CIAddr, a.YIAddr, a.SIAddr, a.GIAddr, b.CIAddr, b.YIAddr, b.SIAddr, b.GIAddr)
	}
	if a.CHAddr != b.CHAddr {
		add("chaddr %x != %x", a.CHAddr, b.CHAddr)
	}
	if a.ServerName() != b.ServerName() {
		add("sname %q != %q", a.ServerName(), b.ServerName())
	}
	if a.BootFile() != b.BootFile() {
		add("file %q != %q", a.BootFile(), b.BootFile())
	}
	if a.overload()&OverloadSName == 0 && b.overload()&OverloadSName == 0 && a.SName != b.SName {
		add("raw sname %x != %x", a.SName, b.SName)
	}
	if a.overload()&OverloadFile == 0 && b.overload()&OverloadFile == 0 && a.File != b.File {
		add("raw file %x != %x", a.File, b.File)
	}
	for c := range 256 {
		c := OptionCode(c)
		if c == OptOverload {
			continue
		}
		va, oka := a.Options.Get(c)
		vb, okb := b.Options.Get(c)
		if oka != okb || !bytes.Equal(va, vb) {
			add("option %v: %v %x != %v %x", c, oka, va, okb, vb)
		}
	}
	return strings.Join(d, "; ")
}

// wire4 is the four bytes Append writes for a.
func wire4(a netip.Addr) [4]byte {
	var b [4]byte
	putAddr(b[:], a)
	return b
}

// isZero reports whether b is all zeros.
func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
