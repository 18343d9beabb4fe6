package ddns

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"leased/events"
	"leased/lease"
)

var (
	subnet   = netip.MustParsePrefix("198.18.0.0/24")
	addr1    = netip.MustParseAddr("198.18.0.10")
	addr2    = netip.MustParseAddr("198.18.0.11")
	t0       = time.Now().UTC().Truncate(time.Second) // TSIG signs with the clock: near the real time
	hwA      = hwAddr(1, 2, 0, 0, 0, 0, 1)
	hwB      = hwAddr(1, 2, 0, 0, 0, 0, 2)
	testKey  = &Key{Name: "ddns-key.", Algorithm: dns.HmacSHA256, Secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I="}
	wrongKey = &Key{Name: "ddns-key.", Algorithm: dns.HmacSHA256, Secret: "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3I="}
)

// fakeClock is a clock that tests move.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

// rig is an updater with a forward and a reverse zone server.
type rig struct {
	fwd, rev *zoneServer
	store    *confirmingStore
	clock    *fakeClock
	u        *Updater
}

func newRig(t *testing.T, p Policy, key *Key) *rig {
	t.Helper()
	r := &rig{fwd: newZoneServer(t, "example.net", key), rev: newZoneServer(t, "0.18.198.in-addr.arpa", key),
		store: &confirmingStore{Memory: &lease.Memory{}}, clock: &fakeClock{now: t0}}
	u, err := New(Options{Rules: []Rule{r.rule(p, key)}, Timeout: time.Second, Retries: 1, Store: r.store, Clock: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	r.u = u
	return r
}

func (r *rig) rule(p Policy, key *Key) Rule {
	return Rule{Subnet: subnet, Policy: p,
		Forward: Target{Zone: "example.net", Servers: []netip.AddrPort{r.fwd.addr}, Key: key},
		Reverse: Target{Zone: "0.18.198.in-addr.arpa", Servers: []netip.AddrPort{r.rev.addr}, Key: key}}
}

// event returns a lease event of a client (by its hardware address).
func event(typ events.Type, a netip.Addr, hw lease.HardwareAddr, fqdn string) *events.Record {
	r := &events.Record{Type: typ, Addr: a, Subnet: subnet, Start: t0, Expiry: t0.Add(time.Hour), HW: hw,
		DNS: lease.DNSForward | lease.DNSReverse}
	r.SetFQDN(fqdn)
	return r
}

func dhcidOf(t *testing.T, hw lease.HardwareAddr, fqdn string) string {
	t.Helper()
	d, err := DHCID(&Client{HW: hw}, fqdn)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestForwardUpdatesRFC4703: adds, replacements, conflicts and removals
// of a name, as RFC 4703 §5.3-5.5 resolve them.
func TestForwardUpdatesRFC4703(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		policy    Policy
		before    []string // records in the zone first
		events    []*events.Record
		wantA     []string
		wantDHCID []string // client of the DHCID: "A", "B" or none
		wantPTR   []string
		conflicts uint64
	}{
		{name: "RFC4703 5.3.1 name not in use: A and DHCID added",
			events: []*events.Record{event(events.Commit, addr1, hwA, "host.example.net")},
			wantA:  []string{"198.18.0.10"}, wantDHCID: []string{"A"}, wantPTR: []string{"host.example.net."}},
		{name: "RFC4703 5.3.2 same client's DHCID: A replaced",
			events: []*events.Record{event(events.Commit, addr1, hwA, "host.example.net"), event(events.Commit, addr2, hwA, "host.example.net")},
			wantA:  []string{"198.18.0.11"}, wantDHCID: []string{"A"}},
		{name: "RFC4703 5.3.2 another client's DHCID: conflict, left alone",
			events: []*events.Record{event(events.Commit, addr1, hwA, "host.example.net"), event(events.Commit, addr2, hwB, "host.example.net")},
			wantA:  []string{"198.18.0.10"}, wantDHCID: []string{"A"}, conflicts: 1},
		{name: "RFC4703 5.3.2 name of an operator's record without DHCID: conflict",
			before: []string{"host.example.net. 300 IN A 198.18.0.99"},
			events: []*events.Record{event(events.Commit, addr1, hwA, "host.example.net")},
			wantA:  []string{"198.18.0.99"}, conflicts: 1},
		{name: "RFC4703 5.5 release removes A and DHCID and PTR",
			events: []*events.Record{event(events.Commit, addr1, hwA, "host.example.net"), event(events.Release, addr1, hwA, "host.example.net")}},
		{name: "RFC4703 5.5 removal by another client leaves the name",
			events: []*events.Record{event(events.Commit, addr1, hwA, "host.example.net"), event(events.Expire, addr1, hwB, "host.example.net")},
			wantA:  []string{"198.18.0.10"}, wantDHCID: []string{"A"}},
		{name: "no-check-with-dhcid overwrites another client's name", policy: NoCheckWithDHCID,
			events: []*events.Record{event(events.Commit, addr1, hwA, "host.example.net"), event(events.Commit, addr2, hwB, "host.example.net")},
			wantA:  []string{"198.18.0.11"}, wantDHCID: []string{"B"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.policy, nil)
			for _, s := range tc.before {
				r.fwd.put(s)
			}
			for _, e := range tc.events {
				r.u.Handle(ctx, e)
			}
			if got := r.fwd.records("host.example.net", dns.TypeA); !equal(got, tc.wantA) {
				t.Errorf("A = %q, want %q", got, tc.wantA)
			}
			var want []string
			for _, c := range tc.wantDHCID {
				hw := map[string]lease.HardwareAddr{"A": hwA, "B": hwB}[c]
				want = append(want, dhcidOf(t, hw, "host.example.net"))
			}
			if got := r.fwd.records("host.example.net", dns.TypeDHCID); !equal(got, want) {
				t.Errorf("DHCID = %q, want %q", got, want)
			}
			if tc.wantPTR != nil {
				if got := r.rev.records("10.0.18.198.in-addr.arpa", dns.TypePTR); !equal(got, tc.wantPTR) {
					t.Errorf("PTR = %q, want %q", got, tc.wantPTR)
				}
			}
			if st := r.u.Stats(); st.Conflicts != tc.conflicts || st.Retrying != 0 {
				t.Errorf("stats %+v, want %d conflicts, none retrying", st, tc.conflicts)
			}
		})
	}
}

// TestRemovalKeepsDHCIDWithAAAA: RFC 4703 §5.5: the DHCID record goes
// only when no A nor AAAA record of the name is left.
func TestRemovalKeepsDHCIDWithAAAA(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, CheckWithDHCID, nil)
	r.u.Handle(ctx, event(events.Commit, addr1, hwA, "host.example.net"))
	r.fwd.put("host.example.net. 300 IN AAAA 2001:db8::1")
	r.u.Handle(ctx, event(events.Release, addr1, hwA, "host.example.net"))
	if got := r.fwd.records("host.example.net", dns.TypeA); len(got) != 0 {
		t.Errorf("A = %q, want none", got)
	}
	if got, want := r.fwd.records("host.example.net", dns.TypeDHCID), []string{dhcidOf(t, hwA, "host.example.net")}; !equal(got, want) {
		t.Errorf("DHCID = %q, want %q", got, want)
	}
}

// TestReverseRemovalLeavesOthersPTR: a removal deletes the PTR only when
// it still names the lease's FQDN.
func TestReverseRemovalLeavesOthersPTR(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, CheckWithDHCID, nil)
	r.rev.put("10.0.18.198.in-addr.arpa. 300 IN PTR other.example.net.")
	r.u.Handle(ctx, event(events.Release, addr1, hwA, "host.example.net"))
	if got, want := r.rev.records("10.0.18.198.in-addr.arpa", dns.TypePTR), []string{"other.example.net."}; !equal(got, want) {
		t.Errorf("PTR = %q, want %q", got, want)
	}
}

// TestRenamedLeaseRemovesOldName: an event with an OldFQDN removes the old
// name's records before adding the new ones.
func TestRenamedLeaseRemovesOldName(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, CheckWithDHCID, nil)
	r.u.Handle(ctx, event(events.Commit, addr1, hwA, "old.example.net"))
	e := event(events.Renew, addr1, hwA, "new.example.net")
	e.SetOldFQDN("old.example.net")
	e.OldDNS = lease.DNSForward | lease.DNSReverse
	r.u.Handle(ctx, e)
	if got := r.fwd.records("old.example.net", dns.TypeA); len(got) != 0 {
		t.Errorf("old A = %q, want none", got)
	}
	if got := r.fwd.records("new.example.net", dns.TypeA); !equal(got, []string{"198.18.0.10"}) {
		t.Errorf("new A = %q", got)
	}
	if got := r.rev.records("10.0.18.198.in-addr.arpa", dns.TypePTR); !equal(got, []string{"new.example.net."}) {
		t.Errorf("PTR = %q", got)
	}
}

func equal(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
