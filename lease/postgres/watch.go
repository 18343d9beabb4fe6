package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"leased/lease"
)

// Watch implements lease.Watcher. It listens, on a connection of its
// own, to the notifications that every server's commits send (the
// leased_commit function notifies channel leased_leases with each
// committed record, in commit order, naming the server), and skips this
// store's own. After connecting, and after every reconnection, it reads
// all the records (a resync); it listens before it reads, so that no
// change falls between the two. While the database is unreachable it
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
// fails or ctx ends. It calls connected once the resync succeeded.
func (s *Store) watchOnce(ctx context.Context, fn func(lease.Change), connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
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
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		server, notes, err := parseNotification(n.Payload)
		if err != nil {
			s.log.Warn("lease database: ignoring a malformed notification", "channel", n.Channel)
			continue
		}
		if server == s.opts.ServerID {
			continue
		}
		for _, note := range notes {
			l, err := parseNote(note)
			if err != nil {
				s.log.Warn("lease database: ignoring a malformed notification", "channel", n.Channel, "from", server)
				continue
			}
			fn(lease.Change{Kind: lease.Changed, Lease: l})
		}
	}
}
