package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Help that was asked for exits 0, for every command; a usage error
// exits 2.
func TestHelpExitsZeroUsageErrorTwo(t *testing.T) {
	commands := [][]string{
		{"server"}, {"relay"}, {"bench"}, {"client"},
		{"leases", "list"}, {"leases", "show"}, {"leases", "release"},
		{"reservations", "list"}, {"reservations", "add"}, {"reservations", "remove"},
		{"pools"}, {"status"}, {"reload"},
	}
	for _, cmd := range commands {
		for _, help := range []string{"-h", "--help", "-help"} {
			name := strings.Join(cmd, " ") + " " + help
			t.Run(name, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), append(append([]string(nil), cmd...), help), &stdout, &stderr)
				if code != 0 {
					t.Errorf("exit %d, want 0", code)
				}
				if out := stdout.String() + stderr.String(); !strings.Contains(out, "usage: leased "+cmd[0]) {
					t.Errorf("no usage printed:\n%s", out)
				}
			})
		}
		name := strings.Join(cmd, " ") + " --no-such-flag"
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), append(append([]string(nil), cmd...), "--no-such-flag"), &stdout, &stderr); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), "no-such-flag") {
				t.Errorf("stderr does not name the flag:\n%s", stderr.String())
			}
		})
	}
}

func TestTopLevelDispatch(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		out, inErr string
	}{
		{[]string{"--help"}, 0, "usage: leased <command>", ""},
		{[]string{"-h"}, 0, "usage: leased <command>", ""},
		{[]string{"help"}, 0, "usage: leased <command>", ""},
		{[]string{"version"}, 0, "leased " + version, ""},
		{[]string{"--version"}, 0, "leased " + version, ""},
		{nil, 2, "", "usage: leased <command>"},
		{[]string{"frobnicate"}, 2, "", `leased: unknown command "frobnicate"`},
		{[]string{"leases", "--help"}, 0, "usage: leased leases", ""},
		{[]string{"leases"}, 2, "", "usage: leased leases"},
		{[]string{"leases", "frob"}, 2, "", `leased leases: unknown subcommand "frob"`},
		{[]string{"reservations", "-h"}, 0, "usage: leased reservations", ""},
		{[]string{"reservations", "frob"}, 2, "", `leased reservations: unknown subcommand "frob"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.out) || !strings.Contains(stderr.String(), tt.inErr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q in stdout, %q in stderr", code, stdout.String(), stderr.String(), tt.code, tt.out, tt.inErr)
			}
		})
	}
}

// A missing required flag is named on the first line, before the usage,
// and exits 2.
func TestMissingRequiredFlag(t *testing.T) {
	tests := []struct {
		args  []string
		first string
		usage string
	}{
		{[]string{"server"}, "leased server: --config FILE is required, or -i IFACE with --range FIRST-LAST (quick mode)", "usage: leased server"},
		{[]string{"server", "-i", "eth0"}, "leased server: --range is required with -i (quick mode)", "usage: leased server"},
		{[]string{"server", "--range", "198.18.0.10-198.18.0.20"}, "leased server: -i is required with --range (quick mode)", "usage: leased server"},
		{[]string{"relay"}, "leased relay: -i and --server are required", "usage: leased relay"},
		{[]string{"relay", "-i", "lo"}, "leased relay: --server is required: the DHCP servers to relay to", "usage: leased relay"},
		{[]string{"relay", "--server", "198.18.0.1"}, "leased relay: -i is required: the downstream interfaces whose clients are served", "usage: leased relay"},
		{[]string{"bench"}, "leased bench: --server is required: the DHCP server to load", "usage: leased bench"},
		{[]string{"bench", "--rate", "10"}, "leased bench: --server is required: the DHCP server to load", "usage: leased bench"},
		{[]string{"client"}, "leased client: -i is required: the interface to configure", "usage: leased client"},
		{[]string{"client", "--once"}, "leased client: -i is required: the interface to configure", "usage: leased client"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			first, rest, _ := strings.Cut(stderr.String(), "\n")
			if code != 2 || first != tt.first || !strings.Contains(rest, tt.usage) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2, the first line %q, then the usage", code, stderr.String(), tt.first)
			}
		})
	}
}
