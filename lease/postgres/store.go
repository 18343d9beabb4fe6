package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"leased/lease"
)

// ErrUnavailable is returned, wrapped together with the error that cut the
// store off, by Commit while the database is unreachable. See
// Store.Writable.
var ErrUnavailable = errors.New("postgres: the lease database is unreachable")

// ErrBusy is returned by Commit when more calls wait to be committed
// than Options.MaxWaiting allows: the database does not keep up.
var ErrBusy = errors.New("postgres: too many commits waiting for the lease database")

// ErrTimeout is returned by Commit when its leases were not committed
// within Options.CommitTimeout. They may still be committed later.
var ErrTimeout = errors.New("postgres: commit timed out")

// Default values of Options fields left zero.
const (
	DefaultCommitTimeout = 2 * time.Second
	DefaultMaxWaiting    = 4096
	DefaultMaxBatch      = 512
	DefaultMaxConns      = 4
	// DefaultResyncInterval is how often Watch reads every record again,
	// so that a change whose notification was lost reaches the other
	// servers within it.
	DefaultResyncInterval = time.Minute
)

const (
	// channel is the NOTIFY channel of lease changes.
	channel = "leased_leases"
	// maxBackoff caps the pause between attempts to reach the database.
	maxBackoff = time.Second
	// firstBackoff is the first such pause.
	firstBackoff = 50 * time.Millisecond
	// healthInterval is how often an idle store checks that the database
	// answers, so that Writable turns false without a failed commit.
	healthInterval = time.Second
	// maxCommit is the most leases one Commit may carry.
	maxCommit = 1000
	// notesQueued is the most batches whose notifications wait for the
	// notifier; the writer waits beyond it.
	notesQueued = 256
)

// Options configure Open.
type Options struct {
	// URL is the connection string, a postgres:// URL or keyword=value
	// pairs, as libpq takes them; TLS settings (sslmode, sslrootcert,
	// sslcert, sslkey) go in it. Unset settings come from the PG*
	// environment variables (PGHOST, PGPASSWORD, ...), as with libpq.
	URL string
	// Password, when set, is the password to log in with, taking
	// precedence over the URL and PGPASSWORD.
	Password string
	// ServerID names this server in the records it writes and in its
	// change notifications, so that Watch skips its own changes. It must
	// be unique among the servers sharing the database, at most 64
	// bytes, without spaces, commas or semicolons. "" means the host name
	// followed by a random suffix.
	ServerID string
	// CommitTimeout bounds how long a Commit waits, in line and in the
	// database; 0 means DefaultCommitTimeout.
	CommitTimeout time.Duration
	// MaxWaiting is the most Commit calls that may wait for the next
	// batch; beyond it Commit fails at once with ErrBusy. 0 means
	// DefaultMaxWaiting.
	MaxWaiting int
	// MaxBatch is the most Commit calls one transaction carries; 0 means
	// DefaultMaxBatch.
	MaxBatch int
	// MaxConns is the size of the connection pool (commits use one at a
	// time; All and the health checks take others); 0 means
	// DefaultMaxConns. Watch uses a connection of its own.
	MaxConns int
	// ResyncInterval is how often Watch reads every record again (a
	// resync), besides after every reconnection: a change whose
	// notification was lost (its server died between the commit and the
	// notification, or the notification failed) reaches the other
	// servers within it. 0 means DefaultResyncInterval, a negative value
	// never.
	ResyncInterval time.Duration
	// Logger receives the store's reports: lost and regained
	// connections. Nil discards them.
	Logger *slog.Logger
}

