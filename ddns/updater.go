package ddns

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"leased/events"
	"leased/lease"
)

// Rule says how the names of the leases of one subnet are updated: the
// zone of the forward records (A and DHCID) and of the reverse ones (PTR
// and DHCID), the conflict policy and the records' TTL (0: a third of the
// lease time, RFC 4702 §5). Timeout and Retries, when not zero, replace
// those of the Options for the subnet.
type Rule struct {
	Subnet           netip.Prefix
	Forward, Reverse Target
	Policy           Policy
	TTL              time.Duration
	Timeout          time.Duration
	Retries          int
}

// Defaults of Options.
const (
	DefaultTimeout = 2 * time.Second
	DefaultRetries = 3
	DefaultWorkers = 4
	DefaultQueue   = 4096
	DefaultRescan  = time.Minute
)

// Backoff of the updates that failed: the first retry after MinBackoff,
// doubling up to MaxBackoff, each delay shaken by up to a fifth either
// way so that many failed updates do not come back at once.
const (
	MinBackoff = time.Second
	MaxBackoff = 5 * time.Minute
)

// maxConfirmed bounds the names the updater remembers as confirmed.
const maxConfirmed = 1 << 16

// Options configure an Updater. Zero values stand for the defaults.
type Options struct {
	// Rules say where the names of each subnet's leases go; a lease of a
	// subnet without a rule is ignored.
	Rules []Rule
	// Timeout bounds one attempt to send an update to one server, and
	// Retries is the number of rounds over a zone's servers before the
	// update is given up for now and retried later with backoff; a
	// Rule's own Timeout and Retries replace them for its subnet.
	Timeout time.Duration
	Retries int
	// Workers is the number of updates a rescan or a round of retries
	// makes at once; Queue bounds the updates waiting for a retry (the
	// event queue in front of Handle is the caller's, of the same size).
	Workers, Queue int
	// Rescan is how often Run looks for the records whose updates are
	// not confirmed in Store.
	Rescan time.Duration
	// Store is the lease store, the durable queue of the updates: Run
	// rescans it, and the updater confirms the records it finished with
	// when it is a lease.DNSConfirmer.
	Store lease.Store
	// Dropped, when not nil, returns how many events the queue in front
	// of Handle dropped so far; when it grows, Run rescans at once.
	Dropped func() uint64
	// Clock is the time, also of the TSIG signatures (which servers
	// check against theirs); nil is time.Now.
	Clock func() time.Time
	// Logger receives the updater's log; nil discards.
	Logger *slog.Logger
}

// Stats are an Updater's counters.
type Stats struct {
	// Queued counts the updates taken on (from events and rescans; a
	// retry is not counted again), Done
	// those finished, Failed the attempts no server answered or a server
	// failed, Refused the attempts the servers refused (NOTAUTH, REFUSED,
	// a TSIG error), Conflicts the names found held by another client.
	Queued, Done, Failed, Refused, Conflicts uint64
	// Rescans counts the rescans of the store; Ignored the updates of
	// leases no rule covers, or of names outside the rule's zone.
	Rescans, Ignored uint64
	// Retrying is the number of updates waiting for a retry now.
	Retrying int
	// Dropped is Options.Dropped: the events the queue dropped.
	Dropped uint64
}

// Updater makes the DNS updates of lease changes. It is safe for
// concurrent use.
type Updater struct {
	opts  Options
	log   *slog.Logger
	clock func() time.Time
	x     exchanger
	rules atomic.Pointer[[]Rule]
	locks addrLocks
	tick  time.Duration // how often Run looks at its retries and triggers

	mu        sync.Mutex
	retry     map[netip.Addr]*pending
	confirmed map[netip.Addr]confirmation

	eventSeq  atomic.Uint64
	lastEvent [eventSlots]atomic.Uint64

	queued, done, failed, refused, conflicts, rescans, ignored atomic.Uint64
}

// pending is an update waiting for its retry.
type pending struct {
	job      job
	attempts int
	due      time.Time
}

// confirmation is what the updater last confirmed for an address.
type confirmation struct {
	fqdn   string
	flags  lease.DNSFlags
	client Client
	state  lease.DNSState
}

