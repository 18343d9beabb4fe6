//go:build linux

package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// leasedServer is a "leased server" process on a host.
type leasedServer struct {
	*proc
	host  *host
	store string
}

// startServer runs "leased server" on h with args, the lease store in
// store and logs at debug level, and waits until it serves.
func startServer(t *testing.T, h *host, store string, args ...string) *leasedServer {
	t.Helper()
	s := startServerNoWait(t, h, store, args...)
	if err := s.waitServing(); err != nil {
		t.Fatal(err)
	}
	return s
}

// startServerNoWait is startServer without waiting for it to serve.
func startServerNoWait(t *testing.T, h *host, store string, args ...string) *leasedServer {
	t.Helper()
	// No control socket unless a test asks for one (args come after, and
	// the last flag wins): the default path is the host's, shared by
	// every namespace.
	argv := append([]string{build.path, "server", "--store", store, "--log-level", "debug", "--control", ""}, args...)
	logPath := filepath.Join(t.TempDir(), "leased.log")
	p := startProc(t, h, "leased server on "+h.name, logPath, nil, argv...)
	return &leasedServer{proc: p, host: h, store: store}
}

// waitServing waits for the "serving" line, or the process's end.
func (s *leasedServer) waitServing() error {
	return waitFor(startWait, s.name+" to serve", func() (bool, error) {
		if s.exited() {
			return false, fmt.Errorf("it exited (%v):\n%s", s.err, tail(s.output(), 20))
		}
		return len(s.records(map[string]string{"msg": "serving"})) > 0, nil
	})
}

// logRecord is one line of the server's log (slog's text format) as keys
// and values.
type logRecord map[string]string

// parseLogLine splits a line of key=value pairs, with values quoted as
// Go strings where they need it. It returns nil for a line that is not in
// that format (a Go runtime message, say).
func parseLogLine(line string) logRecord {
	rec := logRecord{}
	for line != "" {
		eq := strings.IndexByte(line, '=')
		if eq <= 0 || strings.ContainsAny(line[:eq], " \"") {
			return nil
		}
		key := line[:eq]
		line = line[eq+1:]
		var val string
		if strings.HasPrefix(line, `"`) {
			q, err := strconv.QuotedPrefix(line)
			if err != nil {
				return nil
			}
			val, _ = strconv.Unquote(q)
			line = line[len(q):]
		} else if sp := strings.IndexByte(line, ' '); sp >= 0 {
			val, line = line[:sp], line[sp:]
		} else {
			val, line = line, ""
		}
		rec[key] = val
		line = strings.TrimLeft(line, " ")
	}
	return rec
}

// matches reports whether r has every key of want with its value. A
// "client" value matches a client string that starts with it, since the
// server writes "MAC id=HEX" for clients that send an identifier.
func (r logRecord) matches(want map[string]string) bool {
	for k, v := range want {
		got, ok := r[k]
		if !ok {
			return false
		}
		if k == "client" {
			if got != v && !strings.HasPrefix(got, v+" ") {
				return false
			}
			continue
		}
		if got != v {
			return false
		}
	}
	return true
}

// records returns the log records so far that match want (see matches).
func (s *leasedServer) records(want map[string]string) []logRecord {
	return matchingRecords(s.output(), want)
}

func matchingRecords(log string, want map[string]string) []logRecord {
	var out []logRecord
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if r := parseLogLine(sc.Text()); r != nil && r.matches(want) {
			out = append(out, r)
		}
	}
	return out
}

// waitRecord waits until the log holds more than after records matching
// want, and returns the first new one.
func (s *leasedServer) waitRecord(t *testing.T, after int, want map[string]string) logRecord {
	t.Helper()
	var got []logRecord
	err := waitFor(leaseWait, fmt.Sprintf("%s to log %v", s.name, want), func() (bool, error) {
		got = s.records(want)
		return len(got) > after, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got[after]
}

// event returns the "lease" records of one event kind ("ack", "offer",
// ...) about the client with hardware address mac ("" for any client).
func (s *leasedServer) events(event, mac string) []logRecord {
	want := map[string]string{"msg": "lease", "event": event}
	if mac != "" {
		want["client"] = mac
	}
	return s.records(want)
}

// storedLease is one line of "leased leases list --json".
type storedLease struct {
	Address  netip.Addr `json:"address"`
	ClientID string     `json:"client_id"`
	HWAddr   string     `json:"hw_addr"`
	Hostname string     `json:"hostname"`
	State    string     `json:"state"`
	Expiry   string     `json:"expiry"`
}

// listLeases runs "leased leases list --json" on store. It reads the
// files only, so it runs outside the namespaces.
func listLeases(t *testing.T, store string) []storedLease {
	t.Helper()
	cmd := exec.Command(build.path, "leases", "list", "--store", store, "--json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("leased leases list --store %s: %v: %s", store, err, stderr.Bytes())
	}
	var leases []storedLease
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var l storedLease
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("leased leases list --json: %v in:\n%s", err, out)
		}
		leases = append(leases, l)
	}
	return leases
}

// boundLease returns the bound lease of addr in leases, if any.
func boundLease(leases []storedLease, addr netip.Addr) (storedLease, bool) {
	for _, l := range leases {
		if l.Address == addr && l.State == "bound" {
			return l, true
		}
	}
	return storedLease{}, false
}

// newStore returns an empty lease store directory.
func newStore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeFile writes a configuration file or script, failing the test on
// error.
func writeFile(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
}
