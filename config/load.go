package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// EnvPrefix starts the environment name of every key.
const EnvPrefix = "SCIMGATE_"

// Duration is a time.Duration written as a Go duration string ("15s").
type Duration time.Duration

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("bad duration %q", n.Value)
	}
	*d = Duration(v)
	return nil
}

// String formats the duration like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Load builds a Config from the defaults, the YAML file at path (if not
// empty) and the environment (lookup is os.LookupEnv in production). The
// result is validated; errors are *KeyError where a key is to blame.
func Load(path string, lookup func(string) (string, bool)) (Config, error) {
	cfg := Default()
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config file: %w", err)
		}
		if err := decodeYAML(raw, &cfg); err != nil {
			return cfg, err
		}
	}
	if err := applyEnv(&cfg, lookup); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// decodeYAML decodes raw into cfg, refusing unknown keys by their dotted name.
func decodeYAML(raw []byte, cfg *Config) error {
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return fmt.Errorf("config file is not valid YAML: %s", firstLine(err.Error()))
	}
	if len(root.Content) == 0 {
		return nil // empty file
	}
	doc := root.Content[0]
	if err := checkKeys(doc, reflect.TypeOf(*cfg), ""); err != nil {
		return err
	}
	return decodeNode(doc, reflect.ValueOf(cfg).Elem(), "")
}

// checkKeys walks a mapping node against a struct type.
func checkKeys(n *yaml.Node, t reflect.Type, prefix string) error {
	if n.Kind != yaml.MappingNode {
		if prefix == "" {
			return errors.New("config file must be a YAML mapping")
		}
		return &KeyError{Key: strings.TrimSuffix(prefix, "."), Err: errors.New("must be a mapping")}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i].Value
		f, ok := fieldByTag(t, key)
		if !ok {
			return &KeyError{Key: prefix + key, Err: errors.New("unknown key")}
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(Duration(0)) {
			if err := checkKeys(n.Content[i+1], f.Type, prefix+key+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeNode decodes each leaf separately so a type error names its key.
func decodeNode(n *yaml.Node, v reflect.Value, prefix string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i].Value
		f, _ := fieldByTag(v.Type(), key)
		fv := v.FieldByIndex(f.Index)
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(Duration(0)) {
			if err := decodeNode(n.Content[i+1], fv, prefix+key+"."); err != nil {
				return err
			}
			continue
		}
		if err := n.Content[i+1].Decode(fv.Addr().Interface()); err != nil {
			return &KeyError{Key: prefix + key, Err: errors.New(cleanYAMLErr(err))}
		}
	}
	return nil
}

func cleanYAMLErr(err error) string {
	s := firstLine(err.Error())
	s = strings.TrimPrefix(s, "yaml: unmarshal errors:")
	s = strings.TrimSpace(s)
	if s == "" {
		s = "bad value"
	}
	return s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		rest := strings.TrimSpace(s[i+1:])
		if strings.HasSuffix(s[:i], ":") && rest != "" {
			return strings.TrimSpace(s[:i]) + " " + firstLine(rest)
		}
		return s[:i]
	}
	return s
}

func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if strings.Split(f.Tag.Get("yaml"), ",")[0] == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// Key describes one configuration key.
type Key struct {
	Name    string `json:"name"`    // dotted YAML name, e.g. "redis.url"
	Env     string `json:"env"`     // environment name, e.g. "SCIMGATE_REDIS_URL"
	Default string `json:"default"` // default value as text
	Doc     string `json:"doc"`
	Secret  bool   `json:"secret"`
}

// Keys lists every configuration key with its environment name and default.
func Keys() []Key {
	var keys []Key
	def := Default()
	walkLeaves(reflect.ValueOf(&def).Elem(), "", func(name string, f reflect.StructField, v reflect.Value) {
		keys = append(keys, Key{
			Name: name, Env: envName(name), Default: formatValue(v),
			Doc: f.Tag.Get("doc"), Secret: f.Tag.Get("secret") == "true",
		})
	})
	return keys
}

func envName(dotted string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(dotted, ".", "_"))
}

func walkLeaves(v reflect.Value, prefix string, fn func(string, reflect.StructField, reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := prefix + strings.Split(f.Tag.Get("yaml"), ",")[0]
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(Duration(0)) {
			walkLeaves(v.Field(i), name+".", fn)
			continue
		}
		fn(name, f, v.Field(i))
	}
}

func formatValue(v reflect.Value) string {
	if d, ok := v.Interface().(Duration); ok {
		return d.String()
	}
	return fmt.Sprint(v.Interface())
}

// applyEnv sets every key whose SCIMGATE_ variable is present.
func applyEnv(cfg *Config, lookup func(string) (string, bool)) error {
	if lookup == nil {
		return nil
	}
	var firstErr error
	walkLeaves(reflect.ValueOf(cfg).Elem(), "", func(name string, _ reflect.StructField, v reflect.Value) {
		raw, ok := lookup(envName(name))
		if !ok || firstErr != nil {
			return
		}
		if err := setFromString(v, raw); err != nil {
			firstErr = &KeyError{Key: name, Err: fmt.Errorf("from %s: %w", envName(name), err)}
		}
	})
	return firstErr
}

// Set assigns a value given as text to the key with the dotted name.
func (c *Config) Set(name, raw string) error {
	var found bool
	var err error
	walkLeaves(reflect.ValueOf(c).Elem(), "", func(n string, _ reflect.StructField, v reflect.Value) {
		if n == name {
			found = true
			err = setFromString(v, raw)
		}
	})
	if !found {
		return &KeyError{Key: name, Err: errors.New("unknown key")}
	}
	if err != nil {
		return &KeyError{Key: name, Err: err}
	}
	return nil
}

func setFromString(v reflect.Value, raw string) error {
	if _, ok := v.Interface().(Duration); ok {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("bad duration %q", raw)
		}
		v.Set(reflect.ValueOf(Duration(d)))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("bad boolean %q", raw)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("bad integer %q", raw)
		}
		v.SetInt(n)
	default:
		return fmt.Errorf("unsupported kind %s", v.Kind())
	}
	return nil
}

// Redacted returns the configuration as YAML with secret values replaced.
func (c Config) Redacted() string {
	var b bytes.Buffer
	walkLeaves(reflect.ValueOf(&c).Elem(), "", func(name string, f reflect.StructField, v reflect.Value) {
		val := formatValue(v)
		if (f.Tag.Get("secret") == "true" || name == "redis.url") && val != "" {
			val = "<redacted>"
		}
		fmt.Fprintf(&b, "%s: %s\n", name, val)
	})
	return b.String()
}
