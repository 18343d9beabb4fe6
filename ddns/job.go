package ddns

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"leased/events"
	"leased/lease"
)

// job is the DNS work of one lease record: make the records of fqdn be
// what want says, after removing those of an old name.
type job struct {
	addr          netip.Addr
	subnet        netip.Prefix // invalid when not known
	start, expiry time.Time
	want          lease.DNSState // DNSAdded or DNSRemoved
	fqdn          string
	flags         lease.DNSFlags
	client        Client
	// old is a name whose records (oldFlags) are to go first; oldClient
	// is the client whose DHCID guards them.
	old       string
	oldFlags  lease.DNSFlags
	oldClient Client
	// quiet: no DNS traffic when this process confirmed the same records
	// already (a renewal, a rescan).
	quiet bool
	// seq is the number of an event's job; for a job of a rescan, the
	// number of the last event before the rescan read the store.
	seq       uint64
	fromStore bool
	// retryOf is the retry that this job makes, nil for a new job.
	retryOf *pending
}

// jobFromRecord returns the job of a lease event, and false when the
// event has no name to update, or when it cannot name the client whole
// (a client identifier longer than a Record holds): its DHCID would not
// be the client's, and the next rescan, which reads the whole identifier
// from the store, does that record's updates.
func jobFromRecord(r *events.Record) (job, bool) {
	if r.ClientIDCut() {
		return job{}, false
	}
	j := job{addr: r.Addr, subnet: r.Subnet, start: r.Start, expiry: r.Expiry, fqdn: string(r.FQDN()), flags: r.DNS,
		client: Client{ID: string(r.ClientID()), HW: r.HW}, old: string(r.OldFQDN()), oldFlags: r.OldDNS}
	j.oldClient = j.client
	switch r.Type {
	case events.Commit:
		j.want = lease.DNSAdded
	case events.Renew:
		j.want, j.quiet = lease.DNSAdded, true
	case events.Release, events.Expire, events.Decline:
		j.want = lease.DNSRemoved
	default:
		return job{}, false
	}
	if j.fqdn == "" {
		j.flags = 0
	}
	if j.old == "" || j.oldFlags == 0 {
		j.old, j.oldFlags = "", 0
	}
	return j, j.flags != 0 || j.old != ""
}

// jobFromLease returns the job of a stored record at now.
func jobFromLease(l *lease.Lease, now time.Time) job {
	c := Client{ID: l.ClientID, HW: l.HW}
	return job{addr: l.Addr, start: l.Start, expiry: l.Expiry, want: l.DNSWanted(now), fqdn: l.FQDN, flags: l.DNS,
		client: c, oldClient: c, quiet: true, fromStore: true}
}

// confirmation returns what j confirms once done.
func (j *job) confirmation() confirmation {
	return confirmation{fqdn: j.fqdn, flags: j.flags, client: j.client, state: j.want}
}

// process makes j's updates, serialized with every other job of its
// address: it takes over a retry waiting for the address, skips the
// traffic when j's records were confirmed already, and sets j aside for a
// retry when a server did not do it. It reports whether that happened.
func (u *Updater) process(ctx context.Context, j *job) (failed bool) {
	unlock := u.locks.lock(j.addr)
	defer unlock()
	if j.fromStore && u.eventSince(j.addr, j.seq) {
		return false // an event of the address came after the store was read: it knows better
	}
	prev := u.takeRetry(j.addr, j.retryOf)
	if j.retryOf != nil && prev == nil {
		return false // a newer job took the retry over
	}
	if j.retryOf == nil {
		u.queued.Add(1) // a retry was counted when it was new
	}
	if prev != nil && prev != j.retryOf {
		j.merge(&prev.job)
	}
	if j.quiet && j.old == "" && u.isConfirmed(j.addr, j.confirmation()) {
		u.done.Add(1)
		u.finish(ctx, j)
		return false
	}
	rule := u.rule(j.addr, j.subnet)
	if rule == nil {
		u.ignored.Add(1)
		u.log.Debug("dns update: no rule for the address", "address", j.addr, "fqdn", j.fqdn)
		return false
	}
	res := u.update(ctx, rule, j)
	switch res {
	case resultDone, resultSkipped:
		u.done.Add(1)
		u.finish(ctx, j)
	case resultConflict:
		u.conflicts.Add(1)
		u.finish(ctx, j)
	default:
		attempts := 0
		if prev != nil {
			attempts = prev.attempts
		}
		u.setRetry(j, attempts+1)
		return true
	}
	return false
}

