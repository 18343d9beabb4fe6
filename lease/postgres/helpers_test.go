package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"leased/internal/pgtest"
	"leased/lease"
)

// shared is the PostgreSQL server of the package's tests, nil when
// PostgreSQL is not installed; each test makes a database of its own.
var shared *pgtest.Server

func TestMain(m *testing.M) {
	s, err := pgtest.New()
	switch {
	case errors.Is(err, pgtest.ErrNoPostgres):
		fmt.Fprintln(os.Stderr, "skipping the PostgreSQL tests:", err)
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	default:
		shared = s
	}
	code := m.Run()
	if shared != nil {
		if err := shared.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// newDB returns the connection string of a fresh database with the
// schema, on the shared server.
func newDB(tb testing.TB) string {
	tb.Helper()
	if shared == nil {
		tb.Skip(pgtest.ErrNoPostgres)
	}
	return initDB(tb, shared)
}

// initDB makes a fresh database with the schema on srv.
func initDB(tb testing.TB, srv *pgtest.Server) string {
	tb.Helper()
	url := srv.NewDB(tb)
	if err := Init(context.Background(), Options{URL: url}); err != nil {
		tb.Fatal(err)
	}
	return url
}

// open opens a store on url, closed when tb ends.
func open(tb testing.TB, url string, opts Options) *Store {
	tb.Helper()
	opts.URL = url
	s, err := Open(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// sql runs one query on url and returns its first column as int64.
func sqlInt(tb testing.TB, url, query string, args ...any) int64 {
	tb.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close(ctx)
	var n int64
	if err := c.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC)

// bound returns a bound lease of addr for client, ending at expiry.
func bound(addr, client string, expiry time.Time) lease.Lease {
	l := lease.Lease{Addr: netip.MustParseAddr(addr), ClientID: client, State: lease.Bound,
		Hostname: "host-" + client, Start: t0, Expiry: expiry}
	l.HW = lease.HardwareAddr{Type: 1, Len: 6, Addr: [16]byte{2, 0, 0, 0, 0, byte(len(client))}}
	return l
}

// records returns the store's records by address.
func records(tb testing.TB, s *Store) map[netip.Addr]lease.Lease {
	tb.Helper()
	out := make(map[netip.Addr]lease.Lease)
	if err := s.Scan(context.Background(), func(l lease.Lease) bool {
		out[l.Addr] = l
		return true
	}); err != nil {
		tb.Fatal(err)
	}
	return out
}

// waitFor polls cond every 10 ms until it holds or d passed.
func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("not %s after %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
