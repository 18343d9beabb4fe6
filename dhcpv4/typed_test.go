package dhcpv4

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestAppendDomainList(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  string
	}{
		{
			// The example of RFC 3397 §3: "marketing" ends with a pointer
			// to "apple.com" at offset 4.
			"RFC3397 3 example with compression",
			[]string{"eng.apple.com.", "marketing.apple.com."},
			"\x03eng\x05apple\x03com\x00\x09marketing\xc0\x04",
		},
		{"RFC1035 3.1 one name, trailing dot optional", []string{"golden.test"}, "\x06golden\x04test\x00"},
		{"RFC1035 4.1.4 whole name repeated is one pointer", []string{"a.test", "a.test"}, "\x01a\x04test\x00\xc0\x00"},
		{"RFC1035 4.1.4 pointer to a suffix", []string{"a.test", "test"}, "\x01a\x04test\x00\xc0\x02"},
		{"RFC1035 4.1.4 different case is not compressed", []string{"a.test", "b.TEST"}, "\x01a\x04test\x00\x01b\x04TEST\x00"},
		{"empty list", nil, ""},
		{
			"RFC1035 2.3.4 63-byte label",
			[]string{strings.Repeat("x", 63) + ".test"},
			"\x3f" + strings.Repeat("x", 63) + "\x04test\x00",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendDomainList([]byte("pre"), tc.names)
			if err != nil {
				t.Fatal(err)
			}
			if string(got[3:]) != tc.want || string(got[:3]) != "pre" {
				t.Errorf("AppendDomainList = %q, want %q", got[3:], tc.want)
			}
			back, err := ParseDomainList(got[3:], nil)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]string, len(tc.names))
			for i, n := range tc.names {
				want[i] = strings.TrimSuffix(n, ".")
			}
			if !slices.Equal(back, want) {
				t.Errorf("ParseDomainList = %q, want %q", back, want)
			}
		})
	}
}

func TestAppendDomainListErrors(t *testing.T) {
	label63 := strings.Repeat("x", 63)
	tests := []struct {
		name  string
		names []string
	}{
		{"RFC1035 2.3.4 empty name", []string{"ok.test", ""}},
		{"RFC1035 2.3.4 root only", []string{"."}},
		{"RFC1035 2.3.4 empty label", []string{"a..test"}},
		{"RFC1035 2.3.4 leading dot", []string{".a.test"}},
		{"RFC1035 2.3.4 label of 64 bytes", []string{strings.Repeat("x", 64) + ".test"}},
		{"RFC1035 2.3.4 name of 254 characters", []string{label63 + "." + label63 + "." + label63 + "." + strings.Repeat("x", 62)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendDomainList([]byte("pre"), tc.names)
			if !errors.Is(err, ErrDomainName) {
				t.Errorf("error %v, want ErrDomainName", err)
			}
			if string(got) != "pre" {
				t.Errorf("dst changed to %q", got)
			}
		})
	}
	// 253 characters is the longest name.
	n253 := label63 + "." + label63 + "." + label63 + "." + strings.Repeat("x", 61)
	if _, err := AppendDomainList(nil, []string{n253}); err != nil {
		t.Errorf("name of 253 characters refused: %v", err)
	}
}

