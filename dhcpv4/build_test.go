package dhcpv4

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// offer returns a small server reply with the options set by opts.
func offer(opts func(o *Options)) *Packet {
	p := &Packet{Op: BootReply, XID: 0x3903f326, YIAddr: addr("198.18.0.100")}
	p.SetHardwareAddr(1, []byte{2, 0xc6, 0x12, 0, 0, 1})
	p.Options.SetMessageType(Offer)
	if opts != nil {
		opts(&p.Options)
	}
	return p
}

// mustAppend builds p and parses the result back.
func mustAppend(t *testing.T, p *Packet, maxLen int) ([]byte, *Packet) {
	t.Helper()
	b, err := p.Append(nil, maxLen)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	var q Packet
	if err := Parse(b, &q); err != nil {
		t.Fatalf("Parse of built message: %v", err)
	}
	return b, &q
}

func TestAppendLayout(t *testing.T) {
	p := offer(func(o *Options) {
		o.SetAddr(OptServerID, addr("198.18.0.1"))
	})
	p.Hops, p.Secs, p.Flags = 1, 2, FlagBroadcast
	p.CIAddr, p.SIAddr, p.GIAddr = addr("198.18.0.2"), addr("198.18.0.3"), addr("198.19.0.1")
	p.SetServerName("srv")
	p.SetBootFile("boot")
	b, q := mustAppend(t, p, 0)

	want := raw(header{
		op: 2, htype: 1, hlen: 6, hops: 1, xid: 0x3903f326, secs: 2, flags: 0x8000,
		ciaddr: [4]byte{198, 18, 0, 2}, yiaddr: [4]byte{198, 18, 0, 100},
		siaddr: [4]byte{198, 18, 0, 3}, giaddr: [4]byte{198, 19, 0, 1},
		chaddr: []byte{2, 0xc6, 0x12, 0, 0, 1}, sname: []byte("srv"), file: []byte("boot"),
	}, opt(OptMessageType, 2), opt(OptServerID, 198, 18, 0, 1), end)
	want = append(want, make([]byte, BOOTPMinLen-len(want))...)
	if !bytes.Equal(b, want) {
		t.Errorf("RFC2131 2 message layout:\n got %x\nwant %x", b, want)
	}
	if d := diffPackets(p, q); d != "" {
		t.Errorf("round trip: %s", d)
	}
}

