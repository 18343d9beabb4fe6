package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"leased/config"
	"leased/control"
	leaseevents "leased/events"
	"leased/history"
	"leased/lease"
	"leased/netio"
	"leased/reservations"
	"leased/server"
)

// DefaultSweepInterval is how often a server sweeps lapsed offers,
// expired leases and ended probations when Options.SweepInterval is 0.
const DefaultSweepInterval = 5 * time.Second

// Options configure a server. Source, Config, Listen and Version are what
// the command line says; the rest may be left zero.
type Options struct {
	// Source is where the configuration comes from, for reloads.
	Source Source
	// Config is the configuration to start with, as Source.Load returned
	// it, and ConfigSHA256 the hash it returned.
	Config       *config.Config
	ConfigSHA256 string

	// Listen is the DHCP socket's address; Readers and Committers size
	// its goroutines (see netio.Options).
	Listen              netip.AddrPort
	Readers, Committers int
	// SharePort lets the server start while another socket is bound to
	// the port of Listen (see netio.Options.SharePort); without it, Open
	// refuses with a *netio.PortInUseError.
	SharePort bool
	// Operator says where the control API and the metrics listen.
	Operator OperatorOptions
	// DropPrivileges, when not nil, runs once every socket is open and
	// before the lease store opens (to switch to an unprivileged user).
	DropPrivileges func() error
	// Salvage opens a lease store that is corrupt in the middle, keeping
	// what can be read (see journal.Options).
	Salvage bool

	// Version is the server's version, for status and metrics.
	Version string
	// Logger receives the server's log; nil discards.
	Logger *slog.Logger
	// Clock is the time of the engine, the API and the reloads; nil is
	// time.Now.
	Clock func() time.Time
	// SweepInterval is how often Serve sweeps; 0 is DefaultSweepInterval.
	SweepInterval time.Duration
	// SpaceCheckInterval is how often Serve looks at the free space of
	// the lease store, to warn before it runs out (SpaceWarner); 0 is
	// DefaultSpaceCheckInterval.
	SpaceCheckInterval time.Duration
	// Reload delivers the signals that reload the configuration (SIGHUP);
	// nil for none.
	Reload <-chan os.Signal
}

// dhcpService is the DHCP side of a server; *netio.Server is one.
type dhcpService interface {
	Serve(ctx context.Context, h netio.Handler) error
	Stats() netio.Stats
	LocalAddr() netip.AddrPort
	SetInterfaces(names []string)
	Close() error
}

// leaseStore is the lease store of a server; *journal.Store and
// *postgres.Store are.
type leaseStore interface {
	lease.Store
	StoreStats() lease.StoreStats
	Dir() string
}

// Server is a server whose sockets, listeners and lease store are open,
// ready to Serve.
type Server struct {
	opts     Options
	log      *slog.Logger
	op       *operator
	dhcp     dhcpService
	store    leaseStore
	live     *server.Reloadable
	reloader *Reloader
	hooks    *leaseevents.Hooks // nil: none
	dns      *dnsUpdates        // nil: no DNS updates
}

// Open opens what a server needs, in this order: the operator listeners
// (so that a mistake in their settings stops the server at once), the
// DHCP sockets, then, after DropPrivileges, the lease store (creating its
// directory, which holds the run-time reservations whatever the store);
// then it builds the engine and restores the run-time
// reservations kept beside the store. Errors in the settings are
// *UsageError values. On error, what was opened is closed again.
func Open(opts Options) (*Server, error) {
	opts = withDefaults(opts)
	op, err := openOperator(opts.Operator, opts.Logger)
	if err != nil {
		return nil, err
	}
	pinger, err := openPinger(opts.Config)
	if err != nil {
		op.close()
		return nil, err
	}
	dhcp, err := netio.Listen(netio.Options{Addr: opts.Listen, Interfaces: opts.Config.Interfaces, Readers: opts.Readers,
		Committers: opts.Committers, ReceiveDelay: opts.Config.ReceiveDelay, SharePort: opts.SharePort, RateLimits: opts.Config.RateLimits, Logger: opts.Logger,
		Pinger: pinger})
	if err != nil {
		if pinger != nil {
			pinger.Close()
		}
		op.close()
		return nil, err
	}
	fail := func(err error) (*Server, error) {
		dhcp.Close()
		op.close()
		return nil, err
	}
	if opts.DropPrivileges != nil {
		if err := opts.DropPrivileges(); err != nil {
			return fail(err)
		}
	}
	dir := opts.Config.LeaseStore
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fail(fmt.Errorf("lease store: %w", err))
	}
	st, err := openStore(opts)
	if err != nil {
		return fail(err)
	}
	s, err := assemble(opts, op, dhcp, st)
	if err != nil {
		st.Close()
		return fail(err)
	}
	return s, nil
}

// withDefaults fills in the zero fields of opts that have defaults.
func withDefaults(opts Options) Options {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = DefaultSweepInterval
	}
	if opts.SpaceCheckInterval <= 0 {
		opts.SpaceCheckInterval = DefaultSpaceCheckInterval
	}
	return opts
}

