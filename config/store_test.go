package config

import (
	"testing"
	"time"
)

func TestStoreSection(t *testing.T) {
	c, err := Parse("t.yaml", []byte(validHead+lines(
		"store:",
		"  type: postgres",
		"  url: postgres://leased@db.example.test/leased?sslmode=verify-full&sslrootcert=/etc/leased/ca.pem",
		"  password-file: /etc/leased/db-password",
		"  commit-timeout: 500ms",
		"  pool-size: 8",
	)))
	if err != nil {
		t.Fatal(err)
	}
	want := Store{Type: StorePostgres, URL: "postgres://leased@db.example.test/leased?sslmode=verify-full&sslrootcert=/etc/leased/ca.pem",
		PasswordFile: "/etc/leased/db-password", CommitTimeout: 500 * time.Millisecond, PoolSize: 8}
	if c.Store != want {
		t.Errorf("store %+v\nwant %+v", c.Store, want)
	}
	d, err := Parse("t.yaml", []byte(validHead))
	if err != nil {
		t.Fatal(err)
	}
	if def := (Store{Type: DefaultStoreType, CommitTimeout: DefaultStoreCommitTimeout, PoolSize: DefaultStorePoolSize}); d.Store != def || (Store{}).WithDefaults() != def {
		t.Errorf("default store %+v, zero store with defaults %+v", d.Store, (Store{}).WithDefaults())
	}
	if d.Store.Type != StoreJournal {
		t.Errorf("the default store is %q, want the journal", d.Store.Type)
	}
}

func TestStoreSectionErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"inline password in a URL", "store:\n  type: postgres\n  url: postgres://leased:secret@db/leased\n",
			"t.yaml:7: store.url: the connection string holds a password: put it in a file named by password-file, or in PGPASSWORD"},
		{"password parameter in a URL", "store:\n  type: postgres\n  url: postgres://db/leased?password=secret\n",
			"t.yaml:7: store.url: the connection string holds a password: put it in a file named by password-file, or in PGPASSWORD"},
		{"password keyword", "store:\n  type: postgres\n  url: \"host=db user=leased password='a b'\"\n",
			"t.yaml:7: store.url: the connection string holds a password: put it in a file named by password-file, or in PGPASSWORD"},
		{"unknown type", "store:\n  type: mysql\n", `t.yaml:6: store.type: want journal or postgres, got "mysql"`},
		{"postgres without url", "store:\n  type: postgres\n", "t.yaml:5: store.url: a postgres store needs url, the database's connection string"},
		{"url for the journal", "store:\n  url: host=db\n", "t.yaml:6: store.url: url and password-file apply to the postgres store only (type: postgres)"},
		{"zero commit timeout", "store:\n  commit-timeout: 0s\n", "t.yaml:6: store.commit-timeout: must be positive, got 0s"},
		{"long commit timeout", "store:\n  commit-timeout: 2m\n", "t.yaml:6: store.commit-timeout: must be positive and at most 1m, got 2m"},
		{"pool size out of range", "store:\n  pool-size: 0\n", "t.yaml:6: store.pool-size: 0 is out of range 1 to 100"},
		{"unknown key", "store:\n  uri: host=db\n", "t.yaml:6: store.uri: unknown key (did you mean url?)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, "t.yaml", validHead+tc.input, tc.want)
		})
	}
}

func TestKeywordPairs(t *testing.T) {
	got := keywordPairs(`host=db  application_name='it\'s x' password = p sslmode=require`)
	want := []string{"host", "application_name", "password", "sslmode"}
	if len(got) != len(want) {
		t.Fatalf("%q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%q, want %q", got, want)
		}
	}
}
