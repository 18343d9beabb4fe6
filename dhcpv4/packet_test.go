package dhcpv4

import (
	"bytes"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

func TestParseFixedFields(t *testing.T) {
	h := header{
		op: 2, htype: 6, hlen: 16, hops: 3, xid: 0xdeadbeef, secs: 0x1234, flags: 0x8000,
		ciaddr: [4]byte{198, 18, 0, 10}, yiaddr: [4]byte{198, 18, 0, 11},
		siaddr: [4]byte{198, 18, 0, 12}, giaddr: [4]byte{198, 19, 0, 1},
		chaddr: seq(0xa0, 16),
		sname:  []byte("boot.example"),
		file:   []byte("pxelinux.0"),
	}
	b := raw(h, opt(OptMessageType, 2), end)
	var p Packet
	if err := Parse(b, &p); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		got  any
		want any
	}{
		{"RFC951 op", p.Op, BootReply},
		{"RFC951 htype", p.HType, uint8(6)},
		{"RFC951 hlen", p.HLen, uint8(16)},
		{"RFC951 hops", p.Hops, uint8(3)},
		{"RFC951 xid", p.XID, uint32(0xdeadbeef)},
		{"RFC951 secs", p.Secs, uint16(0x1234)},
		{"RFC2131 2 flags", p.Flags, uint16(0x8000)},
		{"RFC2131 2 broadcast bit", p.Broadcast(), true},
		{"RFC951 ciaddr", p.CIAddr, addr("198.18.0.10")},
		{"RFC951 yiaddr", p.YIAddr, addr("198.18.0.11")},
		{"RFC951 siaddr", p.SIAddr, addr("198.18.0.12")},
		{"RFC951 giaddr", p.GIAddr, addr("198.19.0.1")},
		{"RFC951 chaddr", string(p.HardwareAddr()), string(seq(0xa0, 16))},
		{"RFC951 sname", p.ServerName(), "boot.example"},
		{"RFC951 file", p.BootFile(), "pxelinux.0"},
		{"RFC2132 9.6 message type", p.MessageType(), Offer},
	}
	for _, w := range want {
		if w.got != w.want {
			t.Errorf("%s = %v, want %v", w.name, w.got, w.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	valid := raw(discoverHeader, opt(OptMessageType, 1), end)
	withByte := func(off int, v byte) []byte {
		b := bytes.Clone(valid)
		b[off] = v
		return b
	}
	tests := []struct {
		name   string
		msg    []byte
		err    error
		field  string
		offset int
		code   int
	}{
		{"RFC2131 2 empty message", nil, ErrShort, "message", 0, -1},
		{"RFC2131 2 message of 239 bytes", valid[:239], ErrShort, "message", 239, -1},
		{"RFC951 op 0", withByte(0, 0), ErrOp, "op", 0, -1},
		{"RFC951 op 3", withByte(0, 3), ErrOp, "op", 0, -1},
		{"RFC2131 2 hlen 17", withByte(2, 17), ErrHLen, "hlen", 2, -1},
		{"RFC2131 2 hlen 255", withByte(2, 255), ErrHLen, "hlen", 2, -1},
		{"RFC2131 3 bad magic cookie", withByte(HeaderLen+3, 0x62), ErrCookie, "cookie", HeaderLen, -1},
		{"RFC2131 3 BOOTP vendor field without cookie", withByte(HeaderLen, 0), ErrCookie, "cookie", HeaderLen, -1},
		{
			"RFC2132 2 option code without length at end of message",
			raw(discoverHeader, opt(OptMessageType, 1), []byte{byte(OptHostName)}),
			ErrOptionOverrun, "options", 243, int(OptHostName),
		},
		{
			"RFC2132 2 option length past end of message",
			raw(discoverHeader, opt(OptMessageType, 1), []byte{byte(OptHostName), 5, 'a', 'b'}),
			ErrOptionOverrun, "options", 243, int(OptHostName),
		},
		{
			"RFC2132 2 option length past end after padding",
			raw(discoverHeader, []byte{0, 0, 0}, []byte{byte(OptClientID), 7, 1, 2, 3}),
			ErrOptionOverrun, "options", 243, int(OptClientID),
		},
		{
			"RFC2132 9.3 option in file runs past the file field",
			raw(header{op: 1, file: fieldOf(lenFile, repeatByte(0, 120), []byte{byte(OptHostName), 10})}, opt(OptOverload, 1), end),
			ErrOptionOverrun, "file", offFile + 120, int(OptHostName),
		},
		{
			"RFC2132 9.3 option code at the last byte of sname",
			raw(header{op: 1, sname: fieldOf(lenSName, repeatByte(0, 63), []byte{byte(OptRouter)})}, opt(OptOverload, 2), end),
			ErrOptionOverrun, "sname", offSName + 63, int(OptRouter),
		},
		{
			"RFC2132 9.3 option in sname runs past it, overload 3",
			raw(header{op: 1, file: fieldOf(lenFile, end), sname: fieldOf(lenSName, []byte{byte(OptRouter), 200})}, opt(OptOverload, 3), end),
			ErrOptionOverrun, "sname", offSName, int(OptRouter),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			p.Options.SetString(OptHostName, "stale") // must not survive a failed Parse
			err := Parse(tc.msg, &p)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Parse error = %v, want %v", err, tc.err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error %T is not a *ParseError", err)
			}
			if pe.Field != tc.field || pe.Offset != tc.offset || pe.Code != tc.code {
				t.Errorf("ParseError{Field: %q, Offset: %d, Code: %d}, want {%q, %d, %d}", pe.Field, pe.Offset, pe.Code, tc.field, tc.offset, tc.code)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.field) || !strings.Contains(msg, "offset "+strconv.Itoa(tc.offset)) || !strings.Contains(msg, tc.err.Error()) {
				t.Errorf("error %q does not name field %q, offset %d and cause %q", msg, tc.field, tc.offset, tc.err)
			}
			if p.Options.Len() != 0 {
				t.Errorf("options after failed Parse: %v", p.Options.Codes())
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	// 300 options of 255 bytes: 76,500 bytes of values, more than the
	// 65,535 an Options holds. Only a message far beyond any UDP payload
	// can carry that much.
	var opts [][]byte
	for range 300 {
		opts = append(opts, opt(224, repeatByte('x', 255)...))
	}
	var p Packet
	err := Parse(raw(discoverHeader, opts...), &p)
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Parse error = %v, want ErrTooLarge", err)
	}
	if want := MinLen + 257*257; pe.Offset != want || pe.Field != "options" || pe.Code != 224 {
		t.Errorf("ParseError = %+v, want options field, option 224 at offset %d", pe, want)
	}
}

func TestParseTolerance(t *testing.T) {
	tests := []struct {
		name string
		msg  []byte
		want map[OptionCode]string // option values, as strings
	}{
		{
			"missing End tolerated, as real servers do",
			raw(discoverHeader, opt(OptMessageType, 1), optS(OptHostName, "a")),
			map[OptionCode]string{OptMessageType: "\x01", OptHostName: "a"},
		},
		{
			"no options at all",
			raw(discoverHeader),
			map[OptionCode]string{},
		},
		{
			"RFC2132 3.1 pad options skipped",
			raw(discoverHeader, []byte{0, 0}, opt(OptMessageType, 1), []byte{0}, optS(OptHostName, "a"), end),
			map[OptionCode]string{OptMessageType: "\x01", OptHostName: "a"},
		},
		{
			"RFC2132 3.2 bytes after End ignored, even malformed",
			raw(discoverHeader, opt(OptMessageType, 1), end, []byte{byte(OptHostName), 200, 1}),
			map[OptionCode]string{OptMessageType: "\x01"},
		},
		{
			"RFC1542 3.1.1 padding to 300 bytes",
			raw(discoverHeader, opt(OptMessageType, 1), end, make([]byte, 56)),
			map[OptionCode]string{OptMessageType: "\x01"},
		},
		{
			"RFC4039 zero-length option",
			raw(discoverHeader, opt(OptRapidCommit), end),
			map[OptionCode]string{OptRapidCommit: ""},
		},
		{
			"RFC2131 4.1 option repeated with no value first",
			raw(discoverHeader, opt(224), opt(224, 1, 2), end),
			map[OptionCode]string{224: "\x01\x02"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			if err := Parse(tc.msg, &p); err != nil {
				t.Fatal(err)
			}
			checkOptions(t, &p.Options, tc.want)
		})
	}
}

// checkOptions checks that o holds exactly the options of want.
func checkOptions(t *testing.T, o *Options, want map[OptionCode]string) {
	t.Helper()
	if o.Len() != len(want) {
		t.Errorf("%d options %v, want %d", o.Len(), o.Codes(), len(want))
	}
	for c, w := range want {
		v, ok := o.Get(c)
		if !ok || string(v) != w {
			t.Errorf("option %v = %q, %v; want %q", c, v, ok, w)
		}
	}
}

func TestParseConcatenation(t *testing.T) {
	a1, a2, a3 := repeatByte('a', 255), repeatByte('b', 255), []byte("tail")
	tests := []struct {
		name      string
		msg       []byte
		want      map[OptionCode]string
		wantOrder []OptionCode
	}{
		{
			"RFC3396 6 consecutive instances concatenated",
			raw(discoverHeader, opt(OptDomainSearch, a1...), opt(OptDomainSearch, a2...), opt(OptDomainSearch, a3...), end),
			map[OptionCode]string{OptDomainSearch: string(a1) + string(a2) + string(a3)},
			[]OptionCode{OptDomainSearch},
		},
		{
			"RFC2131 4.1 code reappearing after others",
			raw(discoverHeader, opt(224, 1), opt(OptMessageType, 3), opt(224, 2), optS(OptHostName, "h"), opt(224, 3), end),
			map[OptionCode]string{224: "\x01\x02\x03", OptMessageType: "\x03", OptHostName: "h"},
			[]OptionCode{224, OptMessageType, OptHostName},
		},
		{
			"RFC2131 4.1 two codes interleaved",
			raw(discoverHeader, opt(224, 1), opt(225, 9), opt(224, 2), opt(225, 8), opt(224, 3), opt(225, 7), end),
			map[OptionCode]string{224: "\x01\x02\x03", 225: "\x09\x08\x07"},
			[]OptionCode{224, 225},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			if err := Parse(tc.msg, &p); err != nil {
				t.Fatal(err)
			}
			checkOptions(t, &p.Options, tc.want)
			if got := p.Options.Codes(); !equalCodes(got, tc.wantOrder) {
				t.Errorf("order %v, want %v", got, tc.wantOrder)
			}
		})
	}
}

func equalCodes(a, b []OptionCode) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseConcatenationInterleavedLarge(t *testing.T) {
	// RFC 3396: two long options interleaved over a 64 KiB message. Each
	// reappearance must extend the value without copying what came before
	// into the 65,535-byte budget again.
	var opts [][]byte
	var wantA, wantB []byte
	for i := range 120 {
		a, b := repeatByte(byte(i), 255), repeatByte(byte(i+1), 254)
		opts = append(opts, opt(224, a...), opt(225, b...))
		wantA, wantB = append(wantA, a...), append(wantB, b...)
	}
	opts = append(opts, end)
	var p Packet
	if err := Parse(raw(discoverHeader, opts...), &p); err != nil {
		t.Fatal(err)
	}
	checkOptions(t, &p.Options, map[OptionCode]string{224: string(wantA), 225: string(wantB)})
}

func TestParseOverload(t *testing.T) {
	fileOpts := fieldOf(lenFile, opt(224, 'f'), optS(OptHostName, "in-file"), end)
	snameOpts := fieldOf(lenSName, opt(224, 's'), optS(OptDomainName, "in.sname"), end)
	tests := []struct {
		name      string
		h         header
		opts      [][]byte
		want      map[OptionCode]string
		wantOrder []OptionCode
		sname     string
		file      string
	}{
		{
			name: "RFC2132 9.3 overload 1: file holds options",
			h:    header{op: 1, file: fileOpts, sname: []byte("srv")},
			opts: [][]byte{opt(OptOverload, 1), opt(224, 'o'), end},
			want: map[OptionCode]string{OptOverload: "\x01", 224: "of", OptHostName: "in-file"},
			// sname is not overloaded: it keeps its text.
			wantOrder: []OptionCode{OptOverload, 224, OptHostName},
			sname:     "srv",
		},
		{
			name:      "RFC2132 9.3 overload 2: sname holds options",
			h:         header{op: 1, sname: snameOpts, file: []byte("boot.img")},
			opts:      [][]byte{opt(OptOverload, 2), opt(224, 'o'), end},
			want:      map[OptionCode]string{OptOverload: "\x02", 224: "os", OptDomainName: "in.sname"},
			wantOrder: []OptionCode{OptOverload, 224, OptDomainName},
			file:      "boot.img",
		},
		{
			name:      "RFC3396 5 overload 3: concatenated in the order options, file, sname",
			h:         header{op: 1, file: fileOpts, sname: snameOpts},
			opts:      [][]byte{opt(224, 'o'), opt(OptOverload, 3), end},
			want:      map[OptionCode]string{OptOverload: "\x03", 224: "ofs", OptHostName: "in-file", OptDomainName: "in.sname"},
			wantOrder: []OptionCode{224, OptOverload, OptHostName, OptDomainName},
		},
		{
			name:      "RFC3396 5 option first seen in sname, then in file: file part first",
			h:         header{op: 1, file: fieldOf(lenFile, opt(225, 'F'), end), sname: fieldOf(lenSName, opt(224, 'S'), opt(225, 'S'), end)},
			opts:      [][]byte{opt(OptOverload, 3), end},
			want:      map[OptionCode]string{OptOverload: "\x03", 224: "S", 225: "FS"},
			wantOrder: []OptionCode{OptOverload, 225, 224},
		},
		{
			name: "RFC2132 9.3 option 52 inside file is ignored",
			h: header{op: 1, file: fieldOf(lenFile, opt(OptOverload, 2), opt(224, 'f'), end),
				sname: fieldOf(lenSName, opt(225, 's'), end)},
			opts:      [][]byte{opt(OptOverload, 1), end},
			want:      map[OptionCode]string{OptOverload: "\x01", 224: "f"},
			wantOrder: []OptionCode{OptOverload, 224},
			sname:     "\xe1\x01s\xff",
		},
		{
			name:      "RFC2132 9.3 option 52 inside sname is ignored",
			h:         header{op: 1, sname: fieldOf(lenSName, opt(OptOverload, 1), opt(225, 's'), end), file: []byte("f")},
			opts:      [][]byte{opt(OptOverload, 2), end},
			want:      map[OptionCode]string{OptOverload: "\x02", 225: "s"},
			wantOrder: []OptionCode{OptOverload, 225},
			file:      "f",
		},
		{
			name:      "RFC2132 9.3 file without End ends at the field",
			h:         header{op: 1, file: fieldOf(lenFile, opt(224, repeatByte('x', 124)...), []byte{0, 0})},
			opts:      [][]byte{opt(OptOverload, 1), end},
			want:      map[OptionCode]string{OptOverload: "\x01", 224: strings.Repeat("x", 124)},
			wantOrder: []OptionCode{OptOverload, 224},
		},
		{
			name:      "RFC2132 9.3 overload 0 is no overload",
			h:         header{op: 1, file: []byte("boot")},
			opts:      [][]byte{opt(OptOverload, 0), end},
			want:      map[OptionCode]string{OptOverload: "\x00"},
			wantOrder: []OptionCode{OptOverload},
			file:      "boot",
		},
		{
			name:      "RFC2132 9.3 option 52 of two bytes is not an overload",
			h:         header{op: 1, file: fileOpts},
			opts:      [][]byte{opt(OptOverload, 1, 1), end},
			want:      map[OptionCode]string{OptOverload: "\x01\x01"},
			wantOrder: []OptionCode{OptOverload},
			file:      cString(fileOpts), // not overloaded: read as text
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			if err := Parse(raw(tc.h, tc.opts...), &p); err != nil {
				t.Fatal(err)
			}
			checkOptions(t, &p.Options, tc.want)
			if got := p.Options.Codes(); !equalCodes(got, tc.wantOrder) {
				t.Errorf("order %v, want %v", got, tc.wantOrder)
			}
			if got := p.ServerName(); got != tc.sname {
				t.Errorf("ServerName() = %q, want %q", got, tc.sname)
			}
			if got := p.BootFile(); got != tc.file {
				t.Errorf("BootFile() = %q, want %q", got, tc.file)
			}
		})
	}
}

func TestParseReusedPacket(t *testing.T) {
	var p Packet
	big := raw(discoverHeader, opt(OptMessageType, 1), optS(OptHostName, "first"), opt(224, seq(0, 200)...), end)
	small := raw(header{op: 2, hlen: 6}, opt(OptMessageType, 5), end)
	if err := Parse(big, &p); err != nil {
		t.Fatal(err)
	}
	if err := Parse(small, &p); err != nil {
		t.Fatal(err)
	}
	checkOptions(t, &p.Options, map[OptionCode]string{OptMessageType: "\x05"})
	if p.Op != BootReply || p.XID != 0 {
		t.Errorf("fixed fields of the first message survived: op %v xid %#x", p.Op, p.XID)
	}
	// Parse copies: changing the input afterwards changes nothing.
	msg := bytes.Clone(big)
	if err := Parse(msg, &p); err != nil {
		t.Fatal(err)
	}
	clear(msg)
	if v, _ := p.Options.Get(OptHostName); string(v) != "first" {
		t.Errorf("host name %q after clearing the input, want %q", v, "first")
	}
}

func TestPacketHelpers(t *testing.T) {
	var p Packet
	p.SetHardwareAddr(1, []byte{2, 0, 0, 0, 0, 1})
	if p.HType != 1 || p.HLen != 6 || !bytes.Equal(p.HardwareAddr(), []byte{2, 0, 0, 0, 0, 1}) {
		t.Errorf("SetHardwareAddr: htype %d hlen %d chaddr %x", p.HType, p.HLen, p.HardwareAddr())
	}
	p.SetHardwareAddr(32, seq(1, 20)) // InfiniBand-style: cut to 16
	if p.HLen != 16 || !bytes.Equal(p.HardwareAddr(), seq(1, 16)) {
		t.Errorf("SetHardwareAddr of 20 bytes: hlen %d chaddr %x", p.HLen, p.HardwareAddr())
	}
	p.SetHardwareAddr(1, []byte{9})
	if p.CHAddr != [16]byte{9} {
		t.Errorf("SetHardwareAddr left old bytes: %x", p.CHAddr)
	}

	if !p.SetServerName(strings.Repeat("s", 63)) || p.ServerName() != strings.Repeat("s", 63) || p.SName[63] != 0 {
		t.Error("SetServerName of 63 bytes failed")
	}
	if p.SetServerName(strings.Repeat("s", 64)) {
		t.Error("SetServerName of 64 bytes succeeded; the field needs its NUL")
	}
	if !p.SetServerName("a") || p.SName != [64]byte{'a'} {
		t.Errorf("SetServerName(\"a\") left %q", p.SName)
	}
	if !p.SetBootFile(strings.Repeat("f", 127)) || p.BootFile() != strings.Repeat("f", 127) {
		t.Error("SetBootFile of 127 bytes failed")
	}
	if p.SetBootFile(strings.Repeat("f", 128)) {
		t.Error("SetBootFile of 128 bytes succeeded")
	}

	p.Flags = FlagBroadcast | 1
	if !p.Broadcast() {
		t.Error("Broadcast() false with the bit set")
	}
	p.Flags = 0x7fff
	if p.Broadcast() {
		t.Error("Broadcast() true without the bit")
	}

	p.Op, p.XID, p.CIAddr = BootRequest, 7, addr("198.18.0.1")
	p.Options.SetMessageType(Discover)
	var q Packet
	q.Options.SetString(OptHostName, "old")
	q.CopyFrom(&p)
	if d := diffPackets(&p, &q); d != "" {
		t.Errorf("CopyFrom: %s", d)
	}
	q.Options.SetMessageType(Request)
	if p.MessageType() != Discover {
		t.Error("CopyFrom shares option buffers")
	}
	q.CopyFrom(&q)
	if q.MessageType() != Request {
		t.Error("CopyFrom of itself lost options")
	}

	p.Reset()
	var zero Packet
	if d := diffPackets(&p, &zero); d != "" || p.Options.Len() != 0 || p.CIAddr.IsValid() {
		t.Errorf("Reset left: %s", d)
	}
}

func TestParseAddressesAreIPv4(t *testing.T) {
	var p Packet
	if err := Parse(raw(discoverHeader, end), &p); err != nil {
		t.Fatal(err)
	}
	for _, a := range []netip.Addr{p.CIAddr, p.YIAddr, p.SIAddr, p.GIAddr} {
		if !a.Is4() || !a.IsUnspecified() {
			t.Errorf("empty address field parsed as %v, want 0.0.0.0", a)
		}
	}
}
