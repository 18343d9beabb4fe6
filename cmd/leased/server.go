package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"os/user"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"leased/config"
	"leased/control"
	"leased/dhcpv4"
	"leased/lease"
	"leased/lease/journal"
	"leased/netio"
	"leased/reservations"
	"leased/server"
)

const serverUsage = `usage: leased server --config FILE [flags]
       leased server -i IFACE --range FIRST-LAST [--router A] [--dns A,B] [--lease-time 1h] [flags]

Serves DHCP leases. With --config, everything comes from the file (see
docs/configuration.md). Without it, -i and --range describe one subnet: the
one of the interface's IPv4 address.

SIGTERM and SIGINT stop the server after the requests in hand are answered;
SIGHUP reloads the configuration file (a file that does not validate is
refused and the running configuration stays).

The control API (docs/operations.md) listens on the Unix socket --control,
and with --control-tcp on TCP too; "leased status", "leased leases",
"leased reservations", "leased pools" and "leased reload" use it.
--metrics serves Prometheus metrics at /metrics.

flags:
`

// serverCommand runs "leased server".
func serverCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serverUsage); fs.PrintDefaults() }
	var (
		cfgPath   = fs.String("config", "", "configuration `file`")
		iface     = fs.String("i", "", "quick mode: serve this `interface`")
		rng       = fs.String("range", "", "quick mode: dynamic pool `FIRST-LAST`")
		router    = fs.String("router", "", "quick mode: default router `address`")
		dns       = fs.String("dns", "", "quick mode: DNS servers, `A,B`")
		domain    = fs.String("domain", "", "quick mode: domain `name`")
		leaseTime = fs.Duration("lease-time", time.Hour, "quick mode: lease `time`")
		store     = fs.String("store", "", "lease store `directory` (overrides the file's lease-store)")
		delay     = fs.String("commit-delay", "", "wait up to this `time` for more leases before each sync to disk (overrides the file's commit-delay; see docs/configuration.md)")
		rdelay    = fs.String("receive-delay", "", "under load, pause this `time` after each read of the socket to read several requests at once (overrides the file's receive-delay; see docs/configuration.md)")
		listen    = fs.String("listen", "0.0.0.0:67", "UDP `address:port` to listen on")
		readers   = fs.Int("readers", 2, "goroutines reading the socket and answering DISCOVER and INFORM")
		commits   = fs.Int("committers", 256, "goroutines handling requests that wait for their lease to be stored")
		runAs     = fs.String("user", "", "after opening the sockets, run as this `user`")
		logFormat = fs.String("log-format", "text", "log format: text or json")
		logLevel  = fs.String("log-level", "info", "log level: debug, info, warn or error")
		salvage   = fs.Bool("salvage", false, "start even if the lease store is corrupt in the middle, keeping what can be read")
		cpuprof   = fs.String("cpuprofile", "", "write a CPU profile to this `file` until the server stops (for performance work)")
		ctlSocket = fs.String("control", control.DefaultSocket, "control API Unix `socket` (mode 0600); empty for none")
		ctlTCP    = fs.String("control-tcp", "", "also serve the control API on TCP `address:port`; an address that is not loopback needs --control-token-file")
		ctlToken  = fs.String("control-token-file", "", "`file` holding the bearer token that requests to --control-tcp must carry")
		metrics   = fs.String("metrics", "", "serve Prometheus metrics at /metrics on `address:port`")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "leased server: %v\n", err)
		return 2
	}

	// loadConfig returns the configuration and, from a file, the SHA-256
	// of the content it was read from.
	loadConfig := func() (*config.Config, string, error) {
		var cfg *config.Config
		sum := ""
		if *cfgPath != "" {
			if *iface != "" || *rng != "" {
				return nil, "", errors.New("--config and quick mode (-i, --range) exclude each other")
			}
			c, h, err := loadConfigFile(*cfgPath)
			if err != nil {
				return nil, "", err
			}
			cfg, sum = c, h
		} else {
			c, err := quickConfig(*iface, *rng, *router, *dns, *domain, *leaseTime)
			if err != nil {
				return nil, "", err
			}
			cfg = c
		}
		if *store != "" {
			cfg.LeaseStore = *store
		}
		if err := delayFlag("commit-delay", *delay, config.MaxCommitDelay, &cfg.CommitDelay); err != nil {
			return nil, "", err
		}
		if err := delayFlag("receive-delay", *rdelay, config.MaxReceiveDelay, &cfg.ReceiveDelay); err != nil {
			return nil, "", err
		}
		return cfg, sum, nil
	}
	if *cfgPath == "" && (*iface == "" || *rng == "") {
		fs.Usage()
		return 2
	}
	cfg, cfgSum, err := loadConfig()
	if err != nil {
		fmt.Fprintf(stderr, "leased server: %v\n", err)
		return 2
	}
	started := time.Now()
	cfgStatus := control.ConfigStatus{File: *cfgPath, SHA256: cfgSum, Loaded: started, Subnets: len(cfg.Subnets)}
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			fmt.Fprintf(stderr, "leased server: --cpuprofile: %v\n", err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "leased server: --cpuprofile: %v\n", err)
			return 1
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	addr, err := netip.ParseAddrPort(*listen)
	if err != nil {
		fmt.Fprintf(stderr, "leased server: --listen: %v\n", err)
		return 2
	}

	// The control and metrics listeners open before the DHCP sockets, so
	// that a mistake in their flags stops the server at once, and all of
	// them before privileges are dropped.
	lns, code := openOperatorListeners(log, stderr, *ctlSocket, *ctlTCP, *ctlToken, *metrics, isDefaultFlag(fs, "control"))
	if code != 0 {
		return code
	}
	defer lns.close()

	srv, err := netio.Listen(netio.Options{Addr: addr, Interfaces: cfg.Interfaces, Readers: *readers, Committers: *commits, ReceiveDelay: cfg.ReceiveDelay, Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "leased server: %v\n", err)
		return 1
	}
	defer srv.Close()
	if *runAs != "" {
		if err := dropPrivileges(*runAs); err != nil {
			fmt.Fprintf(stderr, "leased server: %v\n", err)
			return 1
		}
	}

	if err := os.MkdirAll(cfg.LeaseStore, 0o750); err != nil {
		fmt.Fprintf(stderr, "leased server: lease store: %v\n", err)
		return 1
	}
	st, err := journal.Open(cfg.LeaseStore, journal.Options{Logger: log, Salvage: *salvage, CommitDelay: cfg.CommitDelay})
	if err != nil {
		fmt.Fprintf(stderr, "leased server: %v\n", err)
		return 1
	}
	var engineStore lease.Store = st
	var commitTimer *control.CommitTimer
	if lns.metrics != nil {
		commitTimer = control.NewCommitTimer(time.Now)
		engineStore = commitTimer.Wrap(st)
	}
	engine, err := server.New(cfg, engineStore, time.Now)
	if err != nil {
		st.Close()
		fmt.Fprintf(stderr, "leased server: %v\n", err)
		return 1
	}
	live := server.NewReloadable(engine)
	// Reservations added at run time, kept beside the lease store.
	resFile := reservations.FileIn(cfg.LeaseStore)
	if n, err := resFile.Restore(live); err != nil {
		st.Close()
		fmt.Fprintf(stderr, "leased server: %v\n", err)
		return 1
	} else if n > 0 {
		log.Info("run-time reservations restored", "file", resFile.Path, "count", n)
	}

	// reload is what SIGHUP and the control API do.
	var reloadMu sync.Mutex
	reload := func(by string) (control.ConfigStatus, error) {
		reloadMu.Lock()
		defer reloadMu.Unlock()
		if *cfgPath == "" {
			return cfgStatus, fmt.Errorf("quick mode: %w", control.ErrNoReload)
		}
		next, sum, err := loadConfig()
		if err == nil {
			err = live.Reload(next)
		}
		if err != nil {
			log.Error("reload refused; the running configuration stays", "err", err, "by", by)
			return cfgStatus, err
		}
		cfgStatus = control.ConfigStatus{File: *cfgPath, SHA256: sum, Loaded: time.Now(), Subnets: len(next.Subnets)}
		log.Info("configuration reloaded", "file", *cfgPath, "subnets", len(next.Subnets), "sha256", sum, "by", by)
		// The sockets and the store were opened at start.
		if !slices.Equal(next.Interfaces, cfg.Interfaces) {
			log.Warn("interfaces changed in the file; they take effect at the next start", "running", strings.Join(cfg.Interfaces, ","))
		}
		if next.LeaseStore != cfg.LeaseStore {
			log.Warn("lease-store changed in the file; it takes effect at the next start", "running", cfg.LeaseStore)
		}
		if next.CommitDelay != cfg.CommitDelay && *delay == "" {
			log.Warn("commit-delay changed in the file; it takes effect at the next start", "running", cfg.CommitDelay)
		}
		if next.ReceiveDelay != cfg.ReceiveDelay && *rdelay == "" {
			log.Warn("receive-delay changed in the file; it takes effect at the next start", "running", cfg.ReceiveDelay)
		}
		return cfgStatus, nil
	}

	// The control API and the metrics run until the DHCP service stops.
	opCtx, stopOperator := context.WithCancel(ctx)
	var operator sync.WaitGroup
	defer operator.Wait()
	defer stopOperator()
	if err := lns.serve(opCtx, &operator, log, control.Options{
		Engine:  live,
		Version: version,
		Started: started,
		Config: func() control.ConfigStatus {
			reloadMu.Lock()
			defer reloadMu.Unlock()
			return cfgStatus
		},
		Reload:       func() (control.ConfigStatus, error) { return reload("control API") },
		Store:        st,
		Reservations: resFile,
		Logger:       log,
	}, control.MetricsSources{
		Packets: srv.Stats,
		Pools:   live.PoolStats,
		Store:   st.StoreStats,
		Commits: commitTimer,
		Version: version,
		Started: started,
	}); err != nil {
		st.Close()
		fmt.Fprintf(stderr, "leased server: %v\n", err)
		return 1
	}
	log.Info("serving", "listen", srv.LocalAddr(), "interfaces", strings.Join(cfg.Interfaces, ","),
		"subnets", len(cfg.Subnets), "store", cfg.LeaseStore)

	// Sweep lapsed offers, expired leases and ended probations.
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				live.Sweep()
			}
		}
	}()
	// SIGHUP reloads.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if *cfgPath == "" {
					log.Warn("reload: no configuration file (quick mode); nothing to reload")
					continue
				}
				reload("SIGHUP")
			}
		}
	}()

	serveErr := srv.Serve(ctx, live)
	// The control API may be committing a release: stop it before the
	// store closes.
	stopOperator()
	operator.Wait()
	closeErr := st.Close()
	if err := errors.Join(serveErr, closeErr); err != nil {
		log.Error("stopped with an error", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// quickConfig builds the configuration of quick mode: one subnet, the one
// of the interface's first IPv4 address.
func quickConfig(iface, rng, router, dns, domain string, leaseTime time.Duration) (*config.Config, error) {
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("-i %s: %w", iface, err)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return nil, fmt.Errorf("-i %s: %w", iface, err)
	}
	var prefix netip.Prefix
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap().Is4() {
				ones, _ := ipn.Mask.Size()
				prefix = netip.PrefixFrom(ip.Unmap(), ones).Masked()
				break
			}
		}
	}
	if !prefix.IsValid() {
		return nil, fmt.Errorf("-i %s: the interface has no IPv4 address to derive the subnet from", iface)
	}
	r, err := config.ParseRange(rng)
	if err != nil {
		return nil, fmt.Errorf("--range: %w", err)
	}
	sub := config.Subnet{Prefix: prefix, Pools: []config.Range{r}, LeaseTime: leaseTime}
	if router != "" {
		a, err := netip.ParseAddr(router)
		if err != nil {
			return nil, fmt.Errorf("--router: %w", err)
		}
		sub.Options = append(sub.Options, config.Option{Code: dhcpv4.OptRouter, Value: a.AsSlice()})
	}
	if dns != "" {
		var v []byte
		for _, s := range strings.Split(dns, ",") {
			a, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil || !a.Is4() {
				return nil, fmt.Errorf("--dns: %q is not an IPv4 address", s)
			}
			v = append(v, a.AsSlice()...)
		}
		sub.Options = append(sub.Options, config.Option{Code: dhcpv4.OptDNSServers, Value: v})
	}
	if domain != "" {
		sub.Options = append(sub.Options, config.Option{Code: dhcpv4.OptDomainName, Value: []byte(domain)})
	}
	cfg := &config.Config{
		Interfaces:       []string{iface},
		LeaseStore:       config.DefaultLeaseStore,
		CommitDelay:      config.DefaultCommitDelay,
		ReceiveDelay:     config.DefaultReceiveDelay,
		OfferHold:        config.DefaultOfferHold,
		DeclineProbation: config.DefaultDeclineProbation,
		Defaults:         config.SubnetDefaults{LeaseTime: leaseTime},
		Subnets:          []config.Subnet{sub},
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
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

// loadConfigFile loads and validates the configuration file at path, as
// config.Load does, and returns the SHA-256 of the bytes it parsed, in
// hex, so that status shows exactly which content is in effect.
func loadConfigFile(path string) (*config.Config, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, config.MaxFileSize+1))
	if err != nil {
		return nil, "", err
	}
	if len(data) > config.MaxFileSize {
		return nil, "", errors.Join(&config.Error{File: path, Msg: fmt.Sprintf("file is larger than %d MiB", config.MaxFileSize>>20)})
	}
	cfg, err := config.Parse(path, data)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(data)
	return cfg, hex.EncodeToString(sum[:]), nil
}

