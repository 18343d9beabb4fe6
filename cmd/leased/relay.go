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
also logged when it stops.

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

// relayCommand runs "leased relay".
func relayCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, relayUsage); fs.PrintDefaults() }
	var ifaces, servers, circuits listFlag
	fs.Var(&ifaces, "i", "downstream `interfaces` whose clients are served (repeatable, or comma-separated)")
	fs.Var(&servers, "server", "DHCP server `address` to relay to (repeatable); ADDR or ADDR:PORT")
	var (
		maxHops   = fs.Int("max-hops", relay.DefaultMaxHops, "drop requests whose hops field exceeds this `count` (1 to 16; RFC 1542 4.1.1)")
		minSecs   = fs.Uint("min-secs", 0, "hold back requests whose secs field is below this `number` of seconds")
		agentInfo = fs.Bool("agent-info", false, "add the relay agent information option (82) with the circuit ID (RFC 3046)")
		remoteID  = fs.String("remote-id", "", "add this agent remote ID `text` to option 82 (implies --agent-info)")
		policy    = fs.String("agent-info-policy", "drop", "for a client request that already carries option 82: `drop`, forward (trusted) or replace")
		linkSel   = fs.Bool("link-selection", false, "add the link selection sub-option and set giaddr to the upstream address (RFC 3527; implies --agent-info)")
		upstream  = fs.String("upstream", "", "the relay's `address` the servers reach it by (giaddr with --link-selection); default: the source address towards the first server")
		sidOver   = fs.Bool("server-id-override", false, "add the server identifier override sub-option (RFC 5107; implies --agent-info)")
		maxSize   = fs.Int("max-size", relay.DefaultMaxSize, "largest message, in `bytes`, that adding option 82 may make; larger ones are relayed without it")
		listen    = fs.String("listen", "0.0.0.0:67", "UDP `address:port` to listen on")
		workers   = fs.Int("workers", 4, "relaying goroutines")
		logFormat = fs.String("log-format", "text", "log format: text or json")
		logLevel  = fs.String("log-level", "info", "log level: debug (every message), info, warn or error")
	)
	fs.Var(&circuits, "circuit-id", "circuit ID of an interface, `IFACE=TEXT` (repeatable); default: the interface name")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "leased relay: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if len(ifaces) == 0 || len(servers) == 0 {
		fs.Usage()
		return 2
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "leased relay: %v\n", err)
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "leased relay: "+format+"\n", a...)
		return 2
	}

	var dsts []netip.AddrPort
	for _, s := range servers {
		ap, err := parseServer(s)
		if err != nil {
			return usageErr("--server %s: %v", s, err)
		}
		dsts = append(dsts, ap)
	}
	pol, err := relay.ParsePolicy(*policy)
	if err != nil {
		return usageErr("--agent-info-policy: %v", err)
	}
	if *minSecs > 0xffff {
		return usageErr("--min-secs %d: at most 65535", *minSecs)
	}
	circuitOf := map[string]string{}
	for _, c := range circuits {
		name, id, ok := strings.Cut(c, "=")
		if !ok || name == "" || id == "" {
			return usageErr("--circuit-id %q: want IFACE=TEXT", c)
		}
		if !slices.Contains(ifaces, name) {
			return usageErr("--circuit-id %s: %s is not a downstream interface (-i)", c, name)
		}
		circuitOf[name] = id
	}
	cfg := relay.Config{
		MaxHops:          *maxHops,
		MinSecs:          uint16(*minSecs),
		AgentInfo:        *agentInfo || *remoteID != "" || *linkSel || *sidOver || len(circuits) > 0,
		RemoteID:         []byte(*remoteID),
		Policy:           pol,
		LinkSelection:    *linkSel,
		ServerIDOverride: *sidOver,
		MaxSize:          *maxSize,
	}
	if *maxHops == 0 {
		return usageErr("--max-hops 0: want 1 to %d", relay.MaxHopsLimit)
	}
	if *maxSize == 0 {
		return usageErr("--max-size 0: want at least 300")
	}
	switch {
	case *upstream != "":
		a, err := netip.ParseAddr(*upstream)
		if err != nil || !a.Is4() {
			return usageErr("--upstream %q: not an IPv4 address", *upstream)
		}
		cfg.Upstream = a
	case *linkSel:
		a, err := relay.SourceFor(dsts[0].Addr())
		if err != nil {
			fmt.Fprintf(stderr, "leased relay: --link-selection: %v; give --upstream\n", err)
			return 1
		}
		cfg.Upstream = a
	}
	for _, name := range ifaces {
		ifc, err := relay.LookupInterface(name, netip.Addr{})
		if err != nil {
			fmt.Fprintf(stderr, "leased relay: -i %s: %v\n", name, err)
			return 1
		}
		if id, ok := circuitOf[name]; ok {
			ifc.CircuitID = []byte(id)
		}
		cfg.Downstream = append(cfg.Downstream, ifc)
	}
	r, err := relay.New(cfg)
	if err != nil {
		return usageErr("%v", err)
	}
	addr, err := netip.ParseAddrPort(*listen)
	if err != nil {
		return usageErr("--listen: %v", err)
	}
	agent, err := relay.Listen(relay.Options{Addr: addr, Servers: dsts, Workers: *workers, Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "leased relay: %v\n", err)
		return 1
	}
	defer agent.Close()

	var names []string
	for _, d := range r.Interfaces() {
		names = append(names, fmt.Sprintf("%s=%v", d.Name, d.Addr))
	}
	log.Info("relaying", "listen", agent.LocalAddr(), "interfaces", strings.Join(names, ","),
		"servers", strings.Join(servers, ","), "agent-info", cfg.AgentInfo, "policy", pol.String(),
		"max-hops", *maxHops, "link-selection", cfg.LinkSelection, "upstream", cfg.Upstream,
		"server-id-override", cfg.ServerIDOverride)

	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-usr1:
				logRelayStats(log, agent.Stats())
			}
		}
	}()

	err = agent.Serve(ctx, r)
	logRelayStats(log, agent.Stats())
	if err != nil {
		log.Error("stopped with an error", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// parseServer parses ADDR or ADDR:PORT.
func parseServer(s string) (netip.AddrPort, error) {
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
	return netip.AddrPortFrom(a, udp4.ServerPort), nil
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
