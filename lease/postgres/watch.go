package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"leased/lease"
)

// Watch implements lease.Watcher. It listens, on a connection of its
// own, to the notifications that every server sends after its commits
// (on channel leased_leases, each committed record, in commit order,
// naming the server), and skips this store's own. After connecting,
// after every reconnection, and every Options.ResyncInterval, it reads
// all the records (a resync); it listens before it reads, so that no
// change falls between the two, and the periodic resync delivers the
// changes whose notification was lost. While the database is unreachable it
// tries again, pausing up to a second between attempts. It returns
// ctx.Err() when ctx ends, or lease.ErrClosed when the store closes.
func (s *Store) Watch(ctx context.Context, fn func(lease.Change)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	backoff := firstBackoff
	failing := false // log a failure once, until a resync succeeds
	for {
		err := s.watchOnce(ctx, fn, func() {
			backoff = firstBackoff
			if failing {
				s.log.Info("lease database: watching the other servers' changes again")
				failing = false
			}
		})
		if s.isClosed() {
			return lease.ErrClosed
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !failing {
			s.log.Warn("lease database: watching the other servers' changes interrupted; resyncing when it is back", "err", err)
			failing = true
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// watchOnce connects, resyncs and delivers changes until the connection
// fails or ctx ends, resyncing again every Options.ResyncInterval. It
// calls connected once the first resync succeeded.
func (s *Store) watchOnce(ctx context.Context, fn func(lease.Change), connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	if err := resync(ctx, conn, fn); err != nil {
		return err
	}
	connected()
	next := s.resyncDeadline(time.Now())
	for {
		n, err := waitForNotification(ctx, conn, next)
		if err != nil {
			if ctx.Err() != nil || conn.IsClosed() || next.IsZero() || time.Now().Before(next) {
				return err
			}
			// The period ended: read every record again, in case a
			// notification was lost. Notifications that come meanwhile
			// wait in the connection, and are delivered after.
			if err := resync(ctx, conn, fn); err != nil {
				return err
			}
			next = s.resyncDeadline(time.Now())
			continue
		}
		s.deliver(n.Channel, n.Payload, fn)
	}
}

// waitForNotification waits for the next notification on conn until
// ctx ends or, unless it is zero, until deadline.
func waitForNotification(ctx context.Context, conn *pgx.Conn, deadline time.Time) (*pgconn.Notification, error) {
	if deadline.IsZero() {
		return conn.WaitForNotification(ctx)
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	return conn.WaitForNotification(ctx)
}

// resync delivers every record, between ResyncStart and ResyncEnd.
func resync(ctx context.Context, conn *pgx.Conn, fn func(lease.Change)) error {
	rows, err := conn.Query(ctx, selectLeases)
	if err != nil {
		return err
	}
	fn(lease.Change{Kind: lease.ResyncStart})
	if err := scanLeases(rows, func(l lease.Lease) bool {
		fn(lease.Change{Kind: lease.Changed, Lease: l})
		return true
	}); err != nil {
		return err
	}
	fn(lease.Change{Kind: lease.ResyncEnd})
	return nil
}

// deliver delivers the records of one notification, unless this store
// sent it.
func (s *Store) deliver(ch, payload string, fn func(lease.Change)) {
	server, notes, err := parseNotification(payload)
	if err != nil {
		s.log.Warn("lease database: ignoring a malformed notification", "channel", ch)
		return
	}
	if server == s.opts.ServerID {
		return
	}
	for _, note := range notes {
		l, err := parseNote(note)
		if err != nil {
			s.log.Warn("lease database: ignoring a malformed notification", "channel", ch, "from", server)
			continue
		}
		fn(lease.Change{Kind: lease.Changed, Lease: l})
	}
}
