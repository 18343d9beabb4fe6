//go:build linux

package integration

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// build is the leased binary under test. TestMain sets it once, before any
// test runs; tests only read it.
var build struct {
	path string // the binary; empty when not built
	err  error  // why it was not built
}

// Environment variables of the packet sender, the helper mode of the test
// binary that sends UDP datagrams from inside a namespace (see sendUDP).
const (
	envSendTo      = "LEASED_INTEGRATION_SEND_TO"      // address:port
	envSendPayload = "LEASED_INTEGRATION_SEND_PAYLOAD" // hex
)

func TestMain(m *testing.M) {
	if to := os.Getenv(envSendTo); to != "" {
		os.Exit(senderMain(to, os.Getenv(envSendPayload)))
	}
	var dir string
	if os.Geteuid() == 0 {
		// Only root runs these tests; others skip them and need no binary.
		var err error
		dir, err = os.MkdirTemp("", "leased-integration-")
		if err == nil {
			build.path = filepath.Join(dir, "leased")
			build.err = goBuild(build.path)
		} else {
			build.err = err
		}
		if build.err != nil {
			build.path = ""
		}
	}
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// goBuild builds the leased command into out with the go command that is
// on PATH, or else the one of $GOROOT.
func goBuild(out string) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if root := os.Getenv("GOROOT"); root != "" {
			goCmd = filepath.Join(root, "bin", "go")
		} else {
			return fmt.Errorf("building leased: no go command on PATH and GOROOT unset: %w", err)
		}
	}
	cmd := exec.Command(goCmd, "build", "-o", out, "leased/cmd/leased")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building leased: %s: %w\n%s", cmd, err, b)
	}
	return nil
}

// senderMain is the helper mode of the test binary: it sends one UDP
// datagram, the hex payload, to the address to, and exits. Tests run it
// inside a namespace with "ip netns exec".
func senderMain(to, payloadHex string) int {
	payload, err := hex.DecodeString(payloadHex)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sender: %s: %v\n", envSendPayload, err)
		return 2
	}
	conn, err := net.DialTimeout("udp4", to, 5*time.Second)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sender: %v\n", err)
		return 1
	}
	defer conn.Close()
	if _, err := conn.Write(payload); err != nil {
		fmt.Fprintf(os.Stderr, "sender: %v\n", err)
		return 1
	}
	return 0
}

// The commands the tests use, and the Debian package of each.
var commandPackages = map[string]string{
	"ip":       "iproute2",
	"dhclient": "isc-dhcp-client",
	"udhcpc":   "udhcpc",
	"dnsmasq":  "dnsmasq-base",
	"tcpdump":  "tcpdump",
	// The DNS servers of the DNS update tests, and their tools.
	"named":       "bind9",
	"tsig-keygen": "bind9",
	"knotd":       "knot",
	"keymgr":      "knot",
	"dig":         "bind9-dnsutils",
	"nsupdate":    "bind9-dnsutils",
}

// requireRoot skips t unless the test runs as root, or fails it when the
// leased binary could not be built.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("integration tests need root to create network namespaces; run: sudo go test ./integration/")
	}
	if build.path == "" {
		t.Fatalf("no leased binary to test: %v", build.err)
	}
}

// requireCommands skips t when one of the commands is missing, or fails it
// when the environment variable CI is "true": continuous integration
// installs them all and must run every test.
func requireCommands(t *testing.T, names ...string) {
	t.Helper()
	requireRoot(t)
	var missing []string
	for _, n := range append([]string{"ip"}, names...) {
		if _, err := exec.LookPath(n); err != nil {
			missing = append(missing, fmt.Sprintf("%s (Debian package %s)", n, commandPackages[n]))
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("missing commands: %v", missing)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI must install them")
	}
	t.Skip(msg)
}

// errTimeout is wrapped by the errors of waits that ran out of time.
var errTimeout = errors.New("timed out")
