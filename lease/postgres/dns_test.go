package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"leased/lease"
)

// withDNS returns l with an FQDN, both DNS records and DNS state st.
func withDNS(l lease.Lease, st lease.DNSState) lease.Lease {
	l.FQDN = "host-" + l.ClientID + ".example.net"
	l.DNS = lease.DNSForward | lease.DNSReverse
	l.DNSState = st
	return l
}

// sameDNS reports whether a and b have the same DNS fields.
func sameDNS(a, b lease.Lease) bool {
	return a.FQDN == b.FQDN && a.DNS == b.DNS && a.DNSState == b.DNSState
}

// TestDNSFieldsRoundTrip: the DNS fields of a commit come back from All
// and reach the other servers, through a notification and a resync; a
// commit writes the DNS state it is given.
func TestDNSFieldsRoundTrip(t *testing.T) {
	url := newDB(t)
	a, b := open(t, url, Options{ServerID: "a"}), open(t, url, Options{ServerID: "b"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exp := time.Now().Add(time.Hour)
	early := withDNS(bound("198.18.8.1", "early", exp), lease.DNSAdded)
	if err := a.Commit(ctx, early); err != nil {
		t.Fatal(err)
	}
	var got changes
	go b.Watch(ctx, got.add)
	waitFor(t, 5*time.Second, "resynced", func() bool { return got.count(isKind(lease.ResyncEnd)) == 1 })
	late := withDNS(bound("198.18.8.2", "late", exp), lease.DNSPending)
	late.DNS = lease.DNSReverse
	plain := bound("198.18.8.3", "plain", exp)
	if err := a.Commit(ctx, late, plain); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the commit delivered", func() bool { return got.count(changedBy("plain", lease.Bound)) == 1 })
	delivered := map[string]lease.Lease{}
	got.mu.Lock()
	for _, c := range got.list {
		if c.Kind == lease.Changed {
			delivered[c.Lease.ClientID] = c.Lease
		}
	}
	got.mu.Unlock()
	all := records(t, b)
	for _, want := range []lease.Lease{early, late, plain} {
		if g := all[want.Addr]; !sameDNS(g, want) {
			t.Errorf("All: %v has %q %v %v, want %q %v %v", want.Addr, g.FQDN, g.DNS, g.DNSState, want.FQDN, want.DNS, want.DNSState)
		}
		if g := delivered[want.ClientID]; !sameDNS(g, want) {
			t.Errorf("Watch: %v has %q %v %v, want %q %v %v", want.Addr, g.FQDN, g.DNS, g.DNSState, want.FQDN, want.DNS, want.DNSState)
		}
	}
	// A commit writes the state it is given, pending over added.
	renewed := early
	renewed.Start, renewed.DNSState = renewed.Start.Add(time.Minute), lease.DNSPending
	if err := a.Commit(ctx, renewed); err != nil {
		t.Fatal(err)
	}
	if g := records(t, a)[early.Addr]; !sameDNS(g, renewed) {
		t.Errorf("after a renewal: %+v, want DNS state pending", g)
	}
}

// TestConfirmDNSPostgres: a confirmation changes the record of its
// address only while it has the Start confirmed, to the microsecond.
func TestConfirmDNSPostgres(t *testing.T) {
	url := newDB(t)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	base := withDNS(bound("198.18.9.1", "c", exp), lease.DNSPending)
	base.Start = base.Start.Add(789 * time.Nanosecond) // finer than the database keeps
	tests := []struct {
		name    string
		prepare func(t *testing.T, s *Store)
		addr    netip.Addr
		start   time.Time
		st      lease.DNSState
		changed bool
		want    lease.DNSState
		gone    bool
	}{
		{"the Start as committed, with nanoseconds", nil, base.Addr, base.Start, lease.DNSAdded, true, lease.DNSAdded, false},
		{"the Start as read back, to the microsecond", nil, base.Addr, base.Start.Truncate(time.Microsecond), lease.DNSRemoved, true, lease.DNSRemoved, false},
		{"a microsecond off: ignored", nil, base.Addr, base.Start.Add(time.Microsecond), lease.DNSAdded, false, lease.DNSPending, false},
		{"the state it has: unchanged", nil, base.Addr, base.Start, lease.DNSPending, false, lease.DNSPending, false},
		{"replaced by a later commit: ignored", func(t *testing.T, s *Store) {
			l := base
			l.Start = l.Start.Add(time.Second)
			if err := s.Commit(ctx, l); err != nil {
				t.Fatal(err)
			}
		}, base.Addr, base.Start, lease.DNSAdded, false, lease.DNSPending, false},
		{"freed: ignored", func(t *testing.T, s *Store) {
			l := base
			l.State = lease.Free
			if err := s.Commit(ctx, l); err != nil {
				t.Fatal(err)
			}
		}, base.Addr, base.Start, lease.DNSRemoved, false, 0, true},
		{"an address without a record", nil, netip.MustParseAddr("198.18.9.2"), base.Start, lease.DNSAdded, false, lease.DNSPending, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, url, Options{ServerID: fmt.Sprint("s", i)})
			// Each case starts from base, committed afresh.
			l := base
			l.State = lease.Free
			if err := s.Commit(ctx, l); err != nil {
				t.Fatal(err)
			}
			if err := s.Commit(ctx, base); err != nil {
				t.Fatal(err)
			}
			if tt.prepare != nil {
				tt.prepare(t, s)
			}
			changed, err := s.ConfirmDNS(ctx, tt.addr, tt.start, tt.st)
			if err != nil || changed != tt.changed {
				t.Fatalf("ConfirmDNS = %v, %v; want %v", changed, err, tt.changed)
			}
			g, ok := records(t, s)[base.Addr]
			switch {
			case tt.gone && ok:
				t.Errorf("a record is there: %+v", g)
			case !tt.gone && (!ok || g.DNSState != tt.want):
				t.Errorf("record %+v (present %v), want DNS state %v", g, ok, tt.want)
			}
		})
	}
}

