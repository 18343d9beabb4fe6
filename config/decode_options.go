package config

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"leased/dhcpv4"
)

func (d *decoder) options(n *yaml.Node, path string) []Option {
	var opts []Option
	d.mapping(n, path, "a mapping of option names to values", nil, func(name string, k, v *yaml.Node, p string) {
		if def, ok := d.defs[name]; ok {
			if val, ok := d.definedValue(def, v, p); ok {
				opts = append(opts, Option{Code: def.code, Value: val})
			}
			return
		}
		code, ok := dhcpv4.OptionCodeByName(name)
		canonical := "option-" + strconv.Itoa(int(code))
		switch {
		case !ok && strings.HasPrefix(name, "option-"):
			if n, err := strconv.ParseUint(name[len("option-"):], 10, 8); err == nil {
				d.errorf(k, p, "unknown option (did you mean option-%d?)", n)
			} else {
				d.errorf(k, p, "unknown option: codes go from 1 to 254")
			}
			return
		case !ok:
			d.errorf(k, p, "unknown option%s", suggest(name, optionNames()))
			return
		case strings.HasPrefix(name, "option-") && name != canonical:
			d.errorf(k, p, "unknown option (did you mean %s?)", canonical)
			return
		}
		spec, known := namedOptions[code]
		switch {
		case known && spec.kind == kindRefused:
			d.errorf(k, p, "%s cannot be configured as an option: %s", code, spec.refused)
			return
		case code.String() != canonical && name != code.String():
			d.errorf(k, p, "%s is %s: write it by name", name, code)
			return
		}
		var val []byte
		switch {
		case code == dhcpv4.OptVendorSpecific:
			val, ok = d.vendorSpecific(v, p)
		case known:
			val, ok = d.optionValue(spec.kind, v, p)
		default:
			val, ok = d.typedValue(v, p)
		}
		if ok {
			opts = append(opts, Option{Code: code, Value: val})
		}
	})
	slices.SortFunc(opts, func(a, b Option) int { return cmp.Compare(a.Code, b.Code) })
	return opts
}

// typedValue decodes the value of an option given by code: a mapping with
// one key that says the type ({ip: 198.18.0.9}, {hex: 0a0b}).
func (d *decoder) typedValue(n *yaml.Node, path string) ([]byte, bool) {
	want := "a typed value such as {hex: 0a0b0c} or {ip: 198.18.0.9}"
	if r := resolve(n); isNull(r) || r.Kind == yaml.MappingNode && len(r.Content) != 2 {
		d.errorf(n, path, "want exactly one type: %s", strings.Join(typedKeys, ", "))
		return nil, false
	}
	var (
		val []byte
		ok  bool
	)
	good := d.mapping(n, path, want, typedKeys, func(key string, _, v *yaml.Node, p string) {
		kind := typedKinds[key]
		val, ok = d.optionValue(kind, v, p)
		if !ok {
			return
		}
		// Named options are checked by Validate, which knows their
		// kind; a typed value has its type checked here. An empty hex
		// value is a valid zero-length option.
		if kind != kindHex {
			if err := (optionSpec{kind: kind}).checkWire(val); err != nil {
				d.errorf(v, p, "%v", err)
				ok = false
			}
		}
	})
	return val, good && ok
}

