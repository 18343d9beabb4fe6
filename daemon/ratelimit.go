package daemon

import (
	"leased/config"
)

// rateLimited is what takes rate limits at a reload; *netio.Server is one.
type rateLimited interface {
	SetRateLimits(config.RateLimits)
}

// reloadLimits reloads the engine's configuration, then, once the engine
// took it, puts its rate limits in effect: rate-limit and offer-limit
// change at a reload, without a restart.
type reloadLimits struct {
	engine Reconfigurable
	limits any // a rateLimited, or a DHCP side without rate limits
}

// orEngine returns r, or its engine alone when its DHCP side takes no
// rate limits.
func (r reloadLimits) orEngine() Reconfigurable {
	if _, ok := r.limits.(rateLimited); !ok {
		return r.engine
	}
	return r
}

// Reload implements Reconfigurable.
func (r reloadLimits) Reload(cfg *config.Config) error {
	if err := r.engine.Reload(cfg); err != nil {
		return err
	}
	r.limits.(rateLimited).SetRateLimits(cfg.RateLimits)
	return nil
}