func TestAppendOptionEncoding(t *testing.T) {
	long := seq(0, 600)
	tests := []struct {
		name    string
		p       *Packet
		maxLen  int
		wantLen int
		options []byte // the options field from offset 240 up to and including End
	}{
		{
			name:    "RFC1542 3.1.1 padded to 300 bytes",
			p:       offer(nil),
			wantLen: BOOTPMinLen,
			options: slices.Concat(opt(OptMessageType, 2), end),
		},
		{
			name: "RFC2131 message type written first",
			p: offer(func(o *Options) {
				o.Del(OptMessageType)
				o.SetString(OptHostName, "h")
				o.SetMessageType(Ack)
			}),
			wantLen: BOOTPMinLen,
			options: slices.Concat(opt(OptMessageType, 5), optS(OptHostName, "h"), end),
		},
		{
			name:    "RFC3396 value of 600 bytes split into 255, 255 and 90",
			p:       offer(func(o *Options) { o.Set(224, long) }),
			maxLen:  1500,
			wantLen: MinLen + 3 + 600 + 6 + 1,
			options: slices.Concat(opt(OptMessageType, 2), opt(224, long[:255]...), opt(224, long[255:510]...), opt(224, long[510:]...), end),
		},
		{
			name:    "RFC3396 value of exactly 255 bytes is one instance",
			p:       offer(func(o *Options) { o.Set(224, long[:255]) }),
			maxLen:  1500,
			wantLen: MinLen + 3 + 257 + 1,
			options: slices.Concat(opt(OptMessageType, 2), opt(224, long[:255]...), end),
		},
		{
			name:    "RFC4039 zero-length option written as code and length 0",
			p:       offer(func(o *Options) { o.Set(OptRapidCommit, nil) }),
			wantLen: BOOTPMinLen,
			options: slices.Concat(opt(OptMessageType, 2), opt(OptRapidCommit), end),
		},
		{
			name: "RFC2132 9.3 option 52 in the set is not copied when not needed",
			p: offer(func(o *Options) {
				o.SetUint8(OptOverload, 3)
				o.SetString(OptHostName, "h")
			}),
			wantLen: BOOTPMinLen,
			options: slices.Concat(opt(OptMessageType, 2), optS(OptHostName, "h"), end),
		},
		{
			name:    "no options: End only",
			p:       &Packet{Op: BootRequest},
			wantLen: BOOTPMinLen,
			options: end,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, q := mustAppend(t, tc.p, tc.maxLen)
			if len(b) != tc.wantLen {
				t.Errorf("length %d, want %d", len(b), tc.wantLen)
			}
			if got := b[MinLen : MinLen+len(tc.options)]; !bytes.Equal(got, tc.options) {
				t.Errorf("options field\n got %x\nwant %x", got, tc.options)
			}
			if !isZero(b[MinLen+len(tc.options):]) {
				t.Errorf("padding after End not zero: %x", b[MinLen+len(tc.options):])
			}
			if q.Options.Has(OptOverload) {
				t.Error("option 52 in a message that needs no overload")
			}
		})
	}
}

func TestAppendMaxLen(t *testing.T) {
	// need bytes of options beyond the message type: one option of n bytes.
	withOption := func(n int) *Packet { return offer(func(o *Options) { o.Set(224, seq(0, n)) }) }
	tests := []struct {
		name    string
		p       *Packet
		maxLen  int
		wantLen int
		wantOv  bool
	}{
		// 240 + 3 (type) + 2+n + 1 (End) bytes.
		// A value of 256 to 510 bytes takes two instances: n+4 bytes.
		{"RFC2131 2 default maximum 548 fits a 300-byte value", withOption(300), 0, 548, false},
		{"RFC2131 2 default maximum 548 overloads past it", withOption(301), 0, 548, true},
		{"maxLen below 300 is taken as 300", withOption(54), 100, 300, false},
		{"maxLen below 300 overloads as for 300", withOption(55), 100, 300, true},
		{"maxLen 1500", withOption(1000), 1500, 240 + 3 + 1000 + 8 + 1, false},
		{"maxLen above the UDP maximum is capped", withOption(100), 1 << 20, 240 + 3 + 102 + 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, q := mustAppend(t, tc.p, tc.maxLen)
			if len(b) != tc.wantLen && !tc.wantOv {
				t.Errorf("length %d, want %d", len(b), tc.wantLen)
			}
			if len(b) > tc.wantLen {
				t.Errorf("length %d exceeds %d", len(b), tc.wantLen)
			}
			if got := q.Options.Has(OptOverload); got != tc.wantOv {
				t.Errorf("overloaded = %v, want %v", got, tc.wantOv)
			}
			if d := diffPackets(tc.p, q); d != "" {
				t.Errorf("round trip: %s", d)
			}
		})
	}
}

