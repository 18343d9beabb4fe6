package ddns

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// startKnot starts Knot DNS's knotd on 127.0.0.1 with the zones
// example.net and 0.18.198.in-addr.arpa, updatable with the key of
// keyFile (Knot's YAML), and returns its address once it answers.
func startKnot(t *testing.T, keyFile string) netip.AddrPort {
	t.Helper()
	knotd := needTool(t, "knotd", "knot")
	dir := t.TempDir()
	port := freePort(t)
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, zone := range []string{"example.net", "0.18.198.in-addr.arpa"} {
		text := bindZone
		if zone == "example.net" {
			text += "ns IN A 127.0.0.1\n"
		}
		if err := os.WriteFile(filepath.Join(dir, zone+".zone"), []byte("$ORIGIN "+zone+".\n"+text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`server:
  rundir: %[1]s
  listen: 127.0.0.1@%[2]d
  background-workers: 1
  udp-workers: 1
  tcp-workers: 1
database:
  storage: %[1]s
%[3]s
acl:
  - id: update
    key: ddns-key
    action: update
template:
  - id: default
    storage: %[1]s
    file: "%%s.zone"
    semantic-checks: off
zone:
  - domain: example.net
    acl: update
  - domain: 0.18.198.in-addr.arpa
    acl: update
log:
  - target: stderr
    any: info
`, dir, port, key)
	confFile := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(knotd, "-c", confFile)
	cmd.Stdout, cmd.Stderr, cmd.Dir = &out, &out, dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	q := new(dns.Msg)
	q.SetQuestion("0.18.198.in-addr.arpa.", dns.TypeSOA)
	q2 := new(dns.Msg)
	q2.SetQuestion("example.net.", dns.TypeSOA)
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	deadline := time.After(30 * time.Second)
	for {
		r1, _, err1 := c.Exchange(q, addr.String())
		r2, _, err2 := c.Exchange(q2, addr.String())
		if err1 == nil && err2 == nil && len(r1.Answer) > 0 && len(r2.Answer) > 0 {
			return addr
		}
		select {
		case err := <-exited:
			t.Fatalf("knotd exited: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("knotd does not answer on %v\n%s", addr, out.String())
		case <-poll.C:
		}
	}
}

// TestKnot makes the updates against Knot DNS, with a key of keymgr -t,
// and checks them with dig.
func TestKnot(t *testing.T) {
	keymgr := needTool(t, "keymgr", "knot")
	key, err := exec.Command(keymgr, "-t", "ddns-key", "hmac-sha256").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(key), "key:") {
		t.Fatalf("keymgr -t wrote %q", key)
	}
	keyFile := writeFile(t, string(key))
	checkUpdates(t, startKnot(t, keyFile), keyFile)
}
