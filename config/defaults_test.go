package config

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"leased/dhcpv4"
)

// Quick mode and a file that holds the same keys give the same
// configuration: the defaults are set in one place.
func TestNewQuickMatchesFile(t *testing.T) {
	q, err := NewQuick(Quick{
		Interface: "eth0",
		Prefix:    netip.MustParsePrefix("198.18.0.0/24"),
		Pool:      Range{First: netip.MustParseAddr("198.18.0.100"), Last: netip.MustParseAddr("198.18.0.199")},
		LeaseTime: 2 * time.Hour,
		Router:    netip.MustParseAddr("198.18.0.1"),
		DNS:       []netip.Addr{netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("198.18.0.3")},
		Domain:    "example.test",
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("quick.yaml", []byte(lines(
		"interfaces: [eth0]",
		"lease-time: 2h",
		"subnets:",
		"  - prefix: 198.18.0.0/24",
		"    pools: [198.18.0.100-198.18.0.199]",
		"    options:",
		"      routers: [198.18.0.1]",
		"      dns-servers: [198.18.0.2, 198.18.0.3]",
		"      domain-name: example.test",
	)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(q, f) {
		t.Errorf("NewQuick:\n%+v\nthe file:\n%+v", q, f)
	}
	if q.OfferHold != DefaultOfferHold || q.DeclineProbation != DefaultDeclineProbation || q.LeaseStore != DefaultLeaseStore ||
		q.CommitDelay != DefaultCommitDelay || q.ReceiveDelay != DefaultReceiveDelay || q.CheckReleaseSource != DefaultCheckReleaseSource {
		t.Errorf("defaults not applied: %+v", q)
	}
	if v := q.Subnets[0].Options; len(v) != 3 || v[0].Code != dhcpv4.OptRouter {
		t.Errorf("options %+v", v)
	}
}

func TestNewQuickDefaultsAndRefusals(t *testing.T) {
	base := Quick{
		Interface: "eth0",
		Prefix:    netip.MustParsePrefix("198.18.0.0/24"),
		Pool:      Range{First: netip.MustParseAddr("198.18.0.100"), Last: netip.MustParseAddr("198.18.0.199")},
	}
	c, err := NewQuick(base)
	if err != nil {
		t.Fatal(err)
	}
	if c.Defaults.LeaseTime != DefaultLeaseTime || c.Subnets[0].LeaseTime != DefaultLeaseTime || len(c.Subnets[0].Options) != 0 {
		t.Errorf("zero Quick: %+v", c)
	}
	outside := base
	outside.Pool = Range{First: netip.MustParseAddr("198.19.0.100"), Last: netip.MustParseAddr("198.19.0.199")}
	if _, err := NewQuick(outside); err == nil || !strings.Contains(err.Error(), "subnets[0].pools[0]") {
		t.Errorf("a pool outside the subnet: %v, want the validation error", err)
	}
	noIface := base
	noIface.Interface = ""
	if _, err := NewQuick(noIface); err == nil {
		t.Error("no interface accepted")
	}
}

func TestLoadWithHash(t *testing.T) {
	content := []byte(lines(
		"interfaces: [eth0]",
		"subnets:",
		"  - prefix: 198.18.0.0/24",
		"    pools: [198.18.0.100-198.18.0.199]",
	))
	path := filepath.Join(t.TempDir(), "leased.yaml")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	c, sum, err := LoadWithHash(path)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(content)
	if sum != hex.EncodeToString(want[:]) {
		t.Errorf("sum %s, want %x", sum, want)
	}
	if len(c.Subnets) != 1 || c.OfferHold != DefaultOfferHold {
		t.Errorf("config %+v", c)
	}
	if _, sum, err := LoadWithHash(filepath.Join(t.TempDir(), "none.yaml")); err == nil || sum != "" {
		t.Errorf("missing file: %q %v", sum, err)
	}
}

func TestLoadWithHashOfContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "leased.yaml")
	content := "interfaces: [eth0]\nsubnets:\n  - prefix: 198.18.0.0/24\n    pools: [198.18.0.100-198.18.0.199]\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, sum, err := LoadWithHash(path)
	if err != nil {
		t.Fatal(err)
	}
	// sha256sum of the content above.
	if sum != "89d5c485670c93121b2e1f926bbf92fd5e13e328406cf939365bdf1c0832e22c" || len(cfg.Subnets) != 1 {
		t.Errorf("sum %q, %d subnets", sum, len(cfg.Subnets))
	}
	if err := os.WriteFile(path, []byte(content+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, sum2, _ := LoadWithHash(path); sum2 == sum {
		t.Error("a changed file has the same hash")
	}
	if err := os.WriteFile(path, []byte("subnets: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadWithHash(path); err == nil || !strings.Contains(err.Error(), "leased.yaml") {
		t.Errorf("invalid file: %v, want an error naming it", err)
	}
}

// The default receive-delay is within the bound the configuration takes.
func TestDefaultDelaysWithinBounds(t *testing.T) {
	if DefaultReceiveDelay <= 0 || DefaultReceiveDelay > MaxReceiveDelay {
		t.Errorf("DefaultReceiveDelay %v out of (0, %v]", DefaultReceiveDelay, MaxReceiveDelay)
	}
	if DefaultCommitDelay < 0 || DefaultCommitDelay > MaxCommitDelay {
		t.Errorf("DefaultCommitDelay %v out of [0, %v]", DefaultCommitDelay, MaxCommitDelay)
	}
}
