package dhcpv4

import "strings"

// ValidHostname reports whether name is a host or domain name that the
// host name (option 12, RFC 2132 §3.14), domain name (option 15, §3.17)
// and domain search (option 119, RFC 3397) options can carry: dot-separated
// labels of 1 to 63 letters, digits, '-' and '_', none starting or ending
// with '-' (RFC 1123 §2.1, which lets a label start with a digit), 253
// characters in all, with one trailing dot allowed.
//
// The underscore is outside RFC 1123 §2.1 but common in names that real
// networks give their hosts, so it is accepted.
//
// Servers check the names they are configured with against this rule, and
// clients the names they are sent before they hand them on, for instance
// to a script.
func ValidHostname(name string) bool {
	name = strings.TrimSuffix(name, ".")
	if checkDomainName(name) != nil {
		return false
	}
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			if name[start] == '-' || name[i-1] == '-' {
				return false
			}
			start = i + 1
			continue
		}
		if c := name[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
