package ddns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"leased/events"
	"leased/lease"
)

// needTool returns the path of a program, skipping t without it, except
// when the environment variable CI is "true": continuous integration
// installs BIND, and a test that skips there would hide that it never ran.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found; CI must install %s", name, pkg)
	}
	t.Skipf("%s not found (install %s to run this test)", name, pkg)
	return ""
}

// freePort returns a port free for UDP and TCP on 127.0.0.1, for now.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		pc.Close()
		if err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

const bindZone = `$TTL 300
@ IN SOA ns.example.net. hostmaster.example.net. 1 3600 600 86400 300
@ IN NS ns.example.net.
`

// startNamed starts BIND's named on 127.0.0.1 with the zones example.net
// and 0.18.198.in-addr.arpa, updatable with the key of keyFile, and
// returns its address once it answers.
func startNamed(t *testing.T, keyFile string) netip.AddrPort {
	t.Helper()
	named := needTool(t, "named", "bind9")
	dir := t.TempDir()
	port := freePort(t)
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, `options {
	directory "%[1]s";
	pid-file "%[1]s/named.pid";
	session-keyfile "%[1]s/session.key";
	listen-on port %[2]d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
};
controls { };
%[3]s
`, dir, port, key)
	for _, zone := range []string{"example.net", "0.18.198.in-addr.arpa"} {
		file := filepath.Join(dir, zone+".db")
		text := bindZone
		if zone == "example.net" {
			text += "ns IN A 127.0.0.1\n"
		}
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&conf, "zone %q { type primary; file %q; update-policy { grant ddns-key zonesub ANY; }; };\n", zone, file)
	}
	confFile := filepath.Join(dir, "named.conf")
	if err := os.WriteFile(confFile, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(named, "-g", "-c", confFile, "-p", fmt.Sprint(port), "-n", "1")
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
	q.SetQuestion("example.net.", dns.TypeSOA)
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	deadline := time.After(30 * time.Second)
	for {
		if r, _, err := c.Exchange(q, addr.String()); err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 {
			return addr
		}
		select {
		case err := <-exited:
			t.Fatalf("named exited: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("named does not answer on %v\n%s", addr, out.String())
		case <-poll.C:
		}
	}
}

// syncBuffer is a buffer that a process writes while a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// dig asks the server for the records of name and type with dig.
func dig(t *testing.T, srv netip.AddrPort, name, typ string) []string {
	t.Helper()
	out, err := exec.Command(needTool(t, "dig", "bind9-dnsutils"), "@"+srv.Addr().String(), "-p", fmt.Sprint(srv.Port()),
		"+short", "+norecurse", name, typ).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %s %s: %v\n%s", name, typ, err, out)
	}
	return strings.Fields(string(out))
}

// TestBIND makes the updates against BIND 9's named, with a key of
// tsig-keygen, and checks them with dig.
func TestBIND(t *testing.T) {
	keygen := needTool(t, "tsig-keygen", "bind9")
	key, err := exec.Command(keygen, "-a", "hmac-sha256", "ddns-key").Output()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := writeFile(t, string(key))
	checkUpdates(t, startNamed(t, keyFile), keyFile)
}

// checkUpdates makes adds, a conflict, removals and an update with a
// wrong key against a real server of the zones example.net and
// 0.18.198.in-addr.arpa, that takes the key of keyFile, and checks the
// zones with dig.
func checkUpdates(t *testing.T, srv netip.AddrPort, keyFile string) {
	keys, err := ReadKeys(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	store := &confirmingStore{Memory: &lease.Memory{}}
	rule := Rule{Subnet: subnet,
		Forward: Target{Zone: "example.net", Servers: []netip.AddrPort{srv}, Key: &keys[0]},
		Reverse: Target{Zone: "0.18.198.in-addr.arpa", Servers: []netip.AddrPort{srv}, Key: &keys[0]}}
	u, err := New(Options{Rules: []Rule{rule}, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	commit := func(typ events.Type, a netip.Addr, hw lease.HardwareAddr) {
		e := event(typ, a, hw, "host.example.net")
		e.Start, e.Expiry = start, start.Add(time.Hour)
		u.Handle(ctx, e)
	}

	commit(events.Commit, addr1, hwA)
	if got := dig(t, srv, "host.example.net", "A"); !equal(got, []string{"198.18.0.10"}) {
		t.Errorf("RFC4703 5.3.1 add: A = %q", got)
	}
	if got := dig(t, srv, "10.0.18.198.in-addr.arpa", "PTR"); !equal(got, []string{"host.example.net."}) {
		t.Errorf("RFC4703 5.4 add: PTR = %q", got)
	}
	if got, want := strings.Join(dig(t, srv, "host.example.net", "DHCID"), ""), dhcidOf(t, hwA, "host.example.net"); got != want {
		t.Errorf("RFC4701 DHCID = %q, want %q", got, want)
	}
	if got := dig(t, srv, "host.example.net", "TXT"); len(got) != 0 {
		t.Errorf("TXT = %q", got)
	}

	commit(events.Commit, addr2, hwB)
	if got := dig(t, srv, "host.example.net", "A"); !equal(got, []string{"198.18.0.10"}) {
		t.Errorf("RFC4703 5.3.2 conflict: A = %q, want the first client's", got)
	}
	if st := u.Stats(); st.Conflicts != 1 {
		t.Errorf("stats %+v, want 1 conflict", st)
	}

	commit(events.Release, addr1, hwA)
	for _, typ := range []string{"A", "DHCID"} {
		if got := dig(t, srv, "host.example.net", typ); len(got) != 0 {
			t.Errorf("RFC4703 5.5 removal: %s = %q, want none", typ, got)
		}
	}
	if got := dig(t, srv, "10.0.18.198.in-addr.arpa", "PTR"); len(got) != 0 {
		t.Errorf("RFC4703 5.5 removal: PTR = %q, want none", got)
	}

	bad := rule
	bad.Forward.Key = wrongKey
	u.SetRules([]Rule{bad})
	commit(events.Commit, addr1, hwA)
	if st := u.Stats(); st.Refused == 0 || st.Retrying != 1 {
		t.Errorf("wrong key: stats %+v, want refused and retrying", st)
	}
	if got := dig(t, srv, "host.example.net", "A"); len(got) != 0 {
		t.Errorf("wrong key: A = %q, want none", got)
	}
}
