package config

import (
	"net/netip"
	"testing"
	"time"

	"leased/dhcpv4"
)

func TestParseClientClasses(t *testing.T) {
	c, err := Parse("t.yaml", []byte(lines(
		"interfaces: [eth0]",
		"client-classes:",
		"  - name: ipxe",
		"    match: {user-class: iPXE}",
		"    boot: {file: \"http://198.18.5.1/boot.ipxe\"}",
		"  - name: uefi-x64",
		"    match: {arch: [7, 9]}",
		"    boot: {next-server: 198.18.5.1, file: ipxe.efi, server-name: boot}",
		"  - name: phones",
		"    match: {vendor-class-prefix: Cisco Systems, option: 150}",
		"    options: {tftp-server-name: 198.18.5.20}",
		"    lease-time: 8h",
		"    renewal-time: 1h",
		"  - name: guests",
		"    match:",
		"      any-of:",
		"        - hw-prefix: \"02:00:5e\"",
		"        - not: {class: phones}",
		"        - circuit-id: {hex: \"0a0b\"}",
		"        - all-of: [{subnet: 198.18.5.0/24}, {hostname: \"guest-*\"}, {interface: eth0}]",
		"    ignore: true",
		"subnets:",
		"  - prefix: 198.18.5.0/24",
		"    boot: {next-server: 198.18.5.2}",
		"    pools:",
		"      - {range: 198.18.5.100-198.18.5.149, classes: [phones]}",
		"      - {range: 198.18.5.150-198.18.5.199, deny-classes: [guests], relay-match: {remote-id: r1}}",
		"    reservations:",
		"      - {hw-address: 02:00:00:00:00:01, address: 198.18.5.10, classes: [phones], boot: {file: special.kpxe}}",
	)))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ClientClasses) != 4 {
		t.Fatalf("%d classes, want 4", len(c.ClientClasses))
	}
	ipxe, uefi, phones, guests := c.ClientClasses[0], c.ClientClasses[1], c.ClientClasses[2], c.ClientClasses[3]
	if ipxe.Match.Kind != MatchUserClass || ipxe.Match.Text != "iPXE" || ipxe.Boot.File != "http://198.18.5.1/boot.ipxe" {
		t.Errorf("ipxe: %+v", ipxe)
	}
	if uefi.Match.Kind != MatchArch || len(uefi.Match.Values) != 2 || uefi.Match.Values[1] != 9 ||
		uefi.Boot != (Boot{NextServer: netip.MustParseAddr("198.18.5.1"), ServerName: "boot", File: "ipxe.efi"}) {
		t.Errorf("uefi-x64: %+v", uefi)
	}
	if phones.Match.Kind != MatchAllOf || len(phones.Match.Of) != 2 || phones.Match.Of[1].Code != 150 ||
		phones.LeaseTime != 8*time.Hour || phones.T1 != time.Hour || len(phones.Options) != 1 || phones.Options[0].Code != dhcpv4.OptTFTPServerName {
		t.Errorf("phones: %+v", phones)
	}
	m := guests.Match
	if !guests.Ignore || m.Kind != MatchAnyOf || len(m.Of) != 4 || m.Of[0].Text != "\x02\x00\x5e" ||
		m.Of[1].Kind != MatchNot || m.Of[1].Of[0].Kind != MatchClass || m.Of[2].Text != "\x0a\x0b" || len(m.Of[3].Of) != 3 {
		t.Errorf("guests: %+v", guests)
	}
	s := c.Subnets[0]
	if s.Boot.NextServer != netip.MustParseAddr("198.18.5.2") || len(s.Pools[0].Classes) != 1 || s.Pools[1].DenyClasses[0] != "guests" ||
		s.Pools[1].Match.RemoteID != "r1" || s.Reservations[0].Classes[0] != "phones" || s.Reservations[0].Boot.File != "special.kpxe" {
		t.Errorf("subnet: %+v", s)
	}
}

