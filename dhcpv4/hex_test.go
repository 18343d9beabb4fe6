package dhcpv4

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseHex(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []byte
		ok   bool
	}{
		{"plain", "0a0b0c", []byte{10, 11, 12}, true},
		{"colon-separated", "0a:0b:0c", []byte{10, 11, 12}, true},
		{"hyphen-separated", "0a-0b-0c", []byte{10, 11, 12}, true},
		{"upper case", "0A:FF", []byte{10, 255}, true},
		{"one byte", "ff", []byte{255}, true},
		{"empty is zero bytes", "", []byte{}, true},
		{"odd number of digits", "0a0", nil, false},
		{"one-digit pair", "0a:b:0c", nil, false},
		{"empty pair (the client command used to drop stray colons)", "0a::0c", nil, false},
		{"pairs grouped by two (the client command used to accept it)", "0a0b:0c0d", nil, false},
		{"leading separator", ":0a", nil, false},
		{"trailing separator", "0a:", nil, false},
		{"separator only", ":", nil, false},
		{"mixed separators", "0a:0b-0c", nil, false},
		{"not hex", "zz", nil, false},
		{"not hex, separated", "0a:zz", nil, false},
		{"sign", "+1:02", nil, false},
		{"space", "0a 0b", nil, false},
	} {
		got, err := ParseHex(tc.in)
		if (err == nil) != tc.ok || tc.ok && (!bytes.Equal(got, tc.want) || got == nil) {
			t.Errorf("%s: ParseHex(%q) = %#v, %v; want %#v, ok %v", tc.name, tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrHex) {
			t.Errorf("%s: ParseHex(%q) error %v is not ErrHex", tc.name, tc.in, err)
		}
	}
}

func TestFormatHex(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{nil, ""},
		{[]byte{1}, "01"},
		{[]byte{1, 2, 0xab, 0xff}, "01:02:ab:ff"},
	} {
		if got := FormatHex(tc.in); got != tc.want {
			t.Errorf("FormatHex(% x) = %q, want %q", tc.in, got, tc.want)
		}
		if back, err := ParseHex(tc.want); err != nil || !bytes.Equal(back, tc.in) {
			t.Errorf("ParseHex(FormatHex(% x)) = % x, %v", tc.in, back, err)
		}
	}
	if got := string(AppendHex([]byte("id="), []byte{0xa, 0xb})); got != "id=0a:0b" {
		t.Errorf("AppendHex = %q", got)
	}
}

func FuzzParseHex(f *testing.F) {
	for _, s := range []string{"01:02:0a", "01-02", "0102", "", "0:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseHex(s)
		if err != nil {
			return
		}
		back, err := ParseHex(FormatHex(b))
		if err != nil || !bytes.Equal(back, b) {
			t.Errorf("ParseHex(%q) = % x, but round trip gives % x, %v", s, b, back, err)
		}
	})
}