func TestAppendOverload(t *testing.T) {
	// With maxLen 300 and overloading, the options field has room for
	// 54-byte values after option 52 (243..298, End at 299 at the latest),
	// the file field for 125 (108..234, End after) and sname for 61.
	tests := []struct {
		name     string
		p        *Packet
		maxLen   int // 300 when 0
		overload uint8
		main     []byte // options field from 240, through End
		file     []byte // file field through End, or nil when not used
		sname    []byte
	}{
		{
			name:     "RFC2132 9.3 options that do not fit go to file",
			p:        offer(func(o *Options) { o.Set(224, seq(0, 100)) }),
			overload: OverloadFile,
			main:     slices.Concat(opt(OptOverload, 1), opt(OptMessageType, 2), end),
			file:     slices.Concat(opt(224, seq(0, 100)...), end),
		},
		{
			name: "RFC2132 9.3 then to sname: overload 3",
			p: offer(func(o *Options) {
				o.Set(224, seq(0, 120))
				o.Set(225, seq(1, 60))
			}),
			overload: OverloadBoth,
			main:     slices.Concat(opt(OptOverload, 3), opt(OptMessageType, 2), end),
			file:     slices.Concat(opt(224, seq(0, 120)...), end),
			sname:    slices.Concat(opt(225, seq(1, 60)...), end),
		},
		{
			name: "RFC2132 9.3 options placed whole where they fit, in order",
			p: offer(func(o *Options) {
				o.Set(224, seq(0, 100)) // file
				o.Set(225, seq(1, 40))  // main
				o.Set(226, seq(2, 20))  // file
			}),
			overload: OverloadFile,
			main:     slices.Concat(opt(OptOverload, 1), opt(OptMessageType, 2), opt(225, seq(1, 40)...), end),
			file:     slices.Concat(opt(224, seq(0, 100)...), opt(226, seq(2, 20)...), end),
		},
		{
			name: "RFC2131 2 file holding text is left alone: sname only",
			p: func() *Packet {
				p := offer(func(o *Options) { o.Set(224, seq(0, 60)) })
				p.SetBootFile("pxelinux.0")
				return p
			}(),
			overload: OverloadSName,
			main:     slices.Concat(opt(OptOverload, 2), opt(OptMessageType, 2), end),
			sname:    slices.Concat(opt(224, seq(0, 60)...), end),
		},
		{
			name: "RFC3396 5 option fitting whole nowhere split over options, file, sname",
			p:    offer(func(o *Options) { o.Set(224, seq(0, 200)) }),
			// main: 51 bytes after the message type, file 125, sname 24.
			overload: OverloadBoth,
			main:     slices.Concat(opt(OptOverload, 3), opt(OptMessageType, 2), opt(224, seq(0, 51)...), end),
			file:     slices.Concat(opt(224, seq(51, 125)...), end),
			sname:    slices.Concat(opt(224, seq(176, 24)...), end),
		},
		{
			name: "RFC3396 5 long option's parts stay in concatenation order",
			p: offer(func(o *Options) {
				o.Set(225, seq(9, 150)) // main: leaves room for 147
				o.Set(224, seq(0, 300)) // 255 split over main and file, then 45 in sname
			}),
			maxLen:   548,
			overload: OverloadBoth,
			main:     slices.Concat(opt(OptOverload, 3), opt(OptMessageType, 2), opt(225, seq(9, 150)...), opt(224, seq(0, 147)...), end),
			file:     slices.Concat(opt(224, seq(147, 108)...), end),
			sname:    slices.Concat(opt(224, seq(255, 45)...), end),
		},
		{
			name: "RFC4039 zero-length option that no longer fits goes to file",
			p: offer(func(o *Options) {
				o.Set(224, seq(0, 51)) // fills the options field
				o.Set(OptRapidCommit, nil)
				o.Set(225, seq(0, 70))
			}),
			overload: OverloadFile,
			main:     slices.Concat(opt(OptOverload, 1), opt(OptMessageType, 2), opt(224, seq(0, 51)...), end),
			file:     slices.Concat(opt(OptRapidCommit), opt(225, seq(0, 70)...), end),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.maxLen == 0 {
				tc.maxLen = 300
			}
			b, q := mustAppend(t, tc.p, tc.maxLen)
			if len(b) != tc.maxLen {
				t.Errorf("length %d, want %d", len(b), tc.maxLen)
			}
			if got := b[MinLen : MinLen+len(tc.main)]; !bytes.Equal(got, tc.main) {
				t.Errorf("options field\n got %x\nwant %x", got, tc.main)
			}
			checkField := func(name string, got, want, text []byte) {
				t.Helper()
				if want == nil {
					want = text
				}
				if !bytes.Equal(got[:len(want)], want) || !isZero(got[len(want):]) {
					t.Errorf("%s field\n got %x\nwant %x", name, got, want)
				}
			}
			checkField("file", b[offFile:offFile+lenFile], tc.file, tc.p.File[:])
			checkField("sname", b[offSName:offSName+lenSName], tc.sname, tc.p.SName[:])
			if ov, _ := q.Options.Uint8(OptOverload); ov != tc.overload {
				t.Errorf("option 52 = %d, want %d", ov, tc.overload)
			}
			if d := diffPackets(tc.p, q); d != "" {
				t.Errorf("round trip: %s", d)
			}
		})
	}
}

