package lease

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"time"
)

// ConflictError is the error of a Commit refused because an address it
// binds is held by another client: the store holds a record of Addr for
// a different client whose lease has not ended (see the store's package
// for when a lease has ended). It is also the error of a record of state
// Expired for a lease that has not ended, because another server renewed
// it: Holder is then the renewed lease, of the same client. None of the
// leases of that Commit were recorded. A store shared by several servers
// returns it when another server bound the address first; find it with
// errors.As.
type ConflictError struct {
	// Addr is the address that could not be bound.
	Addr netip.Addr
	// Holder is the record that holds Addr, as the store had it.
	Holder Lease
}

// Error says which address is held, by whom and until when.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("lease: %v is held by client %s (%s until %s)", e.Addr,
		hex.EncodeToString([]byte(e.Holder.ClientID)), e.Holder.State, e.Holder.Expiry.UTC().Format(time.RFC3339))
}

// ChangeKind says what a Change reports.
type ChangeKind uint8

// The kinds of Change.
const (
	// Changed: Lease is a record as committed to the store; State Free
	// means the record of Lease.Addr was deleted.
	Changed ChangeKind = iota + 1
	// ResyncStart: the watch (re)started, and changes made meanwhile may
	// have been missed. Every live record of the store follows, as
	// Changed, whoever wrote it, up to ResyncEnd.
	ResyncStart
	// ResyncEnd ends the records of a resync. A receiver forgets the
	// records of other servers that the resync did not deliver: they were
	// deleted while it was not watching.
	ResyncEnd
)

// String returns the kind's lower-case name.
func (k ChangeKind) String() string {
	switch k {
	case Changed:
		return "changed"
	case ResyncStart:
		return "resync-start"
	case ResyncEnd:
		return "resync-end"
	}
	return fmt.Sprintf("change(%d)", uint8(k))
}

// Change is one report of a Watcher.
type Change struct {
	Kind ChangeKind
	// Lease is the record, for Kind Changed.
	Lease Lease
}

// Watcher is what a store shared by several servers offers so that each
// server keeps its view of the addresses current: the records that the
// other servers commit.
type Watcher interface {
	// Watch calls fn, from one goroutine, in commit order, for every
	// record committed by another server (never for this store's own
	// Commits), until ctx ends; then it returns ctx.Err(). It starts, and
	// starts again after every interruption (the database restarted,
	// the connection broke), with a resync: ResyncStart, every live
	// record of the store, ResyncEnd; the changes that follow may repeat
	// some of those records. Watch returns another error only when it
	// cannot watch at all (the store is closed). fn must not block for
	// long: the changes wait behind it.
	Watch(ctx context.Context, fn func(Change)) error
}
