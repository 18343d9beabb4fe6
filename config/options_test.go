package config

import (
	"bytes"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"leased/dhcpv4"
)

// parseOptions parses a configuration whose global options are the given
// YAML lines, and returns them loaded into a dhcpv4.Options so that the
// tests read them back with the getters of the wire package.
func parseOptions(t *testing.T, optionLines ...string) *dhcpv4.Options {
	t.Helper()
	input := validHead + "options:\n"
	for _, l := range optionLines {
		input += "  " + l + "\n"
	}
	c, err := Parse("t.yaml", []byte(input))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var o dhcpv4.Options
	for _, opt := range c.Defaults.Options {
		if !o.Set(opt.Code, opt.Value) {
			t.Fatalf("option %v does not fit", opt.Code)
		}
	}
	return &o
}

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

// TestNamedOptionsWire writes every configurable named option in the file
// format and reads its wire value back with the dhcpv4 getters.
func TestNamedOptionsWire(t *testing.T) {
	wantAddrs := func(c dhcpv4.OptionCode, want ...string) func(*testing.T, *dhcpv4.Options) {
		return func(t *testing.T, o *dhcpv4.Options) {
			got, ok := o.Addrs(c, nil)
			if !ok || !slices.Equal(got, addrs(want...)) {
				t.Errorf("%v = %v, want %v", c, got, want)
			}
		}
	}
	wantAddr := func(c dhcpv4.OptionCode, want string) func(*testing.T, *dhcpv4.Options) {
		return func(t *testing.T, o *dhcpv4.Options) {
			if got, ok := o.Addr(c); !ok || got != netip.MustParseAddr(want) {
				t.Errorf("%v = %v, want %v", c, got, want)
			}
		}
	}
	wantText := func(c dhcpv4.OptionCode, want string) func(*testing.T, *dhcpv4.Options) {
		return func(t *testing.T, o *dhcpv4.Options) {
			if got, ok := o.Get(c); !ok || string(got) != want {
				t.Errorf("%v = %q, want %q", c, got, want)
			}
		}
	}
	wantBytes := func(c dhcpv4.OptionCode, want ...byte) func(*testing.T, *dhcpv4.Options) {
		return func(t *testing.T, o *dhcpv4.Options) {
			if got, ok := o.Get(c); !ok || !bytes.Equal(got, want) {
				t.Errorf("%v = % x, want % x", c, got, want)
			}
		}
	}
	wantUint8 := func(c dhcpv4.OptionCode, want uint8) func(*testing.T, *dhcpv4.Options) {
		return func(t *testing.T, o *dhcpv4.Options) {
			if got, ok := o.Uint8(c); !ok || got != want {
				t.Errorf("%v = %d, want %d", c, got, want)
			}
		}
	}
	wantUint16 := func(c dhcpv4.OptionCode, want uint16) func(*testing.T, *dhcpv4.Options) {
		return func(t *testing.T, o *dhcpv4.Options) {
			if got, ok := o.Uint16(c); !ok || got != want {
				t.Errorf("%v = %d, want %d", c, got, want)
			}
		}
	}
	wantInt32 := func(c dhcpv4.OptionCode, want int32) func(*testing.T, *dhcpv4.Options) {
		return func(t *testing.T, o *dhcpv4.Options) {
			if got, ok := o.Uint32(c); !ok || int32(got) != want {
				t.Errorf("%v = %d, want %d", c, int32(got), want)
			}
		}
	}
	tests := []struct {
		code  dhcpv4.OptionCode
		yaml  string
		check func(*testing.T, *dhcpv4.Options)
	}{
		{dhcpv4.OptSubnetMask, "subnet-mask: 255.255.254.0", wantAddr(dhcpv4.OptSubnetMask, "255.255.254.0")},
		{dhcpv4.OptTimeOffset, "time-offset: -18000", wantInt32(dhcpv4.OptTimeOffset, -18000)},
		{dhcpv4.OptRouter, "routers: [198.18.0.1, 198.18.0.2]", wantAddrs(dhcpv4.OptRouter, "198.18.0.1", "198.18.0.2")},
		{dhcpv4.OptTimeServer, "time-servers: [198.18.0.37]", wantAddrs(dhcpv4.OptTimeServer, "198.18.0.37")},
		{dhcpv4.OptNameServer, "name-servers: [198.18.0.42]", wantAddrs(dhcpv4.OptNameServer, "198.18.0.42")},
		{dhcpv4.OptDNSServers, "dns-servers: [198.18.0.53, 198.18.0.54]", wantAddrs(dhcpv4.OptDNSServers, "198.18.0.53", "198.18.0.54")},
		{dhcpv4.OptLogServer, "log-servers: [198.18.0.14]", wantAddrs(dhcpv4.OptLogServer, "198.18.0.14")},
		{dhcpv4.OptHostName, "host-name: printer", wantText(dhcpv4.OptHostName, "printer")},
		{dhcpv4.OptBootFileSize, "boot-file-size: 1024", wantUint16(dhcpv4.OptBootFileSize, 1024)},
		{dhcpv4.OptDomainName, "domain-name: example.net", wantText(dhcpv4.OptDomainName, "example.net")},
		{dhcpv4.OptRootPath, "root-path: /srv/nfs/root", wantText(dhcpv4.OptRootPath, "/srv/nfs/root")},
		{dhcpv4.OptIPForwarding, "ip-forwarding: true", wantUint8(dhcpv4.OptIPForwarding, 1)},
		{dhcpv4.OptDefaultTTL, "default-ip-ttl: 64", wantUint8(dhcpv4.OptDefaultTTL, 64)},
		{dhcpv4.OptInterfaceMTU, "interface-mtu: 9000", wantUint16(dhcpv4.OptInterfaceMTU, 9000)},
		{dhcpv4.OptBroadcastAddress, "broadcast-address: 198.18.0.255", wantAddr(dhcpv4.OptBroadcastAddress, "198.18.0.255")},
		{dhcpv4.OptStaticRoutes, "static-routes: [{destination: 198.19.0.1, router: 198.18.0.1}, 198.19.0.2 via 198.18.0.2]",
			wantAddrs(dhcpv4.OptStaticRoutes, "198.19.0.1", "198.18.0.1", "198.19.0.2", "198.18.0.2")},
		{dhcpv4.OptNISDomain, "nis-domain: corp", wantText(dhcpv4.OptNISDomain, "corp")},
		{dhcpv4.OptNISServers, "nis-servers: [198.18.0.41]", wantAddrs(dhcpv4.OptNISServers, "198.18.0.41")},
		{dhcpv4.OptNTPServers, "ntp-servers: [198.18.0.123]", wantAddrs(dhcpv4.OptNTPServers, "198.18.0.123")},
		{dhcpv4.OptVendorSpecific, `vendor-specific: "01:04:c0:a8:00:01"`, wantBytes(dhcpv4.OptVendorSpecific, 1, 4, 0xc0, 0xa8, 0, 1)},
		{dhcpv4.OptNetBIOSNameServers, "netbios-name-servers: [198.18.0.139]", wantAddrs(dhcpv4.OptNetBIOSNameServers, "198.18.0.139")},
		{dhcpv4.OptNetBIOSNodeType, "netbios-node-type: 8", wantUint8(dhcpv4.OptNetBIOSNodeType, 8)},
		{dhcpv4.OptNetBIOSScope, "netbios-scope: corp.example", wantText(dhcpv4.OptNetBIOSScope, "corp.example")},
		{dhcpv4.OptTFTPServerName, "tftp-server-name: boot.example.net", wantText(dhcpv4.OptTFTPServerName, "boot.example.net")},
		{dhcpv4.OptBootfileName, "bootfile-name: pxelinux.0", wantText(dhcpv4.OptBootfileName, "pxelinux.0")},
		{dhcpv4.OptDomainSearch, "domain-search: [example.net, lab.example.net]", func(t *testing.T, o *dhcpv4.Options) {
			v, _ := o.Get(dhcpv4.OptDomainSearch)
			names, err := dhcpv4.ParseDomainList(v, nil)
			if err != nil || !slices.Equal(names, []string{"example.net", "lab.example.net"}) {
				t.Errorf("domain-search = %q, %v", names, err)
			}
			// RFC 3397 compression: the second name ends in a pointer to
			// the first.
			if want := 13 + 4 + 2; len(v) != want {
				t.Errorf("domain-search is %d bytes, want %d with compression", len(v), want)
			}
		}},
		{dhcpv4.OptClasslessRoutes, "classless-routes: [{destination: 0.0.0.0/0, router: 198.18.0.1}, 198.19.0.0/16 via 198.18.0.254]", func(t *testing.T, o *dhcpv4.Options) {
			v, _ := o.Get(dhcpv4.OptClasslessRoutes)
			routes, err := dhcpv4.ParseClasslessRoutes(v, nil)
			want := []dhcpv4.Route{
				{Dest: netip.MustParsePrefix("0.0.0.0/0"), Router: netip.MustParseAddr("198.18.0.1")},
				{Dest: netip.MustParsePrefix("198.19.0.0/16"), Router: netip.MustParseAddr("198.18.0.254")},
			}
			if err != nil || !slices.Equal(routes, want) {
				t.Errorf("classless-routes = %v, %v; want %v", routes, err, want)
			}
		}},
	}
	tested := make(map[dhcpv4.OptionCode]bool)
	for _, tt := range tests {
		tested[tt.code] = true
		t.Run(tt.code.String(), func(t *testing.T) {
			o := parseOptions(t, tt.yaml)
			if o.Len() != 1 {
				t.Errorf("%d options, want 1", o.Len())
			}
			tt.check(t, o)
		})
	}
	for c, s := range namedOptions {
		if s.kind != kindRefused && !tested[c] {
			t.Errorf("named option %v has no round-trip case", c)
		}
	}
}

