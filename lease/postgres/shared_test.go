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

	"leased/internal/pgtest"
	"leased/lease"
)

// TestTwoStoresRace: two stores (two servers) on one database, 64
// goroutines each, every goroutine a client of its own trying to bind
// addresses of a small range: no address is ever bound to two clients,
// and every refusal names the client that holds the address.
func TestTwoStoresRace(t *testing.T) {
	url := newDB(t)
	stores := []*Store{open(t, url, Options{ServerID: "a"}), open(t, url, Options{ServerID: "b"})}
	const perStore, addrs, tries = 64, 200, 8
	var mu sync.Mutex
	winner := make(map[netip.Addr]string)
	var wg sync.WaitGroup
	errs := make(chan error, 2*perStore*tries)
	expiry := time.Now().Add(time.Hour)
	for si, s := range stores {
		for g := range perStore {
			client := fmt.Sprintf("client-%d-%d", si, g)
			wg.Go(func() {
				for i := range tries {
					a := netip.AddrFrom4([4]byte{198, 18, 3, byte((g*7 + i*13 + si) % addrs)})
					l := bound(a.String(), client, expiry)
					err := s.Commit(context.Background(), l)
					var ce *lease.ConflictError
					mu.Lock()
					switch {
					case err == nil:
						if w, ok := winner[a]; ok && w != client {
							errs <- fmt.Errorf("%v bound to %s and then to %s", a, w, client)
						}
						winner[a] = client
					case errors.As(err, &ce):
						if w := winner[a]; ce.Holder.ClientID == client || ce.Addr != a {
							errs <- fmt.Errorf("conflict for %v names %q, winner so far %q", a, ce.Holder.ClientID, w)
						}
					default:
						errs <- err
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	rows := records(t, stores[0])
	for a, w := range winner {
		if rows[a].ClientID != w {
			t.Errorf("%v: database says %q, the winner was %q", a, rows[a].ClientID, w)
		}
	}
	if n := sqlInt(t, url, `SELECT count(*) FROM (SELECT addr FROM leased_leases WHERE state = 1 GROUP BY addr HAVING count(DISTINCT client_id) > 1) d`); n != 0 {
		t.Errorf("%d addresses bound twice", n)
	}
	a, b := stores[0].StoreStats(), stores[1].StoreStats()
	if a.Conflicts+b.Conflicts == 0 || len(winner) != addrs {
		t.Errorf("no race happened: %d conflicts, %d addresses won", a.Conflicts+b.Conflicts, len(winner))
	}
	if a.Batches >= a.Commits+a.Conflicts {
		t.Errorf("no group commit: %d round trips for %d calls", a.Batches, a.Commits+a.Conflicts)
	}
	t.Logf("store a: %d commits, %d conflicts, %d round trips; store b: %d, %d, %d",
		a.Commits, a.Conflicts, a.Batches, b.Commits, b.Conflicts, b.Batches)
}

// TestDatabaseOutage: the database stops and starts again. The store
// turns unwritable, refuses commits at once, comes back by itself and
// has lost nothing committed before.
func TestDatabaseOutage(t *testing.T) {
	srv := pgtest.Start(t)
	url := initDB(t, srv)
	s := open(t, url, Options{})
	ctx := context.Background()
	before := bound("198.18.4.1", "before", time.Now().Add(time.Hour))
	if err := s.Commit(ctx, before); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "unwritable", func() bool { return !s.Writable() })
	start := time.Now()
	err := s.Commit(ctx, bound("198.18.4.2", "during", time.Now().Add(time.Hour)))
	if !errors.Is(err, ErrUnavailable) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("Commit while down: %v after %v", err, time.Since(start))
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "writable again", s.Writable)
	after := bound("198.18.4.3", "after", time.Now().Add(time.Hour))
	if err := s.Commit(ctx, after); err != nil {
		t.Fatal(err)
	}
	got := records(t, s)
	if got[before.Addr].ClientID != "before" || got[after.Addr].ClientID != "after" || len(got) != 2 {
		t.Errorf("records after the outage: %+v", got)
	}
	if st := s.StoreStats(); st.Reconnects != 1 || st.FailedCommits == 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestCommitBoundedWhenSlow: a database that does not answer makes
// commits time out, and beyond MaxWaiting callers are refused at once.
func TestCommitBoundedWhenSlow(t *testing.T) {
	url := newDB(t)
	s := open(t, url, Options{CommitTimeout: 300 * time.Millisecond, MaxWaiting: 1})
	ctx := context.Background()
	// Hold the table locked: commits block in the database.
	locker := open(t, url, Options{})
	tx, err := locker.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE leased_leases IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() { first <- s.Commit(ctx, bound("198.18.5.1", "c1", time.Now().Add(time.Hour))) }()
	waitFor(t, time.Second, "in the database", func() bool {
		return sqlInt(t, url, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'leased'`) > 0
	})
	second := make(chan error, 1)
	go func() { second <- s.Commit(ctx, bound("198.18.5.2", "c2", time.Now().Add(time.Hour))) }()
	waitFor(t, time.Second, "waiting", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.waiting == 1 })
	if err := s.Commit(ctx, bound("198.18.5.3", "c3", time.Now().Add(time.Hour))); !errors.Is(err, ErrBusy) {
		t.Errorf("third commit: %v, want ErrBusy", err)
	}
	if err := <-first; !errors.Is(err, ErrTimeout) {
		t.Errorf("blocked commit: %v, want ErrTimeout", err)
	}
	if err := <-second; err == nil {
		t.Error("the commit queued behind a blocked one succeeded while the table was locked")
	}
	tx.Rollback(ctx)
	st := s.StoreStats()
	if st.Refused != 1 || st.TimedOut == 0 || st.FailedCommits != 3 || st.Commits != 0 {
		t.Errorf("stats %+v", st)
	}
	waitFor(t, 5*time.Second, "writable", s.Writable)
	if err := s.Commit(ctx, bound("198.18.5.4", "c4", time.Now().Add(time.Hour))); err != nil {
		t.Errorf("after the lock: %v", err)
	}
}

// changes collects what a Watch delivers.
type changes struct {
	mu   sync.Mutex
	list []lease.Change
}

func (c *changes) add(ch lease.Change) { c.mu.Lock(); c.list = append(c.list, ch); c.mu.Unlock() }

func (c *changes) count(pred func(lease.Change) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ch := range c.list {
		if pred(ch) {
			n++
		}
	}
	return n
}

func isKind(k lease.ChangeKind) func(lease.Change) bool {
	return func(c lease.Change) bool { return c.Kind == k }
}

func changedBy(client string, st lease.State) func(lease.Change) bool {
	return func(c lease.Change) bool {
		return c.Kind == lease.Changed && c.Lease.ClientID == client && c.Lease.State == st
	}
}

// TestWatch: a store sees the other store's commits, in order, but not
// its own, and resyncs after the database restarted.
func TestWatch(t *testing.T) {
	srv := pgtest.Start(t)
	url := initDB(t, srv)
	a, b := open(t, url, Options{ServerID: "a"}), open(t, url, Options{ServerID: "b"})
	ctx, cancel := context.WithCancel(context.Background())
	early := bound("198.18.6.1", "early", time.Now().Add(time.Hour))
	if err := a.Commit(ctx, early); err != nil {
		t.Fatal(err)
	}
	var got changes
	done := make(chan error, 1)
	go func() { done <- b.Watch(ctx, got.add) }()
	waitFor(t, 5*time.Second, "resynced", func() bool { return got.count(isKind(lease.ResyncEnd)) == 1 })
	if err := b.Commit(ctx, bound("198.18.6.2", "own", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	l := bound("198.18.6.3", "other", time.Now().Add(time.Hour))
	l.Hostname = "\x00;, odd"
	if err := a.Commit(ctx, l); err != nil {
		t.Fatal(err)
	}
	l.State = lease.Released
	if err := a.Commit(ctx, l); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the release delivered", func() bool { return got.count(changedBy("other", lease.Released)) == 1 })
	if n := got.count(changedBy("other", lease.Bound)); n != 1 {
		t.Errorf("the binding delivered %d times", n)
	}
	if n := got.count(changedBy("own", lease.Bound)); n != 0 {
		t.Errorf("the store's own commit delivered %d times", n)
	}
	got.mu.Lock()
	last := got.list[len(got.list)-1].Lease
	got.mu.Unlock()
	if last.Hostname != l.Hostname || last.HW != l.HW || !last.Expiry.Equal(l.Expiry.Truncate(time.Microsecond)) {
		t.Errorf("delivered %+v, committed %+v", last, l)
	}
	l.State = lease.Free
	if err := a.Commit(ctx, l); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the deletion delivered", func() bool { return got.count(changedBy("other", lease.Free)) == 1 })

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "resynced again", func() bool { return got.count(isKind(lease.ResyncEnd)) == 2 })
	// Every resync delivers every record; a resync cut short by the
	// restart (a ResyncStart without its end) delivers some again. The
	// notification of the record committed before the watch began is
	// sent after its commit, and so may reach the watch too.
	starts := got.count(isKind(lease.ResyncStart))
	if n := got.count(changedBy("own", lease.Bound)); n < 1 || n > starts-1 {
		t.Errorf("the resyncs after the store's own commit delivered its record %d times, want 1 to %d", n, starts-1)
	}
	if n := got.count(changedBy("early", lease.Bound)); n < 2 || n > starts+1 {
		t.Errorf("the record from before the watch delivered %d times in %d resyncs, want once per resync and at most once by its notification", n, starts)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Watch returned %v", err)
	}
}

// TestWatchLargeBatches: the changes of batches larger than one
// notification can carry (8000 bytes) all arrive, each once.
func TestWatchLargeBatches(t *testing.T) {
	url := newDB(t)
	a, b := open(t, url, Options{ServerID: "a"}), open(t, url, Options{ServerID: "b"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got changes
	go b.Watch(ctx, got.add)
	waitFor(t, 5*time.Second, "resynced", func() bool { return got.count(isKind(lease.ResyncEnd)) == 1 })
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			l := bound(fmt.Sprintf("198.18.10.%d", i), fmt.Sprint("client-", i), time.Now().Add(time.Hour))
			l.Hostname = strings.Repeat("h", 250)
			if err := a.Commit(ctx, l); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	waitFor(t, 10*time.Second, "every change delivered", func() bool { return got.count(isKind(lease.Changed)) >= n })
	seen := make(map[netip.Addr]int)
	got.mu.Lock()
	for _, c := range got.list {
		if c.Kind == lease.Changed {
			seen[c.Lease.Addr]++
		}
	}
	got.mu.Unlock()
	if len(seen) != n {
		t.Errorf("%d addresses delivered, want %d", len(seen), n)
	}
	for addr, k := range seen {
		if k != 1 {
			t.Errorf("%v delivered %d times", addr, k)
		}
	}

	// One call of 40 records, about 24 kB of notes: certainly split.
	var many []lease.Lease
	for i := range 40 {
		l := bound(fmt.Sprintf("198.18.11.%d", i), "one-client", time.Now().Add(time.Hour))
		l.Hostname = strings.Repeat("h", 250)
		many = append(many, l)
	}
	if err := a.Commit(ctx, many...); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the large call delivered", func() bool { return got.count(changedBy("one-client", lease.Bound)) == 40 })
}

// TestWatchResyncsPeriodically: a change whose notification was lost
// (its server died between COMMIT and the notification) reaches the
// other store at its next periodic resync, within ResyncInterval; with
// the notifications sent, it arrives at once, without waiting for one.
func TestWatchResyncsPeriodically(t *testing.T) {
	url := newDB(t)
	for _, tc := range []struct {
		name   string
		lose   bool
		period time.Duration // the watcher's ResyncInterval
		within time.Duration
	}{
		{"notification lost: the resync delivers it", true, 500 * time.Millisecond, 2 * time.Second},
		{"notification sent: delivered before any resync", false, time.Hour, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := open(t, url, Options{ServerID: "a"}), open(t, url, Options{ServerID: "b", ResyncInterval: tc.period})
			a.loseNotifications.Store(tc.lose)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var got changes
			go b.Watch(ctx, got.add)
			waitFor(t, 5*time.Second, "resynced", func() bool { return got.count(isKind(lease.ResyncEnd)) == 1 })
			client := fmt.Sprint("lost-", tc.lose)
			if err := a.Commit(ctx, bound(fmt.Sprint("198.18.12.", len(client)), client, time.Now().Add(time.Hour))); err != nil {
				t.Fatal(err)
			}
			waitFor(t, tc.within, "the change delivered", func() bool { return got.count(changedBy(client, lease.Bound)) >= 1 })
			resyncs := got.count(isKind(lease.ResyncEnd))
			if tc.lose && resyncs < 2 {
				t.Error("a lost notification delivered without a resync: the loss was not injected")
			}
			if !tc.lose && resyncs != 1 {
				t.Errorf("%d resyncs within an hour's period", resyncs)
			}
		})
	}
}

// TestOptionsResyncInterval: the periodic resync defaults to a minute,
// and a negative period turns it off.
func TestOptionsResyncInterval(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want time.Duration
	}{{0, DefaultResyncInterval}, {time.Second, time.Second}, {-1, -1}} {
		o, err := Options{ServerID: "a", ResyncInterval: tc.in}.withDefaults()
		if err != nil || o.ResyncInterval != tc.want {
			t.Errorf("ResyncInterval %v: %v, %v; want %v", tc.in, o.ResyncInterval, err, tc.want)
		}
		s := &Store{opts: o}
		if next := s.resyncDeadline(t0); next.IsZero() != (tc.want < 0) {
			t.Errorf("ResyncInterval %v: next resync at %v", tc.in, next)
		}
	}
}
