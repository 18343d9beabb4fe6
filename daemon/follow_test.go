package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"testing"

	"leased/lease"
)

// scriptedWatcher plays changes to Watch, then waits for ctx.
type scriptedWatcher struct {
	changes []lease.Change
	err     error // returned at once instead, when set
}

func (w *scriptedWatcher) Watch(ctx context.Context, fn func(lease.Change)) error {
	if w.err != nil {
		return w.err
	}
	for _, c := range w.changes {
		fn(c)
	}
	<-ctx.Done()
	return ctx.Err()
}

// recordingObserver notes what it is given, as "observe ADDR" and
// "resync ADDR,ADDR".
type recordingObserver struct {
	calls []string
	done  chan struct{}
	want  int
}

func (o *recordingObserver) note(s string) {
	o.calls = append(o.calls, s)
	if len(o.calls) == o.want {
		close(o.done)
	}
}

func (o *recordingObserver) Observe(l lease.Lease) { o.note("observe " + l.Addr.String()) }

func (o *recordingObserver) Resync(all func(fn func(lease.Lease) bool)) {
	s := "resync"
	all(func(l lease.Lease) bool { s += " " + l.Addr.String(); return true })
	o.note(s)
}

func changed(a string) lease.Change {
	return lease.Change{Kind: lease.Changed, Lease: lease.Lease{Addr: netip.MustParseAddr(a), State: lease.Bound}}
}

func TestFollowStore(t *testing.T) {
	w := &scriptedWatcher{changes: []lease.Change{
		{Kind: lease.ResyncStart}, changed("198.18.0.10"), changed("198.18.0.11"), {Kind: lease.ResyncEnd},
		changed("198.18.0.12"),
		{Kind: lease.ResyncStart}, {Kind: lease.ResyncEnd}, // a reconnection to an empty store
	}}
	o := &recordingObserver{done: make(chan struct{}), want: 3}
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	go func() { FollowStore(ctx, w, o, slog.New(slog.DiscardHandler)); close(finished) }()
	<-o.done
	cancel()
	<-finished
	want := []string{"resync 198.18.0.10 198.18.0.11", "observe 198.18.0.12", "resync"}
	if !slices.Equal(o.calls, want) {
		t.Fatalf("calls %q, want %q", o.calls, want)
	}
}

func TestFollowStoreReturnsWhenTheStoreCannotWatch(t *testing.T) {
	o := &recordingObserver{done: make(chan struct{}), want: 1}
	FollowStore(context.Background(), &scriptedWatcher{err: errors.New("store closed")}, o, slog.New(slog.DiscardHandler))
	if len(o.calls) != 0 {
		t.Fatalf("calls %q, want none", o.calls)
	}
}
