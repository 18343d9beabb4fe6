package config

import (
	"bytes"
	"strings"
	"testing"
	"time"

	oracle "github.com/insomniacslk/dhcp/dhcpv4"

	"leased/dhcpv4"
)

// head is the start of a valid file; tests append keys to it.
const head = "interfaces: [eth0]\nlease-store: /tmp/x\n"

// subnetWith is one subnet whose mapping gets extra lines.
func subnetWith(extra ...string) string {
	return "subnets:\n  - prefix: 198.18.0.0/24\n    pools: [198.18.0.100-198.18.0.199]\n" + indent("    ", extra...)
}

func indent(pre string, ls ...string) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(pre + l + "\n")
	}
	return b.String()
}

func optionOf(opts []Option, c dhcpv4.OptionCode) []byte {
	for _, o := range opts {
		if o.Code == c {
			return o.Value
		}
	}
	return nil
}

func TestOptionValuesEncode(t *testing.T) {
	long := strings.Repeat("x", 200)
	tests := []struct {
		name string
		file string
		code dhcpv4.OptionCode
		want []byte
	}{
		{"option definition ip by name", head + "option-definitions:\n  - {code: 224, name: my-gw, type: ip}\n" + subnetWith("options: {my-gw: 198.18.0.9}"),
			224, []byte{198, 18, 0, 9}},
		{"option definition ips, global, definitions after use", head + "options: {my-list: [198.18.0.1, 198.18.0.2]}\n" + subnetWith() + "option-definitions:\n  - {code: 225, name: my-list, type: ips}\n",
			225, []byte{198, 18, 0, 1, 198, 18, 0, 2}},
		{"option definition int32 negative", head + "option-definitions:\n  - {code: 226, name: skew, type: int32}\n" + subnetWith("options: {skew: -2}"),
			226, []byte{0xff, 0xff, 0xff, 0xfe}},
		{"option definition uint16", head + "option-definitions:\n  - {code: 227, name: port, type: uint16}\n" + subnetWith("options: {port: 8443}"),
			227, []byte{0x20, 0xfb}},
		{"option definition bool and string", head + "option-definitions:\n  - {code: 228, name: url, type: string}\n" + subnetWith("options: {url: \"http://198.18.0.2/\"}"),
			228, []byte("http://198.18.0.2/")},
		{"option definition records in field order", head + "option-definitions:\n  - {code: 229, name: pairs, type: records, fields: [{name: addr, type: ip}, {name: weight, type: uint8}]}\n" +
			subnetWith("options: {pairs: [{weight: 5, addr: 198.18.0.7}, {addr: 198.18.0.8, weight: 6}]}"),
			229, []byte{198, 18, 0, 7, 5, 198, 18, 0, 8, 6}},
		{"option definition usable in a reservation", head + "option-definitions:\n  - {code: 230, name: flag, type: bool}\n" +
			subnetWith("reservations: [{hw-address: 02:00:00:00:00:01, address: 198.18.0.5, options: {flag: true}}]"),
			230, nil}, // checked below on the reservation
		{"RFC2132 8.4 vendor-specific sub-options as code length value, in code order", head + subnetWith(
			"options: {vendor-specific: {sub-options: {2: {string: ab}, 1: {ip: 198.18.5.2}}}}"),
			dhcpv4.OptVendorSpecific, []byte{1, 4, 198, 18, 5, 2, 2, 2, 'a', 'b'}},
		{"vendor-specific as hex still accepted", head + subnetWith("options: {vendor-specific: 0a0b}"),
			dhcpv4.OptVendorSpecific, []byte{0x0a, 0x0b}},
		{"RFC3396 vendor-specific longer than 255 bytes kept whole", head + subnetWith(
			"options: {vendor-specific: {sub-options: {1: {string: "+long+"}, 2: {string: "+long+"}}}}"),
			dhcpv4.OptVendorSpecific, append(append([]byte{1, 200}, long...), append([]byte{2, 200}, long...)...)},
		{"RFC3925 4 vendor-options per enterprise", head + "vendor-options:\n  - {enterprise: 4491, sub-options: {1: {hex: 0a0b}}}\n  - {enterprise: 3561, sub-options: {3: {uint8: 7}}}\n" + subnetWith(),
			OptVIVendorSpecific, []byte{0, 0, 0x11, 0x8b, 4, 1, 2, 0x0a, 0x0b, 0, 0, 0x0d, 0xe9, 3, 3, 1, 7}},
		{"vendor-options per subnet over the global ones", head + "vendor-options: [{enterprise: 1, sub-options: {1: {uint8: 1}}}]\n" + subnetWith("vendor-options: [{enterprise: 2, sub-options: {1: {uint8: 2}}}]"),
			OptVIVendorSpecific, []byte{0, 0, 0, 2, 3, 1, 1, 2}},
		{"shared network options between global and subnet", head + "options: {domain-name: g.test, ntp-servers: [198.18.0.1]}\n" +
			"shared-networks: [{name: vlan10, subnets: [198.18.0.0/24], options: {domain-name: s.test, time-offset: 5}}]\n" +
			subnetWith("options: {time-offset: 7}"),
			dhcpv4.OptDomainName, []byte("s.test")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.yaml", []byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			s := c.Subnets[0]
			if tt.want == nil {
				if got := optionOf(s.Reservations[0].Options, tt.code); !bytes.Equal(got, []byte{1}) {
					t.Fatalf("reservation option %d = %x, want 01", tt.code, got)
				}
				return
			}
			if got := optionOf(s.Options, tt.code); !bytes.Equal(got, tt.want) {
				t.Fatalf("option %d = %x, want %x", tt.code, got, tt.want)
			}
		})
	}
}

