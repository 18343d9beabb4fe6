package netio

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"leased/dhcpv4"
	"leased/events"
	"leased/server"
)

// ackHandler acknowledges every request with a lease of an hour.
type ackHandler struct{ out server.Outcome }

func (h ackHandler) Handle(_ context.Context, _ *dhcpv4.Packet, _ server.Arrival, reply *dhcpv4.Packet) server.Outcome {
	reply.Op = dhcpv4.BootReply
	reply.Options.SetMessageType(dhcpv4.Ack)
	reply.Options.SetDuration(dhcpv4.OptLeaseTime, time.Hour)
	reply.Options.Set(dhcpv4.OptServerID, []byte{198, 18, 0, 1})
	return h.out
}

// TestLeaseOutcomesArePublished: a committed DHCPACK is a commit, a
// renewed one a renew, a release and a decline are published as such,
// and an offer is no event.
func TestLeaseOutcomesArePublished(t *testing.T) {
	srv, err := Listen(Options{Addr: netip.MustParseAddrPort("127.0.0.1:0")})
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	defer srv.Close()
	var mu sync.Mutex
	var got []events.Type
	hooks := (*events.Hooks)(nil).Add(func(_ context.Context, r *events.Record) {
		mu.Lock()
		got = append(got, r.Type)
		mu.Unlock()
	}, 1, 16)
	srv.SetEvents(hooks)
	addr := netip.MustParseAddr("198.18.0.10")
	w := newWorker(1)
	in := server.Arrival{IfName: "eth0"}
	for _, out := range []server.Outcome{
		{Action: server.Reply, Reason: server.ReasonAck, Addr: addr},
		{Action: server.Reply, Reason: server.ReasonOffer, Addr: addr},
		{Action: server.Reply, Reason: server.ReasonAck, Addr: addr, Renewal: true},
		{Reason: server.ReasonReleased, Addr: addr},
		{Reason: server.ReasonDeclined, Addr: addr},
	} {
		w.req = dhcpv4.Packet{Op: dhcpv4.BootRequest, XID: 1}
		w.req.SetHardwareAddr(1, []byte{2, 0, 0, 0, 0, 1})
		w.req.Options.SetMessageType(dhcpv4.Request)
		w.reply = dhcpv4.Packet{}
		srv.publishEvent(&w.req, func() *dhcpv4.Packet {
			ackHandler{}.Handle(context.Background(), &w.req, in, &w.reply)
			return &w.reply
		}(), &out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hooks.Run(ctx); close(done) }()
	want := []events.Type{events.Commit, events.Renew, events.Release, events.Decline}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if len(got) != len(want) {
		t.Fatalf("published %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("published %v, want %v", got, want)
		}
	}
}

// BenchmarkHandlePublished measures the handling of a committed DHCPACK
// around the engine with lease events published: it must not allocate.
func BenchmarkHandlePublished(b *testing.B) {
	srv, err := Listen(Options{Addr: netip.MustParseAddrPort("127.0.0.1:0")})
	if err != nil {
		b.Skipf("cannot listen on loopback: %v", err)
	}
	defer srv.Close()
	// A queue nobody works: once full, events are dropped, as under a
	// flood; both paths must not allocate.
	srv.SetEvents((*events.Hooks)(nil).Add(func(context.Context, *events.Record) {}, 4, 1024))
	w := newWorker(1)
	w.req.Op, w.req.XID = dhcpv4.BootRequest, 1
	w.req.Options.SetMessageType(dhcpv4.Request)
	w.req.Options.Set(dhcpv4.OptHostName, []byte("host"))
	h := ackHandler{out: server.Outcome{Action: server.Reply, Reason: server.ReasonAck, Addr: netip.MustParseAddr("198.18.0.10")}}
	h.Handle(context.Background(), &w.req, server.Arrival{}, &w.reply)
	b.ReportAllocs()
	for i := range b.N {
		w.req.SetHardwareAddr(1, []byte{2, 0, 0, 0, byte(i >> 8), byte(i)})
		srv.publishEvent(&w.req, &w.reply, &h.out)
	}
}
