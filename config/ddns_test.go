package config

import (
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func TestDDNSDefaults(t *testing.T) {
	c, err := Parse("t.yaml", []byte(validHead))
	if err != nil {
		t.Fatal(err)
	}
	want := DDNS{Protocol: "udp", Timeout: 2 * time.Second, Retries: 3, ConflictPolicy: "check-with-dhcid", Workers: 4, Queue: 4096, Rescan: time.Minute}
	if !reflect.DeepEqual(c.DDNS, want) {
		t.Errorf("global ddns %+v\nwant %+v", c.DDNS, want)
	}
	want.ReverseZone = "0.18.198.in-addr.arpa"
	if !reflect.DeepEqual(c.Subnets[0].DDNS, want) {
		t.Errorf("subnet ddns %+v\nwant %+v", c.Subnets[0].DDNS, want)
	}
	if got := (DDNS{}).WithDefaults(); !reflect.DeepEqual(got, DefaultDDNS()) {
		t.Errorf("zero DDNS with defaults %+v, want %+v", got, DefaultDDNS())
	}
}

func TestDDNSSection(t *testing.T) {
	c, err := Parse("t.yaml", []byte(lines(
		"interfaces: [eth0]",
		"ddns:",
		"  enabled: true",
		"  qualifying-suffix: Example.NET.",
		"  servers: [198.18.0.53, \"198.18.0.54:5353\", \"[2001:db8::53]:53\"]",
		"  key-file: /etc/leased/ddns.key",
		"  key-name: leased",
		"  protocol: tcp",
		"  timeout: 5s",
		"  retries: 2",
		"  conflict-policy: no-check-with-dhcid",
		"  ttl: 300",
		"  override-client-update: true",
		"  override-no-update: true",
		"  workers: 8",
		"  queue: 100",
		"  rescan: 30s",
		"subnets:",
		"  - prefix: 198.18.0.0/24",
		"    pools: [198.18.0.100-198.18.0.199]",
		"  - prefix: 198.18.16.0/20",
		"    pools: [198.18.16.100-198.18.16.199]",
		"    ddns:",
		"      qualifying-suffix: lab.example.net",
		"      reverse-zone: none",
		"      servers: [198.18.0.55]",
		"      ttl: 1m",
		"  - prefix: 198.18.32.0/24",
		"    pools: [198.18.32.100-198.18.32.199]",
		"    ddns: {enabled: false, forward-zone: other.test, qualifying-suffix: a.other.test}",
	)))
	if err != nil {
		t.Fatal(err)
	}
	g := DDNS{Enabled: true, QualifyingSuffix: "example.net", ForwardZone: "example.net",
		Servers: []netip.AddrPort{netip.MustParseAddrPort("198.18.0.53:53"), netip.MustParseAddrPort("198.18.0.54:5353"), netip.MustParseAddrPort("[2001:db8::53]:53")},
		KeyFile: "/etc/leased/ddns.key", KeyName: "leased", Protocol: "tcp", Timeout: 5 * time.Second, Retries: 2,
		ConflictPolicy: "no-check-with-dhcid", TTL: 300 * time.Second, OverrideClientUpdate: true, OverrideNoUpdate: true,
		Workers: 8, Queue: 100, Rescan: 30 * time.Second}
	if !reflect.DeepEqual(c.DDNS, g) {
		t.Errorf("global ddns %+v\nwant %+v", c.DDNS, g)
	}
	s0 := g
	s0.ReverseZone = "0.18.198.in-addr.arpa"
	s1 := g
	s1.QualifyingSuffix, s1.ForwardZone, s1.ReverseZone = "lab.example.net", "lab.example.net", "none"
	s1.Servers = []netip.AddrPort{netip.MustParseAddrPort("198.18.0.55:53")}
	s1.TTL = time.Minute
	s2 := g
	s2.Enabled, s2.QualifyingSuffix, s2.ForwardZone, s2.ReverseZone = false, "a.other.test", "other.test", "32.18.198.in-addr.arpa"
	for i, want := range []DDNS{s0, s1, s2} {
		if !reflect.DeepEqual(c.Subnets[i].DDNS, want) {
			t.Errorf("subnets[%d].ddns %+v\nwant %+v", i, c.Subnets[i].DDNS, want)
		}
	}
}

func TestReverseZoneOf(t *testing.T) {
	for _, tc := range []struct{ prefix, want string }{
		{"198.18.0.0/24", "0.18.198.in-addr.arpa"},
		{"198.18.0.0/16", "18.198.in-addr.arpa"},
		{"198.0.0.0/8", "198.in-addr.arpa"},
		{"198.18.0.0/20", "18.198.in-addr.arpa"},
		{"198.18.1.128/25", "1.18.198.in-addr.arpa"},
		{"198.18.1.7/32", "1.18.198.in-addr.arpa"},
		{"192.0.0.0/4", "in-addr.arpa"},
	} {
		if got := ReverseZoneOf(netip.MustParsePrefix(tc.prefix)); got != tc.want {
			t.Errorf("ReverseZoneOf(%s) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
}

func TestParseDNSServer(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"198.18.0.53", "198.18.0.53:53"},
		{"198.18.0.53:5353", "198.18.0.53:5353"},
		{"2001:db8::53", "[2001:db8::53]:53"},
		{"[2001:db8::53]", "[2001:db8::53]:53"},
		{"[2001:db8::53]:5353", "[2001:db8::53]:5353"},
		{"198.18.0.53:0", ""},
		{"ns.example.net", ""},
		{"198.18.0.53:99999", ""},
		{"fe80::1%eth0", ""},
		{"", ""},
	} {
		got, err := ParseDNSServer(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseDNSServer(%q) = %v, want an error", tc.in, got)
		case tc.want != "" && (err != nil || got.String() != tc.want):
			t.Errorf("ParseDNSServer(%q) = %v, %v, want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestDDNSSectionErrors(t *testing.T) {
	const on = "ddns:\n  enabled: true\n  qualifying-suffix: example.net\n  servers: [198.18.0.53]\n" // lines 5 to 8
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"bad zone name", "ddns:\n  forward-zone: exa mple.net\n",
			[]string{`t.yaml:6: ddns.forward-zone: "exa mple.net" is not a domain name (labels of letters, digits, '-' and '_', 1 to 63 characters each, 253 in all)`}},
		{"empty label", "ddns:\n  qualifying-suffix: example..net\n",
			[]string{`t.yaml:6: ddns.qualifying-suffix: "example..net" is not a domain name (labels of letters, digits, '-' and '_', 1 to 63 characters each, 253 in all)`}},
		{"server not host:port", "ddns:\n  servers: [ns1.example.net]\n",
			[]string{`t.yaml:6: ddns.servers[0]: "ns1.example.net" is not a DNS server address such as 198.18.0.53 or 198.18.0.53:5353`}},
		{"servers not a list", "ddns:\n  servers: 198.18.0.53\n",
			[]string{`t.yaml:6: ddns.servers: want a list of DNS server addresses such as 198.18.0.53 or 198.18.0.53:5353, got the string "198.18.0.53" (write [198.18.0.53] for a list of one)`}},
		{"unknown protocol", "ddns:\n  protocol: quic\n", []string{`t.yaml:6: ddns.protocol: want udp or tcp, got "quic"`}},
		{"unknown policy", "ddns:\n  conflict-policy: overwrite\n",
			[]string{`t.yaml:6: ddns.conflict-policy: want check-with-dhcid or no-check-with-dhcid, got "overwrite"`}},
		{"enabled without servers", "ddns:\n  enabled: true\n  qualifying-suffix: example.net\n",
			[]string{"t.yaml:5: ddns.servers: dynamic DNS updates need at least one server to send them to"}},
		{"enabled without a zone", "ddns:\n  enabled: true\n  servers: [198.18.0.53]\n",
			[]string{"t.yaml:5: ddns.forward-zone: dynamic DNS updates need a forward-zone or a qualifying-suffix"}},
		{"subnet enabled without servers", "    ddns:\n      enabled: true\n      qualifying-suffix: example.net\n",
			[]string{"t.yaml:5: subnets[0].ddns.servers: dynamic DNS updates need at least one server to send them to"}},
		{"suffix outside the forward zone", on + "  forward-zone: example.org\n",
			[]string{"t.yaml:7: ddns.qualifying-suffix: example.net is not inside the forward zone example.org: the names it makes could not be updated"}},
		{"global-only key in a subnet", "    ddns:\n      workers: 2\n",
			[]string{"t.yaml:6: subnets[0].ddns.workers: applies to the whole server: set it in the top-level ddns section"}},
		{"zero timeout", "ddns:\n  timeout: 0s\n", []string{"t.yaml:6: ddns.timeout: must be positive, got 0s"}},
		{"long timeout", "ddns:\n  timeout: 2m\n", []string{"t.yaml:6: ddns.timeout: must be positive and at most 1m, got 2m"}},
		{"fractional ttl", "ddns:\n  ttl: 1.5s\n", []string{"t.yaml:6: ddns.ttl: must be a whole number of seconds from 0 to 596523h14m7s, got 1.5s"}},
		{"retries out of range", "ddns:\n  retries: 0\n", []string{"t.yaml:6: ddns.retries: 0 is out of range 1 to 20"}},
		{"short rescan", "ddns:\n  rescan: 10ms\n", []string{"t.yaml:6: ddns.rescan: must be at least 1s, got 10ms"}},
		{"unknown key", "ddns:\n  server: [198.18.0.53]\n", []string{"t.yaml:6: ddns.server: unknown key (did you mean servers?)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, "t.yaml", validHead+tc.input, tc.want...)
		})
	}
}

// A subnet inheriting a faulty global block is not reported again: the
// global key is the one to fix.
func TestDDNSInheritedErrorsReportedOnce(t *testing.T) {
	checkErrors(t, "t.yaml", lines(
		"interfaces: [eth0]",
		"ddns: {enabled: true, qualifying-suffix: example.net}",
		"subnets:",
		"  - prefix: 198.18.0.0/24",
		"    pools: [198.18.0.100-198.18.0.199]",
		"  - prefix: 198.18.1.0/24",
		"    pools: [198.18.1.100-198.18.1.199]",
	), "t.yaml:2: ddns.servers: dynamic DNS updates need at least one server to send them to")
}

func TestDDNSValidateGoConfig(t *testing.T) {
	c, err := NewQuick(Quick{Interface: "eth0", Prefix: netip.MustParsePrefix("198.18.0.0/24"),
		Pool: Range{First: netip.MustParseAddr("198.18.0.100"), Last: netip.MustParseAddr("198.18.0.199")}})
	if err != nil {
		t.Fatal(err)
	}
	c.Subnets[0].DDNS = DDNS{Enabled: true, QualifyingSuffix: "Example.net", Servers: []netip.AddrPort{netip.MustParseAddrPort("198.18.0.53:53")}, ForwardZone: "example.net"}
	err = c.Validate()
	if err == nil || err.Error() != `subnets[0].ddns.qualifying-suffix: "Example.net" is not a domain name in lower case without a trailing dot` {
		t.Errorf("Validate = %v", err)
	}
	c.Subnets[0].DDNS.QualifyingSuffix = "example.net"
	if err := c.Validate(); err != nil {
		t.Errorf("Validate = %v, want nil for a zero-defaulted block", err)
	}
}
