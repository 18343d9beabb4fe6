package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"leased/loadgen"
	"leased/udp4"
)

const benchUsage = `usage: leased bench --server ADDR [--local ADDR:PORT] [--rate N | --outstanding N] [--duration D | --count N] [flags]

Loads a DHCPv4 server with full exchanges (DISCOVER, OFFER, REQUEST, ACK)
from many simulated clients behind one relay agent, and reports the rate
of completed exchanges, the loss and the latency percentiles. It drives
leased or any server that serves relayed clients (Kea, ISC dhcpd,
dnsmasq). Point it only at a server run for the test, on a network of
its own.

The server replies to the relay agent address (--giaddr, by default the
address of --local) on port 67, so the default --local needs root or
CAP_NET_BIND_SERVICE.

With --flood, it sends DISCOVERs from random hardware addresses, a new
one for each, as fast as the socket takes them (or at --rate), and takes
nothing it is offered: the flood that drains a pool, to test a server's
rate limits and offer limit (--clients and --outstanding do not apply).

With --rate, exchanges start at that rate whatever the server does (open
loop, like perfdhcp -r). Without it, --outstanding exchanges are kept in
flight (closed loop), which finds the server's ceiling. A progress line
goes to stderr every --progress interval; the summary goes to stdout, as
text or, with --json, as one JSON object.

Exit status: 0 when the run completed, 1 when no exchange completed or an
address was ACKed to two clients at once, 2 for a usage error.

flags:
`

// benchFlags are the flags of "leased bench".
type benchFlags struct {
	fs                             *flag.FlagSet
	serverAddr, local, giaddr, mac string
	clients, outstanding, batch    int
	rate                           float64
	duration, timeout, progress    time.Duration
	count                          uint64
	discoverOnly, asJSON, flood    bool
	hostNames                      bool
}

// newBenchFlags returns the flag set of "leased bench", writing its usage
// to stderr.
func newBenchFlags(stderr io.Writer) *benchFlags {
	f := &benchFlags{fs: newFlagSet("bench", benchUsage, stderr)}
	fs := f.fs
	fs.StringVar(&f.serverAddr, "server", "", "DHCP server `address`, ADDR or ADDR:PORT (port 67 by default)")
	fs.StringVar(&f.local, "local", "0.0.0.0:67", "UDP `address:port` to send from and receive replies on")
	fs.StringVar(&f.giaddr, "giaddr", "", "relay agent `address` written in giaddr; default: the address of --local")
	fs.IntVar(&f.clients, "clients", loadgen.DefaultClients, "`number` of simulated clients, each with its own hardware address")
	fs.StringVar(&f.mac, "mac", loadgen.DefaultBaseMAC().String(), "hardware `address` of the first client; the others count up from it")
	fs.Float64Var(&f.rate, "rate", 0, "start `rate` exchanges per second (open loop); 0: closed loop")
	fs.IntVar(&f.outstanding, "outstanding", loadgen.DefaultOutstanding, "closed loop: keep this `many` exchanges in flight (at most --clients)")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "start exchanges for this `duration`; 0: until --count")
	fs.Uint64Var(&f.count, "count", 0, "start at most this `number` of exchanges; 0: no limit")
	fs.DurationVar(&f.timeout, "timeout", loadgen.DefaultTimeout, "an OFFER or ACK later than this `delay` loses its exchange")
	fs.IntVar(&f.batch, "batch", loadgen.DefaultBatch, "datagrams per system call, a `number` from 1 to 1024")
	fs.BoolVar(&f.discoverOnly, "discover-only", false, "stop each exchange at the OFFER (two-way, like perfdhcp -i)")
	fs.BoolVar(&f.hostNames, "hostnames", false, "each client sends a host name (option 12): lg and the last four bytes of its hardware address in hex, a name per client for a server that updates the DNS")
	fs.BoolVar(&f.flood, "flood", false, "send DISCOVERs from random hardware addresses, a new one each, as fast as possible (or at --rate), taking nothing: a flood, to test a server's defences")
	fs.DurationVar(&f.progress, "progress", time.Second, "`interval` of the progress line on stderr; 0: none")
	fs.BoolVar(&f.asJSON, "json", false, "print the summary as one JSON object")
	return f
}

