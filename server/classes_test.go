package server

import (
	"encoding/binary"
	"net"
	"net/netip"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

// yamlEnv is an engine over the configuration in the YAML lines, which
// hold client-classes and a subnet body for 198.18.0.0/24 (its pools
// default to 198.18.0.10-198.18.0.19).
func yamlEnv(t *testing.T, ls ...string) *env {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(strings.Join(append([]string{"interfaces: [eth0]", "lease-time: 1h"}, ls...), "\n")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, now: t0, store: &lease.Memory{}, cfg: cfg}
	e.restart()
	return e
}

// classNames returns the names of the classes req matches on arrival in.
func (e *env) classNames(req *dhcpv4.Packet, in Arrival) []string {
	s := e.eng.selectSubnet(req, &in)
	return e.eng.classes.names(e.eng.classes.classify(req, &in, s))
}

func relayInfo(subs ...[]byte) option {
	return option{dhcpv4.OptRelayAgentInfo, slices.Concat(subs...)}
}

func sub(code uint8, v string) []byte { return dhcpv4.AppendSubOption(nil, code, []byte(v)) }

func arch(types ...uint16) option {
	var b []byte
	for _, a := range types {
		b = binary.BigEndian.AppendUint16(b, a)
	}
	return option{optClientArch, b}
}

func TestClassMatchKinds(t *testing.T) {
	e := yamlEnv(t,
		"client-classes:",
		"  - {name: vc, match: {vendor-class: PXEClient:Arch:00000}}",
		"  - {name: vcp, match: {vendor-class-prefix: PXEClient}}",
		"  - {name: uc, match: {user-class: iPXE}}",
		"  - {name: uefi, match: {arch: [7, 9]}}",
		"  - {name: bios, match: {arch: 0}}",
		"  - {name: circ, match: {circuit-id: port7}}",
		"  - {name: rem, match: {remote-id: {hex: \"0a0b\"}}}",
		"  - {name: subs, match: {subscriber-id: cust-1}}",
		"  - {name: oui, match: {hw-prefix: \"02:00:5e\"}}",
		"  - {name: ifc, match: {interface: eth0}}",
		"  - {name: net, match: {subnet: 198.19.0.0/24}}",
		"  - {name: host, match: {hostname: \"printer-[0-9]*\"}}",
		"  - {name: opt, match: {option: 81}}",
		"  - {name: ref, match: {class: uc}}",
		"  - {name: both, match: {vendor-class-prefix: PXEClient, arch: 7}}",
		"  - {name: either, match: {any-of: [{user-class: iPXE}, {hostname: \"tv*\"}]}}",
		"  - {name: firmware, match: {all-of: [{class: vcp}, {not: {class: uc}}]}}",
		"subnets:",
		"  - {prefix: 198.18.0.0/24, pools: [198.18.0.10-198.18.0.19]}",
		"  - {prefix: 198.19.0.0/24, pools: [198.19.0.10-198.19.0.19]}",
	)
	relay := relayed()
	relayPkt := func(c *client, o ...option) *dhcpv4.Packet {
		p := c.packet(dhcpv4.Discover, o...)
		p.GIAddr = relayAddr
		return p
	}
	plain := newClient(1)
	oui := &client{mac: net.HardwareAddr{2, 0, 0x5e, 1, 2, 3}, xid: 9}
	tests := []struct {
		name string
		req  *dhcpv4.Packet
		in   Arrival
		want []string
	}{
		{"no class options: only the interface and", plain.packet(dhcpv4.Discover), direct(), []string{"ifc"}},
		{"RFC2132 9.13 vendor class exact and prefix", plain.packet(dhcpv4.Discover, option{dhcpv4.OptVendorClass, []byte("PXEClient:Arch:00000")}), direct(),
			[]string{"vc", "vcp", "ifc", "firmware"}},
		{"RFC2132 9.13 vendor class prefix only", plain.packet(dhcpv4.Discover, option{dhcpv4.OptVendorClass, []byte("PXEClient:Arch:00007")}), direct(),
			[]string{"vcp", "ifc", "firmware"}},
		{"vendor class shorter than the prefix", plain.packet(dhcpv4.Discover, option{dhcpv4.OptVendorClass, []byte("PXE")}), direct(), []string{"ifc"}},
		{"RFC3004 user class entry", plain.packet(dhcpv4.Discover, option{dhcpv4.OptUserClass, []byte("\x03abc\x04iPXE")}), direct(),
			[]string{"uc", "ifc", "ref", "either"}},
		{"user class as the plain text iPXE sends", plain.packet(dhcpv4.Discover, option{dhcpv4.OptUserClass, []byte("iPXE")}), direct(),
			[]string{"uc", "ifc", "ref", "either"}},
		{"RFC3004 user class entry that only begins with it", plain.packet(dhcpv4.Discover, option{dhcpv4.OptUserClass, []byte("\x05iPXEx")}), direct(), []string{"ifc"}},
		{"RFC4578 2.1 arch any of the list", plain.packet(dhcpv4.Discover, arch(9)), direct(), []string{"uefi", "ifc"}},
		{"RFC4578 2.1 arch 0 BIOS", plain.packet(dhcpv4.Discover, arch(0)), direct(), []string{"bios", "ifc"}},
		{"RFC4578 2.1 arch several types in the option", plain.packet(dhcpv4.Discover, arch(6, 7)), direct(), []string{"uefi", "ifc"}},
		{"all keys of one mapping must match", plain.packet(dhcpv4.Discover, arch(7), option{dhcpv4.OptVendorClass, []byte("PXEClient:Arch:00007")}), direct(),
			[]string{"vcp", "uefi", "ifc", "both", "firmware"}},
		{"RFC3046 circuit-id", relayPkt(plain, relayInfo(sub(1, "port7"))), relay, []string{"circ", "net"}},
		{"RFC3046 remote-id in hex", relayPkt(plain, relayInfo(sub(1, "port8"), sub(2, "\x0a\x0b"))), relay, []string{"rem", "net"}},
		{"RFC3993 subscriber-id", relayPkt(plain, relayInfo(sub(6, "cust-1"))), relay, []string{"subs", "net"}},
		{"interface does not match a relayed request", relayPkt(plain), relay, []string{"net"}},
		{"hardware address prefix", oui.packet(dhcpv4.Discover), direct(), []string{"oui", "ifc"}},
		{"the selected subnet", func() *dhcpv4.Packet { p := plain.packet(dhcpv4.Discover); p.GIAddr = mustAddr("198.19.0.1"); return p }(), relay, []string{"net"}},
		{"RFC2132 3.14 host name glob", plain.packet(dhcpv4.Discover, option{dhcpv4.OptHostName, []byte("printer-42")}), direct(), []string{"ifc", "host"}},
		{"host name glob no match", plain.packet(dhcpv4.Discover, option{dhcpv4.OptHostName, []byte("printer-x")}), direct(), []string{"ifc"}},
		{"any-of", plain.packet(dhcpv4.Discover, option{dhcpv4.OptHostName, []byte("tv-lounge")}), direct(), []string{"ifc", "either"}},
		{"option present", plain.packet(dhcpv4.Discover, option{dhcpv4.OptClientFQDN, []byte{0, 0, 0}}), direct(), []string{"ifc", "opt"}},
		{"not of a class: iPXE itself is not firmware", plain.packet(dhcpv4.Discover, option{dhcpv4.OptVendorClass, []byte("PXEClient:Arch:00007")}, option{dhcpv4.OptUserClass, []byte("iPXE")}), direct(),
			[]string{"vcp", "uc", "ifc", "ref", "either"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.classNames(tt.req, tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("classes %v, want %v", got, tt.want)
			}
		})
	}
}

// leaseSeconds returns option 51, 58 and 59 of a reply in seconds.
func leaseSeconds(t *testing.T, p *dhcpv4.Packet) [3]uint32 {
	t.Helper()
	var out [3]uint32
	for i, c := range []dhcpv4.OptionCode{dhcpv4.OptLeaseTime, dhcpv4.OptRenewalTime, dhcpv4.OptRebindingTime} {
		v, ok := p.Options.Uint32(c)
		if !ok {
			t.Fatalf("%v missing", c)
		}
		out[i] = v
	}
	return out
}

func TestClassOptionPrecedence(t *testing.T) {
	e := yamlEnv(t,
		"options: {domain-name: global.example, ntp-servers: [198.18.0.123], dns-servers: [198.18.0.53]}",
		"client-classes:",
		"  - name: first",
		"    match: {vendor-class-prefix: acme}",
		"    options: {domain-name: first.example, log-servers: [198.18.0.7], time-offset: 1}",
		"  - name: second",
		"    match: {vendor-class: acme-phone}",
		"    options: {domain-name: second.example, time-offset: 2}",
		"  - name: tagged",
		"    options: {time-offset: 3}",
		"subnets:",
		"  - prefix: 198.18.0.0/24",
		"    pools: [198.18.0.10-198.18.0.19]",
		"    options: {ntp-servers: [198.18.0.124]}",
		"    reservations:",
		"      - {hw-address: 02:00:00:00:00:09, address: 198.18.0.50, classes: [tagged], options: {domain-name: reserved.example}}",
	)
	prl := []byte{byte(dhcpv4.OptDomainName), byte(dhcpv4.OptNTPServers), byte(dhcpv4.OptDNSServers), byte(dhcpv4.OptLogServer), 2}
	vc := func(s string) option { return option{dhcpv4.OptVendorClass, []byte(s)} }
	tests := []struct {
		name   string
		mac    byte
		extra  []option
		domain string
		ntp    string
		log    bool
		offset byte // time-offset's last byte, 0 when absent
	}{
		{"subnet over global", 1, nil, "global.example", "198.18.0.124", false, 0},
		{"class over subnet and global", 2, []option{vc("acme-tv")}, "first.example", "198.18.0.124", true, 1},
		{"later class over earlier class", 3, []option{vc("acme-phone")}, "second.example", "198.18.0.124", true, 2},
		{"reservation over class; reservation adds a class", 9, []option{vc("acme-phone")}, "reserved.example", "198.18.0.124", true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(tt.mac)
			c.prl = prl
			_, offer := e.handle(c.packet(dhcpv4.Discover, tt.extra...), direct())
			if offer == nil {
				t.Fatal("no offer")
			}
			if v, _ := offer.Options.Get(dhcpv4.OptDomainName); string(v) != tt.domain {
				t.Errorf("domain-name %q, want %q", v, tt.domain)
			}
			if a, _ := offer.Options.Addr(dhcpv4.OptNTPServers); a != mustAddr(tt.ntp) {
				t.Errorf("ntp-servers %v, want %v", a, tt.ntp)
			}
			if offer.Options.Has(dhcpv4.OptLogServer) != tt.log {
				t.Errorf("log-servers present %v, want %v", !tt.log, tt.log)
			}
			v, ok := offer.Options.Get(2)
			if got := byte(0); ok && len(v) == 4 {
				got = v[3]
				if got != tt.offset {
					t.Errorf("time-offset %d, want %d", got, tt.offset)
				}
			} else if tt.offset != 0 {
				t.Errorf("time-offset missing, want %d", tt.offset)
			}
		})
	}
	t.Run("RFC2131 4.3.1 without a parameter request list every configured option, the class's too", func(t *testing.T) {
		c := newClient(4)
		c.prl = nil
		_, offer := e.handle(c.packet(dhcpv4.Discover, vc("acme-tv")), direct())
		if offer == nil || !offer.Options.Has(dhcpv4.OptLogServer) || !offer.Options.Has(dhcpv4.OptDNSServers) {
			t.Fatalf("offer %v", offer)
		}
	})
}

