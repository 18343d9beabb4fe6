package server

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

// BenchmarkDORA measures a DISCOVER and a REQUEST through the engine for
// clients it already knows (the steady state of a busy server), with the
// in-memory store so that only the engine is measured.
func BenchmarkDORA(b *testing.B) {
	cfg := testConfig()
	cfg.Subnets[0].Pools[0] = config.Range{First: mustAddr("198.18.0.10"), Last: mustAddr("198.18.0.249")}
	benchDORA(b, cfg)
}

// BenchmarkDORAPoolOptions is BenchmarkDORA with the addresses in a pool
// that has options of its own, one of them overriding the subnet's.
func BenchmarkDORAPoolOptions(b *testing.B) {
	cfg := testConfig()
	cfg.Subnets[0].Pools = []config.Range{
		{First: mustAddr("198.18.0.2"), Last: mustAddr("198.18.0.9"), Options: []config.Option{{Code: dhcpv4.OptDomainName, Value: []byte("other.example")}}},
		{First: mustAddr("198.18.0.10"), Last: mustAddr("198.18.0.249"), Options: []config.Option{
			{Code: dhcpv4.OptDNSServers, Value: addrs("198.18.0.9")},
			{Code: dhcpv4.OptDomainName, Value: []byte("pool.example")},
		}},
	}
	benchDORA(b, cfg)
}

// BenchmarkDORADDNS is BenchmarkDORA in a subnet with dynamic DNS
// updates on, each client sending a client FQDN option (RFC 4702) with
// its host name: the engine names each lease, and answers with option
// 81.
func BenchmarkDORADDNS(b *testing.B) {
	cfg := testConfig()
	cfg.Subnets[0].Pools[0] = config.Range{First: mustAddr("198.18.0.10"), Last: mustAddr("198.18.0.249")}
	withDDNS(nil)(cfg)
	benchDORAWith(b, cfg, func(i int) []option {
		name := []byte{'h', 'o', 's', 't', '-', byte('a' + i%26), byte('a' + i/26%26)}
		return []option{fqdnOpt(dhcpv4.FQDNEncoded|dhcpv4.FQDNServerUpdate, string(name))}
	})
}

func benchDORA(b *testing.B, cfg *config.Config) { benchDORAWith(b, cfg, nil) }

// benchDORAWith is benchDORA with the options extra gives client i, when
// not nil.
func benchDORAWith(b *testing.B, cfg *config.Config, extra func(i int) []option) {
	now := t0
	eng, err := New(cfg, &lease.Memory{}, func() time.Time { return now })
	if err != nil {
		b.Fatal(err)
	}
	const n = 200
	discovers := make([]*dhcpv4.Packet, n)
	requests := make([]*dhcpv4.Packet, n)
	in := direct()
	var reply dhcpv4.Packet
	for i := range n {
		c := &client{mac: net.HardwareAddr{2, 0, 0, 1, byte(i >> 8), byte(i)}, xid: uint32(i), prl: []byte{1, 3, 6, 15, 51, 54}}
		if extra != nil {
			c.opts = extra(i)
		}
		discovers[i] = c.packet(dhcpv4.Discover)
		eng.Handle(context.Background(), discovers[i], in, &reply)
		requests[i] = c.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"), option{dhcpv4.OptRequestedIP, reply.YIAddr.AsSlice()})
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := i % n
		if out := eng.Handle(ctx, discovers[k], in, &reply); out.Reason != ReasonOffer {
			b.Fatal(out.Reason)
		}
		if out := eng.Handle(ctx, requests[k], in, &reply); out.Reason != ReasonAck {
			b.Fatal(out.Reason)
		}
	}
}

// BenchmarkDiscoverParallel measures OFFERs from many goroutines over two
// subnets, to show lock contention.
func BenchmarkDiscoverParallel(b *testing.B) {
	cfg := testConfig()
	cfg.Subnets[0].Pools[0] = config.Range{First: mustAddr("198.18.0.10"), Last: mustAddr("198.18.0.249")}
	eng, err := New(cfg, &lease.Memory{}, func() time.Time { return t0 })
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var reply dhcpv4.Packet
		c := newClient(1)
		p := c.packet(dhcpv4.Discover)
		in := direct()
		for pb.Next() {
			eng.Handle(context.Background(), p, in, &reply)
		}
	})
	_ = netip.Addr{}
}
