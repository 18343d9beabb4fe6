package pgtest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestServerStopRestart(t *testing.T) {
	s := Start(t)
	url := s.NewDB(t)
	psql := func(sql string) (string, error) {
		out, err := exec.Command(filepath.Join(s.bin, "psql"), "-X", "-At", url, "-c", sql).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if _, err := psql("CREATE TABLE t (v int); INSERT INTO t VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	if got, err := psql("SHOW fsync"); err != nil || got != "on" {
		t.Fatalf("fsync = %q, %v", got, err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := psql("SELECT 1"); err == nil {
		t.Fatal("a stopped server answered")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if got, err := psql("SELECT v FROM t"); err != nil || got != "42" {
		t.Fatalf("after restart: %q, %v", got, err)
	}
	if url2 := s.NewDB(t); url2 == url {
		t.Fatal("NewDB returned the same database twice")
	}
}
