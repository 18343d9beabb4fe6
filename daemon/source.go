package daemon

import (
	"errors"
	"time"

	"leased/config"
)

// Source is where a server's configuration comes from: a file, read again
// at every reload, or a configuration built from flags (quick mode, see
// config.NewQuick), which cannot be reloaded. The settings given on the
// command line win over the file's, at start and at every reload.
type Source struct {
	// File is the configuration file; empty for quick mode.
	File string
	// Quick is the configuration of quick mode, used when File is empty.
	Quick *config.Config

	// LeaseStore, when not empty, replaces the lease-store directory.
	LeaseStore string
	// CommitDelay and ReceiveDelay, when not nil, replace commit-delay
	// and receive-delay. The caller checks their bounds
	// (config.MaxCommitDelay, config.MaxReceiveDelay).
	CommitDelay, ReceiveDelay *time.Duration

	// Host, when not nil, lists the interfaces of the host, to check the
	// configuration against at start and at every reload (CheckHost):
	// an interface that does not exist, or a pool that includes an
	// address of the host, refuses the configuration. The command sets
	// it to SystemInterfaces.
	Host func() ([]HostInterface, error)
}

// Load returns the configuration with the command-line settings applied
// and, from a file, the SHA-256 of the content it was read from, in hex.
func (s *Source) Load() (*config.Config, string, error) {
	var (
		cfg *config.Config
		sum string
	)
	switch {
	case s.File != "":
		var check config.Check
		if s.Host != nil {
			check = CheckHost(s.Host)
		}
		c, h, err := config.LoadChecked(s.File, check)
		if err != nil {
			return nil, "", err
		}
		cfg, sum = c, h
	case s.Quick != nil:
		c := *s.Quick
		cfg = &c
		if s.Host != nil {
			if err := config.Join(CheckHost(s.Host)(cfg)); err != nil {
				return nil, "", err
			}
		}
	default:
		return nil, "", errors.New("daemon: no configuration file and no quick configuration")
	}
	if s.LeaseStore != "" {
		cfg.LeaseStore = s.LeaseStore
	}
	if s.CommitDelay != nil {
		cfg.CommitDelay = *s.CommitDelay
	}
	if s.ReceiveDelay != nil {
		cfg.ReceiveDelay = *s.ReceiveDelay
	}
	return cfg, sum, nil
}
