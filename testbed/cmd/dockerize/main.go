// Command dockerize stands in for jwilder/dockerize v0.9.2 (not on the Go
// module proxy), as Temporal's auto-setup image uses it: only
//
//	dockerize -template <src>:<dst>
//
// which renders src with Go's text/template, .Env holding the environment,
// and the functions Temporal's config_template.yaml calls: default (the
// first value if the variable is set, even to "", else the fallback, as
// dockerize's defaultValue does with a missing map key), lower, upper,
// split and trim.
package main

import (
	"fmt"
	"os"
	"strings"
	"text/template"
)

type data struct{ Env map[string]string }

func defaultValue(args ...any) (string, error) {
	if len(args) == 0 {
		return "", fmt.Errorf("default called with no values")
	}
	if s, ok := args[0].(string); ok {
		return s, nil // set, even to ""
	}
	if len(args) < 2 {
		return "", fmt.Errorf("default called with no default value")
	}
	s, ok := args[1].(string)
	if !ok {
		return "", fmt.Errorf("default: the fallback is not a string")
	}
	return s, nil
}

func main() {
	if len(os.Args) != 3 || os.Args[1] != "-template" {
		fmt.Fprintln(os.Stderr, "usage: dockerize -template <src>:<dst>")
		os.Exit(2)
	}
	src, dst, ok := strings.Cut(os.Args[2], ":")
	if !ok {
		fmt.Fprintln(os.Stderr, "dockerize: -template wants src:dst")
		os.Exit(2)
	}
	text, err := os.ReadFile(src)
	if err != nil {
		fail(err)
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	t, err := template.New(src).Funcs(template.FuncMap{
		"default": defaultValue, "lower": strings.ToLower, "upper": strings.ToUpper,
		"split": strings.Split, "trim": strings.TrimSpace,
	}).Parse(string(text))
	if err != nil {
		fail(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		fail(err)
	}
	if err := t.Execute(out, data{Env: env}); err != nil {
		fail(err)
	}
	if err := out.Close(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "dockerize:", err)
	os.Exit(1)
}