func TestClassLeaseTimes(t *testing.T) {
	e := yamlEnv(t,
		"client-classes:",
		"  - {name: phones, match: {vendor-class: phone}, lease-time: 8h}",
		"  - {name: short-t1, match: {user-class: fast}, renewal-time: 10m}",
		"  - {name: kiosk, match: {hostname: kiosk*}, lease-time: 20m, renewal-time: 5m, rebinding-time: 15m}",
		"subnets:",
		"  - {prefix: 198.18.0.0/24, pools: [198.18.0.10-198.18.0.19], renewal-time: 40m}",
	)
	tests := []struct {
		name  string
		mac   byte
		extra []option
		want  [3]uint32
	}{
		{"subnet times", 1, nil, [3]uint32{3600, 2400, 3150}},
		{"RFC2131 4.4.5 class lease time brings T1 1/2 and T2 7/8 of it", 2, []option{{dhcpv4.OptVendorClass, []byte("phone")}}, [3]uint32{8 * 3600, 4 * 3600, 7 * 3600}},
		{"class renewal time alone", 3, []option{{dhcpv4.OptUserClass, []byte("fast")}}, [3]uint32{3600, 600, 3150}},
		{"class lease, renewal and rebinding times", 4, []option{{dhcpv4.OptHostName, []byte("kiosk-3")}}, [3]uint32{1200, 300, 900}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(tt.mac)
			c.opts = tt.extra
			_, offer := e.handle(c.packet(dhcpv4.Discover), direct())
			if offer == nil {
				t.Fatal("no offer")
			}
			if got := leaseSeconds(t, offer); got != tt.want {
				t.Errorf("OFFER times %v, want %v", got, tt.want)
			}
			a := e.dora(c, direct())
			_, ack := e.handle(c.packet(dhcpv4.Request, optAddr(dhcpv4.OptRequestedIP, a.String())), direct())
			if got := leaseSeconds(t, ack); got != tt.want {
				t.Errorf("ACK times %v, want %v", got, tt.want)
			}
			l, ok := e.stored(a)
			if !ok || l.Expiry.Sub(e.now) != time.Duration(tt.want[0])*time.Second {
				t.Errorf("stored lease %+v, want expiry in %ds", l, tt.want[0])
			}
		})
	}
}

