package config

import (
	"net/netip"
	"time"

	"leased/dhcpv4"
)

// Defaults for the keys a configuration file may leave out.
const (
	// DefaultLeaseTime is the global lease-time.
	DefaultLeaseTime = time.Hour
	// DefaultOfferHold is how long an offered address stays set aside for
	// the client it was offered to.
	DefaultOfferHold = 30 * time.Second
	// DefaultDeclineProbation is how long an address that a client
	// declined stays out of the pool. It is short on purpose: see
	// Config.DeclineProbation.
	DefaultDeclineProbation = 10 * time.Minute
	// DefaultCheckReleaseSource is whether DHCPRELEASE and DHCPDECLINE
	// messages must come from the lease's holder: see
	// Config.CheckReleaseSource.
	DefaultCheckReleaseSource = true
	// DefaultLeaseStore is the directory of the durable lease store.
	DefaultLeaseStore = "/var/lib/leased"
	// DefaultCommitDelay is the lease store's commit delay: see
	// Config.CommitDelay.
	DefaultCommitDelay = 2 * time.Millisecond
	// MaxCommitDelay bounds commit-delay: every DHCPACK may wait this
	// long, and clients retransmit after about 4 s.
	MaxCommitDelay = 100 * time.Millisecond
	// DefaultReceiveDelay is the pause of a busy reader: see
	// Config.ReceiveDelay.
	DefaultReceiveDelay = 100 * time.Microsecond
	// DefaultStoreType is the lease store backend: the embedded journal.
	DefaultStoreType = StoreJournal
	// DefaultStoreCommitTimeout bounds a commit to a shared store.
	// Clients retransmit after about 4 s: a commit that took longer
	// would answer a request the client has given up on.
	DefaultStoreCommitTimeout = 2 * time.Second
	// MaxStoreCommitTimeout bounds store.commit-timeout.
	MaxStoreCommitTimeout = time.Minute
	// DefaultStorePoolSize is the number of connections to a shared
	// store: one commits, the others read and check its health.
	DefaultStorePoolSize = 4
	// MaxStorePoolSize bounds store.pool-size.
	MaxStorePoolSize = 100
	// MaxReceiveDelay bounds receive-delay: a pausing reader holds its
	// thread, and the server's other work on it waits as long.
	MaxReceiveDelay = time.Millisecond
	// DefaultOfferLimit is offer-limit, in percent of a subnet's pool.
	DefaultOfferLimit = 50
	// DefaultPingWait is how long a subnet's ping-check waits for an
	// answer when its wait is not given.
	DefaultPingWait = 300 * time.Millisecond
	// MaxPingWait bounds ping-check.wait: the DHCPOFFER waits this long
	// at most, and clients retransmit after about 4 s.
	MaxPingWait = 2 * time.Second
	// DefaultHookQueue is hooks.queue: the events each hook may have
	// waiting, about 1.2 KB each, allocated at start; MaxHookQueue
	// bounds it.
	DefaultHookQueue = 4096
	MaxHookQueue     = 65536
	// DefaultHookTimeout bounds a hook script's run and a webhook's
	// attempt; MaxHookTimeout bounds the setting.
	DefaultHookTimeout = 10 * time.Second
	MaxHookTimeout     = 10 * time.Minute
	// DefaultHookConcurrency is hooks.script.concurrency, the scripts run
	// at once; MaxHookConcurrency bounds it.
	DefaultHookConcurrency = 4
	MaxHookConcurrency     = 256
	// DefaultHookRetries is hooks.webhook.retries; MaxHookRetries bounds
	// it.
	DefaultHookRetries = 3
	MaxHookRetries     = 20
	// DefaultDDNSTimeout bounds one attempt of a DNS update
	// (ddns.timeout); MaxDDNSTimeout bounds the setting.
	DefaultDDNSTimeout = 2 * time.Second
	MaxDDNSTimeout     = time.Minute
	// DefaultDDNSRetries is ddns.retries, the attempts per server before
	// the updater backs off; MaxDDNSRetries bounds it.
	DefaultDDNSRetries = 3
	MaxDDNSRetries     = 20
	// DefaultDDNSWorkers is ddns.workers, the updates in flight at once;
	// MaxDDNSWorkers bounds it.
	DefaultDDNSWorkers = 4
	MaxDDNSWorkers     = 256
	// DefaultDDNSQueue is ddns.queue, the lease events waiting for the
	// updater; beyond it they are dropped and the store rescanned.
	// MaxDDNSQueue bounds it.
	DefaultDDNSQueue = 4096
	MaxDDNSQueue     = 65536
	// DefaultDDNSRescan is ddns.rescan, how often the lease store is
	// scanned for DNS work that no event announced; MinDDNSRescan
	// bounds it from below.
	DefaultDDNSRescan = time.Minute
	MinDDNSRescan     = time.Second
	// MaxDDNSTTL bounds ddns.ttl: a DNS TTL is a 31-bit number of
	// seconds (RFC 2181 §8).
	MaxDDNSTTL = (1<<31 - 1) * time.Second
)