// merge takes over the work of an older job of the same address that was
// waiting for a retry: the records of its name are to go unless j keeps
// them.
func (j *job) merge(p *job) {
	if p.fqdn != "" && p.flags != 0 && (p.fqdn != j.fqdn || p.client != j.client) && j.old == "" {
		j.old, j.oldFlags, j.oldClient = p.fqdn, p.flags, p.client
	} else if p.old != "" && j.old == "" {
		j.old, j.oldFlags, j.oldClient = p.old, p.oldFlags, p.oldClient
	}
	j.quiet = false
}

// update makes j's updates under rule and returns the worst result.
func (u *Updater) update(ctx context.Context, rule *Rule, j *job) result {
	res := resultDone
	if j.old != "" && (j.old != j.fqdn || j.oldClient != j.client || j.want == lease.DNSRemoved) {
		res = u.apply(ctx, rule, j, j.old, j.oldFlags, &j.oldClient, lease.DNSRemoved)
		if res == resultFailed || res == resultRefused {
			return res
		}
	}
	if j.fqdn == "" || j.flags == 0 {
		return res
	}
	return worst(res, u.apply(ctx, rule, j, j.fqdn, j.flags, &j.client, j.want))
}

// worst is the result that says more of a and b: a failure over a
// conflict over done.
func worst(a, b result) result {
	rank := func(r result) int {
		switch r {
		case resultRefused, resultFailed:
			return 3
		case resultConflict:
			return 2
		case resultSkipped:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// apply adds or removes the records flags of fqdn for j's address. A
// forward name in conflict keeps the reverse one from being added.
func (u *Updater) apply(ctx context.Context, rule *Rule, j *job, fqdn string, flags lease.DNSFlags, c *Client, want lease.DNSState) result {
	dhcid, err := DHCID(c, fqdn)
	if err != nil {
		u.ignored.Add(1)
		u.log.Warn("dns update: bad name", "address", j.addr, "fqdn", fqdn, "err", err)
		return resultSkipped
	}
	ttl := u.ttl(rule, j)
	x := u.x
	if rule.Timeout > 0 {
		x.timeout = rule.Timeout
	}
	if rule.Retries > 0 {
		x.retries = rule.Retries
	}
	res := resultDone
	if flags&lease.DNSForward != 0 && rule.Forward.Zone != "" {
		rs := forwardRecords(fqdn, j.addr, dhcid, ttl, rule.Policy)
		var a answer
		if want == lease.DNSAdded {
			a = x.addForward(ctx, &rule.Forward, rs)
		} else {
			a = x.removeForward(ctx, &rule.Forward, rs)
		}
		res = u.note(j, fqdn, "A", want, a)
		if res != resultDone && res != resultSkipped && want == lease.DNSAdded {
			return res
		}
	}
	if flags&lease.DNSReverse != 0 && rule.Reverse.Zone != "" {
		rs := reverseRecords(fqdn, j.addr, dhcid, ttl, rule.Policy)
		var a answer
		if want == lease.DNSAdded {
			a = x.addReverse(ctx, &rule.Reverse, rs)
		} else {
			a = x.removeReverse(ctx, &rule.Reverse, rs)
		}
		res = worst(res, u.note(j, fqdn, "PTR", want, a))
	}
	return res
}

// note counts and logs the answer to one update and returns its result.
func (u *Updater) note(j *job, fqdn, typ string, want lease.DNSState, a answer) result {
	op := "add"
	if want == lease.DNSRemoved {
		op = "remove"
	}
	switch a.res {
	case resultConflict:
		u.log.Warn("dns update: name in use by another client, left alone (RFC 4703)", "op", op, "type", typ, "address", j.addr, "fqdn", fqdn, "reason", a.reason)
	case resultRefused:
		u.refused.Add(1)
		u.log.Warn("dns update refused; will retry", "op", op, "type", typ, "address", j.addr, "fqdn", fqdn, "reason", a.reason)
	case resultFailed:
		u.failed.Add(1)
		u.log.Warn("dns update failed; will retry", "op", op, "type", typ, "address", j.addr, "fqdn", fqdn, "reason", a.reason)
	case resultSkipped:
		u.ignored.Add(1)
		u.log.Warn("dns update: name outside the zone, skipped", "op", op, "type", typ, "address", j.addr, "fqdn", fqdn, "reason", a.reason)
	default:
		u.log.Debug("dns update done", "op", op, "type", typ, "address", j.addr, "fqdn", fqdn)
	}
	return a.res
}

// ttl is the records' TTL in seconds: the rule's, else a third of the
// lease time (RFC 4702 §5), at least one second.
func (u *Updater) ttl(rule *Rule, j *job) uint32 {
	d := rule.TTL
	if d <= 0 {
		d = j.expiry.Sub(j.start) / 3
	}
	return uint32(min(max(d/time.Second, 1), 1<<31-1))
}

// finish remembers and confirms what j did.
func (u *Updater) finish(ctx context.Context, j *job) {
	u.mu.Lock()
	if j.want == lease.DNSAdded {
		if _, ok := u.confirmed[j.addr]; !ok && len(u.confirmed) >= maxConfirmed {
			for a := range u.confirmed {
				delete(u.confirmed, a)
				break
			}
		}
		u.confirmed[j.addr] = j.confirmation()
	} else {
		delete(u.confirmed, j.addr)
	}
	u.mu.Unlock()
	c, ok := u.opts.Store.(lease.DNSConfirmer)
	if !ok || j.start.IsZero() {
		return
	}
	if _, err := c.ConfirmDNS(ctx, j.addr, j.start, j.want); err != nil {
		u.log.Warn("dns update: cannot confirm in the lease store", "address", j.addr, "err", err)
	}
}

func (u *Updater) isConfirmed(a netip.Addr, c confirmation) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	got, ok := u.confirmed[a]
	return ok && got == c
}

// takeRetry removes and returns the retry waiting for a, or nil. When
// want is not nil, it takes only that one.
func (u *Updater) takeRetry(a netip.Addr, want *pending) *pending {
	u.mu.Lock()
	defer u.mu.Unlock()
	p := u.retry[a]
	if want != nil && p != want {
		return nil
	}
	delete(u.retry, a)
	return p
}

// eventSlots is the number of slots that remember the last event of the
// addresses hashed to them.
const eventSlots = 4096

func eventSlot(a netip.Addr) int {
	b := a.As16()
	h := uint32(2166136261) // FNV-1a
	for _, c := range b[12:] {
		h ^= uint32(c)
		h *= 16777619
	}
	return int(h % eventSlots)
}

// noteEvent numbers a new event's job of address a.
func (u *Updater) noteEvent(a netip.Addr) uint64 {
	seq := u.eventSeq.Add(1)
	slot := &u.lastEvent[eventSlot(a)]
	for {
		old := slot.Load()
		if old >= seq || slot.CompareAndSwap(old, seq) {
			return seq
		}
	}
}

// eventSince reports whether an event of a (or of an address sharing its
// slot: then the rescan's job waits for the next rescan) came after seq.
func (u *Updater) eventSince(a netip.Addr, seq uint64) bool {
	return u.lastEvent[eventSlot(a)].Load() > seq
}

// setRetry sets j aside for its attempts-th retry, unless the retry set
// is full: then the next rescan of the store finds j's record again.
func (u *Updater) setRetry(j *job, attempts int) {
	d := backoff(attempts)
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.retry) >= u.opts.Queue {
		u.log.Warn("dns update: too many updates waiting for a retry; the next rescan takes this one", "address", j.addr)
		return
	}
	p := &pending{job: *j, attempts: attempts, due: u.clock().Add(d)}
	p.job.retryOf, p.job.fromStore = nil, false
	u.retry[j.addr] = p
}

// backoff is the delay before the attempts-th retry: MinBackoff doubling
// up to MaxBackoff, with a jitter of up to a fifth either way.
func backoff(attempts int) time.Duration {
	d := MaxBackoff
	if attempts < 20 {
		d = min(MinBackoff<<max(attempts-1, 0), MaxBackoff)
	}
	return d - d/5 + rand.N(2*d/5+1)
}

// addrLocks serializes the jobs of each address. It holds an entry per
// address that a job holds or waits for: memory bounded by the number of
// workers.
type addrLocks struct {
	mu sync.Mutex
	m  map[netip.Addr]*addrLock
}

type addrLock struct {
	mu    sync.Mutex
	users int
}

// lock locks a and returns the function that unlocks it.
func (l *addrLocks) lock(a netip.Addr) func() {
	l.mu.Lock()
	e := l.m[a]
	if e == nil {
		e = &addrLock{}
		l.m[a] = e
	}
	e.users++
	l.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		l.mu.Lock()
		if e.users--; e.users == 0 {
			delete(l.m, a)
		}
		l.mu.Unlock()
	}
}
