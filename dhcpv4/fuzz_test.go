package dhcpv4

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// parseSeeds are hand-made edge cases for FuzzParse and the differential
// test, beside the golden packets and testdata/fuzz/FuzzParse.
func parseSeeds() [][]byte {
	ovFile := discoverHeader
	ovFile.file = fieldOf(lenFile, optS(OptHostName, "in-file"), opt(224, 1), end)
	ovBoth := ovFile
	ovBoth.sname = fieldOf(lenSName, opt(224, 2), opt(OptOverload, 1), end)
	text := discoverHeader
	text.sname, text.file = []byte("srv"), []byte("pxelinux.0")
	relayed := discoverHeader
	relayed.giaddr, relayed.hops = [4]byte{198, 18, 9, 1}, 1
	return [][]byte{
		raw(discoverHeader),
		raw(discoverHeader, end),
		raw(discoverHeader, opt(OptMessageType, 1)),
		raw(discoverHeader, opt(OptMessageType, 1), end, make([]byte, 56)),
		raw(discoverHeader, []byte{0, 0, 0}, opt(OptMessageType, 3), opt(OptRapidCommit), end),
		raw(discoverHeader, opt(OptDomainSearch, seq(0, 255)...), opt(OptMessageType, 1), opt(OptDomainSearch, 1, 2), end),
		raw(ovFile, opt(OptOverload, 1), opt(OptMessageType, 1), end),
		raw(ovBoth, opt(OptOverload, 3), opt(224, 0), end),
		raw(ovFile, opt(OptOverload, 1, 1), end),
		raw(text, opt(OptMessageType, 2), end),
		raw(relayed, opt(OptMessageType, 1), opt(OptRelayAgentInfo, 1, 2, 'p', '7', 5, 4, 198, 18, 9, 0), end),
		raw(discoverHeader, opt(OptDomainSearch, []byte("\x06golden\x04test\x00\x01a\xc0\x00")...), opt(OptClasslessRoutes, 0, 198, 18, 0, 1, 24, 198, 19, 5, 198, 18, 0, 254), end),
		raw(discoverHeader, opt(OptMessageType, 1), []byte{byte(OptHostName), 9, 'a'}),
		raw(header{op: 2, hlen: 17}, end),
		raw(header{op: 3}, end),
		raw(discoverHeader)[:239],
	}
}

// goldenSeeds returns the golden packets, if any.
func goldenSeeds(tb testing.TB) [][]byte {
	var out [][]byte
	for _, g := range loadGolden(tb) {
		out = append(out, g.msg)
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, b := range slices.Concat(parseSeeds(), goldenSeeds(f)) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		if err := Parse(b, &p); err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(b) || pe.Err == nil {
				t.Fatalf("Parse error %v is not a well-formed *ParseError", err)
			}
			if p.Options.Len() != 0 {
				t.Fatalf("options left after a failed Parse")
			}
			return
		}
		_ = p.String()
		checkTypedDecoders(&p)

		out, err := p.Append(nil, 65535)
		if err != nil {
			// Only a message far beyond a UDP payload has too many options.
			if !errors.Is(err, ErrNoRoom) || len(b) <= MaxUDPPayload-300 {
				t.Fatalf("Append of a parsed %d-byte message: %v", len(b), err)
			}
			return
		}
		var q Packet
		if err := Parse(out, &q); err != nil {
			t.Fatalf("Parse of the rebuilt message: %v\nin  %x\nout %x", err, b, out)
		}
		if d := diffPackets(&p, &q); d != "" {
			t.Fatalf("parse -> build -> parse changed the message: %s\nin  %x\nout %x", d, b, out)
		}
		again, err := q.Append(nil, 65535)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("building the rebuilt message again is not stable: %v\n1st %x\n2nd %x", err, out, again)
		}

		for _, maxLen := range []int{300, 548, 576} {
			small, err := p.Append(nil, maxLen)
			if err != nil {
				if !errors.Is(err, ErrNoRoom) {
					t.Fatalf("Append(%d): %v", maxLen, err)
				}
				continue
			}
			if len(small) > max(maxLen, BOOTPMinLen) {
				t.Fatalf("Append(%d) built %d bytes", maxLen, len(small))
			}
			var r Packet
			if err := Parse(small, &r); err != nil {
				t.Fatalf("Parse of the message built with maxLen %d: %v\nin  %x\nout %x", maxLen, err, b, small)
			}
			if d := diffPackets(&p, &r); d != "" {
				t.Fatalf("maxLen %d changed the message: %s\nin  %x\nout %x", maxLen, d, b, small)
			}
		}
	})
}

// checkTypedDecoders runs the package's decoders over the options of p,
// which must not panic whatever the values.
func checkTypedDecoders(p *Packet) {
	o := &p.Options
	if v, ok := o.Get(OptDomainSearch); ok {
		_, _ = ParseDomainList(v, nil)
	}
	if v, ok := o.Get(OptClasslessRoutes); ok {
		_, _ = ParseClasslessRoutes(v, nil)
	}
	if v, ok := o.Get(OptUserClass); ok {
		_, _ = ParseUserClass(v, nil)
	}
	if v, ok := o.Get(OptRelayAgentInfo); ok {
		_ = ValidateSubOptions(v)
		_, _ = SubOption(v, RelayCircuitID)
		_, _ = LinkSelection(v)
		_, _ = ServerIDOverride(v)
	}
	_, _ = o.Addrs(OptRouter, nil)
	_, _ = o.Duration(OptLeaseTime)
	_ = o.ParameterRequested(OptSubnetMask)
	_ = p.MaxMessageSize()
	_ = p.HardwareAddr()
}