// withDefaults fills in the zero fields of o.
func (o Options) withDefaults() (Options, error) {
	if o.CommitTimeout <= 0 {
		o.CommitTimeout = DefaultCommitTimeout
	}
	if o.MaxWaiting <= 0 {
		o.MaxWaiting = DefaultMaxWaiting
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.ResyncInterval == 0 {
		o.ResyncInterval = DefaultResyncInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ServerID == "" {
		host, _ := os.Hostname()
		var b [4]byte
		rand.Read(b[:])
		o.ServerID = strings.Map(func(r rune) rune {
			if strings.ContainsRune(" ,;", r) {
				return '_'
			}
			return r
		}, host) + "-" + hex.EncodeToString(b[:])
	}
	if len(o.ServerID) > 64 || strings.ContainsAny(o.ServerID, " ,;\t\n") {
		return o, fmt.Errorf("postgres: server id %q: want at most 64 bytes without spaces, commas or semicolons", o.ServerID)
	}
	return o, nil
}

// parseConfig turns o into a pool configuration.
func parseConfig(o Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(o.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: connection string: %w", err)
	}
	if o.Password != "" {
		cfg.ConnConfig.Password = o.Password
	}
	if _, set := cfg.ConnConfig.RuntimeParams["application_name"]; !set {
		cfg.ConnConfig.RuntimeParams["application_name"] = "leased"
	}
	// leased_commit_dns relies on each statement seeing what committed
	// before it took its locks: read committed, whatever the database's
	// default.
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"
	if o.MaxConns > 0 {
		cfg.MaxConns = int32(o.MaxConns)
	}
	return cfg, nil
}

// Store is the PostgreSQL lease store. It implements lease.Store and
// lease.Watcher, and is safe for concurrent use.
type Store struct {
	opts Options
	log  *slog.Logger
	pool *pgxpool.Pool

	mu      sync.Mutex // guards closed, pending, waiting
	closed  bool
	pending *batch
	waiting int // calls in pending

	kick     chan struct{}    // wakes the writer
	notes    chan []string    // the writer's notifications, to the notifier; closed by the writer
	wake     chan struct{}    // wakes the monitor: the store went down
	stop     chan struct{}    // closed by Close
	confirms chan *confirmReq // ConfirmDNS calls, to the confirmer
	done     sync.WaitGroup
	waiters  sync.Pool // of *waiter
	down     atomic.Bool
	lastErr  atomic.Pointer[error]
	lastGood atomic.Int64 // unix nanoseconds of the last successful round trip

	commits, failedCommits, records, batches, conflicts atomic.Uint64
	refused, timedOut, writeErrors, reconnects          atomic.Uint64
	liveRecords                                         atomic.Int64

	// loseNotifications, set by tests, drops the notifications instead
	// of sending them, as if the server died right after each commit.
	loseNotifications atomic.Bool
}

// waiter is a Commit waiting for its batch. Its state goes from waiting
// to done when the writer reports the outcome, or to abandoned when the
// caller stops waiting first; whoever moves it counts the call.
type waiter struct {
	done  chan error
	state atomic.Int32
	timer *time.Timer // the commit timeout, stopped while w is idle
}

// The states of a waiter.
const (
	waiting int32 = iota
	done
	abandoned
)

// Open connects to the database, checks that its schema is the one this
// package knows (refusing an older one, ErrSchemaTooOld, and a newer one,
// ErrSchemaTooNew), and returns the store. It fails when the database
// cannot be reached: a server does not start without its leases.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg, err := parseConfig(opts)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	v, err := schemaVersion(ctx, pool)
	if err == nil {
		err = checkVersion(v)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{
		opts:    opts,
		log:     opts.Logger,
		pool:    pool,
		pending: newBatch(),
		kick:    make(chan struct{}, 1),
		notes:   make(chan []string, notesQueued),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),

		confirms: make(chan *confirmReq, maxConfirmBatch),
	}
	s.waiters.New = func() any {
		t := time.NewTimer(time.Hour)
		t.Stop()
		return &waiter{done: make(chan error, 1), timer: t}
	}
	s.lastGood.Store(time.Now().UnixNano())
	s.done.Add(4)
	go s.write()
	go s.notify()
	go s.monitor()
	go s.confirmer()
	return s, nil
}

// Dir says where the store is, for operators (the control API shows it
// where the journal shows its directory): "postgres://USER@HOST:PORT/DB",
// without credentials. For a Unix socket, HOST is the socket's directory.
func (s *Store) Dir() string {
	c := s.pool.Config().ConnConfig
	return fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// ServerID returns the name of this server in the store.
func (s *Store) ServerID() string { return s.opts.ServerID }

// Commit implements lease.Store. It returns after the leases are
// committed in the database, together with those of the other Commit
// calls that came meanwhile (group commit: one transaction and one round
// trip for them all). The leases apply all or none: when one of them
// would bind an address that another client holds, Commit records none
// and returns a *lease.ConflictError naming the holder; the other calls
// of the batch commit as usual.
//
// It fails at once when a lease is invalid, the store is closed
// (lease.ErrClosed), the database is unreachable (ErrUnavailable) or too
// many calls wait (ErrBusy); it fails with an error wrapping ErrTimeout
// when the commit took longer than Options.CommitTimeout, and with ctx's
// error when ctx ended first. In those two cases the leases may still be
// committed.
func (s *Store) Commit(ctx context.Context, leases ...lease.Lease) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(leases) > maxCommit {
		return fmt.Errorf("postgres: commit of %d leases, more than %d", len(leases), maxCommit)
	}
	for i := range leases {
		if err := leases[i].Validate(); err != nil {
			return err
		}
	}
	if len(leases) == 0 {
		return nil
	}
	w := s.waiters.Get().(*waiter)
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		s.waiters.Put(w)
		return lease.ErrClosed
	case s.down.Load():
		s.mu.Unlock()
		s.waiters.Put(w)
		s.failedCommits.Add(1)
		return s.unavailable()
	case s.waiting >= s.opts.MaxWaiting:
		s.mu.Unlock()
		s.waiters.Put(w)
		s.refused.Add(1)
		s.failedCommits.Add(1)
		return ErrBusy
	}
	s.waiting++
	s.pending.add(w, s.opts.ServerID, leases)
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	// The waiter's own timer: a timer made per call would cost two
	// allocations. A stopped timer sends nothing afterwards.
	w.timer.Reset(s.opts.CommitTimeout)
	defer w.timer.Stop()
	var err error
	gaveUp := true
	select {
	case err = <-w.done:
		gaveUp = false
	case <-w.timer.C:
		err = ErrTimeout
	case <-ctx.Done():
		err = ctx.Err()
	}
	if gaveUp {
		if w.state.CompareAndSwap(waiting, abandoned) {
			// The writer still holds w and will send to it; leave w to
			// the garbage collector. It counts nothing for this call.
			if err == ErrTimeout {
				s.timedOut.Add(1)
			}
			s.failedCommits.Add(1)
			return err
		}
		err = <-w.done // the outcome came meanwhile: report it
	}
	w.state.Store(waiting)
	s.waiters.Put(w)
	return err
}

