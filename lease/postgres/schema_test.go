package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"leased/lease"
)

func TestMigrationsInSequence(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != SchemaVersion || ms[len(ms)-1].version != SchemaVersion {
		t.Errorf("%d migrations, SchemaVersion %d", len(ms), SchemaVersion)
	}
}

func TestSchemaInitUpgradeRefusal(t *testing.T) {
	if shared == nil {
		t.Skip("no PostgreSQL")
	}
	ctx := context.Background()
	url := shared.NewDB(t)
	opts := Options{URL: url}
	if v, err := Version(ctx, opts); err != nil || v != 0 {
		t.Fatalf("empty database: version %d, %v", v, err)
	}
	if _, err := Open(ctx, opts); !errors.Is(err, ErrNoSchema) {
		t.Errorf("Open without a schema: %v", err)
	}
	if err := Upgrade(ctx, opts, func(int, int) {}); !errors.Is(err, ErrNoSchema) {
		t.Errorf("Upgrade without a schema: %v", err)
	}
	if err := Init(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if v, err := Version(ctx, opts); err != nil || v != SchemaVersion {
		t.Fatalf("after init: version %d, %v", v, err)
	}
	if err := Init(ctx, opts); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("a second init: %v", err)
	}
	steps := 0
	if err := Upgrade(ctx, opts, func(int, int) { steps++ }); err != nil || steps != 0 {
		t.Errorf("upgrade of a current schema: %d steps, %v", steps, err)
	}
	s, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	// A schema from a later leased.
	if sqlInt(t, url, `WITH i AS (INSERT INTO leased_schema_version (version, name) VALUES ($1, 'future') RETURNING version) SELECT version FROM i`, SchemaVersion+1) == 0 {
		t.Fatal("insert failed")
	}
	if _, err := Open(ctx, opts); !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "older than the lease schema") {
		t.Errorf("Open of a newer schema: %v", err)
	}
	if err := Upgrade(ctx, opts, func(int, int) {}); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Upgrade of a newer schema: %v", err)
	}
}

func TestCheckVersion(t *testing.T) {
	tests := []struct {
		v    int
		want error
	}{
		{0, ErrNoSchema},
		{1, ErrSchemaTooOld},
		{2, nil},
		{3, ErrSchemaTooNew},
	}
	for _, tc := range tests {
		if err := versionError(tc.v, 2); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("version %d: %v, want %v", tc.v, err, tc.want)
		}
	}
	if err := checkVersion(SchemaVersion); err != nil {
		t.Errorf("the current version: %v", err)
	}
	if err := versionError(1, 2); !strings.Contains(err.Error(), "leased db upgrade") {
		t.Errorf("older schema: %v does not say to upgrade", err)
	}
}

func TestNoteRoundTrip(t *testing.T) {
	l := bound("198.18.7.7", "\x00\x01;,", t0)
	l.Hostname = "a b;c,d"
	got, err := parseNote(string(appendNote(nil, &l)))
	l.Start, l.Expiry = l.Start.Truncate(1000), l.Expiry.Truncate(1000)
	if err != nil || got != l {
		t.Errorf("got %+v, %v\nwant %+v", got, err, l)
	}
	for _, bad := range []string{"", "1,2,3", "x,1,0,0,1,,,", "198.18.0.1,1,0,0,1,zz,,", "198.18.0.1,9,0,0,1,,,", "2001:db8::1,1,0,0,1,,,"} {
		if _, err := parseNote(bad); err == nil {
			t.Errorf("parseNote(%q) accepted", bad)
		}
	}
	if _, _, err := parseNotification("nospace"); err == nil {
		t.Error("a notification without a server was accepted")
	}
	var _ lease.Watcher = (*Store)(nil)
}

func TestOptionsServerID(t *testing.T) {
	o, err := Options{}.withDefaults()
	if err != nil || o.ServerID == "" || strings.ContainsAny(o.ServerID, " ,;") {
		t.Errorf("default server id %q, %v", o.ServerID, err)
	}
	if _, err := (Options{ServerID: "a b"}).withDefaults(); err == nil {
		t.Error("a server id with a space was accepted")
	}
}

func TestReadPasswordFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, want string
		ok                  bool
	}{
		{"first line", "s3cret\nignored\n", "s3cret", true},
		{"no newline", "s3cret", "s3cret", true},
		{"CRLF", "s3cret\r\n", "s3cret", true},
		{"spaces kept", " a b \n", " a b ", true},
		{"empty file", "", "", false},
		{"empty first line", "\nx\n", "", false},
	}
	for i, tc := range tests {
		p := filepath.Join(dir, strconv.Itoa(i))
		if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadPasswordFile(p)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: %q, %v", tc.name, got, err)
		}
	}
	if _, err := ReadPasswordFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file was read")
	}
}

