package daemon

import (
	"context"
	"os"
	"time"
)

// Sweeper is what Sweep drives; *server.Reloadable is one.
type Sweeper interface {
	// Sweep ends lapsed offers, expired leases and ended probations, and
	// returns how many.
	Sweep() int
}

// Sweep calls s.Sweep at every tick until ctx ends.
func Sweep(ctx context.Context, ticks <-chan time.Time, s Sweeper) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			s.Sweep()
		}
	}
}

// ReloadOnSignal reloads r at every signal received on sig (SIGHUP) until
// ctx ends. In quick mode it only warns that there is nothing to reload.
func ReloadOnSignal(ctx context.Context, sig <-chan os.Signal, r *Reloader) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			if r.src.File == "" {
				r.log.Warn("reload: no configuration file (quick mode); nothing to reload")
				continue
			}
			r.Reload("SIGHUP") // logs the outcome
		}
	}
}