// New returns an Updater; Run must run for its retries and rescans.
func New(o Options) (*Updater, error) {
	if o.Store == nil {
		return nil, errors.New("ddns: no lease store")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Retries <= 0 {
		o.Retries = DefaultRetries
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.Rescan <= 0 {
		o.Rescan = DefaultRescan
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	u := &Updater{opts: o, log: o.Logger, clock: o.Clock, tick: time.Second,
		x:     exchanger{timeout: o.Timeout, retries: o.Retries, clock: o.Clock},
		retry: map[netip.Addr]*pending{}, confirmed: map[netip.Addr]confirmation{}}
	u.locks.m = map[netip.Addr]*addrLock{}
	u.SetRules(o.Rules)
	return u, nil
}

// SetRules replaces the rules, as a reload does; the updates in hand
// finish under the old ones.
func (u *Updater) SetRules(rs []Rule) {
	c := append([]Rule(nil), rs...)
	u.rules.Store(&c)
}

// rule returns the rule of subnet, else of the longest prefix holding
// addr; nil when none.
func (u *Updater) rule(addr netip.Addr, subnet netip.Prefix) *Rule {
	rs := *u.rules.Load()
	var best *Rule
	for i := range rs {
		r := &rs[i]
		if subnet.IsValid() && r.Subnet == subnet {
			return r
		}
		if r.Subnet.Contains(addr) && (best == nil || r.Subnet.Bits() > best.Subnet.Bits()) {
			best = r
		}
	}
	return best
}

// Stats returns the updater's counters.
func (u *Updater) Stats() Stats {
	u.mu.Lock()
	retrying := len(u.retry)
	u.mu.Unlock()
	st := Stats{Queued: u.queued.Load(), Done: u.done.Load(), Failed: u.failed.Load(), Refused: u.refused.Load(),
		Conflicts: u.conflicts.Load(), Rescans: u.rescans.Load(), Ignored: u.ignored.Load(), Retrying: retrying}
	if u.opts.Dropped != nil {
		st.Dropped = u.opts.Dropped()
	}
	return st
}

// Handle makes the DNS updates of a lease event: it is an events.Handler,
// run on the workers of the event queue. It returns when the updates are
// done, found in conflict or put aside for a retry; each exchange with
// the servers is bounded by Timeout for each of Retries rounds over a
// zone's servers, and an event makes at most six (three to remove an old
// name, three to add the new one).
func (u *Updater) Handle(ctx context.Context, r *events.Record) {
	j, ok := jobFromRecord(r)
	if !ok {
		return
	}
	j.seq = u.noteEvent(j.addr)
	u.process(ctx, &j)
}

// Run rescans the store at once, then every Rescan and whenever the event
// queue dropped events, and retries the failed updates when their backoff
// ends, until ctx ends.
func (u *Updater) Run(ctx context.Context) {
	st := runState{lastRescan: u.clock()}
	if u.opts.Dropped != nil {
		st.dropped = u.opts.Dropped()
	}
	u.Rescan(ctx)
	t := time.NewTicker(u.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			u.step(ctx, &st)
		}
	}
}

// runState is what Run remembers between its steps.
type runState struct {
	lastRescan time.Time
	dropped    uint64
}

// step rescans when it is time or events were dropped, then retries what
// is due.
func (u *Updater) step(ctx context.Context, st *runState) {
	now := u.clock()
	rescan := now.Sub(st.lastRescan) >= u.opts.Rescan
	if u.opts.Dropped != nil {
		if d := u.opts.Dropped(); d != st.dropped {
			st.dropped = d
			rescan = true
			u.log.Warn("dns updates: lease events were dropped; rescanning the lease store", "dropped", d)
		}
	}
	if rescan {
		st.lastRescan = now
		u.Rescan(ctx)
	}
	u.retryDue(ctx, u.clock())
}

// Rescan makes the updates of the store's records that are due and not
// waiting for a retry.
func (u *Updater) Rescan(ctx context.Context) {
	u.rescans.Add(1)
	now := u.clock()
	seq := u.eventSeq.Load()
	var jobs []job
	u.opts.Store.All(func(l lease.Lease) bool {
		if l.DNSDue(now) && !u.retrying(l.Addr) {
			j := jobFromLease(&l, now)
			j.seq = seq
			jobs = append(jobs, j)
		}
		return ctx.Err() == nil
	})
	if len(jobs) > 0 {
		u.log.Info("dns updates: rescan found unconfirmed records", "count", len(jobs))
	}
	u.runJobs(ctx, jobs)
}

// retryDue retries the updates whose backoff ended at now.
func (u *Updater) retryDue(ctx context.Context, now time.Time) {
	var jobs []job
	u.mu.Lock()
	for _, p := range u.retry {
		if !p.due.After(now) {
			j := p.job
			j.retryOf = p
			jobs = append(jobs, j)
		}
	}
	u.mu.Unlock()
	u.runJobs(ctx, jobs)
}

// runJobs processes jobs on Workers goroutines. It stops early when
// twice as many jobs as there are workers failed in a row: the servers
// are down or refuse, and waiting for every job to time out would hold
// the retries and rescans up for long. The jobs left are made by the
// next rescan (their records are not confirmed) or the next round of
// retries.
func (u *Updater) runJobs(ctx context.Context, jobs []job) {
	if len(jobs) == 0 {
		return
	}
	next := make(chan *job)
	var failing atomic.Int64
	var wg sync.WaitGroup
	for range min(u.opts.Workers, len(jobs)) {
		wg.Go(func() {
			for j := range next {
				if u.process(ctx, j) {
					failing.Add(1)
				} else {
					failing.Store(0)
				}
			}
		})
	}
	limit := int64(2 * u.opts.Workers)
	for i := range jobs {
		if failing.Load() >= limit {
			u.log.Warn("dns updates: the servers fail; the rest waits for the next rescan or retry", "left", len(jobs)-i)
			break
		}
		select {
		case next <- &jobs[i]:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
}

func (u *Updater) retrying(a netip.Addr) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.retry[a]
	return ok
}