// unavailable returns the error of a commit refused while the database
// is unreachable.
func (s *Store) unavailable() error {
	if e := s.lastErr.Load(); e != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, *e)
	}
	return ErrUnavailable
}

// Writable reports whether the store can commit now: false from when a
// commit or a health check fails to reach the database (checked every
// second while idle) until the store reached it again, which it tries on
// its own, pausing up to a second between attempts. It is cheap enough to
// ask before every commit.
func (s *Store) Writable() bool { return !s.down.Load() && !s.isClosed() }

func (s *Store) isClosed() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// All implements lease.Store: it reads every record from the database.
// A read that fails is logged and ends the walk early; Scan reports it.
func (s *Store) All(fn func(lease.Lease) bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Scan(ctx, fn); err != nil {
		s.log.Error("lease database: cannot read the leases", "err", err)
	}
}

// Scan calls fn for every record in the database, in address order,
// until fn returns false, and returns the error that stopped it early.
func (s *Store) Scan(ctx context.Context, fn func(lease.Lease) bool) error {
	rows, err := s.pool.Query(ctx, selectLeases)
	if err != nil {
		return fmt.Errorf("postgres: read the leases: %w", err)
	}
	return scanLeases(rows, fn)
}

// Close stops the store: the commits waiting are made, then the
// connections close. Commit fails with lease.ErrClosed after Close; a
// second Close returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	s.done.Wait()
	s.pool.Close()
	return nil
}

// StoreStats returns what operators watch of the store. Batches counts
// the round trips to the database, one transaction each. FreeBytes is -1:
// the room left is the database's business (and its operator's).
func (s *Store) StoreStats() lease.StoreStats {
	return lease.StoreStats{
		Writable:      s.Writable(),
		Commits:       s.commits.Load(),
		FailedCommits: s.failedCommits.Load(),
		Records:       s.records.Load(),
		Batches:       s.batches.Load(),
		WriteErrors:   s.writeErrors.Load(),
		Conflicts:     s.conflicts.Load(),
		Refused:       s.refused.Load(),
		TimedOut:      s.timedOut.Load(),
		Reconnects:    s.reconnects.Load(),
		LiveRecords:   s.liveRecords.Load(),
		FreeBytes:     -1,
	}
}
