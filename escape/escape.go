package escape

import (
	"bytes"
	"io"
	"unicode"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// Text returns s as it is when every character of it is printable
// (unicode.IsPrint) and none is a space, a double quote or a backslash,
// as in every valid host name. Otherwise it returns s with each of those
// written as a Go escape, so that the result is one word of printable
// characters that a terminal shows as it is:
//
//   - a byte that is not part of valid UTF-8 as \xNN ("\x9b"),
//   - a control character or space of ASCII (C0, space, DEL) as \xNN ("\x1b", "\x20", "\x7f"),
//   - any other character that is not printable (C1 controls, format
//     characters such as bidirectional overrides, other spaces) as \uNNNN
//     or \UNNNNNNNN ("\u009b", "\u202e"),
//   - a double quote and a backslash as \" and \\.
//
// The result between double quotes is a Go string literal of s
// (strconv.Unquote gives s back). Text does not allocate when s needs no
// escape.
func Text(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == 0x7f || c == '"' || c == '\\' {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || !unicode.IsPrint(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	b = append(b, s[:i]...)
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = appendHex(b, 'x', uint32(s[i]), 2)
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < utf8.RuneSelf && (r <= ' ' || r == 0x7f):
			b = appendHex(b, 'x', uint32(r), 2)
		case unicode.IsPrint(r):
			b = append(b, s[i:i+n]...)
		case r <= 0xffff:
			b = appendHex(b, 'u', uint32(r), 4)
		default:
			b = appendHex(b, 'U', uint32(r), 8)
		}
		i += n
	}
	return string(b)
}

// appendHex appends a backslash, the letter and v in digits hex digits.
func appendHex(b []byte, letter byte, v uint32, digits int) []byte {
	b = append(b, '\\', letter)
	for shift := 4 * (digits - 1); shift >= 0; shift -= 4 {
		b = append(b, hexDigits[v>>shift&0xf])
	}
	return b
}

// JSONWriter returns a writer that passes JSON text on to w with the
// control characters that encoding/json and log/slog write raw, DEL
// (U+007F) and the C1 controls (U+0080 to U+009F), written as JSON
// escapes (\u007f, \u009b). The JSON decodes to the same values. C0
// controls need nothing: both packages escape them already; a byte that
// is not UTF-8 they write as U+FFFD.
//
// The text must be UTF-8, as the JSON that those packages write is; a
// character split across two writes is escaped all the same. Like the
// writers it wraps, the result is not safe for concurrent use: a
// json.Encoder writes from one goroutine, and a slog handler writes one
// line at a time.
func JSONWriter(w io.Writer) io.Writer { return &jsonWriter{w: w} }

type jsonWriter struct {
	w    io.Writer
	lead bool   // the last write ended in 0xc2, held back
	buf  []byte // reused for escaped output
}

// Write implements io.Writer. It reports len(p) when everything before a
// trailing 0xc2 was written; that byte is written with the next call.
func (j *jsonWriter) Write(p []byte) (int, error) {
	if !j.lead && !needsJSONEscape(p) {
		return j.w.Write(p)
	}
	b := j.buf[:0]
	i := 0
	if j.lead {
		j.lead = false
		if len(p) > 0 && p[0] >= 0x80 && p[0] <= 0x9f {
			b = appendJSONEscape(b, p[0])
			i = 1
		} else {
			b = append(b, 0xc2)
		}
	}
	for ; i < len(p); i++ {
		switch c := p[i]; {
		case c == 0x7f:
			b = appendJSONEscape(b, c)
		case c == 0xc2 && i+1 == len(p):
			j.lead = true
		case c == 0xc2 && p[i+1] >= 0x80 && p[i+1] <= 0x9f:
			b = appendJSONEscape(b, p[i+1])
			i++
		default:
			b = append(b, c)
		}
	}
	j.buf = b
	if _, err := j.w.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// TextWriter returns a writer that passes the lines of a log/slog
// TextHandler on to w with DEL (0x7f) written as \x7f. TextHandler quotes,
// with Go escapes, a value holding any other control character or a byte
// that is not UTF-8, but writes DEL raw in a value it does not quote.
// Like the writers it wraps, the result is not safe for concurrent use.
func TextWriter(w io.Writer) io.Writer { return &textWriter{w: w} }

type textWriter struct {
	w   io.Writer
	buf []byte // reused for escaped output
}

// Write implements io.Writer.
func (t *textWriter) Write(p []byte) (int, error) {
	if bytes.IndexByte(p, 0x7f) < 0 {
		return t.w.Write(p)
	}
	b := t.buf[:0]
	for _, c := range p {
		if c == 0x7f {
			b = append(b, `\x7f`...)
		} else {
			b = append(b, c)
		}
	}
	t.buf = b
	if _, err := t.w.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// needsJSONEscape reports whether p holds DEL or the lead byte of a C1
// control in UTF-8 (0xc2, also the lead of U+00A0 to U+00BF).
func needsJSONEscape(p []byte) bool {
	for _, c := range p {
		if c == 0x7f || c == 0xc2 {
			return true
		}
	}
	return false
}

func appendJSONEscape(b []byte, c byte) []byte {
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}
