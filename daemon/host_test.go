package daemon

import (
	"errors"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
)

// testHost is a host with eth0 (198.18.0.1) and lo.
func testHost() ([]HostInterface, error) {
	return []HostInterface{
		{Name: "lo", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}},
		{Name: "eth0", Addrs: []netip.Addr{netip.MustParseAddr("198.18.0.1")}},
	}, nil
}

func TestCheckHost(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		want []string // errors, each "file:line: path: start of message"
	}{
		{"interfaces present, pool clear of the host -> accepted", configText(), nil},
		{"interface that does not exist -> refused at its line", strings.Replace(configText(), "[eth0]", "[eth0, nosuch0]", 1),
			[]string{"leased.yaml:1: interfaces[1]: nosuch0 is not an interface of this host (it has lo, eth0)"}},
		{"pool holding the server's own address -> refused at its line", strings.Replace(configText(), "198.18.0.100-", "198.18.0.1-", 1),
			[]string{"leased.yaml:4: subnets[0].pools[0]: 198.18.0.1-198.18.0.199 includes 198.18.0.1, an address of this host (on eth0)"}},
		{"reservation of the server's own address -> refused at its line", configText() + strings.Join([]string{
			"    reservations:",
			"      - hw-address: 02:00:00:00:00:01",
			"        address: 198.18.0.1",
		}, "\n") + "\n", []string{"leased.yaml:7: subnets[0].reservations[0].address: 198.18.0.1 is an address of this host (on eth0)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "leased.yaml", tc.file)
			cfg, _, err := (&Source{File: path, Host: testHost}).Load()
			if len(tc.want) == 0 {
				if err != nil || cfg == nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), strings.Replace(w, "leased.yaml", path, 1)) {
					t.Errorf("error %q, want %q", err, w)
				}
			}
		})
	}
}

func TestCheckHostQuickModeAndListFailure(t *testing.T) {
	q := quickConfig(t, t.TempDir())
	q.Interfaces = []string{"nosuch0"}
	if _, _, err := (&Source{Quick: q, Host: testHost}).Load(); err == nil || !strings.Contains(err.Error(), "interfaces[0]: nosuch0 is not an interface") {
		t.Errorf("quick mode on a missing interface: %v", err)
	}
	failing := func() ([]HostInterface, error) { return nil, errors.New("netlink: no") }
	if _, _, err := (&Source{Quick: quickConfig(t, t.TempDir()), Host: failing}).Load(); err == nil || !strings.Contains(err.Error(), "netlink: no") {
		t.Errorf("with interfaces that cannot be listed: %v", err)
	}
}

// TestSystemInterfacesHasLoopback: the real lister finds lo and its
// address.
func TestSystemInterfacesHasLoopback(t *testing.T) {
	ifs, err := SystemInterfaces()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ifs, func(h HostInterface) bool { return h.Name == "lo" })
	if i < 0 || !slices.Contains(ifs[i].Addrs, netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("interfaces %+v, want lo with 127.0.0.1", ifs)
	}
}

// TestReloadRefusesMissingInterface: a reload naming an interface the
// host lacks is refused, says why, and keeps the running configuration.
func TestReloadRefusesMissingInterface(t *testing.T) {
	path := writeFile(t, "leased.yaml", configText())
	live := &fakeLive{}
	r, logs := newTestReloader(t, &Source{File: path, Host: testHost}, live)
	before := r.Status()
	if err := os.WriteFile(path, []byte(strings.Replace(configText(), "[eth0]", "[nosuch0]", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := r.Reload("test")
	if err == nil || !strings.Contains(err.Error(), "interfaces[0]: nosuch0 is not an interface of this host") {
		t.Errorf("reload naming nosuch0: %v", err)
	}
	if st != before || r.Status() != before || live.count() != 0 {
		t.Errorf("status %+v after the refusal, want %+v; %d configurations put in effect", st, before, live.count())
	}
	if !strings.Contains(logs.String(), "reload refused; the running configuration stays") || !strings.Contains(logs.String(), "nosuch0") {
		t.Errorf("log:\n%s", logs)
	}
}

// TestReloadAppliesInterfacesAtOnce: a reload that changes the interfaces
// changes what the DHCP side serves.
func TestReloadAppliesInterfacesAtOnce(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, "leased.yaml", configText("lease-store: "+dir))
	src := Source{File: path, Host: func() ([]HostInterface, error) {
		return []HostInterface{{Name: "eth0"}, {Name: "eth1"}}, nil
	}}
	cfg, sum, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	dhcp := &fakeDHCP{ev: &events{}, serving: make(chan struct{})}
	opts := withDefaults(Options{Source: src, Config: cfg, ConfigSHA256: sum})
	s, err := assemble(opts, &operator{}, dhcp, &fakeStore{ev: &events{}, dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(configText("lease-store: "+dir), "[eth0]", "[eth1]", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := s.Reloader().Reload("test")
	if err != nil {
		t.Fatal(err)
	}
	if got := dhcp.interfaces(); !slices.Equal(got, []string{"eth1"}) {
		t.Errorf("DHCP side serves %q after the reload, want eth1", got)
	}
	if st.Changes == nil || !slices.Equal(st.Changes.Applied, []string{"interfaces"}) {
		t.Errorf("changes %+v, want interfaces applied", st.Changes)
	}
}
