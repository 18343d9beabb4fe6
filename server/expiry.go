package server

import (
	"net/netip"
	"time"

	"leased/lease"
)

// arm makes sure a timer is queued no later than b's expiry. A binding has
// at most one live timer: a renewal keeps the earlier timer, which re-arms
// itself when it fires early, so the heap stays about one entry per active
// binding however often clients renew.
func (s *subnet) arm(b *binding) {
	at := b.expiry.UnixNano()
	if b.timerAt != 0 && b.timerAt <= at {
		return
	}
	b.timerAt = at
	s.timers.push(timer{at: at, addr: b.addr.As4()})
}

// sweep reclaims up to limit lapsed bindings; more reports whether some
// due timers are left.
func (s *subnet) sweep(now time.Time, limit int, expired ExpiredFunc) (n int, more bool) {
	ns := now.UnixNano()
	for s.timers.len() > 0 && s.timers.top().at <= ns {
		if n >= limit {
			return n, true
		}
		t := s.timers.pop()
		b := s.bindings[netip.AddrFrom4(t.addr)]
		if b == nil || b.timerAt != t.at {
			continue // stale: the binding went away or re-armed earlier
		}
		b.timerAt = 0
		if !b.state.active() {
			continue
		}
		if now.Before(b.expiry) {
			s.arm(b) // renewed since: wait for the new expiry
			continue
		}
		wasBound := b.state == stBound
		s.refresh(b, now)
		if wasBound && expired != nil {
			l := b.record(lease.Expired)
			expired(s.prefix, &l)
		}
		n++
	}
	return n, false
}

// timer is a pending expiry check of the binding of addr.
type timer struct {
	at   int64 // Unix ns
	addr [4]byte
}

// expiryHeap is a min-heap of timers by time.
type expiryHeap struct{ t []timer }

func (h *expiryHeap) len() int   { return len(h.t) }
func (h *expiryHeap) top() timer { return h.t[0] }

func (h *expiryHeap) push(x timer) {
	h.t = append(h.t, x)
	i := len(h.t) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h.t[i].at >= h.t[p].at {
			break
		}
		h.t[i], h.t[p] = h.t[p], h.t[i]
		i = p
	}
}

func (h *expiryHeap) pop() timer {
	x := h.t[0]
	last := len(h.t) - 1
	h.t[0] = h.t[last]
	h.t = h.t[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h.t) && h.t[l].at < h.t[m].at {
			m = l
		}
		if r < len(h.t) && h.t[r].at < h.t[m].at {
			m = r
		}
		if m == i {
			break
		}
		h.t[i], h.t[m] = h.t[m], h.t[i]
		i = m
	}
	return x
}
