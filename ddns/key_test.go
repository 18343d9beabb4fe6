package ddns

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReadKeys reads the key files of tsig-keygen (BIND) and keymgr -t
// (Knot).
func TestReadKeys(t *testing.T) {
	const secret = "f1Tx4M/9takphtdz0d/LjOddvxQaHNc4S7w9S5U5h6I="
	for _, tc := range []struct {
		name, text string
		want       []Key
	}{
		{"BIND tsig-keygen output", "key \"ddns-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"" + secret + "\";\n};\n",
			[]Key{{"ddns-key.", dns.HmacSHA256, secret}}},
		{"BIND several keys, comments, every algorithm",
			"# a comment\nkey a.example { algorithm hmac-sha1; secret \"" + secret + "\"; };\n// another\n" +
				"/* a\nblock */ key \"B.example.\" { algorithm HMAC-SHA224; secret \"" + secret + "\"; };\n" +
				"key c { algorithm hmac-sha384; secret \"" + secret + "\"; };\nkey d { secret \"" + secret + "\"; algorithm hmac-sha512; };\n",
			[]Key{{"a.example.", dns.HmacSHA1, secret}, {"b.example.", dns.HmacSHA224, secret}, {"c.", dns.HmacSHA384, secret}, {"d.", dns.HmacSHA512, secret}}},
		{"Knot keymgr -t output", "# hmac-sha512:mykey:" + secret + "\nkey:\n  - id: mykey\n    algorithm: hmac-sha512\n    secret: " + secret + "\n",
			[]Key{{"mykey.", dns.HmacSHA512, secret}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadKeys(writeFile(t, tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("keys %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestReadKeysErrorsNameFileAndLine: a bad key file is refused with its
// path and the line at fault.
func TestReadKeysErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"hmac-md5 is not supported", "key k {\n algorithm hmac-md5;\n secret \"YWJj\";\n};\n", `:1: key "k": unsupported algorithm "hmac-md5"`},
		{"secret not base64", "\nkey k { algorithm hmac-sha256; secret \"!!\"; };\n", ":2: key \"k\": secret is not base64"},
		{"missing semicolon", "key k {\n algorithm hmac-sha256\n secret \"YWJj\";\n};\n", `:3: want ";", found "secret"`},
		{"unknown clause", "key k {\n algorithm hmac-sha256;\n color \"blue\";\n};\n", `:3: key "k": unknown clause "color"`},
		{"unclosed key", "key k {\n algorithm hmac-sha256;\n", `:2: key "k" is not closed`},
		{"not a key", "options { };\n", `:1: want a key statement, found "options"`},
		{"empty file", "# nothing\n", ": no key"},
		{"Knot without secret", "key:\n  - id: k\n    algorithm: hmac-sha256\n", `:2: key "k" has no secret`},
		{"Knot unknown field", "key:\n  - id: k\n    colour: blue\n", `:3: key: unknown field "colour"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.text)
			_, err := ReadKeys(p)
			if err == nil || !strings.HasPrefix(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %s%s...", err, p, tc.want)
			}
		})
	}
}