func TestParseDomainList(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
		err  string // substring of the error, "" for none
	}{
		{"RFC3397 2 empty value", "", nil, ""},
		{"RFC1035 4.1.4 nested pointers", "\x04test\x00\x01a\xc0\x00\x01b\xc0\x06", []string{"test", "a.test", "b.a.test"}, ""},
		{"RFC1035 4.1.4 name that is only a pointer", "\x04test\x00\xc0\x00", []string{"test", "test"}, ""},
		{"RFC1035 4.1.4 pointer to itself", "\xc0\x00", nil, "offset 0 does not point backwards"},
		{"RFC1035 4.1.4 pointer forwards", "\x01a\xc0\x05\x00\x01b\x00", nil, "offset 2 does not point backwards"},
		{"RFC1035 4.1.4 pointer into the same name", "\x01a\x01b\xc0\x00", nil, "offset 4 does not point backwards"},
		{"RFC1035 4.1.4 loop through two pointers", "\x01a\x00\x01b\xc0\x05\xc0\x03", nil, "does not point backwards"},
		{"RFC1035 4.1.4 pointer cut short", "\x01a\x00\xc0", nil, "offset 3 cut short"},
		{"RFC1035 4.1.4 reserved label type 01", "\x41a\x00", nil, "bad label type at offset 0"},
		{"RFC1035 4.1.4 reserved label type 10", "\x01a\x81a\x00", nil, "bad label type at offset 2"},
		{"RFC1035 3.1 label past the end", "\x05ab", nil, "label at offset 0 runs past"},
		{"RFC1035 3.1 name without terminating zero", "\x01a", nil, "name at offset 0 runs past"},
		{"RFC3397 2 root name", "\x00", nil, "empty name at offset 0"},
		{
			"RFC1035 2.3.4 name longer than 253 characters",
			strings.Repeat("\x3f"+strings.Repeat("x", 63), 4) + "\x00", nil, "longer than 253",
		},
		{
			"RFC1035 2.3.4 long name through pointers",
			"\x3f" + strings.Repeat("x", 63) + "\x3f" + strings.Repeat("y", 63) + "\x00" +
				"\x3f" + strings.Repeat("z", 63) + "\x3f" + strings.Repeat("w", 63) + "\xc0\x00",
			nil, "longer than 253",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDomainList([]byte(tc.in), nil)
			if tc.err == "" {
				if err != nil || !slices.Equal(got, tc.want) {
					t.Errorf("ParseDomainList = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, ErrDomainName) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v, want ErrDomainName saying %q", err, tc.err)
			}
		})
	}
}

func TestDomainSearchSplitOverInstances(t *testing.T) {
	// RFC 3397 §3: the example list sent as two instances of option 119;
	// the second starts in the middle of a label and its pointer refers to
	// the first.
	v := []byte("\x03eng\x05apple\x03com\x00\x09marketing\xc0\x04")
	var p Packet
	if err := Parse(raw(discoverHeader, opt(OptDomainSearch, v[:9]...), opt(OptDomainSearch, v[9:]...), end), &p); err != nil {
		t.Fatal(err)
	}
	got, _ := p.Options.Get(OptDomainSearch)
	names, err := ParseDomainList(got, nil)
	if err != nil || !slices.Equal(names, []string{"eng.apple.com", "marketing.apple.com"}) {
		t.Errorf("ParseDomainList = %q, %v", names, err)
	}
}

func TestClasslessRoutes(t *testing.T) {
	r := func(pfx, via string) Route { return Route{netip.MustParsePrefix(pfx), addr(via)} }
	tests := []struct {
		name   string
		routes []Route
		want   []byte
	}{
		// The destination descriptors of RFC 3442 §3.
		{"RFC3442 3 default route 0", []Route{r("0.0.0.0/0", "198.18.0.1")}, []byte{0, 198, 18, 0, 1}},
		{"RFC3442 3 10.0.0.0/8", []Route{r("10.0.0.0/8", "198.18.0.1")}, []byte{8, 10, 198, 18, 0, 1}},
		{"RFC3442 3 10.17.0.0/16", []Route{r("10.17.0.0/16", "198.18.0.1")}, []byte{16, 10, 17, 198, 18, 0, 1}},
		{"RFC3442 3 10.27.129.0/24", []Route{r("10.27.129.0/24", "198.18.0.1")}, []byte{24, 10, 27, 129, 198, 18, 0, 1}},
		{"RFC3442 3 10.229.0.128/25", []Route{r("10.229.0.128/25", "198.18.0.1")}, []byte{25, 10, 229, 0, 128, 198, 18, 0, 1}},
		{"RFC3442 3 10.198.122.47/32", []Route{r("10.198.122.47/32", "198.18.0.1")}, []byte{32, 10, 198, 122, 47, 198, 18, 0, 1}},
		{"RFC3442 3 /1 takes one octet", []Route{r("128.0.0.0/1", "198.18.0.1")}, []byte{1, 128, 198, 18, 0, 1}},
		{"RFC3442 3 /9 takes two octets", []Route{r("10.128.0.0/9", "198.18.0.1")}, []byte{9, 10, 128, 198, 18, 0, 1}},
		{"RFC3442 5 router 0.0.0.0: on the link", []Route{r("198.18.5.0/24", "0.0.0.0")}, []byte{24, 198, 18, 5, 0, 0, 0, 0}},
		{
			"RFC3442 3 several routes in order",
			[]Route{r("198.19.0.0/16", "198.18.0.254"), r("0.0.0.0/0", "198.18.0.1")},
			[]byte{16, 198, 19, 198, 18, 0, 254, 0, 198, 18, 0, 1},
		},
		{"empty list", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendClasslessRoutes([]byte{0xaa}, tc.routes)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[1:], tc.want) || got[0] != 0xaa {
				t.Errorf("AppendClasslessRoutes = %v, want %v", got[1:], tc.want)
			}
			back, err := ParseClasslessRoutes(got[1:], nil)
			if err != nil || !slices.Equal(back, tc.routes) {
				t.Errorf("ParseClasslessRoutes = %v, %v; want %v", back, err, tc.routes)
			}
		})
	}
}