// TestEveryNamedCodeDecided checks that each option code package dhcpv4
// names is either configurable by name here, with a known value type, or
// refused with a reason.
func TestEveryNamedCodeDecided(t *testing.T) {
	for i := range 256 {
		c := dhcpv4.OptionCode(i)
		if c.String() == "option-"+strconv.Itoa(i) {
			continue
		}
		if _, ok := namedOptions[c]; !ok {
			t.Errorf("option %d is named %q by package dhcpv4 but has no entry in namedOptions: give it a value kind or a reason to refuse it", i, c)
		}
	}
}

func TestTypedOptionsWire(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []byte
	}{
		{"ip", "option-224: {ip: 198.18.0.9}", []byte{198, 18, 0, 9}},
		{"ips", "option-224: {ips: [198.18.0.9, 198.18.0.10]}", []byte{198, 18, 0, 9, 198, 18, 0, 10}},
		{"string", `option-224: {string: "a b"}`, []byte("a b")},
		{"uint8", "option-224: {uint8: 255}", []byte{255}},
		{"uint16", "option-224: {uint16: 0x1234}", []byte{0x12, 0x34}},
		{"uint32", "option-224: {uint32: 4294967295}", []byte{0xff, 0xff, 0xff, 0xff}},
		{"bool false", "option-224: {bool: false}", []byte{0}},
		{"bool true", "option-224: {bool: true}", []byte{1}},
		{"hex with colons", `option-224: {hex: "0a:0B:0c"}`, []byte{10, 11, 12}},
		{"hex plain digits", "option-224: {hex: 010203}", []byte{1, 2, 3}},
		{"hex empty is a zero-length option", `option-224: {hex: ""}`, []byte{}},
		{"code 254", "option-254: {uint8: 1}", []byte{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := parseOptions(t, tt.yaml)
			code := o.Codes()[0]
			if got, ok := o.Get(code); !ok || !bytes.Equal(got, tt.want) {
				t.Errorf("%v = % x, want % x", code, got, tt.want)
			}
		})
	}
}

