package daemon

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"leased/config"
	leaseevents "leased/events"
	"leased/lease"
)

const testKeyFile = "key \"leased\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=\";\n};\n"

// updateSink is a DNS server on 127.0.0.1 that accepts every update
// signed with the test key and remembers the names it was sent.
type updateSink struct {
	addr  netip.AddrPort
	mu    sync.Mutex
	names []string
}

func newUpdateSink(t *testing.T) *updateSink {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &updateSink{addr: netip.MustParseAddrPort(pc.LocalAddr().String())}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, NotifyStartedFunc: func() { close(started) },
		TsigSecret:    map[string]string{"leased.": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I="},
		MsgAcceptFunc: func(dns.Header) dns.MsgAcceptAction { return dns.MsgAccept },
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(r)
			if r.IsTsig() == nil || w.TsigStatus() != nil {
				m.Rcode = dns.RcodeNotAuth
			} else {
				s.mu.Lock()
				for _, rr := range r.Ns {
					s.names = append(s.names, rr.Header().Name)
				}
				s.mu.Unlock()
				m.SetTsig(r.IsTsig().Hdr.Name, r.IsTsig().Algorithm, 300, time.Now().Unix())
			}
			w.WriteMsg(m)
		})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	<-started
	return s
}

func (s *updateSink) got(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.names {
		if n == name {
			return true
		}
	}
	return false
}

// ddnsConfig is a configuration with DNS updates on for its one subnet.
func ddnsConfig(srv netip.AddrPort, keyFile string) *config.Config {
	dd := config.DDNS{Enabled: true, QualifyingSuffix: "example.net", ForwardZone: "example.net", ReverseZone: "0.18.198.in-addr.arpa",
		Servers: []netip.AddrPort{srv}, KeyFile: keyFile}.WithDefaults()
	return &config.Config{DDNS: config.DefaultDDNS(), Subnets: []config.Subnet{{Prefix: netip.MustParsePrefix("198.18.0.0/24"), DDNS: dd}}}
}

// TestOpenDDNS: no subnet with DNS updates is no updater; a key file that
// cannot be read stops the start, naming the key.
func TestOpenDDNS(t *testing.T) {
	keyFile := writeFile(t, "ddns.key", testKeyFile)
	srv := netip.MustParseAddrPort("127.0.0.1:53")
	log := slog.New(slog.DiscardHandler)
	off := ddnsConfig(srv, keyFile)
	off.Subnets[0].DDNS.Enabled = false
	for _, tc := range []struct {
		name    string
		cfg     *config.Config
		want    bool
		wantErr string
	}{
		{"off", off, false, ""},
		{"on", ddnsConfig(srv, keyFile), true, ""},
		{"key file missing", ddnsConfig(srv, filepath.Join(t.TempDir(), "nope")), false, "ddns.key-file: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := openDDNS(tc.cfg, &lease.Memory{}, time.Now, log)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (d != nil) != tc.want || (d.statsFunc() != nil) != tc.want {
				t.Fatalf("updater %v, want one: %v", d, tc.want)
			}
		})
	}
}

// waitFor waits until cond holds, failing t after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestDDNSUpdatesPublishedEvents: a lease event published to the hooks
// reaches the DNS server, signed with the key of the key file; a reload
// with another server moves the updates there, and one whose key file
// is gone is refused before anything changes.
func TestDDNSUpdatesPublishedEvents(t *testing.T) {
	keyFile := writeFile(t, "ddns.key", testKeyFile)
	first, second := newUpdateSink(t), newUpdateSink(t)
	log := slog.New(slog.DiscardHandler)
	d, err := openDDNS(ddnsConfig(first.addr, keyFile), &lease.Memory{}, time.Now, log)
	if err != nil {
		t.Fatal(err)
	}
	hooks := d.hook(nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { hooks.Run(ctx) })
	wg.Go(func() { d.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	publish := func(a, fqdn string) {
		var r leaseevents.Record
		l := lease.Lease{Addr: netip.MustParseAddr(a), State: lease.Bound, Start: time.Now(), Expiry: time.Now().Add(time.Hour),
			FQDN: fqdn, DNS: lease.DNSForward | lease.DNSReverse}
		leaseevents.FromLease(&r, leaseevents.Commit, netip.MustParsePrefix("198.18.0.0/24"), &l)
		r.SetFQDN(fqdn)
		r.DNS = l.DNS
		hooks.Publish(&r)
	}
	publish("198.18.0.10", "one.example.net")
	waitFor(t, "the update of one.example.net", func() bool { return first.got("one.example.net.") && d.Stats().Done == 1 })

	engine := &recordingEngine{}
	r := reconfigurer{engine: engine, dhcp: &fakeDHCP{}, dns: d, log: log}
	if err := r.Reload(ddnsConfig(first.addr, filepath.Join(t.TempDir(), "gone"))); err == nil || !strings.Contains(err.Error(), "ddns.key-file") {
		t.Fatalf("reload with a missing key file: %v", err)
	}
	if engine.reloads != 0 {
		t.Fatal("the engine reloaded a configuration that was refused")
	}
	if err := r.Reload(ddnsConfig(second.addr, keyFile)); err != nil {
		t.Fatal(err)
	}
	publish("198.18.0.11", "two.example.net")
	waitFor(t, "the update of two.example.net at the new server", func() bool { return second.got("two.example.net.") })
	if first.got("two.example.net.") {
		t.Error("the old server got the update after the reload")
	}
}

// recordingEngine counts its reloads.
type recordingEngine struct{ reloads int }

func (e *recordingEngine) Reload(*config.Config) error {
	e.reloads++
	return nil
}
