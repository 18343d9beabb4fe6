package netio

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"leased/dhcpv4"
	"leased/history"
	"leased/server"
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

// silentHandler stays silent about every request.
type silentHandler struct{}

func (silentHandler) Handle(context.Context, *dhcpv4.Packet, server.Arrival, *dhcpv4.Packet) server.Outcome {
	return server.Outcome{Reason: server.ReasonNoSubnet, Type: dhcpv4.Discover}
}

// BenchmarkHandleNoted measures the handling of a request around the
// engine (counting, logging, noting in the history) without and with a
// history: neither may allocate.
func BenchmarkHandleNoted(b *testing.B) {
	srv, err := Listen(Options{Addr: netip.MustParseAddrPort("127.0.0.1:0")})
	if err != nil {
		b.Skipf("cannot listen on loopback: %v", err)
	}
	defer srv.Close()
	w := newWorker(1)
	w.req.Op, w.req.XID = dhcpv4.BootRequest, 1
	w.req.Options.SetMessageType(dhcpv4.Discover)
	in := server.Arrival{IfName: "eth0"}
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		book *history.Book
	}{{"no history", nil}, {"history", history.New(history.Options{})}} {
		b.Run(bc.name, func(b *testing.B) {
			srv.SetHistory(bc.book)
			b.ReportAllocs()
			for i := range b.N {
				w.req.SetHardwareAddr(1, []byte{2, 0, 0, 0, byte(i >> 8), byte(i)}) // many clients
				srv.handle(ctx, silentHandler{}, w, &in)
			}
		})
	}
}
