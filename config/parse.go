package config

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest configuration file Load reads, in bytes.
const MaxFileSize = 32 << 20

// maxAliasExpansion bounds how many values YAML aliases may add to a
// document when expanded, so that a small file cannot stand for a huge one
// ("billion laughs").
const maxAliasExpansion = 100_000

// Load reads the configuration file at path and returns it parsed and
// validated, as Parse does. Errors reading the file are returned as they
// come from package os; errors in its content are *Error values naming
// path, joined with errors.Join. Files larger than MaxFileSize are
// refused.
func Load(path string) (*Config, error) {
	c, _, err := LoadWithHash(path)
	return c, err
}

// LoadWithHash loads the file at path as Load does and also returns the
// SHA-256 of the bytes it parsed, in hex, so that a running server can
// show exactly which content is in effect.
func LoadWithHash(path string) (*Config, string, error) {
	return LoadChecked(path, nil)
}

// LoadChecked loads the file at path as LoadWithHash does, and then runs
// check, when not nil, on the valid configuration, as ParseChecked does.
func LoadChecked(path string, check Check) (*Config, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, "", err
	}
	if len(data) > MaxFileSize {
		return nil, "", errors.Join(&Error{File: path, Msg: fmt.Sprintf("file is larger than %d MiB", MaxFileSize>>20)})
	}
	c, err := ParseChecked(path, data, check)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(data)
	return c, hex.EncodeToString(sum[:]), nil
}

// Parse parses and validates a configuration. name is the file name that
// error messages start with.
//
// On failure, Parse returns a nil Config and every error it found, each an
// *Error, joined with errors.Join in file order (errors about missing keys,
// which have no line, come first). Errors found while decoding values
// (syntax, unknown or duplicate keys, wrong types, malformed values) are
// reported alone; the checks of Validate, which relate values to each
// other, run only once decoding succeeded.
//
// An empty document is an empty configuration, which fails validation for
// want of interfaces and subnets. Only one YAML document is read; a second
// one is an error. Aliases (*name) are expanded, up to a bound; merge keys
// (<<) are not supported.
func Parse(name string, data []byte) (*Config, error) {
	return ParseChecked(name, data, nil)
}

// ParseChecked parses and validates a configuration as Parse does, then,
// when it is valid and check is not nil, runs check on it: the errors
// check returns are given the file name and the line of their Path, as
// those of Validate are, and refuse the configuration.
func ParseChecked(name string, data []byte, check Check) (*Config, error) {
	root, perr := readYAML(name, data)
	if perr != nil {
		return nil, errors.Join(perr)
	}
	d := &decoder{file: name, lines: make(map[string]int)}
	c := d.config(root)
	if len(d.errs) > 0 {
		return nil, joinErrors(d.errs)
	}
	errs := c.validate()
	if len(errs) == 0 && check != nil {
		errs = check(c)
	}
	if len(errs) > 0 {
		for _, e := range errs {
			e.File = name
			e.Line = d.line(e.Path)
		}
		return nil, joinErrors(errs)
	}
	return c, nil
}

// joinErrors sorts errs by line, keeping the order of errors on one line,
// and joins them.
func joinErrors(errs []*Error) error {
	slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return errors.Join(list...)
}

// readYAML parses data into a node tree and returns its root, or nil for an
// empty document.
func readYAML(name string, data []byte) (root *yaml.Node, err *Error) {
	// The YAML parser reports errors by panicking and recovering
	// internally; should a panic ever escape it, a configuration file
	// must still not bring the process down.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{File: name, Msg: fmt.Sprintf("invalid YAML: parser failed: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if e := dec.Decode(&doc); e != nil {
		if e == io.EOF {
			return nil, nil
		}
		return nil, yamlError(name, data, e)
	}
	var extra yaml.Node
	switch e := dec.Decode(&extra); {
	case e == io.EOF:
	case e != nil:
		return nil, yamlError(name, data, e)
	default:
		return nil, &Error{File: name, Line: extra.Line, Msg: "a second YAML document: the configuration is one document"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	root = doc.Content[0]
	a := aliasCheck{sizes: make(map[*yaml.Node]int64), active: make(map[*yaml.Node]bool)}
	total := a.size(root)
	switch {
	case a.cycle != nil:
		return nil, &Error{File: name, Line: a.cycle.Line, Msg: fmt.Sprintf("alias *%s refers to a value that contains it", a.cycle.Value)}
	case total-a.nodes > maxAliasExpansion:
		return nil, &Error{File: name, Line: a.first.Line, Msg: fmt.Sprintf("aliases expand the file by more than %d values; write the values out", maxAliasExpansion)}
	}
	return root, nil
}

// yamlParserProblems are the messages of the YAML parser proper, as
// opposed to its scanner. The library reports the line of these counting
// from zero (it adds one for scanner errors only), and leaves out line
// zero, so yamlError adds one, or says line 1.
var yamlParserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"found undefined tag handle",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
}

// yamlError turns an error of the YAML parser, "yaml: line 3: message",
// into an *Error. Errors at the end of the input are put on the last line
// of data rather than on the line after it.
func yamlError(name string, data []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if slices.Contains(yamlParserProblems, msg) {
		line = 1
	}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				line, msg = n, after
				if slices.Contains(yamlParserProblems, msg) {
					line++
				}
			}
		}
	}
	last := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		last++
	}
	if line > last && last > 0 {
		line = last
	}
	return &Error{File: name, Line: line, Msg: "invalid YAML: " + msg}
}

// aliasCheck measures a node tree as if its aliases were expanded, and
// finds aliases that refer to a value containing them.
type aliasCheck struct {
	sizes  map[*yaml.Node]int64 // expanded size of anchored nodes measured
	active map[*yaml.Node]bool  // anchored nodes being measured
	nodes  int64                // distinct nodes
	first  *yaml.Node           // the first alias
	cycle  *yaml.Node           // an alias inside the value it refers to
}

func (a *aliasCheck) size(n *yaml.Node) int64 {
	const limit = 1 << 40
	if n == nil || a.cycle != nil {
		return 0
	}
	if n.Kind == yaml.AliasNode {
		if a.first == nil {
			a.first = n
		}
		if a.active[n.Alias] {
			a.cycle = n
			return 0
		}
		return a.size(n.Alias)
	}
	if n.Anchor != "" {
		if s, ok := a.sizes[n]; ok {
			return s
		}
		a.active[n] = true
		defer delete(a.active, n)
	}
	a.nodes++
	s := int64(1)
	for _, c := range n.Content {
		s = min(s+a.size(c), limit)
	}
	if n.Anchor != "" {
		a.sizes[n] = s
	}
	return s
}
