// Package configedit reads a stack's config as the Pulumi engine passes it
// to a program ("namespace:key" to a string; objects and lists as JSON) and
// changes it as `pulumi config set --path` would. The offline plan and the
// tests use it; it links no cloud SDK.
package configedit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Stack is one stack's config, read from the project's files.
type Stack struct {
	// Project is the project's name (Pulumi.yaml).
	Project string
	// Config maps "namespace:key" to its value as the engine passes it; a
	// secret's value is "[encrypted]".
	Config map[string]string
	// SecretKeys are the keys whose values are secrets.
	SecretKeys []string
}

// Read reads Pulumi.yaml and Pulumi.<stack>.yaml in dir. A key without a
// namespace belongs to the project.
func Read(dir, stack string) (*Stack, error) {
	var project struct {
		Name string `yaml:"name"`
	}
	if err := readYAML(filepath.Join(dir, "Pulumi.yaml"), &project); err != nil {
		return nil, err
	}
	if project.Name == "" {
		return nil, fmt.Errorf("%s: no project name", filepath.Join(dir, "Pulumi.yaml"))
	}
	var file struct {
		Config map[string]yaml.Node `yaml:"config"`
	}
	path := filepath.Join(dir, "Pulumi."+stack+".yaml")
	if err := readYAML(path, &file); err != nil {
		return nil, err
	}
	s := &Stack{Project: project.Name, Config: map[string]string{}}
	keys := make([]string, 0, len(file.Config))
	for k := range file.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		node := file.Config[k]
		full := k
		if !strings.Contains(k, ":") {
			full = project.Name + ":" + k
		}
		var v any
		if err := node.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: config %s: %w", path, k, err)
		}
		if m, ok := v.(map[string]any); ok && len(m) == 1 && m["secure"] != nil {
			s.Config[full] = "[encrypted]"
			s.SecretKeys = append(s.SecretKeys, full)
			continue
		}
		switch x := v.(type) {
		case string:
			s.Config[full] = x
		case map[string]any, []any:
			b, err := json.Marshal(x)
			if err != nil {
				return nil, fmt.Errorf("%s: config %s: %w", path, k, err)
			}
			s.Config[full] = string(b)
		case nil:
			s.Config[full] = ""
		default:
			s.Config[full] = fmt.Sprint(x)
		}
	}
	return s, nil
}

func readYAML(path string, out any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// SetIn sets the field at the dotted path of the structured value key of
// config to value (any JSON value; nil deletes the field), making the
// objects on the way; a number in the path indexes a list ("nodePools.0.weight").
// With path "", value replaces key's whole value (a string as it is,
// anything else as JSON).
func SetIn(config map[string]string, key, path string, value any) error {
	if path == "" {
		if s, ok := value.(string); ok {
			config[key] = s
			return nil
		}
		b, err := json.Marshal(value)
		if err != nil {
			return err
		}
		config[key] = string(b)
		return nil
	}
	var root any = map[string]any{}
	if cur := config[key]; cur != "" {
		if err := json.Unmarshal([]byte(cur), &root); err != nil {
			return fmt.Errorf("%s is not an object", key)
		}
	}
	root, err := setAt(root, strings.Split(path, "."), value)
	if err != nil {
		return fmt.Errorf("%s.%s: %w", key, path, err)
	}
	b, err := json.Marshal(root)
	if err != nil {
		return err
	}
	config[key] = string(b)
	return nil
}

// setAt returns node with the value at parts set (or deleted, for nil).
func setAt(node any, parts []string, value any) (any, error) {
	if list, ok := node.([]any); ok {
		i, err := strconv.Atoi(parts[0])
		if err != nil || i < 0 || i >= len(list) {
			return nil, fmt.Errorf("%q is not an index of a list of %d", parts[0], len(list))
		}
		if len(parts) == 1 {
			list[i] = value
			return list, nil
		}
		list[i], err = setAt(list[i], parts[1:], value)
		return list, err
	}
	m, ok := node.(map[string]any)
	if !ok {
		m = map[string]any{}
	}
	if len(parts) == 1 {
		if value == nil {
			delete(m, parts[0])
		} else {
			m[parts[0]] = value
		}
		return m, nil
	}
	next, err := setAt(m[parts[0]], parts[1:], value)
	m[parts[0]] = next
	return m, err
}
