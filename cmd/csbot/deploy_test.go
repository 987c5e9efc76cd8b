package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// configKeys are the environment variables csbot reads.
func configKeys() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[config]()
	for i := range t.NumField() {
		if k := t.Field(i).Tag.Get("envconfig"); k != "" {
			keys[k] = true
		}
	}
	return keys
}

// The deployment examples under deploy/ name only settings csbot reads,
// and probe the endpoints CSBOT_HTTP_ADDR serves.
func TestDeployExamplesMatchTheConfiguration(t *testing.T) {
	keys := configKeys()
	check := func(file, key string) {
		if !keys[key] {
			t.Errorf("%s sets %s, which csbot does not read", file, key)
		}
	}

	raw, err := os.ReadFile("../../deploy/kubernetes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var deployments int
	for {
		var doc struct {
			Kind string
			Spec struct {
				Template struct {
					Spec struct {
						Containers []struct {
							Env []struct {
								Name string
							}
							LivenessProbe struct {
								HTTPGet struct{ Path string } `yaml:"httpGet"`
							} `yaml:"livenessProbe"`
							ReadinessProbe struct {
								HTTPGet struct{ Path string } `yaml:"httpGet"`
							} `yaml:"readinessProbe"`
						}
					}
				}
			}
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("kubernetes.yaml: %v", err)
		}
		if doc.Kind != "Deployment" {
			continue
		}
		deployments++
		for _, c := range doc.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				check("kubernetes.yaml", e.Name)
			}
			if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("kubernetes.yaml probes %q and %q, want /healthz and /readyz", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
			}
		}
	}
	if deployments != 1 {
		t.Errorf("kubernetes.yaml has %d Deployments, want 1", deployments)
	}

	for _, f := range []struct {
		name string
		line *regexp.Regexp
	}{
		{"csbot.env.example", regexp.MustCompile(`^#?\s*([A-Z][A-Z0-9_]+)=`)},
		{"csbot.service", regexp.MustCompile(`^Environment=([A-Z][A-Z0-9_]+)=`)},
	} {
		file, err := os.Open("../../deploy/" + f.name)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			if m := f.line.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
				check(f.name, m[1])
				n++
			}
		}
		file.Close()
		if n == 0 {
			t.Errorf("%s names no settings", f.name)
		}
	}
}
