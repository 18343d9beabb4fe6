package ddns

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/miekg/dns"
	"go.yaml.in/yaml/v3"
)

// Key is a TSIG key (RFC 8945): its name, its algorithm as package
// github.com/miekg/dns names it (dns.HmacSHA256, ...) and its secret in
// base64.
type Key struct{ Name, Algorithm, Secret string }

// algorithms maps the algorithm names of BIND and Knot key files to the
// names of package dns. HMAC-MD5 is not among them: package dns no longer
// signs with it, and a key file that asks for it is refused.
var algorithms = map[string]string{
	"hmac-sha1":   dns.HmacSHA1,
	"hmac-sha224": dns.HmacSHA224,
	"hmac-sha256": dns.HmacSHA256,
	"hmac-sha384": dns.HmacSHA384,
	"hmac-sha512": dns.HmacSHA512,
}

// ReadKeys reads the TSIG keys of a key file in either of the formats the
// DNS servers' tools write: BIND's
//
//	key "name" {
//		algorithm hmac-sha256;
//		secret "base64";
//	};
//
// as tsig-keygen writes it (several keys, comments in #, // and /* */),
// or Knot's YAML as keymgr -t writes it:
//
//	key:
//	  - id: name
//	    algorithm: hmac-sha256
//	    secret: base64
//
// Key names are returned fully qualified and in lower case. Errors name
// the file and the line.
func ReadKeys(path string) ([]Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys []Key
	if isYAML(b) {
		keys, err = parseKnotKeys(b)
	} else {
		keys, err = parseBINDKeys(b)
	}
	if err != nil {
		return nil, fmt.Errorf("%s:%w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no key", path)
	}
	return keys, nil
}

// isYAML reports whether b looks like Knot's YAML: its first line that is
// not blank nor a comment is "key:".
func isYAML(b []byte) bool {
	for line := range bytes.Lines(b) {
		s := strings.TrimSpace(string(line))
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		return s == "key:"
	}
	return false
}

// newKey checks a key's parts; line is where the key starts.
func newKey(line int, name, alg, secret string) (Key, error) {
	if name == "" {
		return Key{}, fmt.Errorf("%d: key without a name", line)
	}
	if _, ok := dns.IsDomainName(name); !ok {
		return Key{}, fmt.Errorf("%d: key name %q is not a domain name", line, name)
	}
	a, ok := algorithms[strings.ToLower(strings.TrimSuffix(alg, "."))]
	switch {
	case alg == "":
		return Key{}, fmt.Errorf("%d: key %q has no algorithm", line, name)
	case !ok:
		return Key{}, fmt.Errorf("%d: key %q: unsupported algorithm %q (want hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384 or hmac-sha512)", line, name, alg)
	case secret == "":
		return Key{}, fmt.Errorf("%d: key %q has no secret", line, name)
	}
	if _, err := base64.StdEncoding.DecodeString(secret); err != nil {
		return Key{}, fmt.Errorf("%d: key %q: secret is not base64: %v", line, name, err)
	}
	return Key{Name: dns.CanonicalName(name), Algorithm: a, Secret: secret}, nil
}

// parseKnotKeys parses Knot's key YAML.
func parseKnotKeys(b []byte) ([]Key, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf(" %v", err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("1: want a mapping with a key: list")
	}
	top := doc.Content[0]
	var keys []Key
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if k.Value != "key" {
			return nil, fmt.Errorf("%d: unknown section %q (want key)", k.Line, k.Value)
		}
		if v.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%d: key: want a list of keys", v.Line)
		}
		for _, item := range v.Content {
			if item.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("%d: key: want id, algorithm and secret", item.Line)
			}
			f := map[string]string{}
			for j := 0; j+1 < len(item.Content); j += 2 {
				name := item.Content[j].Value
				switch name {
				case "id", "algorithm", "secret":
					f[name] = item.Content[j+1].Value
				default:
					return nil, fmt.Errorf("%d: key: unknown field %q", item.Content[j].Line, name)
				}
			}
			key, err := newKey(item.Line, f["id"], f["algorithm"], f["secret"])
			if err != nil {
				return nil, err
			}
			keys = append(keys, key)
		}
	}
	return keys, nil
}

