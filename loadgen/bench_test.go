package loadgen

import (
	"context"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"leased/dhcpv4"
	"leased/lease"
	"leased/lease/journal"
)

// BenchmarkLoopbackDORA runs full exchanges, closed loop, against leased's
// sockets and engine on loopback in this process: one op is one DORA. With
// the journal store every ACK waits for its fdatasync, as in production;
// with the memory store only the sockets and the engine are measured. The
// allocations are the whole process's, server and generator. Profile the
// server's hot path with -cpuprofile and -memprofile.
func BenchmarkLoopbackDORA(b *testing.B) {
	for _, bb := range []struct {
		name  string
		store func(b *testing.B) lease.Store
	}{
		{"memory", func(*testing.B) lease.Store { return &lease.Memory{} }},
		{"journal", func(b *testing.B) lease.Store {
			st, err := journal.Open(b.TempDir(), journal.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			g := newLoopback(b, Config{Clients: 3000, Outstanding: 256, Count: uint64(b.N), Timeout: testTimeout},
				bb.store(b), pool("127.0.1.0", "127.0.15.254"))
			b.ReportAllocs()
			b.ResetTimer()
			res, err := g.Run(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if res.Acks != res.Started || res.Conflicts != 0 {
				b.Fatalf("%d of %d exchanges ACKed, %d conflicts", res.Acks, res.Started, res.Conflicts)
			}
			b.ReportMetric(res.Rate(), "DORA/s")
			b.ReportMetric(float64(res.Exchange.P99.Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkLoopbackRate runs exchanges open loop at 10,000 DORA/s (so an
// op takes 100 µs of wall time whatever the machine) against the journal
// store with and without a commit delay, and reports the process's CPU
// time per exchange, server and generator together, and the 99th
// percentile of DISCOVER-ACK. Compare the two with benchstat; run with
// -benchtime 50000x or more for a steady state.
func BenchmarkLoopbackRate(b *testing.B) {
	for _, delay := range []time.Duration{0, 2 * time.Millisecond} {
		b.Run("commit-delay="+delay.String(), func(b *testing.B) {
			st, err := journal.Open(b.TempDir(), journal.Options{CommitDelay: delay})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			g := newLoopback(b, Config{Clients: 3000, Rate: 10000, Count: uint64(b.N), Timeout: testTimeout},
				st, pool("127.0.1.0", "127.0.15.254"))
			b.ReportAllocs()
			cpu0 := processCPU(b)
			b.ResetTimer()
			res, err := g.Run(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			cpu := processCPU(b) - cpu0
			if res.Acks != res.Started || res.Conflicts != 0 {
				b.Fatalf("%d of %d exchanges ACKed, %d conflicts", res.Acks, res.Started, res.Conflicts)
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(float64(res.Exchange.P99.Microseconds()), "p99-µs")
		})
	}
}

// processCPU returns the user and system time the process used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHandleReply measures the generator's work per reply, without
// sockets: matching an OFFER and writing the REQUEST, then matching the
// ACK. It must not allocate.
func BenchmarkHandleReply(b *testing.B) {
	g, err := New(Config{Server: netip.MustParseAddrPort("127.0.0.1:9"), Local: netip.MustParseAddrPort("127.0.0.1:0"), Clients: 1, Count: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	encode := func(t dhcpv4.MessageType) []byte {
		p := &dhcpv4.Packet{Op: dhcpv4.BootReply, XID: 1, YIAddr: netip.MustParseAddr("198.18.1.1")}
		p.SetHardwareAddr(1, g.cfg.BaseMAC)
		p.Options.SetMessageType(t)
		p.Options.SetAddr(dhcpv4.OptServerID, netip.MustParseAddr("198.18.0.1"))
		p.Options.SetDuration(dhcpv4.OptLeaseTime, 300e9)
		out, err := p.Append(nil, 0)
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	offer, ack := encode(dhcpv4.Offer), encode(dhcpv4.Ack)
	out := make([]byte, len(g.request.msg))
	var p dhcpv4.Packet
	c := &g.st.clients[0]
	b.ReportAllocs()
	for i := range b.N {
		c.phase, c.xid = discovering, 1
		if req, _ := g.handleReply(offer, &p, int64(i)); req != 0 {
			b.Fatal("OFFER not matched")
		}
		mac := macOf(g.base, 0)
		g.request.fill(out, 1, &mac, netip.MustParseAddr("198.18.0.1"), p.YIAddr)
		if _, ended := g.handleReply(ack, &p, int64(i)+1); !ended {
			b.Fatal("ACK not matched")
		}
	}
}