// benchCommand runs "leased bench".
func benchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newBenchFlags(stderr)
	if code, done := parseFlags(f.fs, args); done {
		return code
	}
	if f.fs.NArg() > 0 {
		return failf(stderr, 2, "leased bench: unexpected argument %q", f.fs.Arg(0))
	}
	if f.serverAddr == "" {
		return usageFailf(f.fs, "leased bench: --server is required: the DHCP server to load")
	}
	cfg, err := f.config()
	if err != nil {
		return failf(stderr, 2, "leased bench: %v", err)
	}
	if f.flood {
		return floodCommand(ctx, cfg, stdout, stderr, f.asJSON)
	}
	var mu sync.Mutex // Progress runs on its own goroutine
	if f.progress > 0 {
		cfg.Interval = f.progress
		cfg.Progress = func(p loadgen.Progress) {
			mu.Lock()
			defer mu.Unlock()
			writeProgress(stderr, p)
		}
	}
	g, err := loadgen.New(cfg)
	if err != nil && cfg.Local.Port() < 1024 {
		err = udp4.NeedsPrivilege(err, udp4.NeedBindPort)
	}
	if err != nil {
		// The configuration was checked above; what is left is the
		// generator's own checks and the socket.
		return failf(stderr, 1, "leased bench: %v", err)
	}
	res, err := g.Run(ctx)
	if err != nil {
		return failf(stderr, 1, "leased bench: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	run := benchRun{Server: cfg.Server, Local: g.LocalAddr(), Clients: cfg.Clients, Rate: cfg.Rate, Outstanding: g.Outstanding()}
	return reportBench(stdout, stderr, run, res, f.asJSON)
}

// config returns the generator's configuration, or what is wrong with
// the flags.
func (f *benchFlags) config() (loadgen.Config, error) {
	cfg := loadgen.Config{
		Clients: f.clients, Rate: f.rate, Outstanding: f.outstanding, Duration: f.duration,
		Count: f.count, Timeout: f.timeout, Batch: f.batch, DiscoverOnly: f.discoverOnly,
		HostNames: f.hostNames,
	}
	var err error
	if cfg.Server, err = parseHostPort(f.serverAddr, udp4.ServerPort); err != nil {
		return cfg, fmt.Errorf("--server %s: %v", f.serverAddr, err)
	}
	if cfg.Local, err = parseHostPort(f.local, udp4.ServerPort); err != nil {
		return cfg, fmt.Errorf("--local %s: %v", f.local, err)
	}
	if f.giaddr != "" {
		if cfg.GIAddr, err = netip.ParseAddr(f.giaddr); err != nil || !cfg.GIAddr.Is4() {
			return cfg, fmt.Errorf("--giaddr %s: not an IPv4 address", f.giaddr)
		}
	}
	if cfg.BaseMAC, err = net.ParseMAC(f.mac); err != nil || len(cfg.BaseMAC) != 6 {
		return cfg, fmt.Errorf("--mac %s: not a 6-byte hardware address", f.mac)
	}
	if f.duration < 0 || f.timeout <= 0 || f.progress < 0 {
		return cfg, fmt.Errorf("--duration, --timeout and --progress must not be negative, and --timeout not zero")
	}
	if f.duration == 0 && f.count == 0 {
		return cfg, fmt.Errorf("the run needs a bound: --duration or --count")
	}
	if isDefaultFlag(f.fs, "outstanding") {
		cfg.Outstanding = 0 // the default, capped at --clients
	} else if f.rate == 0 && f.outstanding > f.clients {
		return cfg, fmt.Errorf("--outstanding %d exceeds --clients %d: a client has one exchange at a time", f.outstanding, f.clients)
	}
	return cfg, nil
}

// reportBench writes the summary of the run and returns the exit code.
func reportBench(stdout, stderr io.Writer, run benchRun, res *loadgen.Result, asJSON bool) int {
	var err error
	if asJSON {
		err = writeBenchJSON(stdout, run, res)
	} else {
		err = writeBenchText(stdout, run, res)
	}
	if err != nil {
		return failf(stderr, 1, "leased bench: %v", err)
	}
	switch {
	case res.Conflicts > 0:
		return failf(stderr, 1, "leased bench: the server ACKed %d addresses that it had given to another client", res.Conflicts)
	case res.Started > 0 && res.Completed() == 0:
		return failf(stderr, 1, "leased bench: no exchange completed: is the server up, and does it serve the subnet of giaddr?")
	}
	return 0
}

// parseHostPort parses an IPv4 ADDR or ADDR:PORT, with defPort for ADDR.
func parseHostPort(s string, defPort uint16) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if !ap.Addr().Is4() {
			return netip.AddrPort{}, fmt.Errorf("not an IPv4 address")
		}
		return ap, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.AddrPort{}, fmt.Errorf("not an IPv4 address or address:port")
	}
	return netip.AddrPortFrom(a, defPort), nil
}

// benchRun describes the run in the summary.
type benchRun struct {
	Server, Local netip.AddrPort
	Clients       int
	Rate          float64
	Outstanding   int
}

func (r benchRun) load() string {
	if r.Rate > 0 {
		return fmt.Sprintf("open loop at %g/s", r.Rate)
	}
	return fmt.Sprintf("closed loop, %d in flight", r.Outstanding)
}

// writeProgress writes one progress line.
func writeProgress(w io.Writer, p loadgen.Progress) {
	fmt.Fprintf(w, "%6.1fs  started %8.0f/s  completed %8.0f/s  lost %6.2f%%  offer %s  ack %s  in flight %d\n",
		p.Elapsed.Seconds(), p.StartRate, p.CompleteRate, 100*p.Loss, ms(p.OfferMean), ms(p.AckMean), p.InFlight)
}

// ms formats a delay in milliseconds with three decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/1e6) }

