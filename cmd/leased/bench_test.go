package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"

	"leased/dhcpv4"
)

// TestBenchCommandUsage: bad flags are refused with exit status 2 and a
// message naming the flag, before any socket is opened.
func TestBenchCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no flags", nil, "usage: leased bench"},
		{"stray argument", []string{"--server", "198.18.0.1", "extra"}, `unexpected argument "extra"`},
		{"server not an address", []string{"--server", "dhcp.example"}, "--server dhcp.example"},
		{"IPv6 server", []string{"--server", "2001:db8::1"}, "--server 2001:db8::1"},
		{"local not an address", []string{"--server", "198.18.0.1", "--local", "67"}, "--local 67"},
		{"giaddr not IPv4", []string{"--server", "198.18.0.1", "--giaddr", "2001:db8::2"}, "--giaddr"},
		{"hardware address of 8 bytes", []string{"--server", "198.18.0.1", "--mac", "02:00:00:00:00:00:00:01"}, "--mac"},
		{"unbounded", []string{"--server", "198.18.0.1", "--duration", "0"}, "--duration or --count"},
		{"zero timeout", []string{"--server", "198.18.0.1", "--timeout", "0"}, "--timeout"},
		{"more in flight than clients", []string{"--server", "198.18.0.1", "--clients", "10", "--outstanding", "11"}, "--outstanding 11 exceeds --clients 10"},
		{"unknown flag", []string{"--server", "198.18.0.1", "--fast"}, "-fast"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := benchCommand(context.Background(), tc.args, &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr: %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q does not mention %q", stderr.String(), tc.want)
			}
		})
	}
}

// benchFakeServer answers every DISCOVER with an OFFER and every REQUEST
// with an ACK of one address per client, to the address it came from, and
// counts what it answered.
func benchFakeServer(t *testing.T) (netip.AddrPort, func() (offers, acks int)) {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	// Room for a burst of the open-loop case while this goroutine is
	// descheduled on a loaded machine: a datagram the socket drops is an
	// exchange lost, which the tests count.
	_ = conn.SetReadBuffer(4 << 20)
	counts := make(chan [2]int, 1)
	go func() {
		var n [2]int
		defer func() { counts <- n }()
		buf := make([]byte, 1500)
		var req, reply dhcpv4.Packet
		for {
			k, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if dhcpv4.Parse(buf[:k], &req) != nil {
				continue
			}
			reply.Reset()
			reply.Op, reply.XID, reply.GIAddr = dhcpv4.BootReply, req.XID, req.GIAddr
			reply.SetHardwareAddr(req.HType, req.HardwareAddr())
			hw := req.HardwareAddr()
			reply.YIAddr = netip.AddrFrom4([4]byte{198, 18, 1 + hw[4], hw[5]})
			reply.Options.SetAddr(dhcpv4.OptServerID, netip.MustParseAddr("198.18.0.1"))
			switch req.MessageType() {
			case dhcpv4.Discover:
				reply.Options.SetMessageType(dhcpv4.Offer)
				n[0]++
			case dhcpv4.Request:
				reply.Options.SetMessageType(dhcpv4.Ack)
				n[1]++
			default:
				continue
			}
			b, err := reply.Append(nil, 0)
			if err != nil {
				return
			}
			conn.WriteToUDPAddrPort(b, from)
		}
	}()
	stop := func() (int, int) {
		conn.Close()
		n := <-counts
		return n[0], n[1]
	}
	t.Cleanup(func() { conn.Close() })
	return conn.LocalAddr().(*net.UDPAddr).AddrPort(), stop
}

