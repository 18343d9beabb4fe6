package control

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ConnLimits cap the connections a control listener keeps open at once,
// so that a flood of connections cannot take the descriptors the DHCP
// service needs. A connection over a cap is closed as soon as it is
// accepted. Zero leaves a cap out.
type ConnLimits struct {
	// Total caps the connections open at once.
	Total int
	// PerSource caps the connections open at once from one remote IP
	// address (TCP only).
	PerSource int
	// Unauthenticated caps the connections open at once that have not
	// yet presented a valid token (see RequireToken); such a connection
	// is also closed UnauthenticatedTimeout after it was accepted.
	Unauthenticated int
	// UnauthenticatedTimeout is how long a connection may stay open
	// without presenting a valid token; 0 means
	// DefaultUnauthenticatedTimeout. It applies only with a cap on
	// unauthenticated connections.
	UnauthenticatedTimeout time.Duration
}

// DefaultUnauthenticatedTimeout is how long a connection may stay open
// without presenting a valid token, by default.
const DefaultUnauthenticatedTimeout = 5 * time.Second

// Reasons for refusing a connection, as ConnStats.Refused counts them.
const (
	RefusedTotal           = "total"
	RefusedPerSource       = "per-source"
	RefusedUnauthenticated = "unauthenticated"
)

// ConnStats are the counters of a LimitedListener.
type ConnStats struct {
	Open    int               // connections open now
	Refused map[string]uint64 // connections closed at once, by cap (RefusedTotal, ...)
	// AcceptErrors counts the accepts that failed for want of
	// descriptors (EMFILE, ENFILE) or buffers.
	AcceptErrors uint64
}

// DescriptorMargin is the number of descriptors kept out of the control
// plane's reach when the descriptor limit is nofile: 256 or a quarter of
// the limit, whichever is larger. The lease store, the DHCP sockets, the
// packet socket and the log need them.
func DescriptorMargin(nofile uint64) uint64 { return max(256, nofile/4) }

// ListenerLimits are the caps of the control plane's listeners, derived
// from a descriptor limit by DefaultLimits.
type ListenerLimits struct {
	Unix, TCP, Metrics ConnLimits
}

// DefaultLimits returns the caps of the control plane's listeners for a
// process whose descriptor limit (RLIMIT_NOFILE) is nofile: together they
// leave DescriptorMargin(nofile) descriptors free. The Unix socket and
// the metrics get up to 64 connections each (an eighth of what is left),
// the TCP listener the rest up to 1,024, of which a quarter (at least 4,
// at most 64) per source address and half unauthenticated. Each listener
// gets at least 4 connections, whatever the limit.
func DefaultLimits(nofile uint64) ListenerLimits {
	var budget int
	if m := DescriptorMargin(nofile); nofile > m {
		budget = int(min(nofile-m, 1<<20))
	}
	side := max(4, min(64, budget/8))
	tcp := max(4, min(1024, budget-2*side))
	return ListenerLimits{
		Unix:    ConnLimits{Total: side},
		Metrics: ConnLimits{Total: side, PerSource: side},
		TCP: ConnLimits{
			Total:           tcp,
			PerSource:       max(4, min(64, tcp/4)),
			Unauthenticated: max(4, tcp/2),
		},
	}
}

// LimitedListener is a listener whose connections are capped by
// ConnLimits, and whose Accept waits out a lack of descriptors instead of
// failing. Make it with Limit.
type LimitedListener struct {
	net.Listener
	lim ConnLimits
	log *slog.Logger

	mu      sync.Mutex
	open    int
	unauth  int
	sources map[netip.Addr]int

	refusedTotal, refusedSource, refusedUnauth, acceptErrors atomic.Uint64
	lastLog                                                  atomic.Int64 // unix nanoseconds of the last refusal logged
}

// Limit returns ln with the caps of lim. log receives at most one line a
// second about refused connections and failed accepts; nil discards.
func Limit(ln net.Listener, lim ConnLimits, log *slog.Logger) *LimitedListener {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if lim.UnauthenticatedTimeout <= 0 {
		lim.UnauthenticatedTimeout = DefaultUnauthenticatedTimeout
	}
	return &LimitedListener{Listener: ln, lim: lim, log: log, sources: map[netip.Addr]int{}}
}

// Limits returns the caps of l.
func (l *LimitedListener) Limits() ConnLimits { return l.lim }

// Stats returns l's counters.
func (l *LimitedListener) Stats() ConnStats {
	l.mu.Lock()
	open := l.open
	l.mu.Unlock()
	return ConnStats{
		Open: open,
		Refused: map[string]uint64{
			RefusedTotal:           l.refusedTotal.Load(),
			RefusedPerSource:       l.refusedSource.Load(),
			RefusedUnauthenticated: l.refusedUnauth.Load(),
		},
		AcceptErrors: l.acceptErrors.Load(),
	}
}

// Accept waits for a connection within the caps and returns it. A
// connection over a cap is closed at once, and counted; an accept that
// fails for want of descriptors is retried after a pause (5 ms, doubling
// up to 1 s) rather than returned, so that the server neither spins nor
// logs each failure.
func (l *LimitedListener) Accept() (net.Conn, error) {
	var pause time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !isTemporaryAccept(err) {
				return nil, err
			}
			l.acceptErrors.Add(1)
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			l.note("control: cannot accept a connection; retrying", "err", err, "retry_in", pause.String())
			time.Sleep(pause)
			continue
		}
		pause = 0
		if lc, ok := l.admit(c); ok {
			return lc, nil
		}
	}
}

