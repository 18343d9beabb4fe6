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
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"leased/config"
	"leased/dhcpv4"
	"leased/lease/journal"
	"leased/netio"
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
		listen    = fs.String("listen", "0.0.0.0:67", "UDP `address:port` to listen on")
		readers   = fs.Int("readers", 2, "goroutines reading the socket and answering DISCOVER and INFORM")
		commits   = fs.Int("committers", 256, "goroutines handling requests that wait for their lease to be stored")
		runAs     = fs.String("user", "", "after opening the sockets, run as this `user`")
		logFormat = fs.String("log-format", "text", "log format: text or json")
		logLevel  = fs.String("log-level", "info", "log level: debug, info, warn or error")
		salvage   = fs.Bool("salvage", false, "start even if the lease store is corrupt in the middle, keeping what can be read")
		cpuprof   = fs.String("cpuprofile", "", "write a CPU profile to this `file` until the server stops (for performance work)")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "leased server: %v\n", err)
		return 2
	}

	loadConfig := func() (*config.Config, error) {
		var cfg *config.Config
		if *cfgPath != "" {
			if *iface != "" || *rng != "" {
				return nil, errors.New("--config and quick mode (-i, --range) exclude each other")
			}
			c, err := config.Load(*cfgPath)
			if err != nil {
				return nil, err
			}
			cfg = c
		} else {
			c, err := quickConfig(*iface, *rng, *router, *dns, *domain, *leaseTime)
			if err != nil {
				return nil, err
			}
			cfg = c
		}
		if *store != "" {
			cfg.LeaseStore = *store
		}
		return cfg, nil
	}
	if *cfgPath == "" && (*iface == "" || *rng == "") {
		fs.Usage()
		return 2
	}
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintf(stderr, "leased server: %v\n", err)
		return 2
	}
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

	srv, err := netio.Listen(netio.Options{Addr: addr, Interfaces: cfg.Interfaces, Readers: *readers, Committers: *commits, Logger: log})
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
	st, err := journal.Open(cfg.LeaseStore, journal.Options{Logger: log, Salvage: *salvage})
	if err != nil {
		fmt.Fprintf(stderr, "leased server: %v\n", err)
		return 1
	}
	engine, err := server.New(cfg, st, time.Now)
	if err != nil {
		st.Close()
		fmt.Fprintf(stderr, "leased server: %v\n", err)
		return 1
	}
	live := server.NewReloadable(engine)
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
				next, err := loadConfig()
				if err == nil {
					err = live.Reload(next)
				}
				if err != nil {
					log.Error("reload refused; the running configuration stays", "err", err)
					continue
				}
				log.Info("configuration reloaded", "file", *cfgPath, "subnets", len(next.Subnets))
				// The sockets and the store were opened at start.
				if !slices.Equal(next.Interfaces, cfg.Interfaces) {
					log.Warn("interfaces changed in the file; they take effect at the next start", "running", strings.Join(cfg.Interfaces, ","))
				}
				if next.LeaseStore != cfg.LeaseStore {
					log.Warn("lease-store changed in the file; it takes effect at the next start", "running", cfg.LeaseStore)
				}
			}
		}
	}()

	serveErr := srv.Serve(ctx, live)
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