func TestAppendNoRoom(t *testing.T) {
	withText := func(p *Packet) *Packet {
		p.SetServerName("srv")
		p.SetBootFile("boot")
		return p
	}
	tests := []struct {
		name   string
		p      *Packet
		maxLen int
	}{
		{"RFC2132 9.3 sname and file hold text", withText(offer(func(o *Options) { o.Set(224, seq(0, 60)) })), 300},
		{"RFC2132 9.3 more than options, file and sname hold", offer(func(o *Options) { o.Set(224, seq(0, 250)) }), 300},
		{"RFC2132 9.10 default maximum", offer(func(o *Options) { o.Set(224, seq(0, 600)) }), 0},
		{"RFC3396 options beyond a UDP payload", offer(func(o *Options) { o.Set(224, make([]byte, 65000)) }), MaxUDPPayload},
		{"zero-length option with no room left", offer(func(o *Options) {
			o.Set(224, seq(0, 51))
			o.Set(225, seq(0, 125))
			o.Set(226, seq(0, 61))
			o.Set(OptRapidCommit, nil)
		}), 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, 3, 1024)
			copy(dst, "abc")
			got, err := tc.p.Append(dst, tc.maxLen)
			if !errors.Is(err, ErrNoRoom) {
				t.Fatalf("Append error = %v, want ErrNoRoom", err)
			}
			if string(got) != "abc" {
				t.Errorf("dst changed to %q", got)
			}
		})
	}
}

func TestAppendRefusesBadOp(t *testing.T) {
	for _, op := range []OpCode{0, 3} {
		p := Packet{Op: op}
		if _, err := p.Append(nil, 0); !errors.Is(err, ErrOp) {
			t.Errorf("Append with op %d: error %v, want ErrOp", op, err)
		}
	}
}

func TestAppendToExistingBuffer(t *testing.T) {
	p := offer(nil)
	dst := []byte("prefix")
	b, err := p.Append(dst, 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:6]) != "prefix" || len(b) != 6+BOOTPMinLen {
		t.Fatalf("Append did not append: %q... length %d", b[:6], len(b))
	}
	var q Packet
	if err := Parse(b[6:], &q); err != nil || q.MessageType() != Offer {
		t.Errorf("Parse of the appended message: %v, type %v", err, q.MessageType())
	}
	// Stale bytes in dst's spare capacity do not leak into the message.
	buf := bytes.Repeat([]byte{0xee}, 2048)[:0]
	b, _ = p.Append(buf, 1500)
	if !isZero(b[MinLen+4:]) || !isZero(b[offSName:HeaderLen]) {
		t.Errorf("stale bytes in the built message: %x", b)
	}
}

