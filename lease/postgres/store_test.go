package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"leased/lease"
)

func TestCommitAndReadBack(t *testing.T) {
	s := open(t, newDB(t), Options{})
	ctx := context.Background()
	a := bound("198.18.0.10", "\x01client-a", t0.Add(time.Hour))
	b := bound("198.18.0.11", "\x01client-b", t0.Add(time.Hour))
	b.Hostname = "\xff\x00not utf-8"
	bare := lease.Lease{Addr: netip.MustParseAddr("198.18.0.12"), State: lease.Declined, Start: t0, Expiry: t0}
	if err := s.Commit(ctx, a, b, bare); err != nil {
		t.Fatal(err)
	}
	got := records(t, s)
	for _, want := range []lease.Lease{a, b, bare} {
		if g := got[want.Addr]; !reflect.DeepEqual(g, want) {
			t.Errorf("read back %+v\nwant %+v", g, want)
		}
	}
	a.State = lease.Free
	if err := s.Commit(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := records(t, s); len(got) != 2 {
		t.Errorf("a Free record must delete: %d records", len(got))
	}
	st := s.StoreStats()
	if st.Commits != 2 || st.Records != 4 || st.Batches != 2 || !st.Writable || st.FreeBytes != -1 || st.LowOnSpace() {
		t.Errorf("stats %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, b); !errors.Is(err, lease.ErrClosed) {
		t.Errorf("Commit after Close: %v", err)
	}
}

// TestCommitRules checks when a record may take an address that has one
// already, as the database judges it by its own clock.
func TestCommitRules(t *testing.T) {
	now := time.Now()
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	with := func(l lease.Lease, st lease.State) lease.Lease { l.State = st; return l }
	tests := []struct {
		name     string
		held     lease.Lease
		write    lease.Lease
		conflict bool
	}{
		{"free address", lease.Lease{}, bound("198.18.1.1", "b", future), false},
		{"same client renews", bound("198.18.1.1", "a", future), bound("198.18.1.1", "a", future.Add(time.Hour)), false},
		{"bound to another client until later", bound("198.18.1.1", "a", future), bound("198.18.1.1", "b", future), true},
		{"bound to another client, expiry passed", bound("198.18.1.1", "a", past), bound("198.18.1.1", "b", future), false},
		{"released by another client", with(bound("198.18.1.1", "a", future), lease.Released), bound("198.18.1.1", "b", future), false},
		{"expired record of another client", with(bound("198.18.1.1", "a", future), lease.Expired), bound("198.18.1.1", "b", future), false},
		{"declined, in probation", with(bound("198.18.1.1", "a", future), lease.Declined), bound("198.18.1.1", "b", future), true},
		{"declined, probation over", with(bound("198.18.1.1", "a", past), lease.Declined), bound("198.18.1.1", "b", future), false},
		{"another client cannot delete a bound lease", bound("198.18.1.1", "a", future), with(bound("198.18.1.1", "b", now), lease.Free), true},
		{"expiring a lease renewed elsewhere", bound("198.18.1.1", "a", future), with(bound("198.18.1.1", "a", now), lease.Expired), true},
		{"expiring a lease that ended", bound("198.18.1.1", "a", past), with(bound("198.18.1.1", "a", now), lease.Expired), false},
	}
	url := newDB(t)
	s := open(t, url, Options{})
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			free := tc.write
			free.State, free.ClientID = lease.Free, tc.held.ClientID
			if _, err := s.pool.Exec(ctx, `DELETE FROM leased_leases`); err != nil {
				t.Fatal(err)
			}
			if tc.held.Addr.IsValid() {
				if err := s.Commit(ctx, tc.held); err != nil {
					t.Fatal(err)
				}
			}
			err := s.Commit(ctx, tc.write)
			var ce *lease.ConflictError
			switch {
			case tc.conflict && !errors.As(err, &ce):
				t.Fatalf("want a conflict, got %v", err)
			case tc.conflict && (ce.Addr != tc.write.Addr || ce.Holder.ClientID != tc.held.ClientID || ce.Holder.State != tc.held.State):
				t.Fatalf("conflict names %+v, want the holder %+v", ce.Holder, tc.held)
			case !tc.conflict && err != nil:
				t.Fatalf("want success, got %v", err)
			}
			want := tc.write
			if tc.conflict {
				want = tc.held
			}
			got, ok := records(t, s)[want.Addr]
			if want.State == lease.Free {
				if ok {
					t.Errorf("deleted record still there: %+v", got)
				}
			} else if !ok || got.ClientID != want.ClientID || got.State != want.State {
				t.Errorf("record %+v, want %+v", got, want)
			}
		})
	}
}

