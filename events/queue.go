package events

import (
	"context"
	"sync"
	"sync/atomic"
)

// Handler acts on one event; it runs on a Queue's worker.
type Handler func(ctx context.Context, r *Record)

// QueueStats count what went through a Queue.
type QueueStats struct {
	// Queued counts the events accepted, Done those handled, Dropped
	// those refused because the ring of their worker was full.
	Queued, Done, Dropped uint64
	// Pending is the number of events waiting now.
	Pending int
}

// Queue is a bounded queue of lease events worked by a fixed pool of
// workers. Offer never blocks and never allocates: the ring is allocated
// once. Events of one address go to the same worker, in order.
type Queue struct {
	shards                []shard
	handle                Handler
	queued, done, dropped atomic.Uint64
}

// shard is the ring of one worker.
type shard struct {
	mu   sync.Mutex
	ring []Record
	head int // index of the oldest record
	n    int // records in the ring
	wake chan struct{}
	_    [40]byte // keep shards' locks on separate cache lines
}

// NewQueue returns a queue of capacity events in all, worked by workers
// goroutines (at least 1) once Run starts them; each worker's ring holds
// capacity/workers events (at least 1).
func NewQueue(capacity, workers int, h Handler) *Queue {
	workers = max(workers, 1)
	per := max(capacity/workers, 1)
	q := &Queue{shards: make([]shard, workers), handle: h}
	for i := range q.shards {
		q.shards[i].ring = make([]Record, per)
		q.shards[i].wake = make(chan struct{}, 1)
	}
	return q
}

// Offer queues a copy of r and reports whether there was room; when there
// was none the event is dropped and counted. It never blocks.
func (q *Queue) Offer(r *Record) bool {
	sh := &q.shards[q.shardOf(r)]
	sh.mu.Lock()
	if sh.n == len(sh.ring) {
		sh.mu.Unlock()
		q.dropped.Add(1)
		return false
	}
	i := sh.head + sh.n
	if i >= len(sh.ring) {
		i -= len(sh.ring)
	}
	sh.ring[i] = *r
	sh.n++
	sh.mu.Unlock()
	q.queued.Add(1)
	select {
	case sh.wake <- struct{}{}:
	default:
	}
	return true
}

// shardOf picks the worker of r's address.
func (q *Queue) shardOf(r *Record) int {
	if len(q.shards) == 1 {
		return 0
	}
	a := r.Addr.As16()
	h := uint32(2166136261) // FNV-1a
	for _, c := range a[12:] {
		h ^= uint32(c)
		h *= 16777619
	}
	return int(h % uint32(len(q.shards)))
}

// Run works the queue until ctx ends; the events still queued then are
// left. It returns when every worker has stopped.
func (q *Queue) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range q.shards {
		wg.Go(func() { q.work(ctx, &q.shards[i]) })
	}
	wg.Wait()
}

func (q *Queue) work(ctx context.Context, sh *shard) {
	var r Record
	for {
		sh.mu.Lock()
		if sh.n == 0 {
			sh.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-sh.wake:
				continue
			}
		}
		r = sh.ring[sh.head]
		sh.ring[sh.head] = Record{}
		sh.head++
		if sh.head == len(sh.ring) {
			sh.head = 0
		}
		sh.n--
		sh.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		q.handle(ctx, &r)
		q.done.Add(1)
	}
}

// Stats returns the queue's counters.
func (q *Queue) Stats() QueueStats {
	st := QueueStats{Queued: q.queued.Load(), Done: q.done.Load(), Dropped: q.dropped.Load()}
	for i := range q.shards {
		sh := &q.shards[i]
		sh.mu.Lock()
		st.Pending += sh.n
		sh.mu.Unlock()
	}
	return st
}
