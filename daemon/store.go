package daemon

import (
	"context"
	"time"

	"leased/config"
	"leased/lease/journal"
	"leased/lease/postgres"
)

// storeOpenTimeout bounds how long a server waits for a shared lease
// database at start.
const storeOpenTimeout = 30 * time.Second

// openStore opens the lease store the configuration names: the journal in
// the lease-store directory, or a shared PostgreSQL database (the
// password file is read now, after privileges were dropped).
func openStore(opts Options) (leaseStore, error) {
	cfg := opts.Config
	st := cfg.Store.WithDefaults()
	if st.Type != config.StorePostgres {
		return journal.Open(cfg.LeaseStore, journal.Options{Logger: opts.Logger, Salvage: opts.Salvage, CommitDelay: cfg.CommitDelay})
	}
	var password string
	if st.PasswordFile != "" {
		var err error
		if password, err = postgres.ReadPasswordFile(st.PasswordFile); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeOpenTimeout)
	defer cancel()
	return postgres.Open(ctx, postgres.Options{URL: st.URL, Password: password, CommitTimeout: st.CommitTimeout,
		MaxConns: st.PoolSize, Logger: opts.Logger})
}
