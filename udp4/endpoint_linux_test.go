package udp4

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestEndpointOpensAndCloses(t *testing.T) {
	ep, err := OpenEndpoint(netip.MustParseAddrPort("127.0.0.1:0"))
	if err != nil {
		t.Skipf("no loopback socket: %v", err)
	}
	addr := ep.LocalAddr()
	if addr.Addr() != netip.MustParseAddr("127.0.0.1") || addr.Port() == 0 {
		t.Fatalf("LocalAddr = %v, want 127.0.0.1 and the port the kernel chose", addr)
	}
	if (ep.Link == nil) == (ep.LinkErr == nil) {
		t.Fatalf("Link %v and LinkErr %v: exactly one must be set", ep.Link, ep.LinkErr)
	}
	if ep.Writer == nil {
		t.Fatal("no Writer")
	}
	if err := ep.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := ep.Close(); err != nil {
		t.Fatalf("second Close = %v, want the first result (nil)", err)
	}
	if _, err := ep.Conn.WriteToUDPAddrPort([]byte{1}, addr); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close = %v, want net.ErrClosed", err)
	}
}

func TestEndpointRefusesABadAddress(t *testing.T) {
	// 198.18.0.0/15 is not configured on the host running the tests: the
	// bind fails and nothing is left open.
	if _, err := OpenEndpoint(netip.MustParseAddrPort("198.19.255.254:0")); err == nil {
		t.Fatal("OpenEndpoint on an address the host does not have succeeded")
	}
}
