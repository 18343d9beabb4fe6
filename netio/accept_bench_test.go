package netio

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"leased/dhcpv4"
	"leased/udp4"
)

// BenchmarkAcceptServedInterface measures the admission of a direct
// request on a served interface (parse, arrival, interface check): it
// must not allocate.
func BenchmarkAcceptServedInterface(b *testing.B) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		b.Skip(err)
	}
	srv, err := Listen(Options{Addr: netip.MustParseAddrPort("127.0.0.1:0"), Interfaces: []string{"eth9", "lo"}})
	if err != nil {
		b.Skipf("cannot listen on loopback: %v", err)
	}
	defer srv.Close()
	p := &dhcpv4.Packet{Op: dhcpv4.BootRequest, XID: 1}
	p.SetHardwareAddr(1, []byte{2, 0, 0, 0, 0, 1})
	p.Options.SetMessageType(dhcpv4.Discover)
	msg, err := p.Append(nil, 0)
	if err != nil {
		b.Fatal(err)
	}
	d := &udp4.Datagram{Data: msg, Src: netip.MustParseAddrPort("127.0.0.1:68"), IfIndex: lo.Index, Dst: netip.MustParseAddr("255.255.255.255")}
	w := newWorker(1)
	ctx := context.Background()
	if _, ok := srv.accept(ctx, w, d); !ok {
		b.Fatal("a request on a served interface was dropped")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		srv.accept(ctx, w, d)
	}
}
