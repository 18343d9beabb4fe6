package postgres

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"leased/lease"
)

// maxConfirmBatch is the most confirmations one statement carries.
const maxConfirmBatch = 1000

// confirmSQL sets the DNS state of the records of a batch of
// confirmations: of each address $1[i] to $3[i] when its start is $2[i],
// and returns the addresses of the records it changed. It runs as a
// statement, and so a transaction, of its own, which commits without
// waiting for the WAL flush (synchronous_commit off for that
// transaction): a confirmation lost in a crash of the database only
// makes a DNS update be done again.
const confirmSQL = `WITH s AS (SELECT set_config('synchronous_commit', 'off', true))
UPDATE leased_leases AS l SET dns_state = c.st
FROM s, unnest($1::inet[], $2::timestamptz[], $3::smallint[]) AS c(addr, start_time, st)
WHERE l.addr = c.addr AND l.start_time = c.start_time AND l.dns_state <> c.st
RETURNING l.addr`

// confirmReq is a ConfirmDNS call waiting for its batch.
type confirmReq struct {
	addr  netip.Addr
	start time.Time
	st    lease.DNSState
	done  chan confirmResult // buffered: the confirmer never waits on it
}

type confirmResult struct {
	changed bool
	err     error
}

// ConfirmDNS implements lease.DNSConfirmer: it sets the DNS state of the
// record of addr to st when the record's Start is start, to the
// microsecond (the database's precision), and reports whether it changed
// the record. Confirmations are not sent with the commits: a goroutine of
// their own sends those that are waiting in one statement on one
// connection of the pool, while the commits go on on another, as group
// commit does for the commits. It does not notify the other servers:
// their view of the addresses does not depend on it. It fails at once
// while the database is unreachable, and with the context's error, or
// after Options.CommitTimeout, when the database is slow; the
// confirmation may then still be made.
func (s *Store) ConfirmDNS(ctx context.Context, addr netip.Addr, start time.Time, st lease.DNSState) (bool, error) {
	if !addr.Is4() {
		return false, fmt.Errorf("postgres: confirm DNS of %v: not an IPv4 address", addr)
	}
	if st > lease.DNSRemoved {
		return false, fmt.Errorf("postgres: confirm DNS of %v: invalid DNS state %d", addr, st)
	}
	if s.isClosed() {
		return false, lease.ErrClosed
	}
	if s.down.Load() {
		return false, s.unavailable()
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.CommitTimeout)
	defer cancel()
	req := &confirmReq{addr: addr, start: start.Truncate(time.Microsecond), st: st, done: make(chan confirmResult, 1)}
	select {
	case s.confirms <- req:
	case <-s.stop:
		return false, lease.ErrClosed
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case r := <-req.done:
		return r.changed, r.err
	case <-s.stop:
		return false, lease.ErrClosed
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// confirmer is the goroutine that sends the confirmations: all those
// waiting, up to maxConfirmBatch, in one statement, until the store
// closes.
func (s *Store) confirmer() {
	defer s.done.Done()
	var batch []*confirmReq
	for {
		select {
		case r := <-s.confirms:
			batch = append(batch[:0], r)
		case <-s.stop:
			return
		}
	more:
		for len(batch) < maxConfirmBatch {
			select {
			case r := <-s.confirms:
				batch = append(batch, r)
			default:
				break more
			}
		}
		s.confirmBatch(batch)
		clear(batch)
	}
}

// confirmBatch sends the confirmations of batch and tells each caller
// its outcome. Of two confirmations of one address in a batch, the later
// one is sent, and both callers get its outcome.
func (s *Store) confirmBatch(batch []*confirmReq) {
	last := make(map[netip.Addr]int, len(batch))
	for i, r := range batch {
		last[r.addr] = i
	}
	addrs := make([]netip.Addr, 0, len(last))
	starts := make([]time.Time, 0, len(last))
	states := make([]int16, 0, len(last))
	for i, r := range batch {
		if last[r.addr] == i {
			addrs = append(addrs, r.addr)
			starts = append(starts, r.start)
			states = append(states, int16(r.st))
		}
	}
	changed, err := s.sendConfirms(addrs, starts, states)
	for _, r := range batch {
		r.done <- confirmResult{changed: changed[r.addr], err: err}
	}
}

// sendConfirms runs confirmSQL and returns the addresses whose record it
// changed.
func (s *Store) sendConfirms(addrs []netip.Addr, starts []time.Time, states []int16) (map[netip.Addr]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.CommitTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, confirmSQL, addrArray(addrs), timeArray(starts), states)
	if err != nil {
		return nil, fmt.Errorf("postgres: confirm DNS updates: %w", err)
	}
	defer rows.Close()
	changed := make(map[netip.Addr]bool)
	for rows.Next() {
		var a netip.Addr
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("postgres: confirm DNS updates: %w", err)
		}
		changed[a.Unmap()] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: confirm DNS updates: %w", err)
	}
	return changed, nil
}
