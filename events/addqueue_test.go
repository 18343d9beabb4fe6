package events

import (
	"context"
	"net/netip"
	"testing"
)

// TestAddQueuePublishesToTheCallersQueue: a queue added with AddQueue gets
// every published event, and its owner sees its counters, drops included.
func TestAddQueuePublishesToTheCallersQueue(t *testing.T) {
	q := NewQueue(1, 1, func(context.Context, *Record) {})
	var h *Hooks
	h = h.AddQueue(q)
	r := &Record{Type: Commit, Addr: netip.MustParseAddr("198.18.0.1")}
	h.Publish(r)
	h.Publish(r)
	if st := q.Stats(); st.Queued != 1 || st.Dropped != 1 {
		t.Errorf("queue stats %+v, want 1 queued and 1 dropped", st)
	}
}
