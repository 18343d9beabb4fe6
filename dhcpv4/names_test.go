package dhcpv4

import (
	"strings"
	"testing"
)

func TestValidHostname(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    string
		want bool
	}{
		{"RFC1123 2.1 letters, digits and hyphens", "host-1.example.net", true},
		{"RFC1123 2.1 a label may start with a digit", "1host.example", true},
		{"one trailing dot", "example.net.", true},
		{"underscore, common on real networks", "host_1-a", true},
		{"upper case", "Printer.Example", true},
		{"RFC1123 2.1 leading '-' refused (the client used to accept it)", "-printer", false},
		{"RFC1123 2.1 trailing '-' refused (the client used to accept it)", "printer-", false},
		{"RFC1123 2.1 leading '-' in an inner label refused", "a.-b", false},
		{"empty", "", false},
		{"root only", ".", false},
		{"two trailing dots", "a..", false},
		{"empty label", "a..b", false},
		{"leading dot", ".a", false},
		{"space", "a b", false},
		{"shell metacharacters", "$(x)", false},
		{"semicolon", "a;b", false},
		{"NUL", "a\x00b", false},
		{"RFC1035 2.3.4 label of 63", strings.Repeat("a", 63), true},
		{"RFC1035 2.3.4 label of 64", strings.Repeat("a", 64), false},
		{"253 characters and a trailing dot", strings.Repeat("a.", 127), true},
		{"255 characters", strings.Repeat("a.", 128), false},
	} {
		if got := ValidHostname(tc.s); got != tc.want {
			t.Errorf("%s: ValidHostname(%q) = %v, want %v", tc.name, tc.s, got, tc.want)
		}
	}
}

func FuzzValidHostname(f *testing.F) {
	for _, s := range []string{"example.net", "-a", "a..b", "a_b.", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidHostname(s) {
			return
		}
		// Whatever is valid must encode as a domain list.
		if _, err := AppendDomainList(nil, []string{s}); err != nil {
			t.Errorf("ValidHostname(%q) but AppendDomainList: %v", s, err)
		}
	})
}
