package commands_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/csbot/csbot/bot"
	"github.com/google/go-cmp/cmp"
)

// update rewrites the golden files in testdata: go test ./commands -update.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenReply is what a golden file holds of a reply: everything Slack
// would be sent.
type goldenReply struct {
	Text            string `json:"text"`
	Visibility      string `json:"visibility"`
	Public          bool   `json:"public,omitempty"`
	ReplaceOriginal bool   `json:"replace_original,omitempty"`
	Blocks          any    `json:"blocks,omitempty"`
	OpenView        any    `json:"open_view,omitempty"`
	UpdateView      any    `json:"update_view,omitempty"`
}

// checkGoldenReply checks rep against Slack's Block Kit limits and
// compares it with testdata/name.golden.json, or rewrites that file when
// -update is set.
func checkGoldenReply(t *testing.T, name string, rep bot.Reply) {
	t.Helper()
	if err := bot.CheckLimits(bot.SurfaceMessage, rep.Blocks, rep.Text); err != nil {
		t.Errorf("%s: over Slack's limits: %v", name, err)
	}
	if rep.OpenView != nil {
		if err := bot.CheckView(*rep.OpenView); err != nil {
			t.Errorf("%s: modal over Slack's limits: %v", name, err)
		}
	}
	g := goldenReply{Text: rep.Text, Visibility: "ephemeral", Public: rep.Public,
		ReplaceOriginal: rep.ReplaceOriginal, Blocks: rep.Blocks}
	if rep.Visibility == bot.InChannel {
		g.Visibility = "in_channel"
	}
	if rep.OpenView != nil {
		g.OpenView = rep.OpenView
	}
	if rep.UpdateView != nil {
		g.UpdateView = rep.UpdateView
	}
	got, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; run with -update if intended):\n%s", path, diff)
	}
}

// wantErrorBlocks checks that a form's validation errors name exactly the
// blocks want (sorted), each with a message.
func wantErrorBlocks(t *testing.T, errs map[string]string, want []string) {
	t.Helper()
	var got []string
	for k, msg := range errs {
		if msg == "" {
			t.Errorf("empty message for %s", k)
		}
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Validate errors on %v (%v), want on %v", got, errs, want)
	}
}