func TestConfirmDNSPostgresRefuses(t *testing.T) {
	url := newDB(t)
	ctx := context.Background()
	s := open(t, url, Options{})
	l := withDNS(bound("198.18.9.1", "c", time.Now().Add(time.Hour)), 0)
	if _, err := s.ConfirmDNS(ctx, l.Addr, l.Start, lease.DNSRemoved+1); err == nil {
		t.Error("an invalid DNS state was accepted")
	}
	if _, err := s.ConfirmDNS(ctx, netip.MustParseAddr("2001:db8::1"), l.Start, lease.DNSAdded); err == nil {
		t.Error("an IPv6 address was accepted")
	}
	s.Close()
	if _, err := s.ConfirmDNS(ctx, l.Addr, l.Start, lease.DNSAdded); !errors.Is(err, lease.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	var _ lease.DNSConfirmer = s
}

// TestUpgradeTo4KeepsLeasesAndOldServers: a database of version 3
// holding leases upgrades to version 4 with its leases, without DNS
// fields; a server of version 3 still commits through its function, and
// a record it writes has no DNS fields, whatever the record before had.
func TestUpgradeTo4KeepsLeasesAndOldServers(t *testing.T) {
	if shared == nil {
		t.Skip("no PostgreSQL")
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	url := shared.NewDB(t)
	opts := Options{URL: url}
	if err := migrateTo(ctx, opts, ms[:3], true, func(int, int) {}); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	old := bound("198.18.10.1", "old", exp)
	commitV3(t, url, old)
	if err := Upgrade(ctx, opts, func(int, int) {}); err != nil {
		t.Fatal(err)
	}
	s := open(t, url, Options{ServerID: "new"})
	g := records(t, s)[old.Addr]
	if g.ClientID != "old" || !g.Expiry.Equal(exp) || !sameDNS(g, lease.Lease{}) {
		t.Errorf("the lease from before the upgrade: %+v", g)
	}
	named := withDNS(bound("198.18.10.2", "named", exp), lease.DNSAdded)
	if err := s.Commit(ctx, named); err != nil {
		t.Fatal(err)
	}
	renewed := named
	renewed.Start = renewed.Start.Add(time.Minute)
	commitV3(t, url, renewed)
	if g := records(t, s)[named.Addr]; g.ClientID != "named" || !g.Start.Equal(renewed.Start) || !sameDNS(g, lease.Lease{}) {
		t.Errorf("a record of a version 3 server over one with DNS fields: %+v", g)
	}
}

// commitV3 commits leases as a server of schema version 3 does.
func commitV3(t *testing.T, url string, leases ...lease.Lease) {
	t.Helper()
	b := newBatch()
	b.add(nil, "v3", leases)
	rows, err := sqlQueryCount(url, commitSQLv3, b.args("v3")[:10]...)
	if err != nil || rows != 0 {
		t.Fatalf("version 3 commit: %d refused, %v", rows, err)
	}
}

// sqlQueryCount runs a query on url and returns how many rows it returned.
func sqlQueryCount(url, query string, args ...any) (int, error) {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	return n, rows.Err()
}

func TestNoteDNSFields(t *testing.T) {
	plain := bound("198.18.7.7", "c", t0)
	if n := strings.Count(string(appendNote(nil, &plain)), ","); n != 7 {
		t.Errorf("a record without DNS fields has %d fields, want the 8 of version 3", n+1)
	}
	for _, l := range []lease.Lease{
		withDNS(bound("198.18.7.7", "c", t0), lease.DNSAdded),
		func() lease.Lease {
			l := withDNS(bound("198.18.7.8", "d", t0), lease.DNSRemoved)
			l.FQDN = "a,b;c"
			return l
		}(),
		func() lease.Lease { l := bound("198.18.7.9", "e", t0); l.DNSState = lease.DNSRemoved; return l }(),
	} {
		got, err := parseNote(string(appendNote(nil, &l)))
		l.Start, l.Expiry = l.Start.Truncate(1000), l.Expiry.Truncate(1000)
		if err != nil || got != l {
			t.Errorf("got %+v, %v\nwant %+v", got, err, l)
		}
	}
	for _, bad := range []string{
		"198.18.0.1,1,0,0,1,,,,zz,0,0",   // FQDN not hex
		"198.18.0.1,1,0,0,1,,,,61,9,0",   // unknown DNS records
		"198.18.0.1,1,0,0,1,,,,61,1,3",   // DNS state past removed
		"198.18.0.1,1,0,0,1,,,,,1,0",     // DNS records without an FQDN
		"198.18.0.1,1,0,0,1,,,,61,1",     // 10 fields
		"198.18.0.1,1,0,0,1,,,,61,1,0,0", // 12 fields
	} {
		if _, err := parseNote(bad); err == nil {
			t.Errorf("parseNote(%q) accepted", bad)
		}
	}
}

// TestConfirmDNSConcurrent: confirmations made at once, which go to the
// database together, each report their own record's outcome.
func TestConfirmDNSConcurrent(t *testing.T) {
	url := newDB(t)
	ctx := context.Background()
	s := open(t, url, Options{})
	exp := time.Now().Add(time.Hour)
	var ls []lease.Lease
	for i := range 200 {
		ls = append(ls, withDNS(bound(fmt.Sprintf("198.18.11.%d", i), fmt.Sprint("c", i), exp), lease.DNSPending))
	}
	if err := s.Commit(ctx, ls...); err != nil {
		t.Fatal(err)
	}
	confirmAll := func(start func(lease.Lease) time.Time) []bool {
		out := make([]bool, len(ls))
		var wg sync.WaitGroup
		for i, l := range ls {
			wg.Go(func() {
				ok, err := s.ConfirmDNS(ctx, l.Addr, start(l), lease.DNSAdded)
				if err != nil {
					t.Error(err)
				}
				out[i] = ok
			})
		}
		wg.Wait()
		return out
	}
	// Odd addresses are confirmed for a Start they do not have.
	got := confirmAll(func(l lease.Lease) time.Time {
		if l.Addr.As4()[3]%2 == 1 {
			return l.Start.Add(time.Second)
		}
		return l.Start
	})
	all := records(t, s)
	for i, l := range ls {
		even := i%2 == 0
		want := lease.DNSPending
		if even {
			want = lease.DNSAdded
		}
		if got[i] != even || all[l.Addr].DNSState != want {
			t.Errorf("%v: ConfirmDNS reported %v, record in state %v; want %v, %v", l.Addr, got[i], all[l.Addr].DNSState, even, want)
		}
	}
	for i, ok := range confirmAll(func(l lease.Lease) time.Time { return l.Start }) {
		if ok != (i%2 == 1) {
			t.Errorf("%v: the second confirmation reported %v", ls[i].Addr, ok)
		}
	}
}
