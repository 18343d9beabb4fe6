package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"leased/dhcpv4"
)

// FuzzParse checks that no input makes Parse panic, that every error it
// returns is an *Error naming the file, and that whatever it accepts also
// passes Validate.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		validHead,
		validHead + "    ddns: {enabled: true, qualifying-suffix: example.net, servers: [198.18.0.53, \"198.18.0.54:5353\"], reverse-zone: none}\n",
		validHead + "options: {option-224: {ips: [198.18.0.1]}, classless-routes: [0.0.0.0/0 via 198.18.0.1]}\n",
		validHead + "    reservations: [{client-id: 0102, address: 198.18.0.5, hostname: a}]\n",
		"interfaces: &a [*a]\n",
		"a: &a [x, x]\nb: &b [*a, *a]\ninterfaces: *b\n",
		"options:\n  <<: {a: 1}\n",
		"? [a]\n: b\n",
		"--- 1\n--- 2\n",
		"lease-time: infinite\nrenewal-time: 99999999999999\n",
		"subnets: [{prefix: 198.18.0.0/31, pools: [198.18.0.0-198.18.0.1]}]\ninterfaces: [x]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			if c != nil {
				t.Fatal("Parse returned a Config with an error")
			}
			for _, e := range errorsOf(t, err) {
				if e.File != "fuzz.yaml" || e.Msg == "" {
					t.Fatalf("error %q: File %q, empty message %v", e, e.File, e.Msg == "")
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a Config that Validate refuses: %v", err)
		}
	})
}

func BenchmarkParseExample(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "examples", "leased.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("leased.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// bigConfig returns a Config with 256 subnets of 64 reservations each.
func bigConfig() *Config {
	c := validConfig()
	c.Subnets = nil
	for i := range 256 {
		s := Subnet{
			Prefix:    netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(i), 0}), 24),
			Pools:     []Range{{First: netip.AddrFrom4([4]byte{198, 18, byte(i), 100}), Last: netip.AddrFrom4([4]byte{198, 18, byte(i), 199})}},
			LeaseTime: time.Hour,
			Options:   []Option{{Code: dhcpv4.OptRouter, Value: []byte{198, 18, byte(i), 1}}},
		}
		for j := range 64 {
			s.Reservations = append(s.Reservations, Reservation{
				HWAddr: net.HardwareAddr{2, 0, 0, 0, byte(i), byte(j)},
				Addr:   netip.AddrFrom4([4]byte{198, 18, byte(i), byte(10 + j)}),
			})
		}
		c.Subnets = append(c.Subnets, s)
	}
	return c
}

func BenchmarkValidate16kReservations(b *testing.B) {
	c := bigConfig()
	if err := c.Validate(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleParse() {
	_, err := Parse("leased.yaml", []byte(`interfaces: [eth0]
subnets:
  - prefix: 198.18.0.0/24
    pool: [198.18.0.100-198.18.0.199]
`))
	fmt.Println(err)
	var e *Error
	if errors.As(err, &e) {
		fmt.Printf("first error: line %d, key %s\n", e.Line, e.Path)
	}
	// Output:
	// leased.yaml:4: subnets[0].pool: unknown key (did you mean pools?)
	// first error: line 4, key subnets[0].pool
}

func ExampleConfig_Validate() {
	c := &Config{
		Interfaces:       []string{"eth0"},
		LeaseStore:       "/var/lib/leased",
		OfferHold:        DefaultOfferHold,
		DeclineProbation: DefaultDeclineProbation,
		Defaults:         SubnetDefaults{LeaseTime: DefaultLeaseTime},
		Subnets: []Subnet{{
			Prefix:    netip.MustParsePrefix("198.18.0.0/24"),
			Pools:     []Range{{First: netip.MustParseAddr("198.18.1.5"), Last: netip.MustParseAddr("198.18.0.9")}},
			LeaseTime: DefaultLeaseTime,
		}},
	}
	fmt.Println(c.Validate())
	// Output:
	// subnets[0].pools[0]: 198.18.1.5-198.18.0.9 is reversed
}
