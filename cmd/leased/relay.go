package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"leased/relay"
	"leased/udp4"
)

const relayUsage = `usage: leased relay -i IFACE[,IFACE...] --server ADDR [--server ADDR...] [flags]

Relays DHCP between the clients on the downstream interfaces (-i) and the
DHCP servers (--server), as a router's DHCP relay agent does (RFC 1542,
RFC 3046). Each request is sent to every server; replies come back to
port 67 of the relay and are delivered on the interface they belong to.
See docs/relay.md.

SIGTERM and SIGINT stop the relay; SIGUSR1 logs its counters, which are
also logged when it stops. SIGHUP is ignored (with a warning): the relay
reads its interfaces' addresses at start only, so a change takes a restart.

flags:
`

// listFlag is a flag that may be given several times, each time with one
// value or a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// relayFlags are the flags of "leased relay".
type relayFlags struct {
	fs                                 *flag.FlagSet
	ifaces, servers, circuits          listFlag
	maxHops, maxSize, workers          int
	minSecs                            uint
	agentInfo, linkSel, sidOver        bool
	remoteID, policy, upstream, listen string
	logFormat, logLevel                string
}

// newRelayFlags returns the flag set of "leased relay", writing its usage
// to stderr.
func newRelayFlags(stderr io.Writer) *relayFlags {
	f := &relayFlags{fs: newFlagSet("relay", relayUsage, stderr)}
	fs := f.fs
	fs.Var(&f.ifaces, "i", "downstream `interfaces` whose clients are served (repeatable, or comma-separated)")
	fs.Var(&f.servers, "server", "DHCP server `address` to relay to (repeatable); ADDR or ADDR:PORT")
	fs.IntVar(&f.maxHops, "max-hops", relay.DefaultMaxHops, "drop requests whose hops field exceeds this `count` (1 to 16; RFC 1542 4.1.1)")
	fs.UintVar(&f.minSecs, "min-secs", 0, "hold back requests whose secs field is below this `number` of seconds")
	fs.BoolVar(&f.agentInfo, "agent-info", false, "add the relay agent information option (82) with the circuit ID (RFC 3046)")
	fs.StringVar(&f.remoteID, "remote-id", "", "add this agent remote ID `text` to option 82 (implies --agent-info)")
	fs.StringVar(&f.policy, "agent-info-policy", "drop", "for a client request that already carries option 82: `drop`, forward (trusted) or replace")
	fs.BoolVar(&f.linkSel, "link-selection", false, "add the link selection sub-option and set giaddr to the upstream address (RFC 3527; implies --agent-info)")
	fs.StringVar(&f.upstream, "upstream", "", "the relay's `address` the servers reach it by (giaddr with --link-selection); default: the source address towards the first server")
	fs.BoolVar(&f.sidOver, "server-id-override", false, "add the server identifier override sub-option (RFC 5107; implies --agent-info)")
	fs.IntVar(&f.maxSize, "max-size", relay.DefaultMaxSize, "largest message, in `bytes`, that adding option 82 may make; larger ones are relayed without it")
	fs.StringVar(&f.listen, "listen", "0.0.0.0:67", "UDP `address:port` to listen on")
	fs.IntVar(&f.workers, "workers", 4, "relaying goroutines")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug (every message), info, warn or error")
	fs.Var(&f.circuits, "circuit-id", "circuit ID of an interface, `IFACE=TEXT` (repeatable); default: the interface name")
	return f
}

// relayCommand runs "leased relay".
func relayCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// Taken from the start, so that a SIGHUP (as sent to every leased
	// process by "kill -HUP $(pidof leased)") does not kill the relay.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGHUP)
	defer signal.Stop(sigs)
	f := newRelayFlags(stderr)
	if code, done := parseFlags(f.fs, args); done {
		return code
	}
	if f.fs.NArg() > 0 {
		return failf(stderr, 2, "leased relay: unexpected argument %q", f.fs.Arg(0))
	}
	switch {
	case len(f.ifaces) == 0 && len(f.servers) == 0:
		return usageFailf(f.fs, "leased relay: -i and --server are required")
	case len(f.ifaces) == 0:
		return usageFailf(f.fs, "leased relay: -i is required: the downstream interfaces whose clients are served")
	case len(f.servers) == 0:
		return usageFailf(f.fs, "leased relay: --server is required: the DHCP servers to relay to")
	}
	log, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return failf(stderr, 2, "leased relay: %v", err)
	}
	cfg, dsts, circuitOf, err := f.config()
	if err != nil {
		return failf(stderr, 2, "leased relay: %v", err)
	}
	if err := f.resolve(&cfg, dsts, circuitOf); err != nil {
		return failf(stderr, 1, "leased relay: %v", err)
	}
	r, err := relay.New(cfg)
	if err != nil {
		return failf(stderr, 2, "leased relay: %v", err)
	}
	addr, err := netip.ParseAddrPort(f.listen)
	if err != nil {
		return failf(stderr, 2, "leased relay: --listen: %v", err)
	}
	agent, err := relay.Listen(relay.Options{Addr: addr, Servers: dsts, Workers: f.workers, Logger: log})
	if err != nil {
		return failf(stderr, 1, "leased relay: %v", err)
	}
	defer agent.Close()
	var names []string
	for _, d := range r.Interfaces() {
		names = append(names, fmt.Sprintf("%s=%v", d.Name, d.Addr))
	}
	log.Info("relaying", "listen", agent.LocalAddr(), "interfaces", strings.Join(names, ","),
		"servers", strings.Join(f.servers, ","), "agent-info", cfg.AgentInfo, "policy", cfg.Policy.String(),
		"max-hops", f.maxHops, "link-selection", cfg.LinkSelection, "upstream", cfg.Upstream,
		"server-id-override", cfg.ServerIDOverride)
	return serveRelay(ctx, agent, r, sigs, log)
}

