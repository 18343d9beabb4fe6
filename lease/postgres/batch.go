package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"leased/lease"
)

// batch is the records of many Commit calls, laid out as the arrays that
// leased_commit_dns takes: record i belongs to call calls[i], and the calls'
// records come one after the other.
type batch struct {
	waiters  []*waiter
	calls    []int32
	addrs    []netip.Addr
	clients  [][]byte
	hwTypes  []int16
	hwAddrs  [][]byte
	hosts    [][]byte
	states   []int16
	starts   []time.Time
	expiries []time.Time
	fqdns    []string
	dns      []int16
	dnsState []int16
	notes    []string
	// bytes holds the bytes of clients, hwAddrs and hosts, copied from
	// the callers' leases, and note the note being made: both are reused
	// from batch to batch, so that adding a lease costs one allocation
	// (its note's string) once they have grown.
	bytes []byte
	note  []byte
}

func newBatch() *batch { return &batch{} }

// add appends the leases of one call, waiting on w. Empty byte strings
// are sent as such, never as NULL.
func (b *batch) add(w *waiter, server string, leases []lease.Lease) {
	call := int32(len(b.waiters))
	b.waiters = append(b.waiters, w)
	for i := range leases {
		l := &leases[i]
		b.calls = append(b.calls, call)
		b.addrs = append(b.addrs, l.Addr)
		b.clients = append(b.clients, b.copyString(l.ClientID))
		b.hwTypes = append(b.hwTypes, int16(l.HW.Type))
		b.hwAddrs = append(b.hwAddrs, b.copy(l.HW.Bytes()))
		b.hosts = append(b.hosts, b.copyString(l.Hostname))
		b.states = append(b.states, int16(l.State))
		b.starts = append(b.starts, l.Start)
		b.expiries = append(b.expiries, l.Expiry)
		b.fqdns = append(b.fqdns, l.FQDN)
		b.dns = append(b.dns, int16(l.DNS))
		b.dnsState = append(b.dnsState, int16(l.DNSState))
		b.note = appendNote(b.note[:0], l)
		b.notes = append(b.notes, string(b.note))
	}
}

// copy returns a copy of p in b.bytes, never nil (an empty byte string
// is sent as such, never as NULL). When b.bytes grows, the copies made
// before keep the array they were made in; reset truncates it only once
// the batch is done.
func (b *batch) copy(p []byte) []byte {
	if len(p) == 0 {
		return []byte{}
	}
	start := len(b.bytes)
	b.bytes = append(b.bytes, p...)
	return b.bytes[start:len(b.bytes):len(b.bytes)]
}

// copyString is copy for a string.
func (b *batch) copyString(p string) []byte {
	if len(p) == 0 {
		return []byte{}
	}
	start := len(b.bytes)
	b.bytes = append(b.bytes, p...)
	return b.bytes[start:len(b.bytes):len(b.bytes)]
}

// reset empties b, keeping its arrays.
func (b *batch) reset() {
	clear(b.waiters)
	clear(b.clients)
	clear(b.hwAddrs)
	clear(b.hosts)
	clear(b.notes)
	clear(b.fqdns)
	b.waiters, b.calls, b.addrs, b.clients = b.waiters[:0], b.calls[:0], b.addrs[:0], b.clients[:0]
	b.hwTypes, b.hwAddrs, b.hosts, b.states = b.hwTypes[:0], b.hwAddrs[:0], b.hosts[:0], b.states[:0]
	b.starts, b.expiries, b.notes = b.starts[:0], b.expiries[:0], b.notes[:0]
	b.fqdns, b.dns, b.dnsState = b.fqdns[:0], b.dns[:0], b.dnsState[:0]
	b.bytes = b.bytes[:0]
}

// take returns the pending calls, up to Options.MaxBatch of them, or nil
// if there are none. spare, which must be empty, takes the place of the
// pending batch or carries the first calls of an oversized one.
func (s *Store) take(spare *batch) *batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending
	n := len(p.waiters)
	max := s.opts.MaxBatch
	switch {
	case n == 0:
		return nil
	case n <= max:
		s.pending = spare
		s.waiting -= n
		return p
	}
	recs := 0
	for recs < len(p.calls) && p.calls[recs] < int32(max) {
		recs++
	}
	move(&spare.waiters, &p.waiters, max)
	move(&spare.calls, &p.calls, recs)
	move(&spare.addrs, &p.addrs, recs)
	move(&spare.clients, &p.clients, recs)
	move(&spare.hwTypes, &p.hwTypes, recs)
	move(&spare.hwAddrs, &p.hwAddrs, recs)
	move(&spare.hosts, &p.hosts, recs)
	move(&spare.states, &p.states, recs)
	move(&spare.starts, &p.starts, recs)
	move(&spare.expiries, &p.expiries, recs)
	move(&spare.fqdns, &p.fqdns, recs)
	move(&spare.dns, &p.dns, recs)
	move(&spare.dnsState, &p.dnsState, recs)
	move(&spare.notes, &p.notes, recs)
	for i := range p.calls {
		p.calls[i] -= int32(max)
	}
	s.waiting -= max
	return spare
}

