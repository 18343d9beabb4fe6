//go:build linux

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClientFQDNOfRealClients: a real client that sends the client FQDN
// option (RFC 4702) — udhcpc -F in ASCII with S=1, dhclient in wire
// format with S=1 — gets its name qualified by the subnet's suffix; the
// lease event hook sees the name, and dhclient reads the server's option
// 81 back.
func TestClientFQDNOfRealClients(t *testing.T) {
	for _, kind := range clientKinds {
		t.Run(string(kind), func(t *testing.T) {
			requireClientCommands(t, kind)
			_, srvHost, hosts := newServerLink(t, 1)
			dir := t.TempDir()
			record := filepath.Join(dir, "events")
			script := filepath.Join(dir, "on-lease")
			writeFile(t, script, `#!/bin/sh
printf '%s %s fqdn=%s\n' "$LEASED_EVENT" "$LEASED_ADDRESS" "$LEASED_FQDN" >>`+shellQuote(record)+"\n", 0o755)
			cfg := filepath.Join(dir, "leased.yaml")
			writeFile(t, cfg, fmt.Sprintf(`interfaces: [eth0]
subnets:
  - prefix: 198.18.0.0/24
    pools: [198.18.0.100-198.18.0.109]
ddns:
  enabled: true
  qualifying-suffix: Example.NET
  servers: [198.18.0.53]
hooks:
  script:
    path: %s
    timeout: 5s
`, script), 0o644)
			srv := startServer(t, srvHost, newStore(t), "--config", cfg)

			c := newClient(t, kind, hosts[0])
			argv := c.argv(true, leaseWait)
			if kind == dhclient {
				f, err := os.OpenFile(c.path("dhclient.conf"), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprint(f, "send fqdn.fqdn \"Laptop\";\nsend fqdn.encoded on;\nsend fqdn.server-update on;\nalso request fqdn;\n")
				f.Close()
			} else {
				argv = append(argv, "-F", "Laptop")
			}
			c.runs++
			c.proc = startProc(t, c.host, string(kind)+" with a client FQDN", c.path("run-fqdn.log"), nil, argv...)
			l := c.waitLease(0)
			addr := l.addr.Addr().String()

			want := "commit " + addr + " fqdn=laptop.example.net"
			var seen string
			err := waitFor(leaseWait, "the hook to see the named lease", func() (bool, error) {
				b, err := os.ReadFile(record)
				if err != nil && !os.IsNotExist(err) {
					return false, err
				}
				seen = string(b)
				return strings.Contains(seen, want), nil
			})
			if err != nil {
				t.Fatalf("%v; the hook saw:\n%s\nserver log:\n%s", err, seen, tail(srv.output(), 20))
			}
			if kind == dhclient {
				e := c.waitEvent(leaseWait, 0, "bound", "reboot")
				if got := e.env["new_fqdn_fqdn"]; strings.TrimSuffix(got, ".") != "laptop.example.net" || e.env["new_fqdn_server_update"] != "true" {
					t.Errorf("dhclient read option 81 as fqdn %q server-update %q; want laptop.example.net and true (environment: %v)",
						got, e.env["new_fqdn_server_update"], e.env)
				}
			}
		})
	}
}
