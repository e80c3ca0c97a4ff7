package stackconfig

import (
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite docs/config.md from the config types")

// referencePath is the generated reference of every stack config key.
const referencePath = "../docs/config.md"

// sections are the structured config keys, in the order the reference lists them.
var sections = []struct {
	key string
	typ reflect.Type
}{
	{"network", reflect.TypeFor[Network]()},
	{"cluster", reflect.TypeFor[Cluster]()},
	{"karpenter", reflect.TypeFor[Karpenter]()},
	{"database", reflect.TypeFor[Database]()},
	{"storage", reflect.TypeFor[Storage]()},
	{"secrets", reflect.TypeFor[Secrets]()},
	{"apps", reflect.TypeFor[AppsConfig]()},
	{"observability", reflect.TypeFor[Observability]()},
	{"images", reflect.TypeFor[Images]()},
	{"sso", reflect.TypeFor[SSO]()},
	{"ci", reflect.TypeFor[CI]()},
	{"policy", reflect.TypeFor[Policy]()},
}

// TestEverySectionIsInTheReference keeps the reference's list in step with
// the sections Parse reads.
func TestEverySectionIsInTheReference(t *testing.T) {
	listed := map[string]bool{"name": true, "tags": true}
	for _, s := range sections {
		listed[s.key] = true
	}
	for _, key := range Sections {
		if !listed[key] {
			t.Errorf("dataplatform:%s is not in docs/config.md's sections", key)
		}
	}
}

// TestConfigReference keeps docs/config.md in step with the config types:
// run `go test ./stackconfig -run TestConfigReference -update` after changing them.
func TestConfigReference(t *testing.T) {
	docs := fieldDocs(t)
	stacks := map[string]map[string]any{}
	for _, s := range []string{"dev", "prod"} {
		stacks[s] = stackConfig(t, "../Pulumi."+s+".yaml")
	}
	var b strings.Builder
	b.WriteString("# Configuration reference\n\n")
	b.WriteString("Every key of the stack config, with its type, what it does and its default, and its value in the\n")
	b.WriteString("dev and prod stacks. Generated from the types of package `stackconfig` and the stack files by\n")
	b.WriteString("`go test ./stackconfig -run TestConfigReference -update`; the test fails when this page is out of date.\n\n")
	b.WriteString("## Top-level keys\n\n| key | type | what it does | dev | prod |\n| --- | --- | --- | --- | --- |\n")
	for _, k := range []struct{ key, typ, doc string }{
		{"aws:region", "string", "The AWS region to deploy to. Required."},
		{"dataplatform:name", "string", docs["Stack.Name"]},
		{"dataplatform:tags", "map of string", docs["Stack.Tags"]},
	} {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", k.key, k.typ, cell(k.doc), value(stacks["dev"][k.key]), value(stacks["prod"][k.key]))
	}
	for _, s := range sections {
		fmt.Fprintf(&b, "\n## dataplatform:%s\n\n%s\n\n| key | type | what it does | dev | prod |\n| --- | --- | --- | --- | --- |\n", s.key, cell(docs["type:"+s.typ.Name()]))
		var rows []string
		walkFields(s.typ, "", func(path, typeName string, f reflect.StructField, owner reflect.Type) {
			doc := docs[owner.Name()+"."+f.Name]
			if doc == "" {
				t.Errorf("%s.%s (dataplatform:%s.%s) has no doc comment", owner.Name(), f.Name, s.key, path)
			}
			dev := lookup(stacks["dev"]["dataplatform:"+s.key], path)
			prod := lookup(stacks["prod"]["dataplatform:"+s.key], path)
			rows = append(rows, fmt.Sprintf("| `%s` | %s | %s | %s | %s |", path, typeName, cell(doc), value(dev), value(prod)))
		})
		b.WriteString(strings.Join(rows, "\n") + "\n")
	}
	got := b.String()
	if *update {
		if err := os.WriteFile(referencePath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v; run go test ./stackconfig -run TestConfigReference -update", err)
	}
	if string(want) != got {
		t.Fatalf("docs/config.md is out of date with the config types; run go test ./stackconfig -run TestConfigReference -update")
	}
}

// walkFields visits every JSON field of t, depth first, with its dotted path.
func walkFields(t reflect.Type, prefix string, visit func(path, typeName string, f reflect.StructField, owner reflect.Type)) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := jsonName(f)
		if name == "" {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		visit(path, typeName(ft), f, t)
		switch {
		case ft.Kind() == reflect.Struct:
			walkFields(ft, path, visit)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			walkFields(ft.Elem(), path+"[]", visit)
		}
	}
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct:
		return "object"
	case reflect.Slice:
		return "list of " + typeName(t.Elem())
	case reflect.Map:
		return "map of " + typeName(t.Elem())
	case reflect.Int:
		return "integer"
	case reflect.Bool:
		return "boolean"
	}
	return "string"
}

// fieldDocs reads the doc comments of the package's types and struct fields,
// as "Type.Field" (and "type:Type") to comment.
func fieldDocs(t *testing.T) map[string]string {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range g.Specs {
				ts, ok := spec.(*ast.TypeSpec)
				if !ok {
					continue
				}
				doc := g.Doc
				if ts.Doc != nil {
					doc = ts.Doc
				}
				docs["type:"+ts.Name.Name] = doc.Text()
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				var shared string // a comment above several fields on separate lines
				for _, field := range st.Fields.List {
					text := field.Doc.Text()
					if text != "" {
						shared = text
					} else {
						text = shared
					}
					for _, n := range field.Names {
						docs[ts.Name.Name+"."+n.Name] = text
					}
				}
			}
		}
	}
	return docs
}

func stackConfig(t *testing.T, path string) map[string]any {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	return file.Config
}

// lookup finds the value at a dotted path; "[]" parts (inside lists) show nothing.
func lookup(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		if strings.HasSuffix(p, "[]") {
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func value(v any) string {
	if v == nil {
		return ""
	}
	if m, ok := v.(map[string]any); ok {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) > 0 {
			if _, nested := m[keys[0]].(map[string]any); nested {
				return "(below)"
			}
		}
	}
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 70 {
		s = s[:67] + "..."
	}
	return "`" + strings.ReplaceAll(s, "|", "\\|") + "`"
}

func cell(doc string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(doc), " "), "|", "\\|")
}
