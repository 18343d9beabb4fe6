package daemon

import (
	"reflect"
	"slices"
	"strings"
	"unicode"

	"leased/config"
	"leased/control"
)

// setting is one setting of the configuration as a reload sees it: its
// key in the file, its value, and whether a reload can put it in effect
// or only the next start (what the server opened at start: the lease
// store and its commit delay, the readers of the DHCP socket).
type setting struct {
	key     string
	restart bool
	value   func(c *config.Config) any
}

// settings are the settings of a config.Config, in the order of the
// documentation. The fields of config.Config that none of them reads are
// compared as a whole and named after the field (see configChanges).
var settings = []setting{
	{key: "interfaces", value: func(c *config.Config) any { return c.Interfaces }},
	{key: "server-id", value: func(c *config.Config) any { return c.ServerID }},
	{key: "lease-store", restart: true, value: func(c *config.Config) any { return c.LeaseStore }},
	{key: "store", restart: true, value: func(c *config.Config) any { return c.Store }},
	{key: "commit-delay", restart: true, value: func(c *config.Config) any { return c.CommitDelay }},
	{key: "receive-delay", restart: true, value: func(c *config.Config) any { return c.ReceiveDelay }},
	{key: "lease-time", value: func(c *config.Config) any { return c.Defaults.LeaseTime }},
	{key: "renewal-time", value: func(c *config.Config) any { return c.Defaults.T1 }},
	{key: "rebinding-time", value: func(c *config.Config) any { return c.Defaults.T2 }},
	{key: "offer-hold", value: func(c *config.Config) any { return c.OfferHold }},
	{key: "decline-probation", value: func(c *config.Config) any { return c.DeclineProbation }},
	{key: "rate-limit", value: func(c *config.Config) any { return c.RateLimits }},
	{key: "offer-limit", value: func(c *config.Config) any { return c.OfferLimit }},
	{key: "authoritative", value: func(c *config.Config) any { return c.Defaults.Authoritative }},
	{key: "options", value: func(c *config.Config) any { return c.Defaults.Options }},
	{key: "subnets", value: func(c *config.Config) any { return c.Subnets }},
	// The ICMP socket of ping-check is opened at start when a subnet
	// asks for ping checks (openPinger).
	{key: "ping-check (ICMP socket)", restart: true, value: func(c *config.Config) any { return onOff(PingCheckWanted(c)) }},
	// The hooks are started with the server (openHooks).
	{key: "hooks", restart: true, value: func(c *config.Config) any { return c.Hooks }},
}

// settingFields are the fields of config.Config that settings read.
var settingFields = []string{"Interfaces", "ServerID", "LeaseStore", "Store", "CommitDelay", "ReceiveDelay",
	"OfferHold", "DeclineProbation", "RateLimits", "OfferLimit", "Defaults", "Subnets", "Hooks"}

// configChanges says what putting next in effect after cur changes, for a
// server opened with running: the settings whose values differ between
// cur and next and take effect at once, and those whose values differ
// between running and next and wait for a restart.
func configChanges(cur, next, running *config.Config) control.ConfigChanges {
	ch := control.ConfigChanges{Applied: []string{}, RestartNeeded: []control.SettingChange{}}
	for _, s := range settings {
		switch {
		case s.restart && !reflect.DeepEqual(s.value(running), s.value(next)):
			ch.RestartNeeded = append(ch.RestartNeeded, control.SettingChange{
				Key: s.key, Running: showValue(s.value(running)), Loaded: showValue(s.value(next))})
		case !s.restart && !reflect.DeepEqual(s.value(cur), s.value(next)):
			ch.Applied = append(ch.Applied, s.key)
		}
	}
	// Settings added to config.Config later are reported under the
	// name of their field until they are listed above.
	a, b := reflect.ValueOf(cur).Elem(), reflect.ValueOf(next).Elem()
	for i := range a.NumField() {
		f := a.Type().Field(i)
		if !f.IsExported() || slices.Contains(settingFields, f.Name) {
			continue
		}
		if !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			ch.Applied = append(ch.Applied, kebab(f.Name))
		}
	}
	return ch
}

// showValue formats a setting's value for messages.
func showValue(v any) string {
	switch v := v.(type) {
	case []string:
		return strings.Join(v, ",")
	case interface{ String() string }:
		return v.String()
	case string:
		return v
	}
	return reflect.ValueOf(v).String()
}

// kebab turns a Go field name into the form of the file's keys:
// RateLimit -> rate-limit.
func kebab(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 && !unicode.IsUpper(rune(name[i-1])) {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// onOff formats a switch for messages.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
