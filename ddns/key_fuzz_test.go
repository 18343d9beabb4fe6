package ddns

import (
	"strings"
	"testing"
)

// FuzzParseKeys: no key file makes the parsers panic, and every key they
// return is complete.
func FuzzParseKeys(f *testing.F) {
	for _, s := range []string{
		"key \"ddns-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"f1Tx4M/9takphtdz0d/LjOddvxQaHNc4S7w9S5U5h6I=\";\n};\n",
		"# c\nkey a { algorithm hmac-sha1; secret \"YWJj\"; }; /* x */ key b { algorithm hmac-sha512; secret \"YWJj\"; };",
		"key:\n  - id: mykey\n    algorithm: hmac-sha512\n    secret: YWJj\n",
		"key \"unterminated", "/* open", "key k {", "key:\n  - [1, 2]\n", "key: 3\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var keys []Key
		var err error
		if isYAML(b) {
			keys, err = parseKnotKeys(b)
		} else {
			keys, err = parseBINDKeys(b)
		}
		if err != nil {
			return
		}
		for _, k := range keys {
			if k.Name == "" || !strings.HasSuffix(k.Name, ".") || k.Algorithm == "" || k.Secret == "" {
				t.Errorf("incomplete key %+v", k)
			}
		}
	})
}
