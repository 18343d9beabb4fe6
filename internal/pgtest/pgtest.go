// Package pgtest runs a real PostgreSQL server for tests: initdb into a
// temporary directory, pg_ctl start with its Unix socket in that directory
// and no TCP listener, fsync on. It uses the binaries of Debian's
// postgresql package (/usr/lib/postgresql/<version>/bin, the highest
// version found) or those of $LEASED_PG_BIN. As root it runs them as the
// postgres user, since PostgreSQL refuses to run as root. Without the
// binaries, Start skips the test with a message saying what to install.
//
// One Server can serve many tests, each with a fresh database (NewDB).
// Stop and Restart take the server down and up again, keeping its data,
// for tests of outages.
//
// It is for tests only: the server trusts every local connection.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// ErrNoPostgres is returned, wrapped, by New when no PostgreSQL binaries
// are found.
var ErrNoPostgres = errors.New("pgtest: PostgreSQL binaries not found (install Debian's postgresql package, or set LEASED_PG_BIN)")

// Server is a PostgreSQL server of a test.
type Server struct {
	bin, dir, data string
	asUser         string // run the binaries as this user; "" for oneself
	port           int
	dbs            atomic.Int64
}

// findBin returns the directory of the PostgreSQL binaries.
func findBin() (string, error) {
	if d := os.Getenv("LEASED_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// New creates and starts a server in a new temporary directory. Close
// stops it and removes the directory.
func New() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, data: filepath.Join(dir, "data"), port: 5432}
	if os.Geteuid() == 0 {
		if err := s.handOver("postgres"); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := s.run("initdb", "-D", s.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-instructions"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.Restart(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// handOver gives the directory to the user the server runs as.
func (s *Server) handOver(name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("pgtest: running as root needs the %s user: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(s.dir, uid, gid); err != nil {
		return err
	}
	s.asUser = name
	return nil
}

// run runs one of the PostgreSQL binaries.
func (s *Server) run(name string, args ...string) error {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgtest: %s %v: %w\n%s", name, args, err, out.Bytes())
	}
	return nil
}

// Restart starts the server (again) on its data, and returns once it
// accepts connections.
func (s *Server) Restart() error {
	opts := fmt.Sprintf("-k %s -p %d -c listen_addresses='' -c fsync=on -c max_connections=200 -c shared_buffers=32MB", s.dir, s.port)
	return s.run("pg_ctl", "start", "-w", "-t", "60", "-D", s.data, "-l", filepath.Join(s.dir, "log"), "-o", opts)
}

// Stop stops the server at once (pg_ctl stop -m fast: sessions are
// disconnected), keeping its data.
func (s *Server) Stop() error {
	return s.run("pg_ctl", "stop", "-w", "-m", "fast", "-D", s.data)
}

// Close stops the server and removes its directory.
func (s *Server) Close() error {
	err := s.Stop()
	if rerr := os.RemoveAll(s.dir); err == nil {
		err = rerr
	}
	return err
}

// Dir returns the server's directory, which holds its socket.
func (s *Server) Dir() string { return s.dir }

// URL returns the connection string of database db as user postgres.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", s.dir, s.port, db)
}

// CreateDB creates a new, empty database with a name of its own, and
// returns its connection string.
func (s *Server) CreateDB() (string, error) {
	name := fmt.Sprintf("test%d", s.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", s.URL("postgres"), "-c", "CREATE DATABASE "+name)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w\n%s", err, out)
	}
	return s.URL(name), nil
}

// Start starts a server for tb, stopped and removed when tb ends. It
// skips tb when PostgreSQL is not installed, except when the environment
// variable CI is "true": continuous integration installs it, and a test
// that skips there would hide that it never ran.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := New()
	if errors.Is(err, ErrNoPostgres) {
		if os.Getenv("CI") == "true" {
			tb.Fatal(err.Error() + "; CI must install postgresql")
		}
		tb.Skip(err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// NewDB returns the connection string of a fresh database for tb.
func (s *Server) NewDB(tb testing.TB) string {
	tb.Helper()
	url, err := s.CreateDB()
	if err != nil {
		tb.Fatal(err)
	}
	return url
}
