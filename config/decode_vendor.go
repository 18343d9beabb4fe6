package config

import (
	"math"
	"regexp"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"

	"leased/dhcpv4"
)

// Option definitions give a name and a type to an option code that package
// dhcpv4 has no name for, so that options mappings can write it by name
// with a plain value (my-option: 198.18.0.9) instead of option-N with a
// typed value. Vendor options are built from sub-options: option 43
// (vendor-specific, RFC 2132 §8.4) as code/length/value triples, option
// 125 (V-I vendor-specific information, RFC 3925 §4) per enterprise
// number.

var (
	definitionKeys = []string{"code", "name", "type", "fields"}
	fieldKeys      = []string{"name", "type"}
	vendorKeys     = []string{"enterprise", "sub-options"}
	definedName    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
)

// optionDef is one entry of option-definitions.
type optionDef struct {
	code   dhcpv4.OptionCode
	kind   valueKind // kindRecords for records
	fields []recordField
}

// kindRecords is the kind of a defined option whose value is a list of
// records of fixed-width typed fields, concatenated.
const kindRecords valueKind = 255

// recordField is one field of a records definition.
type recordField struct {
	name string
	kind valueKind
}

// definitionKinds are the types an option definition may give.
var definitionKinds = map[string]valueKind{
	"ip": kindAddr, "ips": kindAddrs, "string": kindText, "hex": kindHex, "bool": kindBool,
	"uint8": kindUint8, "uint16": kindUint16, "uint32": kindUint32, "int32": kindInt32,
	"records": kindRecords,
}

var definitionTypes = []string{"ip", "ips", "uint8", "uint16", "uint32", "int32", "bool", "string", "hex", "records"}

// fixedKinds are the field types of records: those of a fixed width.
var fixedKinds = []string{"ip", "uint8", "uint16", "uint32", "int32", "bool"}

