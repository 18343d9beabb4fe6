package ddns

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"leased/config"
)

// RulesFromConfig returns the rules of the subnets of cfg that have
// dynamic DNS updates enabled, reading their key files with keys (nil:
// ReadKeys), each file once. Errors name the subnet and the key at fault
// ("ddns.key-file: ...").
func RulesFromConfig(cfg *config.Config, keys func(path string) ([]Key, error)) ([]Rule, error) {
	if keys == nil {
		keys = ReadKeys
	}
	files := map[string][]Key{}
	var rules []Rule
	for i := range cfg.Subnets {
		sn := &cfg.Subnets[i]
		dd := sn.DDNS.WithDefaults()
		if !dd.Enabled {
			continue
		}
		key, err := keyOf(dd, files, keys)
		if err != nil {
			return nil, fmt.Errorf("subnet %v: %w", sn.Prefix, err)
		}
		tcp := dd.Protocol == config.DDNSProtocolTCP
		r := Rule{Subnet: sn.Prefix, TTL: dd.TTL, Timeout: dd.Timeout, Retries: dd.Retries,
			Forward: Target{Zone: zoneOf(dd.ForwardZone), Servers: dd.Servers, Key: key, TCP: tcp},
			Reverse: Target{Zone: zoneOf(dd.ReverseZone), Servers: dd.Servers, Key: key, TCP: tcp}}
		switch dd.ConflictPolicy {
		case config.DDNSCheckWithDHCID:
			r.Policy = CheckWithDHCID
		case config.DDNSNoCheckWithDHCID:
			r.Policy = NoCheckWithDHCID
		default:
			return nil, fmt.Errorf("subnet %v: ddns.conflict-policy: unknown policy %q", sn.Prefix, dd.ConflictPolicy)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// zoneOf is a zone of the configuration as a Target's: "" for none.
func zoneOf(z string) string {
	if z == config.DDNSNoZone {
		return ""
	}
	return z
}

// keyOf returns the key of dd: nil for none, else the one named in its
// key file, or the file's only key.
func keyOf(dd config.DDNS, files map[string][]Key, read func(string) ([]Key, error)) (*Key, error) {
	if dd.KeyFile == "" {
		return nil, nil
	}
	ks, ok := files[dd.KeyFile]
	if !ok {
		var err error
		if ks, err = read(dd.KeyFile); err != nil {
			return nil, fmt.Errorf("ddns.key-file: %w", err)
		}
		files[dd.KeyFile] = ks
	}
	if dd.KeyName == "" {
		if len(ks) != 1 {
			return nil, fmt.Errorf("ddns.key-name: %s holds %d keys: say which one", dd.KeyFile, len(ks))
		}
		return &ks[0], nil
	}
	want := dns.CanonicalName(dd.KeyName)
	var names []string
	for i := range ks {
		if ks[i].Name == want {
			return &ks[i], nil
		}
		names = append(names, ks[i].Name)
	}
	return nil, fmt.Errorf("ddns.key-name: no key %q in %s (it has %s)", dd.KeyName, dd.KeyFile, strings.Join(names, ", "))
}
