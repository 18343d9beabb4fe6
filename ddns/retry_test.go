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

// TestTSIG: updates signed with the zone's key are applied; signed with
// another key they are refused, counted, and kept for a retry.
func TestTSIG(t *testing.T) {
	for _, tc := range []struct {
		name         string
		key          *Key
		wantA        int
		wantRefused  uint64
		wantRetrying int
	}{
		{"RFC8945 right key: applied", testKey, 1, 0, 0},
		{"RFC8945 wrong secret: BADSIG, refused, retried later", wrongKey, 0, 1, 1},
		{"RFC8945 unsigned update to a zone that wants a key: refused", nil, 0, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, CheckWithDHCID, testKey)
			rule := r.rule(CheckWithDHCID, tc.key)
			r.u.SetRules([]Rule{rule})
			r.u.Handle(context.Background(), event(events.Commit, addr1, hwA, "host.example.net"))
			if got := r.fwd.records("host.example.net", dns.TypeA); len(got) != tc.wantA {
				t.Errorf("A = %q, want %d", got, tc.wantA)
			}
			if st := r.u.Stats(); st.Refused != tc.wantRefused || st.Retrying != tc.wantRetrying {
				t.Errorf("stats %+v, want %d refused, %d retrying", st, tc.wantRefused, tc.wantRetrying)
			}
		})
	}
}

// TestTruncatedAnswerFallsBackToTCP: an answer with TC set over UDP makes
// the updater send the update again over TCP.
func TestTruncatedAnswerFallsBackToTCP(t *testing.T) {
	r := newRig(t, CheckWithDHCID, nil)
	r.fwd.mu.Lock()
	r.fwd.truncate = true
	r.fwd.mu.Unlock()
	r.u.Handle(context.Background(), event(events.Commit, addr1, hwA, "host.example.net"))
	if got := r.fwd.records("host.example.net", dns.TypeA); !equal(got, []string{"198.18.0.10"}) {
		t.Errorf("A = %q", got)
	}
}

// TestTimeoutRetriedWithBackoff: with a server that never answers, Handle
// returns within the bound of its attempts and the update is retried when
// its backoff ends, on the servers of the rules then in force.
func TestTimeoutRetriedWithBackoff(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, CheckWithDHCID, nil)
	silent := r.rule(CheckWithDHCID, nil)
	silent.Forward.Servers = []netip.AddrPort{silentServer(t)}
	r.u.SetRules([]Rule{silent})
	r.u.x.timeout = 50 * time.Millisecond
	r.u.x.retries = 2
	began := time.Now()
	r.u.Handle(ctx, event(events.Commit, addr1, hwA, "host.example.net"))
	if took, bound := time.Since(began), 2*50*time.Millisecond+time.Second; took > bound {
		t.Errorf("Handle took %v, more than %v", took, bound)
	}
	if st := r.u.Stats(); st.Failed != 1 || st.Retrying != 1 {
		t.Fatalf("stats %+v, want 1 failed, 1 retrying", st)
	}
	r.u.SetRules([]Rule{r.rule(CheckWithDHCID, nil)})
	var st runState
	st.lastRescan = r.clock.now
	r.u.step(ctx, &st) // not due yet
	if n := r.fwd.count(); n != 0 {
		t.Fatalf("%d updates before the backoff ended", n)
	}
	r.clock.now = r.clock.now.Add(MinBackoff * 2)
	r.u.step(ctx, &st)
	if got := r.fwd.records("host.example.net", dns.TypeA); !equal(got, []string{"198.18.0.10"}) {
		t.Errorf("A after the retry = %q", got)
	}
	if st := r.u.Stats(); st.Retrying != 0 || st.Done != 1 {
		t.Errorf("stats %+v, want 1 done, none retrying", st)
	}
}

// TestBackoffDoublesToMax: 1 s doubling up to 5 min, within a fifth.
func TestBackoffDoublesToMax(t *testing.T) {
	for _, tc := range []struct {
		attempts int
		want     time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {9, 256 * time.Second}, {10, MaxBackoff}, {100, MaxBackoff}} {
		for range 20 {
			if d := backoff(tc.attempts); d < tc.want-tc.want/5 || d > tc.want+tc.want/5 {
				t.Errorf("backoff(%d) = %v, want %v ± 20%%", tc.attempts, d, tc.want)
			}
		}
	}
}

