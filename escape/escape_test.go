package escape

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"valid host name untouched", "lab-3.example.net", "lab-3.example.net"},
		{"printable non-ASCII untouched", "café-ñandú", "café-ñandú"},
		{"empty", "", ""},
		{"DEL", "pc\x7f", `pc\x7f`},
		{"ESC starting a terminal sequence", "pc\x1b]0;owned\x07", `pc\x1b]0;owned\x07`},
		{"C1 CSI as a byte, not UTF-8", "pc\x9b2J", `pc\x9b2J`},
		{"C1 CSI as a character (U+009B)", "pc\u009b2J", `pc\u009b2J`},
		{"invalid UTF-8", "a\xff\xfeb", `a\xff\xfeb`},
		{"truncated UTF-8 sequence", "a\xc3", `a\xc3`},
		{"NUL and newline", "a\x00b\nc", `a\x00b\x0ac`},
		{"space", "my laptop", `my\x20laptop`},
		{"no-break space", "my\u00a0laptop", `my\u00a0laptop`},
		{"bidirectional override", "abc\u202egpj.exe", `abc\u202egpj.exe`},
		{"double quote and backslash", `a"b\c`, `a\"b\\c`},
		{"literal escape text is not taken for an escape", `a\x7f`, `a\\x7f`},
		{"character beyond the BMP that is not printable", "a\U000e0001", `a\U000e0001`},
		{"printable character beyond the BMP untouched", "a\U0001f600", "a\U0001f600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Text(tt.in)
			if got != tt.want {
				t.Errorf("Text(%q) = %s, want %s", tt.in, got, tt.want)
			}
			checkEscaped(t, tt.in, got)
		})
	}
}

// checkEscaped fails t unless out, the escape of in, is one word of
// printable characters that unquotes back to in.
func checkEscaped(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("Text(%q) = %q is not UTF-8", in, out)
	}
	for _, r := range out {
		if !unicode.IsPrint(r) || r == ' ' {
			t.Errorf("Text(%q) = %q holds %U", in, out, r)
		}
	}
	back, err := strconv.Unquote(`"` + out + `"`)
	if err != nil || back != in {
		t.Errorf("Unquote of Text(%q) = %q, %v", in, back, err)
	}
}

func TestTextDoesNotAllocateForPlainNames(t *testing.T) {
	s := strings.Repeat("host-name.", 8)
	if n := testing.AllocsPerRun(100, func() { _ = Text(s) }); n != 0 {
		t.Errorf("Text of a plain name: %v allocations", n)
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"", "pc", "a\x7f", "\x9b", "\u009b", "a b", `"\`, "\xc2", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkEscaped(t, s, Text(s))
	})
}

func TestJSONWriter(t *testing.T) {
	type record struct {
		Hostname string `json:"hostname"`
	}
	tests := []struct {
		name, hostname, want string
	}{
		{"plain name written as it is", "pc-1", `{"hostname":"pc-1"}`},
		{"DEL", "pc\x7f", `{"hostname":"pc\u007f"}`},
		{"C1 CSI", "pc\u009b2J", `{"hostname":"pc\u009b2J"}`},
		{"first and last C1", "\u0080\u009f", `{"hostname":"\u0080\u009f"}`},
		{"ESC, escaped by encoding/json already", "pc\x1b", `{"hostname":"pc\u001b"}`},
		{"no-break space and other 0xc2 characters kept", "a\u00a0\u00bfb", "{\"hostname\":\"a\u00a0\u00bfb\"}"},
	}
	for _, tt := range tests {
		for _, split := range []bool{false, true} {
			name := tt.name
			if split {
				name += " written a byte at a time"
			}
			t.Run(name, func(t *testing.T) {
				var enc bytes.Buffer
				json.NewEncoder(&enc).Encode(record{tt.hostname})
				var out bytes.Buffer
				w := JSONWriter(&out)
				if split {
					for _, c := range enc.Bytes() {
						w.Write([]byte{c})
					}
				} else if n, err := w.Write(enc.Bytes()); n != enc.Len() || err != nil {
					t.Fatalf("Write = %d, %v; want %d, nil", n, err, enc.Len())
				}
				if got := strings.TrimSuffix(out.String(), "\n"); got != tt.want {
					t.Errorf("got %s, want %s", got, tt.want)
				}
				var back record
				if err := json.Unmarshal(out.Bytes(), &back); err != nil || back.Hostname != tt.hostname {
					t.Errorf("decodes to %q, %v; want %q", back.Hostname, err, tt.hostname)
				}
			})
		}
	}
}

// TestJSONLogLinesHoldNoControlCharacters: a slog JSON handler writing
// through JSONWriter never puts a control character in the log, whatever
// the text logged.
func TestJSONLogLinesHoldNoControlCharacters(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewJSONHandler(JSONWriter(&out), nil))
	evil := "a\x7fb\u009b2J\x1b[31m\x9b\xff\u0085"
	log.Info("lease", "hostname", evil, "err", evil)
	line := strings.TrimSuffix(out.String(), "\n")
	for i, r := range line {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			t.Errorf("log line holds %U at %d: %s", r, i, line)
		}
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatalf("log line is not JSON: %v", err)
	}
	// Bytes that are not UTF-8 become U+FFFD, one each.
	if want := "a\x7fb\u009b2J\x1b[31m\ufffd\ufffd\u0085"; rec["hostname"] != want {
		t.Errorf("hostname %q, want %q", rec["hostname"], want)
	}
}

// FuzzJSONWriter: whatever string encoding/json encodes, and wherever the
// writes split it, the output holds no DEL or C1 control and decodes to
// the same string.
func FuzzJSONWriter(f *testing.F) {
	f.Add("pc\x7f\u009b\u00a0", 3)
	f.Add("\xc2\x9b", 1)
	f.Fuzz(func(t *testing.T, s string, cut int) {
		enc, err := json.Marshal(s)
		if err != nil {
			t.Skip()
		}
		cut = min(max(cut, 0), len(enc))
		var out bytes.Buffer
		w := JSONWriter(&out)
		w.Write(enc[:cut])
		w.Write(enc[cut:])
		for _, r := range out.String() {
			if r == 0x7f || (r >= 0x80 && r <= 0x9f) {
				t.Fatalf("%U in %s", r, out.Bytes())
			}
		}
		var a, b string
		if err := json.Unmarshal(enc, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out.Bytes(), &b); err != nil || a != b {
			t.Fatalf("decodes to %q, %v; want %q", b, err, a)
		}
	})
}

// TestTextLogLinesHoldNoControlCharacters: a slog text handler writing
// through TextWriter never puts a control character in the log, whatever
// the text logged; TextHandler alone writes DEL raw.
func TestTextLogLinesHoldNoControlCharacters(t *testing.T) {
	evil := []string{"pc\x7f", "a\x7fb\u009b2J", "\x1b[31m", "\x9b\xff", "a\u0085"}
	for _, v := range evil {
		var out bytes.Buffer
		log := slog.New(slog.NewTextHandler(TextWriter(&out), nil))
		log.Info("lease\x7f", "hostname", v, "k\x7f", 1)
		line := strings.TrimSuffix(out.String(), "\n")
		for i, r := range line {
			if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == utf8.RuneError {
				t.Errorf("log line holds %U at %d: %q", r, i, line)
			}
		}
	}
	var out bytes.Buffer
	slog.New(slog.NewTextHandler(TextWriter(&out), nil)).Info("x", "hostname", "pc\x7f")
	if !strings.Contains(out.String(), `hostname=pc\x7f`) {
		t.Errorf("DEL not written as \\x7f: %q", out.String())
	}
}