// TestRefusedOptions checks that every option the server controls itself
// is refused, by name and by code.
func TestRefusedOptions(t *testing.T) {
	n := 0
	for c, s := range namedOptions {
		if s.kind != kindRefused {
			continue
		}
		n++
		for _, name := range []string{c.String(), "option-" + strconv.Itoa(int(c))} {
			input := validHead + "options:\n  " + name + ": {hex: 00}\n"
			_, err := Parse("t.yaml", []byte(input))
			want := "t.yaml:6: options." + name + ": " + c.String() + " cannot be configured as an option: " + s.refused
			if err == nil || err.Error() != want {
				t.Errorf("%s: %v, want %s", name, err, want)
			}
		}
		// Validate refuses it in a Config built in Go too.
		cfg := validConfig()
		cfg.Subnets[0].Options = []Option{{Code: c, Value: []byte{0}}}
		want := "subnets[0].options." + c.String() + ": " + c.String() + " cannot be configured as an option: " + s.refused
		if err := cfg.Validate(); err == nil || err.Error() != want {
			t.Errorf("Validate with %v: %v, want %s", c, err, want)
		}
	}
	if n < 15 {
		t.Errorf("only %d refused options", n)
	}
}

func TestMergeOptions(t *testing.T) {
	base := []Option{{dhcpv4.OptDNSServers, []byte{1, 1, 1, 1}}, {dhcpv4.OptDomainName, []byte("a")}}
	over := []Option{{dhcpv4.OptDomainName, []byte("b")}, {dhcpv4.OptRouter, []byte{2, 2, 2, 2}}}
	got := MergeOptions(base, over)
	want := []Option{{dhcpv4.OptRouter, []byte{2, 2, 2, 2}}, {dhcpv4.OptDNSServers, []byte{1, 1, 1, 1}}, {dhcpv4.OptDomainName, []byte("b")}}
	if !slices.EqualFunc(got, want, func(a, b Option) bool { return a.Code == b.Code && bytes.Equal(a.Value, b.Value) }) {
		t.Errorf("MergeOptions = %v, want %v", got, want)
	}
	if len(base) != 2 || string(base[1].Value) != "a" {
		t.Errorf("MergeOptions changed its input: %v", base)
	}
	if got := MergeOptions(nil, nil); len(got) != 0 {
		t.Errorf("MergeOptions(nil, nil) = %v", got)
	}
}

