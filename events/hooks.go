package events

import (
	"context"
	"sync"
)

// webhookWorkers is the number of webhook deliveries in flight at once.
const webhookWorkers = 4

// Hooks are the hooks of a server, each behind a Queue of its own, so
// that a slow webhook does not hold the script back nor the reverse. The
// nil *Hooks has no hook: Publish does nothing.
type Hooks struct {
	script   *Script
	scriptQ  *Queue
	webhook  *Webhook
	webhookQ *Queue
	others   []*Queue // of Add
}

// New returns the hooks of script, run by up to concurrency processes at
// once, and webhook; either may be nil. Each queue holds capacity events.
// It returns nil when both are nil.
func New(script *Script, concurrency int, webhook *Webhook, capacity int) *Hooks {
	if script == nil && webhook == nil {
		return nil
	}
	h := &Hooks{script: script, webhook: webhook}
	if script != nil {
		h.scriptQ = NewQueue(capacity, concurrency, script.Handle)
	}
	if webhook != nil {
		h.webhookQ = NewQueue(capacity, webhookWorkers, webhook.Handle)
	}
	return h
}

// Add adds a hook of its own, handled by fn on workers goroutines behind
// a queue of capacity events, and returns h (a new Hooks when h is nil).
// Call it before Run.
func (h *Hooks) Add(fn Handler, workers, capacity int) *Hooks {
	return h.AddQueue(NewQueue(capacity, workers, fn))
}

// AddQueue adds a hook of its own behind q, which the caller keeps to
// read its Stats, and returns h (a new Hooks when h is nil). Call it
// before Run.
func (h *Hooks) AddQueue(q *Queue) *Hooks {
	if h == nil {
		h = &Hooks{}
	}
	h.others = append(h.others, q)
	return h
}

// queues returns the hooks' queues.
func (h *Hooks) queues() []*Queue {
	var qs []*Queue
	for _, q := range []*Queue{h.scriptQ, h.webhookQ} {
		if q != nil {
			qs = append(qs, q)
		}
	}
	return append(qs, h.others...)
}

// Publish queues r for every hook. It never blocks and allocates nothing.
func (h *Hooks) Publish(r *Record) {
	if h == nil {
		return
	}
	if h.scriptQ != nil {
		h.scriptQ.Offer(r)
	}
	if h.webhookQ != nil {
		h.webhookQ.Offer(r)
	}
	for _, q := range h.others {
		q.Offer(r)
	}
}

// Run runs the hooks until ctx ends.
func (h *Hooks) Run(ctx context.Context) {
	if h == nil {
		return
	}
	var wg sync.WaitGroup
	for _, q := range h.queues() {
		wg.Go(func() { q.Run(ctx) })
	}
	wg.Wait()
}

// HookStats count the events of one hook.
type HookStats struct {
	QueueStats
	// Failed counts the events the hook failed on, TimedOut the runs
	// (script) or attempts (webhook) that ran out of time.
	Failed, TimedOut uint64
}

// Stats are the counters of a server's hooks; a nil field is a hook not
// configured.
type Stats struct {
	Script, Webhook *HookStats
}

// Stats returns the hooks' counters.
func (h *Hooks) Stats() Stats {
	var st Stats
	if h == nil {
		return st
	}
	if h.script != nil {
		st.Script = &HookStats{QueueStats: h.scriptQ.Stats(), Failed: h.script.Failed(), TimedOut: h.script.TimedOut()}
	}
	if h.webhook != nil {
		st.Webhook = &HookStats{QueueStats: h.webhookQ.Stats(), Failed: h.webhook.Failed(), TimedOut: h.webhook.TimedOut()}
	}
	return st
}