// assemble builds the engine on st, restores the run-time reservations
// and prepares the operator API of a server whose parts are open.
func assemble(opts Options, op *operator, dhcp dhcpService, st leaseStore) (*Server, error) {
	log, cfg := opts.Logger, opts.Config
	var engineStore lease.Store = st
	var commitTimer *control.CommitTimer
	if op.metrics != nil {
		commitTimer = control.NewCommitTimer(opts.Clock)
		engineStore = commitTimer.Wrap(st)
	}
	engine, err := server.New(cfg, engineStore, opts.Clock)
	if err != nil {
		return nil, err
	}
	live := server.NewReloadable(engine)
	resFile := reservations.FileIn(cfg.LeaseStore)
	if n, err := resFile.Restore(live); err != nil {
		return nil, err
	} else if n > 0 {
		log.Info("run-time reservations restored", "file", resFile.Path, "count", n)
	}
	hooks, err := openHooks(cfg.Hooks, log)
	if err != nil {
		return nil, err
	}
	dnsUp, err := openDDNS(cfg, st, opts.Clock, log)
	if err != nil {
		return nil, err
	}
	hooks = dnsUp.hook(hooks)
	if h, ok := dhcp.(interface{ SetEvents(*leaseevents.Hooks) }); ok && hooks != nil {
		h.SetEvents(hooks)
	}
	book := history.New(history.Options{})
	if h, ok := dhcp.(interface{ SetHistory(*history.Book) }); ok {
		h.SetHistory(book)
	}
	started := opts.Clock()
	s := &Server{opts: opts, log: log, op: op, dhcp: dhcp, store: st, live: live, hooks: hooks, dns: dnsUp}
	s.reloader = NewReloader(&s.opts.Source, cfg, opts.ConfigSHA256, started, reloadLimits{reconfigurer{live, dhcp, dnsUp, log}, dhcp}.orEngine(), log, opts.Clock)
	var apiEngine control.Engine = live
	if hooks != nil {
		apiEngine = releaseNotifier{live, hooks}
	}
	err = op.build(control.Options{
		Engine:       apiEngine,
		Version:      opts.Version,
		Started:      started,
		Clock:        opts.Clock,
		Config:       s.reloader.Status,
		Reload:       func() (control.ConfigStatus, error) { return s.reloader.Reload("control API") },
		Store:        st,
		Outcomes:     func() map[string]uint64 { return dhcp.Stats().Outcomes },
		Reservations: resFile,
		Logger:       log,
		History:      book,
		Hooks:        hooks.Stats,
		DDNS:         dnsUp.statsFunc(),
	}, control.MetricsSources{
		Packets: dhcp.Stats,
		Pools:   live.PoolStats,
		Store:   st.StoreStats,
		Commits: commitTimer,
		Version: opts.Version,
		Started: started,
		Hooks:   hooks.Stats,
		DDNS:    dnsUp.statsFunc(),
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// reconfigurer puts a reloaded configuration in effect: in the engine,
// then the interfaces served in the DHCP service and the DNS updates
// (whose key files are read first: a bad one refuses the reload).
type reconfigurer struct {
	engine Reconfigurable
	dhcp   dhcpService
	dns    *dnsUpdates
	log    *slog.Logger
}

func (r reconfigurer) Reload(cfg *config.Config) error {
	rules, err := r.dns.rules(cfg, r.log)
	if err != nil {
		return err
	}
	if err := r.engine.Reload(cfg); err != nil {
		return err
	}
	r.dhcp.SetInterfaces(cfg.Interfaces)
	r.dns.setRules(rules)
	return nil
}

// Reloader returns the server's Reloader.
func (s *Server) Reloader() *Reloader { return s.reloader }

// Serve serves until ctx ends or the DHCP sockets fail, then stops in
// order: the DHCP sockets finish the requests in hand and the operator API
// stops (it may be committing a release); only then does the lease store
// close. It
// logs how it stopped and returns the error it stopped with. Serve closes
// everything Open opened; call it once.
func (s *Server) Serve(ctx context.Context) error {
	cfg := s.opts.Config
	opCtx, stopOperator := context.WithCancel(ctx)
	defer stopOperator()
	var operator sync.WaitGroup
	s.op.serve(opCtx, &operator, s.log)
	s.log.Info("serving", "listen", s.dhcp.LocalAddr(), "interfaces", strings.Join(cfg.Interfaces, ","),
		"subnets", len(cfg.Subnets), "store", s.store.Dir())

	loopCtx, stopLoops := context.WithCancel(ctx)
	var loops sync.WaitGroup
	ticker := time.NewTicker(s.opts.SweepInterval)
	defer ticker.Stop()
	var sweeper Sweeper = s.live
	if s.hooks != nil {
		sweeper = newExpirySweeper(s.live, s.hooks)
		loops.Go(func() { s.hooks.Run(loopCtx) })
	}
	if s.dns != nil {
		loops.Go(func() { s.dns.Run(loopCtx) })
	}
	loops.Go(func() { Sweep(loopCtx, ticker.C, sweeper) })
	spaceTicker := time.NewTicker(s.opts.SpaceCheckInterval)
	defer spaceTicker.Stop()
	warner := NewSpaceWarner(s.log, 0)
	warner.Check(s.opts.Clock(), s.store.StoreStats())
	loops.Go(func() { WatchSpace(loopCtx, spaceTicker.C, s.opts.Clock, s.store.StoreStats, warner) })
	if s.opts.Reload != nil {
		loops.Go(func() { ReloadOnSignal(loopCtx, s.opts.Reload, s.reloader) })
	}
	if w, ok := s.store.(lease.Watcher); ok {
		loops.Go(func() { FollowStore(loopCtx, w, s.live, s.log) })
	}

	serveErr := s.dhcp.Serve(ctx, s.live)
	stopLoops()
	loops.Wait()
	stopOperator()
	operator.Wait()
	closeErr := s.store.Close()
	s.dhcp.Close()
	if err := errors.Join(serveErr, closeErr); err != nil {
		s.log.Error("stopped with an error", "err", err)
		return err
	}
	s.log.Info("stopped")
	return nil
}

// Close closes what Open opened, for a server that will not Serve.
func (s *Server) Close() error {
	s.op.close()
	err := s.dhcp.Close()
	return errors.Join(s.store.Close(), err)
}
