//go:build linux

package integration

import (
	"path/filepath"
	"testing"

	"leased/config"
)

// TestExamplesLoad: every example configuration in examples/ is valid, so
// that what the documentation offers to copy works. It needs no root.
func TestExamplesLoad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no examples/*.yaml found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := config.Load(f)
			if err != nil {
				t.Fatalf("config.Load: %v", err)
			}
			if len(cfg.Interfaces) == 0 || len(cfg.Subnets) == 0 {
				t.Errorf("%d interfaces and %d subnets, want some of each", len(cfg.Interfaces), len(cfg.Subnets))
			}
		})
	}
}
