package netio

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/history"
	"leased/lease"
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

// classedHandler answers every request with the outcome of an engine
// whose client classes the request matched.
type classedHandler struct{ out server.Outcome }

func (h *classedHandler) Handle(context.Context, *dhcpv4.Packet, server.Arrival, *dhcpv4.Packet) server.Outcome {
	return h.out
}

// newClassedHandler returns a classedHandler whose outcome names two
// classes, and a DISCOVER that matched them.
func newClassedHandler(b *testing.B) *classedHandler {
	cfg, err := config.Parse("b.yaml", []byte(`interfaces: [eth0]
client-classes:
  - {name: phones, match: {vendor-class: phone}}
  - {name: lobby, match: {interface: eth0}}
subnets:
  - {prefix: 198.18.1.0/24, pools: [198.18.1.100-198.18.1.199]}
`))
	if err != nil {
		b.Fatal(err)
	}
	eng, err := server.New(cfg, &lease.Memory{}, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	req := &dhcpv4.Packet{Op: dhcpv4.BootRequest, XID: 1}
	req.SetHardwareAddr(1, []byte{2, 0, 0, 0, 0, 1})
	req.Options.SetMessageType(dhcpv4.Discover)
	req.Options.Set(dhcpv4.OptVendorClass, []byte("phone"))
	var reply dhcpv4.Packet
	out := eng.Handle(context.Background(), req, server.Arrival{IfIndex: 2, IfName: "eth0",
		IfAddrs: []netip.Prefix{netip.MustParsePrefix("198.18.1.1/24")}}, &reply)
	if out.Classes.String() != "phones,lobby" {
		b.Fatalf("classes %q", out.Classes.String())
	}
	out.Action = server.Drop // nothing to send
	return &classedHandler{out: out}
}

// BenchmarkHandleNoted measures the handling of a request around the
// engine (counting, logging, noting in the history) without and with a
// history, and with a history of a decision that names client classes:
// none may allocate.
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
	classed := newClassedHandler(b)
	for _, bc := range []struct {
		name string
		book *history.Book
		h    Handler
	}{
		{"no history", nil, silentHandler{}},
		{"history", history.New(history.Options{}), silentHandler{}},
		{"history with classes", history.New(history.Options{}), classed},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv.SetHistory(bc.book)
			b.ReportAllocs()
			for i := range b.N {
				w.req.SetHardwareAddr(1, []byte{2, 0, 0, 0, byte(i >> 8), byte(i)}) // many clients
				srv.handle(ctx, bc.h, w, &in)
			}
		})
	}
}