func TestParseHex(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
		ok   bool
	}{
		{"0a0b0c", []byte{10, 11, 12}, true},
		{"0a:0b:0c", []byte{10, 11, 12}, true},
		{"", []byte{}, true},
		{"0a:b:0c", nil, false},
		{"0a0", nil, false},
		{"zz", nil, false},
		{"0a::0c", nil, false},
		{":", nil, false},
		{"0a-0b-0c", []byte{10, 11, 12}, true}, // dhcpv4.ParseHex's rule, as the control API's
	}
	for _, tt := range tests {
		got, err := parseHex(tt.in)
		if (err == nil) != tt.ok || tt.ok && !bytes.Equal(got, tt.want) {
			t.Errorf("parseHex(%q) = % x, %v; want % x, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestCheckWire checks what Validate knows of the wire value of each kind
// of named option, as a Config built in Go may hold anything.
func TestCheckWire(t *testing.T) {
	tests := []struct {
		name string
		spec optionSpec
		v    []byte
		want string // "" for valid
	}{
		{"address", optionSpec{kind: kindAddr}, []byte{198, 18, 0, 1}, ""},
		{"address too short", optionSpec{kind: kindAddr}, []byte{198, 18, 0}, "value of 3 bytes is not an IPv4 address"},
		{"mask", optionSpec{kind: kindMask}, []byte{255, 255, 255, 252}, ""},
		{"mask of all ones", optionSpec{kind: kindMask}, []byte{255, 255, 255, 255}, ""},
		{"mask of zeros", optionSpec{kind: kindMask}, []byte{0, 0, 0, 0}, "0.0.0.0 is not a subnet mask (contiguous ones, then zeros)"},
		{"mask too short", optionSpec{kind: kindMask}, []byte{255, 255, 0}, "0xffff00 is not a subnet mask (contiguous ones, then zeros)"},
		{"addresses empty", optionSpec{kind: kindAddrs}, nil, "needs at least one address"},
		{"text empty", optionSpec{kind: kindText}, nil, "empty string"},
		{"text not UTF-8", optionSpec{kind: kindText}, []byte{0xff, 'a'}, `"\xffa" is not valid UTF-8`},
		{"text with NUL", optionSpec{kind: kindText}, []byte("a\x00"), `"a\x00" contains a control character`},
		{"text UTF-8", optionSpec{kind: kindText}, []byte("résumé"), ""},
		{"domain with trailing dot", optionSpec{kind: kindDomain}, []byte("example.net."), ""},
		{"domain label starting with a hyphen", optionSpec{kind: kindDomain}, []byte("a.-b"), `"a.-b" is not a valid domain name (labels of letters, digits, '-' and '_', 1 to 63 characters each, 253 in all)`},
		{"domain label of 64", optionSpec{kind: kindDomain}, []byte(strings.Repeat("a", 64)), `"` + strings.Repeat("a", 60) + `..." is not a valid domain name (labels of letters, digits, '-' and '_', 1 to 63 characters each, 253 in all)`},
		{"domain list empty", optionSpec{kind: kindDomainList}, nil, "needs at least one domain name"},
		{"classless routes empty", optionSpec{kind: kindClasslessRoutes}, nil, "needs at least one route"},
		{"static routes empty", optionSpec{kind: kindStaticRoutes}, nil, "needs at least one route"},
		{"static routes odd length", optionSpec{kind: kindStaticRoutes}, make([]byte, 7), "value of 7 bytes is not a list of destination and router pairs"},
		{"uint16 wrong length", optionSpec{kind: kindUint16}, []byte{1, 2, 3}, "value of 3 bytes is not an integer from 0 to 65535"},
		{"int32 negative", optionSpec{kind: kindInt32}, []byte{0xff, 0xff, 0xff, 0xff}, ""},
		{"int32 wrong length", optionSpec{kind: kindInt32}, []byte{1, 2}, "value of 2 bytes is not a signed number of seconds or a duration such as -5h"},
		{"uint32", optionSpec{kind: kindUint32}, []byte{0, 0, 0, 1}, ""},
		{"bool of 2", optionSpec{kind: kindBool}, []byte{2}, "value is not a boolean (one byte, 0 or 1)"},
		{"hex empty", optionSpec{kind: kindHex}, nil, "needs at least one byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.checkWire(tt.v)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("checkWire(% x) = %v, want nil", tt.v, err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("checkWire(% x) = %v, want %s", tt.v, err, tt.want)
			}
		})
	}
}
