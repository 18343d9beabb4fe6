package client

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"leased/dhcpv4"
)

// ack returns a DHCPACK of addrA from serverA with the options set by
// opts.
func ack(opts ...func(*dhcpv4.Options)) *dhcpv4.Packet {
	req := &dhcpv4.Packet{Op: dhcpv4.BootRequest, XID: 1}
	req.SetHardwareAddr(1, testMAC)
	return reply(req, dhcpv4.Ack, addrA, serverA, opts...)
}

func mustRoutes(t *testing.T, rs ...dhcpv4.Route) []byte {
	t.Helper()
	b, err := dhcpv4.AppendClasslessRoutes(nil, rs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func route(dest, router string) dhcpv4.Route {
	return dhcpv4.Route{Dest: netip.MustParsePrefix(dest), Router: netip.MustParseAddr(router)}
}

func TestLeaseFromAck(t *testing.T) {
	search, err := dhcpv4.AppendDomainList(nil, []string{"example.net", "lab.example.net"})
	if err != nil {
		t.Fatal(err)
	}
	routes := mustRoutes(t, route("0.0.0.0/0", "198.18.0.1"), route("198.19.0.0/16", "198.18.0.254"), route("198.18.5.0/24", "0.0.0.0"))
	lt := withDuration(dhcpv4.OptLeaseTime, time.Hour)
	for _, tc := range []struct {
		name  string
		opts  []func(*dhcpv4.Options)
		check func(t *testing.T, l *Lease)
	}{
		{
			name: "RFC2132 3.3 subnet mask gives the prefix length",
			opts: []func(*dhcpv4.Options){lt, func(o *dhcpv4.Options) { o.SetAddr(dhcpv4.OptSubnetMask, netip.MustParseAddr("255.255.254.0")) }},
			check: func(t *testing.T, l *Lease) {
				if l.Addr != netip.MustParsePrefix("198.18.0.100/23") {
					t.Errorf("address %v", l.Addr)
				}
			},
		},
		{
			name: "no mask: the class of the address (198.18.0.100 is class C)",
			opts: []func(*dhcpv4.Options){lt},
			check: func(t *testing.T, l *Lease) {
				if l.Addr.Bits() != 24 {
					t.Errorf("address %v, want /24", l.Addr)
				}
			},
		},
		{
			name: "non-contiguous mask: the class of the address",
			opts: []func(*dhcpv4.Options){lt, func(o *dhcpv4.Options) { o.SetAddr(dhcpv4.OptSubnetMask, netip.MustParseAddr("255.0.255.0")) }},
			check: func(t *testing.T, l *Lease) {
				if l.Addr.Bits() != 24 {
					t.Errorf("address %v, want /24", l.Addr)
				}
			},
		},
		{
			name: "RFC3442 classless routes decoded, routers kept",
			opts: []func(*dhcpv4.Options){lt, opt(dhcpv4.OptClasslessRoutes, routes), func(o *dhcpv4.Options) { o.SetAddrs(dhcpv4.OptRouter, addrs("198.18.0.9")) }},
			check: func(t *testing.T, l *Lease) {
				want := []dhcpv4.Route{route("0.0.0.0/0", "198.18.0.1"), route("198.19.0.0/16", "198.18.0.254"), route("198.18.5.0/24", "0.0.0.0")}
				if !slices.Equal(l.Routes, want) {
					t.Errorf("routes %v, want %v", l.Routes, want)
				}
				if !slices.Equal(l.EffectiveRoutes(), want) {
					t.Errorf("RFC 3442 3: effective routes %v, want the classless ones only", l.EffectiveRoutes())
				}
				if !equalAddrs(l.Routers, addrs("198.18.0.9")) {
					t.Errorf("routers %v", l.Routers)
				}
			},
		},
		{
			name: "malformed classless routes dropped whole",
			opts: []func(*dhcpv4.Options){lt, opt(dhcpv4.OptClasslessRoutes, []byte{24, 198, 18}), func(o *dhcpv4.Options) { o.SetAddrs(dhcpv4.OptRouter, addrs("198.18.0.9")) }},
			check: func(t *testing.T, l *Lease) {
				if l.Routes != nil {
					t.Errorf("routes %v from a malformed option", l.Routes)
				}
				want := []dhcpv4.Route{route("0.0.0.0/0", "198.18.0.9")}
				if !slices.Equal(l.EffectiveRoutes(), want) {
					t.Errorf("effective routes %v, want the default through the router", l.EffectiveRoutes())
				}
			},
		},
		{
			name: "RFC2132 domain search, NTP, broadcast, MTU, host name",
			opts: []func(*dhcpv4.Options){lt, opt(dhcpv4.OptDomainSearch, search),
				func(o *dhcpv4.Options) {
					o.SetAddrs(dhcpv4.OptNTPServers, addrs("198.18.0.123"))
					o.SetAddr(dhcpv4.OptBroadcastAddress, netip.MustParseAddr("198.18.0.255"))
					o.SetUint16(dhcpv4.OptInterfaceMTU, 1400)
					o.SetString(dhcpv4.OptHostName, "host1.example.net.")
				}},
			check: func(t *testing.T, l *Lease) {
				if !slices.Equal(l.Search, []string{"example.net", "lab.example.net"}) || !equalAddrs(l.NTP, addrs("198.18.0.123")) {
					t.Errorf("search %v ntp %v", l.Search, l.NTP)
				}
				if l.Broadcast != netip.MustParseAddr("198.18.0.255") || l.MTU != 1400 || l.Hostname != "host1.example.net" {
					t.Errorf("broadcast %v mtu %d hostname %q", l.Broadcast, l.MTU, l.Hostname)
				}
			},
		},
		{
			name: "RFC2132 5.1 MTU below 68 ignored",
			opts: []func(*dhcpv4.Options){lt, func(o *dhcpv4.Options) { o.SetUint16(dhcpv4.OptInterfaceMTU, 60) }},
			check: func(t *testing.T, l *Lease) {
				if l.MTU != 0 {
					t.Errorf("mtu %d", l.MTU)
				}
			},
		},
		{
			name: "names a shell would interpret are dropped",
			opts: []func(*dhcpv4.Options){lt, func(o *dhcpv4.Options) {
				o.SetString(dhcpv4.OptDomainName, "x.net; rm -rf /")
				o.SetString(dhcpv4.OptHostName, "$(reboot)")
			}},
			check: func(t *testing.T, l *Lease) {
				if l.Domain != "" || l.Hostname != "" {
					t.Errorf("domain %q hostname %q kept", l.Domain, l.Hostname)
				}
			},
		},
		{
			name: "unusable addresses dropped from lists",
			opts: []func(*dhcpv4.Options){lt, func(o *dhcpv4.Options) {
				o.SetAddrs(dhcpv4.OptDNSServers, addrs("0.0.0.0", "198.18.0.53", "255.255.255.255", "127.0.0.1"))
				o.SetAddrs(dhcpv4.OptRouter, addrs("224.0.0.1"))
			}},
			check: func(t *testing.T, l *Lease) {
				if !equalAddrs(l.DNS, addrs("198.18.0.53")) || l.Routers != nil {
					t.Errorf("dns %v routers %v", l.DNS, l.Routers)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := leaseFromAck("eth0", wire(t, ack(tc.opts...)), t0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if l.ServerID != serverA || l.LeaseTime != time.Hour || !l.Start.Equal(t0) || l.Interface != "eth0" {
				t.Errorf("lease %+v", l)
			}
			tc.check(t, l)
		})
	}
	t.Run("no lease time and no fallback is an error", func(t *testing.T) {
		if _, err := leaseFromAck("eth0", ack(), t0, 0); !errors.Is(err, ErrLease) {
			t.Errorf("err %v, want ErrLease", err)
		}
	})
	t.Run("yiaddr 0.0.0.0 is an error", func(t *testing.T) {
		a := ack(lt)
		a.YIAddr = netip.IPv4Unspecified()
		if _, err := leaseFromAck("eth0", a, t0, 0); !errors.Is(err, ErrLease) {
			t.Errorf("err %v, want ErrLease", err)
		}
	})
}

func TestBroadcastAddr(t *testing.T) {
	for _, tc := range []struct {
		prefix, sent, want string
	}{
		{"198.18.0.100/24", "", "198.18.0.255"},
		{"198.18.0.100/23", "", "198.18.1.255"},
		{"198.18.0.100/24", "198.18.0.127", "198.18.0.127"},
		{"198.18.0.100/31", "", ""},
		{"198.18.0.100/32", "", ""},
	} {
		l := &Lease{Addr: netip.MustParsePrefix(tc.prefix)}
		if tc.sent != "" {
			l.Broadcast = netip.MustParseAddr(tc.sent)
		}
		got := l.BroadcastAddr()
		if (tc.want == "" && got.IsValid()) || (tc.want != "" && got != netip.MustParseAddr(tc.want)) {
			t.Errorf("%s (option 28 %q): broadcast %v, want %q", tc.prefix, tc.sent, got, tc.want)
		}
	}
}

func fullLease() *Lease {
	return &Lease{
		Interface: "eth0",
		Addr:      netip.MustParsePrefix("198.18.0.100/24"),
		ServerID:  serverA,
		Routers:   addrs("198.18.0.1"),
		Routes:    []dhcpv4.Route{route("0.0.0.0/0", "198.18.0.1"), route("198.19.0.0/16", "198.18.0.254")},
		DNS:       addrs("198.18.0.53", "198.18.0.54"),
		Domain:    "example.net",
		Search:    []string{"example.net", "lab.example.net"},
		NTP:       addrs("198.18.0.123"),
		Broadcast: netip.MustParseAddr("198.18.0.255"),
		MTU:       1400,
		Hostname:  "host1",
		LeaseTime: time.Hour,
		T1:        20 * time.Minute,
		T2:        40 * time.Minute,
		Start:     t0,
	}
}

func TestLeaseJSON(t *testing.T) {
	t.Run("round trip", func(t *testing.T) {
		l := fullLease()
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		var got Lease
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !leaseEqual(&got, l) {
			t.Errorf("round trip\n got %+v\nwant %+v\nJSON %s", &got, l, b)
		}
	})
	t.Run("keys and values", func(t *testing.T) {
		b, _ := json.Marshal(fullLease())
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"interface": "eth0", "address": "198.18.0.100/24", "server_id": "198.18.0.1",
			"lease_time": 3600.0, "renewal_time": 1200.0, "rebinding_time": 2400.0,
			"start": "2026-03-01T12:00:00Z", "renew": "2026-03-01T12:20:00Z",
			"rebind": "2026-03-01T12:40:00Z", "expiry": "2026-03-01T13:00:00Z",
			"mtu": 1400.0, "domain": "example.net", "hostname": "host1", "broadcast": "198.18.0.255",
		}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s = %v, want %v", k, m[k], v)
			}
		}
		if !strings.Contains(string(b), `"routes":[{"destination":"0.0.0.0/0","router":"198.18.0.1"}`) {
			t.Errorf("routes not as objects: %s", b)
		}
	})
	t.Run("infinite lease has no expiry", func(t *testing.T) {
		l := fullLease()
		l.LeaseTime, l.T1, l.T2 = dhcpv4.Infinite, dhcpv4.Infinite, dhcpv4.Infinite
		b, _ := json.Marshal(l)
		if strings.Contains(string(b), "expiry") || !strings.Contains(string(b), `"lease_time":4294967295`) {
			t.Errorf("infinite lease JSON %s", b)
		}
		var got Lease
		if err := json.Unmarshal(b, &got); err != nil || !got.Infinite() {
			t.Errorf("decoded infinite %v, err %v", got.Infinite(), err)
		}
	})
	for _, bad := range []string{
		`{"address":"0.0.0.0/0","lease_time":60,"start":"2026-03-01T12:00:00Z"}`,
		`{"address":"198.18.0.100/24","lease_time":0,"start":"2026-03-01T12:00:00Z"}`,
		`{"lease_time":60}`,
		`[]`,
	} {
		t.Run("rejects "+bad, func(t *testing.T) {
			var l Lease
			if err := json.Unmarshal([]byte(bad), &l); err == nil {
				t.Errorf("accepted: %+v", l)
			}
		})
	}
}

func TestLeaseFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := LeaseFileName(dir, "eth0")
	if filepath.Base(path) != "client-eth0.json" {
		t.Errorf("lease file name %s", path)
	}
	if _, err := ReadLeaseFile(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: err %v, want fs.ErrNotExist", err)
	}
	l := fullLease()
	if err := WriteLeaseFile(path, l); err != nil {
		t.Fatal(err)
	}
	l2 := l.Clone()
	l2.Addr = netip.MustParsePrefix("198.18.0.101/24")
	if err := WriteLeaseFile(path, l2); err != nil {
		t.Fatal(err)
	}
	got, err := ReadLeaseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !leaseEqual(got, l2) {
		t.Errorf("read back %+v, want %+v", got, l2)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state directory holds %d entries, want only the lease file (no temporary left)", len(entries))
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLeaseFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("corrupt file: err %v, want one naming the file", err)
	}
	if err := RemoveLeaseFile(path); err != nil {
		t.Fatal(err)
	}
	if err := RemoveLeaseFile(path); err != nil {
		t.Errorf("removing a removed file: %v", err)
	}
}