func FuzzDomainList(f *testing.F) {
	f.Add([]byte("\x03eng\x05apple\x03com\x00\x09marketing\xc0\x04"), "eng.apple.com,marketing.apple.com")
	f.Add([]byte("\x04test\x00\x01a\xc0\x00\x01b\xc0\x06"), "a.b.c,b.c,c,")
	f.Add([]byte("\x01.\x00\x02a.\x00"), ".,a..b")
	f.Add([]byte("\xc0\x00"), strings.Repeat("x", 64))
	f.Add([]byte("\x01a\x01b\xc0\x00"), "Example.COM,example.com")
	f.Fuzz(func(t *testing.T, b []byte, list string) {
		// Decode, encode, decode: the second decoding is the first, and
		// encoding is stable from there on.
		if names, err := ParseDomainList(b, nil); err == nil {
			enc, err := AppendDomainList(nil, names)
			if err != nil {
				// Only labels holding dots decode to names the encoder
				// must refuse.
				if !errors.Is(err, ErrDomainName) || !labelHasDot(b) {
					t.Fatalf("AppendDomainList(%q): %v", names, err)
				}
			} else {
				back, err := ParseDomainList(enc, nil)
				if err != nil {
					t.Fatalf("ParseDomainList of the encoding of %q: %v", names, err)
				}
				if !labelHasDot(b) && !slices.Equal(back, names) {
					t.Fatalf("decode -> encode -> decode: %q became %q", names, back)
				}
				enc2, err := AppendDomainList(nil, back)
				if err != nil || !bytes.Equal(enc, enc2) {
					t.Fatalf("encoding not stable: %x then %x (%v)", enc, enc2, err)
				}
			}
		} else if !errors.Is(err, ErrDomainName) {
			t.Fatalf("ParseDomainList error %v does not wrap ErrDomainName", err)
		}

		// Encode, decode: names come back as given, without trailing dot.
		var names []string
		if list != "" {
			names = strings.Split(list, ",")
		}
		enc, err := AppendDomainList(nil, names)
		if err != nil {
			if !errors.Is(err, ErrDomainName) {
				t.Fatalf("AppendDomainList error %v does not wrap ErrDomainName", err)
			}
			return
		}
		back, err := ParseDomainList(enc, nil)
		if err != nil {
			t.Fatalf("ParseDomainList of the encoding of %q: %v", names, err)
		}
		for i := range names {
			names[i] = strings.TrimSuffix(names[i], ".")
		}
		if !slices.Equal(back, names) {
			t.Fatalf("encode -> decode: %q became %q", names, back)
		}
	})
}

// labelHasDot reports whether some label of a domain list value (read
// loosely) holds a '.', which decodes to a name that reads differently.
func labelHasDot(b []byte) bool { return bytes.IndexByte(b, '.') >= 0 }

func FuzzClasslessRoutes(f *testing.F) {
	f.Add([]byte{0, 198, 18, 0, 1})
	f.Add([]byte{8, 10, 198, 18, 0, 1, 25, 10, 229, 0, 128, 198, 18, 0, 1, 32, 10, 198, 122, 47, 0, 0, 0, 0})
	f.Add([]byte{9, 10, 0xff, 198, 18, 0, 1})
	f.Add([]byte{33, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{24, 10})
	f.Fuzz(func(t *testing.T, b []byte) {
		routes, err := ParseClasslessRoutes(b, nil)
		if err != nil {
			if !errors.Is(err, ErrRoute) {
				t.Fatalf("error %v does not wrap ErrRoute", err)
			}
			return
		}
		enc, err := AppendClasslessRoutes(nil, routes)
		if err != nil {
			t.Fatalf("AppendClasslessRoutes(%v): %v", routes, err)
		}
		if len(enc) != len(b) {
			t.Fatalf("re-encoding changed the length: %x -> %x", b, enc)
		}
		back, err := ParseClasslessRoutes(enc, nil)
		if err != nil || !slices.Equal(back, routes) {
			t.Fatalf("encode -> decode: %v became %v (%v)", routes, back, err)
		}
		for _, r := range routes {
			if r.Dest.Masked() != r.Dest || !r.Dest.Addr().Is4() || !r.Router.Is4() {
				t.Fatalf("decoded route %v is not a masked IPv4 route", r)
			}
		}
	})
}

func FuzzUserClass(f *testing.F) {
	f.Add([]byte("\x06office\x08printers"))
	f.Add([]byte("MSFT 5.0"))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		classes, err := ParseUserClass(b, nil)
		if err != nil {
			if !errors.Is(err, ErrUserClass) {
				t.Fatalf("error %v does not wrap ErrUserClass", err)
			}
			return
		}
		enc, err := AppendUserClass(nil, classes)
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("encode of decoded %x gave %x, %v", b, enc, err)
		}
	})
}
