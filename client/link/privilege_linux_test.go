package link

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// childEnv, in the environment of a child process that runs this test
// binary, says it is the child of TestWithoutPrivilegeSaysWhatItNeeds.
const childEnv = "LEASED_LINK_TEST_CHILD"

// TestChildOpen is not a test: it is the body of the child process of
// TestWithoutPrivilegeSaysWhatItNeeds, and returns at once in a normal
// run. It opens what the client opens, on the loopback interface (but the
// ARP socket, which needs an Ethernet interface), and
// prints each error on a line, and whether it still wraps its errno.
func TestChildOpen(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		return
	}
	if os.Geteuid() == 0 {
		fmt.Println("the child runs as root: it would change lo")
		os.Exit(1)
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	_, err = OpenSocket(lo)
	fmt.Println("socket:", err, errors.Is(err, syscall.EPERM))
	err = (&Configurator{Index: lo.Index, Name: lo.Name}).Configure(testLease(), nil)
	fmt.Println("configure:", err, errors.Is(err, syscall.EPERM))
	_, err = listenUDP("lo", netip.MustParseAddr("127.0.0.1"))
	fmt.Println("udp:", err, errors.Is(err, syscall.EACCES))
	os.Exit(0)
}

// Without root, every socket and change of the interface that the client
// needs says which capability it lacks, and still wraps its errno. Run
// as the user nobody, in a child process; nothing is sent and nothing
// changes, since every call is refused.
func TestWithoutPrivilegeSaysWhatItNeeds(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run a child process as the user nobody")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "leased-link-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "link.test")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestChildOpen$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	want := map[string]string{
		"socket:":    "(this needs root or CAP_NET_RAW) true",
		"configure:": "(this needs root or CAP_NET_ADMIN) true",
		"udp:":       "(this needs root or CAP_NET_BIND_SERVICE, and CAP_NET_RAW before Linux 5.7) true",
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		what, _, _ := strings.Cut(line, " ")
		if w, ok := want[what]; ok {
			if !strings.HasSuffix(line, w) {
				t.Errorf("%s\nwant it to end with %q", line, w)
			}
			delete(want, what)
		}
	}
	for what := range want {
		t.Errorf("the child said nothing of %s\n%s", what, out)
	}
}
