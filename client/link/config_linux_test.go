package link

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"leased/client"
	"leased/dhcpv4"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testLease() *client.Lease {
	return &client.Lease{
		Interface: "eth0",
		Addr:      netip.MustParsePrefix("198.18.0.100/24"),
		ServerID:  netip.MustParseAddr("198.18.0.1"),
		Routers:   []netip.Addr{netip.MustParseAddr("198.18.0.1")},
		DNS:       []netip.Addr{netip.MustParseAddr("198.18.0.53")},
		Domain:    "example.net",
		LeaseTime: time.Hour,
		T1:        30 * time.Minute,
		T2:        52*time.Minute + 30*time.Second,
		Start:     t0,
	}
}

func rt(dest, router string) dhcpv4.Route {
	return dhcpv4.Route{Dest: netip.MustParsePrefix(dest), Router: netip.MustParseAddr(router)}
}

func TestConfiguratorRoutes(t *testing.T) {
	c := &Configurator{Index: 7, Name: "eth0", Metric: 100}
	src := net.ParseIP("198.18.0.100").To4()
	for _, tc := range []struct {
		name string
		edit func(*client.Lease)
		want []netlink.Route
	}{
		{
			name: "RFC2132 3.5 default route through the first router",
			edit: func(l *client.Lease) { l.Routers = append(l.Routers, netip.MustParseAddr("198.18.0.2")) },
			want: []netlink.Route{{Gw: net.ParseIP("198.18.0.1").To4()}},
		},
		{
			name: "RFC3442 3 classless routes replace the routers; on-link and off-subnet routers",
			edit: func(l *client.Lease) {
				l.Routes = []dhcpv4.Route{rt("0.0.0.0/0", "198.18.0.254"), rt("198.19.0.0/16", "198.18.0.9"), rt("198.18.7.0/24", "0.0.0.0"), rt("198.19.1.0/24", "198.19.0.1")}
			},
			want: []netlink.Route{
				{Gw: net.ParseIP("198.18.0.254").To4()},
				{Dst: &net.IPNet{IP: net.ParseIP("198.19.0.0").To4(), Mask: net.CIDRMask(16, 32)}, Gw: net.ParseIP("198.18.0.9").To4()},
				{Dst: &net.IPNet{IP: net.ParseIP("198.18.7.0").To4(), Mask: net.CIDRMask(24, 32)}, Scope: netlink.SCOPE_LINK},
				{Dst: &net.IPNet{IP: net.ParseIP("198.19.1.0").To4(), Mask: net.CIDRMask(24, 32)}, Gw: net.ParseIP("198.19.0.1").To4(), Flags: int(netlink.FLAG_ONLINK)},
			},
		},
		{
			name: "no routers, no routes",
			edit: func(l *client.Lease) { l.Routers = nil },
			want: nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := testLease()
			tc.edit(l)
			got := c.routes(l)
			if len(got) != len(tc.want) {
				t.Fatalf("%d routes, want %d: %v", len(got), len(tc.want), got)
			}
			for i, r := range got {
				w := tc.want[i]
				if r.LinkIndex != 7 || r.Protocol != unix.RTPROT_DHCP || r.Priority != 100 || !r.Src.Equal(src) || r.Table != unix.RT_TABLE_MAIN {
					t.Errorf("route %d: %+v", i, r)
				}
				if r.Dst.String() != w.Dst.String() || !r.Gw.Equal(w.Gw) || r.Scope != w.Scope || r.Flags != w.Flags {
					t.Errorf("route %d: %s scope %v flags %d, want %s via %v scope %v flags %d", i, routeString(r), r.Scope, r.Flags, w.Dst, w.Gw, w.Scope, w.Flags)
				}
			}
		})
	}
}

func TestConfiguratorAddr(t *testing.T) {
	now := t0.Add(10 * time.Minute)
	c := &Configurator{Index: 7, Name: "eth0", Now: func() time.Time { return now }}
	a := c.addr(testLease())
	if a.IPNet.String() != "198.18.0.100/24" || a.Broadcast.String() != "198.18.0.255" {
		t.Errorf("address %v broadcast %v", a.IPNet, a.Broadcast)
	}
	if a.ValidLft != 50*60 || a.PreferedLft != 50*60 {
		t.Errorf("lifetimes %d %d, want the 3000 s left of the lease", a.ValidLft, a.PreferedLft)
	}
	inf := testLease()
	inf.LeaseTime = dhcpv4.Infinite
	if a := c.addr(inf); a.ValidLft != 0 || a.PreferedLft != 0 {
		t.Errorf("infinite lease lifetimes %d %d, want none (forever)", a.ValidLft, a.PreferedLft)
	}
	late := testLease()
	late.Start = t0.Add(-2 * time.Hour)
	if a := c.addr(late); a.ValidLft != 1 {
		t.Errorf("expired lease lifetime %d, want the 1 s minimum", a.ValidLft)
	}
}

func TestScript(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	script := filepath.Join(dir, "hook")
	body := "#!/bin/sh\n{ echo \"arg=$1\"; env; } > " + out + "\n[ \"$1\" = NAK ] && { echo refusing >&2; exit 3; }\nexit 0\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &Script{Path: script, Interface: "eth0", Env: []string{"PATH=/usr/bin:/bin", "ip=overridden"}}
	if err := s.Run(context.Background(), client.Hook{Reason: client.ReasonBound, Lease: testLease()}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for _, want := range []string{"arg=BOUND", "reason=BOUND", "interface=eth0", "ip=198.18.0.100", "prefix=24", "dns=198.18.0.53", "domain=example.net", "PATH=/usr/bin:/bin"} {
		if !slices.Contains(lines, want) {
			t.Errorf("the script did not see %q:\n%s", want, b)
		}
	}
	if slices.Contains(lines, "ip=overridden") {
		t.Errorf("the lease's ip did not override the base environment")
	}
	err = s.Run(context.Background(), client.Hook{Reason: client.ReasonNak})
	if err == nil || !strings.Contains(err.Error(), "refusing") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("failing script: %v, want its status and output", err)
	}
	t.Run("killed after the timeout", func(t *testing.T) {
		slow := filepath.Join(dir, "slow")
		if err := os.WriteFile(slow, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		s := &Script{Path: slow, Interface: "eth0", Timeout: 100 * time.Millisecond, Env: []string{"PATH=/usr/bin:/bin"}}
		if err := s.Run(context.Background(), client.Hook{Reason: client.ReasonRenew}); err == nil || !strings.Contains(err.Error(), "killed after") {
			t.Errorf("slow script: %v", err)
		}
	})
}

func TestWriteResolvConf(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(path, []byte("nameserver 198.18.0.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteResolvConf(path, "eth0", testLease()); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if want := "# Written by leased client for eth0\nsearch example.net\nnameserver 198.18.0.53\n"; string(b) != want {
		t.Errorf("resolv.conf\n%s\nwant\n%s", b, want)
	}
	empty := testLease()
	empty.DNS, empty.Domain = nil, ""
	if err := WriteResolvConf(path, "eth0", empty); err != nil {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(path); string(b2) != string(b) {
		t.Errorf("a lease without DNS changed the file to\n%s", b2)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files in the directory, want no temporary left", len(entries))
	}
}
