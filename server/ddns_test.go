package server

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease"
)

const both = lease.DNSForward | lease.DNSReverse

// withDDNS turns dynamic DNS updates on in the first subnet, then applies
// more.
func withDDNS(more func(d *config.DDNS)) func(*config.Config) {
	return func(c *config.Config) {
		d := config.DDNS{Enabled: true, QualifyingSuffix: "example.net", ForwardZone: "example.net", ReverseZone: "0.18.198.in-addr.arpa",
			Servers: []netip.AddrPort{netip.MustParseAddrPort("198.18.0.53:53")}}.WithDefaults()
		if more != nil {
			more(&d)
		}
		c.Subnets[0].DDNS = d
	}
}

// fqdnOpt is a client FQDN option; a name ending in '.' is sent fully
// qualified, any other partial.
func fqdnOpt(flags dhcpv4.FQDNFlags, name string) option {
	partial := true
	if n := len(name); n > 0 && name[n-1] == '.' {
		name, partial = name[:n-1], false
	}
	v, err := dhcpv4.AppendClientFQDN(nil, flags, 0, 0, []byte(name), partial)
	if err != nil {
		panic(err)
	}
	return option{dhcpv4.OptClientFQDN, v}
}

// replyFQDN reads option 81 of a reply.
func replyFQDN(t *testing.T, p *dhcpv4.Packet) (dhcpv4.ClientFQDN, bool) {
	t.Helper()
	v, ok := p.Options.Get(dhcpv4.OptClientFQDN)
	if !ok {
		return dhcpv4.ClientFQDN{}, false
	}
	f, err := dhcpv4.ParseClientFQDN(v, nil)
	if err != nil {
		t.Fatalf("reply's option 81 %q: %v", v, err)
	}
	return f, true
}

// doraOut runs DISCOVER and REQUEST, and returns the OFFER and the
// outcome and reply of the REQUEST.
func (e *env) doraOut(c *client) (offer *dhcpv4.Packet, out Outcome, ack *dhcpv4.Packet) {
	e.t.Helper()
	o, offer := e.handle(c.packet(dhcpv4.Discover), direct())
	if o.Reason != ReasonOffer {
		e.t.Fatalf("DISCOVER: got %v, want offer", o.Reason)
	}
	sid, _ := offer.Options.Addr(dhcpv4.OptServerID)
	out, ack = e.handle(c.packet(dhcpv4.Request, option{dhcpv4.OptServerID, sid.AsSlice()}, option{dhcpv4.OptRequestedIP, offer.YIAddr.AsSlice()}), direct())
	if out.Reason != ReasonAck {
		e.t.Fatalf("REQUEST: got %v, want ack", out.Reason)
	}
	return offer, out, ack
}

