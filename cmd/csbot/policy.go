package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/csbot/csbot"
)

// loadPolicy returns the policy in force: csbot.DefaultPolicy with the
// settings of the YAML file at path applied, then validated. An empty path
// gives the defaults. Every error is a usageError whose lines start with
// the file name, e.g. "policy.yaml: tiers.high.weights.usage: must be >= 0,
// got -5 (line 4)"; the line is given where the file holds the key.
func loadPolicy(path string) (csbot.Policy, error) {
	p := csbot.DefaultPolicy()
	if path == "" {
		return p, nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
	default:
		return csbot.Policy{}, usagef("%s: policy file must be YAML (.yaml or .yml)", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return csbot.Policy{}, usagef("%s: cannot read the policy file (CSBOT_POLICY_FILE): %v", path, err)
	}
	overrides, lines, err := decodePolicyYAML(data)
	if err != nil {
		return csbot.Policy{}, fileError(path, err, nil)
	}
	if err := p.Apply(overrides); err != nil {
		return csbot.Policy{}, fileError(path, err, lines)
	}
	if err := p.Validate(); err != nil {
		return csbot.Policy{}, fileError(path, err, lines)
	}
	return p, nil
}

// decodePolicyYAML decodes a policy file into the nested map that
// csbot.Policy.Apply takes, and returns the line of each key in it
// ("tiers.high.weights.usage", "tiers.high.renewals.reminder_days[0]").
// An empty file, or one of comments alone, has no overrides.
func decodePolicyYAML(data []byte) (map[string]any, map[string]int, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, yamlError(err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, nil, fmt.Errorf("line %d: a policy file holds one YAML document, found a second", next.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, nil, yamlError(err)
	}
	if len(doc.Content) == 0 {
		return nil, nil, nil
	}
	top := doc.Content[0]
	if top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null" {
		return nil, nil, nil
	}
	if top.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("line %d: want a map of keys such as tiers: or override_expiry_days:, got %s", top.Line, nodeKind(top))
	}
	var m map[string]any
	if err := top.Decode(&m); err != nil { // rejects duplicate keys
		return nil, nil, yamlError(err)
	}
	lines := make(map[string]int)
	indexLines(top, "", lines)
	return m, lines, nil
}

// indexLines records the line of every key and list element under n.
func indexLines(n *yaml.Node, at string, lines map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := k.Value
			if at != "" {
				key = at + "." + k.Value
			}
			if _, seen := lines[key]; !seen {
				lines[key] = k.Line
			}
			indexLines(v, key, lines)
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			key := fmt.Sprintf("%s[%d]", at, i)
			lines[key] = v.Line
			indexLines(v, key, lines)
		}
	}
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// yamlError turns a decoding error into lines without the library's
// "yaml: " prefix, each naming its line where the library gives one.
func yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		errs := make([]error, len(te.Errors))
		for i, e := range te.Errors {
			errs[i] = errors.New(e)
		}
		return errors.Join(errs...)
	}
	return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
}

// fileError returns err as a usageError, one line per joined error, each
// starting with path and ending with the line of the key it names, if
// lines has it.
func fileError(path string, err error, lines map[string]int) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = path + ": " + e.Error()
		var pe *csbot.PolicyError
		if errors.As(e, &pe) {
			if n, ok := lines[pe.Key]; ok {
				msgs[i] += fmt.Sprintf(" (line %d)", n)
			}
		}
	}
	return usageError{strings.Join(msgs, "\n")}
}

// runPolicy prints the policy in force as YAML, with the keys a policy file
// uses, so that it can be copied as a starting point.
func runPolicy(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return usagef("policy takes no arguments")
	}
	p, err := loadPolicy(cfg.PolicyFile)
	if err != nil {
		return err
	}
	source := "defaults"
	if cfg.PolicyFile != "" {
		source = "defaults + " + cfg.PolicyFile
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# csbot policy in force: %s\n", source)
	fmt.Fprintln(&buf, "# To change it, copy the keys you want to change into a YAML file and set")
	fmt.Fprintln(&buf, "# CSBOT_POLICY_FILE to its path; keys the file leaves out keep their defaults.")
	if err := writePolicyYAML(&buf, p); err != nil {
		return err
	}
	_, err = stdout.Write(buf.Bytes())
	return err
}

// writePolicyYAML writes every setting of p as YAML, nested by key, in the
// order csbot.Policy declares them, lists on one line.
func writePolicyYAML(w io.Writer, p csbot.Policy) error {
	root := &yaml.Node{Kind: yaml.MappingNode}
	for _, s := range p.Settings() {
		path := strings.Split(s.Key, ".")
		n := root
		for _, k := range path[:len(path)-1] {
			n = mappingChild(n, k)
		}
		var v yaml.Node
		if err := v.Encode(s.Value); err != nil {
			return fmt.Errorf("policy %s: %w", s.Key, err)
		}
		if v.Kind == yaml.SequenceNode {
			v.Style = yaml.FlowStyle
		}
		n.Content = append(n.Content, keyNode(path[len(path)-1]), &v)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	return enc.Close()
}

// mappingChild returns the mapping under key k of mapping n, adding it if
// n has none.
func mappingChild(n *yaml.Node, k string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == k {
			return n.Content[i+1]
		}
	}
	c := &yaml.Node{Kind: yaml.MappingNode}
	n.Content = append(n.Content, keyNode(k), c)
	return c
}

func keyNode(k string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}
}