// isTemporaryAccept reports whether an accept failed for want of
// resources that a later accept may find.
func isTemporaryAccept(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// admit takes c within the caps, or closes it and reports false.
func (l *LimitedListener) admit(c net.Conn) (*limitedConn, bool) {
	src := remoteAddr(c)
	l.mu.Lock()
	var refused *atomic.Uint64
	var reason string
	switch {
	case l.lim.Total > 0 && l.open >= l.lim.Total:
		refused, reason = &l.refusedTotal, RefusedTotal
	case l.lim.PerSource > 0 && src.IsValid() && l.sources[src] >= l.lim.PerSource:
		refused, reason = &l.refusedSource, RefusedPerSource
	case l.lim.Unauthenticated > 0 && l.unauth >= l.lim.Unauthenticated:
		refused, reason = &l.refusedUnauth, RefusedUnauthenticated
	}
	if refused != nil {
		l.mu.Unlock()
		// Counted before the close, so that whoever sees the close
		// (a client, a test) finds it counted.
		refused.Add(1)
		c.Close()
		l.note("control: connection refused: too many open", "cap", reason, "remote", c.RemoteAddr().String())
		return nil, false
	}
	l.open++
	if src.IsValid() {
		l.sources[src]++
	}
	lc := &limitedConn{Conn: c, l: l, src: src}
	if l.lim.Unauthenticated > 0 {
		l.unauth++
		lc.unauth = true
		lc.timer = time.AfterFunc(l.lim.UnauthenticatedTimeout, lc.expire)
	}
	l.mu.Unlock()
	return lc, true
}

// note logs msg, unless a line was logged less than a second ago.
func (l *LimitedListener) note(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last < int64(time.Second) || !l.lastLog.CompareAndSwap(last, now) {
		return
	}
	st := l.Stats()
	args = append(args, "refused_total", st.Refused[RefusedTotal], "refused_per_source", st.Refused[RefusedPerSource],
		"refused_unauthenticated", st.Refused[RefusedUnauthenticated], "accept_errors", st.AcceptErrors)
	l.log.Warn(msg, args...)
}

// remoteAddr returns the IP address c comes from, or the zero Addr (a
// Unix socket).
func remoteAddr(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	return netip.Addr{}
}

// limitedConn is a connection a LimitedListener accepted; closing it
// gives its place back.
type limitedConn struct {
	net.Conn
	l      *LimitedListener
	src    netip.Addr
	timer  *time.Timer // closes the connection if it stays unauthenticated
	unauth bool        // guarded by l.mu
	closed bool        // guarded by l.mu
}

// authenticate marks c as having presented a valid token.
func (c *limitedConn) authenticate() {
	c.l.mu.Lock()
	if c.unauth && !c.closed {
		c.unauth = false
		c.l.unauth--
		c.timer.Stop()
	}
	c.l.mu.Unlock()
}

// expire closes c if it has not presented a valid token.
func (c *limitedConn) expire() {
	c.l.mu.Lock()
	unauth := c.unauth
	c.l.mu.Unlock()
	if unauth {
		c.Close()
	}
}

// Close closes the connection and gives its place back.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	l := c.l
	l.mu.Lock()
	if !c.closed {
		c.closed = true
		l.open--
		if c.src.IsValid() {
			if l.sources[c.src]--; l.sources[c.src] <= 0 {
				delete(l.sources, c.src)
			}
		}
		if c.unauth {
			c.unauth = false
			l.unauth--
			c.timer.Stop()
		}
	}
	l.mu.Unlock()
	return err
}

// connKey is the context key of the connection a request arrived on.
type connKey struct{}

// withConn returns ctx carrying c, for RequireToken to mark it
// authenticated.
func withConn(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*limitedConn); ok {
		return context.WithValue(ctx, connKey{}, lc)
	}
	return ctx
}

// authenticated marks the connection of ctx, if any, as having presented
// a valid token.
func authenticated(ctx context.Context) {
	if lc, ok := ctx.Value(connKey{}).(*limitedConn); ok {
		lc.authenticate()
	}
}

// connCollector exports the counters of the control plane's listeners.
type connCollector struct {
	stats                       func() map[string]ConnStats
	open, refused, acceptErrors *prometheus.Desc
}

func newConnCollector(stats func() map[string]ConnStats) *connCollector {
	d := prometheus.NewDesc
	return &connCollector{
		stats:        stats,
		open:         d("leased_control_connections", "Connections open on the control API and metrics listeners, by listener (unix, tcp, metrics).", []string{"listener"}, nil),
		refused:      d("leased_control_connections_refused_total", "Connections closed as soon as accepted, over a cap, by listener and cap (total, per-source, unauthenticated).", []string{"listener", "reason"}, nil),
		acceptErrors: d("leased_control_accept_errors_total", "Accepts that failed for want of descriptors or memory, and were retried after a pause, by listener.", []string{"listener"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *connCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.refused
	ch <- c.acceptErrors
}

// Collect implements prometheus.Collector.
func (c *connCollector) Collect(ch chan<- prometheus.Metric) {
	for name, st := range c.stats() {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(st.Open), name)
		ch <- prometheus.MustNewConstMetric(c.acceptErrors, prometheus.CounterValue, float64(st.AcceptErrors), name)
		for _, r := range []string{RefusedTotal, RefusedPerSource, RefusedUnauthenticated} {
			ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(st.Refused[r]), name, r)
		}
	}
}
