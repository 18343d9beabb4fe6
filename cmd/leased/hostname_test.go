package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"leased/control"
	"leased/lease"
	"leased/lease/journal"
)

// hostileHostnames are host names a client may send, and how people are
// shown them (escape.Text), written out here by hand.
var hostileHostnames = []struct {
	name, hostname, shown string
}{
	{"normal name untouched", "lab-3.example.net", "lab-3.example.net"},
	{"DEL", "pc\x7f", `pc\x7f`},
	{"ESC starting a terminal sequence", "pc\x1b]0;owned\x07", `pc\x1b]0;owned\x07`},
	{"C1 CSI as a byte, not UTF-8", "pc\x9b2J", `pc\x9b2J`},
	{"C1 CSI as a character", "pc\u009b2J", `pc\u009b2J`},
	{"invalid UTF-8", "a\xff\xfeb", `a\xff\xfeb`},
}

// checkNoControl fails t if out holds a control character (C0 other than
// newline and tab, DEL, C1) or a byte that is not UTF-8.
func checkNoControl(t *testing.T, what, out string) {
	t.Helper()
	for i := 0; i < len(out); {
		r, n := utf8.DecodeRuneInString(out[i:])
		if (r == utf8.RuneError && n == 1) || (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) {
			t.Errorf("%s holds %q at %d:\n%q", what, out[i:i+n], i, out)
			return
		}
		i += n
	}
}

// checkJSONHostname fails t unless the JSON line gives the host name
// faithfully: in "hostname", or in "hostname_hex" when it is not UTF-8.
func checkJSONHostname(t *testing.T, what, line, want string) {
	t.Helper()
	var l control.Lease
	if err := json.Unmarshal([]byte(line), &l); err != nil {
		t.Fatalf("%s: %v in %q", what, err, line)
	}
	if got := l.RawHostname(); got != want {
		t.Errorf("%s: host name %q, want %q (line %q)", what, got, want, line)
	}
	if utf8.ValidString(want) != (l.HostnameHex == "") {
		t.Errorf("%s: hostname_hex %q for %q", what, l.HostnameHex, want)
	}
}

func TestLeasesListEscapesHostNames(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := journal.Open(dir, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hostileHostnames {
		l := lease.Lease{Addr: netip.AddrFrom4([4]byte{198, 18, 0, byte(10 + i)}), ClientID: "\x01c", Hostname: h.hostname,
			State: lease.Bound, Expiry: time.Date(2025, 3, 1, 13, 0, 0, 0, time.UTC)}
		if err := s.Commit(context.Background(), l); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	code, out, stderr := runLeases("list", "--store", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkNoControl(t, "table", out)
	rows := strings.Split(strings.TrimSuffix(out, "\n"), "\n")[1:]
	code, jout, stderr := runLeases("list", "--store", dir, "--json")
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, stderr)
	}
	checkNoControl(t, "JSON", jout)
	lines := strings.Split(strings.TrimSuffix(jout, "\n"), "\n")
	if len(rows) != len(hostileHostnames) || len(lines) != len(hostileHostnames) {
		t.Fatalf("%d rows and %d JSON lines, want %d:\n%s\n%s", len(rows), len(lines), len(hostileHostnames), out, jout)
	}
	for i, h := range hostileHostnames {
		t.Run(h.name, func(t *testing.T) {
			if f := strings.Fields(rows[i]); len(f) != 6 || f[3] != h.shown {
				t.Errorf("row %q, want host name %s", rows[i], h.shown)
			}
			checkJSONHostname(t, "JSON", lines[i], h.hostname)
		})
	}
}

func TestCtlLeasesEscapeHostNames(t *testing.T) {
	env := newCtlEnv(t)
	for i, h := range hostileHostnames {
		env.dora(byte(10+i), h.hostname, true)
	}
	for i, h := range hostileHostnames {
		t.Run(h.name, func(t *testing.T) {
			mac := fmt.Sprintf("02:00:00:00:00:%02x", 10+i)
			code, out, stderr := env.run("leases", "list", "--mac", mac)
			if code != 0 {
				t.Fatalf("list: exit %d: %s", code, stderr)
			}
			checkNoControl(t, "list", out)
			if rows := tableRows(t, out); len(rows) != 2 || rows[1][3] != h.shown {
				t.Errorf("list:\n%s\nwant host name %s", out, h.shown)
			}

			code, out, stderr = env.run("leases", "show", mac)
			if code != 0 {
				t.Fatalf("show: exit %d: %s", code, stderr)
			}
			checkNoControl(t, "show", out)
			if !strings.Contains(out, "hostname:   "+h.shown+"\n") {
				t.Errorf("show:\n%s\nwant host name %s", out, h.shown)
			}

			for _, args := range [][]string{{"list", "--mac", mac, "--json"}, {"show", mac, "--json"}} {
				code, out, stderr = env.run(append([]string{"leases"}, args...)...)
				if code != 0 {
					t.Fatalf("%v: exit %d: %s", args, code, stderr)
				}
				checkNoControl(t, strings.Join(args, " "), out)
				checkJSONHostname(t, strings.Join(args, " "), strings.TrimSuffix(out, "\n"), h.hostname)
			}
		})
	}
	// The API itself, as curl shows it: no raw control character, and
	// every host name given faithfully.
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", env.socket)
	}}}
	resp, err := hc.Get("http://leased/v1/leases")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/leases: %v %v", resp.Status, err)
	}
	checkNoControl(t, "GET /v1/leases", string(body))
	var page control.LeasePage
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, l := range page.Leases {
		got[l.RawHostname()] = true
	}
	for _, h := range hostileHostnames {
		if !got[h.hostname] {
			t.Errorf("GET /v1/leases lacks host name %q:\n%s", h.hostname, body)
		}
	}
}

// TestLogsEscapeControlCharacters: the loggers of the server, the relay
// and the client write no control character raw, in either format,
// whatever text reaches them (slog alone writes DEL raw in text, and DEL
// and C1 raw in JSON).
func TestLogsEscapeControlCharacters(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		for _, h := range hostileHostnames {
			t.Run(format+" "+h.name, func(t *testing.T) {
				var buf strings.Builder
				log, err := newLogger(&buf, format, "info")
				if err != nil {
					t.Fatal(err)
				}
				log.Info("x\x7f", "raw", h.hostname, "err", fmt.Errorf("bad %s", h.hostname))
				checkNoControl(t, format+" log", strings.TrimSuffix(buf.String(), "\n"))
			})
		}
	}
}
