package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// maxFuncLines is the house rule for this package: flags and wiring only,
// so that what is worth testing lives in packages their tests reach.
const maxFuncLines = 80

// TestFunctionsAreShort holds cmd/leased to the rule: no function of the
// command (tests aside) longer than maxFuncLines.
func TestFunctionsAreShort(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var body *ast.BlockStmt
			var what string
			switch fn := n.(type) {
			case *ast.FuncDecl:
				body, what = fn.Body, fn.Name.Name
			case *ast.FuncLit:
				body, what = fn.Body, "a function literal"
			default:
				return true
			}
			if body == nil {
				return true
			}
			checked++
			start, end := fset.Position(n.Pos()), fset.Position(body.End())
			if lines := end.Line - start.Line + 1; lines > maxFuncLines {
				t.Errorf("%s:%d: %s is %d lines long, more than %d: move its logic into a package", name, start.Line, what, lines, maxFuncLines)
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no function found: the test reads the wrong directory")
	}
}