func TestSharedNetworkPrecedence(t *testing.T) {
	c, err := Parse("t.yaml", []byte(head+"options: {domain-name: g.test, ntp-servers: [198.18.0.1]}\n"+
		"shared-networks: [{name: vlan10, subnets: [198.18.0.0/24], options: {domain-name: s.test, time-offset: 5}}]\n"+
		subnetWith("options: {time-offset: 7}")))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Subnets[0]
	for _, w := range []struct {
		code dhcpv4.OptionCode
		want []byte
	}{
		{dhcpv4.OptNTPServers, []byte{198, 18, 0, 1}}, // global only
		{dhcpv4.OptDomainName, []byte("s.test")},      // shared over global
		{dhcpv4.OptTimeOffset, []byte{0, 0, 0, 7}},    // subnet over shared
	} {
		if got := optionOf(s.Options, w.code); !bytes.Equal(got, w.want) {
			t.Errorf("%v = %x, want %x", w.code, got, w.want)
		}
	}
	if len(c.SharedNetworks) != 1 || c.SharedNetworks[0].Name != "vlan10" {
		t.Errorf("SharedNetworks = %+v", c.SharedNetworks)
	}
}

// TestVendorSpecificOracle decodes the sub-options of option 43 with
// github.com/insomniacslk/dhcp, which reads them as a TLV list.
func TestVendorSpecificOracle(t *testing.T) {
	c, err := Parse("t.yaml", []byte(head+subnetWith(
		"options: {vendor-specific: {sub-options: {1: {ip: 198.18.5.2}, 4: {hex: 0102}, 200: {uint32: 70000}}}}")))
	if err != nil {
		t.Fatal(err)
	}
	v := optionOf(c.Subnets[0].Options, dhcpv4.OptVendorSpecific)
	got := oracle.Options{}
	if err := got.FromBytes(v); err != nil {
		t.Fatalf("oracle cannot read %x: %v", v, err)
	}
	want := map[uint8][]byte{1: {198, 18, 5, 2}, 4: {1, 2}, 200: {0, 1, 0x11, 0x70}}
	if len(got) != len(want) {
		t.Fatalf("oracle read %d sub-options, want %d", len(got), len(want))
	}
	for code, w := range want {
		if !bytes.Equal(got[code], w) {
			t.Errorf("sub-option %d = %x, want %x", code, got[code], w)
		}
	}
}

func TestIPv6OnlyPreferredParses(t *testing.T) {
	c, err := Parse("t.yaml", []byte(head+subnetWith("ipv6-only-preferred: 1800s")))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Subnets[0].IPv6OnlyWait; got != 1800*time.Second {
		t.Fatalf("IPv6OnlyWait = %v, want 30m", got)
	}
}