// TestRescanRedoesUnconfirmed: a rescan makes the updates of the stored
// records not confirmed (a restart, dropped events) and confirms them;
// the next rescan finds nothing to do.
func TestRescanRedoesUnconfirmed(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, CheckWithDHCID, nil)
	both := lease.DNSForward | lease.DNSReverse
	r.fwd.put("gone.example.net. 300 IN A 198.18.0.11")
	r.fwd.put("gone.example.net. 300 IN DHCID " + dhcidOf(t, hwB, "gone.example.net"))
	err := r.store.Commit(ctx,
		lease.Lease{Addr: addr1, HW: hwA, State: lease.Bound, Start: t0, Expiry: t0.Add(time.Hour), FQDN: "host.example.net", DNS: both},
		lease.Lease{Addr: addr2, HW: hwB, State: lease.Bound, Start: t0.Add(-2 * time.Hour), Expiry: t0.Add(-time.Hour), FQDN: "gone.example.net", DNS: both},
		lease.Lease{Addr: netip.MustParseAddr("198.18.0.12"), HW: hwB, State: lease.Bound, Start: t0, Expiry: t0.Add(time.Hour), FQDN: "done.example.net", DNS: both, DNSState: lease.DNSAdded},
	)
	if err != nil {
		t.Fatal(err)
	}
	r.u.Rescan(ctx)
	if got := r.fwd.records("host.example.net", dns.TypeA); !equal(got, []string{"198.18.0.10"}) {
		t.Errorf("A of the bound lease = %q", got)
	}
	if got := r.fwd.records("gone.example.net", dns.TypeA); len(got) != 0 {
		t.Errorf("A of the expired lease = %q, want none", got)
	}
	if got := r.fwd.records("done.example.net", dns.TypeA); len(got) != 0 {
		t.Errorf("A of the confirmed lease = %q, want none: no update", got)
	}
	for a, want := range map[netip.Addr]lease.DNSState{addr1: lease.DNSAdded, addr2: lease.DNSRemoved} {
		if l, _ := r.store.Get(a); l.DNSState != want {
			t.Errorf("DNS state of %v = %d, want %d", a, l.DNSState, want)
		}
	}
	n := r.fwd.count() + r.rev.count()
	r.u.Rescan(ctx)
	if m := r.fwd.count() + r.rev.count(); m != n {
		t.Errorf("second rescan sent %d updates, want none", m-n)
	}
	if st := r.u.Stats(); st.Rescans != 2 || st.Done != 2 {
		t.Errorf("stats %+v, want 2 rescans, 2 done", st)
	}
}

// TestRenewOfConfirmedNameSendsNothing: a renewal of a name this process
// confirmed makes no DNS traffic, only a confirmation.
func TestRenewOfConfirmedNameSendsNothing(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, CheckWithDHCID, nil)
	r.u.Handle(ctx, event(events.Commit, addr1, hwA, "host.example.net"))
	n := r.fwd.count() + r.rev.count()
	r.u.Handle(ctx, event(events.Renew, addr1, hwA, "host.example.net"))
	if m := r.fwd.count() + r.rev.count(); m != n {
		t.Errorf("renewal sent %d updates, want none", m-n)
	}
	if got, want := r.store.confirmations(), []lease.DNSState{lease.DNSAdded, lease.DNSAdded}; !slices.Equal(got, want) {
		t.Errorf("confirmations %v, want %v", got, want)
	}
	r.u.Handle(ctx, event(events.Renew, addr1, hwB, "host.example.net"))
	if m := r.fwd.count() + r.rev.count(); m == n {
		t.Error("renewal by another client sent no update")
	}
}