// writeBenchText writes the summary for people.
func writeBenchText(w io.Writer, run benchRun, r *loadgen.Result) error {
	kind := "DORA"
	if r.DiscoverOnly {
		kind = "DISCOVER-OFFER"
	}
	bw := &errWriter{w: w}
	fmt.Fprintf(bw, "server %v from %v, %d clients, %s, %.1fs\n", run.Server, run.Local, run.Clients, run.load(), r.Elapsed.Seconds())
	fmt.Fprintf(bw, "%s: %d started, %d completed, %.1f/s, %.3f%% lost\n", kind, r.Started, r.Completed(), r.Rate(), 100*r.Loss())
	fmt.Fprintf(bw, "offers %d, requests %d, acks %d, naks %d; timeouts: %d DISCOVER, %d REQUEST\n",
		r.Offers, r.Requests, r.Acks, r.Naks, r.OfferTimeouts, r.AckTimeouts)
	fmt.Fprintf(bw, "unexpected %d, malformed %d, skipped (all clients busy) %d, send errors %d, conflicts %d\n",
		r.Unexpected, r.Malformed, r.Skipped, r.SendErrors, r.Conflicts)
	fmt.Fprintf(bw, "%-16s %10s %10s %10s %10s %10s %10s\n", "latency (ms)", "min", "mean", "p50", "p90", "p99", "max")
	rows := []struct {
		name string
		l    loadgen.Latency
	}{{"DISCOVER-OFFER", r.Offer}, {"REQUEST-ACK", r.Ack}, {"DISCOVER-ACK", r.Exchange}}
	for _, row := range rows {
		if row.l.Count == 0 {
			continue
		}
		l := row.l
		fmt.Fprintf(bw, "%-16s %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f\n", row.name,
			msf(l.Min), msf(l.Mean), msf(l.P50), msf(l.P90), msf(l.P99), msf(l.Max))
	}
	return bw.err
}

func msf(d time.Duration) float64 { return float64(d) / 1e6 }

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// benchLatencyJSON is a Latency in microseconds.
type benchLatencyJSON struct {
	Count uint64  `json:"count"`
	Min   float64 `json:"min_us"`
	Mean  float64 `json:"mean_us"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	Max   float64 `json:"max_us"`
}

func latencyJSON(l loadgen.Latency) benchLatencyJSON {
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	return benchLatencyJSON{Count: l.Count, Min: us(l.Min), Mean: us(l.Mean), P50: us(l.P50), P90: us(l.P90), P99: us(l.P99), Max: us(l.Max)}
}

// writeBenchJSON writes the summary as one JSON object on one line.
func writeBenchJSON(w io.Writer, run benchRun, r *loadgen.Result) error {
	v := struct {
		Server        string           `json:"server"`
		Local         string           `json:"local"`
		Clients       int              `json:"clients"`
		TargetRate    float64          `json:"target_rate"`
		Outstanding   int              `json:"outstanding,omitempty"`
		DiscoverOnly  bool             `json:"discover_only"`
		Elapsed       float64          `json:"elapsed_s"`
		Started       uint64           `json:"started"`
		Completed     uint64           `json:"completed"`
		Rate          float64          `json:"rate"`
		Loss          float64          `json:"loss"`
		Offers        uint64           `json:"offers"`
		Requests      uint64           `json:"requests"`
		Acks          uint64           `json:"acks"`
		Naks          uint64           `json:"naks"`
		OfferTimeouts uint64           `json:"offer_timeouts"`
		AckTimeouts   uint64           `json:"ack_timeouts"`
		Unexpected    uint64           `json:"unexpected"`
		Malformed     uint64           `json:"malformed"`
		Skipped       uint64           `json:"skipped"`
		SendErrors    uint64           `json:"send_errors"`
		Conflicts     uint64           `json:"conflicts"`
		Offer         benchLatencyJSON `json:"discover_offer"`
		Ack           benchLatencyJSON `json:"request_ack"`
		Exchange      benchLatencyJSON `json:"discover_ack"`
	}{
		Server: run.Server.String(), Local: run.Local.String(), Clients: run.Clients, TargetRate: run.Rate,
		DiscoverOnly: r.DiscoverOnly, Elapsed: r.Elapsed.Seconds(),
		Started: r.Started, Completed: r.Completed(), Rate: r.Rate(), Loss: r.Loss(),
		Offers: r.Offers, Requests: r.Requests, Acks: r.Acks, Naks: r.Naks,
		OfferTimeouts: r.OfferTimeouts, AckTimeouts: r.AckTimeouts, Unexpected: r.Unexpected,
		Malformed: r.Malformed, Skipped: r.Skipped, SendErrors: r.SendErrors, Conflicts: r.Conflicts,
		Offer: latencyJSON(r.Offer), Ack: latencyJSON(r.Ack), Exchange: latencyJSON(r.Exchange),
	}
	if run.Rate == 0 {
		v.Outstanding = run.Outstanding
	}
	return json.NewEncoder(w).Encode(v)
}
