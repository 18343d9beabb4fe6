package daemon

import (
	"context"
	"log/slog"
	"time"

	"leased/config"
	"leased/ddns"
	leaseevents "leased/events"
	"leased/lease"
)

// dnsUpdates is the DNS updater of a server (package ddns) and the event
// queue in front of it. The nil *dnsUpdates updates nothing.
type dnsUpdates struct {
	u     *ddns.Updater
	queue *leaseevents.Queue
	log   *slog.Logger
}

// ddnsEnabled reports whether a subnet of cfg enables DNS updates.
func ddnsEnabled(cfg *config.Config) bool {
	for i := range cfg.Subnets {
		if cfg.Subnets[i].DDNS.Enabled {
			return true
		}
	}
	return false
}

// openDDNS builds the DNS updater of cfg on store, reading the TSIG key
// files; nil when no subnet enables updates. Its global settings
// (workers, queue, rescan, timeout, retries) are those of cfg.DDNS.
func openDDNS(cfg *config.Config, store lease.Store, clock func() time.Time, log *slog.Logger) (*dnsUpdates, error) {
	if !ddnsEnabled(cfg) {
		return nil, nil
	}
	rules, err := ddns.RulesFromConfig(cfg, ddns.ReadKeys)
	if err != nil {
		return nil, err
	}
	g := cfg.DDNS.WithDefaults()
	d := &dnsUpdates{log: log}
	d.u, err = ddns.New(ddns.Options{Rules: rules, Timeout: g.Timeout, Retries: g.Retries, Workers: g.Workers,
		Queue: g.Queue, Rescan: g.Rescan, Store: store, Clock: clock, Logger: log,
		Dropped: func() uint64 { return d.queue.Stats().Dropped }})
	if err != nil {
		return nil, err
	}
	d.queue = leaseevents.NewQueue(g.Queue, g.Workers, d.u.Handle)
	log.Info("dns updates", "subnets", len(rules), "workers", g.Workers, "queue", g.Queue, "rescan", g.Rescan)
	return d, nil
}

// hook adds the updater to the hooks h and returns them.
func (d *dnsUpdates) hook(h *leaseevents.Hooks) *leaseevents.Hooks {
	if d == nil {
		return h
	}
	return h.AddQueue(d.queue)
}

// Run rescans the store and retries failed updates until ctx ends (the
// hooks run the queue).
func (d *dnsUpdates) Run(ctx context.Context) {
	if d != nil {
		d.u.Run(ctx)
	}
}

// Stats returns the updater's counters.
func (d *dnsUpdates) Stats() ddns.Stats {
	if d == nil {
		return ddns.Stats{}
	}
	return d.u.Stats()
}

// statsFunc returns Stats for the control API and the metrics; nil when
// there is no updater.
func (d *dnsUpdates) statsFunc() func() ddns.Stats {
	if d == nil {
		return nil
	}
	return d.Stats
}

// rules returns the rules of a reloaded configuration, reading the key
// files again; nil rules when there is no updater: a configuration that
// enables DNS updates in a server started without them takes effect at
// the next start.
func (d *dnsUpdates) rules(cfg *config.Config, log *slog.Logger) ([]ddns.Rule, error) {
	if d == nil {
		if ddnsEnabled(cfg) {
			log.Warn("ddns.enabled: dns updates start at the next start of the server")
		}
		return nil, nil
	}
	return ddns.RulesFromConfig(cfg, ddns.ReadKeys)
}

// setRules puts the rules rs in effect.
func (d *dnsUpdates) setRules(rs []ddns.Rule) {
	if d != nil {
		d.u.SetRules(rs)
	}
}