func TestClasslessRoutesUnmasked(t *testing.T) {
	// Bits past the prefix length are cleared both ways.
	got, err := AppendClasslessRoutes(nil, []Route{{netip.MustParsePrefix("10.1.2.3/8"), addr("198.18.0.1")}})
	if err != nil || !bytes.Equal(got, []byte{8, 10, 198, 18, 0, 1}) {
		t.Errorf("AppendClasslessRoutes of 10.1.2.3/8 = %v, %v", got, err)
	}
	routes, err := ParseClasslessRoutes([]byte{9, 10, 0xff, 198, 18, 0, 1}, nil)
	if err != nil || len(routes) != 1 || routes[0].Dest != netip.MustParsePrefix("10.128.0.0/9") {
		t.Errorf("ParseClasslessRoutes of 10.255/9 = %v, %v", routes, err)
	}
}

func TestClasslessRoutesErrors(t *testing.T) {
	v4 := addr("198.18.0.1")
	appendTests := []struct {
		name  string
		route Route
	}{
		{"RFC3442 IPv6 destination", Route{netip.MustParsePrefix("2001:db8::/32"), v4}},
		{"RFC3442 IPv4-mapped destination", Route{netip.MustParsePrefix("::ffff:10.0.0.0/104"), v4}},
		{"RFC3442 invalid destination", Route{netip.Prefix{}, v4}},
		{"RFC3442 IPv6 router", Route{netip.MustParsePrefix("10.0.0.0/8"), addr("2001:db8::1")}},
		{"RFC3442 missing router", Route{netip.MustParsePrefix("10.0.0.0/8"), netip.Addr{}}},
	}
	for _, tc := range appendTests {
		t.Run(tc.name, func(t *testing.T) {
			good := Route{netip.MustParsePrefix("10.0.0.0/8"), v4}
			got, err := AppendClasslessRoutes([]byte("pre"), []Route{good, tc.route})
			if !errors.Is(err, ErrRoute) {
				t.Errorf("error %v, want ErrRoute", err)
			}
			if string(got) != "pre" {
				t.Errorf("dst changed to %x", got)
			}
		})
	}
	parseTests := []struct {
		name string
		in   []byte
		err  string
	}{
		{"RFC3442 3 prefix length 33", []byte{33, 1, 2, 3, 4, 5, 198, 18, 0, 1}, "offset 0: prefix length 33"},
		{"RFC3442 3 router cut short", []byte{8, 10, 198, 18, 0}, "offset 0 runs past"},
		{"RFC3442 3 destination cut short", []byte{24, 10}, "offset 0 runs past"},
		{"RFC3442 3 second route cut short", []byte{0, 198, 18, 0, 1, 16}, "offset 5 runs past"},
	}
	for _, tc := range parseTests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseClasslessRoutes(tc.in, nil)
			if !errors.Is(err, ErrRoute) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v, want ErrRoute saying %q", err, tc.err)
			}
		})
	}
}

func TestRouteString(t *testing.T) {
	r := Route{netip.MustParsePrefix("198.18.0.0/15"), addr("198.18.0.1")}
	if got := r.String(); got != "198.18.0.0/15 via 198.18.0.1" {
		t.Errorf("String() = %q", got)
	}
}