// optionDefinitions decodes the top-level option-definitions list, found
// ahead of the other keys so that options anywhere in the file can use
// the names it defines.
func (d *decoder) optionDefinitions(root *yaml.Node) {
	r := resolve(root)
	if r == nil || r.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(r.Content); i += 2 {
		if k := resolve(r.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == "option-definitions" {
			d.definitionList(r.Content[i+1], "option-definitions")
			return
		}
	}
}

func (d *decoder) definitionList(n *yaml.Node, path string) {
	d.defs = make(map[string]optionDef)
	codes := make(map[dhcpv4.OptionCode]string)
	d.sequence(n, path, "a list of option definitions", func(_ int, item *yaml.Node, p string) {
		name, def, ok := d.definition(item, p)
		if !ok {
			return
		}
		if other, dup := codes[def.code]; dup {
			d.errorf(item, p, "code %d is already defined as %s", def.code, other)
			return
		}
		if _, dup := d.defs[name]; dup {
			d.errorf(item, p, "%s is already defined", name)
			return
		}
		codes[def.code] = name
		d.defs[name] = def
	})
}

// definition decodes one option definition and checks it clashes with no
// built-in option.
func (d *decoder) definition(n *yaml.Node, path string) (string, optionDef, bool) {
	var (
		def      optionDef
		name     string
		typ      string
		codeSet  bool
		fieldsAt *yaml.Node
		fieldsP  string
	)
	good := true
	d.mapping(n, path, "an option definition (a mapping with code, name and type)", definitionKeys, func(key string, _, v *yaml.Node, p string) {
		switch key {
		case "code":
			c, ok := d.integer(v, p, "an option code from 1 to 254", 1, 254)
			if ok && dhcpv4.OptionCode(c).String() != "option-"+strconv.Itoa(int(c)) {
				d.errorf(v, p, "code %d is the built-in option %s", c, dhcpv4.OptionCode(c))
				ok = false
			}
			if spec, builtin := namedOptions[dhcpv4.OptionCode(c)]; ok && builtin {
				d.errorf(v, p, "code %d cannot be defined: %s", c, spec.refused)
				ok = false
			}
			def.code, codeSet = dhcpv4.OptionCode(c), ok
			good = good && ok
		case "name":
			s, ok := d.text(v, p, "a name of lower-case letters, digits and '-'")
			switch {
			case !ok:
			case !definedName.MatchString(s):
				d.errorf(v, p, "%q is not a name of lower-case letters, digits and '-', starting with a letter", clip(s))
				ok = false
			default:
				if _, builtin := dhcpv4.OptionCodeByName(s); builtin {
					d.errorf(v, p, "%s is the name of a built-in option", s)
					ok = false
				}
			}
			name = s
			good = good && ok
		case "type":
			s, ok := d.text(v, p, "an option type")
			k, known := definitionKinds[s]
			if ok && !known {
				d.errorf(v, p, "unknown type %q%s", clip(s), suggest(s, definitionTypes))
				ok = false
			}
			typ, def.kind = s, k
			good = good && ok
		case "fields":
			fieldsAt, fieldsP = v, p
		}
	})
	if !good {
		return "", def, false
	}
	if !codeSet || name == "" || typ == "" {
		d.errorf(n, path, "an option definition needs code, name and type")
		return "", def, false
	}
	switch {
	case def.kind == kindRecords && fieldsAt == nil:
		d.errorf(n, path, "a records type needs fields: a list of {name, type}")
		return "", def, false
	case def.kind != kindRecords && fieldsAt != nil:
		d.errorf(fieldsAt, fieldsP, "only a records type has fields")
		return "", def, false
	case fieldsAt != nil:
		def.fields, good = d.recordFields(fieldsAt, fieldsP)
	}
	return name, def, good
}

func (d *decoder) recordFields(n *yaml.Node, path string) ([]recordField, bool) {
	var fields []recordField
	good := true
	d.sequence(n, path, "a list of fields such as {name: gateway, type: ip}", func(_ int, item *yaml.Node, p string) {
		var f recordField
		d.mapping(item, p, "a field (a mapping with name and type)", fieldKeys, func(key string, _, v *yaml.Node, fp string) {
			s, ok := d.text(v, fp, "a "+key)
			if !ok {
				good = false
				return
			}
			switch key {
			case "name":
				f.name = s
			case "type":
				if !slices.Contains(fixedKinds, s) {
					d.errorf(v, fp, "unknown field type %q: fields take a fixed-width type (%s)", clip(s), joinWords(fixedKinds))
					good = false
					return
				}
				f.kind = definitionKinds[s]
			}
		})
		if f.name == "" || f.kind == 0 {
			d.errorf(item, p, "a field needs a name and a type")
			good = false
			return
		}
		if slices.ContainsFunc(fields, func(o recordField) bool { return o.name == f.name }) {
			d.errorf(item, p, "field %s is already defined", f.name)
			good = false
			return
		}
		fields = append(fields, f)
	})
	if good && len(fields) == 0 {
		d.errorf(n, path, "a records type needs at least one field")
		good = false
	}
	return fields, good
}

// definedValue decodes the value of a defined option.
func (d *decoder) definedValue(def optionDef, n *yaml.Node, path string) ([]byte, bool) {
	if def.kind != kindRecords {
		val, ok := d.optionValue(def.kind, n, path)
		if ok && def.kind != kindHex {
			if err := (optionSpec{kind: def.kind}).checkWire(val); err != nil {
				d.errorf(n, path, "%v", err)
				return nil, false
			}
		}
		return val, ok
	}
	var out []byte
	good := true
	ok := d.sequence(n, path, "a list of records", func(_ int, item *yaml.Node, p string) {
		rec, ok := d.record(def.fields, item, p)
		out = append(out, rec...)
		good = good && ok
	})
	if ok && len(out) == 0 && good {
		d.errorf(n, path, "want at least one record")
		return nil, false
	}
	return out, ok && good
}

// record decodes one record: a mapping with every field, encoded in the
// order of the definition.
func (d *decoder) record(fields []recordField, n *yaml.Node, path string) ([]byte, bool) {
	vals := make([][]byte, len(fields))
	good := true
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	d.mapping(n, path, "a record (a mapping of its fields)", names, func(key string, _, v *yaml.Node, p string) {
		i := slices.Index(names, key)
		val, ok := d.optionValue(fields[i].kind, v, p)
		vals[i] = val
		good = good && ok
	})
	var out []byte
	for i, v := range vals {
		if v == nil && good {
			d.errorf(n, path, "field %s is missing", names[i])
			good = false
		}
		out = append(out, v...)
	}
	return out, good
}

// vendorSpecific decodes option 43: hex bytes as written, or
// {sub-options: {N: TYPED}} encoded as code, length, value triples
// (RFC 2132 §8.4) in increasing code order. The whole value may exceed
// 255 bytes: it is then sent split over several instances of option 43,
// which the client joins again (RFC 3396).
func (d *decoder) vendorSpecific(n *yaml.Node, path string) ([]byte, bool) {
	if r := resolve(n); r != nil && r.Kind != yaml.MappingNode {
		return d.optionValue(kindHex, n, path)
	}
	var out []byte
	errs := len(d.errs)
	set := false
	d.mapping(n, path, "{sub-options: {1: {ip: 198.18.0.2}}} or hex bytes", []string{"sub-options"}, func(_ string, _, v *yaml.Node, p string) {
		out, set = d.subOptions(v, p), true
	})
	if d.failedSince(errs) {
		return nil, false
	}
	if !set || len(out) == 0 {
		d.errorf(n, path, "want sub-options")
		return nil, false
	}
	return out, true
}

// failedSince reports whether errors were added after the first n.
func (d *decoder) failedSince(n int) bool { return len(d.errs) > n }

// subOptions decodes a mapping of sub-option codes (1 to 254) to typed
// values into code, length, value triples in increasing code order. A
// sub-option value is at most 255 bytes. It reports errors in d.
func (d *decoder) subOptions(n *yaml.Node, path string) []byte {
	type sub struct {
		code byte
		val  []byte
	}
	var subs []sub
	d.mapping(n, path, "a mapping of sub-option codes to typed values", nil, func(key string, k, v *yaml.Node, p string) {
		c, err := strconv.ParseUint(key, 10, 8)
		if err != nil || c < 1 || c > 254 {
			d.errorf(k, p, "%q is not a sub-option code from 1 to 254", clip(key))
			return
		}
		val, ok := d.typedValue(v, p)
		if !ok {
			return
		}
		if len(val) > math.MaxUint8 {
			d.errorf(v, p, "value of %d bytes is longer than the 255 a sub-option holds", len(val))
			return
		}
		subs = append(subs, sub{byte(c), val})
	})
	slices.SortFunc(subs, func(a, b sub) int { return int(a.code) - int(b.code) })
	var out []byte
	for _, s := range subs {
		out = append(out, s.code, byte(len(s.val)))
		out = append(out, s.val...)
	}
	return out
}

// vendorOptions decodes a vendor-options list into option 125 (RFC 3925
// §4): for each enterprise number, the number, the length of its data
// and its sub-options as code, length, value triples. Each enterprise's
// data is at most 255 bytes; the whole option may be longer and is then
// sent split (RFC 3396).
func (d *decoder) vendorOptions(n *yaml.Node, path string) (Option, bool) {
	var out []byte
	var seen []uint32
	errs := len(d.errs)
	d.sequence(n, path, "a list of {enterprise: N, sub-options: {...}}", func(_ int, item *yaml.Node, p string) {
		var (
			ent    uint32
			entSet bool
			data   []byte
		)
		d.mapping(item, p, "a mapping with enterprise and sub-options", vendorKeys, func(key string, _, v *yaml.Node, kp string) {
			switch key {
			case "enterprise":
				e, ok := d.integer(v, kp, "an enterprise number (IANA private enterprise number)", 0, math.MaxUint32)
				ent, entSet = uint32(e), ok
			case "sub-options":
				data = d.subOptions(v, kp)
			}
		})
		switch {
		case !entSet || data == nil:
			if !d.failedSince(errs) {
				d.errorf(item, p, "want enterprise and sub-options")
			}
			return
		case slices.Contains(seen, ent):
			d.errorf(item, p, "enterprise %d is listed twice", ent)
			return
		case len(data) > math.MaxUint8:
			d.errorf(item, p, "sub-options of %d bytes are longer than the 255 one enterprise's data holds (RFC 3925 §4)", len(data))
			return
		}
		seen = append(seen, ent)
		out = append(out, byte(ent>>24), byte(ent>>16), byte(ent>>8), byte(ent), byte(len(data)))
		out = append(out, data...)
	})
	if d.failedSince(errs) || len(out) == 0 {
		return Option{}, false
	}
	return Option{Code: OptVIVendorSpecific, Value: out}, true
}

// OptVIVendorSpecific is option 125, V-I vendor-specific information
// (RFC 3925 §4), built from the vendor-options key.
const OptVIVendorSpecific dhcpv4.OptionCode = 125

// joinWords joins words with commas.
func joinWords(ws []string) string {
	s := ""
	for i, w := range ws {
		if i > 0 {
			s += ", "
		}
		s += w
	}
	return s
}