func TestClassPools(t *testing.T) {
	e := yamlEnv(t,
		"client-classes:",
		"  - {name: phones, match: {vendor-class: phone}}",
		"  - {name: guests, match: {hw-prefix: \"02:00:5e\"}}",
		"subnets:",
		"  - prefix: 198.18.0.0/24",
		"    pools:",
		"      - {range: 198.18.0.10-198.18.0.11, classes: [phones]}",
		"      - {range: 198.18.0.20-198.18.0.21, deny-classes: [guests]}",
		"      - {range: 198.18.0.30-198.18.0.31, classes: [guests], relay-match: {circuit-id: lobby}}",
	)
	inRange := func(a netip.Addr, first, last string) bool {
		return !a.Less(mustAddr(first)) && !mustAddr(last).Less(a)
	}
	phone := func(n byte) *client {
		c := newClient(n)
		c.opts = []option{{dhcpv4.OptVendorClass, []byte("phone")}}
		return c
	}
	guest := func(n byte) *client { return &client{mac: net.HardwareAddr{2, 0, 0x5e, 0, 0, n}, xid: uint32(n)} }

	t.Run("a pool with classes serves its classes first", func(t *testing.T) {
		if a := e.dora(phone(1), direct()); !inRange(a, "198.18.0.10", "198.18.0.11") {
			t.Errorf("phone got %v", a)
		}
	})
	t.Run("a pool with classes serves no other client", func(t *testing.T) {
		for n := byte(2); n <= 3; n++ {
			if a := e.dora(newClient(n), direct()); !inRange(a, "198.18.0.20", "198.18.0.21") {
				t.Errorf("client %d got %v", n, a)
			}
		}
		out, _ := e.handle(newClient(4).packet(dhcpv4.Discover), direct())
		if out.Reason != ReasonExhausted {
			t.Errorf("third plain client: %v, want pool-exhausted", out.Reason)
		}
	})
	t.Run("a class kept out by deny-classes and a relay match not met", func(t *testing.T) {
		out, _ := e.handle(guest(5).packet(dhcpv4.Discover), direct())
		if out.Reason != ReasonExhausted {
			t.Errorf("guest: %v, want pool-exhausted", out.Reason)
		}
	})
	t.Run("classes combine with relay-match", func(t *testing.T) {
		p := guest(6).packet(dhcpv4.Discover, relayInfo(sub(1, "lobby")))
		p.GIAddr = mustAddr("198.18.0.2")
		in := relayed()
		in.Src = netip.AddrPortFrom(p.GIAddr, 67)
		out, offer := e.handle(p, in)
		if offer == nil || !inRange(offer.YIAddr, "198.18.0.30", "198.18.0.31") {
			t.Errorf("relayed guest in the lobby: %v %v", out.Reason, offer)
		}
		p = guest(7).packet(dhcpv4.Discover, relayInfo(sub(1, "office")))
		p.GIAddr = in.Src.Addr()
		if out, _ := e.handle(p, in); out.Reason != ReasonExhausted {
			t.Errorf("relayed guest elsewhere: %v, want pool-exhausted", out.Reason)
		}
	})
	t.Run("RFC2131 4.3.2 SELECTING a pool address the client's classes may not have: NAK", func(t *testing.T) {
		c := newClient(7)
		out, _ := e.handle(c.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"), optAddr(dhcpv4.OptRequestedIP, "198.18.0.11")), direct())
		if out.Reason != ReasonNakAddress {
			t.Errorf("got %v, want nak-address", out.Reason)
		}
	})
}

func TestIgnoredClass(t *testing.T) {
	e := yamlEnv(t,
		"client-classes:",
		"  - {name: blocked, match: {hw-prefix: \"02:00:5e\"}, ignore: true}",
		"subnets:",
		"  - {prefix: 198.18.0.0/24, pools: [198.18.0.10-198.18.0.19]}",
	)
	c := &client{mac: net.HardwareAddr{2, 0, 0x5e, 0, 0, 1}, xid: 1}
	for _, tt := range []struct {
		name string
		req  *dhcpv4.Packet
		in   Arrival
	}{
		{"DISCOVER", c.packet(dhcpv4.Discover), direct()},
		{"REQUEST SELECTING", c.packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"), optAddr(dhcpv4.OptRequestedIP, "198.18.0.10")), direct()},
		{"REQUEST INIT-REBOOT", c.packet(dhcpv4.Request, optAddr(dhcpv4.OptRequestedIP, "198.18.0.10")), direct()},
		{"INFORM", func() *dhcpv4.Packet { p := c.packet(dhcpv4.Inform); p.CIAddr = mustAddr("198.18.0.77"); return p }(), unicastTo(mustAddr("198.18.0.77"))},
	} {
		t.Run(tt.name+" of an ignored class gets no answer", func(t *testing.T) {
			out, reply := e.handle(tt.req, tt.in)
			if out.Action != Drop || out.Reason != ReasonIgnoredClass || reply != nil {
				t.Errorf("outcome %+v, want a drop for ignored-class", out)
			}
		})
	}
	if ReasonIgnoredClass.String() != "ignored-class" {
		t.Errorf("reason token %q", ReasonIgnoredClass)
	}
	if a := e.dora(newClient(2), direct()); !a.IsValid() {
		t.Error("a client of no class was not served")
	}
}

func TestLeaseViewClasses(t *testing.T) {
	e := yamlEnv(t,
		"client-classes:",
		"  - {name: phones, match: {vendor-class: phone}}",
		"  - {name: vip}",
		"subnets:",
		"  - prefix: 198.18.0.0/24",
		"    pools: [198.18.0.10-198.18.0.19]",
		"    reservations: [{hw-address: 02:00:00:00:00:09, address: 198.18.0.50, classes: [vip]}]",
	)
	phone := newClient(1)
	phone.opts = []option{{dhcpv4.OptVendorClass, []byte("phone")}}
	reserved := newClient(9)
	reserved.opts = phone.opts
	for _, tt := range []struct {
		name string
		c    *client
		want []string
	}{
		{"the classes of the last request", phone, []string{"phones"}},
		{"no class", newClient(2), nil},
		{"with the reservation's", reserved, []string{"phones", "vip"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := e.dora(tt.c, direct())
			v, ok := e.eng.LeaseByAddr(a)
			if !ok || !slices.Equal(v.Classes, tt.want) {
				t.Errorf("view %+v, want classes %v", v, tt.want)
			}
		})
	}
	t.Run("a renewal without the vendor class updates them", func(t *testing.T) {
		phone.opts = nil
		a := mustAddr("198.18.0.10")
		if v, _ := e.eng.LeaseByAddr(a); len(v.Classes) != 1 {
			t.Fatalf("before: %+v", v)
		}
		out, _ := e.handle(phone.packet(dhcpv4.Request, optAddr(dhcpv4.OptRequestedIP, a.String())), direct())
		if out.Reason != ReasonAck {
			t.Fatal(out.Reason)
		}
		if v, _ := e.eng.LeaseByAddr(a); v.Classes != nil {
			t.Errorf("after: %v", v.Classes)
		}
	})
}

func TestGlobMatchAgreesWithPathMatch(t *testing.T) {
	patterns := []string{"*", "printer-*", "tv?", "[a-c]*", "[^a-c]x", "a\\*b", "*-[0-9][0-9]", "*x*y*", "[]a]", "[\\]]", "a*/b", ""}
	names := []string{"", "printer-1", "printer", "tv1", "tv12", "abc", "dx", "ax", "a*b", "aab", "kiosk-42", "xay", "yx", "]", "a", "a/b", "ab/b"}
	for _, p := range patterns {
		for _, n := range names {
			want, err := path.Match(p, n)
			if err != nil {
				continue
			}
			if got := globMatch(p, []byte(n)); got != want {
				t.Errorf("globMatch(%q, %q) = %v, path.Match says %v", p, n, got, want)
			}
		}
	}
}

// FuzzGlobMatch checks globMatch, the allocation-free matcher of host
// names, against path.Match, whose syntax the configuration accepts.
func FuzzGlobMatch(f *testing.F) {
	for _, s := range [][2]string{{"printer-*", "printer-1"}, {"[a-c]?x", "bzx"}, {"*\\*", "a*"}, {"[^0-9]*", "x1"}, {"a*b*c", "aXbYbc"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		want, err := path.Match(pattern, name)
		if err != nil {
			return // refused by the configuration
		}
		if _, err := path.Match(pattern, ""); err != nil {
			return
		}
		if got := globMatch(pattern, []byte(name)); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, path.Match says %v", pattern, name, got, want)
		}
	})
}

func TestOutcomeClasses(t *testing.T) {
	e := yamlEnv(t,
		"client-classes:",
		"  - {name: phones, match: {vendor-class: phone}}",
		"  - {name: vip}",
		"  - {name: lobby, match: {hostname: \"lobby-*\"}}",
		"  - {name: blocked, match: {hw-prefix: \"02:00:5e\"}, ignore: true}",
		"subnets:",
		"  - prefix: 198.18.0.0/24",
		"    pools: [{range: 198.18.0.10-198.18.0.10, classes: [phones]}]",
		"    reservations: [{hw-address: 02:00:00:00:00:09, address: 198.18.0.50, classes: [vip]}]",
	)
	phone := func(n byte) *client {
		c := newClient(n)
		c.opts = []option{{dhcpv4.OptVendorClass, []byte("phone")}, {dhcpv4.OptHostName, []byte("lobby-1")}}
		return c
	}
	reserved := newClient(9)
	reserved.opts = []option{{dhcpv4.OptVendorClass, []byte("phone")}}
	tests := []struct {
		name   string
		req    *dhcpv4.Packet
		in     Arrival
		reason Reason
		want   []string
	}{
		{"OFFER carries the classes matched, in file order", phone(1).packet(dhcpv4.Discover), direct(), ReasonOffer, []string{"phones", "lobby"}},
		{"ACK carries the classes matched", phone(1).packet(dhcpv4.Request, optAddr(dhcpv4.OptServerID, "198.18.0.1"), optAddr(dhcpv4.OptRequestedIP, "198.18.0.10")),
			direct(), ReasonAck, []string{"phones", "lobby"}},
		{"a silence for a full pool carries them", phone(2).packet(dhcpv4.Discover), direct(), ReasonExhausted, []string{"phones", "lobby"}},
		{"a reservation's classes join those matched", reserved.packet(dhcpv4.Discover), direct(), ReasonOffer, []string{"phones", "vip"}},
		{"ignored-class names the class that ignores", (&client{mac: net.HardwareAddr{2, 0, 0x5e, 0, 0, 1}, xid: 1}).packet(dhcpv4.Discover), direct(),
			ReasonIgnoredClass, []string{"blocked"}},
		{"a client of no class: none", newClient(3).packet(dhcpv4.Discover), direct(), ReasonExhausted, nil},
		{"no subnet: not classified", func() *dhcpv4.Packet {
			p := phone(4).packet(dhcpv4.Discover)
			p.GIAddr = mustAddr("198.19.9.1")
			return p
		}(),
			relayed(), ReasonNoSubnet, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := e.handle(tt.req, tt.in)
			if out.Reason != tt.reason {
				t.Fatalf("reason %v, want %v", out.Reason, tt.reason)
			}
			if got := out.Classes.Names(); !slices.Equal(got, tt.want) {
				t.Errorf("classes %v, want %v", got, tt.want)
			}
			if out.Classes.Len() != len(tt.want) || out.Classes.IsEmpty() != (len(tt.want) == 0) || out.Classes.String() != strings.Join(tt.want, ",") {
				t.Errorf("Len %d, IsEmpty %v, String %q of %v", out.Classes.Len(), out.Classes.IsEmpty(), out.Classes.String(), tt.want)
			}
			for _, n := range tt.want {
				if !out.Classes.Has(n) {
					t.Errorf("Has(%q) false", n)
				}
			}
			if out.Classes.Has("nonesuch") {
				t.Error("Has of a class not configured")
			}
		})
	}
	t.Run("an engine without classes reports none", func(t *testing.T) {
		e := yamlEnv(t, "subnets:", "  - {prefix: 198.18.0.0/24, pools: [198.18.0.10-198.18.0.19]}")
		out, _ := e.handle(phone(1).packet(dhcpv4.Discover), direct())
		if out.Reason != ReasonOffer || !out.Classes.IsEmpty() || out.Classes.Names() != nil {
			t.Errorf("%v classes %v", out.Reason, out.Classes.Names())
		}
	})
}
