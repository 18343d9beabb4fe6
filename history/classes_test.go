package history

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
	"leased/server"
)

// classedOutcome returns the engine's outcome of a DISCOVER of client n
// with vendor class vendor, from an engine with the classes in the YAML
// lines and a subnet 198.18.1.0/24 on eth0.
func classedOutcome(t testing.TB, n int, vendor string, classes ...string) (*dhcpv4.Packet, server.Outcome) {
	t.Helper()
	yaml := strings.Join(append(append([]string{"interfaces: [eth0]", "lease-time: 1h", "client-classes:"}, classes...),
		"subnets:", "  - {prefix: 198.18.1.0/24, pools: [198.18.1.100-198.18.1.199]}"), "\n") + "\n"
	cfg, err := config.Parse("t.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := server.New(cfg, &lease.Memory{}, func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	req := discover(n, nil)
	if vendor != "" {
		req.Options.Set(dhcpv4.OptVendorClass, []byte(vendor))
	}
	in := server.Arrival{IfIndex: 2, IfName: "eth0", IfAddrs: []netip.Prefix{netip.MustParsePrefix("198.18.1.1/24")}}
	var reply dhcpv4.Packet
	return req, eng.Handle(context.Background(), req, in, &reply)
}

func TestNoteKeepsTheClassesMatched(t *testing.T) {
	long := "a-class-name-of-twenty-six"
	tests := []struct {
		name    string
		vendor  string
		classes []string
		want    string
	}{
		{"the classes matched, in file order, comma-separated", "phone-x", []string{
			"  - {name: phones, match: {vendor-class-prefix: phone}}",
			"  - {name: other, match: {vendor-class: tv}}",
			"  - {name: eth0, match: {interface: eth0}}"}, "phones,eth0"},
		{"no class matched", "tv-x", []string{"  - {name: phones, match: {vendor-class-prefix: phone}}"}, ""},
		{"names beyond the record's room are cut", "phone", []string{
			"  - {name: " + long + ", match: {vendor-class: phone}}",
			"  - {name: second, match: {vendor-class: phone}}"}, (long + ",second")[:ShortLen]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, out := classedOutcome(t, 1, tt.vendor, tt.classes...)
			b := New(Options{Clients: 16})
			b.Note(t0, req, &eth0, &out)
			c, ok := b.Lookup(hwKey(1))
			if !ok {
				t.Fatal("client not kept")
			}
			if got := c.Latest().Classes.String(); got != tt.want {
				t.Errorf("classes %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNoteWithClassesDoesNotAllocate(t *testing.T) {
	req, out := classedOutcome(t, 1, "phone", "  - {name: phones, match: {vendor-class: phone}}", "  - {name: all, match: {interface: eth0}}")
	if out.Classes.Len() != 2 {
		t.Fatalf("classes %v, want 2", out.Classes.Names())
	}
	b := New(Options{Clients: 32})
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		req.CHAddr[5] = byte(i)
		b.Note(t0, req, &eth0, &out)
		i++
	})
	if allocs != 0 {
		t.Errorf("Note allocates %v times per request with classes, want 0", allocs)
	}
}