// TestNoRuleIgnored: the events of a subnet without a rule are counted
// and make no traffic.
func TestNoRuleIgnored(t *testing.T) {
	r := newRig(t, CheckWithDHCID, nil)
	other := event(events.Commit, netip.MustParseAddr("198.19.0.1"), hwA, "host.example.net")
	other.Subnet = netip.MustParsePrefix("198.19.0.0/24")
	r.u.Handle(context.Background(), other)
	e := event(events.Commit, addr1, hwA, "")
	e.DNS = 0
	r.u.Handle(context.Background(), e)
	if st := r.u.Stats(); st.Ignored != 1 || st.Queued != 1 {
		t.Errorf("stats %+v, want 1 ignored of 1 queued", st)
	}
	if n := r.fwd.count(); n != 0 {
		t.Errorf("%d updates", n)
	}
}

// TestStaleRescanYieldsToEvent: a rescan's job for an address whose event
// came after the rescan read the store is left to the event.
func TestStaleRescanYieldsToEvent(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, CheckWithDHCID, nil)
	l := lease.Lease{Addr: addr1, HW: hwA, State: lease.Bound, Start: t0, Expiry: t0.Add(time.Hour), FQDN: "host.example.net", DNS: lease.DNSForward}
	j := jobFromLease(&l, t0)
	j.seq = r.u.eventSeq.Load()
	r.u.Handle(ctx, event(events.Release, addr1, hwA, "host.example.net"))
	n := r.fwd.count()
	r.u.process(ctx, &j)
	if m := r.fwd.count(); m != n {
		t.Errorf("stale rescan job sent %d updates", m-n)
	}
}

// TestRescanTriggers: Run's step rescans when the rescan period ended and
// when the event queue dropped events, and not otherwise.
func TestRescanTriggers(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, CheckWithDHCID, nil)
	var dropped uint64
	u, err := New(Options{Rules: []Rule{r.rule(CheckWithDHCID, nil)}, Store: r.store, Clock: r.clock.Now, Rescan: time.Minute,
		Dropped: func() uint64 { return dropped }})
	if err != nil {
		t.Fatal(err)
	}
	st := runState{lastRescan: r.clock.now}
	for _, tc := range []struct {
		name    string
		advance time.Duration
		drop    uint64
		want    uint64
	}{
		{"within the period, nothing dropped: no rescan", 30 * time.Second, 0, 0},
		{"events dropped: rescan at once", time.Second, 2, 1},
		{"nothing new: no rescan", time.Second, 0, 1},
		{"period ended: rescan", time.Minute, 0, 2},
	} {
		r.clock.now = r.clock.now.Add(tc.advance)
		dropped += tc.drop
		u.step(ctx, &st)
		if got := u.Stats(); got.Rescans != tc.want || got.Dropped != dropped {
			t.Errorf("%s: stats %+v, want %d rescans, %d dropped", tc.name, got, tc.want, dropped)
		}
	}
}

// TestRescanStopsWhenServersFail: a rescan against servers that do not
// answer stops after a few failures in a row instead of waiting out every
// record's timeouts; the records stay unconfirmed for the next rescan.
func TestRescanStopsWhenServersFail(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, CheckWithDHCID, nil)
	silent, sent := countingSilentServer(t)
	rule := r.rule(CheckWithDHCID, nil)
	rule.Forward.Servers = []netip.AddrPort{silent}
	const workers = 2
	u, err := New(Options{Rules: []Rule{rule}, Store: r.store, Clock: r.clock.Now, Timeout: 20 * time.Millisecond, Retries: 1, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		a := netip.AddrFrom4([4]byte{198, 18, 0, byte(10 + i)})
		l := lease.Lease{Addr: a, HW: hwA, State: lease.Bound, Start: t0, Expiry: t0.Add(time.Hour), FQDN: "host.example.net", DNS: lease.DNSForward}
		if err := r.store.Commit(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	u.Rescan(ctx)
	st := u.Stats()
	if st.Failed < 2*workers || st.Failed > 3*workers {
		t.Errorf("stats %+v: want the rescan to stop after %d failures in a row", st, 2*workers)
	}
	if n := sent(); n > 3*workers {
		t.Errorf("%d updates sent, want at most %d", n, 3*workers)
	}
	due := 0
	r.store.All(func(l lease.Lease) bool {
		if l.DNSDue(r.clock.now) {
			due++
		}
		return true
	})
	if due != 50 {
		t.Errorf("%d records due after the failed rescan, want all 50", due)
	}
}
