package daemon

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"leased/config"
)

// TestOpenHooks: no hook configured is no hooks; a script or webhook is
// one; a secret file that cannot be read or is empty stops the start.
func TestOpenHooks(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		hooks   config.Hooks
		want    bool
		wantErr string
	}{
		{"none", config.Hooks{}, false, ""},
		{"defaults only", config.DefaultHooks(), false, ""},
		{"script", config.Hooks{Script: config.HookScript{Path: "/bin/true"}}, true, ""},
		{"webhook with a secret", config.Hooks{Webhook: config.HookWebhook{URL: "http://198.18.0.1/", SecretFile: secret}}, true, ""},
		{"secret missing", config.Hooks{Webhook: config.HookWebhook{URL: "http://198.18.0.1/", SecretFile: filepath.Join(dir, "nope")}}, false, "secret-file"},
		{"secret empty", config.Hooks{Webhook: config.HookWebhook{URL: "http://198.18.0.1/", SecretFile: empty}}, false, "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := openHooks(tc.hooks, slog.New(slog.DiscardHandler))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (h != nil) != tc.want {
				t.Fatalf("hooks %v, want some: %v", h, tc.want)
			}
		})
	}
}
