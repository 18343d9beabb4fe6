package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"leased/config"
	"leased/internal/pgtest"
	"leased/lease/journal"
	"leased/lease/postgres"
)

func TestOpenStoreJournalByDefault(t *testing.T) {
	cfg := quickConfig(t, t.TempDir())
	st, err := openStore(Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.(*journal.Store); !ok {
		t.Errorf("the default store is a %T, want the journal", st)
	}
}

func TestOpenStorePostgres(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.NewDB(t)
	cfg := quickConfig(t, t.TempDir())
	cfg.Store = config.Store{Type: config.StorePostgres, URL: url}
	if _, err := openStore(Options{Config: cfg}); !errors.Is(err, postgres.ErrNoSchema) || !strings.Contains(err.Error(), "leased db init") {
		t.Errorf("a database without the schema: %v", err)
	}
	if err := postgres.Init(context.Background(), postgres.Options{URL: url}); err != nil {
		t.Fatal(err)
	}
	st, err := openStore(Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.(*postgres.Store); !ok || !strings.HasPrefix(st.Dir(), "postgres://postgres@") {
		t.Errorf("store %T at %q", st, st.Dir())
	}
	cfg.Store.PasswordFile = filepath.Join(t.TempDir(), "missing")
	if _, err := openStore(Options{Config: cfg}); err == nil || !strings.Contains(err.Error(), "password file") {
		t.Errorf("a missing password file: %v", err)
	}
}
