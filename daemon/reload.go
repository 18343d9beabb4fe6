package daemon

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"leased/config"
	"leased/control"
)

// Reconfigurable is what a Reloader swaps the configuration of;
// *server.Reloadable is one.
type Reconfigurable interface {
	Reload(cfg *config.Config) error
}

// Reloader reloads a running server's configuration from its Source, one
// reload at a time, and keeps the status of the configuration in effect.
// It is safe for concurrent use: SIGHUP and the control API share it.
type Reloader struct {
	src     *Source
	running *config.Config // as opened at start
	current *config.Config // in effect
	live    Reconfigurable
	log     *slog.Logger
	clock   func() time.Time

	mu     sync.Mutex // one reload at a time; guards status
	status control.ConfigStatus
}

// NewReloader returns a Reloader of live, whose configuration running
// came from src (with SHA-256 sum) at time loaded. A nil log discards; a
// nil clock is time.Now.
func NewReloader(src *Source, running *config.Config, sum string, loaded time.Time, live Reconfigurable, log *slog.Logger, clock func() time.Time) *Reloader {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = time.Now
	}
	return &Reloader{
		src: src, running: running, current: running, live: live, log: log, clock: clock,
		status: control.ConfigStatus{File: src.File, SHA256: sum, Loaded: loaded, Subnets: len(running.Subnets)},
	}
}

// Status returns the status of the configuration in effect.
func (r *Reloader) Status() control.ConfigStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// Reload reads the configuration again and puts it in effect, or refuses
// it and keeps the running one; by says who asked, for the log. It
// returns the status of the configuration in effect afterwards, whose
// Changes say which settings the reload put in effect and which wait for
// the next start (the lease store, commit-delay, receive-delay: what was
// opened at start). In quick mode it refuses with an error wrapping
// control.ErrNoReload.
func (r *Reloader) Reload(by string) (control.ConfigStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.src.File == "" {
		return r.status, fmt.Errorf("quick mode: %w", control.ErrNoReload)
	}
	next, sum, err := r.src.Load()
	if err == nil {
		err = r.live.Reload(next)
	}
	if err != nil {
		r.log.Error("reload refused; the running configuration stays", "err", err, "by", by)
		return r.status, err
	}
	ch := configChanges(r.current, next, r.running)
	r.current = next
	r.status = control.ConfigStatus{File: r.src.File, SHA256: sum, Loaded: r.clock(), Subnets: len(next.Subnets), Changes: &ch}
	r.log.Info("configuration reloaded", "file", r.src.File, "subnets", len(next.Subnets), "sha256", sum, "by", by,
		"applied", strings.Join(ch.Applied, ","))
	for _, c := range ch.RestartNeeded {
		r.log.Warn(c.Key+" changed in the file; it takes effect at the next start", "running", c.Running, "loaded", c.Loaded)
	}
	return r.status, nil
}