func TestClassIPv6OnlyPreferredParses(t *testing.T) {
	c, err := Parse("t.yaml", []byte(head+"client-classes: [{name: a, ipv6-only-preferred: 1h}, {name: b, ipv6-only-preferred: off}]\n"+subnetWith()))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := c.ClientClasses[0], c.ClientClasses[1]; a.IPv6OnlyWait != time.Hour || a.IPv6OnlyOff || b.IPv6OnlyWait != 0 || !b.IPv6OnlyOff {
		t.Fatalf("classes %+v %+v", a, b)
	}
}

func TestVendorAndPolicyErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"definition clashes with a built-in code", head + "option-definitions: [{code: 6, name: my-dns, type: ips}]\n" + subnetWith(),
			[]string{"t.yaml:3: option-definitions[0].code: code 6 is the built-in option dns-servers"}},
		{"definition of a code the server sets itself", head + "option-definitions: [{code: 108, name: v6, type: uint32}]\n" + subnetWith(),
			[]string{"t.yaml:3: option-definitions[0].code: code 108 cannot be defined: use the ipv6-only-preferred key of a subnet (RFC 8925)"}},
		{"RFC3011 definition of the subnet selection option refused", head + "option-definitions: [{code: 118, name: subsel, type: ip}]\n" + subnetWith(),
			[]string{"t.yaml:3: option-definitions[0].code: code 118 cannot be defined: clients and relays send it and the server echoes it (RFC 3011)"}},
		{"definition clashes with a built-in name", head + "option-definitions: [{code: 224, name: routers, type: ips}]\n" + subnetWith(),
			[]string{"t.yaml:3: option-definitions[0].name: routers is the name of a built-in option"}},
		{"definition code defined twice", head + "option-definitions: [{code: 224, name: a, type: ip}, {code: 224, name: b, type: ip}]\n" + subnetWith(),
			[]string{"t.yaml:3: option-definitions[1]: code 224 is already defined as a"}},
		{"definition of unknown type", head + "option-definitions: [{code: 224, name: a, type: ipp}]\n" + subnetWith(),
			[]string{`t.yaml:3: option-definitions[0].type: unknown type "ipp" (did you mean ip?)`}},
		{"defined option with a value of the wrong type", head + "option-definitions: [{code: 224, name: a, type: ip}]\n" + subnetWith("options: {a: nowhere}"),
			[]string{`t.yaml:7: subnets[0].options.a: "nowhere" is not an IPv4 address`}},
		{"record missing a field", head + "option-definitions: [{code: 224, name: a, type: records, fields: [{name: x, type: ip}, {name: y, type: uint8}]}]\n" + subnetWith("options: {a: [{x: 198.18.0.1}]}"),
			[]string{"t.yaml:7: subnets[0].options.a[0]: field y is missing"}},
		{"sub-option code out of range", head + subnetWith("options: {vendor-specific: {sub-options: {255: {uint8: 1}}}}"),
			[]string{`t.yaml:6: subnets[0].options.vendor-specific.sub-options.255: "255" is not a sub-option code from 1 to 254`}},
		{"sub-option longer than 255 bytes", head + subnetWith("options: {vendor-specific: {sub-options: {1: {string: "+strings.Repeat("y", 256)+"}}}}"),
			[]string{"t.yaml:6: subnets[0].options.vendor-specific.sub-options.1: value of 256 bytes is longer than the 255 a sub-option holds"}},
		{"RFC3925 enterprise listed twice", head + "vendor-options: [{enterprise: 9, sub-options: {1: {uint8: 1}}}, {enterprise: 9, sub-options: {1: {uint8: 1}}}]\n" + subnetWith(),
			[]string{"t.yaml:3: vendor-options[1]: enterprise 9 is listed twice"}},
		{"RFC8925 option 108 refused as a raw option", head + subnetWith("options: {option-108: {uint32: 1800}}"),
			[]string{"t.yaml:6: subnets[0].options.option-108: option-108 cannot be configured as an option: use the ipv6-only-preferred key of a subnet (RFC 8925)"}},
		{"RFC8925 3.4 wait below MIN_V6ONLY_WAIT", head + subnetWith("ipv6-only-preferred: 60s"),
			[]string{"t.yaml:6: subnets[0].ipv6-only-preferred: must be at least 5m (MIN_V6ONLY_WAIT, RFC 8925 §3.4), got 1m"}},
		{"RFC8925 3.4 class wait below MIN_V6ONLY_WAIT", head + "client-classes: [{name: v6, ipv6-only-preferred: 60s}]\n" + subnetWith(),
			[]string{"t.yaml:3: client-classes[0].ipv6-only-preferred: must be at least 5m (MIN_V6ONLY_WAIT, RFC 8925 §3.4), got 1m"}},
		{"class ipv6-only-preferred neither a duration nor off", head + "client-classes: [{name: v6, ipv6-only-preferred: never}]\n" + subnetWith(),
			[]string{`t.yaml:3: client-classes[0].ipv6-only-preferred: want a duration such as 90s, 1h or 3600 (seconds), got "never"`}},
		{"shared network names an unknown subnet", head + "shared-networks: [{name: v, subnets: [198.18.9.0/24]}]\n" + subnetWith(),
			[]string{"t.yaml:3: shared-networks[0].subnets[0]: 198.18.9.0/24 is not the prefix of a subnet under subnets"}},
		{"subnet in two shared networks", head + "shared-networks: [{name: a, subnets: [198.18.0.0/24]}, {name: b, subnets: [198.18.0.0/24]}]\n" + subnetWith(),
			[]string{"t.yaml:3: shared-networks[1].subnets[0]: 198.18.0.0/24 is already in shared network a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, "t.yaml", tt.input, tt.want...)
		})
	}
}