// TestBenchCommandRuns: a bounded run against a server on loopback prints
// a summary whose counts match what the server answered.
func TestBenchCommandRuns(t *testing.T) {
	for _, tc := range []struct {
		name   string
		extra  []string
		check  func(t *testing.T, stdout string)
		offers int
		acks   int
	}{
		{
			name:   "RFC2131 3.1 closed loop, text summary",
			extra:  []string{"--count", "300", "--clients", "50", "--outstanding", "8"},
			offers: 300, acks: 300,
			check: func(t *testing.T, out string) {
				for _, want := range []string{"DORA: 300 started, 300 completed", "0.000% lost", "acks 300, naks 0", "conflicts 0", "DISCOVER-OFFER", "REQUEST-ACK", "DISCOVER-ACK"} {
					if !strings.Contains(out, want) {
						t.Errorf("summary lacks %q:\n%s", want, out)
					}
				}
			},
		},
		{
			name:   "open loop, JSON summary",
			extra:  []string{"--count", "200", "--clients", "200", "--rate", "500", "--json"},
			offers: 200, acks: 200,
			check: func(t *testing.T, out string) {
				var v struct {
					Started, Completed, Acks, Conflicts uint64
					Loss                                float64
					TargetRate                          float64 `json:"target_rate"`
					Offer                               struct {
						Count uint64
						P50   float64 `json:"p50_us"`
						Max   float64 `json:"max_us"`
					} `json:"discover_offer"`
				}
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Fatalf("summary is not JSON: %v\n%s", err, out)
				}
				if v.Started != 200 || v.Completed != 200 || v.Acks != 200 || v.Loss != 0 || v.TargetRate != 500 ||
					v.Offer.Count != 200 || v.Offer.P50 > v.Offer.Max {
					t.Errorf("got %+v", v)
				}
			},
		},
		{
			name:   "RFC2131 4.3.1 DISCOVER only",
			extra:  []string{"--count", "100", "--clients", "100", "--discover-only"},
			offers: 100, acks: 0,
			check: func(t *testing.T, out string) {
				if !strings.Contains(out, "DISCOVER-OFFER: 100 started, 100 completed") || strings.Contains(out, "REQUEST-ACK ") {
					t.Errorf("summary:\n%s", out)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, stop := benchFakeServer(t)
			args := append([]string{"--server", srv.String(), "--local", "127.0.0.1:0", "--timeout", "10s", "--progress", "0"}, tc.extra...)
			var stdout, stderr bytes.Buffer
			if code := benchCommand(context.Background(), args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d; stderr: %s", code, stderr.String())
			}
			offers, acks := stop()
			if offers != tc.offers || acks != tc.acks {
				t.Errorf("server answered %d DISCOVERs and %d REQUESTs, want %d and %d", offers, acks, tc.offers, tc.acks)
			}
			tc.check(t, stdout.String())
		})
	}
}

// TestBenchCommandFailsWithoutServer: nobody answers, so no exchange
// completes and the exit status says so.
func TestBenchCommandFailsWithoutServer(t *testing.T) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	defer sink.Close()
	args := []string{"--server", sink.LocalAddr().String(), "--local", "127.0.0.1:0", "--count", "3", "--timeout", "20ms", "--progress", "5ms"}
	var stdout, stderr bytes.Buffer
	if code := benchCommand(context.Background(), args, &stdout, &stderr); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "no exchange completed") {
		t.Errorf("stderr: %s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "3 started, 0 completed") {
		t.Errorf("stdout: %s", stdout.String())
	}
}

// TestBenchFlagsHostNames: --hostnames has the simulated clients send
// their host names (option 12), and they send none without it.
func TestBenchFlagsHostNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want bool
	}{
		{"RFC2132 3.14 no host names by default", nil, false},
		{"RFC2132 3.14 --hostnames sends option 12", []string{"--hostnames"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newBenchFlags(io.Discard)
			if err := f.fs.Parse(append([]string{"--server", "198.18.0.1"}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			cfg, err := f.config()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.HostNames != tc.want {
				t.Errorf("Config.HostNames %v, want %v", cfg.HostNames, tc.want)
			}
		})
	}
}

func TestParseHostPort(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want netip.AddrPort
		ok   bool
	}{
		{"198.18.0.1", netip.MustParseAddrPort("198.18.0.1:67"), true},
		{"198.18.0.1:1067", netip.MustParseAddrPort("198.18.0.1:1067"), true},
		{"0.0.0.0:0", netip.MustParseAddrPort("0.0.0.0:0"), true},
		{"[2001:db8::1]:67", netip.AddrPort{}, false},
		{"198.18.0", netip.AddrPort{}, false},
		{"", netip.AddrPort{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseHostPort(tc.in, 67)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("got %v, %v; want %v, ok=%v", got, err, tc.want, tc.ok)
			}
		})
	}
}

// TestBenchFlood: --flood sends --count DISCOVERs and reports them.
func TestBenchFlood(t *testing.T) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	defer sink.Close()
	var stdout, stderr bytes.Buffer
	code := benchCommand(context.Background(), []string{"--flood", "--server", sink.LocalAddr().String(), "--local", "127.0.0.1:0",
		"--count", "50", "--duration", "0", "--timeout", "10ms", "--json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var sum struct{ Sent, Offers uint64 }
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil || sum.Sent != 50 {
		t.Errorf("summary %q (%v), want 50 sent", stdout.String(), err)
	}
}