func TestHookEnv(t *testing.T) {
	l := fullLease()
	env := Hook{Reason: ReasonBound, Lease: l}.Env("eth0")
	want := []string{
		"reason=BOUND", "interface=eth0", "ip=198.18.0.100", "prefix=24", "subnet=255.255.255.0",
		"cidr=198.18.0.100/24", "broadcast=198.18.0.255", "routers=198.18.0.1",
		"routes=0.0.0.0/0,198.18.0.1 198.19.0.0/16,198.18.0.254", "dns=198.18.0.53 198.18.0.54",
		"domain=example.net", "search=example.net lab.example.net", "ntp=198.18.0.123", "mtu=1400",
		"hostname=host1", "server_id=198.18.0.1", "lease_time=3600", "renewal_time=1200",
		"rebinding_time=2400", "start=" + itoa(t0.Unix()), "expiry=" + itoa(t0.Add(time.Hour).Unix()),
	}
	if !slices.Equal(env, want) {
		t.Errorf("env\n got %q\nwant %q", env, want)
	}
	t.Run("NAK without lease: reason and interface only", func(t *testing.T) {
		env := Hook{Reason: ReasonNak}.Env("eth1")
		if !slices.Equal(env, []string{"reason=NAK", "interface=eth1"}) {
			t.Errorf("env %q", env)
		}
	})
	t.Run("old_ip when the address changed", func(t *testing.T) {
		old := l.Clone()
		old.Addr = netip.MustParsePrefix("198.18.0.99/24")
		env := Hook{Reason: ReasonBound, Lease: l, Old: old}.Env("eth0")
		if !slices.Contains(env, "old_ip=198.18.0.99") {
			t.Errorf("env %q lacks old_ip", env)
		}
		env = Hook{Reason: ReasonRenew, Lease: l, Old: l}.Env("eth0")
		if slices.ContainsFunc(env, func(s string) bool { return strings.HasPrefix(s, "old_ip=") }) {
			t.Errorf("old_ip for an unchanged address: %q", env)
		}
	})
	t.Run("routes: default through the first router without option 121", func(t *testing.T) {
		l := fullLease()
		l.Routes = nil
		l.Routers = addrs("198.18.0.1", "198.18.0.2")
		env := Hook{Reason: ReasonBound, Lease: l}.Env("eth0")
		if !slices.Contains(env, "routes=0.0.0.0/0,198.18.0.1") {
			t.Errorf("env %q", env)
		}
	})
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestResolvConf(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Lease)
		want string
	}{
		{"search list and servers", nil, "# Written by leased client for eth0\nsearch example.net lab.example.net\nnameserver 198.18.0.53\nnameserver 198.18.0.54\n"},
		{"domain when no search list", func(l *Lease) { l.Search = nil }, "# Written by leased client for eth0\nsearch example.net\nnameserver 198.18.0.53\nnameserver 198.18.0.54\n"},
		{"nothing to write", func(l *Lease) { l.Search, l.Domain, l.DNS = nil, "", nil }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := fullLease()
			if tc.edit != nil {
				tc.edit(l)
			}
			if got := string(ResolvConf("eth0", l)); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestClientIDs(t *testing.T) {
	if got := IAIDFromHardware([]byte{1, 2, 3, 4, 5, 6}); got != 0x03040506 {
		t.Errorf("IAID %#x", got)
	}
	if got := IAIDFromHardware([]byte{5, 6}); got != 0x0506 {
		t.Errorf("IAID of a short address %#x", got)
	}
	if got := DUIDLL(1, []byte{1, 2, 3, 4, 5, 6}); !slices.Equal(got, []byte{0, 3, 0, 1, 1, 2, 3, 4, 5, 6}) {
		t.Errorf("DUID-LL %x", got)
	}
}

// TestNames checks that names from the network that a script should not
// see are dropped. The rule itself is dhcpv4.ValidHostname's, tested there.
func TestNames(t *testing.T) {
	for _, tc := range []struct {
		name, s, want string
	}{
		{"valid name kept, trailing dot dropped", "host_1-a.example.", "host_1-a.example"},
		{"shell metacharacters dropped", "$(x)", ""},
		{"RFC1123 2.1 leading '-' dropped (accepted before the client shared the server's rule)", "-x.example", ""},
		{"RFC1123 2.1 trailing '-' dropped", "x-.example", ""},
	} {
		var o dhcpv4.Options
		o.Set(dhcpv4.OptHostName, []byte(tc.s))
		o.Set(dhcpv4.OptDomainName, []byte(tc.s))
		var l Lease
		readOptions(&l, &o)
		if l.Hostname != tc.want || l.Domain != tc.want {
			t.Errorf("%s: host name %q, domain %q from %q; want %q", tc.name, l.Hostname, l.Domain, tc.s, tc.want)
		}
	}
}

func TestClassfulBits(t *testing.T) {
	for a, want := range map[string]int{"10.1.2.3": 8, "172.16.0.1": 16, "198.18.0.1": 24, "223.1.1.1": 24} {
		if got := classfulBits(netip.MustParseAddr(a)); got != want {
			t.Errorf("classfulBits(%s) = %d, want %d", a, got, want)
		}
	}
}

func TestReasonsAndStates(t *testing.T) {
	for r, want := range map[Reason]bool{ReasonBound: true, ReasonReboot: true, ReasonRenew: true, ReasonRebind: true,
		ReasonInform: true, ReasonExpire: false, ReasonRelease: false, ReasonNak: false} {
		if got := r.Configures(); got != want {
			t.Errorf("%s.Configures() = %v, want %v", r, got, want)
		}
	}
	for s := Init; s <= Stopped; s++ {
		want := s == Bound || s == Renewing || s == Rebinding
		if got := s.Configured(); got != want {
			t.Errorf("%v.Configured() = %v, want %v", s, got, want)
		}
	}
}

func TestActionStrings(t *testing.T) {
	l := fullLease()
	msg := &dhcpv4.Packet{Op: dhcpv4.BootRequest, XID: 0x1234}
	msg.Options.SetMessageType(dhcpv4.Release)
	for _, tc := range []struct {
		a    Action
		want string
	}{
		{Send{Msg: msg, To: serverA}, "send unicast to 198.18.0.1 DHCPRELEASE"},
		{Send{Msg: msg}, "send broadcast DHCPRELEASE"},
		{Probe{Addr: addrA}, "probe 198.18.0.100"},
		{Configure{Lease: l}, "configure 198.18.0.100/24"},
		{Configure{Lease: l, Old: l}, "configure 198.18.0.100/24 (was 198.18.0.100/24)"},
		{Deconfigure{Lease: l}, "deconfigure 198.18.0.100/24"},
		{RunHook{Hook{Reason: ReasonNak}}, "hook NAK"},
		{RunHook{Hook{Reason: ReasonBound, Lease: l}}, "hook BOUND 198.18.0.100/24"},
		{Save{Lease: l}, "save 198.18.0.100/24"},
		{Forget{}, "forget the saved lease"},
	} {
		if got := tc.a.String(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%T.String() = %q, want it to start with %q", tc.a, got, tc.want)
		}
	}
}