func TestPingCheckParses(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want time.Duration
	}{
		{"off by default", "", 0},
		{"empty mapping turns it on with the default wait", "ping-check: {}", DefaultPingWait},
		{"wait as given", "ping-check: {wait: 150ms}", 150 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var extra []string
			if tt.yaml != "" {
				extra = append(extra, tt.yaml)
			}
			c, err := Parse("t.yaml", []byte(head+subnetWith(extra...)))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Subnets[0].PingCheck; got != tt.want {
				t.Fatalf("PingCheck = %v, want %v", got, tt.want)
			}
		})
	}
	checkErrors(t, "t.yaml", head+subnetWith("ping-check: {wait: 3s}"),
		"t.yaml:6: subnets[0].ping-check.wait: must be from 1ms to 2s, got 3s")
}

// TestVendorOptionsOracle reads option 125 with the parser
// github.com/insomniacslk/dhcp has for option 124, whose framing (RFC 3925
// §3 and §4: enterprise number, data length, data) is the same, then the
// sub-options of each enterprise as a TLV list.
func TestVendorOptionsOracle(t *testing.T) {
	c, err := Parse("t.yaml", []byte(head+"vendor-options:\n"+
		"  - {enterprise: 4491, sub-options: {1: {hex: 0a0b}, 2: {ip: 198.18.0.20}}}\n"+
		"  - {enterprise: 3561, sub-options: {4: {string: \"http://198.18.0.30/acs\"}}}\n"+subnetWith()))
	if err != nil {
		t.Fatal(err)
	}
	var ids oracle.VIVCIdentifiers
	if err := ids.FromBytes(optionOf(c.Subnets[0].Options, OptVIVendorSpecific)); err != nil {
		t.Fatalf("oracle cannot read option 125: %v", err)
	}
	want := []struct {
		ent  uint32
		subs map[uint8][]byte
	}{
		{4491, map[uint8][]byte{1: {0x0a, 0x0b}, 2: {198, 18, 0, 20}}},
		{3561, map[uint8][]byte{4: []byte("http://198.18.0.30/acs")}},
	}
	if len(ids) != len(want) {
		t.Fatalf("oracle read %d enterprises, want %d", len(ids), len(want))
	}
	for i, w := range want {
		if uint32(ids[i].EntID) != w.ent {
			t.Errorf("enterprise %d = %d, want %d", i, ids[i].EntID, w.ent)
		}
		subs := oracle.Options{}
		if err := subs.FromBytes(ids[i].Data); err != nil {
			t.Fatalf("enterprise %d: sub-options unreadable: %v", w.ent, err)
		}
		for code, v := range w.subs {
			if !bytes.Equal(subs[code], v) {
				t.Errorf("enterprise %d sub-option %d = %x, want %x", w.ent, code, subs[code], v)
			}
		}
	}
}
