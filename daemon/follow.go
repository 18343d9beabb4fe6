package daemon

import (
	"context"
	"log/slog"

	"leased/lease"
)

// Observer takes the lease changes of other servers sharing the store;
// *server.Reloadable is one.
type Observer interface {
	// Observe applies one record another server committed.
	Observe(lease.Lease)
	// Resync replaces what is known of the store with every live record.
	Resync(all func(fn func(lease.Lease) bool))
}

// FollowStore applies to o what other servers commit to the shared store
// w, until ctx ends: each change as it comes, and the records of a resync
// (at the start, and after every reconnection) together at its end.
func FollowStore(ctx context.Context, w lease.Watcher, o Observer, log *slog.Logger) {
	var resync []lease.Lease
	inResync := false
	err := w.Watch(ctx, func(c lease.Change) {
		switch c.Kind {
		case lease.ResyncStart:
			inResync, resync = true, resync[:0]
		case lease.ResyncEnd:
			records := resync
			o.Resync(func(fn func(lease.Lease) bool) {
				for _, l := range records {
					if !fn(l) {
						return
					}
				}
			})
			log.Info("lease store: in step with the other servers", "leases", len(records))
			inResync, resync = false, nil
		case lease.Changed:
			if inResync {
				resync = append(resync, c.Lease)
				return
			}
			o.Observe(c.Lease)
		}
	})
	if err != nil && ctx.Err() == nil {
		log.Error("lease store: no longer following the other servers' changes; offers may collide with their leases", "err", err)
	}
}
