package config

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"leased/dhcpv4"
)

// validConfig returns a Config built in Go, as a command-line quick mode
// would build it, that passes Validate.
func validConfig() *Config {
	return &Config{
		Interfaces:       []string{"veth0"},
		LeaseStore:       "leases",
		OfferHold:        DefaultOfferHold,
		DeclineProbation: DefaultDeclineProbation,
		Defaults:         SubnetDefaults{LeaseTime: time.Hour},
		Subnets: []Subnet{{
			Prefix:    netip.MustParsePrefix("198.18.0.0/24"),
			Pools:     []Range{{First: netip.MustParseAddr("198.18.0.100"), Last: netip.MustParseAddr("198.18.0.199")}},
			LeaseTime: time.Hour,
			Options:   []Option{{Code: dhcpv4.OptRouter, Value: []byte{198, 18, 0, 1}}},
			Reservations: []Reservation{{
				HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1},
				Addr:   netip.MustParseAddr("198.18.0.10"),
			}},
		}},
	}
}

func TestValidateGoBuilt(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   []string // nil: valid
	}{
		{"valid", func(*Config) {}, nil},
		{"no interfaces", func(c *Config) { c.Interfaces = nil },
			[]string{"interfaces: at least one interface is required"}},
		{"interface name with a slash", func(c *Config) { c.Interfaces = []string{"eth/0"} },
			[]string{`interfaces[0]: "eth/0" is not an interface name (1 to 15 characters, none of them '/', ':' or white space)`}},
		{"server-id IPv6", func(c *Config) { c.ServerID = netip.MustParseAddr("2001:db8::1") },
			[]string{"server-id: 2001:db8::1 is not an IPv4 address"}},
		{"server-id broadcast", func(c *Config) { c.ServerID = netip.MustParseAddr("255.255.255.255") },
			[]string{"server-id: 255.255.255.255 cannot identify a server: use one of its unicast addresses"}},
		{"lease store with NUL", func(c *Config) { c.LeaseStore = "a\x00b" },
			[]string{`lease-store: "a\x00b" contains a NUL character`}},
		{"zero offer hold", func(c *Config) { c.OfferHold = 0 },
			[]string{"offer-hold: must be positive, got 0s"}},
		{"zero decline probation", func(c *Config) { c.DeclineProbation = 0 },
			[]string{"decline-probation: must be positive, got 0s"}},
		{"subnet lease time zero", func(c *Config) { c.Subnets[0].LeaseTime = 0 },
			[]string{"subnets[0].lease-time: must be positive, got 0s"}},
		{"negative T1", func(c *Config) { c.Subnets[0].T1 = -time.Second },
			[]string{"subnets[0].renewal-time: must be positive, got -1s"}},
		{"T1 not whole seconds", func(c *Config) { c.Subnets[0].T1 = 1500 * time.Millisecond },
			[]string{"subnets[0].renewal-time: 1.5s is not a whole number of seconds"}},
		{"infinite lease with T1 and T2", func(c *Config) {
			c.Subnets[0].LeaseTime, c.Subnets[0].T1, c.Subnets[0].T2 = dhcpv4.Infinite, time.Hour, 2*time.Hour
		}, nil},
		{"IPv6 prefix", func(c *Config) { c.Subnets[0].Prefix = netip.MustParsePrefix("2001:db8::/64") },
			[]string{"subnets[0].prefix: 2001:db8::/64 is not an IPv4 prefix"}},
		{"zero prefix", func(c *Config) { c.Subnets[0].Prefix = netip.Prefix{} },
			[]string{"subnets[0].prefix: a prefix is required"}},
		{"zero pool", func(c *Config) { c.Subnets[0].Pools = []Range{{}} },
			[]string{"subnets[0].pools[0]: invalid IP-invalid IP is not an IPv4 address range"}},
		{"pool reversed", func(c *Config) {
			c.Subnets[0].Pools = append(c.Subnets[0].Pools, Range{First: netip.MustParseAddr("198.18.1.5"), Last: netip.MustParseAddr("198.18.0.9")})
		}, []string{"subnets[0].pools[1]: 198.18.1.5-198.18.0.9 is reversed"}},
		{"option code twice", func(c *Config) {
			c.Subnets[0].Options = append(c.Subnets[0].Options, Option{Code: dhcpv4.OptRouter, Value: []byte{198, 18, 0, 2}})
		}, []string{"subnets[0].options.routers: set more than once"}},
		{"routers of the wrong length", func(c *Config) { c.Subnets[0].Options[0].Value = []byte{198, 18, 0, 1, 2} },
			[]string{"subnets[0].options.routers: value of 5 bytes is not a list of IPv4 addresses"}},
		{"unnamed option too long", func(c *Config) {
			c.Defaults.Options = []Option{{Code: 224, Value: make([]byte, MaxOptionLen+1)}}
		}, []string{"options.option-224: value of 1025 bytes is longer than the 1024 allowed"}},
		{"domain-search not in wire format", func(c *Config) {
			c.Defaults.Options = []Option{{Code: dhcpv4.OptDomainSearch, Value: []byte("example.net")}}
		}, []string{"options.domain-search: value is not a domain list in RFC 3397 wire format"}},
		{"classless-routes not in wire format", func(c *Config) {
			c.Defaults.Options = []Option{{Code: dhcpv4.OptClasslessRoutes, Value: []byte{33, 0, 0, 0, 0, 0, 0, 0, 0}}}
		}, []string{"options.classless-routes: value is not a route list in RFC 3442 wire format"}},
		{"hw-address empty and client-id set", func(c *Config) {
			c.Subnets[0].Reservations[0].HWAddr = nil
			c.Subnets[0].Reservations[0].ClientID = []byte{1, 2, 0, 0, 0, 0, 1}
		}, nil},
		{"hw-address longer than chaddr", func(c *Config) { c.Subnets[0].Reservations[0].HWAddr = make(net.HardwareAddr, 17) },
			[]string{"subnets[0].reservations[0].hw-address: 00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00 is 17 bytes long and chaddr holds 16 at most: use client-id"}},
		{"reservation address IPv6", func(c *Config) { c.Subnets[0].Reservations[0].Addr = netip.MustParseAddr("2001:db8::1") },
			[]string{"subnets[0].reservations[0].address: 2001:db8::1 is not an IPv4 address"}},
		{"reservation address broadcast", func(c *Config) { c.Subnets[0].Reservations[0].Addr = netip.MustParseAddr("198.18.0.255") },
			[]string{"subnets[0].reservations[0].address: 198.18.0.255 is the broadcast address of the subnet"}},
		{"/32 subnet with a reservation of its only address", func(c *Config) {
			c.Subnets[0] = Subnet{
				Prefix:       netip.MustParsePrefix("198.18.0.7/32"),
				LeaseTime:    time.Hour,
				Reservations: []Reservation{{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Addr: netip.MustParseAddr("198.18.0.7")}},
			}
		}, nil},
		{"errors in the order found", func(c *Config) {
			c.Interfaces = nil
			c.Subnets[0].Pools[0].First = netip.MustParseAddr("198.18.0.250")
			c.OfferHold = -time.Second
		}, []string{
			"interfaces: at least one interface is required",
			"offer-hold: must be positive, got -1s",
			"subnets[0].pools[0]: 198.18.0.250-198.18.0.199 is reversed",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate succeeded, want %s", strings.Join(tt.want, "\n"))
			}
			if got := err.Error(); got != strings.Join(tt.want, "\n") {
				t.Errorf("Validate:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
			for _, e := range errorsOf(t, err) {
				if e.File != "" || e.Line != 0 {
					t.Errorf("error %q of a Config built in Go has a file or line", e)
				}
			}
		})
	}
}

