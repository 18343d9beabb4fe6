package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"

	"leased/config"
	leaseevents "leased/events"
	"leased/lease"
	"leased/server"
)

// openHooks builds the lease event hooks that cfg configures, reading the
// webhook's secret; nil when none is configured. Zero settings, as in a
// Config built in Go, stand for their defaults.
func openHooks(cfg config.Hooks, log *slog.Logger) (*leaseevents.Hooks, error) {
	def := config.DefaultHooks()
	orDefault := func(v, d int) int {
		if v <= 0 {
			return d
		}
		return v
	}
	var script *leaseevents.Script
	if cfg.Script.Path != "" {
		timeout := cfg.Script.Timeout
		if timeout <= 0 {
			timeout = def.Script.Timeout
		}
		if fi, err := os.Stat(cfg.Script.Path); err != nil {
			return nil, fmt.Errorf("hooks.script.path: %w", err)
		} else if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return nil, fmt.Errorf("hooks.script.path: %s is not an executable file", cfg.Script.Path)
		}
		script = &leaseevents.Script{Path: cfg.Script.Path, Timeout: timeout, Logger: log}
	}
	var webhook *leaseevents.Webhook
	if cfg.Webhook.URL != "" {
		timeout := cfg.Webhook.Timeout
		if timeout <= 0 {
			timeout = def.Webhook.Timeout
		}
		webhook = &leaseevents.Webhook{URL: cfg.Webhook.URL, Timeout: timeout, Retries: cfg.Webhook.Retries, Logger: log}
		if f := cfg.Webhook.SecretFile; f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("hooks.webhook.secret-file: %w", err)
			}
			secret := strings.TrimSpace(string(b))
			if secret == "" {
				return nil, fmt.Errorf("hooks.webhook.secret-file: %s is empty", f)
			}
			webhook.Secret = []byte(secret)
		}
	}
	h := leaseevents.New(script, orDefault(cfg.Script.Concurrency, def.Script.Concurrency), webhook, orDefault(cfg.Queue, def.Queue))
	if h != nil {
		log.Info("lease event hooks", "script", cfg.Script.Path, "webhook", cfg.Webhook.URL)
	}
	return h, nil
}

// expirySweeper sweeps the engine and publishes the expiries it finds to
// the hooks.
type expirySweeper struct {
	live    *server.Reloadable
	expired server.ExpiredFunc
}

func newExpirySweeper(live *server.Reloadable, h *leaseevents.Hooks) expirySweeper {
	return expirySweeper{live: live, expired: func(subnet netip.Prefix, l *lease.Lease) {
		var r leaseevents.Record
		leaseevents.FromLease(&r, leaseevents.Expire, subnet, l)
		h.Publish(&r)
	}}
}

func (s expirySweeper) Sweep() int { return s.live.SweepExpired(s.expired) }

// releaseNotifier is the engine of the control API, publishing the
// releases an operator makes (leased leases release) to the hooks.
type releaseNotifier struct {
	*server.Reloadable
	hooks *leaseevents.Hooks
}

// ForceRelease is server.Reloadable.ForceRelease, publishing a release
// event when the address was released, in memory at least.
func (n releaseNotifier) ForceRelease(ctx context.Context, a netip.Addr) (server.LeaseView, error) {
	v, err := n.Reloadable.ForceRelease(ctx, a)
	if v.Addr.IsValid() {
		var r leaseevents.Record
		l := lease.Lease{Addr: v.Addr, ClientID: v.ClientID, HW: v.HW, Hostname: v.Hostname, Start: v.Start, Expiry: v.Expiry,
			FQDN: v.FQDN, DNS: v.DNS}
		leaseevents.FromLease(&r, leaseevents.Release, v.Subnet, &l)
		n.hooks.Publish(&r)
	}
	return v, err
}