// isDefaultFlag reports whether the flag name was left at its default.
func isDefaultFlag(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return !set
}

// operatorListeners are the listeners of the control API and the
// metrics; nil when not asked for.
type operatorListeners struct {
	unix, tcp, metrics net.Listener
	token              string
}

// openOperatorListeners opens the listeners the flags ask for. It returns
// the exit code of a failure: 2 for a flag at fault, 1 otherwise. When the
// default control socket cannot be had (another server answers on it, or
// its directory cannot be made), the server goes on without it, with a
// warning; a socket asked for by name must open.
func openOperatorListeners(log *slog.Logger, stderr io.Writer, socket, tcp, tokenFile, metrics string, defaultSocket bool) (*operatorListeners, int) {
	l := &operatorListeners{}
	fail := func(code int, format string, args ...any) (*operatorListeners, int) {
		l.close()
		fmt.Fprintf(stderr, "leased server: %s\n", fmt.Sprintf(format, args...))
		return nil, code
	}
	if tokenFile != "" {
		if tcp == "" {
			return fail(2, "--control-token-file goes with --control-tcp")
		}
		tok, err := control.ReadToken(tokenFile)
		if err != nil {
			return fail(2, "--control-token-file: %v", err)
		}
		l.token = tok
	}
	if tcp != "" {
		ln, err := control.ListenTCP(tcp, l.token)
		if err != nil {
			if errors.Is(err, control.ErrNeedToken) {
				return fail(2, "--control-tcp: %v", err)
			}
			return fail(1, "--control-tcp: %v", err)
		}
		l.tcp = ln
	}
	if metrics != "" {
		ln, err := net.Listen("tcp", metrics)
		if err != nil {
			return fail(1, "--metrics: %v", err)
		}
		l.metrics = ln
	}
	if socket != "" {
		ln, err := control.ListenUnix(socket)
		switch {
		case err == nil:
			l.unix = ln
		case defaultSocket:
			log.Warn("no control API on the default socket; give --control to choose another", "socket", socket, "err", err)
		default:
			return fail(1, "--control: %v", err)
		}
	}
	return l, 0
}