// DefaultRateLimits are the rate limits of a server that sets none. They
// never touch a working network: a client sends a handful of requests a
// minute and retransmits after seconds, not 10 a second; a relay agent's
// circuit is a port with a household behind it; a relay agent carries
// thousands of clients, which after a power cut all come back at once,
// and at 20,000 requests a second brings 10,000 of them back each second.
// What they stop is one sender that floods: a client, a port, a relay.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		Client:  Rate{PerSecond: 10, Burst: 40},
		Circuit: Rate{PerSecond: 200, Burst: 1000},
		Relay:   Rate{PerSecond: 20000, Burst: 100000},
		Buckets: 65536,
	}
}

// DefaultHooks are the settings of the hooks section that a file leaves
// out; no hook is on until its path or URL is set.
func DefaultHooks() Hooks {
	return Hooks{
		Queue:   DefaultHookQueue,
		Script:  HookScript{Timeout: DefaultHookTimeout, Concurrency: DefaultHookConcurrency},
		Webhook: HookWebhook{Timeout: DefaultHookTimeout, Retries: DefaultHookRetries},
	}
}

// newDefaults returns a configuration that holds every default and
// nothing else: what a file that sets nothing says, before validation.
// The file parser and NewQuick start from it, so that the defaults are
// set in one place.
func newDefaults() *Config {
	return &Config{
		LeaseStore:         DefaultLeaseStore,
		CommitDelay:        DefaultCommitDelay,
		ReceiveDelay:       DefaultReceiveDelay,
		OfferHold:          DefaultOfferHold,
		DeclineProbation:   DefaultDeclineProbation,
		Defaults:           SubnetDefaults{LeaseTime: DefaultLeaseTime},
		RateLimits:         DefaultRateLimits(),
		OfferLimit:         DefaultOfferLimit,
		CheckReleaseSource: DefaultCheckReleaseSource,
		Store:              Store{Type: DefaultStoreType, CommitTimeout: DefaultStoreCommitTimeout, PoolSize: DefaultStorePoolSize},
		Hooks:              DefaultHooks(),
		DDNS:               DefaultDDNS(),
	}
}

// Quick describes the one subnet of a server configured without a file
// ("leased server -i IFACE --range FIRST-LAST"): the interface, its
// subnet, one dynamic pool and a few common options. Zero fields are left
// out, and LeaseTime defaults to DefaultLeaseTime.
type Quick struct {
	// Interface is the one interface served.
	Interface string
	// Prefix is the subnet served, the interface's.
	Prefix netip.Prefix
	// Pool is the dynamic pool.
	Pool Range
	// LeaseTime is the lease time given to clients.
	LeaseTime time.Duration
	// Router is the default router (option 3).
	Router netip.Addr
	// DNS are the DNS servers (option 6), in order of preference.
	DNS []netip.Addr
	// Domain is the domain name (option 15).
	Domain string
}

// NewQuick returns the validated configuration that q describes, with
// every other setting at its default, as a file holding only these keys
// would give. The errors are those of Validate.
func NewQuick(q Quick) (*Config, error) {
	c := newDefaults()
	if q.LeaseTime != 0 {
		c.Defaults.LeaseTime = q.LeaseTime
	}
	c.Interfaces = []string{q.Interface}
	sub := Subnet{Prefix: q.Prefix, Pools: []Range{q.Pool}, LeaseTime: c.Defaults.LeaseTime}
	if q.Router.IsValid() {
		sub.Options = append(sub.Options, Option{Code: dhcpv4.OptRouter, Value: q.Router.AsSlice()})
	}
	if len(q.DNS) > 0 {
		var v []byte
		for _, a := range q.DNS {
			v = append(v, a.AsSlice()...)
		}
		sub.Options = append(sub.Options, Option{Code: dhcpv4.OptDNSServers, Value: v})
	}
	if q.Domain != "" {
		sub.Options = append(sub.Options, Option{Code: dhcpv4.OptDomainName, Value: []byte(q.Domain)})
	}
	sub.DDNS = effectiveDDNS(c.DDNS, q.Prefix)
	c.Subnets = []Subnet{sub}
	c.DDNS = fillDDNS(c.DDNS)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}