func TestAppendParsedOverloadedMessage(t *testing.T) {
	// A parsed message whose file and sname held options: rebuilt with room
	// to spare, they are not copied as text, and option 52 goes.
	h := discoverHeader
	h.file = fieldOf(lenFile, optS(OptHostName, "in-file"), end)
	h.sname = fieldOf(lenSName, optS(OptDomainName, "in.sname"), end)
	var p Packet
	if err := Parse(raw(h, opt(OptOverload, 3), opt(OptMessageType, 1), end), &p); err != nil {
		t.Fatal(err)
	}
	b, q := mustAppend(t, &p, 1500)
	if !isZero(b[offSName:HeaderLen]) {
		t.Errorf("overloaded sname/file copied: %x", b[offSName:HeaderLen])
	}
	if q.Options.Has(OptOverload) {
		t.Error("option 52 kept")
	}
	if d := diffPackets(&p, q); d != "" {
		t.Errorf("round trip: %s", d)
	}
	// With no room to spare, the fields are reused for options.
	p.Options.Set(224, seq(0, 200))
	_, q = mustAppend(t, &p, 300)
	if d := diffPackets(&p, q); d != "" {
		t.Errorf("round trip overloaded again: %s", d)
	}
}

func TestMaxMessageSize(t *testing.T) {
	tests := []struct {
		name  string
		value []byte // option 57, nil for none
		want  int
	}{
		{"RFC2131 2 absent: 576-byte datagram", nil, 548},
		{"RFC2132 9.10 576 is the minimum legal value", []byte{0x02, 0x40}, 548},
		{"RFC2132 9.10 below 576 ignored", []byte{0x01, 0x2c}, 548},
		{"RFC2132 9.10 zero ignored", []byte{0, 0}, 548},
		{"RFC2132 9.10 1500-byte datagram", []byte{0x05, 0xdc}, 1472},
		{"RFC2132 9.10 65535", []byte{0xff, 0xff}, 65507},
		{"RFC2132 9.10 malformed length ignored", []byte{0x05, 0xdc, 0}, 548},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			if tc.value != nil {
				p.Options.Set(OptMaxMessageSize, tc.value)
			}
			if got := p.MaxMessageSize(); got != tc.want {
				t.Errorf("MaxMessageSize() = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestAppendRandomOptionSets builds random option sets under random size
// limits: every message is within the limit, and either parses back to the
// same content or is refused with ErrNoRoom.
func TestAppendRandomOptionSets(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	built, refused, overloaded := 0, 0, 0
	for range 3000 {
		p := offer(nil)
		if rng.IntN(3) == 0 {
			p.SetBootFile("boot")
		}
		if rng.IntN(3) == 0 {
			p.SetServerName("srv")
		}
		for range rng.IntN(12) {
			c := OptionCode(1 + rng.IntN(254))
			if c == OptOverload {
				continue
			}
			n := rng.IntN(300)
			if rng.IntN(4) == 0 {
				n = rng.IntN(3)
			}
			v := make([]byte, n)
			for i := range v {
				v[i] = byte(rng.Uint32())
			}
			p.Options.Set(c, v)
		}
		maxLen := []int{0, 300, 400, 548, 576, 1000, 1500}[rng.IntN(7)]
		limit := max(maxLen, BOOTPMinLen)
		if maxLen == 0 {
			limit = DefaultMaxMessageSize
		}
		b, err := p.Append(nil, maxLen)
		if errors.Is(err, ErrNoRoom) {
			refused++
			continue
		}
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		built++
		if len(b) > limit || len(b) < BOOTPMinLen {
			t.Fatalf("message of %d bytes for a limit of %d", len(b), limit)
		}
		var q Packet
		if err := Parse(b, &q); err != nil {
			t.Fatalf("Parse of built message: %v\n%x", err, b)
		}
		if q.Options.Has(OptOverload) {
			overloaded++
		}
		if d := diffPackets(p, &q); d != "" {
			t.Fatalf("round trip with maxLen %d: %s", maxLen, d)
		}
	}
	if built == 0 || refused == 0 || overloaded == 0 {
		t.Errorf("random cases did not cover every outcome: built %d, refused %d, overloaded %d", built, refused, overloaded)
	}
}