func TestIsDataError(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "23502"}, true},  // not_null_violation: the statement
		{&pgconn.PgError{Code: "40001"}, true},  // serialization_failure: the statement
		{&pgconn.PgError{Code: "57P01"}, false}, // admin_shutdown: the database
		{&pgconn.PgError{Code: "08006"}, false}, // connection_failure
		{&pgconn.PgError{Code: "53300"}, false}, // too_many_connections
		{&pgconn.PgError{Code: ""}, false},
		{errors.New("dial unix: connection refused"), false},
	}
	for _, tc := range tests {
		if got := isDataError(tc.err); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestUpgradeAppliesMissingMigrations: an upgrade applies, in order and
// in one transaction, the migrations a schema lacks; one that fails
// leaves the schema as it was.
func TestUpgradeAppliesMissingMigrations(t *testing.T) {
	if shared == nil {
		t.Skip("no PostgreSQL")
	}
	ctx := context.Background()
	url := shared.NewDB(t)
	opts := Options{URL: url}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTo(ctx, opts, ms, true, func(int, int) {}); err != nil {
		t.Fatal(err)
	}
	next := append(ms[:len(ms):len(ms)],
		migration{version: len(ms) + 1, name: "next_a.sql", sql: `CREATE TABLE leased_next_a (v int); INSERT INTO leased_next_a VALUES (1);`},
		migration{version: len(ms) + 2, name: "next_b.sql", sql: `ALTER TABLE leased_next_a ADD COLUMN w int;`})
	var steps []string
	if err := migrateTo(ctx, opts, next, false, func(from, to int) { steps = append(steps, fmt.Sprint(from, "->", to)) }); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(len(ms), "->", len(ms)+1, " ", len(ms)+1, "->", len(ms)+2)
	if got := strings.Join(steps, " "); got != want {
		t.Errorf("steps %q, want %q", got, want)
	}
	if v, err := Version(ctx, opts); err != nil || v != len(ms)+2 {
		t.Errorf("version %d, %v", v, err)
	}
	if _, err := Open(ctx, opts); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("this package on the upgraded schema: %v", err)
	}
	broken := append(next[:len(next):len(next)],
		migration{version: len(ms) + 3, name: "good.sql", sql: `CREATE TABLE leased_next_c (v int);`},
		migration{version: len(ms) + 4, name: "bad.sql", sql: `ALTER TABLE no_such_table ADD COLUMN x int;`})
	if err := migrateTo(ctx, opts, broken, false, func(int, int) { t.Error("a step reported from a failed upgrade") }); err == nil || !strings.Contains(err.Error(), "bad.sql") {
		t.Errorf("a failing migration: %v", err)
	}
	if v, _ := Version(ctx, opts); v != len(ms)+2 {
		t.Errorf("after a failed upgrade: version %d, want %d", v, len(ms)+2)
	}
	if n := sqlInt(t, url, `SELECT count(*) FROM pg_tables WHERE tablename = 'leased_next_c'`); n != 0 {
		t.Error("a failed upgrade left part of its work")
	}
}

// TestUpgradeFromEachVersion: a database at any earlier schema version,
// holding leases, upgrades to SchemaVersion ("leased db upgrade"), keeps
// its leases, and then serves commits and their notifications.
func TestUpgradeFromEachVersion(t *testing.T) {
	if shared == nil {
		t.Skip("no PostgreSQL")
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for from := 1; from < SchemaVersion; from++ {
		t.Run(fmt.Sprint("from version ", from), func(t *testing.T) {
			url := shared.NewDB(t)
			opts := Options{URL: url}
			if err := migrateTo(ctx, opts, ms[:from], true, func(int, int) {}); err != nil {
				t.Fatal(err)
			}
			if _, err := sqlExec(url, `INSERT INTO leased_leases VALUES ('198.18.1.1', 'old', 1, '\x020000000003', '', 1, now(), now() + interval '1 hour', 'old-server', now())`); err != nil {
				t.Fatal(err)
			}
			var steps []string
			if err := Upgrade(ctx, opts, func(a, b int) { steps = append(steps, fmt.Sprint(a, "->", b)) }); err != nil {
				t.Fatal(err)
			}
			if len(steps) != SchemaVersion-from {
				t.Errorf("steps %v, want %d", steps, SchemaVersion-from)
			}
			a, b := open(t, url, Options{ServerID: "a"}), open(t, url, Options{ServerID: "b"})
			if got := records(t, a); got[netip.MustParseAddr("198.18.1.1")].ClientID != "old" {
				t.Errorf("the lease from before the upgrade: %+v", got)
			}
			wctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var got changes
			go b.Watch(wctx, got.add)
			waitFor(t, 5*time.Second, "resynced", func() bool { return got.count(isKind(lease.ResyncEnd)) == 1 })
			if err := a.Commit(ctx, bound("198.18.1.1", "new", time.Now().Add(time.Hour))); !errors.As(err, new(*lease.ConflictError)) {
				t.Errorf("commit over a held lease: %v", err)
			}
			if err := a.Commit(ctx, bound("198.18.1.2", "new", time.Now().Add(time.Hour))); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "the commit notified", func() bool { return got.count(changedBy("new", lease.Bound)) == 1 })
		})
	}
}

// sqlExec runs one statement on url.
func sqlExec(url, query string, args ...any) (pgconn.CommandTag, error) {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Close(ctx)
	return c.Exec(ctx, query, args...)
}
