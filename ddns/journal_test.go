package ddns

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"leased/lease"
	"leased/lease/journal"
)

// TestRestartRedoesOnlyUnconfirmed: with the journal as the durable queue,
// a restarted updater makes the updates of the records committed but not
// confirmed before, and none of those confirmed.
func TestRestartRedoesOnlyUnconfirmed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := newRig(t, CheckWithDHCID, nil)
	both := lease.DNSForward | lease.DNSReverse
	bound := func(a netip.Addr, hw lease.HardwareAddr, fqdn string) lease.Lease {
		return lease.Lease{Addr: a, ClientID: "\x01" + string(hw.Bytes()), HW: hw, State: lease.Bound, Start: t0, Expiry: t0.Add(time.Hour), FQDN: fqdn, DNS: both}
	}
	open := func() (*journal.Store, *Updater) {
		st, err := journal.Open(dir, journal.Options{})
		if err != nil {
			t.Fatal(err)
		}
		u, err := New(Options{Rules: []Rule{r.rule(CheckWithDHCID, nil)}, Store: st, Clock: r.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return st, u
	}

	st, u := open()
	if err := st.Commit(ctx, bound(addr1, hwA, "one.example.net")); err != nil {
		t.Fatal(err)
	}
	u.Rescan(ctx)
	if err := st.Commit(ctx, bound(addr2, hwB, "two.example.net")); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil { // the process stops before the update of two
		t.Fatal(err)
	}
	before := r.fwd.count()

	st, u = open()
	defer st.Close()
	u.Rescan(ctx)
	if got := r.fwd.records("two.example.net", dns.TypeA); !equal(got, []string{"198.18.0.11"}) {
		t.Errorf("A of the unconfirmed record = %q", got)
	}
	if n := r.fwd.count() - before; n != 1 {
		t.Errorf("%d forward updates after the restart, want 1 (only the unconfirmed record)", n)
	}
	due := 0
	st.All(func(l lease.Lease) bool {
		if l.DNSDue(r.clock.now) {
			due++
		}
		return true
	})
	if due != 0 {
		t.Errorf("%d records still due after the rescan", due)
	}
}