// TestCommitAllOrNone: the leases of one call apply together; a refused
// call does not hold back the other calls of its batch.
func TestCommitAllOrNone(t *testing.T) {
	s := open(t, newDB(t), Options{})
	ctx := context.Background()
	held := bound("198.18.2.2", "holder", time.Now().Add(time.Hour))
	if err := s.Commit(ctx, held); err != nil {
		t.Fatal(err)
	}
	release := lease.Lease{Addr: netip.MustParseAddr("198.18.2.1"), ClientID: "mover", State: lease.Released, Start: t0, Expiry: t0}
	errs := make(chan error, 2)
	go func() { errs <- s.Commit(ctx, release, bound("198.18.2.2", "mover", time.Now().Add(time.Hour))) }()
	go func() { errs <- s.Commit(ctx, bound("198.18.2.3", "other", time.Now().Add(time.Hour))) }()
	var conflicts, ok int
	for range 2 {
		var ce *lease.ConflictError
		switch err := <-errs; {
		case errors.As(err, &ce) && ce.Holder.ClientID == "holder":
			conflicts++
		case err == nil:
			ok++
		default:
			t.Fatalf("unexpected %v", err)
		}
	}
	got := records(t, s)
	if conflicts != 1 || ok != 1 {
		t.Errorf("%d conflicts, %d successes", conflicts, ok)
	}
	if _, ok := got[release.Addr]; ok {
		t.Errorf("the refused call's first lease was recorded")
	}
	if got[held.Addr].ClientID != "holder" || got[netip.MustParseAddr("198.18.2.3")].ClientID != "other" {
		t.Errorf("records %+v", got)
	}
	if st := s.StoreStats(); st.Conflicts != 1 {
		t.Errorf("conflicts counted %d", st.Conflicts)
	}
}

func TestCommitRefusesInvalid(t *testing.T) {
	s := open(t, newDB(t), Options{})
	if err := s.Commit(context.Background(), lease.Lease{Addr: netip.MustParseAddr("198.18.0.1")}); err == nil {
		t.Error("an invalid lease was committed")
	}
}

// TestCommitUnderSerializableDefault: a database whose default isolation
// is serializable still commits batches (the store asks for read
// committed), and two stores racing for one address still see each
// other.
func TestCommitUnderSerializableDefault(t *testing.T) {
	url := newDB(t)
	s := open(t, url, Options{ServerID: "a"})
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_isolation = serializable', current_database()); END $$`); err != nil {
		t.Fatal(err)
	}
	a, b := open(t, url, Options{ServerID: "a2"}), open(t, url, Options{ServerID: "b2"})
	var iso string
	if err := a.pool.QueryRow(ctx, `SHOW transaction_isolation`).Scan(&iso); err != nil || iso != "read committed" {
		t.Fatalf("isolation %q, %v", iso, err)
	}
	errs := make(chan error, 2)
	go func() { errs <- a.Commit(ctx, bound("198.18.8.1", "x", time.Now().Add(time.Hour))) }()
	go func() { errs <- b.Commit(ctx, bound("198.18.8.1", "y", time.Now().Add(time.Hour))) }()
	var ok, conflicts int
	for range 2 {
		var ce *lease.ConflictError
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.As(err, &ce):
			conflicts++
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if ok != 1 || conflicts != 1 {
		t.Errorf("%d won, %d refused: want one each", ok, conflicts)
	}
}

// TestBatchSplitAtMaxBatch: calls beyond MaxBatch wait for the next
// transaction, each call keeps its own outcome across the split, and a
// refused call in a later part is reported to its own caller.
func TestBatchSplitAtMaxBatch(t *testing.T) {
	url := newDB(t)
	s := open(t, url, Options{MaxBatch: 4})
	ctx := context.Background()
	held := bound("198.18.9.200", "holder", time.Now().Add(time.Hour))
	if err := s.Commit(ctx, held); err != nil {
		t.Fatal(err)
	}
	locker := open(t, url, Options{})
	tx, err := locker.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE leased_leases IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	const calls = 19
	errs := make([]chan error, calls)
	for i := range calls {
		errs[i] = make(chan error, 1)
		go func() {
			a, b := bound(fmt.Sprintf("198.18.9.%d", 2*i), fmt.Sprint("c", i), time.Now().Add(time.Hour)),
				bound(fmt.Sprintf("198.18.9.%d", 2*i+1), fmt.Sprint("c", i), time.Now().Add(time.Hour))
			if i == 13 {
				b.Addr = held.Addr
			}
			errs[i] <- s.Commit(ctx, a, b)
		}()
		if i == 0 {
			waitFor(t, time.Second, "the first batch in the database", func() bool {
				return sqlInt(t, url, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'leased'`) > 0
			})
		}
	}
	waitFor(t, time.Second, "every call waiting", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.waiting == calls-1 })
	tx.Rollback(ctx)
	for i := range calls {
		err := <-errs[i]
		var ce *lease.ConflictError
		if i == 13 {
			if !errors.As(err, &ce) || ce.Holder.ClientID != "holder" {
				t.Errorf("call %d: %v, want the conflict with the holder", i, err)
			}
		} else if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	got := records(t, s)
	if len(got) != 1+2*(calls-1) {
		t.Errorf("%d records, want %d", len(got), 1+2*(calls-1))
	}
	if _, ok := got[netip.MustParseAddr("198.18.9.26")]; ok {
		t.Error("the refused call's first lease was recorded")
	}
	if st := s.StoreStats(); st.Batches < 1+1+(calls-1+3)/4 {
		t.Errorf("%d transactions for %d calls in batches of 4", st.Batches, calls)
	}
}
