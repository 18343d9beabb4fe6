package postgres

import (
	"context"
	"time"

	"leased/lease"
)

// maxNotification is the length under which the notes of a batch are
// joined into one notification (PostgreSQL refuses payloads of 8000
// bytes or more); a note longer than that goes alone.
const maxNotification = 7900

// notifySQL sends the payloads of $2, in order, on channel $1, in a
// transaction of its own. That transaction writes no table, but NOTIFY
// gives it a transaction id, and so a commit record: synchronous_commit
// off, for it alone, lets it commit without waiting for the WAL flush,
// so that it holds the database's notification lock only briefly. (A
// notification is not durable anyway: it is lost with the server.)
const notifySQL = `SELECT pg_notify($1, p)
FROM (SELECT set_config('synchronous_commit', 'off', true)) AS s, unnest($2::text[]) AS p`

// payloads appends to out the notifications of the records of b that
// were written (those of the calls not refused): "<server> " followed by
// their notes joined by ';', in notifications of under maxNotification
// bytes, split where schema version 2's leased_commit split them.
func (b *batch) payloads(server string, refused map[int32]*lease.ConflictError, out []string) []string {
	head := server + " "
	var cur []byte
	size := 0
	for i, note := range b.notes {
		if refused[b.calls[i]] != nil {
			continue
		}
		if size > 0 && len(head)+size+len(note) >= maxNotification {
			out = append(out, string(cur))
			size = 0
		}
		if size == 0 {
			cur = append(cur[:0], head...)
		} else {
			cur = append(cur, ';')
			size++
		}
		cur = append(cur, note...)
		size += len(note)
	}
	if size > 0 {
		out = append(out, string(cur))
	}
	return out
}

// notify is the notifier goroutine: it sends the notifications that the
// writer hands it, in the order of the commits, after those committed,
// so that a commit's callers never wait for them. What has queued up
// meanwhile goes in one statement. It returns when the writer closed
// s.notes (the store closes), after sending what was queued.
func (s *Store) notify() {
	defer s.done.Done()
	var queued []string
	failing := false
	for p := range s.notes {
		queued = append(queued[:0], p...)
	more:
		for {
			select {
			case p, ok := <-s.notes:
				if !ok {
					break more
				}
				queued = append(queued, p...)
			default:
				break more
			}
		}
		err := s.sendNotifications(queued)
		switch {
		case err != nil && !failing:
			s.log.Warn("lease database: cannot notify the other servers of this server's changes; they see them at their next resync",
				"err", err)
			failing = true
		case err == nil && failing:
			s.log.Info("lease database: notifying the other servers again")
			failing = false
		}
		clear(queued)
	}
}

// sendNotifications sends payloads on the channel, in one statement.
func (s *Store) sendNotifications(payloads []string) error {
	if len(payloads) == 0 || s.loseNotifications.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.CommitTimeout)
	defer cancel()
	_, err := s.pool.Exec(ctx, notifySQL, channel, payloads)
	return err
}

// resyncDeadline returns when Watch resyncs next, having resynced at
// now: the zero time (never) when Options.ResyncInterval is negative.
func (s *Store) resyncDeadline(now time.Time) time.Time {
	if s.opts.ResyncInterval < 0 {
		return time.Time{}
	}
	return now.Add(s.opts.ResyncInterval)
}