func TestSubOptions(t *testing.T) {
	info := slices.Concat(
		AppendSubOption(nil, RelayCircuitID, []byte("port7")),
		AppendSubOption(nil, RelayLinkSelection, []byte{198, 18, 9, 0}),
		AppendSubOption(nil, RelayServerIDOverride, []byte{198, 18, 0, 1}),
		AppendSubOption(nil, RelayRemoteID, nil),
	)
	tests := []struct {
		name string
		info []byte
		code uint8
		want []byte
		ok   bool
	}{
		{"RFC3046 2.0 circuit-id", info, RelayCircuitID, []byte("port7"), true},
		{"RFC3046 2.0 empty remote-id", info, RelayRemoteID, []byte{}, true},
		{"RFC3046 2.0 absent sub-option", info, 9, nil, false},
		{"RFC3046 2.0 empty value", nil, RelayCircuitID, nil, false},
		{"RFC3046 2.0 malformed before the sub-option", []byte{1, 9, 0, 2, 1, 0}, RelayRemoteID, nil, false},
		{"RFC3046 2.0 first of two instances", []byte{1, 1, 'a', 1, 1, 'b'}, RelayCircuitID, []byte("a"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := SubOption(tc.info, tc.code)
			if ok != tc.ok || !bytes.Equal(got, tc.want) {
				t.Errorf("SubOption = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	if a, ok := LinkSelection(info); !ok || a != addr("198.18.9.0") {
		t.Errorf("RFC3527 LinkSelection = %v, %v", a, ok)
	}
	if a, ok := ServerIDOverride(info); !ok || a != addr("198.18.0.1") {
		t.Errorf("RFC5107 ServerIDOverride = %v, %v", a, ok)
	}
	bad := AppendSubOption(nil, RelayLinkSelection, []byte{198, 18, 9})
	if _, ok := LinkSelection(bad); ok {
		t.Error("RFC3527 LinkSelection of 3 bytes accepted")
	}
	if _, ok := ServerIDOverride(AppendSubOption(nil, RelayServerIDOverride, nil)); ok {
		t.Error("RFC5107 ServerIDOverride of 0 bytes accepted")
	}
	if got := AppendSubOption(nil, 1, make([]byte, 300)); len(got) != 257 || got[1] != 255 {
		t.Errorf("AppendSubOption of 300 bytes: length %d, sub-option length %d", len(got), got[1])
	}
}

func TestValidateSubOptions(t *testing.T) {
	tests := []struct {
		name string
		info []byte
		err  string
	}{
		{"RFC3046 2.0 well formed", []byte{1, 2, 'a', 'b', 2, 0}, ""},
		{"RFC3046 2.0 empty", nil, ""},
		{"RFC3046 2.0 code without length", []byte{1, 1, 'a', 2}, "sub-option 2 at offset 3"},
		{"RFC3046 2.0 length past the end", []byte{1, 3, 'a', 'b'}, "sub-option 1 at offset 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateSubOptions(tc.info)
			if tc.err == "" {
				if err != nil {
					t.Errorf("error %v", err)
				}
				return
			}
			if !errors.Is(err, ErrSubOption) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v, want ErrSubOption saying %q", err, tc.err)
			}
		})
	}
}

func TestUserClass(t *testing.T) {
	v, err := AppendUserClass([]byte("x"), [][]byte{[]byte("a"), bytes.Repeat([]byte("b"), 255)})
	if err != nil || !bytes.Equal(v[:3], []byte{'x', 1, 'a'}) || v[3] != 255 || len(v) != 3+256 {
		t.Fatalf("RFC3004 AppendUserClass = %q, %v", v, err)
	}
	got, err := ParseUserClass(v[1:], nil)
	if err != nil || len(got) != 2 || string(got[0]) != "a" || len(got[1]) != 255 {
		t.Errorf("RFC3004 ParseUserClass = %q, %v", got, err)
	}
	for _, bad := range [][][]byte{{nil}, {[]byte("ok"), {}}, {make([]byte, 256)}} {
		if got, err := AppendUserClass([]byte("x"), bad); !errors.Is(err, ErrUserClass) || string(got) != "x" {
			t.Errorf("AppendUserClass(%d classes) = %q, %v; want ErrUserClass, dst unchanged", len(bad), got, err)
		}
	}
	parseTests := []struct {
		name string
		in   []byte
		err  string
	}{
		{"RFC3004 4 empty value", nil, "empty value"},
		{"RFC3004 4 zero-length class", []byte{1, 'a', 0}, "offset 2"},
		{"RFC3004 4 class past the end", []byte{5, 'a'}, "offset 0"},
		{"RFC3004 4 plain text, not RFC 3004", []byte("MSFT 5.0"), "offset 0"},
	}
	for _, tc := range parseTests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseUserClass(tc.in, nil); !errors.Is(err, ErrUserClass) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v, want ErrUserClass saying %q", err, tc.err)
			}
		})
	}
}
