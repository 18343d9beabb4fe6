package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"leased/lease"
	"leased/lease/journal"
)

// leasesFixture returns a store directory holding three leases, out of
// address order, and one address freed.
func leasesFixture(t *testing.T) (string, []lease.Lease) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	exp := time.Date(2025, 3, 1, 13, 0, 0, 0, time.UTC)
	hw := lease.HardwareAddr{Type: 1, Len: 6, Addr: [16]byte{0x02, 0, 0, 0, 0, 0x0a}}
	ls := []lease.Lease{
		{Addr: netip.MustParseAddr("198.18.0.20"), ClientID: "\x01\x02\x00\x00\x00\x00\x0a", HW: hw, Hostname: "printer", State: lease.Bound, Start: exp.Add(-time.Hour), Expiry: exp},
		{Addr: netip.MustParseAddr("198.18.0.3"), ClientID: "", HW: hw, Hostname: "my laptop", State: lease.Released, Expiry: exp.Add(time.Minute)},
		{Addr: netip.MustParseAddr("198.18.0.100"), State: lease.Declined, Expiry: exp.Add(time.Hour)},
		{Addr: netip.MustParseAddr("198.18.0.7"), ClientID: "x", State: lease.Bound, Expiry: exp},
	}
	s, err := journal.Open(dir, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Commit(context.Background(), ls...); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(context.Background(), lease.Lease{Addr: ls[3].Addr, State: lease.Free}); err != nil {
		t.Fatal(err)
	}
	return dir, ls[:3]
}

func runLeases(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = leasesCommand(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestLeasesListTable(t *testing.T) {
	dir, _ := leasesFixture(t)
	code, out, stderr := runLeases("list", "--store", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := [][]string{
		{"ADDRESS", "CLIENT-ID", "HW-ADDR", "HOSTNAME", "STATE", "EXPIRY"},
		{"198.18.0.3", "-", "02:00:00:00:00:0a", `my\x20laptop`, "released", "2025-03-01T13:01:00Z"},
		{"198.18.0.20", "0102000000000a", "02:00:00:00:00:0a", "printer", "bound", "2025-03-01T13:00:00Z"},
		{"198.18.0.100", "-", "-", "-", "declined", "2025-03-01T14:00:00Z"},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if got := strings.Fields(lines[i]); !slices.Equal(got, w) {
			t.Errorf("line %d = %q, want fields %q", i, lines[i], w)
		}
	}
	// Aligned: every column starts at the same position on every line.
	for col, name := range want[0] {
		pos := strings.Index(lines[0], name)
		for i := 1; i < len(lines); i++ {
			if !strings.HasPrefix(lines[i][pos:], want[i][col]) {
				t.Errorf("line %d: column %s not at %d: %q", i, name, pos, lines[i])
			}
		}
	}
}

func TestLeasesListJSON(t *testing.T) {
	dir, _ := leasesFixture(t)
	code, out, stderr := runLeases("list", "--store", dir, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := []map[string]string{
		{"address": "198.18.0.3", "client_id": "", "hw_addr": "02:00:00:00:00:0a", "hostname": "my laptop", "state": "released", "expiry": "2025-03-01T13:01:00Z"},
		{"address": "198.18.0.20", "client_id": "0102000000000a", "hw_addr": "02:00:00:00:00:0a", "hostname": "printer", "state": "bound", "expiry": "2025-03-01T13:00:00Z"},
		{"address": "198.18.0.100", "client_id": "", "hw_addr": "", "hostname": "", "state": "declined", "expiry": "2025-03-01T14:00:00Z"},
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, line := range lines {
		var got map[string]string
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d %q: %v", i, line, err)
		}
		if len(got) != len(want[i]) {
			t.Errorf("line %d has keys %v, want %v", i, got, want[i])
		}
		for k, v := range want[i] {
			if got[k] != v {
				t.Errorf("line %d: %s = %q, want %q", i, k, got[k], v)
			}
		}
	}
}

func TestLeasesListBesideRunningServer(t *testing.T) {
	dir, _ := leasesFixture(t)
	s, err := journal.Open(dir, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code, out, stderr := runLeases("list", "--store", dir, "--json")
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Errorf("list beside a server: exit %d, %d lines, stderr %s", code, strings.Count(out, "\n"), stderr)
	}
}

func TestLeasesUsageAndFailures(t *testing.T) {
	dir, _ := leasesFixture(t)
	// A store whose log is corrupt in the middle.
	corrupt := filepath.Join(t.TempDir(), "corrupt")
	s, err := journal.Open(corrupt, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		l := lease.Lease{Addr: netip.AddrFrom4([4]byte{198, 18, 1, byte(i)}), State: lease.Bound}
		if err := s.Commit(context.Background(), l); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	logs, _ := filepath.Glob(filepath.Join(corrupt, "log.*"))
	b, _ := os.ReadFile(logs[0])
	b[32+16+10] ^= 0xff // inside the first record
	os.WriteFile(logs[0], b, 0o600)

	tests := []struct {
		name     string
		args     []string
		code     int
		stderr   string // substring
		stdoutRE string // substring of stdout
	}{
		{name: "no subcommand", args: nil, code: 2, stderr: "usage:"},
		{name: "unknown subcommand", args: []string{"frobnicate"}, code: 2, stderr: `unknown subcommand "frobnicate"`},
		{name: "list without --store asks the server", args: []string{"list", "--control", filepath.Join(dir, "none.sock")}, code: 1, stderr: "cannot reach the leased control API"},
		{name: "unknown flag", args: []string{"list", "--store", dir, "--color"}, code: 2, stderr: "flag provided but not defined"},
		{name: "stray argument", args: []string{"list", "--store", dir, "extra"}, code: 2, stderr: `unexpected argument "extra"`},
		{name: "help", args: []string{"list", "-h"}, code: 0, stderr: "usage:"},
		{name: "store that does not exist", args: []string{"list", "--store", filepath.Join(dir, "nope")}, code: 1, stderr: "nope"},
		{name: "corrupt store names file and offset", args: []string{"list", "--store", corrupt}, code: 1, stderr: "corrupt at offset 32"},
		{name: "corrupt store with --salvage shows the rest", args: []string{"list", "--store", corrupt, "--salvage"}, code: 0, stdoutRE: "198.18.1.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runLeases(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.stderr)
			}
			if !strings.Contains(out, tt.stdoutRE) {
				t.Errorf("stdout %q does not contain %q", out, tt.stdoutRE)
			}
		})
	}
}
