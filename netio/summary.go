package netio

import (
	"sync"
	"time"
)

// logSummary turns a burst of events that would each deserve a log line
// into at most one line per interval: the first event of a burst is
// written at once, and the later ones are counted and written as one
// line, with their number, once the interval since the last line has
// passed (by the next event, or by flush). No event goes unreported and
// none is reported twice. It is safe for concurrent use.
type logSummary struct {
	every time.Duration

	mu      sync.Mutex
	last    time.Time // when the last line was written; zero: never
	pending uint64    // events since the last line, not yet written
	lastErr error     // the error of the latest pending event
}

// note records an event with err at now. When a line is due, it returns
// how many events the line reports (this one included), and ok true.
func (l *logSummary) note(now time.Time, err error) (n uint64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending++
	l.lastErr = err
	if !l.due(now) {
		return 0, false
	}
	return l.take(now), true
}

// flush returns the number of events noted since the last line, with the
// error of the latest, when there are some and a line is due at now; else
// 0.
func (l *logSummary) flush(now time.Time) (n uint64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending == 0 || !l.due(now) {
		return 0, nil
	}
	err = l.lastErr
	return l.take(now), err
}

// drain is flush whether a line is due or not: for the last line when
// the server stops.
func (l *logSummary) drain() (n uint64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	err = l.lastErr
	return l.take(l.last), err
}

// due reports whether a line may be written at now; l.mu is held.
func (l *logSummary) due(now time.Time) bool {
	return l.last.IsZero() || now.Sub(l.last) >= l.every || now.Before(l.last)
}

// take ends the pending count at a line written at now; l.mu is held.
func (l *logSummary) take(now time.Time) uint64 {
	n := l.pending
	l.pending, l.lastErr, l.last = 0, nil, now
	return n
}
