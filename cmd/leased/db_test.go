package main

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"leased/internal/pgtest"
	"leased/lease"
	"leased/lease/postgres"
)

func runDB(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"db"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestDBInitUpgradeVersion(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.NewDB(t)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "leased.yaml")
	cfg := "interfaces: [eth0]\nstore:\n  type: postgres\n  url: \"" + url + "\"\nsubnets:\n  - prefix: 198.18.0.0/24\n    pools: [198.18.0.10-198.18.0.20]\n"
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"version of an empty database", []string{"version", "--url", url}, 0, "database schema version 0\n"},
		{"upgrade without a schema", []string{"upgrade", "--url", url}, 1, "leased db init"},
		{"init", []string{"init", "--config", cfgFile}, 0, "lease schema created at version 4\n"},
		{"init twice", []string{"init", "--url", url}, 1, "already"},
		{"upgrade of a current schema", []string{"upgrade", "--config", cfgFile}, 0, "nothing to do"},
		{"version", []string{"version", "--config", cfgFile}, 0, "database schema version 4\nthis leased's schema version 4\n"},
		{"config and url", []string{"version", "--config", cfgFile, "--url", url}, 2, "give one"},
		{"argument", []string{"version", "extra"}, 2, "unexpected argument"},
		{"missing password file", []string{"version", "--url", url, "--password-file", filepath.Join(dir, "none")}, 1, "password file"},
	}
	for _, s := range steps {
		code, out, stderr := runDB(s.args...)
		if code != s.code || !strings.Contains(out+stderr, s.out) {
			t.Errorf("%s: exit %d, want %d; output %q%q, want %q", s.name, code, s.code, out, stderr, s.out)
		}
	}
}

func TestDBConfigWithoutPostgres(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "leased.yaml")
	cfg := "interfaces: [eth0]\nsubnets:\n  - prefix: 198.18.0.0/24\n    pools: [198.18.0.10-198.18.0.20]\n"
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runDB("init", "--config", cfgFile); code != 1 || !strings.Contains(stderr, "not a postgres store") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if code, _, _ := runDB("bogus"); code != 2 {
		t.Errorf("an unknown verb: exit %d", code)
	}
}

func TestLeasesListFromDatabase(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.NewDB(t)
	ctx := context.Background()
	if err := postgres.Init(ctx, postgres.Options{URL: url}); err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(ctx, postgres.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, a := range []string{"198.18.0.20", "198.18.0.3"} {
		l := lease.Lease{Addr: netip.MustParseAddr(a), ClientID: "\x01" + a, State: lease.Bound, Start: exp, Expiry: exp}
		if err := st.Commit(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"leases", "list", "--db", url, "--json"}, &out, &errb)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[0], `"198.18.0.3"`) || !strings.Contains(lines[1], `"2030-01-01T00:00:00Z"`) {
		t.Errorf("exit %d: %s%s", code, out.String(), errb.String())
	}
	for _, args := range [][]string{{"--db", url, "--store", "/x"}, {"--password-file", "/x"}, {"--db", url, "--state", "bound"}} {
		if code := run(ctx, append([]string{"leases", "list"}, args...), &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
