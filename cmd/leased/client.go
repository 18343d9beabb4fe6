package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"leased/client"
	"leased/client/link"
	"leased/dhcpv4"
	"leased/escape"
)

const clientUsage = `usage: leased client -i IFACE [flags]

Obtains a DHCPv4 lease for the interface, configures it (address, routes,
MTU), and keeps it: renews at T1, rebinds at T2, starts over when it ends.
The lease is saved in the state directory, and a restarted client asks for
it back (INIT-REBOOT). See docs/client.md.

  leased client -i eth0                 run as a daemon (in the foreground)
  leased client -i eth0 --once          get a lease, configure it, print it as
                                        JSON and exit: 0 with a lease, 1 without
                                        one after --timeout
  leased client -i eth0 --once --no-configure
                                        only print the lease
  leased client -i eth0 --release       release the lease: the running daemon's
                                        (it exits), or the saved one
  leased client -i eth0 --inform 198.18.0.10/24
                                        static address: ask for options only
                                        (DHCPINFORM), run the hook, print them
                                        as JSON and exit, as --once does

SIGTERM and SIGINT stop the daemon, leaving the lease configured (released
first with --release-on-exit); SIGUSR2 releases it and stops; SIGHUP is
ignored, with a warning.

flags:
`

// clientFlags are the flags of "leased client".
type clientFlags struct {
	iface         string
	once          bool
	timeout       time.Duration
	noConfigure   bool
	release       bool
	releaseOnExit bool
	inform        string
	hostname      string
	vendorClass   string
	clientID      string
	duid          bool
	script        string
	resolvConf    string
	stateDir      string
	broadcast     bool
	offerWait     time.Duration
	arpProbes     int
	arpInterval   time.Duration
	routeMetric   int
	logFormat     string
	logLevel      string
}

// clientCommand runs "leased client": 0 on success, 1 on failure, 2 on a
// usage error.
func clientCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("client", clientUsage, stderr)
	var f clientFlags
	fs.StringVar(&f.iface, "i", "", "the `interface` to configure (required)")
	fs.BoolVar(&f.once, "once", false, "get a lease, print it as JSON and exit")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "with --once or --inform: give up after this `time` without an answer (exit 1)")
	fs.BoolVar(&f.noConfigure, "no-configure", false, "do not touch the interface or the state directory; only print (with --once) and run the hook")
	fs.BoolVar(&f.release, "release", false, "release the lease and exit")
	fs.BoolVar(&f.releaseOnExit, "release-on-exit", false, "release the lease when stopped by SIGTERM or SIGINT")
	fs.StringVar(&f.inform, "inform", "", "DHCPINFORM mode: the interface has this static `address/prefix`; ask for options only")
	fs.StringVar(&f.hostname, "hostname", "", "send this host `name` (option 12)")
	fs.StringVar(&f.vendorClass, "vendor-class", "", "send this vendor class `identifier` (option 60)")
	fs.StringVar(&f.clientID, "client-id", "", "client identifier (option 61) in `hex`; default: hardware type and address")
	fs.BoolVar(&f.duid, "duid", false, "client identifier in the RFC 4361 form: IAID and DUID-LL")
	fs.StringVar(&f.script, "script", "", "hook script `path`, run with the reason and the lease in its environment")
	fs.StringVar(&f.resolvConf, "resolv-conf", "", "write the DNS servers and search list to this `file`")
	fs.StringVar(&f.stateDir, "state-dir", client.DefaultStateDir, "`directory` of the lease file and PID file")
	fs.BoolVar(&f.broadcast, "broadcast", false, "ask servers to broadcast their replies (broadcast flag)")
	fs.DurationVar(&f.offerWait, "offer-wait", client.DefaultOfferWait, "how long to collect offers before taking the first")
	fs.IntVar(&f.arpProbes, "arp-probes", 3, "ARP probes before taking an address (RFC 5227); 0 skips the check")
	fs.DurationVar(&f.arpInterval, "arp-interval", time.Second, "ARP probe time unit: probes 1 to 2 units apart, 2 units of waiting for answers")
	fs.IntVar(&f.routeMetric, "route-metric", 0, "`metric` of the routes installed")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "leased client: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if f.iface == "" {
		return usageFailf(fs, "leased client: -i is required: the interface to configure")
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "leased client: %v\n", err)
		return 2
	}
	log, err := newLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "leased client: %v\n", err)
		return 2
	}
	log = log.With("if", f.iface)
	if f.release {
		return clientRelease(ctx, &f, log, stderr)
	}
	return clientRun(ctx, &f, log, stdout, stderr)
}