func TestRange(t *testing.T) {
	a := netip.MustParseAddr
	t.Run("ParseRange", func(t *testing.T) {
		tests := []struct {
			in   string
			want Range
			ok   bool
		}{
			{"198.18.0.1-198.18.0.9", Range{First: a("198.18.0.1"), Last: a("198.18.0.9")}, true},
			{"198.18.0.1 - 198.18.0.9", Range{First: a("198.18.0.1"), Last: a("198.18.0.9")}, true},
			{"198.18.0.9", Range{First: a("198.18.0.9"), Last: a("198.18.0.9")}, true},
			{"198.18.0.9-198.18.0.1", Range{First: a("198.18.0.9"), Last: a("198.18.0.1")}, true}, // order is Validate's business
			{"198.18.0.1-", Range{}, false},
			{"2001:db8::1-2001:db8::9", Range{}, false},
			{"198.18.0.0/24", Range{}, false},
			{"", Range{}, false},
		}
		for _, tt := range tests {
			got, err := ParseRange(tt.in)
			if (err == nil) != tt.ok || got.String() != tt.want.String() {
				t.Errorf("ParseRange(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
			if tt.ok {
				back, err := ParseRange(got.String())
				if err != nil || back.String() != got.String() {
					t.Errorf("ParseRange(%q.String()) = %v, %v", tt.in, back, err)
				}
			}
		}
	})
	t.Run("Contains and Overlaps", func(t *testing.T) {
		r := Range{First: a("198.18.0.10"), Last: a("198.18.0.20")}
		for _, tt := range []struct {
			addr string
			want bool
		}{{"198.18.0.9", false}, {"198.18.0.10", true}, {"198.18.0.15", true}, {"198.18.0.20", true}, {"198.18.0.21", false}} {
			if got := r.Contains(a(tt.addr)); got != tt.want {
				t.Errorf("%v.Contains(%s) = %v", r, tt.addr, got)
			}
		}
		for _, tt := range []struct {
			o    Range
			want bool
		}{
			{Range{First: a("198.18.0.1"), Last: a("198.18.0.9")}, false},
			{Range{First: a("198.18.0.1"), Last: a("198.18.0.10")}, true},
			{Range{First: a("198.18.0.20"), Last: a("198.18.0.30")}, true},
			{Range{First: a("198.18.0.12"), Last: a("198.18.0.13")}, true},
			{Range{First: a("198.18.0.21"), Last: a("198.18.0.30")}, false},
			{Range{First: a("198.18.0.30"), Last: a("198.18.0.1")}, false}, // reversed: invalid
		} {
			if got := r.Overlaps(tt.o); got != tt.want {
				t.Errorf("%v.Overlaps(%v) = %v", r, tt.o, got)
			}
			if got := tt.o.Overlaps(r); got != tt.want {
				t.Errorf("%v.Overlaps(%v) = %v", tt.o, r, got)
			}
		}
		if (Range{First: a("198.18.0.9"), Last: a("198.18.0.1")}).Contains(a("198.18.0.5")) {
			t.Error("a reversed range contains an address")
		}
	})
}

func TestFormatDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{time.Hour, "1h"}, {90 * time.Minute, "1h30m"}, {52*time.Minute + 30*time.Second, "52m30s"},
		{30 * time.Minute, "30m"}, {0, "0s"}, {dhcpv4.Infinite, "infinite"}, {1500 * time.Millisecond, "1.5s"},
	} {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestCheckRuntimeReservation(t *testing.T) {
	a := netip.MustParseAddr("198.18.0.60")
	hw := net.HardwareAddr{2, 0, 0, 0, 0, 0x60}
	for _, tc := range []struct {
		name string
		r    Reservation
		want string // in the error; "" for none
	}{
		{"by hardware address", Reservation{HWAddr: hw, Addr: a, Hostname: "printer.example."}, ""},
		{"by client identifier", Reservation{ClientID: []byte{1, 2}, Addr: a}, ""},
		{"not IPv4", Reservation{HWAddr: hw, Addr: netip.MustParseAddr("2001:db8::1")}, "IPv4 address is required"},
		{"no address", Reservation{HWAddr: hw}, "IPv4 address is required"},
		{"both identities", Reservation{HWAddr: hw, ClientID: []byte{1, 2}, Addr: a}, "not both"},
		{"no identity", Reservation{Addr: a}, "is required"},
		{"no identity but relay information", Reservation{Addr: a, Relay: RelayMatch{CircuitID: "x"}}, "is required"},
		{"RFC2131 2 hardware address longer than chaddr", Reservation{HWAddr: make(net.HardwareAddr, 17), Addr: a}, "chaddr holds 16"},
		{"RFC2132 9.14 client identifier of one byte", Reservation{ClientID: []byte{1}, Addr: a}, "2 to 255 bytes"},
		{"RFC2132 9.14 client identifier of 256 bytes", Reservation{ClientID: make([]byte, 256), Addr: a}, "2 to 255 bytes"},
		{"relay information is for the file", Reservation{HWAddr: hw, Addr: a, Relay: RelayMatch{CircuitID: "x"}}, "configuration file only"},
		{"options are for the file", Reservation{HWAddr: hw, Addr: a, Options: []Option{{Code: 42, Value: []byte{1, 2, 3, 4}}}}, "configuration file only"},
		{"bad host name", Reservation{HWAddr: hw, Addr: a, Hostname: "a b"}, "not a valid host name"},
		{"RFC1123 2.1 host name with a leading '-'", Reservation{HWAddr: hw, Addr: a, Hostname: "-printer"}, "not a valid host name"},
	} {
		err := CheckRuntimeReservation(&tc.r)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q in it", tc.name, err, tc.want)
		}
	}
}

func TestReservedAddressConflict(t *testing.T) {
	p24 := netip.MustParsePrefix("198.18.0.0/24")
	p31 := netip.MustParsePrefix("198.18.0.0/31")
	routers := []netip.Addr{netip.MustParseAddr("198.18.0.1")}
	for _, tc := range []struct {
		name string
		a    string
		p    netip.Prefix
		want string
	}{
		{"network address of a /24", "198.18.0.0", p24, "the network address of the subnet"},
		{"broadcast address of a /24", "198.18.0.255", p24, "the broadcast address of the subnet"},
		{"a router", "198.18.0.1", p24, "the address of a router of the subnet"},
		{"a host", "198.18.0.7", p24, ""},
		{"RFC 3021 /31: both addresses are hosts", "198.18.0.0", p31, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := routers
			if tc.p == p31 {
				r = nil
			}
			if got := ReservedAddressConflict(netip.MustParseAddr(tc.a), tc.p, r); got != tc.want {
				t.Errorf("ReservedAddressConflict(%s, %v) = %q, want %q", tc.a, tc.p, got, tc.want)
			}
		})
	}
}
