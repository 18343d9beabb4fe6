package config

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"leased/dhcpv4"
)

// lines joins its arguments as the lines of a file, so that tests can see
// which line is which.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

// errorsOf returns the *Error values joined in err, failing the test if
// any is of another type.
func errorsOf(t *testing.T, err error) []*Error {
	t.Helper()
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	out := make([]*Error, 0, len(list))
	for _, e := range list {
		ce, ok := e.(*Error)
		if !ok {
			t.Fatalf("error %q is a %T, want *config.Error", e, e)
		}
		out = append(out, ce)
	}
	return out
}

// checkErrors asserts that Parse fails with exactly the want lines.
func checkErrors(t *testing.T, name, input string, want ...string) {
	t.Helper()
	c, err := Parse(name, []byte(input))
	if err == nil {
		t.Fatalf("Parse succeeded, want errors:\n%s", strings.Join(want, "\n"))
	}
	if c != nil {
		t.Errorf("Parse returned a Config along with errors")
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	for _, e := range errorsOf(t, err) {
		if e.File != name {
			t.Errorf("error %q: File = %q, want %q", e, e.File, name)
		}
	}
}

// A valid file to start from: lines 1 to 4.
const validHead = "interfaces: [eth0]\nsubnets:\n  - prefix: 198.18.0.0/24\n    pools: [198.18.0.100-198.18.0.199]\n"

func TestParseDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"YAML syntax error names file and line", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: [198.18.0.0/24",
		), []string{"t.yaml:3: invalid YAML: did not find expected ',' or ']'"}},
		{"YAML scanner error line", lines(
			"interfaces: [eth0]",
			"lease-time 1h",
			"offer-hold: 30s",
		), []string{"t.yaml:2: invalid YAML: could not find expected ':'"}},
		{"YAML block mapping error line", lines(
			"interfaces: [eth0]",
			"- subnets",
		), []string{"t.yaml:2: invalid YAML: did not find expected key"}},
		{"YAML unterminated string", lines(
			"interfaces: [eth0]",
			`lease-store: "/var/lib`,
		), []string{"t.yaml:2: invalid YAML: found unexpected end of stream"}},
		{"YAML parser error on the first line", "interfaces: [eth0",
			[]string{"t.yaml:1: invalid YAML: did not find expected ',' or ']'"}},
		{"YAML parser error at the end of the file", lines(
			"interfaces: [eth0",
		), []string{"t.yaml:1: invalid YAML: did not find expected ',' or ']'"}},
		{"second YAML document refused", lines(
			"interfaces: [eth0]",
			"---",
			"interfaces: [eth1]",
		), []string{"t.yaml:2: a second YAML document: the configuration is one document"}},
		{"top level must be a mapping", lines(
			"- interfaces",
		), []string{"t.yaml:1: want a mapping of settings, got a list"}},
		{"unknown top-level key with suggestion", lines(
			"interfaces: [eth0]",
			"lease_time: 1h",
		), []string{"t.yaml:2: lease_time: unknown key (did you mean lease-time?)"}},
		{"unknown subnet key with suggestion", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    pool: [198.18.0.10-198.18.0.20]",
		), []string{"t.yaml:4: subnets[0].pool: unknown key (did you mean pools?)"}},
		{"unknown key without a close match", lines(
			"interfaces: [eth0]",
			"colour: blue",
		), []string{"t.yaml:2: colour: unknown key"}},
		{"unknown reservation key", validHead + lines(
			"    reservations:",
			"      - mac: 02:00:00:00:00:01",
		), []string{"t.yaml:6: subnets[0].reservations[0].mac: unknown key"}},
		{"duplicate key refused", lines(
			"interfaces: [eth0]",
			"lease-time: 1h",
			"lease-time: 2h",
		), []string{"t.yaml:3: lease-time: duplicate key (first at line 2)"}},
		{"duration got a list", lines(
			"interfaces: [eth0]",
			"lease-time: [1h]",
		), []string{"t.yaml:2: lease-time: want a duration such as 90s, 1h or 3600 (seconds), or infinite, got a list"}},
		{"duration got nothing", lines(
			"interfaces: [eth0]",
			"offer-hold:",
		), []string{"t.yaml:2: offer-hold: want a duration such as 90s, 1h or 3600 (seconds), got nothing"}},
		{"duration with a day unit gets a hint", lines(
			"interfaces: [eth0]",
			"decline-probation: 1d",
		), []string{`t.yaml:2: decline-probation: want a duration such as 90s, 1h or 3600 (seconds), got "1d" (there is no d unit: write 24h for a day)`}},
		{"duration as a float refused", lines(
			"interfaces: [eth0]",
			"offer-hold: 1.5",
		), []string{"t.yaml:2: offer-hold: want a duration such as 90s, 1h or 3600 (seconds), got the number 1.5"}},
		{"pool-start-percent out of range", lines(
			"interfaces: [eth0]",
			"pool-start-percent: 100",
		), []string{"t.yaml:2: pool-start-percent: 100 is out of range 0 to 99"}},
		{"explicit zero renewal-time refused", lines(
			"interfaces: [eth0]",
			"renewal-time: 0",
		), []string{"t.yaml:2: renewal-time: must be positive, got 0s"}},
		{"list got a string, with a hint", lines(
			"interfaces: eth0",
		), []string{`t.yaml:1: interfaces: want a list of interface names, got the string "eth0" (write [eth0] for a list of one)`}},
		{"string got a mapping", lines(
			"interfaces: [eth0]",
			"lease-store: {path: /var/lib/leased}",
		), []string{"t.yaml:2: lease-store: want a directory path, got a mapping"}},
		{"string got a custom tag", lines(
			"interfaces: [eth0]",
			"lease-store: !path /var/lib/leased",
		), []string{"t.yaml:2: lease-store: want a directory path, got a value tagged !path"}},
		{"long values clipped in messages", lines(
			"interfaces: [eth0]",
			"server-id: "+strings.Repeat("x", 100),
		), []string{`t.yaml:2: server-id: "` + strings.Repeat("x", 60) + `..." is not an IPv4 address`}},
		{"boolean got a timestamp", validHead + lines(
			"    authoritative: 2001-12-14",
		), []string{"t.yaml:5: subnets[0].authoritative: want true or false, got the timestamp 2001-12-14"}},
		{"boolean got a boolean-looking integer", validHead + lines(
			"    reservations-in-pool: 1",
		), []string{"t.yaml:5: subnets[0].reservations-in-pool: want true or false, got the integer 1"}},
		{"boolean got a string", validHead + lines(
			"    authoritative: yes",
		), []string{`t.yaml:5: subnets[0].authoritative: want true or false, got the string "yes"`}},
		{"check-release-source is a boolean", validHead + lines(
			"check-release-source: no",
		), []string{`t.yaml:5: check-release-source: want true or false, got the string "no"`}},
		{"server-id must be IPv4", lines(
			"interfaces: [eth0]",
			"server-id: 2001:db8::1",
		), []string{"t.yaml:2: server-id: 2001:db8::1 is not an IPv4 address"}},
		{"server-id not an address", lines(
			"interfaces: [eth0]",
			"server-id: dhcp.example.net",
		), []string{`t.yaml:2: server-id: "dhcp.example.net" is not an IPv4 address`}},
		{"prefix must be IPv4", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 2001:db8::/64",
		), []string{"t.yaml:3: subnets[0].prefix: 2001:db8::/64 is not an IPv4 prefix"}},
		{"prefix malformed", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 198.18.0.0",
		), []string{`t.yaml:3: subnets[0].prefix: "198.18.0.0" is not a prefix such as 198.18.0.0/24`}},
		{"pool malformed", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    pools: [198.18.0.10-198.18.0.x]",
		), []string{`t.yaml:4: subnets[0].pools[0]: "198.18.0.10-198.18.0.x" is not an address range such as 198.18.0.100-198.18.0.199: "198.18.0.x" is not an IPv4 address`}},
		{"subnet must be a mapping", lines(
			"interfaces: [eth0]",
			"subnets: [198.18.0.0/24]",
		), []string{`t.yaml:2: subnets[0]: want a subnet (a mapping with prefix, pools, ...), got the string "198.18.0.0/24"`}},
		{"hw-address malformed", validHead + lines(
			"    reservations:",
			"      - hw-address: 02:00:00:00:01",
			"        address: 198.18.0.10",
		), []string{`t.yaml:6: subnets[0].reservations[0].hw-address: "02:00:00:00:01" is not a hardware address such as 02:00:00:00:00:01`}},
		{"client-id not hex", validHead + lines(
			"    reservations:",
			"      - client-id: 01:2:03",
			"        address: 198.18.0.10",
		), []string{`t.yaml:6: subnets[0].reservations[0].client-id: "01:2:03" is not hex bytes such as 0a0b0c or 0a:0b:0c`}},
		{"integer option out of range", validHead + lines(
			"    options: {interface-mtu: 70000}",
		), []string{"t.yaml:5: subnets[0].options.interface-mtu: 70000 is out of range 0 to 65535"}},
		{"integer option got a string", validHead + lines(
			"    options: {interface-mtu: big}",
		), []string{`t.yaml:5: subnets[0].options.interface-mtu: want an integer from 0 to 65535, got the string "big"`}},
		{"unknown option name with suggestion", lines(
			"interfaces: [eth0]",
			"options:",
			"  dns-server: [198.18.0.53]",
		), []string{"t.yaml:3: options.dns-server: unknown option (did you mean dns-servers?)"}},
		{"unknown option name by prefix", lines(
			"interfaces: [eth0]",
			"options:",
			"  ntp: [198.18.0.53]",
		), []string{"t.yaml:3: options.ntp: unknown option (did you mean ntp-servers?)"}},
		{"option set by the server refused with the key to use", lines(
			"interfaces: [eth0]",
			"options:",
			"  server-id: 198.18.0.1",
		), []string{"t.yaml:3: options.server-id: server-id cannot be configured as an option: use the server-id key"}},
		{"option sent by clients refused", lines(
			"interfaces: [eth0]",
			"options:",
			"  parameter-request-list: {hex: 0103}",
		), []string{"t.yaml:3: options.parameter-request-list: parameter-request-list cannot be configured as an option: clients send it (RFC 2132 §9.8)"}},
		{"RFC3011 subnet selection option refused", lines(
			"interfaces: [eth0]",
			"options:",
			"  option-118: 198.18.0.0",
		), []string{"t.yaml:3: options.option-118: option-118 cannot be configured as an option: clients and relays send it and the server echoes it (RFC 3011)"}},
		{"option by code of a refused option refused", lines(
			"interfaces: [eth0]",
			"options:",
			"  option-51: {uint32: 3600}",
		), []string{"t.yaml:3: options.option-51: lease-time cannot be configured as an option: use the lease-time key"}},
		{"option by code of a named option", lines(
			"interfaces: [eth0]",
			"options:",
			"  option-6: {ips: [198.18.0.53]}",
		), []string{"t.yaml:3: options.option-6: option-6 is dns-servers: write it by name"}},
		{"option code out of range", lines(
			"interfaces: [eth0]",
			"options:",
			"  option-256: {hex: 00}",
		), []string{"t.yaml:3: options.option-256: unknown option: codes go from 1 to 254"}},
		{"option code not canonical", lines(
			"interfaces: [eth0]",
			"options:",
			"  option-0224: {hex: 00}",
		), []string{"t.yaml:3: options.option-0224: unknown option (did you mean option-224?)"}},
		{"option by code needs a typed value", lines(
			"interfaces: [eth0]",
			"options:",
			"  option-224: 0a0b",
		), []string{`t.yaml:3: options.option-224: want a typed value such as {hex: 0a0b0c} or {ip: 198.18.0.9}, got the string "0a0b"`}},
		{"option by code with an unknown type", lines(
			"interfaces: [eth0]",
			"options:",
			"  option-224: {ipp: 198.18.0.9}",
		), []string{"t.yaml:3: options.option-224.ipp: unknown key (did you mean ip?)"}},
		{"option by code with two types", lines(
			"interfaces: [eth0]",
			"options:",
			"  option-224: {ip: 198.18.0.9, hex: 00}",
		), []string{"t.yaml:3: options.option-224: want exactly one type: ip, ips, string, uint8, uint16, uint32, int32, bool, hex"}},
		{"typed value checked", lines(
			"interfaces: [eth0]",
			"options:",
			"  option-224: {ips: []}",
		), []string{"t.yaml:3: options.option-224.ips: needs at least one address"}},
		{"typed uint8 out of range", lines(
			"interfaces: [eth0]",
			"options:",
			"  option-224: {uint8: 256}",
		), []string{"t.yaml:3: options.option-224.uint8: 256 is out of range 0 to 255"}},
		{"address list item not IPv4", lines(
			"interfaces: [eth0]",
			"options:",
			"  dns-servers: [198.18.0.53, 2001:db8::53]",
		), []string{"t.yaml:3: options.dns-servers[1]: 2001:db8::53 is not an IPv4 address"}},
		{"address list got nothing", lines(
			"interfaces: [eth0]",
			"options:",
			"  dns-servers:",
		), []string{"t.yaml:3: options.dns-servers: want a list of IPv4 addresses, got nothing"}},
		{"domain-search name invalid", lines(
			"interfaces: [eth0]",
			"options:",
			"  domain-search: [example.net, bad..name]",
		), []string{`t.yaml:3: options.domain-search[1]: "bad..name" is not a valid domain name (labels of letters, digits, '-' and '_', 1 to 63 characters each, 253 in all)`}},
		{"classless route destination not canonical", lines(
			"interfaces: [eth0]",
			"options:",
			"  classless-routes:",
			"    - {destination: 198.19.0.5/16, router: 198.18.0.1}",
		), []string{"t.yaml:4: options.classless-routes[0].destination: 198.19.0.5/16 is not a network prefix (did you mean 198.19.0.0/16?)"}},
		{"classless route missing router", lines(
			"interfaces: [eth0]",
			"options:",
			"  classless-routes: [{destination: 198.19.0.0/16}]",
		), []string{"t.yaml:3: options.classless-routes[0]: want both destination and router"}},
		{"classless route string malformed", lines(
			"interfaces: [eth0]",
			"options:",
			"  classless-routes: [198.19.0.0/16 198.18.0.1]",
		), []string{`t.yaml:3: options.classless-routes[0]: "198.19.0.0/16 198.18.0.1" is not a route such as "198.19.0.0/16 via 198.18.0.1"`}},
		{"static route destination is an address", lines(
			"interfaces: [eth0]",
			"options:",
			"  static-routes: [198.19.0.0/16 via 198.18.0.1]",
		), []string{`t.yaml:3: options.static-routes[0]: "198.19.0.0/16" is not an IPv4 address`}},
		{"time-offset not whole seconds", lines(
			"interfaces: [eth0]",
			"options:",
			"  time-offset: 1.5s",
		), []string{"t.yaml:3: options.time-offset: 1.5s is not a whole number of seconds within ±2147483647"}},
		{"merge keys refused", lines(
			"interfaces: [eth0]",
			"options: &common {domain-name: example.net}",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    options:",
			"      <<: *common",
		), []string{"t.yaml:6: subnets[0].options: merge keys (<<) are not supported; use an alias for the whole value"}},
		{"alias inside its own value refused", lines(
			"interfaces: &x [*x]",
		), []string{"t.yaml:1: alias *x refers to a value that contains it"}},
		{"keys must be names", lines(
			"interfaces: [eth0]",
			"? [a, b]",
			": c",
		), []string{"t.yaml:2: keys must be names, got a list"}},
		{"all decoding errors reported in file order", lines(
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    pools: [198.18.0.10-198.18.0.300]",
			"interfaces: [eth0]",
			"lease-time: soon",
		), []string{
			`t.yaml:3: subnets[0].pools[0]: "198.18.0.10-198.18.0.300" is not an address range such as 198.18.0.100-198.18.0.199: "198.18.0.300" is not an IPv4 address`,
			`t.yaml:5: lease-time: want a duration such as 90s, 1h or 3600 (seconds), or infinite, got "soon"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, "t.yaml", tt.input, tt.want...)
		})
	}
}

func TestParseValidationErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"empty file lacks interfaces and subnets", "", []string{
			"t.yaml: interfaces: at least one interface is required",
			"t.yaml: subnets: at least one subnet is required",
		}},
		{"interface name invalid", lines(
			"interfaces: [eth0, a-very-long-interface-name]",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    pools: [198.18.0.100-198.18.0.199]",
		), []string{`t.yaml:1: interfaces[1]: "a-very-long-interface-name" is not an interface name (1 to 15 characters, none of them '/', ':' or white space)`}},
		{"interface listed twice", lines(
			"interfaces:",
			"  - eth0",
			"  - eth0",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    pools: [198.18.0.100-198.18.0.199]",
		), []string{"t.yaml:3: interfaces[1]: eth0 is already listed at interfaces[0]"}},
		{"server-id unusable", validHead + lines(
			"server-id: 0.0.0.0",
		), []string{"t.yaml:5: server-id: 0.0.0.0 cannot identify a server: use one of its unicast addresses"}},
		{"server-id inside a pool", validHead + lines(
			"server-id: 198.18.0.150",
		), []string{"t.yaml:5: server-id: 198.18.0.150 is inside subnets[0].pools[0] (198.18.0.100-198.18.0.199): the server would lease its own address"}},
		{"server-id reserved", validHead + lines(
			"    reservations: [{hw-address: 02:00:00:00:00:01, address: 198.18.0.5}]",
			"server-id: 198.18.0.5",
		), []string{"t.yaml:6: server-id: 198.18.0.5 is also reserved at subnets[0].reservations[0]"}},
		{"lease-store empty", validHead + lines(
			`lease-store: ""`,
		), []string{"t.yaml:5: lease-store: a directory is required"}},
		{"commit-delay too long", validHead + lines(
			"commit-delay: 1s",
		), []string{"t.yaml:5: commit-delay: must be from 0 to 100ms, got 1s"}},
		{"commit-delay negative", validHead + lines(
			"commit-delay: -1ms",
		), []string{"t.yaml:5: commit-delay: must be from 0 to 100ms, got -1ms"}},
		{"receive-delay too long", validHead + lines(
			"receive-delay: 5ms",
		), []string{"t.yaml:5: receive-delay: must be from 0 to 1ms, got 5ms"}},
		{"receive-delay negative", validHead + lines(
			"receive-delay: -100us",
		), []string{"t.yaml:5: receive-delay: must be from 0 to 1ms, got -100µs"}},
		{"offer-hold must be positive", validHead + lines(
			"offer-hold: 0",
		), []string{"t.yaml:5: offer-hold: must be positive, got 0s"}},
		{"decline-probation must be positive", validHead + lines(
			"decline-probation: -10m",
		), []string{"t.yaml:5: decline-probation: must be positive, got -10m"}},
		{"lease time must be positive", validHead + lines(
			"lease-time: 0",
		), []string{"t.yaml:5: lease-time: must be positive, got 0s"}},
		{"lease time in whole seconds", validHead + lines(
			"lease-time: 90.5s",
		), []string{"t.yaml:5: lease-time: 1m30.5s is not a whole number of seconds"}},
		{"lease time beyond what the protocol carries", validHead + lines(
			"lease-time: 2000000h",
		), []string{"t.yaml:5: lease-time: 2000000h is longer than the protocol can carry; write infinite for a lease that never ends"}},
		{"RFC2131 4.4.5 T2 less than lease time", validHead + lines(
			"lease-time: 1h",
			"rebinding-time: 1h",
		), []string{"t.yaml:6: rebinding-time: rebinding-time 1h must be less than lease-time 1h"}},
		{"RFC2131 4.4.5 T1 less than T2", validHead + lines(
			"renewal-time: 50m",
			"rebinding-time: 40m",
		), []string{"t.yaml:5: renewal-time: renewal-time 50m must be less than rebinding-time 40m"}},
		{"RFC2131 4.4.5 T1 less than default T2", validHead + lines(
			"renewal-time: 55m",
		), []string{"t.yaml:5: renewal-time: renewal-time 55m must be less than rebinding-time 52m30s (by default 7/8 of lease-time 1h)"}},
		{"RFC2131 4.4.5 T2 greater than default T1", validHead + lines(
			"rebinding-time: 20m",
		), []string{"t.yaml:5: rebinding-time: rebinding-time 20m must be greater than renewal-time 30m (by default half of lease-time 1h)"}},
		{"subnet lease time shorter than inherited T1", validHead + lines(
			"    lease-time: 20m",
			"renewal-time: 30m",
		), []string{"t.yaml:3: subnets[0].renewal-time: renewal-time 30m (inherited from the global renewal-time) must be less than rebinding-time 17m30s (by default 7/8 of lease-time 20m)"}},
		{"subnet T2 checked against its lease time", validHead + lines(
			"    lease-time: 20m",
			"    rebinding-time: 20m",
		), []string{"t.yaml:6: subnets[0].rebinding-time: rebinding-time 20m must be less than lease-time 20m"}},
		{"no subnets", lines(
			"interfaces: [eth0]",
			"subnets: []",
		), []string{"t.yaml:2: subnets: at least one subnet is required"}},
		{"prefix required", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - pools: [198.18.0.100-198.18.0.199]",
		), []string{"t.yaml:3: subnets[0].prefix: a prefix is required"}},
		{"prefix must be canonical", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 198.18.0.5/24",
			"    pools: [198.18.0.100-198.18.0.199]",
		), []string{"t.yaml:3: subnets[0].prefix: 198.18.0.5/24 is not a network prefix (did you mean 198.18.0.0/24?)"}},
		{"subnets must not overlap", validHead + lines(
			"  - prefix: 198.18.0.0/23",
			"    pools: [198.18.1.100-198.18.1.199]",
		), []string{"t.yaml:5: subnets[1].prefix: 198.18.0.0/23 overlaps subnets[0] (198.18.0.0/24)"}},
		{"subnet needs a pool or a reservation", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
		), []string{"t.yaml:3: subnets[0]: a subnet needs at least one pool or reservation"}},
		{"pool reversed", lines(
			"# A file whose reversed pool is on line 14.",
			"",
			"interfaces: [eth0]",
			"",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    pools: [198.18.0.100-198.18.0.199]",
			"",
			"  - prefix: 198.18.1.0/24",
			"    pools: [198.18.1.100-198.18.1.199]",
			"",
			"  - prefix: 198.18.2.0/24",
			"    pools:",
			"      - 198.18.2.5-198.18.2.2",
		), []string{"t.yaml:14: subnets[2].pools[0]: 198.18.2.5-198.18.2.2 is reversed"}},
		{"pool outside its subnet", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    pools: [198.18.0.100-198.18.1.10]",
		), []string{"t.yaml:4: subnets[0].pools[0]: 198.18.0.100-198.18.1.10 is outside the subnet 198.18.0.0/24"}},
		{"pool includes the network address", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    pools: [198.18.0.0-198.18.0.10]",
		), []string{"t.yaml:4: subnets[0].pools[0]: 198.18.0.0-198.18.0.10 includes the network address 198.18.0.0 of the subnet"}},
		{"pool includes the broadcast address", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    pools: [198.18.0.200-198.18.0.255]",
		), []string{"t.yaml:4: subnets[0].pools[0]: 198.18.0.200-198.18.0.255 includes the broadcast address 198.18.0.255 of the subnet"}},
		{"pools must not overlap", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    pools:",
			"      - 198.18.0.100-198.18.0.199",
			"      - 198.18.0.10-198.18.0.20",
			"      - 198.18.0.150-198.18.0.160",
		), []string{"t.yaml:7: subnets[0].pools[2]: 198.18.0.150-198.18.0.160 overlaps pools[0] (198.18.0.100-198.18.0.199)"}},
		{"router outside its subnet", validHead + lines(
			"    options: {routers: [198.18.1.1]}",
		), []string{"t.yaml:5: subnets[0].options.routers: router 198.18.1.1 is outside the subnet 198.18.0.0/24"}},
		{"router inside a pool", validHead + lines(
			"    options: {routers: [198.18.0.150]}",
		), []string{"t.yaml:5: subnets[0].options.routers: router 198.18.0.150 is inside pools[0] (198.18.0.100-198.18.0.199): the server would lease the router's address"}},
		{"router is the broadcast address", validHead + lines(
			"    options: {routers: [198.18.0.255]}",
		), []string{"t.yaml:5: subnets[0].options.routers: router 198.18.0.255 is the broadcast address of the subnet"}},
		{"inherited router outside a subnet", validHead + lines(
			"  - prefix: 198.18.1.0/24",
			"    pools: [198.18.1.100-198.18.1.199]",
			"options: {routers: [198.18.0.1]}",
		), []string{"t.yaml:5: subnets[1].options.routers: router 198.18.0.1 is outside the subnet 198.18.1.0/24 (inherited from the global options)"}},
		{"RFC2132 5.1 MTU at least 68", validHead + lines(
			"    options: {interface-mtu: 40}",
		), []string{"t.yaml:5: subnets[0].options.interface-mtu: 40 is out of range 68 to 65535 (RFC 2132 §5.1)"}},
		{"RFC2132 4.5 TTL not zero", validHead + lines(
			"options: {default-ip-ttl: 0}",
		), []string{"t.yaml:5: options.default-ip-ttl: 0 is out of range 1 to 255 (RFC 2132 §4.5)"}},
		{"RFC2132 8.7 NetBIOS node type", validHead + lines(
			"options: {netbios-node-type: 3}",
		), []string{"t.yaml:5: options.netbios-node-type: 3 is not one of 1, 2, 4, 8 (1 B-node, 2 P-node, 4 M-node, 8 H-node; RFC 2132 §8.7)"}},
		{"RFC2132 3.3 subnet mask contiguous", validHead + lines(
			"    options: {subnet-mask: 255.0.255.0}",
		), []string{"t.yaml:5: subnets[0].options.subnet-mask: 255.0.255.0 is not a subnet mask (contiguous ones, then zeros)"}},
		{"RFC2132 5.8 no default static route", validHead + lines(
			"    options: {static-routes: [0.0.0.0 via 198.18.0.1]}",
		), []string{"t.yaml:5: subnets[0].options.static-routes: 0.0.0.0 is not allowed as a destination (RFC 2132 §5.8): the default route goes in routers"}},
		{"text option without control characters", validHead + lines(
			`    options: {root-path: "/srv\troot"}`,
		), []string{`t.yaml:5: subnets[0].options.root-path: "/srv\troot" contains a control character`}},
		{"domain-name must be a domain name", validHead + lines(
			`    options: {domain-name: "example net"}`,
		), []string{`t.yaml:5: subnets[0].options.domain-name: "example net" is not a valid domain name (labels of letters, digits, '-' and '_', 1 to 63 characters each, 253 in all)`}},
		{"option longer than allowed", validHead + lines(
			`    options: {vendor-specific: "`+strings.Repeat("00", MaxOptionLen+1)+`"}`,
		), []string{"t.yaml:5: subnets[0].options.vendor-specific: value of 1025 bytes is longer than the 1024 allowed"}},
		{"reservation names its client once", validHead + lines(
			"    reservations:",
			"      - hw-address: 02:00:00:00:00:01",
			"        client-id: 01:02:00:00:00:00:01",
			"        address: 198.18.0.10",
		), []string{"t.yaml:6: subnets[0].reservations[0]: set one of hw-address, client-id and relay-match, not several"}},
		{"reservation names a client", validHead + lines(
			"    reservations:",
			"      - address: 198.18.0.10",
		), []string{"t.yaml:6: subnets[0].reservations[0]: a reservation needs hw-address, client-id or relay-match"}},
		{"reservation needs an address", validHead + lines(
			"    reservations:",
			"      - hw-address: 02:00:00:00:00:01",
		), []string{"t.yaml:6: subnets[0].reservations[0].address: an address is required"}},
		{"hw-address longer than chaddr", validHead + lines(
			"    reservations:",
			"      - hw-address: 00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01",
			"        address: 198.18.0.10",
		), []string{"t.yaml:6: subnets[0].reservations[0].hw-address: 00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01 is 20 bytes long and chaddr holds 16 at most: use client-id"}},
		{"RFC2132 9.14 client-id at least two bytes", validHead + lines(
			"    reservations:",
			"      - client-id: 01",
			"        address: 198.18.0.10",
		), []string{"t.yaml:6: subnets[0].reservations[0].client-id: 1 bytes long; a client identifier is 2 to 255 bytes (RFC 2132 §9.14)"}},
		{"hw-address unique across subnets", validHead + lines(
			"    reservations: [{hw-address: 02:00:00:00:00:01, address: 198.18.0.10}]",
			"  - prefix: 198.18.1.0/24",
			"    reservations:",
			"      - hw-address: 02-00-00-00-00-01",
			"        address: 198.18.1.10",
		), []string{"t.yaml:8: subnets[1].reservations[0].hw-address: 02:00:00:00:00:01 is already reserved at subnets[0].reservations[0]"}},
		{"client-id unique", validHead + lines(
			"    reservations:",
			"      - {client-id: 01:02:00:00:00:00:01, address: 198.18.0.10}",
			"      - {client-id: 01020000000001, address: 198.18.0.11}",
		), []string{"t.yaml:7: subnets[0].reservations[1].client-id: 01:02:00:00:00:00:01 is already reserved at subnets[0].reservations[0]"}},
		{"reservation address unique", validHead + lines(
			"    reservations:",
			"      - {hw-address: 02:00:00:00:00:01, address: 198.18.0.10}",
			"      - {hw-address: 02:00:00:00:00:02, address: 198.18.0.10}",
		), []string{"t.yaml:7: subnets[0].reservations[1].address: 198.18.0.10 is already reserved at subnets[0].reservations[0]"}},
		{"reservation inside its subnet", validHead + lines(
			"    reservations: [{hw-address: 02:00:00:00:00:01, address: 198.18.1.10}]",
		), []string{"t.yaml:5: subnets[0].reservations[0].address: 198.18.1.10 is outside the subnet 198.18.0.0/24"}},
		{"reservation not the network address", validHead + lines(
			"    reservations: [{hw-address: 02:00:00:00:00:01, address: 198.18.0.0}]",
		), []string{"t.yaml:5: subnets[0].reservations[0].address: 198.18.0.0 is the network address of the subnet"}},
		{"reservation not a router", validHead + lines(
			"    options: {routers: [198.18.0.1]}",
			"    reservations: [{hw-address: 02:00:00:00:00:01, address: 198.18.0.1}]",
		), []string{"t.yaml:6: subnets[0].reservations[0].address: 198.18.0.1 is the address of a router of the subnet"}},
		{"reservation outside the pools", validHead + lines(
			"    reservations: [{hw-address: 02:00:00:00:00:01, address: 198.18.0.150}]",
		), []string{"t.yaml:5: subnets[0].reservations[0].address: 198.18.0.150 is inside pools[0] (198.18.0.100-198.18.0.199): move it out of the pool, or set reservations-in-pool: true"}},
		{"reservation host name valid", validHead + lines(
			"    reservations: [{hw-address: 02:00:00:00:00:01, address: 198.18.0.10, hostname: -printer}]",
		), []string{`t.yaml:5: subnets[0].reservations[0].hostname: "-printer" is not a valid domain name (labels of letters, digits, '-' and '_', 1 to 63 characters each, 253 in all)`}},
		{"reservation host name given once", validHead + lines(
			"    reservations:",
			"      - hw-address: 02:00:00:00:00:01",
			"        address: 198.18.0.10",
			"        hostname: printer",
			"        options: {host-name: printer2}",
		), []string{"t.yaml:9: subnets[0].reservations[0].options.host-name: set either hostname or options.host-name, not both"}},
		{"reservation router inside the subnet", validHead + lines(
			"    reservations:",
			"      - hw-address: 02:00:00:00:00:01",
			"        address: 198.18.0.10",
			"        options: {routers: [198.18.9.1]}",
		), []string{"t.yaml:8: subnets[0].reservations[0].options.routers: router 198.18.9.1 is outside the subnet 198.18.0.0/24"}},
		{"all validation errors reported in file order", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    pools: [198.18.0.200-198.18.0.100]",
			"offer-hold: 0s",
		), []string{
			"t.yaml:4: subnets[0].pools[0]: 198.18.0.200-198.18.0.100 is reversed",
			"t.yaml:5: offer-hold: must be positive, got 0s",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, "t.yaml", tt.input, tt.want...)
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name  string
		input string
		check func(t *testing.T, c *Config)
	}{
		{"commit-delay", validHead + "commit-delay: 2ms\n", func(t *testing.T, c *Config) {
			if c.CommitDelay != 2*time.Millisecond {
				t.Errorf("CommitDelay = %v, want 2ms", c.CommitDelay)
			}
		}},
		{"receive-delay", validHead + "receive-delay: 250us\n", func(t *testing.T, c *Config) {
			if c.ReceiveDelay != 250*time.Microsecond {
				t.Errorf("ReceiveDelay = %v, want 250µs", c.ReceiveDelay)
			}
		}},
		{"check-release-source off", validHead + "check-release-source: false\n", func(t *testing.T, c *Config) {
			if c.CheckReleaseSource {
				t.Error("CheckReleaseSource = true, want false")
			}
		}},
		{"receive-delay off", validHead + "receive-delay: 0\n", func(t *testing.T, c *Config) {
			if c.ReceiveDelay != 0 {
				t.Errorf("ReceiveDelay = %v, want 0", c.ReceiveDelay)
			}
		}},
		{"defaults for keys left out", validHead, func(t *testing.T, c *Config) {
			if c.OfferHold != DefaultOfferHold || c.DeclineProbation != DefaultDeclineProbation ||
				c.LeaseStore != DefaultLeaseStore || c.Defaults.LeaseTime != DefaultLeaseTime {
				t.Errorf("defaults: offer-hold %v, decline-probation %v, lease-store %q, lease-time %v",
					c.OfferHold, c.DeclineProbation, c.LeaseStore, c.Defaults.LeaseTime)
			}
			if c.CommitDelay != 2*time.Millisecond {
				t.Errorf("commit-delay default %v, want 2ms", c.CommitDelay)
			}
			if c.ReceiveDelay != 100*time.Microsecond {
				t.Errorf("receive-delay default %v, want 100µs", c.ReceiveDelay)
			}
			if c.DeclineProbation != 10*time.Minute {
				t.Errorf("decline probation default %v, want 10m", c.DeclineProbation)
			}
			if !c.CheckReleaseSource {
				t.Error("check-release-source default false, want true")
			}
			if c.ServerID.IsValid() {
				t.Errorf("ServerID = %v, want the zero Addr (per interface)", c.ServerID)
			}
			if s := c.Subnets[0]; s.T1 != 0 || s.T2 != 0 || s.Authoritative || len(s.Options) != 0 {
				t.Errorf("subnet defaults: T1 %v, T2 %v, authoritative %v, options %v", s.T1, s.T2, s.Authoritative, s.Options)
			}
		}},
		{"durations as integer seconds", validHead + lines(
			"lease-time: 3600",
			"offer-hold: 90",
		), func(t *testing.T, c *Config) {
			if c.Defaults.LeaseTime != time.Hour || c.OfferHold != 90*time.Second {
				t.Errorf("lease-time %v, offer-hold %v", c.Defaults.LeaseTime, c.OfferHold)
			}
		}},
		{"infinite lease time", validHead + lines(
			"lease-time: infinite",
		), func(t *testing.T, c *Config) {
			if c.Subnets[0].LeaseTime != dhcpv4.Infinite {
				t.Errorf("lease-time %v, want dhcpv4.Infinite", c.Subnets[0].LeaseTime)
			}
		}},
		{"RFC3021 /31 uses both addresses", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 198.18.0.0/31",
			"    pools: [198.18.0.0-198.18.0.1]",
		), func(t *testing.T, c *Config) {
			if got := c.Subnets[0].Pools[0].String(); got != "198.18.0.0-198.18.0.1" {
				t.Errorf("pool %s", got)
			}
		}},
		{"single address pool", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    pools: [198.18.0.9]",
		), func(t *testing.T, c *Config) {
			if p := c.Subnets[0].Pools[0]; p.First != p.Last || p.First != netip.MustParseAddr("198.18.0.9") {
				t.Errorf("pool %v", p)
			}
		}},
		{"reservation inside a pool when allowed", validHead + lines(
			"    reservations-in-pool: true",
			"    reservations: [{hw-address: 02:00:00:00:00:01, address: 198.18.0.150}]",
		), func(t *testing.T, c *Config) {
			if !c.Subnets[0].ReservationsInPool || c.Subnets[0].Reservations[0].Addr != netip.MustParseAddr("198.18.0.150") {
				t.Errorf("subnet %+v", c.Subnets[0])
			}
		}},
		{"subnet with reservations only", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    reservations:",
			"      - client-id: 01:02:00:00:00:00:01",
			"        address: 198.18.0.10",
		), func(t *testing.T, c *Config) {
			r := c.Subnets[0].Reservations[0]
			if string(r.ClientID) != "\x01\x02\x00\x00\x00\x00\x01" || r.HWAddr != nil {
				t.Errorf("reservation %+v", r)
			}
		}},
		{"hex scalars YAML reads as numbers", validHead + lines(
			"    reservations: [{client-id: 010200000001, address: 198.18.0.10}]",
		), func(t *testing.T, c *Config) {
			if got := dhcpv4.FormatHex(c.Subnets[0].Reservations[0].ClientID); got != "01:02:00:00:00:01" {
				t.Errorf("client-id %s", got)
			}
		}},
		{"aliases expanded", lines(
			"interfaces: [eth0]",
			"subnets:",
			"  - prefix: 198.18.0.0/24",
			"    pools: [198.18.0.100-198.18.0.199]",
			"    options: &lab {domain-name: lab.example.net}",
			"  - prefix: 198.18.1.0/24",
			"    pools: [198.18.1.100-198.18.1.199]",
			"    options: *lab",
		), func(t *testing.T, c *Config) {
			for i, s := range c.Subnets {
				if o, ok := findOption(s.Options, dhcpv4.OptDomainName); !ok || string(o.Value) != "lab.example.net" {
					t.Errorf("subnets[%d] domain-name %q", i, o.Value)
				}
			}
		}},
		{"null collections are empty", validHead + lines(
			"    reservations:",
			"options:",
		), func(t *testing.T, c *Config) {
			if len(c.Defaults.Options) != 0 || len(c.Subnets[0].Reservations) != 0 {
				t.Errorf("options %v, reservations %v", c.Defaults.Options, c.Subnets[0].Reservations)
			}
		}},
		{"document start marker and comments", "---\n# comment\n" + validHead, func(t *testing.T, c *Config) {
			if len(c.Subnets) != 1 {
				t.Errorf("%d subnets", len(c.Subnets))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.yaml", []byte(tt.input))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate after Parse: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestParseAliasExpansionBounded(t *testing.T) {
	// Each level lists the previous one ten times: 10^7 values at the
	// top from a file of a few hundred bytes.
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 7; i++ {
		prev := "*a" + string(rune('0'+i-1))
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		b.WriteString(strings.Repeat(prev+", ", 9) + prev + "]\n")
	}
	b.WriteString("interfaces: *a7\n")
	checkErrors(t, "t.yaml", b.String(), "t.yaml:2: aliases expand the file by more than 100000 values; write the values out")
}

func TestInheritance(t *testing.T) {
	input := lines(
		"interfaces: [eth0]",
		"lease-time: 1h",
		"renewal-time: 20m",
		"rebinding-time: 40m",
		"authoritative: true",
		"options:",
		"  dns-servers: [198.18.0.53]",
		"  domain-name: example.net",
		"  ntp-servers: [198.18.0.123]",
		"subnets:",
		"  - prefix: 198.18.0.0/24", // inherits everything
		"    pools: [198.18.0.100-198.18.0.199]",
		"  - prefix: 198.18.1.0/24", // overrides everything
		"    pools: [198.18.1.100-198.18.1.199]",
		"    lease-time: 4h",
		"    renewal-time: 1h",
		"    rebinding-time: 3h",
		"    authoritative: false",
		"    options:",
		"      routers: [198.18.1.1]",
		"      domain-name: lab.example.net",
		"    reservations:",
		"      - hw-address: 02:00:00:00:00:01",
		"        address: 198.18.1.10",
		"        options: {domain-name: host.lab.example.net}",
	)
	c, err := Parse("t.yaml", []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	s0, s1 := c.Subnets[0], c.Subnets[1]
	if s0.LeaseTime != time.Hour || s0.T1 != 20*time.Minute || s0.T2 != 40*time.Minute || !s0.Authoritative {
		t.Errorf("inherited: lease %v T1 %v T2 %v authoritative %v", s0.LeaseTime, s0.T1, s0.T2, s0.Authoritative)
	}
	if s1.LeaseTime != 4*time.Hour || s1.T1 != time.Hour || s1.T2 != 3*time.Hour || s1.Authoritative {
		t.Errorf("overridden: lease %v T1 %v T2 %v authoritative %v", s1.LeaseTime, s1.T1, s1.T2, s1.Authoritative)
	}
	wantCodes := func(opts []Option, codes ...dhcpv4.OptionCode) {
		t.Helper()
		var got []dhcpv4.OptionCode
		for _, o := range opts {
			got = append(got, o.Code)
		}
		if len(got) != len(codes) {
			t.Errorf("codes %v, want %v", got, codes)
			return
		}
		for i := range got {
			if got[i] != codes[i] {
				t.Errorf("codes %v, want %v (in increasing order)", got, codes)
				return
			}
		}
	}
	wantCodes(c.Defaults.Options, dhcpv4.OptDNSServers, dhcpv4.OptDomainName, dhcpv4.OptNTPServers)
	wantCodes(s0.Options, dhcpv4.OptDNSServers, dhcpv4.OptDomainName, dhcpv4.OptNTPServers)
	wantCodes(s1.Options, dhcpv4.OptRouter, dhcpv4.OptDNSServers, dhcpv4.OptDomainName, dhcpv4.OptNTPServers)
	if o, _ := findOption(s0.Options, dhcpv4.OptDomainName); string(o.Value) != "example.net" {
		t.Errorf("subnets[0] domain-name %q, want the global one", o.Value)
	}
	if o, _ := findOption(s1.Options, dhcpv4.OptDomainName); string(o.Value) != "lab.example.net" {
		t.Errorf("subnets[1] domain-name %q, want the subnet's own", o.Value)
	}
	r := s1.Reservations[0]
	wantCodes(r.Options, dhcpv4.OptDomainName)
	merged := MergeOptions(s1.Options, r.Options)
	if o, _ := findOption(merged, dhcpv4.OptDomainName); string(o.Value) != "host.lab.example.net" {
		t.Errorf("reservation over subnet: domain-name %q", o.Value)
	}
	wantCodes(merged, dhcpv4.OptRouter, dhcpv4.OptDNSServers, dhcpv4.OptDomainName, dhcpv4.OptNTPServers)
}

func TestGlobalKeysAfterSubnets(t *testing.T) {
	c, err := Parse("t.yaml", []byte(validHead+lines("lease-time: 2h", "authoritative: true")))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Subnets[0]; s.LeaseTime != 2*time.Hour || !s.Authoritative {
		t.Errorf("subnet lease %v authoritative %v: globals written after the subnets must still apply", s.LeaseTime, s.Authoritative)
	}
}

func TestExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no example files found in ../examples")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f); err != nil {
				t.Errorf("Load: %v", err)
			}
		})
	}
}

func TestExampleFileContent(t *testing.T) {
	c, err := Load(filepath.Join("..", "examples", "leased.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interfaces) != 2 || c.ServerID != netip.MustParseAddr("198.18.0.1") || len(c.Subnets) != 3 {
		t.Fatalf("interfaces %v, server-id %v, %d subnets", c.Interfaces, c.ServerID, len(c.Subnets))
	}
	s := c.Subnets[0]
	if s.LeaseTime != 2*time.Hour || len(s.Pools) != 2 || len(s.Reservations) != 2 || !s.Authoritative {
		t.Errorf("subnets[0]: %+v", s)
	}
	var o dhcpv4.Options
	for _, opt := range s.Options {
		o.Set(opt.Code, opt.Value)
	}
	routes, err := dhcpv4.ParseClasslessRoutes(mustGet(t, &o, dhcpv4.OptClasslessRoutes), nil)
	if err != nil || len(routes) != 3 || routes[2].String() != "198.19.128.0/17 via 198.18.0.253" {
		t.Errorf("classless-routes %v, %v", routes, err)
	}
	if c.Subnets[1].Reservations[0].Addr != netip.MustParseAddr("198.18.1.30") || !c.Subnets[1].ReservationsInPool {
		t.Errorf("subnets[1]: %+v", c.Subnets[1])
	}
	if s := c.Subnets[2]; s.PingCheck != 300*time.Millisecond || s.IPv6OnlyWait != 30*time.Minute ||
		len(c.SharedNetworks) != 1 || len(c.SharedNetworks[0].Subnets) != 2 {
		t.Errorf("subnets[2] %+v, shared networks %+v", s, c.SharedNetworks)
	}
}

func mustGet(t *testing.T, o *dhcpv4.Options, c dhcpv4.OptionCode) []byte {
	t.Helper()
	v, ok := o.Get(c)
	if !ok {
		t.Fatalf("option %v missing", c)
	}
	return v
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	t.Run("missing file is fs.ErrNotExist", func(t *testing.T) {
		_, err := Load(filepath.Join(dir, "absent.yaml"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load: %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("errors name the path given", func(t *testing.T) {
		p := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(p, []byte("interfaces: [eth0]\nleasetime: 1h\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		want := p + ":2: leasetime: unknown key (did you mean lease-time?)"
		if err == nil || err.Error() != want {
			t.Errorf("Load: %v, want %s", err, want)
		}
	})
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		e    Error
		want string
	}{
		{"file, line and path", Error{File: "leased.yaml", Line: 14, Path: "subnets[0].pools[1]", Msg: "198.18.1.5-198.18.0.9 is reversed"},
			"leased.yaml:14: subnets[0].pools[1]: 198.18.1.5-198.18.0.9 is reversed"},
		{"missing key has no line", Error{File: "leased.yaml", Path: "interfaces", Msg: "at least one interface is required"},
			"leased.yaml: interfaces: at least one interface is required"},
		{"Go-built config has no file", Error{Path: "offer-hold", Msg: "must be positive, got 0s"},
			"offer-hold: must be positive, got 0s"},
		{"whole file", Error{File: "leased.yaml", Line: 3, Msg: "invalid YAML: x"},
			"leased.yaml:3: invalid YAML: x"},
		{"line without file", Error{Line: 3, Path: "a", Msg: "b"}, "line 3: a: b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		key   string
		known []string
		want  string
	}{
		{"pool", subnetKeys, " (did you mean pools?)"},
		{"reservation", subnetKeys, " (did you mean reservations?)"},
		{"lease_time", topKeys, " (did you mean lease-time?)"},
		{"Lease-Time", topKeys, " (did you mean lease-time?)"},
		{"dns", optionNames(), " (did you mean dns-servers?)"},
		{"x", typedKeys, ""},
		{"completely-different", subnetKeys, ""},
		{strings.Repeat("a", 100), subnetKeys, ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.key, tt.known); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestParseRelayMatch(t *testing.T) {
	c, err := Parse("t.yaml", []byte(lines(
		"interfaces: [eth0]",
		"subnets:",
		"  - prefix: 198.18.1.0/24",
		"    pools:",
		"      - 198.18.1.100-198.18.1.149",
		"      - range: 198.18.1.150-198.18.1.199",
		"        relay-match: {circuit-id: port7, remote-id: {hex: \"00:11:22\"}}",
		"    reservations:",
		"      - relay-match: {circuit-id: port9}",
		"        address: 198.18.1.9",
	)))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Subnets[0]
	if len(s.Pools) != 2 || !s.Pools[0].Match.IsZero() {
		t.Fatalf("pools %+v", s.Pools)
	}
	want := RelayMatch{CircuitID: "port7", RemoteID: "\x00\x11\x22"}
	if s.Pools[1].Match != want || s.Pools[1].String() != "198.18.1.150-198.18.1.199" {
		t.Errorf("pool match %+v", s.Pools[1])
	}
	if r := s.Reservations[0]; r.Relay.CircuitID != "port9" || r.Addr != netip.MustParseAddr("198.18.1.9") {
		t.Errorf("reservation %+v", r)
	}
	if !want.Matches([]byte("port7"), []byte{0, 0x11, 0x22}) || want.Matches([]byte("port7"), nil) || !(RelayMatch{}).Matches(nil, nil) {
		t.Error("RelayMatch.Matches")
	}

	bad := []struct {
		name, input, want string
	}{
		{"RFC3046 relay match needs a sub-option", lines(
			"interfaces: [eth0]", "subnets:", "  - prefix: 198.18.1.0/24",
			"    pools:", "      - range: 198.18.1.100-198.18.1.149", "        relay-match: {}",
		), "t.yaml:6: subnets[0].pools[0].relay-match: a relay match needs circuit-id or remote-id"},
		{"pool mapping needs a range", lines(
			"interfaces: [eth0]", "subnets:", "  - prefix: 198.18.1.0/24",
			"    pools:", "      - relay-match: {circuit-id: a}",
		), "t.yaml:5: subnets[0].pools[0]: a pool needs a range"},
		{"unknown relay match key", lines(
			"interfaces: [eth0]", "subnets:", "  - prefix: 198.18.1.0/24",
			"    pools:", "      - range: 198.18.1.100-198.18.1.149", "        relay-match: {circuit: a}",
		), "t.yaml:6: subnets[0].pools[0].relay-match.circuit: unknown key (did you mean circuit-id?)"},
		{"relay-match reserved twice", lines(
			"interfaces: [eth0]", "subnets:", "  - prefix: 198.18.1.0/24",
			"    pools: [198.18.1.100-198.18.1.149]",
			"    reservations:",
			"      - {relay-match: {circuit-id: p1}, address: 198.18.1.5}",
			"      - {relay-match: {circuit-id: p1}, address: 198.18.1.6}",
		), "t.yaml:7: subnets[0].reservations[1].relay-match: circuit-id 70:31 is already reserved at subnets[0].reservations[0]"},
	}
	for _, tc := range bad {
		_, err := Parse("t.yaml", []byte(tc.input))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.name, err, tc.want)
		}
	}
}