func TestClientFQDN(t *testing.T) {
	const enc = dhcpv4.FQDNEncoded
	S, O, N := dhcpv4.FQDNServerUpdate, dhcpv4.FQDNOverride, dhcpv4.FQDNNoUpdate
	tests := []struct {
		name  string
		ddns  func(*config.DDNS) // nil: the defaults of withDDNS
		off   bool               // dynamic DNS off in the subnet
		mac   byte
		opts  []option
		fqdn  string         // the lease's name
		dns   lease.DNSFlags // its records
		reply bool           // the OFFER and ACK carry option 81
		flags dhcpv4.FQDNFlags
		rname string // the reply's name
	}{
		{name: "RFC4702 3.1 S=1: the server updates the A and PTR records", opts: []option{fqdnOpt(enc|S, "laptop")},
			fqdn: "laptop.example.net", dns: both, reply: true, flags: enc | S, rname: "laptop.example.net"},
		{name: "RFC4702 3.1 S=0: the client updates A, the server PTR", opts: []option{fqdnOpt(enc, "laptop")},
			fqdn: "laptop.example.net", dns: lease.DNSReverse, reply: true, flags: enc, rname: "laptop.example.net"},
		{name: "RFC4702 4 S=0 with override-client-update: the server updates both, S=1 O=1",
			ddns: func(d *config.DDNS) { d.OverrideClientUpdate = true }, opts: []option{fqdnOpt(enc, "laptop")},
			fqdn: "laptop.example.net", dns: both, reply: true, flags: enc | S | O, rname: "laptop.example.net"},
		{name: "RFC4702 3.1 N=1: no update by the server, no name on the lease", opts: []option{fqdnOpt(enc|N, "laptop")},
			fqdn: "", dns: 0, reply: true, flags: enc | N, rname: "laptop.example.net"},
		{name: "RFC4702 4 N=1 with override-no-update: the server updates both, S=1 O=1 N=0",
			ddns: func(d *config.DDNS) { d.OverrideNoUpdate = true }, opts: []option{fqdnOpt(enc|N, "laptop")},
			fqdn: "laptop.example.net", dns: both, reply: true, flags: enc | S | O, rname: "laptop.example.net"},
		{name: "RFC4702 2.3 E=0: an ASCII name is answered in ASCII", opts: []option{fqdnOpt(S, "Laptop")},
			fqdn: "laptop.example.net", dns: both, reply: true, flags: S, rname: "laptop.example.net"},
		{name: "RFC4702 2.3.1 a fully qualified name inside the forward zone is kept", opts: []option{fqdnOpt(enc|S, "laptop.lab.example.net.")},
			fqdn: "laptop.lab.example.net", dns: both, reply: true, flags: enc | S, rname: "laptop.lab.example.net"},
		{name: "a name outside the forward zone keeps its first label", opts: []option{fqdnOpt(enc|S, "laptop.other.org.")},
			fqdn: "laptop.example.net", dns: both, reply: true, flags: enc | S, rname: "laptop.example.net"},
		{name: "RFC4702 2.3.1 an empty name leaves it to the server: the host name option", opts: []option{fqdnOpt(enc|S, ""), {dhcpv4.OptHostName, []byte("desk")}},
			fqdn: "desk.example.net", dns: both, reply: true, flags: enc | S, rname: "desk.example.net"},
		{name: "no option 81: the host name option, both records, no option 81 in the reply", opts: []option{{dhcpv4.OptHostName, []byte("Desk_01")}},
			fqdn: "desk-01.example.net", dns: both},
		{name: "no option 81 and no host name: no name", fqdn: ""},
		{name: "the reservation's hostname wins over the client's", mac: 0x50, opts: []option{fqdnOpt(enc|S, "laptop")},
			fqdn: "printer.example.net", dns: both, reply: true, flags: enc | S, rname: "printer.example.net"},
		{name: "a malformed option 81 is ignored", opts: []option{{dhcpv4.OptClientFQDN, []byte("\x05\x00\x00\xc0\x01")}, {dhcpv4.OptHostName, []byte("desk")}},
			fqdn: "desk.example.net", dns: both},
		{name: "forward-zone none: PTR only, S=0 O=1 to a client that asked S=1",
			ddns: func(d *config.DDNS) { d.ForwardZone = config.DDNSNoZone }, opts: []option{fqdnOpt(enc|S, "laptop")},
			fqdn: "laptop.example.net", dns: lease.DNSReverse, reply: true, flags: enc | O, rname: "laptop.example.net"},
		{name: "reverse-zone none: A only", ddns: func(d *config.DDNS) { d.ReverseZone = config.DDNSNoZone }, opts: []option{fqdnOpt(enc|S, "laptop")},
			fqdn: "laptop.example.net", dns: lease.DNSForward, reply: true, flags: enc | S, rname: "laptop.example.net"},
		{name: "a name that cleans to nothing is no name: no updates, S=0 O=1", opts: []option{fqdnOpt(enc|S, "---")},
			fqdn: "", reply: true, flags: enc | O, rname: ""},
		{name: "dynamic DNS off: no name, no option 81", off: true, opts: []option{fqdnOpt(enc|S, "laptop"), {dhcpv4.OptHostName, []byte("desk")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mutate := withDDNS(tc.ddns)
			if tc.off {
				mutate = nil
			}
			e := newEnv(t, mutate)
			c := newClient(1)
			if tc.mac != 0 {
				c.mac = net.HardwareAddr{2, 0, 0, 0, 0, tc.mac}
			}
			c.opts = tc.opts
			offer, out, ack := e.doraOut(c)
			if out.FQDN != tc.fqdn || out.DNS != tc.dns || out.OldFQDN != "" || out.OldDNS != 0 {
				t.Errorf("outcome FQDN %q DNS %v old %q %v, want %q %v and no old", out.FQDN, out.DNS, out.OldFQDN, out.OldDNS, tc.fqdn, tc.dns)
			}
			l, _ := e.stored(ack.YIAddr)
			if l.FQDN != tc.fqdn || l.DNS != tc.dns || l.DNSState != lease.DNSPending {
				t.Errorf("stored FQDN %q DNS %v state %v, want %q %v pending", l.FQDN, l.DNS, l.DNSState, tc.fqdn, tc.dns)
			}
			for _, p := range []*dhcpv4.Packet{offer, ack} {
				f, ok := replyFQDN(t, p)
				if ok != tc.reply {
					t.Fatalf("%v carries option 81: %v, want %v", p.MessageType(), ok, tc.reply)
				}
				if !ok {
					continue
				}
				if f.Flags != tc.flags || string(f.Name) != tc.rname || f.RCode1 != 255 || f.RCode2 != 255 || (f.Partial && f.Name != nil) {
					t.Errorf("%v option 81: flags %04b name %q partial %v rcodes %d %d; want flags %04b name %q fully qualified, rcodes 255",
						p.MessageType(), f.Flags, f.Name, f.Partial, f.RCode1, f.RCode2, tc.flags, tc.rname)
				}
			}
		})
	}
}

func TestSanitizeName(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"RFC1123 2.1 lower case", "Laptop.EXAMPLE.net", "laptop.example.net"},
		{"other characters become '-'", "my_host name", "my-host-name"},
		{"non-ASCII bytes become '-'", "h\xc3\xa9llo", "h--llo"},
		{"no leading or trailing '-' in a label", "-host-.-lab-", "host.lab"},
		{"empty labels are dropped", "a..b.", "a.b"},
		{"a label of nothing but '-' is dropped", "---.host", "host"},
		{"labels are cut to 63", string(make64('a')), string(make64('a')[:63])},
		{"nothing left is no name", "_-*", ""},
		{"over 253 characters is no name", longName(260), ""},
		{"253 characters is a name", longName(253), longName(253)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf [lease.MaxFQDN]byte
			n, _ := sanitize(&buf, tc.in)
			if got := string(buf[:n]); got != tc.want {
				t.Errorf("sanitize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func make64(c byte) []byte {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return b
}

// longName is a name of n characters of labels "a...".
func longName(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
		if i%10 == 9 && i != n-1 {
			b[i] = '.'
		}
	}
	return string(b)
}

func TestQualifyName(t *testing.T) {
	tests := []struct {
		name, suffix, zone, in, want string
	}{
		{"a single label gets the qualifying suffix", "lab.example.net", "example.net", "host", "host.lab.example.net"},
		{"a name inside the forward zone is kept", "lab.example.net", "example.net", "host.other.example.net", "host.other.example.net"},
		{"a name outside the forward zone keeps its first label", "lab.example.net", "example.net", "host.example.org", "host.lab.example.net"},
		{"a name that only ends like the zone is outside it", "example.net", "example.net", "host.badexample.net", "host.example.net"},
		{"the zone's own name is no host's", "lab.example.net", "example.net", "Example.NET", "example.lab.example.net"},
		{"without a suffix, the forward zone qualifies", "", "example.net", "host", "host.example.net"},
		{"too long once qualified is no name", longName(200), longName(200), string(make64('b')[:63]), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDDNSConf(&config.DDNS{Enabled: true, QualifyingSuffix: tc.suffix, ForwardZone: tc.zone})
			var buf [lease.MaxFQDN]byte
			n, first := sanitize(&buf, tc.in)
			if got := string(buf[:d.qualify(&buf, n, first)]); got != tc.want {
				t.Errorf("qualify(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestClientFQDNRenewal: a renewal under the same name changes nothing
// and tells no old name; one under a new name tells the old one.
func TestClientFQDNRenewal(t *testing.T) {
	e := newEnv(t, withDDNS(nil))
	c := newClient(1)
	c.opts = []option{fqdnOpt(dhcpv4.FQDNEncoded|dhcpv4.FQDNServerUpdate, "laptop")}
	_, first, ack := e.doraOut(c)
	a := ack.YIAddr
	renew := func() Outcome {
		e.now = e.now.Add(30 * time.Minute)
		p := c.packet(dhcpv4.Request)
		p.CIAddr = a
		out, _ := e.handle(p, unicastTo(a))
		if out.Reason != ReasonAck {
			t.Fatalf("renewal: %v", out.Reason)
		}
		return out
	}
	if out := renew(); out.FQDN != first.FQDN || out.OldFQDN != "" || out.DNS != both {
		t.Errorf("same name: FQDN %q old %q DNS %v, want %q, none, both", out.FQDN, out.OldFQDN, out.DNS, first.FQDN)
	}
	e.restart() // the name survives in the store
	if out := renew(); out.FQDN != "laptop.example.net" || out.OldFQDN != "" {
		t.Errorf("after a restart: FQDN %q old %q, want laptop.example.net and none", out.FQDN, out.OldFQDN)
	}
	c.opts = []option{fqdnOpt(dhcpv4.FQDNEncoded|dhcpv4.FQDNServerUpdate, "desk")}
	if out := renew(); out.FQDN != "desk.example.net" || out.OldFQDN != "laptop.example.net" || out.OldDNS != both {
		t.Errorf("new name: FQDN %q old %q %v, want desk.example.net, laptop.example.net both", out.FQDN, out.OldFQDN, out.OldDNS)
	}
	c.opts = []option{fqdnOpt(dhcpv4.FQDNEncoded, "desk")}
	if out := renew(); out.FQDN != "desk.example.net" || out.DNS != lease.DNSReverse || out.OldFQDN != "desk.example.net" || out.OldDNS != both {
		t.Errorf("same name, client now does A: FQDN %q %v old %q %v, want desk.example.net PTR, old the same with both",
			out.FQDN, out.DNS, out.OldFQDN, out.OldDNS)
	}
}

// TestClientFQDNReleaseAndDecline: the outcome of a DHCPRELEASE or
// DHCPDECLINE names the lease's FQDN, and the stored record keeps it
// for the updater to remove.
func TestClientFQDNReleaseAndDecline(t *testing.T) {
	for _, typ := range []dhcpv4.MessageType{dhcpv4.Release, dhcpv4.Decline} {
		t.Run(typ.String(), func(t *testing.T) {
			e := newEnv(t, withDDNS(nil))
			c := newClient(1)
			c.opts = []option{{dhcpv4.OptHostName, []byte("desk")}}
			_, _, ack := e.doraOut(c)
			a := ack.YIAddr
			p := c.packet(typ, optAddr(dhcpv4.OptServerID, "198.18.0.1"))
			in := direct()
			in.Src = netip.MustParseAddrPort("0.0.0.0:68")
			if typ == dhcpv4.Release {
				p.CIAddr = a
				in = unicastTo(a)
			} else {
				p.Options.SetAddr(dhcpv4.OptRequestedIP, a)
			}
			out, _ := e.handle(p, in)
			if out.Reason != ReasonReleased && out.Reason != ReasonDeclined {
				t.Fatalf("got %v", out.Reason)
			}
			if out.FQDN != "desk.example.net" || out.DNS != both {
				t.Errorf("outcome FQDN %q DNS %v, want desk.example.net both", out.FQDN, out.DNS)
			}
			if l, _ := e.stored(a); l.FQDN != "desk.example.net" || l.DNS != both || l.DNSState != lease.DNSPending {
				t.Errorf("stored %q %v %v, want the name pending removal", l.FQDN, l.DNS, l.DNSState)
			}
		})
	}
}

// TestClientFQDNAddressPassesOn: when an address passes to another
// client, the ACK tells the name its previous holder's lease had.
func TestClientFQDNAddressPassesOn(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		withDDNS(nil)(c)
		c.Subnets[0].Pools[0].Last = c.Subnets[0].Pools[0].First // a pool of one
	})
	c1, c2 := newClient(1), newClient(2)
	c1.opts = []option{{dhcpv4.OptHostName, []byte("one")}}
	c2.opts = []option{{dhcpv4.OptHostName, []byte("two")}}
	_, _, ack := e.doraOut(c1)
	e.now = e.now.Add(2 * time.Hour) // c1's lease expires
	_, out, ack2 := e.doraOut(c2)
	if ack2.YIAddr != ack.YIAddr {
		t.Fatalf("second client got %v, want %v", ack2.YIAddr, ack.YIAddr)
	}
	if out.FQDN != "two.example.net" || out.OldFQDN != "one.example.net" || out.OldDNS != both {
		t.Errorf("FQDN %q old %q %v, want two.example.net, one.example.net both", out.FQDN, out.OldFQDN, out.OldDNS)
	}
}

// TestClientFQDNSweptExpiry: the record of an expired lease that the
// sweep tells keeps its name.
func TestClientFQDNSweptExpiry(t *testing.T) {
	e := newEnv(t, withDDNS(nil))
	c := newClient(1)
	c.opts = []option{{dhcpv4.OptHostName, []byte("desk")}}
	e.doraOut(c)
	e.now = e.now.Add(2 * time.Hour)
	var got []string
	e.eng.SweepExpired(func(_ netip.Prefix, l *lease.Lease) { got = append(got, l.FQDN) })
	if len(got) != 1 || got[0] != "desk.example.net" {
		t.Errorf("expired leases named %q, want [desk.example.net]", got)
	}
}

// FuzzChooseName: whatever option 81 and host name a client sends, the
// name chosen is empty or a valid host name of lower-case letters,
// digits and '-' inside the forward zone, and choosing it never panics.
func FuzzChooseName(f *testing.F) {
	for _, s := range [][2]string{
		{"\x05\x00\x00\x04host\x07example\x03net\x00", ""}, {"\x01\x00\x00Host", ""}, {"\x08\x00\x00", "desk"},
		{"\x05\x00\x00\xc0\x01", "Desk_01"}, {"", "a..b.example.net"}, {"\x04\x00\x00\x3f" + string(make64('x')[:63]), ""},
	} {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	s, err := newSubnet(&config.Subnet{Prefix: netip.MustParsePrefix("198.18.0.0/24"),
		DDNS: config.DDNS{Enabled: true, QualifyingSuffix: "lab.example.net", ForwardZone: "example.net"}}, newClassTable(nil))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, fqdn, host []byte) {
		var req dhcpv4.Packet
		if len(fqdn) > 0 {
			req.Options.Set(dhcpv4.OptClientFQDN, fqdn)
		}
		if len(host) > 0 {
			req.Options.Set(dhcpv4.OptHostName, host)
		}
		var c fqdnChoice
		s.chooseName(&req, nil, &c)
		name := string(c.name())
		if name == "" {
			if c.dns != 0 {
				t.Fatalf("records %v without a name", c.dns)
			}
			return
		}
		if !dhcpv4.ValidHostname(name) || strings.ContainsAny(name, "_ABCDEFGHIJKLMNOPQRSTUVWXYZ") || !strings.HasSuffix(name, ".example.net") {
			t.Fatalf("chose %q", name)
		}
		var o dhcpv4.Options
		if !o.SetClientFQDN(c.flags|dhcpv4.FQDNEncoded, 255, 255, c.name(), false) {
			t.Fatalf("option 81 refuses the name %q", name)
		}
	})
}

// TestNameLeavesRoomInTheRecord: a client identifier and host name that
// fill what a lease record may hold (lease.MaxClientBytes) leave the
// binding without a DNS name rather than make its record invalid, which
// would cost the client its ACK.
func TestNameLeavesRoomInTheRecord(t *testing.T) {
	var s subnet
	c := fqdnChoice{dns: both}
	c.n = copy(c.buf[:], "laptop.example.net")
	b := binding{client: strings.Repeat("i", lease.MaxClientBytes-20), hostname: "laptop"}
	s.nameBinding(&b, &c)
	if b.fqdn != "" || b.dns != 0 {
		t.Fatalf("full record named %q with %v, want no name", b.fqdn, b.dns)
	}
	b.client = strings.Repeat("i", lease.MaxClientBytes-30)
	s.nameBinding(&b, &c)
	if b.fqdn != "laptop.example.net" || b.dns != both {
		t.Fatalf("record with room named %q with %v, want laptop.example.net with both", b.fqdn, b.dns)
	}
}
