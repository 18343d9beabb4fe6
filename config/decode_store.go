package config

import (
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// StoreType names a lease store backend.
type StoreType string

// The lease store backends.
const (
	// StoreJournal is the embedded journal in the lease-store directory:
	// one server, no service beside it.
	StoreJournal StoreType = "journal"
	// StorePostgres is a PostgreSQL database that several servers share.
	StorePostgres StoreType = "postgres"
)

// Store says which lease store a server uses and how to reach it. A
// file's store section holds effective values; in a Config built in Go,
// the zero Store is the journal and zero fields stand for their
// defaults (see WithDefaults).
type Store struct {
	// Type is the backend; StoreJournal by default ("" in Go).
	Type StoreType

	// URL is the PostgreSQL connection string, a postgres:// URL or
	// libpq keyword=value pairs, TLS settings included (sslmode,
	// sslrootcert, sslcert, sslkey). It must not hold a password.
	// Required for StorePostgres.
	URL string

	// PasswordFile, when set, is a file whose first line is the
	// database password. Without it the password comes from the
	// environment (PGPASSWORD) or ~/.pgpass, as with libpq.
	PasswordFile string

	// CommitTimeout bounds how long a commit may wait for the database
	// before the request is dropped (the client retries).
	CommitTimeout time.Duration

	// PoolSize is the number of database connections the server keeps.
	PoolSize int
}

// WithDefaults returns st with its zero fields set to their defaults.
func (st Store) WithDefaults() Store {
	if st.Type == "" {
		st.Type = DefaultStoreType
	}
	if st.CommitTimeout == 0 {
		st.CommitTimeout = DefaultStoreCommitTimeout
	}
	if st.PoolSize == 0 {
		st.PoolSize = DefaultStorePoolSize
	}
	return st
}

// storeKeys are the keys of the store section.
var storeKeys = []string{"type", "url", "password-file", "commit-timeout", "pool-size"}

// store decodes the store section.
func (d *decoder) store(n *yaml.Node, path string, st *Store) {
	d.mapping(n, path, "a mapping of lease store settings", storeKeys, func(key string, _, v *yaml.Node, p string) {
		switch key {
		case "type":
			if s, ok := d.text(v, p, "journal or postgres"); ok {
				switch t := StoreType(s); t {
				case StoreJournal, StorePostgres:
					st.Type = t
				default:
					d.errorf(v, p, "want journal or postgres, got %q", clip(s))
				}
			}
		case "url":
			if s, ok := d.text(v, p, "a PostgreSQL connection string"); ok {
				if hasPassword(s) {
					d.errorf(v, p, "the connection string holds a password: put it in a file named by password-file, or in PGPASSWORD")
					return
				}
				st.URL = s
			}
		case "password-file":
			if s, ok := d.text(v, p, "a file path"); ok {
				st.PasswordFile = s
			}
		case "commit-timeout":
			if t, ok := d.duration(v, p, false); ok {
				if t <= 0 {
					d.errorf(v, p, "must be positive, got %s", formatDuration(t))
					return
				}
				st.CommitTimeout = t
			}
		case "pool-size":
			if i, ok := d.integer(v, p, "a number of connections", 1, MaxStorePoolSize); ok {
				st.PoolSize = int(i)
			}
		}
	})
}

// hasPassword reports whether a libpq connection string, URL or
// keyword=value pairs, holds a password.
func hasPassword(s string) bool {
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		u, err := url.Parse(s)
		if err != nil {
			return strings.Contains(s, "password")
		}
		if _, set := u.User.Password(); set {
			return true
		}
		return u.Query().Has("password")
	}
	for _, kv := range keywordPairs(s) {
		if kv == "password" {
			return true
		}
	}
	return false
}

// keywordPairs returns the keywords of a keyword=value connection string:
// pairs separated by spaces, values optionally single-quoted with
// backslash escapes.
func keywordPairs(s string) []string {
	var keys []string
	for {
		s = strings.TrimLeft(s, " \t\n\r")
		if s == "" {
			return keys
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return keys
		}
		keys = append(keys, strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		if strings.HasPrefix(s, "'") {
			i := 1
			for i < len(s) && s[i] != '\'' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			s = s[min(i+1, len(s)):]
			continue
		}
		if i := strings.IndexAny(s, " \t\n\r"); i >= 0 {
			s = s[i:]
		} else {
			s = ""
		}
	}
}

// validateStore checks the store section against itself.
func (v *validator) store(st Store) {
	st = st.WithDefaults()
	switch st.Type {
	case StoreJournal:
		if st.URL != "" || st.PasswordFile != "" {
			v.add("store.url", "url and password-file apply to the postgres store only (type: postgres)")
		}
	case StorePostgres:
		if st.URL == "" {
			v.add("store.url", "a postgres store needs url, the database's connection string")
		}
	default:
		v.add("store.type", "want journal or postgres, got %q", st.Type)
	}
	if st.CommitTimeout <= 0 || st.CommitTimeout > MaxStoreCommitTimeout {
		v.add("store.commit-timeout", "must be positive and at most %s, got %s", formatDuration(MaxStoreCommitTimeout), formatDuration(st.CommitTimeout))
	}
	if st.PoolSize < 1 || st.PoolSize > MaxStorePoolSize {
		v.add("store.pool-size", "must be from 1 to %d, got %d", MaxStorePoolSize, st.PoolSize)
	}
}
