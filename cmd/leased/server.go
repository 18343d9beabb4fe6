package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"os/user"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"leased/config"
	"leased/control"
	"leased/daemon"
	"leased/escape"
	"leased/netio"
)

const serverUsage = `usage: leased server --config FILE [flags]
       leased server -i IFACE --range FIRST-LAST [--router A] [--dns A,B] [--lease-time 1h] [flags]

Serves DHCP leases. With --config, everything comes from the file (see
docs/configuration.md). Without it, -i and --range describe one subnet: the
one of the interface's IPv4 address.

The server refuses to start when an interface it is to serve does not
exist, when a pool includes an address of this host, or when another
process holds its port (another DHCP server: --share-port allows it).

SIGTERM and SIGINT stop the server after the requests in hand are answered;
SIGHUP reloads the configuration file (a file that does not validate is
refused and the running configuration stays).

The control API (docs/operations.md) listens on the Unix socket --control,
and with --control-tcp on TCP too; "leased status", "leased leases",
"leased reservations", "leased pools" and "leased reload" use it.
--metrics serves Prometheus metrics at /metrics.

flags:
`

// serverFlags are the flags of "leased server".
type serverFlags struct {
	fs                                   *flag.FlagSet
	cfgPath, iface, rng, router, dns     string
	domain, store, delay, rdelay, listen string
	runAs, logFormat, logLevel, cpuprof  string
	ctlSocket, ctlTCP, ctlToken, metrics string
	leaseTime                            time.Duration
	readers, commits                     int
	salvage, sharePort                   bool
}

// newServerFlags returns the flag set of "leased server", writing its
// usage to stderr.
func newServerFlags(stderr io.Writer) *serverFlags {
	f := &serverFlags{fs: newFlagSet("server", serverUsage, stderr)}
	fs := f.fs
	fs.StringVar(&f.cfgPath, "config", "", "configuration `file`")
	fs.StringVar(&f.iface, "i", "", "quick mode: serve this `interface`")
	fs.StringVar(&f.rng, "range", "", "quick mode: dynamic pool `FIRST-LAST`")
	fs.StringVar(&f.router, "router", "", "quick mode: default router `address`")
	fs.StringVar(&f.dns, "dns", "", "quick mode: DNS servers, `A,B`")
	fs.StringVar(&f.domain, "domain", "", "quick mode: domain `name`")
	fs.DurationVar(&f.leaseTime, "lease-time", config.DefaultLeaseTime, "quick mode: lease `time`")
	fs.StringVar(&f.store, "store", "", "lease store `directory` (overrides the file's lease-store)")
	fs.StringVar(&f.delay, "commit-delay", "", "wait up to this `time` for more leases before each sync to disk (overrides the file's commit-delay; see docs/configuration.md)")
	fs.StringVar(&f.rdelay, "receive-delay", "", "under load, pause this `time` after each read of the socket to read several requests at once (overrides the file's receive-delay; see docs/configuration.md)")
	fs.StringVar(&f.listen, "listen", "0.0.0.0:67", "UDP `address:port` to listen on")
	fs.IntVar(&f.readers, "readers", 2, "goroutines reading the socket and answering DISCOVER and INFORM")
	fs.IntVar(&f.commits, "committers", 256, "goroutines handling requests that wait for their lease to be stored")
	fs.StringVar(&f.runAs, "user", "", "after opening the sockets, run as this `user`")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&f.sharePort, "share-port", false, "start even if another process holds the DHCP port (another DHCP server: both will answer the same clients)")
	fs.BoolVar(&f.salvage, "salvage", false, "start even if the lease store is corrupt in the middle, keeping what can be read")
	fs.StringVar(&f.cpuprof, "cpuprofile", "", "write a CPU profile to this `file` until the server stops (for performance work)")
	fs.StringVar(&f.ctlSocket, "control", control.DefaultSocket, "control API Unix `socket` (mode 0600); empty for none")
	fs.StringVar(&f.ctlTCP, "control-tcp", "", "also serve the control API on TCP `address:port`; an address that is not loopback needs --control-token-file")
	fs.StringVar(&f.ctlToken, "control-token-file", "", "`file` holding the bearer token that requests to --control-tcp must carry")
	fs.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics at /metrics on `address:port`")
	return f
}

// serverCommand runs "leased server".
func serverCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newServerFlags(stderr)
	if code, done := parseFlags(f.fs, args); done {
		return code
	}
	log, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		return failf(stderr, 2, "leased server: %v", err)
	}
	if f.cfgPath == "" {
		switch {
		case f.iface == "" && f.rng == "":
			return usageFailf(f.fs, "leased server: --config FILE is required, or -i IFACE with --range FIRST-LAST (quick mode)")
		case f.rng == "":
			return usageFailf(f.fs, "leased server: --range is required with -i (quick mode)")
		case f.iface == "":
			return usageFailf(f.fs, "leased server: -i is required with --range (quick mode)")
		}
	}
	src, err := f.source()
	if err != nil {
		return failf(stderr, 2, "leased server: %v", err)
	}
	cfg, sum, err := src.Load()
	if err != nil {
		return failf(stderr, 2, "leased server: %v", err)
	}
	if f.cpuprof != "" {
		stop, err := startCPUProfile(f.cpuprof)
		if err != nil {
			return failf(stderr, 1, "leased server: --cpuprofile: %v", err)
		}
		defer stop()
	}
	addr, err := netip.ParseAddrPort(f.listen)
	if err != nil {
		return failf(stderr, 2, "leased server: --listen: %v", err)
	}
	opts := f.daemonOptions(src, cfg, sum, addr, log)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	opts.Reload = hup
	srv, err := daemon.Open(opts)
	if err != nil {
		if errors.As(err, new(*daemon.UsageError)) {
			return failf(stderr, 2, "leased server: %v", err)
		}
		if errors.As(err, new(*netio.PortInUseError)) {
			return failf(stderr, 1, "leased server: %v (to serve beside it on purpose, start with --share-port)", err)
		}
		return failf(stderr, 1, "leased server: %v", err)
	}
	if err := srv.Serve(ctx); err != nil {
		return 1
	}
	return 0
}

