package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"leased/control"
)

// OperatorOptions say where the control API and the metrics listen.
type OperatorOptions struct {
	// ControlSocket is the Unix socket of the control API; empty for none.
	ControlSocket string
	// DefaultSocket says ControlSocket is the default rather than asked
	// for: when it cannot be had (its directory cannot be made), the
	// server goes on without it, with a warning. A socket asked for by
	// name must open, and neither may be one another server answers on.
	DefaultSocket bool
	// ControlTCP is a TCP address:port for the control API too; empty for
	// none.
	ControlTCP string
	// TokenFile holds the bearer token that requests to ControlTCP must
	// carry; it goes with ControlTCP only.
	TokenFile string
	// Metrics is the TCP address:port of the Prometheus metrics; empty
	// for none.
	Metrics string
	// Limits caps the connections of each listener; nil derives them
	// from the descriptor limit (control.DefaultLimits), so that the
	// control plane leaves the DHCP service the descriptors it needs.
	Limits *control.ListenerLimits
}

// UsageError is an error of Open that lies in what the server was asked
// to do (a flag, the configuration) rather than in the system; a command
// exits with status 2 for it rather than 1. Flag names the setting at
// fault, as the command line spells it ("--control-tcp").
type UsageError struct {
	Flag string
	Err  error
}

func (e *UsageError) Error() string {
	if e.Flag == "" {
		return e.Err.Error()
	}
	return e.Flag + ": " + e.Err.Error()
}

func (e *UsageError) Unwrap() error { return e.Err }

// operator holds the listeners of the control API and the metrics (nil
// when not asked for) and, once built, their handlers.
type operator struct {
	unix, tcp, metrics net.Listener
	token              string
	api                *control.Server
	registry           http.Handler
	// limited are the capped listeners by name, for the metrics; they
	// are not closed through it.
	limited map[string]*control.LimitedListener
}

// openOperator opens the listeners o asks for. Errors in the settings are
// *UsageError values.
func openOperator(o OperatorOptions, log *slog.Logger) (*operator, error) {
	l := &operator{limited: map[string]*control.LimitedListener{}}
	fail := func(err error) (*operator, error) {
		l.close()
		return nil, err
	}
	lim := o.Limits
	if lim == nil {
		lim = defaultLimits(log)
	}
	if o.TokenFile != "" {
		if o.ControlTCP == "" {
			return fail(&UsageError{Err: errors.New("--control-token-file goes with --control-tcp")})
		}
		tok, err := control.ReadToken(o.TokenFile)
		if err != nil {
			return fail(&UsageError{Flag: "--control-token-file", Err: err})
		}
		l.token = tok
	}
	if o.ControlTCP != "" {
		ln, err := control.ListenTCP(o.ControlTCP, l.token)
		if errors.Is(err, control.ErrNeedToken) {
			return fail(&UsageError{Flag: "--control-tcp", Err: err})
		}
		if err != nil {
			return fail(fmt.Errorf("--control-tcp: %w", err))
		}
		l.tcp = l.limit("tcp", ln, lim.TCP, log)
	}
	if o.Metrics != "" {
		ln, err := net.Listen("tcp", o.Metrics)
		if err != nil {
			return fail(fmt.Errorf("--metrics: %w", err))
		}
		l.metrics = l.limit("metrics", ln, lim.Metrics, log)
	}
	if o.ControlSocket != "" {
		ln, err := control.ListenUnix(o.ControlSocket)
		switch {
		case err == nil:
			l.unix = l.limit("unix", ln, lim.Unix, log)
		case errors.Is(err, control.ErrSocketInUse):
			return fail(fmt.Errorf("%w: stop it first, or give --control another socket", err))
		case o.DefaultSocket:
			log.Warn("no control API on the default socket; give --control to choose another", "socket", o.ControlSocket, "err", err)
		default:
			return fail(fmt.Errorf("--control: %w", err))
		}
	}
	return l, nil
}

// defaultLimits returns the caps derived from the process's descriptor
// limit, or those of 1,024 descriptors when it cannot be read.
func defaultLimits(log *slog.Logger) *control.ListenerLimits {
	nofile, err := control.DescriptorLimit()
	if err != nil {
		log.Warn("cannot read the descriptor limit; capping control connections as for 1024", "err", err)
		nofile = 1024
	}
	lim := control.DefaultLimits(nofile)
	log.Debug("control connection caps", "nofile", nofile, "reserved", control.DescriptorMargin(nofile),
		"tcp", lim.TCP.Total, "tcp_per_source", lim.TCP.PerSource, "tcp_unauthenticated", lim.TCP.Unauthenticated,
		"unix", lim.Unix.Total, "metrics", lim.Metrics.Total)
	return &lim
}

// limit caps ln's connections with lim and keeps it under name for the
// metrics.
func (l *operator) limit(name string, ln net.Listener, lim control.ConnLimits, log *slog.Logger) net.Listener {
	ll := control.Limit(ln, lim, log.With("listener", name))
	l.limited[name] = ll
	return ll
}

// connections returns the counters of the capped listeners.
func (l *operator) connections() map[string]control.ConnStats {
	out := make(map[string]control.ConnStats, len(l.limited))
	for name, ll := range l.limited {
		out[name] = ll.Stats()
	}
	return out
}

// build makes the handlers of the API and of the metrics.
func (l *operator) build(opts control.Options, src control.MetricsSources) error {
	api, err := control.NewServer(opts)
	if err != nil {
		return err
	}
	l.api = api
	if l.metrics != nil {
		src.Connections = l.connections
		r, err := control.NewRegistry(src)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", control.MetricsHandler(r))
		l.registry = mux
	}
	return nil
}

// serve serves the control API and the metrics on l's listeners until ctx
// ends; wg counts the goroutines. The listeners are theirs from then on.
func (l *operator) serve(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger) {
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
		start(l.unix, l.api, "control API")
	}
	if l.unix != nil || l.tcp != nil {
		// The dashboard's charts of the last hour.
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.api.RunSampler(ctx)
		}()
	}
	if l.tcp != nil {
		// The bearer token, or the dashboard's session; nothing without
		// a token.
		h := l.api.TCPHandler(l.token)
		log.Info("control API", "listen", l.tcp.Addr().String(), "token", l.token != "")
		start(l.tcp, h, "control API on TCP")
	}
	if l.metrics != nil {
		log.Info("metrics", "listen", l.metrics.Addr().String(), "path", "/metrics")
		start(l.metrics, l.registry, "metrics")
	}
	l.unix, l.tcp, l.metrics = nil, nil, nil
}

// close closes the listeners that serve has not taken over.
func (l *operator) close() {
	if l == nil {
		return
	}
	for _, ln := range []net.Listener{l.unix, l.tcp, l.metrics} {
		if ln != nil {
			ln.Close()
		}
	}
	l.unix, l.tcp, l.metrics = nil, nil, nil
}