// check validates combinations of flags.
func (f *clientFlags) check() error {
	switch {
	case f.clientID != "" && f.duid:
		return errors.New("--client-id and --duid exclude each other")
	case f.release && (f.once || f.inform != ""):
		return errors.New("--release excludes --once and --inform")
	case f.inform != "" && f.releaseOnExit:
		return errors.New("--inform has no lease to release")
	case f.timeout <= 0:
		return errors.New("--timeout must be positive")
	case f.arpProbes < 0 || f.arpProbes > 10:
		return errors.New("--arp-probes must be 0 to 10")
	case f.arpInterval <= 0:
		return errors.New("--arp-interval must be positive")
	case strings.ContainsAny(f.iface, "/ ") || len(f.iface) > 15:
		return fmt.Errorf("-i %q is not an interface name", f.iface)
	}
	if f.inform != "" {
		p, err := netip.ParsePrefix(f.inform)
		if err != nil || !p.Addr().Is4() {
			return fmt.Errorf("--inform %q: want an IPv4 address with its prefix length, such as 198.18.0.10/24", f.inform)
		}
	}
	if f.clientID != "" {
		if _, err := parseHex(f.clientID); err != nil {
			return fmt.Errorf("--client-id: %v", err)
		}
	}
	return nil
}

// parseHex decodes a client identifier written in hex (dhcpv4.ParseHex).
func parseHex(s string) ([]byte, error) {
	b, err := dhcpv4.ParseHex(s)
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || len(b) > 255 {
		return nil, fmt.Errorf("%d bytes, want 2 to 255", len(b))
	}
	return b, nil
}

// machineConfig returns the state machine's configuration for the
// interface's hardware address.
func (f *clientFlags) machineConfig(hw []byte, mtu int) client.Config {
	cfg := client.Config{
		Interface:      f.iface,
		HardwareAddr:   hw,
		Hostname:       f.hostname,
		VendorClass:    f.vendorClass,
		MaxMessageSize: max(mtu, 576),
		Broadcast:      f.broadcast,
		NoProbe:        f.arpProbes == 0,
		OfferWait:      f.offerWait,
	}
	if f.offerWait <= 0 {
		cfg.OfferWait = -1
	}
	if f.clientID != "" {
		cfg.ClientID, _ = parseHex(f.clientID)
	} else if f.duid {
		cfg.ClientID = client.ClientIDFromDUID(client.IAIDFromHardware(hw), client.DUIDLL(1, hw))
	}
	if f.inform != "" {
		cfg.Inform = netip.MustParsePrefix(f.inform)
	}
	return cfg
}

func (f *clientFlags) leaseFile() string { return client.LeaseFileName(f.stateDir, f.iface) }

func (f *clientFlags) pidFile() string {
	return filepath.Join(f.stateDir, "client-"+f.iface+".pid")
}

// openClient opens the link and makes a Runner for it.
func openClient(f *clientFlags, log *slog.Logger) (*link.Link, *client.Runner, error) {
	lk, err := link.Open(link.Options{
		Interface:   f.iface,
		Probe:       link.ScaledProbeConfig(f.arpProbes, f.arpInterval),
		RouteMetric: f.routeMetric,
		NoConfigure: f.noConfigure,
		Log:         log,
	})
	if err != nil {
		return nil, nil, err
	}
	ifi := lk.Interface()
	m, err := client.New(f.machineConfig(ifi.HardwareAddr, ifi.MTU))
	if err != nil {
		lk.Close()
		return nil, nil, err
	}
	r := &client.Runner{Machine: m, Link: lk, Log: log, Hook: f.hook(log)}
	if !f.noConfigure {
		r.LeaseFile = f.leaseFile()
	}
	return lk, r, nil
}

// hook returns the Runner's hook: resolv.conf, then the script.
func (f *clientFlags) hook(log *slog.Logger) func(context.Context, client.Hook) error {
	var script *link.Script
	if f.script != "" {
		script = &link.Script{Path: f.script, Interface: f.iface}
	}
	return func(ctx context.Context, h client.Hook) error {
		var errs []error
		if f.resolvConf != "" && h.Reason.Configures() {
			if err := link.WriteResolvConf(f.resolvConf, f.iface, h.Lease); err != nil {
				errs = append(errs, err)
			}
		}
		if script != nil {
			if err := script.Run(ctx, h); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}

// savedLease reads the lease file, if any.
func (f *clientFlags) savedLease(log *slog.Logger) *client.Lease {
	if f.noConfigure || f.inform != "" {
		return nil
	}
	l, err := client.ReadLeaseFile(f.leaseFile())
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			log.Warn("ignoring the saved lease", "err", err)
		}
		return nil
	}
	if l.Interface != "" && l.Interface != f.iface {
		log.Warn("ignoring the saved lease: it is for another interface", "file", f.leaseFile(), "interface", l.Interface)
		return nil
	}
	return l
}