func TestParseClientClassErrors(t *testing.T) {
	head := []string{"interfaces: [eth0]", "subnets:", "  - prefix: 198.18.0.0/24", "    pools: [198.18.0.100-198.18.0.199]", "client-classes:"}
	tests := []struct {
		name  string
		input []string
		want  []string
	}{
		{"class named before it is defined", []string{
			"  - {name: a, match: {class: b}}",
			"  - {name: b, match: {option: 12}}",
		}, []string{`t.yaml:6: client-classes[0].match.class: unknown class "b": a match may name only a class defined before it`}},
		{"class matching itself", []string{
			"  - name: a",
			"    match: {not: {class: a}}",
		}, []string{`t.yaml:7: client-classes[0].match.not.class: class "a" cannot match itself`}},
		{"bad glob", []string{
			"  - {name: a, match: {hostname: \"[a-\"}}",
		}, []string{`t.yaml:6: client-classes[0].match.hostname: "[a-" is not a glob such as printer-* (path.Match syntax)`}},
		{"duplicate and bad names", []string{
			"  - {name: a, match: {option: 12}}",
			"  - {name: a, match: {option: 12}}",
			"  - {name: Bad_Name, match: {option: 12}}",
		}, []string{
			"t.yaml:7: client-classes[1].name: a is already defined at client-classes[0]",
			`t.yaml:8: client-classes[2].name: "Bad_Name" is not a class name (1 to 64 characters of a-z, 0-9 and -)`,
		}},
		{"unknown match key", []string{
			"  - {name: a, match: {vendor-klass: x}}",
		}, []string{"t.yaml:6: client-classes[0].match.vendor-klass: unknown key (did you mean vendor-class?)"}},
		{"empty match", []string{
			"  - {name: a, match: {}}",
		}, []string{"t.yaml:6: client-classes[0].match: a match needs at least one of vendor-class, vendor-class-prefix, user-class, arch, circuit-id, remote-id, subscriber-id, hw-prefix, interface, subnet, hostname, option, class, all-of, any-of, not"}},
		{"arch out of range", []string{
			"  - {name: a, match: {arch: [7, 70000]}}",
		}, []string{"t.yaml:6: client-classes[0].match.arch[1]: 70000 is out of range 0 to 65535"}},
		{"boot fields too long and next-server not unicast", []string{
			"  - name: a",
			"    match: {option: 12}",
			"    boot: {next-server: 255.255.255.255, server-name: " + string(make64('s')) + "}",
		}, []string{
			"t.yaml:8: client-classes[0].boot.next-server: 255.255.255.255 is not a unicast IPv4 address",
			"t.yaml:8: client-classes[0].boot.server-name: must be at most 63 bytes, without NUL (it goes in the 64-byte sname field)",
		}},
		{"option 60 stays refused in a class", []string{
			"  - name: a",
			"    match: {option: 12}",
			"    options: {vendor-class: PXEClient}",
		}, []string{"t.yaml:8: client-classes[0].options.vendor-class: vendor-class cannot be configured as an option: clients send it (RFC 2132 §9.13)"}},
		{"class lease times out of order", []string{
			"  - name: a",
			"    match: {option: 12}",
			"    lease-time: 1h",
			"    renewal-time: 2h",
		}, []string{"t.yaml:9: client-classes[0].renewal-time: renewal-time 2h must be less than rebinding-time 52m30s (by default 7/8 of lease-time 1h)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, "t.yaml", lines(append(append([]string{}, head...), tt.input...)...), tt.want...)
		})
	}
}

func make64(c byte) []byte {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return b
}

func TestParseClassNamesOfPoolsAndReservations(t *testing.T) {
	checkErrors(t, "t.yaml", lines(
		"interfaces: [eth0]",
		"client-classes:",
		"  - {name: phones, match: {vendor-class: phone}}",
		"  - {name: guests, match: {hw-prefix: \"02:00:5e\"}, ignore: true}",
		"subnets:",
		"  - prefix: 198.18.0.0/24",
		"    pools:",
		"      - {range: 198.18.0.100-198.18.0.199, classes: [phone]}",
		"    reservations:",
		"      - {hw-address: 02:00:00:00:00:01, address: 198.18.0.10, classes: [guests]}",
	),
		`t.yaml:8: subnets[0].pools[0].classes[0]: unknown class "phone" (did you mean phones?)`,
		"t.yaml:10: subnets[0].reservations[0].classes[0]: class guests ignores its clients: a reservation cannot be in it (match the client in the class instead)",
	)
}

func TestParsePoolOptions(t *testing.T) {
	c, err := Parse("t.yaml", []byte(lines(
		"interfaces: [eth0]",
		"subnets:",
		"  - prefix: 198.18.5.0/24",
		"    pools:",
		"      - {range: 198.18.5.100-198.18.5.149, options: {domain-name: pool.example, ntp-servers: [198.18.5.123]}}",
		"      - 198.18.5.150-198.18.5.199",
	)))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Subnets[0].Pools
	if len(p[0].Options) != 2 || p[0].Options[0].Code != dhcpv4.OptDomainName || string(p[0].Options[0].Value) != "pool.example" || len(p[1].Options) != 0 {
		t.Errorf("pools: %+v", p)
	}
	checkErrors(t, "t.yaml", lines(
		"interfaces: [eth0]",
		"subnets:",
		"  - prefix: 198.18.5.0/24",
		"    pools:",
		"      - {range: 198.18.5.100-198.18.5.149, options: {lease-time: 60}}",
	), "t.yaml:5: subnets[0].pools[0].options.lease-time: lease-time cannot be configured as an option: use the lease-time key")
}
