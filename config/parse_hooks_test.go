package config

import (
	"strings"
	"testing"
	"time"
)

// TestParseHooks: the hooks section, its defaults and its errors, with
// the line and key at fault.
func TestParseHooks(t *testing.T) {
	base := "interfaces: [eth0]\nsubnets:\n  - prefix: 198.18.0.0/24\n    pools: [198.18.0.10-198.18.0.20]\n"
	for _, tc := range []struct {
		name    string
		yaml    string
		want    Hooks
		wantErr string
	}{
		{"absent", "", DefaultHooks(), ""},
		{"script", "hooks:\n  script:\n    path: /usr/local/bin/on-lease\n    timeout: 5s\n    concurrency: 2\n  queue: 100\n",
			Hooks{Queue: 100, Script: HookScript{Path: "/usr/local/bin/on-lease", Timeout: 5 * time.Second, Concurrency: 2},
				Webhook: DefaultHooks().Webhook}, ""},
		{"webhook", "hooks:\n  webhook:\n    url: https://hooks.example/lease\n    secret-file: /etc/leased/hook.secret\n    retries: 0\n",
			Hooks{Queue: DefaultHookQueue, Script: DefaultHooks().Script,
				Webhook: HookWebhook{URL: "https://hooks.example/lease", SecretFile: "/etc/leased/hook.secret", Timeout: DefaultHookTimeout}}, ""},
		{"relative path", "hooks:\n  script:\n    path: on-lease\n", Hooks{}, "hooks.script.path"},
		{"not a URL", "hooks:\n  webhook:\n    url: ftp://x/\n", Hooks{}, "hooks.webhook.url"},
		{"timeout too long", "hooks:\n  script:\n    path: /bin/true\n    timeout: 1h\n", Hooks{}, "hooks.script.timeout"},
		{"queue too large", "hooks:\n  queue: 10000000\n", Hooks{}, "hooks.queue"},
		{"unknown key", "hooks:\n  scripts: {}\n", Hooks{}, "scripts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("leased.yaml", []byte(base+tc.yaml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one about %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Hooks != tc.want {
				t.Fatalf("hooks %+v, want %+v", c.Hooks, tc.want)
			}
		})
	}
}
