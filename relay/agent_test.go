package relay

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"leased/dhcpv4"
)

// loopbackAgent starts an Agent on 127.0.0.1 serving the loopback
// interface, relaying to a UDP socket standing for the server. It returns
// the client's socket, whose port is the agent's client port, the server's
// socket and the agent's address.
func loopbackAgent(t testing.TB) (client, srv *net.UDPConn, a *Agent) {
	t.Helper()
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no loopback interface: %v", err)
	}
	local := netip.MustParseAddr("127.0.0.1")
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	client, srv = listen(), listen()
	r, err := New(Config{Downstream: []Interface{{Name: "lo", Index: lo.Index, Addr: local}}})
	if err != nil {
		t.Fatal(err)
	}
	a, err = Listen(Options{
		Addr:       netip.AddrPortFrom(local, 0),
		Servers:    []netip.AddrPort{srv.LocalAddr().(*net.UDPAddr).AddrPort()},
		Workers:    1,
		ClientPort: client.LocalAddr().(*net.UDPAddr).AddrPort().Port(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Serve(ctx, r)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return client, srv, a
}

// TestAgentLoopback relays a request from a client to the server and the
// server's reply, to ciaddr, back to the client, through a real Agent.
func TestAgentLoopback(t *testing.T) {
	client, srv, a := loopbackAgent(t)
	agent := a.LocalAddr()
	ciaddr := netip.MustParseAddr("127.0.0.1")
	req := request(t, func(p *dhcpv4.Packet) { p.CIAddr = ciaddr })
	reply := message(t, dhcpv4.BootReply, dhcpv4.Ack, func(p *dhcpv4.Packet) {
		p.CIAddr = ciaddr
		p.GIAddr = ciaddr
	})
	buf := make([]byte, 1500)
	for _, c := range []*net.UDPConn{client, srv} {
		if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.WriteToUDPAddrPort(req, agent); err != nil {
		t.Fatal(err)
	}
	n, from, err := srv.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal("relayed request: ", err)
	}
	got := parse(t, buf[:n])
	if got.Hops != 1 || got.GIAddr != ciaddr || got.XID != 0xc6120001 {
		t.Errorf("relayed request: hops %d, giaddr %v, xid %#x; want 1, %v, 0xc6120001", got.Hops, got.GIAddr, got.XID, ciaddr)
	}
	if from != agent {
		t.Errorf("relayed from %v, want the agent's %v", from, agent)
	}
	if _, err := srv.WriteToUDPAddrPort(reply, from); err != nil {
		t.Fatal(err)
	}
	if n, _, err = client.ReadFromUDPAddrPort(buf); err != nil {
		t.Fatal("delivered reply: ", err)
	}
	got = parse(t, buf[:n])
	if got.Op != dhcpv4.BootReply || got.MessageType() != dhcpv4.Ack || got.XID != 0xc6120001 {
		t.Errorf("delivered %v, want the server's ACK", got)
	}
	// The agent counts a reply after sending it: wait for the count.
	st := a.Stats()
	for deadline := time.Now().Add(5 * time.Second); st.Sent < 2 && time.Now().Before(deadline); st = a.Stats() {
		time.Sleep(time.Millisecond)
	}
	if st.Received != 2 || st.Sent != 2 || st.SendErrors != 0 || st.Reasons["forwarded"] != 1 || st.Reasons["delivered"] != 1 {
		t.Errorf("stats %+v, want 2 received, 2 sent, one forwarded and one delivered", st)
	}
}

// BenchmarkAgentLoopback measures the agent's datagram path over
// loopback: one op is a request a client sends to a real Agent, which
// relays it to the server's socket, and the server's reply (to ciaddr),
// which the agent delivers back to the client. The allocations are the
// whole process's: the agent's, and the client's and server's sockets'.
func BenchmarkAgentLoopback(b *testing.B) {
	client, srv, a := loopbackAgent(b)
	agent := a.LocalAddr()
	ciaddr := netip.MustParseAddr("127.0.0.1")
	req := request(b, func(p *dhcpv4.Packet) { p.CIAddr = ciaddr })
	reply := message(b, dhcpv4.BootReply, dhcpv4.Ack, func(p *dhcpv4.Packet) {
		p.CIAddr = ciaddr
		p.GIAddr = ciaddr
	})
	buf := make([]byte, 1500)
	for _, c := range []*net.UDPConn{client, srv} {
		if err := c.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.WriteToUDPAddrPort(req, agent); err != nil {
			b.Fatal(err)
		}
		n, from, err := srv.ReadFromUDPAddrPort(buf)
		if err != nil {
			b.Fatal("relayed request: ", err)
		}
		if n < dhcpv4.MinLen || buf[offHops] != 1 {
			b.Fatalf("relayed request of %d bytes, hops %d", n, buf[offHops])
		}
		if _, err := srv.WriteToUDPAddrPort(reply, from); err != nil {
			b.Fatal(err)
		}
		if n, _, err = client.ReadFromUDPAddrPort(buf); err != nil {
			b.Fatal("delivered reply: ", err)
		}
		if n < dhcpv4.MinLen || buf[offOp] != byte(dhcpv4.BootReply) {
			b.Fatalf("delivered %d bytes, op %d", n, buf[offOp])
		}
	}
}
