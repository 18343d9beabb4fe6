package postgres

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"leased/lease"
)

// confirmSQL sets the DNS state of the record of $1 to $3 when its start
// is $2, in a statement, and so a transaction, of its own. It commits
// without waiting for the WAL flush (synchronous_commit off for that
// transaction): a confirmation lost in a crash of the database only
// makes a DNS update be done again.
const confirmSQL = `WITH s AS (SELECT set_config('synchronous_commit', 'off', true))
UPDATE leased_leases SET dns_state = $3 FROM s WHERE addr = $1 AND start_time = $2 AND dns_state <> $3`

// ConfirmDNS implements lease.DNSConfirmer: it sets the DNS state of the
// record of addr to st when the record's Start is start, to the
// microsecond (the database's precision), and reports whether it changed
// a record. It runs its own statement on a connection of the pool, never
// within a commit's batch, and one at a time, so that confirmations never
// take the connections the commits need. It does not notify the other
// servers: their view of the addresses does not depend on it. It fails
// at once while the database is unreachable, and with the context's
// error, or after Options.CommitTimeout, when the database is slow.
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
	select {
	case s.confirmSem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.confirmSem }()
	tag, err := s.pool.Exec(ctx, confirmSQL, addr, start.Truncate(time.Microsecond), int16(st))
	if err != nil {
		return false, fmt.Errorf("postgres: confirm DNS of %v: %w", addr, err)
	}
	return tag.RowsAffected() > 0, nil
}
