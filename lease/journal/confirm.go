package journal

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"leased/lease"
)

// DefaultConfirmFlush is how long a DNS confirmation waits, by default,
// for a commit to be written with before the writer writes it alone.
const DefaultConfirmFlush = time.Second

// ConfirmDNS implements lease.DNSConfirmer. When the live record of addr
// has the given Start (to the nanosecond, as the store keeps it), it sets
// the record's DNS state to st at once, for All to see, and adds a small
// confirmation record to the next batch, without waiting for it: the
// confirmation is written and synced together with the next commits, or
// alone after Options.ConfirmFlush when none come, and by Close. A crash
// before then loses it, and the DNS updates of the record are done again
// after the restart. Replaying a confirmation changes the record only if
// it still has that Start. ConfirmDNS reports whether it changed a record:
// not when addr has no record, when its record has another Start (a later
// commit replaced it) or already has the state st.
func (s *Store) ConfirmDNS(ctx context.Context, addr netip.Addr, start time.Time, st lease.DNSState) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if s.readOnly {
		return false, ErrReadOnly
	}
	if !addr.Is4() {
		return false, fmt.Errorf("journal: confirm DNS of %v: not an IPv4 address", addr)
	}
	if st > lease.DNSRemoved {
		return false, fmt.Errorf("journal: confirm DNS of %v: invalid DNS state %d", addr, st)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, lease.ErrClosed
	}
	b := s.pending
	if len(b.buf) > maxPending {
		return false, ErrBusy
	}
	a := addr.As4()
	s.stateMu.Lock()
	changed := s.st.confirm(uint32(a[0])<<24|uint32(a[1])<<16|uint32(a[2])<<8|uint32(a[3]), start, st)
	if changed {
		s.liveBytes.Store(s.st.liveBytes)
	}
	s.stateMu.Unlock()
	if !changed {
		return false, nil
	}
	if b.count == 0 {
		b.confirmAt = s.now()
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
	b.buf = appendConfirm(b.buf, addr, start, st)
	b.count++
	b.confirms++
	s.confirms.Add(1)
	return true, nil
}

// confirm sets the DNS state of the record of key k to st if the record
// has the given start, and reports whether it changed it.
func (s *state) confirm(k uint32, start time.Time, st lease.DNSState) bool {
	ref, ok := s.live[k]
	if !ok {
		return false
	}
	old := s.arena.get(ref)
	if !payloadStart(old).Equal(start) || payloadDNSState(old) == st {
		return false
	}
	if old[0] == kindLeaseDNS {
		s.scratch = append(s.scratch[:0], old...)
		s.scratch[len(s.scratch)-1] = byte(st)
	} else {
		l, err := decodePayload(old)
		if err != nil {
			return false // cannot happen: only checked payloads enter the arena
		}
		l.DNSState = st
		s.scratch = appendPayload(s.scratch[:0], &l)
	}
	s.liveBytes += int64(len(s.scratch) - len(old))
	s.live[k] = s.arena.add(s.scratch)
	if s.dirty != nil {
		s.dirty[k] = struct{}{}
	}
	return true
}

// confirmsDue reports whether b, which holds confirmations and no
// commit, is to be written now, or else how long it may wait for a
// commit. s.mu is held.
func (s *Store) confirmsDue(b *batch) (bool, time.Duration) {
	if b.count == 0 {
		return false, 0
	}
	if s.closed {
		return true, 0
	}
	wait := b.confirmAt.Add(s.opts.ConfirmFlush).Sub(s.now())
	return wait <= 0, wait
}
