package server

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

// benchClasses returns n client classes of every match kind, in turns;
// the requests of BenchmarkDORAClasses match some of them.
func benchClasses(n int) []config.ClientClass {
	var out []config.ClientClass
	for i := range n {
		var m config.ClassMatch
		switch i % 10 {
		case 0:
			m = config.ClassMatch{Kind: config.MatchVendorClass, Text: fmt.Sprintf("vendor-%d", i)}
		case 1:
			m = config.ClassMatch{Kind: config.MatchVendorClassPrefix, Text: "bench"}
		case 2:
			m = config.ClassMatch{Kind: config.MatchUserClass, Text: fmt.Sprintf("user-%d", i)}
		case 3:
			m = config.ClassMatch{Kind: config.MatchArch, Values: []uint16{7, 9, uint16(i)}}
		case 4:
			m = config.ClassMatch{Kind: config.MatchCircuitID, Text: "port-1"}
		case 5:
			m = config.ClassMatch{Kind: config.MatchHWPrefix, Text: "\x02\x00\x00"}
		case 6:
			m = config.ClassMatch{Kind: config.MatchHostname, Text: "host-*-x"}
		case 7:
			m = config.ClassMatch{Kind: config.MatchOption, Code: 81}
		case 8:
			m = config.ClassMatch{Kind: config.MatchAnyOf, Of: []config.ClassMatch{
				{Kind: config.MatchInterface, Text: "eth9"}, {Kind: config.MatchNot, Of: []config.ClassMatch{{Kind: config.MatchClass, Text: out[i-7].Name}}}}}
		case 9:
			m = config.ClassMatch{Kind: config.MatchAllOf, Of: []config.ClassMatch{
				{Kind: config.MatchSubnet, Prefix: mustPrefix("198.18.0.0/24")}, {Kind: config.MatchClass, Text: out[i-4].Name}}}
		}
		c := config.ClientClass{Name: fmt.Sprintf("class-%d", i), Match: m}
		if i%5 == 0 {
			c.Options = []config.Option{{Code: dhcpv4.OptDomainName, Value: []byte(c.Name)}}
		}
		if i%17 == 0 {
			c.LeaseTime = 2 * time.Hour
		}
		out = append(out, c)
	}
	return out
}

// BenchmarkDORAClasses is BenchmarkDORA with no client classes and with
// 50, for clients whose requests carry a vendor class, a user class, an
// architecture and a host name, so that every class is evaluated.
func BenchmarkDORAClasses(b *testing.B) {
	for _, n := range []int{0, 50} {
		b.Run(fmt.Sprintf("classes=%d", n), func(b *testing.B) {
			cfg := testConfig()
			cfg.Subnets[0].Pools[0] = config.Range{First: mustAddr("198.18.0.10"), Last: mustAddr("198.18.0.249")}
			cfg.ClientClasses = benchClasses(n)
			eng, err := New(cfg, &lease.Memory{}, func() time.Time { return t0 })
			if err != nil {
				b.Fatal(err)
			}
			const clients = 200
			discovers := make([]*dhcpv4.Packet, clients)
			requests := make([]*dhcpv4.Packet, clients)
			in := direct()
			var reply dhcpv4.Packet
			for i := range clients {
				c := &client{mac: net.HardwareAddr{2, 0, 0, 1, byte(i >> 8), byte(i)}, xid: uint32(i), prl: []byte{1, 3, 6, 15, 51, 54},
					opts: []option{{dhcpv4.OptVendorClass, []byte("bench-client")}, {dhcpv4.OptUserClass, []byte("\x06user-2")},
						arch(7), {dhcpv4.OptHostName, []byte(fmt.Sprintf("host-%d", i))}}}
				discovers[i] = c.packet(dhcpv4.Discover)
				eng.Handle(context.Background(), discovers[i], in, &reply)
				requests[i] = c.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"), option{dhcpv4.OptRequestedIP, reply.YIAddr.AsSlice()})
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				k := i % clients
				if out := eng.Handle(ctx, discovers[k], in, &reply); out.Reason != ReasonOffer {
					b.Fatal(out.Reason)
				}
				if out := eng.Handle(ctx, requests[k], in, &reply); out.Reason != ReasonAck {
					b.Fatal(out.Reason)
				}
			}
		})
	}
}

// BenchmarkClassify measures the evaluation of 50 classes alone.
func BenchmarkClassify(b *testing.B) {
	cfg := testConfig()
	cfg.ClientClasses = benchClasses(50)
	eng, err := New(cfg, &lease.Memory{}, func() time.Time { return t0 })
	if err != nil {
		b.Fatal(err)
	}
	c := newClient(1)
	c.opts = []option{{dhcpv4.OptVendorClass, []byte("bench-client")}, {dhcpv4.OptUserClass, []byte("\x06user-2")}, arch(7), {dhcpv4.OptHostName, []byte("host-1-x")}}
	req := c.packet(dhcpv4.Discover)
	in := direct()
	s := eng.subnets[0]
	b.ReportAllocs()
	b.ResetTimer()
	var set classSet
	for range b.N {
		set = eng.classes.classify(req, &in, s)
	}
	if set.isEmpty() {
		b.Fatal("no class matched")
	}
}
