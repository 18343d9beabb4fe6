//go:build linux

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestDemoScript runs scripts/demo.sh, the newcomers' first step, with the
// binary under test and namespace names of its own, and checks that it
// shows a whole exchange and cleans up after itself.
func TestDemoScript(t *testing.T) {
	requireCommands(t, "dhclient")
	prefix := fmt.Sprintf("leased-it-%d-%d-demo", os.Getpid(), nsCounter.Add(1))
	namespaces := []string{prefix + "-server", prefix + "-client"}
	t.Cleanup(func() {
		// Only if the script failed to remove them.
		for _, ns := range namespaces {
			if _, err := os.Stat("/run/netns/" + ns); err == nil {
				exec.Command("ip", "netns", "del", ns).Run()
				t.Errorf("demo.sh left namespace %s behind", ns)
			}
		}
	})
	cmd := exec.Command("bash", "../scripts/demo.sh")
	cmd.Env = append(os.Environ(), "LEASED_BIN="+build.path, "LEASED_DEMO_PREFIX="+prefix)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo.sh: %v\n%s", err, out)
	}
	for _, want := range []string{
		"DHCPACK of 198.18.0.100", // the client's side
		"event=offer",             // the server's side, at debug
		"event=ack",               //
		"inet 198.18.0.100/24",    // the address on the client's interface
		"default via 198.18.0.1",  // and the route
		"bound",                   // leases list
		"event=released",          // dhclient -r
		"msg=stopped",             // SIGTERM
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo.sh output lacks %q:\n%s", want, out)
		}
	}
}