// config returns the relay's configuration without its interfaces, the
// servers and the circuit IDs by interface, or what is wrong with the
// flags.
func (f *relayFlags) config() (relay.Config, []netip.AddrPort, map[string]string, error) {
	var cfg relay.Config
	var dsts []netip.AddrPort
	for _, s := range f.servers {
		ap, err := parseHostPort(s, udp4.ServerPort)
		if err != nil {
			return cfg, nil, nil, fmt.Errorf("--server %s: %v", s, err)
		}
		dsts = append(dsts, ap)
	}
	pol, err := relay.ParsePolicy(f.policy)
	if err != nil {
		return cfg, nil, nil, fmt.Errorf("--agent-info-policy: %v", err)
	}
	if f.minSecs > 0xffff {
		return cfg, nil, nil, fmt.Errorf("--min-secs %d: at most 65535", f.minSecs)
	}
	circuitOf := map[string]string{}
	for _, c := range f.circuits {
		name, id, ok := strings.Cut(c, "=")
		if !ok || name == "" || id == "" {
			return cfg, nil, nil, fmt.Errorf("--circuit-id %q: want IFACE=TEXT", c)
		}
		if !slices.Contains(f.ifaces, name) {
			return cfg, nil, nil, fmt.Errorf("--circuit-id %s: %s is not a downstream interface (-i)", c, name)
		}
		circuitOf[name] = id
	}
	cfg = relay.Config{
		MaxHops:          f.maxHops,
		MinSecs:          uint16(f.minSecs),
		AgentInfo:        f.agentInfo || f.remoteID != "" || f.linkSel || f.sidOver || len(f.circuits) > 0,
		RemoteID:         []byte(f.remoteID),
		Policy:           pol,
		LinkSelection:    f.linkSel,
		ServerIDOverride: f.sidOver,
		MaxSize:          f.maxSize,
	}
	if f.maxHops == 0 {
		return cfg, nil, nil, fmt.Errorf("--max-hops 0: want 1 to %d", relay.MaxHopsLimit)
	}
	if f.maxSize == 0 {
		return cfg, nil, nil, fmt.Errorf("--max-size 0: want at least 300")
	}
	if f.upstream != "" {
		a, err := netip.ParseAddr(f.upstream)
		if err != nil || !a.Is4() {
			return cfg, nil, nil, fmt.Errorf("--upstream %q: not an IPv4 address", f.upstream)
		}
		cfg.Upstream = a
	}
	return cfg, dsts, circuitOf, nil
}

// resolve completes cfg from the system: the upstream address towards the
// first server when --link-selection needs one, and the downstream
// interfaces with their circuit IDs.
func (f *relayFlags) resolve(cfg *relay.Config, dsts []netip.AddrPort, circuitOf map[string]string) error {
	if f.upstream == "" && f.linkSel {
		a, err := relay.SourceFor(dsts[0].Addr())
		if err != nil {
			return fmt.Errorf("--link-selection: %v; give --upstream", err)
		}
		cfg.Upstream = a
	}
	for _, name := range f.ifaces {
		ifc, err := relay.LookupInterface(name, netip.Addr{})
		if err != nil {
			return fmt.Errorf("-i %s: %v", name, err)
		}
		if id, ok := circuitOf[name]; ok {
			ifc.CircuitID = []byte(id)
		}
		cfg.Downstream = append(cfg.Downstream, ifc)
	}
	return nil
}

// serveRelay relays until ctx ends, answering the signals sigs brings
// (see relaySignals), logging the counters at the end, and returns the
// exit code.
func serveRelay(ctx context.Context, agent *relay.Agent, r *relay.Relay, sigs <-chan os.Signal, log *slog.Logger) int {
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go relaySignals(sctx, sigs, agent.Stats, log)
	err := agent.Serve(ctx, r)
	logRelayStats(log, agent.Stats())
	if err != nil {
		log.Error("stopped with an error", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// relaySignals answers the signals sigs brings until ctx ends: SIGUSR1
// logs the counters (from stats); SIGHUP is ignored, with a warning that
// says so, since the relay reads its interfaces and their addresses only
// at start.
func relaySignals(ctx context.Context, sigs <-chan os.Signal, stats func() relay.Stats, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case sig := <-sigs:
			switch sig {
			case syscall.SIGUSR1:
				logRelayStats(log, stats())
			case syscall.SIGHUP:
				log.Warn("SIGHUP ignored: the relay reads its interfaces and their addresses at start only; restart it to apply a change")
			}
		}
	}
}

// logRelayStats logs the counters on one line: "stats" with received,
// sent, send-errors and one key per reason that happened.
func logRelayStats(log *slog.Logger, st relay.Stats) {
	attrs := []slog.Attr{
		slog.Uint64("received", st.Received),
		slog.Uint64("sent", st.Sent),
		slog.Uint64("send-errors", st.SendErrors),
	}
	for _, r := range relay.Reasons() {
		if n, ok := st.Reasons[r.String()]; ok {
			attrs = append(attrs, slog.Uint64(r.String(), n))
		}
	}
	log.LogAttrs(context.Background(), slog.LevelInfo, "stats", attrs...)
}
