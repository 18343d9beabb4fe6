package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"leased/config"
	"leased/control"
	"leased/dhcpv4"
	"leased/lease"
	"leased/reservations"
	"leased/server"
)

// ctlEnv is a control API on a Unix socket over an engine with three
// leases: 198.18.0.100 bound to 02:00:00:00:00:01 ("alpha"), .101 bound
// to 02:00:00:00:00:02, .102 offered to 02:00:00:00:00:03.
type ctlEnv struct {
	t      *testing.T
	socket string
	eng    *server.Reloadable
	reload func() (control.ConfigStatus, error)
	config func() control.ConfigStatus // nil: a file loaded an hour ago
}

func newCtlEnv(t *testing.T) *ctlEnv {
	t.Helper()
	cfg := &config.Config{
		Interfaces: []string{"eth0"}, OfferHold: 30 * time.Second, DeclineProbation: time.Minute,
		Defaults:      config.SubnetDefaults{LeaseTime: time.Hour},
		ClientClasses: []config.ClientClass{{Name: "vip"}, {Name: "lab"}, {Name: "blocked", Ignore: true}},
		Subnets: []config.Subnet{{
			Prefix:       netip.MustParsePrefix("198.18.0.0/24"),
			Pools:        []config.Range{{First: netip.MustParseAddr("198.18.0.100"), Last: netip.MustParseAddr("198.18.0.109")}},
			LeaseTime:    time.Hour,
			Reservations: []config.Reservation{{HWAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0x50}, Addr: netip.MustParseAddr("198.18.0.50"), Hostname: "printer"}},
		}},
	}
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	e, err := server.New(cfg, &lease.Memory{}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	env := &ctlEnv{t: t, eng: server.NewReloadable(e)}
	env.dora(1, "alpha", true)
	env.dora(2, "", true)
	env.dora(3, "", false)

	dir, err := os.MkdirTemp("", "leased-ctl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	env.socket = filepath.Join(dir, "control.sock")
	api, err := control.NewServer(control.Options{
		Engine: env.eng, Version: "9.9.9", Started: now.Add(-time.Hour), Clock: func() time.Time { return now },
		Config: func() control.ConfigStatus {
			if env.config != nil {
				return env.config()
			}
			return control.ConfigStatus{File: "/etc/leased/leased.yaml", SHA256: "feedbeef", Loaded: now, Subnets: 1}
		},
		Reload: func() (control.ConfigStatus, error) {
			if env.reload != nil {
				return env.reload()
			}
			return control.ConfigStatus{}, control.ErrNoReload
		},
		Reservations: reservations.FileIn(dir),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := control.ListenUnix(env.socket)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { control.Serve(ctx, ln, api, nil); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return env
}

// dora gives client n (02:00:00:00:00:0n) an offer, and a lease if bind.
func (env *ctlEnv) dora(n byte, hostname string, bind bool) {
	env.t.Helper()
	in := server.Arrival{IfIndex: 2, IfName: "eth0", IfAddrs: []netip.Prefix{netip.MustParsePrefix("198.18.0.1/24")},
		Src: netip.MustParseAddrPort("0.0.0.0:68"), Dst: netip.MustParseAddr("255.255.255.255")}
	send := func(t dhcpv4.MessageType, offered netip.Addr) server.Outcome {
		p := &dhcpv4.Packet{Op: dhcpv4.BootRequest, XID: uint32(n)}
		p.SetHardwareAddr(1, []byte{2, 0, 0, 0, 0, n})
		p.Options.SetMessageType(t)
		if hostname != "" {
			p.Options.SetString(dhcpv4.OptHostName, hostname)
		}
		if offered.IsValid() {
			p.Options.SetAddr(dhcpv4.OptServerID, netip.MustParseAddr("198.18.0.1"))
			p.Options.SetAddr(dhcpv4.OptRequestedIP, offered)
		}
		b, err := p.Append(nil, 1500)
		if err != nil {
			env.t.Fatal(err)
		}
		var req, reply dhcpv4.Packet
		if err := dhcpv4.Parse(b, &req); err != nil {
			env.t.Fatal(err)
		}
		return env.eng.Handle(context.Background(), &req, in, &reply)
	}
	out := send(dhcpv4.Discover, netip.Addr{})
	if out.Reason != server.ReasonOffer {
		env.t.Fatalf("DISCOVER %d: %v", n, out.Reason)
	}
	if bind {
		if out := send(dhcpv4.Request, out.Addr); out.Reason != server.ReasonAck {
			env.t.Fatalf("REQUEST %d: %v", n, out.Reason)
		}
	}
}

// run runs the leased command with args and the control socket.
func (env *ctlEnv) run(args ...string) (int, string, string) {
	env.t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append(args, "--control", env.socket), &out, &errb)
	return code, out.String(), errb.String()
}

// tableRows splits a table into its rows of fields, and checks that every
// column starts at the same position on every row.
func tableRows(t *testing.T, out string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var rows [][]string
	for _, l := range lines {
		rows = append(rows, strings.Fields(l))
	}
	header := lines[0]
	for col, name := range rows[0] {
		pos := strings.Index(header, name)
		for i, l := range lines[1:] {
			if len(rows[i+1]) != len(rows[0]) {
				t.Fatalf("row %d has %d fields, header %d: %q", i+1, len(rows[i+1]), len(rows[0]), l)
			}
			if !strings.HasPrefix(l[pos:], rows[i+1][col]) {
				t.Errorf("row %d: column %s not at %d: %q", i+1, name, pos, l)
			}
		}
	}
	return rows
}

func TestCtlLeasesList(t *testing.T) {
	env := newCtlEnv(t)
	tests := []struct {
		name string
		args []string
		want [][]string
	}{
		{"every lease", nil, [][]string{
			{"ADDRESS", "CLIENT-ID", "HW-ADDR", "HOSTNAME", "STATE", "EXPIRY"},
			{"198.18.0.100", "01020000000001", "02:00:00:00:00:01", "alpha", "bound", "2026-05-06T08:08:09Z"},
			{"198.18.0.101", "01020000000002", "02:00:00:00:00:02", "-", "bound", "2026-05-06T08:08:09Z"},
			{"198.18.0.102", "01020000000003", "02:00:00:00:00:03", "-", "offered", "2026-05-06T07:08:39Z"},
		}},
		{"state filter", []string{"--state", "offered"}, [][]string{
			{"ADDRESS", "CLIENT-ID", "HW-ADDR", "HOSTNAME", "STATE", "EXPIRY"},
			{"198.18.0.102", "01020000000003", "02:00:00:00:00:03", "-", "offered", "2026-05-06T07:08:39Z"},
		}},
		{"limit across pages", []string{"--limit", "1", "--mac", "02:00:00:00:00:02"}, [][]string{
			{"ADDRESS", "CLIENT-ID", "HW-ADDR", "HOSTNAME", "STATE", "EXPIRY"},
			{"198.18.0.101", "01020000000002", "02:00:00:00:00:02", "-", "bound", "2026-05-06T08:08:09Z"},
		}},
		{"range", []string{"--from", "198.18.0.101", "--to", "198.18.0.101"}, [][]string{
			{"ADDRESS", "CLIENT-ID", "HW-ADDR", "HOSTNAME", "STATE", "EXPIRY"},
			{"198.18.0.101", "01020000000002", "02:00:00:00:00:02", "-", "bound", "2026-05-06T08:08:09Z"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := env.run(append([]string{"leases", "list"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if rows := tableRows(t, out); !slices.EqualFunc(rows, tt.want, slices.Equal) {
				t.Errorf("got\n%s\nwant %q", out, tt.want)
			}
		})
	}
	t.Run("json, one object per line", func(t *testing.T) {
		code, out, stderr := env.run("leases", "list", "--json", "--limit", "2")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d lines, want 2 (--limit 2):\n%s", len(lines), out)
		}
		var l map[string]string
		if err := json.Unmarshal([]byte(lines[0]), &l); err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{"address": "198.18.0.100", "client_id": "01020000000001", "hw_addr": "02:00:00:00:00:01",
			"hostname": "alpha", "state": "bound", "expiry": "2026-05-06T08:08:09Z", "subnet": "198.18.0.0/24"} {
			if l[k] != v {
				t.Errorf("%s = %q, want %q", k, l[k], v)
			}
		}
	})
}

func TestCtlLeasesShowAndRelease(t *testing.T) {
	env := newCtlEnv(t)
	for _, key := range []string{"198.18.0.100", "02:00:00:00:00:01", "01:02:00:00:00:00:01"} {
		t.Run("show "+key, func(t *testing.T) {
			code, out, stderr := env.run("leases", "show", key)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, want := range []string{"address:    198.18.0.100", "state:      bound", "hostname:   alpha", "fqdn:       -", "hw-addr:    02:00:00:00:00:01"} {
				if !strings.Contains(out, want+"\n") {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
	code, out, _ := env.run("leases", "show", "198.18.0.101", "--json")
	var l control.Lease
	if code != 0 || json.Unmarshal([]byte(out), &l) != nil || l.State != "bound" {
		t.Errorf("show --json: exit %d %s", code, out)
	}

	code, out, stderr := env.run("leases", "release", "198.18.0.100")
	if code != 0 || out != "released 198.18.0.100 (client 02:00:00:00:00:01)\n" {
		t.Errorf("release: exit %d %q %s", code, out, stderr)
	}
	if v, _ := env.eng.LeaseByAddr(netip.MustParseAddr("198.18.0.100")); v.State != lease.Released {
		t.Errorf("after release: %v", v.State)
	}
	code, _, stderr = env.run("leases", "release", "198.18.0.100")
	if code != 1 || !strings.Contains(stderr, "no such lease") {
		t.Errorf("release again: exit %d %s, want 1 and the server's error", code, stderr)
	}
	code, _, stderr = env.run("leases", "show", "198.18.0.99")
	if code != 1 || !strings.Contains(stderr, "no lease of 198.18.0.99") {
		t.Errorf("show of no lease: exit %d %s", code, stderr)
	}
}

func TestCtlReservations(t *testing.T) {
	env := newCtlEnv(t)
	code, out, stderr := env.run("reservations", "add", "198.18.0.60", "--mac", "02:00:00:00:00:60", "--hostname", "scanner", "--classes", "vip,lab")
	if code != 0 || out != "reserved 198.18.0.60 for 02:00:00:00:00:60\n" {
		t.Fatalf("add: exit %d %q %s", code, out, stderr)
	}
	code, out, stderr = env.run("reservations", "list")
	if code != 0 {
		t.Fatalf("list: exit %d %s", code, stderr)
	}
	want := [][]string{
		{"ADDRESS", "SUBNET", "HW-ADDR", "CLIENT-ID", "RELAY", "HOSTNAME", "CLASSES", "SOURCE"},
		{"198.18.0.50", "198.18.0.0/24", "02:00:00:00:00:50", "-", "-", "printer", "-", "config"},
		{"198.18.0.60", "198.18.0.0/24", "02:00:00:00:00:60", "-", "-", "scanner", "vip,lab", "runtime"},
	}
	if rows := tableRows(t, out); !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("list:\n%s\nwant %q", out, want)
	}
	code, out, _ = env.run("reservations", "list", "--source", "runtime", "--json")
	var r control.Reservation
	if code != 0 || strings.Count(out, "\n") != 1 || json.Unmarshal([]byte(out), &r) != nil || r.Address.String() != "198.18.0.60" ||
		!slices.Equal(r.Classes, []string{"vip", "lab"}) {
		t.Errorf("list --source runtime --json: exit %d %q", code, out)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"address in use", []string{"reservations", "add", "198.18.0.100", "--mac", "02:00:00:00:00:61"}, 1, "in use"},
		{"reserved already", []string{"reservations", "add", "198.18.0.50", "--client-id", "0102"}, 1, "already reserved"},
		{"unknown class", []string{"reservations", "add", "198.18.0.61", "--mac", "02:00:00:00:00:61", "--classes", "vip,vpi"}, 1, `unknown class "vpi"`},
		{"ignore class", []string{"reservations", "add", "198.18.0.61", "--mac", "02:00:00:00:00:61", "--classes", "blocked"}, 1, "class blocked ignores its clients"},
		{"no client", []string{"reservations", "add", "198.18.0.61"}, 2, "one of --mac and --client-id"},
		{"two clients", []string{"reservations", "add", "198.18.0.61", "--mac", "02:00:00:00:00:61", "--client-id", "0102"}, 2, "one of --mac and --client-id"},
		{"not an address", []string{"reservations", "add", "host", "--mac", "02:00:00:00:00:61"}, 2, "not an address"},
		{"bad source", []string{"reservations", "list", "--source", "file"}, 2, "--source"},
		{"remove one of the file", []string{"reservations", "remove", "198.18.0.50"}, 1, "configuration file"},
		{"unknown subcommand", []string{"reservations", "edit"}, 2, "unknown subcommand"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := env.run(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d %q, want %d and %q", code, stderr, tc.code, tc.msg)
			}
		})
	}
	code, out, stderr = env.run("reservations", "remove", "198.18.0.60")
	if code != 0 || out != "removed the reservation of 198.18.0.60 for 02:00:00:00:00:60\n" {
		t.Errorf("remove: exit %d %q %s", code, out, stderr)
	}
}

func TestCtlPoolsStatusReload(t *testing.T) {
	env := newCtlEnv(t)
	code, out, stderr := env.run("pools")
	if code != 0 {
		t.Fatalf("pools: exit %d %s", code, stderr)
	}
	want := [][]string{
		{"SUBNET", "POOL", "SIZE", "USED", "FREE", "USE%", "BOUND", "OFFERED", "DECLINED", "RESERVED"},
		{"198.18.0.0/24", "198.18.0.100-198.18.0.109", "10", "3", "7", "30.0%", "2", "1", "0", "0"},
	}
	if rows := tableRows(t, out); !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("pools:\n%s\nwant %q", out, want)
	}

	code, out, stderr = env.run("status")
	if code != 0 {
		t.Fatalf("status: exit %d %s", code, stderr)
	}
	for _, w := range []string{"version:", "9.9.9", "(up 1h0m0s)", "/etc/leased/leased.yaml", "feedbeef", "2 bound, 1 offered, 0 declined", "1 from the file, 0 added at run time"} {
		if !strings.Contains(out, w) {
			t.Errorf("status lacks %q:\n%s", w, out)
		}
	}
	code, out, _ = env.run("status", "--json")
	var st control.Status
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Version != "9.9.9" || st.Config.SHA256 != "feedbeef" {
		t.Errorf("status --json: exit %d %s", code, out)
	}

	code, _, stderr = env.run("reload")
	if code != 1 || !strings.Contains(stderr, "no configuration file") {
		t.Errorf("reload in quick mode: exit %d %s", code, stderr)
	}
	env.reload = func() (control.ConfigStatus, error) {
		return control.ConfigStatus{}, &config.Error{File: "leased.yaml", Line: 3, Path: "subnets", Msg: "a list is required"}
	}
	code, _, stderr = env.run("reload")
	if code != 1 || !strings.Contains(stderr, "leased.yaml:3: subnets: a list is required") {
		t.Errorf("refused reload: exit %d %s, want the file, line and key", code, stderr)
	}
	env.reload = func() (control.ConfigStatus, error) {
		return control.ConfigStatus{File: "leased.yaml", SHA256: "0a0b", Subnets: 1}, nil
	}
	code, out, stderr = env.run("reload")
	if code != 0 || out != "reloaded leased.yaml (sha256 0a0b, 1 subnets)\n" {
		t.Errorf("reload: exit %d %q %s", code, out, stderr)
	}
}

// TestReloadSaysWhatTookEffectAndWhatWaitsForRestart: "leased reload"
// lists the settings the reload put in effect and those that wait for a
// restart, and exits with status 3 when some do; "leased status" lists
// the latter too.
func TestReloadSaysWhatTookEffectAndWhatWaitsForRestart(t *testing.T) {
	env := newCtlEnv(t)
	waiting := []control.SettingChange{{Key: "lease-store", Running: "/var/lib/leased", Loaded: "/srv/leased"}}
	for _, tc := range []struct {
		name    string
		changes *control.ConfigChanges
		args    []string
		code    int
		out     []string
	}{
		{"nothing changed -> status 0", &control.ConfigChanges{}, nil, 0,
			[]string{"reloaded leased.yaml (sha256 0a0b, 1 subnets)\nno setting changed\n"}},
		{"applied at once -> status 0", &control.ConfigChanges{Applied: []string{"interfaces", "subnets"}}, nil, 0,
			[]string{"took effect: interfaces, subnets\n"}},
		{"waits for a restart -> listed, status 3", &control.ConfigChanges{Applied: []string{"subnets"}, RestartNeeded: waiting}, nil, 3,
			[]string{"took effect: subnets\n", "waits for a restart: lease-store (running /var/lib/leased, in the file /srv/leased)\n"}},
		{"waits for a restart, JSON -> listed, status 3", &control.ConfigChanges{RestartNeeded: waiting}, []string{"--json"}, 3,
			[]string{`"restart_needed":[`, `"key":"lease-store"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.reload = func() (control.ConfigStatus, error) {
				return control.ConfigStatus{File: "leased.yaml", SHA256: "0a0b", Subnets: 1, Changes: tc.changes}, nil
			}
			code, out, stderr := env.run(append([]string{"reload"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (%s)", code, tc.code, stderr)
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("output %q lacks %q", out, w)
				}
			}
			if tc.code == 3 && !strings.Contains(stderr, "wait for a restart") {
				t.Errorf("stderr %q does not say that settings wait for a restart", stderr)
			}
		})
	}
	env.config = func() control.ConfigStatus {
		return control.ConfigStatus{File: "leased.yaml", Changes: &control.ConfigChanges{RestartNeeded: waiting}}
	}
	code, out, _ := env.run("status")
	if code != 0 || !strings.Contains(out, "restart needed:  lease-store (running /var/lib/leased, in the file /srv/leased)") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
}

func TestCtlUsage(t *testing.T) {
	dir := t.TempDir()
	none := filepath.Join(dir, "none.sock")
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no server", []string{"status", "--control", none}, 1, "cannot reach the leased control API"},
		{"stray argument", []string{"status", "extra"}, 2, `unexpected argument "extra"`},
		{"show needs an argument", []string{"leases", "show"}, 2, "missing argument"},
		{"show of neither address nor hex", []string{"leases", "show", "printer", "--control", none}, 2, "neither an address"},
		{"release needs an address", []string{"leases", "release", "02:00:00:00:00:01"}, 2, "not an address"},
		{"token file without TCP", []string{"status", "--token-file", filepath.Join(dir, "t")}, 2, "--token-file goes with --control-tcp"},
		{"store with a filter", []string{"leases", "list", "--store", dir, "--state", "bound"}, 2, "takes no filter"},
		{"salvage without store", []string{"leases", "list", "--salvage"}, 2, "--salvage goes with --store"},
		{"bad filter refused by the server", []string{"leases", "list", "--limit", "-1"}, 2, "--limit"},
		{"help", []string{"pools", "-h"}, 0, "usage: leased pools"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errb)
			if code != tt.code || !strings.Contains(errb.String(), tt.msg) {
				t.Errorf("exit %d %q, want %d and %q", code, errb.String(), tt.code, tt.msg)
			}
		})
	}
}

func TestCtlOverTCPWithToken(t *testing.T) {
	env := newCtlEnv(t)
	api, err := control.NewServer(control.Options{Engine: env.eng, Version: "9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	const token = "tok-0123456789abcdef"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := control.ListenTCP("127.0.0.1:0", token)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { control.Serve(ctx, ln, control.RequireToken(token, api), nil); close(done) }()
	defer func() { cancel(); <-done }()
	addr := ln.Addr().String()

	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"status", "--control-tcp", addr, "--token-file", tokenFile}, &out, &errb); code != 0 {
		t.Errorf("with the token: exit %d %s", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"status", "--control-tcp", addr}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "missing or wrong bearer token") {
		t.Errorf("without the token: exit %d %s", code, errb.String())
	}
}

func TestServerOperatorFlags(t *testing.T) {
	// Quick mode on the loopback interface validates; the flags at fault
	// stop the server before it opens any DHCP socket.
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"-i", "lo", "--range", "127.0.0.10-127.0.0.20", "--store", filepath.Join(dir, "store"), "--listen", "127.0.0.1:0"}
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"TCP control on all addresses without a token", []string{"--control-tcp", "0.0.0.0:0"}, "refusing to listen on 0.0.0.0:0"},
		{"token file without TCP", []string{"--control-token-file", short}, "--control-token-file goes with --control-tcp"},
		{"token too short", []string{"--control-tcp", "127.0.0.1:0", "--control-token-file", short}, "at least 16"},
		{"commit delay too long", []string{"--commit-delay", "1s"}, "--commit-delay \"1s\": want a duration from 0 to 100ms"},
		{"commit delay not a duration", []string{"--commit-delay", "soon"}, "--commit-delay \"soon\""},
		{"receive delay too long", []string{"--receive-delay", "2ms"}, "--receive-delay \"2ms\": want a duration from 0 to 1ms"},
		{"receive delay negative", []string{"--receive-delay", "-1us"}, "--receive-delay \"-1us\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := serverCommand(context.Background(), append(base, tt.args...), &out, &errb)
			if code != 2 || !strings.Contains(errb.String(), tt.msg) {
				t.Errorf("exit %d %q, want 2 and %q", code, errb.String(), tt.msg)
			}
			if _, err := os.Stat(filepath.Join(dir, "store")); err == nil {
				t.Error("the lease store was opened")
			}
		})
	}
}
