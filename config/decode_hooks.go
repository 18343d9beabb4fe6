package config

import (
	"net/url"
	"time"

	"go.yaml.in/yaml/v3"
)

// Hooks are the lease event hooks (package events): an executable run
// per event and an HTTP webhook. The zero Hooks has none.
type Hooks struct {
	// Script, when its Path is set, is run per event.
	Script HookScript
	// Webhook, when its URL is set, receives a POST per event.
	Webhook HookWebhook
	// Queue is how many events each hook may have waiting; beyond it,
	// events are dropped and counted. DefaultHookQueue by default.
	Queue int
}

// HookScript is the executable run per lease event.
type HookScript struct {
	// Path is the executable, an absolute path.
	Path string
	// Timeout bounds a run; at it the process group is killed.
	// DefaultHookTimeout by default.
	Timeout time.Duration
	// Concurrency bounds the runs at once. DefaultHookConcurrency by
	// default.
	Concurrency int
}

// HookWebhook is the HTTP endpoint that receives a POST per lease event.
type HookWebhook struct {
	// URL is an http or https URL.
	URL string
	// SecretFile, when set, holds the secret that signs each POST
	// (HMAC-SHA256); surrounding white space is ignored.
	SecretFile string
	// Timeout bounds each attempt. DefaultHookTimeout by default.
	Timeout time.Duration
	// Retries is the number of attempts after a failed first one.
	// DefaultHookRetries by default.
	Retries int
}

var (
	hooksKeys   = []string{"script", "webhook", "queue"}
	scriptKeys  = []string{"path", "timeout", "concurrency"}
	webhookKeys = []string{"url", "secret-file", "timeout", "retries"}
)

// hooks decodes the hooks section.
func (d *decoder) hooks(n *yaml.Node, path string, h *Hooks) {
	d.mapping(n, path, "a mapping of lease event hooks", hooksKeys, func(key string, _, v *yaml.Node, p string) {
		switch key {
		case "script":
			d.hookScript(v, p, &h.Script)
		case "webhook":
			d.hookWebhook(v, p, &h.Webhook)
		case "queue":
			if i, ok := d.integer(v, p, "a number of events", 1, MaxHookQueue); ok {
				h.Queue = int(i)
			}
		}
	})
}

func (d *decoder) hookScript(n *yaml.Node, path string, s *HookScript) {
	d.mapping(n, path, "a mapping of script settings", scriptKeys, func(key string, _, v *yaml.Node, p string) {
		switch key {
		case "path":
			if t, ok := d.text(v, p, "an absolute path"); ok {
				if len(t) == 0 || t[0] != '/' {
					d.errorf(v, p, "want an absolute path, got %q", clip(t))
					return
				}
				s.Path = t
			}
		case "timeout":
			d.hookTimeout(v, p, &s.Timeout)
		case "concurrency":
			if i, ok := d.integer(v, p, "a number of processes", 1, MaxHookConcurrency); ok {
				s.Concurrency = int(i)
			}
		}
	})
}

func (d *decoder) hookWebhook(n *yaml.Node, path string, w *HookWebhook) {
	d.mapping(n, path, "a mapping of webhook settings", webhookKeys, func(key string, _, v *yaml.Node, p string) {
		switch key {
		case "url":
			if t, ok := d.text(v, p, "an http or https URL"); ok {
				u, err := url.Parse(t)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					d.errorf(v, p, "want an http or https URL, got %q", clip(t))
					return
				}
				w.URL = t
			}
		case "secret-file":
			if t, ok := d.text(v, p, "a file path"); ok {
				w.SecretFile = t
			}
		case "timeout":
			d.hookTimeout(v, p, &w.Timeout)
		case "retries":
			if i, ok := d.integer(v, p, "a number of retries", 0, MaxHookRetries); ok {
				w.Retries = int(i)
			}
		}
	})
}

func (d *decoder) hookTimeout(v *yaml.Node, p string, to *time.Duration) {
	if t, ok := d.duration(v, p, false); ok {
		if t <= 0 || t > MaxHookTimeout {
			d.errorf(v, p, "must be positive and at most %s, got %s", formatDuration(MaxHookTimeout), formatDuration(t))
			return
		}
		*to = t
	}
}
