// Package validate collects configuration problems so that every one of them
// is reported at once, each with the path of the field it concerns.
package validate

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one invalid configuration value: the dotted path of the field
// (for example "network.cidrBlock") and what is wrong with it, including the
// value that was given and what is allowed.
type Problem struct {
	Field   string
	Message string
}

// String renders the problem as "field: message".
func (p Problem) String() string { return p.Field + ": " + p.Message }

// Problems accumulates Problem values. The zero value is ready to use.
type Problems struct {
	list []Problem
}

// Addf records a problem with the field at path, formatting the message with
// fmt.Sprintf.
func (p *Problems) Addf(path, format string, args ...any) {
	p.list = append(p.list, Problem{Field: path, Message: fmt.Sprintf(format, args...)})
}

// Merge appends every problem of other, each field prefixed with prefix
// (joined by a dot) when prefix is not empty.
func (p *Problems) Merge(prefix string, other *Problems) {
	if other == nil {
		return
	}
	for _, pr := range other.list {
		p.list = append(p.list, Problem{Field: Join(prefix, pr.Field), Message: pr.Message})
	}
}

// Len reports how many problems were recorded.
func (p *Problems) Len() int { return len(p.list) }

// List returns the recorded problems in the order they were found.
func (p *Problems) List() []Problem { return append([]Problem(nil), p.list...) }

// Err returns nil when no problem was recorded, and an *Error holding all of
// them otherwise.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &Error{Problems: p.List()}
}

// Error is returned when configuration is invalid. Its message lists every
// problem, one a line, sorted by field so that the output is stable.
type Error struct {
	Problems []Problem
}

// Error implements error.
func (e *Error) Error() string {
	ps := append([]Problem(nil), e.Problems...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Field < ps[j].Field })
	var b strings.Builder
	if len(ps) == 1 {
		b.WriteString("invalid configuration: 1 problem")
	} else {
		fmt.Fprintf(&b, "invalid configuration: %d problems", len(ps))
	}
	for _, pr := range ps {
		b.WriteString("\n  - ")
		b.WriteString(pr.String())
	}
	return b.String()
}

// Join joins field path parts with dots, skipping empty parts.
func Join(parts ...string) string {
	out := make([]string, 0, len(parts))
	for _, s := range parts {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, ".")
}

// Index returns the path of element i of the list at path, as "path[i]".
func Index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// OneOf renders the allowed values of an enumeration for a message, such as
// `one of "None", "Single", "OnePerAz"`.
func OneOf[T ~string](allowed ...T) string {
	q := make([]string, len(allowed))
	for i, a := range allowed {
		q[i] = fmt.Sprintf("%q", string(a))
	}
	return "one of " + strings.Join(q, ", ")
}
