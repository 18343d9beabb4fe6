package daemon

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"leased/config"
	leaseevents "leased/events"
	"leased/lease"
	"leased/server"
)

// TestOpenHooks: no hook configured is no hooks; a script or webhook is
// one; a secret file that cannot be read or is empty stops the start.
func TestOpenHooks(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		hooks   config.Hooks
		want    bool
		wantErr string
	}{
		{"none", config.Hooks{}, false, ""},
		{"defaults only", config.DefaultHooks(), false, ""},
		{"script", config.Hooks{Script: config.HookScript{Path: "/bin/true"}}, true, ""},
		{"webhook with a secret", config.Hooks{Webhook: config.HookWebhook{URL: "http://198.18.0.1/", SecretFile: secret}}, true, ""},
		{"script missing", config.Hooks{Script: config.HookScript{Path: filepath.Join(dir, "nope")}}, false, "hooks.script.path"},
		{"script not executable", config.Hooks{Script: config.HookScript{Path: secret}}, false, "not an executable"},
		{"secret missing", config.Hooks{Webhook: config.HookWebhook{URL: "http://198.18.0.1/", SecretFile: filepath.Join(dir, "nope")}}, false, "secret-file"},
		{"secret empty", config.Hooks{Webhook: config.HookWebhook{URL: "http://198.18.0.1/", SecretFile: empty}}, false, "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := openHooks(tc.hooks, slog.New(slog.DiscardHandler))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (h != nil) != tc.want {
				t.Fatalf("hooks %v, want some: %v", h, tc.want)
			}
		})
	}
}

// TestOperatorReleaseIsPublished: a lease ended through the control API
// (leased leases release) reaches the hooks as a release event, with the
// lease's DNS name for the DNS updater to remove.
func TestOperatorReleaseIsPublished(t *testing.T) {
	now := time.Date(2026, 5, 6, 6, 0, 0, 0, time.UTC)
	cfg, err := config.NewQuick(config.Quick{Interface: "eth0", Prefix: netip.MustParsePrefix("198.18.0.0/24"),
		Pool: config.Range{First: netip.MustParseAddr("198.18.0.100"), Last: netip.MustParseAddr("198.18.0.110")}})
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddr("198.18.0.100")
	store := &lease.Memory{}
	if err := store.Commit(context.Background(), lease.Lease{Addr: addr, ClientID: "\x01\x02\x00\x00\x00\x00\x01",
		HW: lease.HardwareAddr{Type: 1, Len: 6, Addr: [16]byte{2, 0, 0, 0, 0, 1}}, Hostname: "pc",
		FQDN: "pc.example.net", DNS: lease.DNSForward | lease.DNSReverse, State: lease.Bound, Start: now.Add(-time.Minute), Expiry: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	eng, err := server.New(cfg, store, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan leaseevents.Record, 4)
	hooks := (*leaseevents.Hooks)(nil).Add(func(_ context.Context, r *leaseevents.Record) { got <- *r }, 1, 8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hooks.Run(ctx)
	n := releaseNotifier{server.NewReloadable(eng), hooks}
	if _, err := n.ForceRelease(ctx, addr); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r.Type != leaseevents.Release || r.Addr != addr || string(r.Hostname()) != "pc" || r.HW.Len != 6 {
			t.Fatalf("published %v of %v (%q), want the release of %v", r.Type, r.Addr, r.Hostname(), addr)
		}
		if string(r.FQDN()) != "pc.example.net" || r.DNS != lease.DNSForward|lease.DNSReverse {
			t.Fatalf("release published with FQDN %q and records %v, want pc.example.net and both", r.FQDN(), r.DNS)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event published")
	}
	if _, err := n.ForceRelease(ctx, netip.MustParseAddr("198.18.0.101")); err == nil {
		t.Fatal("released an address without a lease")
	}
}
