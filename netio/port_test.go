package netio

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"leased/dhcpv4"
)

// TestListenRefusesPortHeldByAnotherServer: SO_REUSEADDR lets a second
// server bind the port of a first; Listen refuses it, naming the process
// that holds the port, unless SharePort says it is meant.
func TestListenRefusesPortHeldByAnotherServer(t *testing.T) {
	first, err := Listen(Options{Addr: netip.MustParseAddrPort("127.0.0.1:0")})
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	defer first.Close()
	port := first.LocalAddr().Port()
	for _, tc := range []struct {
		name      string
		addr      string
		share     bool
		wantError bool
	}{
		{"second server on the same address -> refused", "127.0.0.1", false, true},
		{"second server on every address -> refused", "0.0.0.0", false, true},
		{"second server with SharePort -> serves", "127.0.0.1", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := netip.AddrPortFrom(netip.MustParseAddr(tc.addr), port)
			second, err := Listen(Options{Addr: addr, Interfaces: []string{"lo"}, SharePort: tc.share})
			if !tc.wantError {
				if err != nil {
					t.Fatalf("Listen: %v", err)
				}
				second.Close()
				return
			}
			if err == nil {
				second.Close()
				t.Fatal("a second server started on a port held by the first")
			}
			var held *PortInUseError
			if !errors.As(err, &held) {
				t.Fatalf("error %v is not a *PortInUseError", err)
			}
			want := "port " + strconv.Itoa(int(port)) + " on lo is held by process " + strconv.Itoa(os.Getpid())
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q, want %q", err, want)
			}
		})
	}
}

// TestSetInterfacesChangesServedInterfaces: a direct request arriving on
// an interface not served is dropped as foreign; once SetInterfaces names
// that interface it is served.
func TestSetInterfacesChangesServedInterfaces(t *testing.T) {
	srv, _ := loopbackServerWith(t, 0, func(o *Options) { o.Interfaces = []string{"nosuch0"} })
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	direct := relayedRequest(t, dhcpv4.Discover, 7, func(p *dhcpv4.Packet) { p.GIAddr = netip.IPv4Unspecified() })
	send := func() {
		if _, err := c.WriteToUDPAddrPort(direct, srv.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	waitStats := func(what string, ok func(Stats) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok(srv.Stats()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: stats %+v", what, srv.Stats())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	send()
	waitStats("request on lo while serving nosuch0 not dropped as foreign", func(s Stats) bool { return s.Foreign == 1 })
	srv.SetInterfaces([]string{"lo"})
	send()
	waitStats("request on lo once lo is served not handled", func(s Stats) bool { return s.Received == 2 && s.Outcomes["offer"] > 0 })
	if got := srv.Stats().Foreign; got != 1 {
		t.Errorf("foreign drops %d after serving lo, want 1", got)
	}
}