// optionValue decodes a value of kind k into wire format.
func (d *decoder) optionValue(k valueKind, n *yaml.Node, path string) ([]byte, bool) {
	switch k {
	case kindAddr, kindMask:
		a, ok := d.addr(n, path)
		return a.AsSlice(), ok
	case kindAddrs:
		var b []byte
		ok := d.sequence(n, path, k.want(), func(_ int, item *yaml.Node, p string) {
			if a, good := d.addr(item, p); good {
				b = append(b, a.AsSlice()...)
			}
		})
		if ok && isNull(resolve(n)) {
			d.errorf(n, path, "want %s, got nothing", k.want())
			ok = false
		}
		return b, ok
	case kindText, kindDomain:
		s, ok := d.text(n, path, k.want())
		return []byte(s), ok
	case kindHex:
		s, ok := d.text(n, path, k.want())
		if !ok {
			return nil, false
		}
		b, err := parseHex(s)
		if err != nil {
			d.errorf(n, path, "%v", err)
			return nil, false
		}
		return b, true
	case kindDomainList:
		var names []string
		good := true
		ok := d.sequence(n, path, k.want(), func(_ int, item *yaml.Node, p string) {
			s, ok := d.text(item, p, "a domain name")
			if ok {
				if err := checkDomainName(s); err != nil {
					d.errorf(item, p, "%v", err)
					ok = false
				}
			}
			good = good && ok
			names = append(names, s)
		})
		if !ok || !good {
			return nil, false
		}
		b, err := dhcpv4.AppendDomainList(nil, names)
		if err != nil {
			d.errorf(n, path, "%v", err)
			return nil, false
		}
		return b, true
	case kindClasslessRoutes, kindStaticRoutes:
		var routes []dhcpv4.Route
		good := true
		ok := d.sequence(n, path, k.want(), func(_ int, item *yaml.Node, p string) {
			r, ok := d.route(item, p, k == kindClasslessRoutes)
			good = good && ok
			routes = append(routes, r)
		})
		if !ok || !good {
			return nil, false
		}
		if k == kindStaticRoutes {
			b := make([]byte, 0, 8*len(routes))
			for _, r := range routes {
				b = append(b, r.Dest.Addr().AsSlice()...)
				b = append(b, r.Router.AsSlice()...)
			}
			return b, true
		}
		b, err := dhcpv4.AppendClasslessRoutes(nil, routes)
		if err != nil {
			d.errorf(n, path, "%v", err)
			return nil, false
		}
		return b, true
	case kindUint8:
		v, ok := d.integer(n, path, k.want(), 0, math.MaxUint8)
		return []byte{byte(v)}, ok
	case kindUint16:
		v, ok := d.integer(n, path, k.want(), 0, math.MaxUint16)
		return []byte{byte(v >> 8), byte(v)}, ok
	case kindUint32:
		v, ok := d.integer(n, path, k.want(), 0, math.MaxUint32)
		return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}, ok
	case kindInt32:
		var v int64
		if r := resolve(n); !isNull(r) && r.Kind == yaml.ScalarNode && r.ShortTag() == "!!int" {
			s, ok := d.integer(n, path, k.want(), math.MinInt32, math.MaxInt32)
			if !ok {
				return nil, false
			}
			v = s
		} else {
			t, ok := d.duration(n, path, false)
			if !ok {
				return nil, false
			}
			if t%time.Second != 0 || t < math.MinInt32*time.Second || t > math.MaxInt32*time.Second {
				d.errorf(n, path, "%v is not a whole number of seconds within ±%d", t, math.MaxInt32)
				return nil, false
			}
			v = int64(t / time.Second)
		}
		u := uint32(int32(v))
		return []byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}, true
	case kindBool:
		v, ok := d.boolean(n, path)
		if v {
			return []byte{1}, ok
		}
		return []byte{0}, ok
	}
	d.errorf(n, path, "this option cannot be configured")
	return nil, false
}

// route decodes one route, written as a mapping {destination, router} or
// as "destination via router". Classless routes have a prefix as their
// destination; static routes (option 33) an address, returned as a /32.
func (d *decoder) route(n *yaml.Node, path string, classless bool) (dhcpv4.Route, bool) {
	var (
		r          dhcpv4.Route
		dest, gw   *yaml.Node
		dPath, gwP string
	)
	if rn := resolve(n); !isNull(rn) && rn.Kind == yaml.ScalarNode {
		s, _ := d.text(n, path, "")
		f := strings.Fields(s)
		if len(f) != 3 || f[1] != "via" {
			d.errorf(n, path, "%q is not a route such as \"198.19.0.0/16 via 198.18.0.1\"", clip(s))
			return r, false
		}
		return d.routeEnds(n, path, f[0], n, path, f[2], classless)
	}
	want := "a route such as {destination: 198.19.0.0/16, router: 198.18.0.1}"
	if !classless {
		want = "a route such as {destination: 198.19.0.1, router: 198.18.0.1}"
	}
	good := d.mapping(n, path, want, routeKeys, func(key string, _, v *yaml.Node, p string) {
		switch key {
		case "destination":
			dest, dPath = v, p
		case "router":
			gw, gwP = v, p
		}
	})
	if !good {
		return r, false
	}
	if dest == nil || gw == nil {
		d.errorf(n, path, "want both destination and router")
		return r, false
	}
	ds, ok1 := d.text(dest, dPath, "a destination")
	gs, ok2 := d.text(gw, gwP, "a router address")
	if !ok1 || !ok2 {
		return r, false
	}
	return d.routeEnds(dest, dPath, ds, gw, gwP, gs, classless)
}

func (d *decoder) routeEnds(dn *yaml.Node, dPath, ds string, gn *yaml.Node, gPath, gs string, classless bool) (dhcpv4.Route, bool) {
	var r dhcpv4.Route
	ok := true
	if classless {
		p, err := netip.ParsePrefix(ds)
		switch {
		case err != nil || !p.Addr().Is4():
			d.errorf(dn, dPath, "%q is not an IPv4 prefix such as 198.19.0.0/16", clip(ds))
			ok = false
		case p.Masked() != p:
			d.errorf(dn, dPath, "%v is not a network prefix (did you mean %v?)", p, p.Masked())
			ok = false
		}
		r.Dest = p
	} else {
		a, err := parseAddr4(ds)
		if err != nil {
			d.errorf(dn, dPath, "%v", err)
			ok = false
		}
		r.Dest = netip.PrefixFrom(a, 32)
	}
	g, err := parseAddr4(gs)
	if err != nil {
		d.errorf(gn, gPath, "%v", err)
		ok = false
	}
	r.Router = g
	return r, ok
}

// suggest returns " (did you mean X?)" for the known name closest to key,