// clientRun runs the client: once, or as a daemon.
func clientRun(ctx context.Context, f *clientFlags, log *slog.Logger, stdout, stderr io.Writer) int {
	lk, r, err := openClient(f, log)
	if err != nil {
		return failf(stderr, 1, "leased client: %v", err)
	}
	defer lk.Close()
	saved := f.savedLease(log)
	if f.once || f.inform != "" {
		return clientOnce(ctx, f, r, saved, stdout, stderr)
	}
	if !f.noConfigure {
		if err := writePidFile(f.pidFile()); err != nil {
			return failf(stderr, 1, "leased client: %v", err)
		}
		defer os.Remove(f.pidFile())
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR2, syscall.SIGHUP)
	defer signal.Stop(sigs)
	releaseAsked := make(chan struct{})
	go func() {
		if clientSignals(runCtx, sigs, log) {
			close(releaseAsked)
			cancel()
		}
	}()
	log.Info("starting", "state_dir", f.stateDir, "saved", saved != nil)
	err = r.Start(runCtx, saved)
	if err == nil {
		err = r.Run(runCtx, nil)
	}
	released := false
	select {
	case <-releaseAsked:
		released = true
	default:
	}
	if released || (f.releaseOnExit && ctx.Err() != nil) {
		rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer rcancel()
		if rerr := r.Release(rctx); rerr != nil {
			return failf(stderr, 1, "leased client: release: %v", rerr)
		}
		log.Info("released and stopped")
		return 0
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return failf(stderr, 1, "leased client: %v", err)
	}
	log.Info("stopped", "state", r.Machine.State())
	return 0
}

// clientSignals answers the signals sigs brings to the client daemon
// until SIGUSR2, which asks for a release (it returns true), or until ctx
// ends (false). SIGHUP is ignored, with a warning: the client has no
// configuration to read again.
func clientSignals(ctx context.Context, sigs <-chan os.Signal, log *slog.Logger) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case sig := <-sigs:
			switch sig {
			case syscall.SIGUSR2:
				return true
			case syscall.SIGHUP:
				log.Warn("SIGHUP ignored: the client has no configuration to read again; restart it to apply other flags")
			}
		}
	}
}

// clientOnce gets a lease (or, with --inform, the options), prints it as
// JSON and returns the exit code. DHCPINFORM is a one-shot exchange:
// there is no lease to keep.
func clientOnce(ctx context.Context, f *clientFlags, r *client.Runner, saved *client.Lease, stdout, stderr io.Writer) int {
	octx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	err := r.Start(octx, saved)
	if err == nil {
		err = r.Run(octx, func(m *client.Machine) bool {
			return m.State() == client.Bound || m.State() == client.Informed
		})
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no lease within %v (state %v)", f.timeout, r.Machine.State())
		}
		return failf(stderr, 1, "leased client: %v", err)
	}
	if err := json.NewEncoder(escape.JSONWriter(stdout)).Encode(r.Machine.Lease()); err != nil {
		return failf(stderr, 1, "leased client: %v", err)
	}
	return 0
}

// clientRelease runs "leased client --release": it asks the running daemon
// to release (SIGUSR2) and waits for it to exit, or, with no daemon,
// releases the saved lease itself.
func clientRelease(ctx context.Context, f *clientFlags, log *slog.Logger, stderr io.Writer) int {
	if pid, ok := runningClient(f.pidFile(), f.iface); ok {
		log.Info("asking the running client to release", "pid", pid)
		if err := syscall.Kill(pid, syscall.SIGUSR2); err != nil {
			fmt.Fprintf(stderr, "leased client: signalling process %d: %v\n", pid, err)
			return 1
		}
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			if syscall.Kill(pid, 0) != nil {
				return 0
			}
			select {
			case <-ctx.Done():
				return 1
			case <-time.After(50 * time.Millisecond):
			}
		}
		fmt.Fprintf(stderr, "leased client: process %d still runs 15s after the release request\n", pid)
		return 1
	}
	saved, err := client.ReadLeaseFile(f.leaseFile())
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "leased client: no lease to release for %s (no %s)\n", f.iface, f.leaseFile())
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "leased client: %v\n", err)
		return 1
	}
	lk, r, err := openClient(f, log)
	if err != nil {
		fmt.Fprintf(stderr, "leased client: %v\n", err)
		return 1
	}
	defer lk.Close()
	if err := r.Resume(ctx, saved); err != nil {
		fmt.Fprintf(stderr, "leased client: %v\n", err)
		return 1
	}
	if err := r.Release(ctx); err != nil {
		fmt.Fprintf(stderr, "leased client: %v\n", err)
		return 1
	}
	log.Info("released", "addr", saved.Addr)
	return 0
}

// writePidFile writes the process ID to path, creating its directory.
func writePidFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("PID file: %w", err)
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("PID file: %w", err)
	}
	return nil
}

// runningClient returns the process ID in the PID file when that process
// is alive and is a "leased client" for iface (not a process that reused
// the number).
func runningClient(pidPath, iface string) (int, bool) {
	b, err := os.ReadFile(pidPath)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return 0, false
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return 0, false
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	hasClient, hasIface := false, false
	for i, a := range args {
		if a == "client" {
			hasClient = true
		}
		if (a == "-i" || a == "--i") && i+1 < len(args) && args[i+1] == iface {
			hasIface = true
		}
		if a == "-i="+iface || a == "--i="+iface {
			hasIface = true
		}
	}
	return pid, hasClient && hasIface
}