// source returns where the configuration comes from: the file, or the
// flags of quick mode; with the flags that override the file's settings.
func (f *serverFlags) source() (daemon.Source, error) {
	src := daemon.Source{File: f.cfgPath, LeaseStore: f.store, Host: daemon.SystemInterfaces}
	if f.cfgPath != "" && (f.iface != "" || f.rng != "") {
		return src, errors.New("--config and quick mode (-i, --range) exclude each other")
	}
	if f.cfgPath == "" {
		q, err := quickConfig(f.iface, f.rng, f.router, f.dns, f.domain, f.leaseTime)
		if err != nil {
			return src, err
		}
		src.Quick = q
	}
	var err error
	if src.CommitDelay, err = delayFlag("commit-delay", f.delay, config.MaxCommitDelay); err != nil {
		return src, err
	}
	if src.ReceiveDelay, err = delayFlag("receive-delay", f.rdelay, config.MaxReceiveDelay); err != nil {
		return src, err
	}
	return src, nil
}

// daemonOptions returns the options of the server the flags describe.
func (f *serverFlags) daemonOptions(src daemon.Source, cfg *config.Config, sum string, addr netip.AddrPort, log *slog.Logger) daemon.Options {
	opts := daemon.Options{
		Source: src, Config: cfg, ConfigSHA256: sum,
		Listen: addr, Readers: f.readers, Committers: f.commits, SharePort: f.sharePort,
		Operator: daemon.OperatorOptions{
			ControlSocket: f.ctlSocket, DefaultSocket: isDefaultFlag(f.fs, "control"),
			ControlTCP: f.ctlTCP, TokenFile: f.ctlToken, Metrics: f.metrics,
		},
		Salvage: f.salvage, Version: version, Logger: log, Clock: time.Now,
	}
	if f.runAs != "" {
		name := f.runAs
		opts.DropPrivileges = func() error { return dropPrivileges(name) }
	}
	return opts
}

// startCPUProfile writes a CPU profile to the file at path until the
// returned function is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	// Host names and other text that clients send reach the log: the
	// escape writers keep the control characters that slog leaves raw
	// off the terminal.
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(escape.TextWriter(w), opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(escape.JSONWriter(w), opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// quickConfig builds the configuration of quick mode: one subnet, the one
// of the interface's first IPv4 address.
func quickConfig(iface, rng, router, dns, domain string, leaseTime time.Duration) (*config.Config, error) {
	prefix, err := interfacePrefix(iface)
	if err != nil {
		return nil, err
	}
	q := config.Quick{Interface: iface, Prefix: prefix, LeaseTime: leaseTime, Domain: domain}
	if q.Pool, err = config.ParseRange(rng); err != nil {
		return nil, fmt.Errorf("--range: %w", err)
	}
	if router != "" {
		if q.Router, err = netip.ParseAddr(router); err != nil {
			return nil, fmt.Errorf("--router: %w", err)
		}
	}
	if dns != "" {
		for _, s := range strings.Split(dns, ",") {
			a, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil || !a.Is4() {
				return nil, fmt.Errorf("--dns: %q is not an IPv4 address", s)
			}
			q.DNS = append(q.DNS, a)
		}
	}
	return config.NewQuick(q)
}

// interfacePrefix returns the subnet of the first IPv4 address of the
// interface named iface.
func interfacePrefix(iface string) (netip.Prefix, error) {
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("-i %s: %w", iface, err)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("-i %s: %w", iface, err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap().Is4() {
				ones, _ := ipn.Mask.Size()
				return netip.PrefixFrom(ip.Unmap(), ones).Masked(), nil
			}
		}
	}
	return netip.Prefix{}, fmt.Errorf("-i %s: the interface has no IPv4 address to derive the subnet from", iface)
}

// dropPrivileges switches the process to the named user and its primary
// group. The sockets already open stay usable.
func dropPrivileges(name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("--user: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("--user %s: non-numeric uid or gid", name)
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("--user %s: setgroups: %w", name, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("--user %s: setgid: %w", name, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("--user %s: setuid: %w", name, err)
	}
	return nil
}

// isDefaultFlag reports whether the flag name was left at its default.
func isDefaultFlag(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return !set
}

// delayFlag returns the value s of flag --name, a duration from 0 to
// most, or nil when s is empty.
func delayFlag(name, s string, most time.Duration) (*time.Duration, error) {
	if s == "" {
		return nil, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 || v > most {
		return nil, fmt.Errorf("--%s %q: want a duration from 0 to %v", name, s, most)
	}
	return &v, nil
}
