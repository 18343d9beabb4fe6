package ddns

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"leased/config"
)

// TestRulesFromConfig: a rule per enabled subnet, with its zones, key,
// protocol and policy; each key file read once.
func TestRulesFromConfig(t *testing.T) {
	srv := []netip.AddrPort{netip.MustParseAddrPort("198.18.0.53:53")}
	k1 := Key{Name: "one.", Algorithm: dns.HmacSHA256, Secret: "YWJj"}
	k2 := Key{Name: "two.", Algorithm: dns.HmacSHA512, Secret: "ZGVm"}
	reads := 0
	keys := func(path string) ([]Key, error) {
		reads++
		switch path {
		case "two":
			return []Key{k1, k2}, nil
		case "one":
			return []Key{k1}, nil
		}
		return nil, errors.New(path + ": no such file")
	}
	p1, p2, p3 := netip.MustParsePrefix("198.18.0.0/24"), netip.MustParsePrefix("198.18.1.0/24"), netip.MustParsePrefix("198.18.2.0/24")
	cfg := &config.Config{Subnets: []config.Subnet{
		{Prefix: p1, DDNS: config.DDNS{Enabled: true, ForwardZone: "example.net", ReverseZone: "0.18.198.in-addr.arpa", Servers: srv, KeyFile: "two", KeyName: "Two"}},
		{Prefix: p2, DDNS: config.DDNS{Enabled: true, ForwardZone: "example.net", ReverseZone: "none", Servers: srv, KeyFile: "two", KeyName: "one.",
			Protocol: "tcp", ConflictPolicy: "no-check-with-dhcid", Timeout: 5 * time.Second, Retries: 1}},
		{Prefix: p3, DDNS: config.DDNS{ForwardZone: "example.net", Servers: srv}},
	}}
	got, err := RulesFromConfig(cfg, keys)
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{
		{Subnet: p1, Timeout: 2 * time.Second, Retries: 3, Forward: Target{Zone: "example.net", Servers: srv, Key: &k2}, Reverse: Target{Zone: "0.18.198.in-addr.arpa", Servers: srv, Key: &k2}},
		{Subnet: p2, Timeout: 5 * time.Second, Retries: 1, Policy: NoCheckWithDHCID, Forward: Target{Zone: "example.net", Servers: srv, Key: &k1, TCP: true}, Reverse: Target{Servers: srv, Key: &k1, TCP: true}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rules\n%+v\nwant\n%+v", got, want)
	}
	if reads != 1 {
		t.Errorf("key file read %d times, want once", reads)
	}

	for _, tc := range []struct {
		name string
		dd   config.DDNS
		want string
	}{
		{"unreadable key file", config.DDNS{KeyFile: "missing"}, "subnet 198.18.0.0/24: ddns.key-file: missing: no such file"},
		{"several keys, none named", config.DDNS{KeyFile: "two"}, "ddns.key-name: two holds 2 keys: say which one"},
		{"unknown key name", config.DDNS{KeyFile: "one", KeyName: "three"}, `ddns.key-name: no key "three" in one (it has one.)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.dd.Enabled, tc.dd.Servers = true, srv
			_, err := RulesFromConfig(&config.Config{Subnets: []config.Subnet{{Prefix: p1, DDNS: tc.dd}}}, keys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}
