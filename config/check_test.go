package config

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCheckedErrorsCarryFileAndLine(t *testing.T) {
	file := lines(
		"interfaces: [eth0, nosuch0]",
		"subnets:",
		"  - prefix: 198.18.0.0/24",
		"    pools:",
		"      - 198.18.0.100-198.18.0.199",
	)
	for _, tc := range []struct {
		name  string
		check Check
		want  []string
	}{
		{"no check: the file alone decides", nil, nil},
		{"a check that finds nothing", func(*Config) []*Error { return nil }, nil},
		{"an interface the host lacks -> its line", func(c *Config) []*Error {
			return []*Error{{Path: "interfaces[1]", Msg: c.Interfaces[1] + " does not exist"}}
		}, []string{"leased.yaml:1: interfaces[1]: nosuch0 does not exist"}},
		{"a pool holding a host address -> the pool's line", func(*Config) []*Error {
			return []*Error{{Path: "subnets[0].pools[0]", Msg: "includes 198.18.0.150"}}
		}, []string{"leased.yaml:5: subnets[0].pools[0]: includes 198.18.0.150"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseChecked("leased.yaml", []byte(file), tc.check)
			if len(tc.want) == 0 {
				if err != nil || c == nil {
					t.Fatalf("ParseChecked: %v", err)
				}
				return
			}
			if c != nil || err == nil {
				t.Fatalf("ParseChecked accepted the file, want %q", tc.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error %v is not an *Error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q, want %q", err, w)
				}
			}
		})
	}
}

func TestParseCheckedSkipsCheckOfInvalidFile(t *testing.T) {
	called := false
	_, err := ParseChecked("leased.yaml", []byte("interfaces: [eth0]\n"), func(*Config) []*Error { called = true; return nil })
	if err == nil {
		t.Fatal("a file without subnets was accepted")
	}
	if called {
		t.Error("the check ran on a configuration that does not validate")
	}
}
