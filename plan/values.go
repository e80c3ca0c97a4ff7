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
