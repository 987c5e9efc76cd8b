package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csbot/csbot"
)

// writePolicyFile writes content to a file called name in a fresh
// directory and returns its path.
func writePolicyFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadPolicyDefaults(t *testing.T) {
	for _, content := range []string{"", "# nothing set yet\n", "~\n", "tiers:\n"} {
		path := ""
		if content != "" {
			path = writePolicyFile(t, "policy.yaml", content)
		}
		got, err := loadPolicy(path)
		if err != nil {
			t.Fatalf("loadPolicy(%q) with %q = %v", path, content, err)
		}
		if diff := cmp.Diff(csbot.DefaultPolicy(), got); diff != "" {
			t.Errorf("loadPolicy with %q mismatch (-want +got):\n%s", content, diff)
		}
	}
}

func TestLoadPolicyOverride(t *testing.T) {
	path := writePolicyFile(t, "policy.yml", "tiers:\n  low:\n    support:\n      spike_tickets: 25\n")
	got, err := loadPolicy(path)
	if err != nil {
		t.Fatalf("loadPolicy: %v", err)
	}
	want := csbot.DefaultPolicy()
	want.Tiers.Low.Support.SpikeTickets = 25
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("loadPolicy mismatch (-want +got):\n%s", diff)
	}
}

// TestLoadPolicyExample checks that the example file is valid and changes
// exactly the keys it sets.
func TestLoadPolicyExample(t *testing.T) {
	got, err := loadPolicy(filepath.Join("testdata", "policy.example.yaml"))
	if err != nil {
		t.Fatalf("loadPolicy(example): %v", err)
	}
	def := make(map[string]any)
	for _, s := range csbot.DefaultPolicy().Settings() {
		def[s.Key] = s.Value
	}
	var changed []string
	for _, s := range got.Settings() {
		if !cmp.Equal(def[s.Key], s.Value) {
			changed = append(changed, s.Key)
		}
	}
	want := []string{
		"tiers.high.weights.usage",
		"tiers.high.weights.engagement",
		"tiers.high.renewals.reminder_days",
		"tiers.tech.support.spike_tickets",
		"tiers.tech.support.spike_critical_tickets",
		"override_expiry_days",
	}
	if diff := cmp.Diff(want, changed); diff != "" {
		t.Errorf("example policy changed keys (-want +got):\n%s", diff)
	}
	if got.Tiers.High.Weights.Usage != 40 || got.OverrideExpiryDays != 45 {
		t.Errorf("example policy: weights.usage %d, override_expiry_days %d; want 40, 45",
			got.Tiers.High.Weights.Usage, got.OverrideExpiryDays)
	}
}

func TestLoadPolicyErrors(t *testing.T) {
	tests := []struct {
		name, file, content string
		want                []string // lines of the error, in order
	}{
		{"below minimum", "policy.yaml", "tiers:\n  high:\n    weights:\n      usage: -5\n",
			[]string{"policy.yaml: tiers.high.weights.usage: must be >= 0, got -5 (line 4)"}},
		{"misspelled key", "policy.yaml", "tiers:\n  high:\n    weights:\n      usgae: 40\n",
			[]string{"policy.yaml: tiers.high.weights.usgae: unknown key; did you mean usage? (line 4)"}},
		{"wrong type", "policy.yaml", "tiers:\n  low:\n    support:\n      spike_tickets: ten\n",
			[]string{`policy.yaml: tiers.low.support.spike_tickets: want a whole number, got "ten" (line 4)`}},
		{"bad list element", "policy.yaml", "tiers:\n  tech:\n    renewals:\n      reminder_days:\n        - 30\n        - 30\n",
			[]string{"policy.yaml: tiers.tech.renewals.reminder_days[1]: 30 appears twice (line 6)"}},
		{"every problem", "policy.yaml", "override_expiry_days: 0\ntiers:\n  high:\n    bands: {green: 30}\n    weights: {usage: -1}\n",
			[]string{
				"policy.yaml: override_expiry_days: must be >= 1, got 0 (line 1)",
				"policy.yaml: tiers.high.bands.yellow: must be below bands.green (30), got 40",
				"policy.yaml: tiers.high.weights.usage: must be >= 0, got -1 (line 5)",
			}},
		{"syntax error", "policy.yaml", "tiers:\n  high:\n  weights: x\n   usage: 5\n",
			[]string{"policy.yaml: line 4: mapping values are not allowed in this context"}},
		{"duplicate key", "policy.yaml", "tiers:\n  high:\n    weights:\n      usage: 5\n      usage: 6\n",
			[]string{`policy.yaml: line 5: mapping key "usage" already defined at line 4`}},
		{"list at the top", "policy.yaml", "- tiers\n",
			[]string{"policy.yaml: line 1: want a map of keys such as tiers: or override_expiry_days:, got a list"}},
		{"two documents", "policy.yaml", "signal_rearm_days: 7\n---\nsignal_rearm_days: 8\n",
			[]string{"policy.yaml: line 2: a policy file holds one YAML document, found a second"}},
		{"TOML", "policy.toml", "override_expiry_days = 45\n",
			[]string{"policy.toml: policy file must be YAML (.yaml or .yml)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writePolicyFile(t, tt.file, tt.content)
			_, err := loadPolicy(path)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("loadPolicy(%q) = %v (%T), want a usageError", tt.content, err, err)
			}
			dir := filepath.Dir(path) + string(filepath.Separator)
			got := strings.Split(strings.ReplaceAll(err.Error(), dir, ""), "\n")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("loadPolicy(%q) error mismatch (-want +got):\n%s", tt.content, diff)
			}
		})
	}
}

func TestLoadPolicyMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := loadPolicy(path)
	want := path + ": cannot read the policy file (CSBOT_POLICY_FILE): no such file or directory"
	var ue usageError
	if !errors.As(err, &ue) || err.Error() != want {
		t.Errorf("loadPolicy(%q) = %v, want usageError %q", path, err, want)
	}
}

// TestRunPolicyRoundTrip checks that what `csbot policy` prints, saved as a
// policy file, loads as the policy in force.
func TestRunPolicyRoundTrip(t *testing.T) {
	example := filepath.Join("testdata", "policy.example.yaml")
	for _, file := range []string{"", example} {
		cfg := config{PolicyFile: file}
		var out bytes.Buffer
		if err := runPolicy(context.Background(), cfg, nil, &out); err != nil {
			t.Fatalf("runPolicy(%q): %v", file, err)
		}
		wantFirst := "# csbot policy in force: defaults"
		if file != "" {
			wantFirst += " + " + file
		}
		if first, _, _ := strings.Cut(out.String(), "\n"); first != wantFirst {
			t.Errorf("runPolicy(%q) first line = %q, want %q", file, first, wantFirst)
		}
		for _, want := range []string{"\ntiers:\n  high:\n    bands:\n      green: 70\n", "reminder_days: [", "\noverride_expiry_days: "} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("runPolicy(%q) output lacks %q:\n%s", file, want, out.String())
			}
		}

		inForce, err := loadPolicy(file)
		if err != nil {
			t.Fatal(err)
		}
		reloaded, err := loadPolicy(writePolicyFile(t, "policy.yaml", out.String()))
		if err != nil {
			t.Fatalf("loading the output of runPolicy(%q): %v\n%s", file, err, out.String())
		}
		if diff := cmp.Diff(inForce, reloaded); diff != "" {
			t.Errorf("runPolicy(%q) output reloaded mismatch (-want +got):\n%s", file, diff)
		}
	}
}

func TestRunPolicyUsage(t *testing.T) {
	var out bytes.Buffer
	err := runPolicy(context.Background(), config{}, []string{"show"}, &out)
	var ue usageError
	if !errors.As(err, &ue) || err.Error() != "policy takes no arguments" {
		t.Errorf("runPolicy(show) = %v, want usageError %q", err, "policy takes no arguments")
	}

	bad := writePolicyFile(t, "policy.yaml", "signal_rearm_days: -1\n")
	err = runPolicy(context.Background(), config{PolicyFile: bad}, nil, &out)
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "signal_rearm_days: must be >= 1, got -1 (line 1)") {
		t.Errorf("runPolicy with an invalid file = %v, want a usageError naming signal_rearm_days", err)
	}
	if out.Len() != 0 {
		t.Errorf("runPolicy with an invalid file printed %q, want nothing", out.String())
	}
}