// token is a word, a quoted string or one of "{};" of a BIND file.
type token struct {
	text   string
	quoted bool
	line   int
}

// tokenize splits a BIND configuration into tokens, dropping comments.
func tokenize(b []byte) ([]token, error) {
	var toks []token
	line := 1
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#' || (c == '/' && i+1 < len(b) && b[i+1] == '/'):
			for i < len(b) && b[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			end := bytes.Index(b[i+2:], []byte("*/"))
			if end < 0 {
				return nil, fmt.Errorf("%d: unterminated comment", line)
			}
			line += bytes.Count(b[i:i+2+end], []byte("\n"))
			i += end + 4
		case c == '{' || c == '}' || c == ';':
			toks = append(toks, token{text: string(c), line: line})
			i++
		case c == '"':
			end := bytes.IndexAny(b[i+1:], "\"\n")
			if end < 0 || b[i+1+end] != '"' {
				return nil, fmt.Errorf("%d: unterminated string", line)
			}
			toks = append(toks, token{text: string(b[i+1 : i+1+end]), quoted: true, line: line})
			i += end + 2
		default:
			j := i
			for j < len(b) && !bytes.ContainsRune([]byte(" \t\r\n{};\"#"), rune(b[j])) {
				j++
			}
			toks = append(toks, token{text: string(b[i:j]), line: line})
			i = j
		}
	}
	return toks, nil
}

// parseBINDKeys parses the key statements of a BIND configuration.
func parseBINDKeys(b []byte) ([]Key, error) {
	toks, err := tokenize(b)
	if err != nil {
		return nil, err
	}
	p := bindParser{toks: toks}
	var keys []Key
	for !p.done() {
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

type bindParser struct {
	toks []token
	i    int
}

func (p *bindParser) done() bool { return p.i >= len(p.toks) }

// next returns the next token; at the end, an empty one on the last line.
func (p *bindParser) next() token {
	if p.done() {
		line := 1
		if len(p.toks) > 0 {
			line = p.toks[len(p.toks)-1].line
		}
		return token{line: line}
	}
	t := p.toks[p.i]
	p.i++
	return t
}

// expect consumes the punctuation s.
func (p *bindParser) expect(s string) error {
	if t := p.next(); t.text != s || t.quoted {
		return fmt.Errorf("%d: want %q, found %q", t.line, s, t.text)
	}
	return nil
}

// key parses: key NAME { algorithm ALG; secret "SECRET"; };
func (p *bindParser) key() (Key, error) {
	kw := p.next()
	if kw.text != "key" || kw.quoted {
		return Key{}, fmt.Errorf("%d: want a key statement, found %q", kw.line, kw.text)
	}
	name := p.next()
	if name.text == "{" && !name.quoted {
		return Key{}, fmt.Errorf("%d: key without a name", name.line)
	}
	if err := p.expect("{"); err != nil {
		return Key{}, err
	}
	var alg, secret string
	for {
		t := p.next()
		if t.text == "}" && !t.quoted {
			break
		}
		v := p.next()
		switch {
		case t.text == "":
			return Key{}, fmt.Errorf("%d: key %q is not closed", t.line, name.text)
		case t.text == "algorithm":
			alg = v.text
		case t.text == "secret":
			secret = v.text
		default:
			return Key{}, fmt.Errorf("%d: key %q: unknown clause %q", t.line, name.text, t.text)
		}
		if err := p.expect(";"); err != nil {
			return Key{}, err
		}
	}
	if err := p.expect(";"); err != nil {
		return Key{}, err
	}
	return newKey(kw.line, name.text, alg, secret)
}
