package doccheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const root = "../.."

// goFiles returns the repository's Go files (tests included when tests is true).
func goFiles(t *testing.T, tests bool) []string {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, ".go") && (tests || !strings.HasSuffix(path, "_test.go")) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEveryExportedSymbolHasADocComment enforces the house rule that a user
// of the library can act on every exported name's documentation.
func TestEveryExportedSymbolHasADocComment(t *testing.T) {
	fset := token.NewFileSet()
	for _, path := range goFiles(t, false) {
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name == "main" {
			continue
		}
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() || d.Doc != nil {
					continue
				}
				if d.Recv != nil {
					// Methods of unexported types are not part of the API.
					recv := d.Recv.List[0].Type
					if star, ok := recv.(*ast.StarExpr); ok {
						recv = star.X
					}
					if id, ok := recv.(*ast.Ident); ok && !id.IsExported() {
						continue
					}
				}
				t.Errorf("%s: %s has no doc comment", fset.Position(d.Pos()), d.Name.Name)
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() && d.Doc == nil && s.Doc == nil {
							t.Errorf("%s: type %s has no doc comment", fset.Position(s.Pos()), s.Name.Name)
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() && d.Doc == nil && s.Doc == nil && s.Comment == nil {
								t.Errorf("%s: %s has no doc comment", fset.Position(n.Pos()), n.Name)
							}
						}
					}
				}
			}
		}
	}
}

// TestEveryExportedFieldIsDocumented checks the fields of exported structs
// outside internal/: each has a doc comment, or follows a documented field
// on the line above (one comment for a group). Helm values and Kubernetes
// spec mirrors (values.go, types.go) are named after the chart's keys and
// documented at the type.
func TestEveryExportedFieldIsDocumented(t *testing.T) {
	fset := token.NewFileSet()
	for _, path := range goFiles(t, false) {
		base := filepath.Base(path)
		if strings.Contains(path, "/internal/") || base == "values.go" || base == "types.go" {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name == "main" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok || !ts.Name.IsExported() {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			prevLine, prevDocumented := -1, false
			for _, field := range st.Fields.List {
				line := fset.Position(field.Pos()).Line
				documented := field.Doc != nil || field.Comment != nil || (prevDocumented && line == prevLine+1)
				for _, name := range field.Names {
					if name.IsExported() && !documented {
						t.Errorf("%s: field %s.%s has no doc comment", fset.Position(name.Pos()), ts.Name.Name, name.Name)
					}
				}
				prevLine, prevDocumented = fset.Position(field.End()).Line, documented
			}
			return true
		})
	}
}

// TestEveryComponentConstructorHasAnExample: a constructor that registers a
// component resource has an Example function in its package's tests, so godoc
// shows how to call it and `go test` runs it.
func TestEveryComponentConstructorHasAnExample(t *testing.T) {
	fset := token.NewFileSet()
	constructors := map[string][]string{} // dir -> constructor names
	examples := map[string]bool{}         // dir/ExampleName
	for _, path := range goFiles(t, true) {
		if !strings.Contains(path, "/components/") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Dir(path)
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil {
				continue
			}
			name := fn.Name.Name
			if strings.HasPrefix(name, "Example") {
				examples[dir+"/"+name] = true
				continue
			}
			body := string(src[fset.Position(fn.Body.Pos()).Offset:fset.Position(fn.Body.End()).Offset])
			if strings.HasPrefix(name, "New") && strings.Contains(body, "RegisterComponentResource") {
				constructors[dir] = append(constructors[dir], name)
			}
		}
	}
	if len(constructors) < 10 {
		t.Fatalf("found only %d component packages; is the walk broken?", len(constructors))
	}
	for dir, names := range constructors {
		for _, n := range names {
			if !examples[dir+"/Example"+n] {
				t.Errorf("%s: %s has no Example%s", dir, n, n)
			}
		}
	}
}