// serve serves the control API and the metrics on l's listeners until ctx
// ends; wg counts the goroutines.
func (l *operatorListeners) serve(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger, opts control.Options, src control.MetricsSources) error {
	api, err := control.NewServer(opts)
	if err != nil {
		return err
	}
	var reg http.Handler
	if l.metrics != nil {
		r, err := control.NewRegistry(src)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", control.MetricsHandler(r))
		reg = mux
	}
	start := func(ln net.Listener, h http.Handler, what string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := control.Serve(ctx, ln, h, log); err != nil {
				log.Error(what+" stopped", "err", err)
			}
		}()
	}
	if l.unix != nil {
		log.Info("control API", "socket", l.unix.Addr().String())
		start(l.unix, api, "control API")
	}
	if l.tcp != nil {
		var h http.Handler = api
		if l.token != "" {
			h = control.RequireToken(l.token, api)
		}
		log.Info("control API", "listen", l.tcp.Addr().String(), "token", l.token != "")
		start(l.tcp, h, "control API on TCP")
	}
	if l.metrics != nil {
		log.Info("metrics", "listen", l.metrics.Addr().String(), "path", "/metrics")
		start(l.metrics, reg, "metrics")
	}
	// Serve owns the listeners from now on.
	l.unix, l.tcp, l.metrics = nil, nil, nil
	return nil
}

// close closes the listeners that serve has not taken over.
func (l *operatorListeners) close() {
	if l == nil {
		return
	}
	for _, ln := range []net.Listener{l.unix, l.tcp, l.metrics} {
		if ln != nil {
			ln.Close()
		}
	}
}

// delayFlag sets *d from the value s of flag --name when s is not empty:
// a duration from 0 to most.
func delayFlag(name, s string, most time.Duration, d *time.Duration) error {
	if s == "" {
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 || v > most {
		return fmt.Errorf("--%s %q: want a duration from 0 to %v", name, s, most)
	}
	*d = v
	return nil
}
