package dhcpv4

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/insomniacslk/dhcp/rfc1035label"
)

func TestParseClientFQDN(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    ClientFQDN // Name compared as text
		wantErr bool
	}{
		{"RFC4702 2.3.1 wire format fully qualified", []byte("\x05\x00\x00\x04host\x07example\x03net\x00"),
			ClientFQDN{Flags: FQDNEncoded | FQDNServerUpdate, Name: []byte("host.example.net")}, false},
		{"RFC4702 2.3.1 wire format partial name has no zero label", []byte("\x04\x00\x00\x04host"),
			ClientFQDN{Flags: FQDNEncoded, Name: []byte("host"), Partial: true}, false},
		{"RFC4702 2.3 ASCII partial", []byte("\x01\x00\x00host"),
			ClientFQDN{Flags: FQDNServerUpdate, Name: []byte("host"), Partial: true}, false},
		{"RFC4702 2.3 ASCII fully qualified with trailing dot", []byte("\x00\xff\xffhost.example.net."),
			ClientFQDN{RCode1: 255, RCode2: 255, Name: []byte("host.example.net")}, false},
		{"ASCII with trailing NUL", []byte("\x00\x00\x00host\x00"),
			ClientFQDN{Name: []byte("host"), Partial: true}, false},
		{"RFC4702 2.1 must-be-zero bits ignored", []byte("\xf8\x00\x00"), ClientFQDN{Flags: FQDNNoUpdate}, false},
		{"no name: the server chooses", []byte("\x05\x00\x00"), ClientFQDN{Flags: FQDNEncoded | FQDNServerUpdate}, false},
		{"root name alone is no name", []byte("\x05\x00\x00\x00"), ClientFQDN{Flags: FQDNEncoded | FQDNServerUpdate}, false},
		{"too short", []byte("\x05\x00"), ClientFQDN{}, true},
		{"RFC4702 2.3.1 compression refused", []byte("\x05\x00\x00\x04host\xc0\x03"), ClientFQDN{}, true},
		{"label past the end", []byte("\x05\x00\x00\x09host"), ClientFQDN{}, true},
		{"bytes after the zero label", []byte("\x05\x00\x00\x01a\x00\x01b"), ClientFQDN{}, true},
		{"dot inside a label", []byte("\x05\x00\x00\x03a.b\x00"), ClientFQDN{}, true},
		{"ASCII empty label", []byte("\x00\x00\x00a..b"), ClientFQDN{}, true},
		{"ASCII label over 63", append([]byte("\x00\x00\x00"), strings.Repeat("a", 64)...), ClientFQDN{}, true},
		{"wire name over 253", append([]byte("\x04\x00\x00"), bytes.Repeat([]byte("\x3f"+strings.Repeat("a", 63)), 4)...), ClientFQDN{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseClientFQDN(tc.in, nil)
			if tc.wantErr {
				if err == nil || !errors.Is(err, ErrDomainName) {
					t.Fatalf("got %+v, %v; want an error wrapping ErrDomainName", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Flags != tc.want.Flags || got.RCode1 != tc.want.RCode1 || got.RCode2 != tc.want.RCode2 ||
				string(got.Name) != string(tc.want.Name) || got.Partial != tc.want.Partial {
				t.Errorf("got %+v (name %q), want %+v (name %q)", got, got.Name, tc.want, tc.want.Name)
			}
		})
	}
}

func TestSetClientFQDN(t *testing.T) {
	tests := []struct {
		name    string
		flags   FQDNFlags
		fqdn    string
		partial bool
		want    string
	}{
		{"RFC4702 2.3.1 wire format, fully qualified", FQDNEncoded | FQDNServerUpdate, "host.example.net", false, "\x05\xff\xff\x04host\x07example\x03net\x00"},
		{"RFC4702 2.3.1 wire format, partial", FQDNEncoded, "host", true, "\x04\xff\xff\x04host"},
		{"RFC4702 2.3 ASCII, fully qualified", FQDNServerUpdate | FQDNOverride, "host.example.net", false, "\x03\xff\xffhost.example.net."},
		{"RFC4702 2.3 ASCII, partial", FQDNNoUpdate, "host", true, "\x08\xff\xffhost"},
		{"no name", FQDNEncoded | FQDNServerUpdate, "", false, "\x05\xff\xff"},
		{"must-be-zero bits cleared", 0xf0 | FQDNServerUpdate, "", false, "\x01\xff\xff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o Options
			if !o.SetClientFQDN(tc.flags, FQDNServerRCode, FQDNServerRCode, []byte(tc.fqdn), tc.partial) {
				t.Fatal("SetClientFQDN refused")
			}
			got, _ := o.Get(OptClientFQDN)
			if string(got) != tc.want {
				t.Errorf("value %q, want %q", got, tc.want)
			}
			app, err := AppendClientFQDN([]byte("x"), tc.flags, FQDNServerRCode, FQDNServerRCode, []byte(tc.fqdn), tc.partial)
			if err != nil || string(app) != "x"+tc.want {
				t.Errorf("AppendClientFQDN = %q, %v", app, err)
			}
			back, err := ParseClientFQDN(got, nil)
			if err != nil || string(back.Name) != tc.fqdn || back.Partial != (tc.partial && tc.fqdn != "") {
				t.Errorf("read back %+v (name %q), %v", back, back.Name, err)
			}
			if tc.flags&FQDNEncoded != 0 && tc.fqdn != "" {
				l, err := rfc1035label.FromBytes(got[3:])
				if err != nil || len(l.Labels) != 1 || l.Labels[0] != tc.fqdn {
					t.Errorf("oracle reads %v, %v; want [%s]", l, err, tc.fqdn)
				}
			}
		})
	}
	for _, bad := range []string{"a..b", ".a", "a.", strings.Repeat("a", 64), strings.Repeat("abc.", 64)} {
		var o Options
		if o.SetClientFQDN(FQDNEncoded, 0, 0, []byte(bad), false) || o.Has(OptClientFQDN) {
			t.Errorf("SetClientFQDN(%q) accepted", bad)
		}
		if _, err := AppendClientFQDN(nil, 0, 0, 0, []byte(bad), false); !errors.Is(err, ErrDomainName) {
			t.Errorf("AppendClientFQDN(%q) = %v, want ErrDomainName", bad, err)
		}
	}
}

func TestSetClientFQDNAllocatesNothing(t *testing.T) {
	var o Options
	name := []byte("host.example.net")
	o.SetClientFQDN(FQDNEncoded|FQDNServerUpdate, 255, 255, name, false)
	v, _ := o.Get(OptClientFQDN)
	value := append([]byte(nil), v...)
	scratch := make([]byte, 0, 256)
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		o.Reset()
		o.SetClientFQDN(FQDNEncoded|FQDNServerUpdate, 255, 255, name, false)
		_, err = ParseClientFQDN(value, scratch[:0])
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

func FuzzParseClientFQDN(f *testing.F) {
	for _, s := range []string{
		"\x05\x00\x00\x04host\x07example\x03net\x00", "\x04\x00\x00\x04host", "\x01\x00\x00host",
		"\x00\xff\xffhost.example.net.", "\x05\x00\x00", "\x05\x00\x00\x00", "\x05\x00\x00\x04host\xc0\x03",
		"\x05\x00\x00\x03a.b\x00", "\x00\x00\x00a..b", "\x0d\x00\x00\x3fa\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseClientFQDN(b, nil)
		if err != nil {
			if !errors.Is(err, ErrDomainName) {
				t.Fatalf("error %v does not wrap ErrDomainName", err)
			}
			return
		}
		if len(got.Name) > 253 {
			t.Fatalf("name of %d characters", len(got.Name))
		}
		name := string(got.Name)
		if name == "" {
			return
		}
		// What was read writes back and reads the same.
		var o Options
		if !o.SetClientFQDN(got.Flags, got.RCode1, got.RCode2, got.Name, got.Partial) {
			t.Fatalf("SetClientFQDN refused the name %q it read", name)
		}
		v, _ := o.Get(OptClientFQDN)
		again, err := ParseClientFQDN(v, nil)
		if err != nil || string(again.Name) != name || again.Partial != got.Partial || again.Flags != got.Flags {
			t.Fatalf("%q read back from %q as %+v, %v", name, v, again, err)
		}
		if got.Flags&FQDNEncoded != 0 {
			l, err := rfc1035label.FromBytes(b[3:])
			if err != nil || len(l.Labels) != 1 || l.Labels[0] != name {
				t.Fatalf("oracle reads %v, %v; ours %q", l, err, name)
			}
		}
	})
}