// move appends the first n elements of *src to *dst and removes them
// from *src.
func move[T any](dst, src *[]T, n int) {
	*dst = append(*dst, (*src)[:n]...)
	m := copy(*src, (*src)[n:])
	clear((*src)[m:])
	*src = (*src)[:m]
}

// write is the writer goroutine: it commits whatever is pending, one
// batch at a time, until the store closes. Calls that come while a batch
// is in the database wait for the next one, so batches grow with the
// load, and an idle store sends nothing.
func (s *Store) write() {
	defer s.done.Done()
	defer close(s.notes)
	spare := newBatch()
	for {
		closing := false
		select {
		case <-s.kick:
		case <-s.stop:
			closing = true
		}
		for b := s.take(spare); b != nil; b = s.take(spare) {
			s.commitBatch(b)
			b.reset()
			spare = b
		}
		if closing {
			return
		}
	}
}

const commitSQL = `SELECT o_call, o_addr, o_client, o_hw_type, o_hw_addr, o_hostname, o_state, o_start, o_expiry,
    o_fqdn, o_dns, o_dns_state
FROM leased_commit_dns($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

// commitBatch sends b to the database in one statement, which is one
// transaction, wakes its callers with their outcome, and then hands the
// notifications of the records written to the notifier.
func (s *Store) commitBatch(b *batch) {
	if s.down.Load() {
		s.finish(b, nil, s.unavailable())
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.CommitTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, commitSQL, b.args(s.opts.ServerID)...)
	var refused map[int32]*lease.ConflictError
	if err == nil {
		refused, err = readConflicts(rows)
	}
	s.batches.Add(1)
	if err != nil {
		s.writeErrors.Add(1)
		if isDataError(err) {
			s.finish(b, nil, fmt.Errorf("postgres: commit: %w", err))
			return
		}
		s.markDown(err)
		if ctx.Err() != nil {
			// The batch took longer than the commit timeout.
			s.finish(b, nil, fmt.Errorf("%w: %w", ErrTimeout, err))
			return
		}
		s.finish(b, nil, fmt.Errorf("%w: %w", ErrUnavailable, err))
		return
	}
	s.lastGood.Store(time.Now().UnixNano())
	s.finish(b, refused, nil)
	if p := b.payloads(s.opts.ServerID, refused, nil); len(p) > 0 {
		s.notes <- p
	}
}

// args returns the arguments of commitSQL for b, the arrays in the
// forms that pgx encodes without an allocation per element (arrays.go).
func (b *batch) args(server string) []any {
	return []any{server, int32Array(b.calls), addrArray(b.addrs), byteaArray(b.clients),
		b.hwTypes, byteaArray(b.hwAddrs), byteaArray(b.hosts), b.states, timeArray(b.starts),
		timeArray(b.expiries), textArray(b.fqdns), b.dns, b.dnsState}
}

// readConflicts reads the refused calls of a batch.
func readConflicts(rows pgx.Rows) (map[int32]*lease.ConflictError, error) {
	defer rows.Close()
	var out map[int32]*lease.ConflictError
	for rows.Next() {
		var call int32
		var r row
		if err := rows.Scan(&call, &r.addr, &r.client, &r.hwType, &r.hwAddr, &r.host, &r.state, &r.start, &r.expiry,
			&r.fqdn, &r.dns, &r.dnsState); err != nil {
			return nil, err
		}
		if out == nil {
			out = make(map[int32]*lease.ConflictError)
		}
		l := r.lease()
		out[call] = &lease.ConflictError{Addr: l.Addr, Holder: l}
	}
	return out, rows.Err()
}

// finish wakes the callers of b: those refused with their conflict, the
// others with err.
func (s *Store) finish(b *batch, refused map[int32]*lease.ConflictError, err error) {
	for i, w := range b.waiters {
		ce := refused[int32(i)]
		counted := w.state.CompareAndSwap(waiting, done) // else the caller gave up and counted it
		switch {
		case ce != nil:
			if counted {
				s.conflicts.Add(1)
				s.failedCommits.Add(1)
			}
			w.done <- ce
		case err != nil:
			if counted {
				s.failedCommits.Add(1)
				if errors.Is(err, ErrTimeout) {
					s.timedOut.Add(1)
				}
			}
			w.done <- err
		default:
			if counted {
				s.commits.Add(1)
			}
			w.done <- nil
		}
	}
	if err == nil {
		for _, c := range b.calls {
			if refused[c] == nil {
				s.records.Add(1)
			}
		}
	}
}

// isDataError reports whether err is the database refusing the
// statement itself (a PostgreSQL error other than a connection,
// resource or operator problem), which says nothing about whether the
// database is reachable.
func isDataError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return false
	}
	switch pe.Code[:2] {
	case "08", "53", "57", "58", "XX":
		return false
	}
	return true
}
