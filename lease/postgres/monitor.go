package postgres

import (
	"context"
	"time"
)

// markDown records that the database could not be reached: Writable
// turns false, commits fail at once, and the monitor starts trying to
// reach the database again. The pool's connections are dropped, as they
// may all be dead.
func (s *Store) markDown(err error) {
	s.lastErr.Store(&err)
	if s.down.CompareAndSwap(false, true) {
		s.log.Warn("lease database unreachable: no lease is committed until it is back", "err", err)
		s.pool.Reset()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// monitor is the goroutine that watches the database's health. While the
// store is up, it checks that the database answers when no commit has
// reached it for a second, and counts the live records every
// countInterval; while the store is down, it tries to reach the database,
// pausing 50 ms at first and doubling up to a second between attempts.
func (s *Store) monitor() {
	defer s.done.Done()
	backoff := firstBackoff
	tick := time.NewTicker(healthInterval)
	defer tick.Stop()
	var counted time.Time
	for {
		wait := tick.C
		var retry <-chan time.Time
		if s.down.Load() {
			wait = nil
			retry = time.After(backoff)
		}
		select {
		case <-s.stop:
			return
		case <-s.wake:
		case <-wait:
			count := time.Since(counted) >= countInterval
			if !count && time.Since(time.Unix(0, s.lastGood.Load())) < healthInterval {
				continue // commits show that the database answers
			}
			if err := s.check(count); err != nil {
				s.markDown(err)
			} else if count {
				counted = time.Now()
			}
		case <-retry:
			if err := s.check(true); err != nil {
				s.lastErr.Store(&err)
				backoff = min(2*backoff, maxBackoff)
				continue
			}
			counted = time.Now()
			backoff = firstBackoff
			s.down.Store(false)
			s.reconnects.Add(1)
			s.log.Info("lease database reachable again: committing leases")
		}
	}
}

// countInterval is how often the monitor counts the live records.
const countInterval = 10 * time.Second

// check asks the database, within a second, whether it answers, and with
// count set how many records it holds.
func (s *Store) check(count bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if !count {
		if err := s.pool.Ping(ctx); err != nil {
			return err
		}
	} else {
		var n int64
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM leased_leases`).Scan(&n); err != nil {
			return err
		}
		s.liveRecords.Store(n)
	}
	s.lastGood.Store(time.Now().UnixNano())
	return nil
}
