package plan

// At reads the value at a path of nested objects of a resource's inputs (or
// of any decoded JSON), or nil when a step is missing.
func At(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

// StringAt reads a string at a path of nested objects, or "".
func StringAt(m map[string]any, path ...string) string {
	s, _ := At(m, path...).(string)
	return s
}

// Strings reads a JSON value that IAM-style documents write either as one
// string or as a list of strings ("Action", "Resource"); other elements are
// skipped.
func Strings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Maps returns the maps of a list (other elements are skipped); a value
// that is not a list gives none.
func Maps(v any) []map[string]any {
	a, _ := v.([]any)
	var out []map[string]any
	for _, e := range a {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
