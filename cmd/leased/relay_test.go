package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"leased/relay"
	"leased/udp4"
)

// TestRelayCommandUsage: bad flags are refused with exit status 2 and a
// message naming the flag, before any socket is opened. "lo" is the
// downstream interface where one must exist: it has an IPv4 address
// everywhere, and no packet is sent.
func TestRelayCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no flags", nil, "usage: leased relay"},
		{"no server", []string{"-i", "lo"}, "usage: leased relay"},
		{"no interface", []string{"--server", "198.18.0.1"}, "usage: leased relay"},
		{"stray argument", []string{"-i", "lo", "--server", "198.18.0.1", "extra"}, `unexpected argument "extra"`},
		{"server not an address", []string{"-i", "lo", "--server", "dhcp.example"}, "--server dhcp.example"},
		{"IPv6 server", []string{"-i", "lo", "--server", "2001:db8::1"}, "--server 2001:db8::1"},
		{"unknown policy", []string{"-i", "lo", "--server", "198.18.0.1", "--agent-info-policy", "append"}, "--agent-info-policy"},
		{"circuit ID without interface", []string{"-i", "lo", "--server", "198.18.0.1", "--circuit-id", "port-1"}, "--circuit-id"},
		{"circuit ID of an interface not relayed", []string{"-i", "lo", "--server", "198.18.0.1", "--circuit-id", "eth9=port-1"}, "eth9 is not a downstream interface"},
		{"RFC1542 4.1.1 hops above 16", []string{"-i", "lo", "--server", "198.18.0.1", "--max-hops", "17"}, "maximum hops 17"},
		{"hops zero", []string{"-i", "lo", "--server", "198.18.0.1", "--max-hops", "0"}, "--max-hops 0"},
		{"secs over 16 bits", []string{"-i", "lo", "--server", "198.18.0.1", "--min-secs", "70000"}, "--min-secs"},
		{"maximum size below 300", []string{"-i", "lo", "--server", "198.18.0.1", "--max-size", "200"}, "maximum message size 200"},
		{"upstream not an address", []string{"-i", "lo", "--server", "198.18.0.1", "--link-selection", "--upstream", "x"}, "--upstream"},
		{"bad listen address", []string{"-i", "lo", "--server", "198.18.0.1", "--listen", "67"}, "--listen"},
		{"bad log level", []string{"-i", "lo", "--server", "198.18.0.1", "--log-level", "loud"}, "--log-level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := relayCommand(context.Background(), tc.args, &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr: %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q does not mention %q", stderr.String(), tc.want)
			}
		})
	}
}

func TestParseServer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want netip.AddrPort
		ok   bool
	}{
		{"198.18.0.1", netip.MustParseAddrPort("198.18.0.1:67"), true},
		{"198.18.0.1:1067", netip.MustParseAddrPort("198.18.0.1:1067"), true},
		{"[2001:db8::1]:67", netip.AddrPort{}, false},
		{"198.18.0", netip.AddrPort{}, false},
		{"", netip.AddrPort{}, false},
	} {
		got, err := parseHostPort(tc.in, udp4.ServerPort)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseHostPort(%q, 67) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestListFlag(t *testing.T) {
	var l listFlag
	for _, s := range []string{"eth0,eth1", " eth2 ", "", "eth3,,"} {
		if err := l.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.String(); got != "eth0,eth1,eth2,eth3" {
		t.Errorf("listFlag = %q, want eth0,eth1,eth2,eth3", got)
	}
}

// SIGUSR1 logs the counters; SIGHUP does not stop the relay, and says it
// was ignored and why.
func TestRelaySignals(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	sigs := make(chan os.Signal)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	stats := func() relay.Stats { return relay.Stats{Received: 7, Sent: 5} }
	go func() { relaySignals(ctx, sigs, stats, log); close(done) }()
	sigs <- syscall.SIGHUP // unbuffered: each send waits for relaySignals to take it
	sigs <- syscall.SIGUSR1
	sigs <- syscall.SIGHUP
	cancel()
	<-done
	out := logs.String()
	if n := strings.Count(out, "SIGHUP ignored"); n != 2 || !strings.Contains(out, "restart it to apply a change") {
		t.Errorf("%d warnings for 2 SIGHUPs; log:\n%s", n, out)
	}
	if !strings.Contains(out, "msg=stats received=7 sent=5") {
		t.Errorf("no counters after SIGUSR1; log:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
