package bot

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// manifestPath is manifest.yml, at the root of the module.
const manifestPath = "../manifest.yml"

// envManifestSchema names the path of Slack's app-manifest JSON schema
// (slackapi/manifest-schema, manifest.schema.1.0.0.json); .ci/run sets it
// when ../shared/slack is beside the clone.
const envManifestSchema = "CSBOT_MANIFEST_SCHEMA"

// manifestFile is the part of manifest.yml the dispatcher must agree with.
type manifestFile struct {
	Features struct {
		AppHome struct {
			HomeTabEnabled     bool `yaml:"home_tab_enabled"`
			MessagesTabEnabled bool `yaml:"messages_tab_enabled"`
		} `yaml:"app_home"`
		Shortcuts []struct {
			Name        string `yaml:"name"`
			Type        string `yaml:"type"`
			CallbackID  string `yaml:"callback_id"`
			Description string `yaml:"description"`
		} `yaml:"shortcuts"`
		SlashCommands []struct {
			Command      string `yaml:"command"`
			Description  string `yaml:"description"`
			UsageHint    string `yaml:"usage_hint"`
			ShouldEscape *bool  `yaml:"should_escape"`
			URL          string `yaml:"url"`
		} `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuthConfig struct {
		Scopes struct {
			Bot  []string `yaml:"bot"`
			User []string `yaml:"user"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		EventSubscriptions struct {
			RequestURL string   `yaml:"request_url"`
			BotEvents  []string `yaml:"bot_events"`
			UserEvents []string `yaml:"user_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			IsEnabled  bool   `yaml:"is_enabled"`
			RequestURL string `yaml:"request_url"`
		} `yaml:"interactivity"`
		SocketModeEnabled bool `yaml:"socket_mode_enabled"`
	} `yaml:"settings"`
}

func readManifest(t *testing.T) ([]byte, manifestFile) {
	t.Helper()
	raw, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatalf("read manifest: %v", err)
	}
	var m manifestFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("parse %s: %v", manifestPath, err)
	}
	return raw, m
}

func TestManifestDeclaresWhatTheDispatcherHandles(t *testing.T) {
	_, m := readManifest(t)
	spec := Manifest()

	var cmds []CommandSpec
	for _, c := range m.Features.SlashCommands {
		cmds = append(cmds, CommandSpec{Command: c.Command, Description: c.Description, UsageHint: c.UsageHint})
		if c.ShouldEscape == nil || !*c.ShouldEscape {
			t.Errorf("%s: should_escape is not true (mentions must arrive as <@U123>)", c.Command)
		}
		if c.URL != "" {
			t.Errorf("%s: has a request URL; Socket Mode needs none", c.Command)
		}
	}
	if diff := cmp.Diff(spec.Commands, cmds); diff != "" {
		t.Errorf("slash commands: bot.Manifest (-) vs manifest.yml (+):\n%s", diff)
	}
	var shortcuts []ShortcutSpec
	for _, s := range m.Features.Shortcuts {
		shortcuts = append(shortcuts, ShortcutSpec{CallbackID: s.CallbackID, Type: s.Type, Name: s.Name, Description: s.Description})
	}
	if diff := cmp.Diff(spec.Shortcuts, shortcuts); diff != "" {
		t.Errorf("shortcuts: bot.Manifest (-) vs manifest.yml (+):\n%s", diff)
	}
	if diff := cmp.Diff(spec.BotEvents, m.Settings.EventSubscriptions.BotEvents); diff != "" {
		t.Errorf("bot events: bot.Manifest (-) vs manifest.yml (+):\n%s", diff)
	}
	if diff := cmp.Diff(spec.BotScopes, m.OAuthConfig.Scopes.Bot); diff != "" {
		t.Errorf("bot scopes: bot.Manifest (-) vs manifest.yml (+):\n%s", diff)
	}
	if len(m.OAuthConfig.Scopes.User) > 0 || len(m.Settings.EventSubscriptions.UserEvents) > 0 {
		t.Error("manifest asks for user scopes or user events; csbot uses none")
	}
	if !m.Settings.SocketModeEnabled || !m.Settings.Interactivity.IsEnabled || !m.Features.AppHome.HomeTabEnabled {
		t.Errorf("socket mode %v, interactivity %v, home tab %v: want all on",
			m.Settings.SocketModeEnabled, m.Settings.Interactivity.IsEnabled, m.Features.AppHome.HomeTabEnabled)
	}
	if m.Settings.Interactivity.RequestURL != "" || m.Settings.EventSubscriptions.RequestURL != "" {
		t.Error("manifest has request URLs; Socket Mode needs none")
	}

	// The runtime as cmd/csbot wires it today: it handles every declared
	// event, and no command or shortcut the manifest does not declare.
	rt := newIdleRuntime(t)
	h := rt.Handlers()
	events := slices.Sorted(slices.Values(m.Settings.EventSubscriptions.BotEvents))
	if diff := cmp.Diff(events, h.Events); diff != "" {
		t.Errorf("events: manifest.yml (-) vs handled (+):\n%s", diff)
	}
	if err := rt.reg.checkDeclared(); err != nil {
		t.Error(err)
	}
	for _, c := range h.Commands {
		if !slices.ContainsFunc(cmds, func(s CommandSpec) bool { return s.Command == c }) {
			t.Errorf("handled command %s is not in manifest.yml", c)
		}
	}
	// What is declared and not handled yet gets a placeholder answer.
	handledOrPlaceholder := append(slices.Clone(h.Commands), rt.reg.unhandled()...)
	if len(handledOrPlaceholder) != len(cmds)+len(shortcuts) {
		t.Errorf("handled %v + placeholders %v do not cover the manifest's %d commands and %d shortcuts",
			h.Commands, rt.reg.unhandled(), len(cmds), len(shortcuts))
	}
}

func TestManifestValidatesAgainstSlackSchema(t *testing.T) {
	raw, _ := readManifest(t)
	path := os.Getenv(envManifestSchema)
	if path == "" {
		t.Logf("%s not set: manifest.yml checked against the dispatcher only, not against Slack's schema", envManifestSchema)
		return
	}
	c := jsonschema.NewCompiler()
	// JSON Schema patterns are ECMA-262 regular expressions; Slack's use
	// lookahead, which Go's regexp lacks.
	c.UseRegexpEngine(ecmaRegexp)
	schema, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compile Slack's manifest schema %s: %v", path, err)
	}
	if err := schema.Validate(manifestInstance(t, raw)); err != nil {
		t.Errorf("manifest.yml does not validate against Slack's schema:\n%v", err)
	}
	// The schema has teeth: a shortcut name over 24 characters and an
	// unknown setting are refused.
	bad := strings.Replace(string(raw), "name: Turn into handoff", "name: Turn this message into a handoff", 1)
	bad = strings.Replace(bad, "socket_mode_enabled: true", "socket_mode_enabled: true\n  sockets: 3", 1)
	err = schema.Validate(manifestInstance(t, []byte(bad)))
	if err == nil || !strings.Contains(err.Error(), "maxLength") || !strings.Contains(err.Error(), "sockets") {
		t.Errorf("a broken manifest validated, or not for both faults: %v", err)
	}
}

// ecmaRegexp compiles a JSON Schema pattern as ECMAScript.
func ecmaRegexp(pattern string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(pattern, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	return (*ecmaPattern)(re), nil
}

// ecmaPattern is a regexp2 pattern as jsonschema wants it.
type ecmaPattern regexp2.Regexp

func (p *ecmaPattern) MatchString(s string) bool {
	ok, err := (*regexp2.Regexp)(p).MatchString(s)
	return err == nil && ok
}

func (p *ecmaPattern) String() string { return (*regexp2.Regexp)(p).String() }

// manifestInstance turns manifest YAML into the JSON value the schema
// validates.
func manifestInstance(t *testing.T, raw []byte) any {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse manifest: %v", err)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("manifest as JSON: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatalf("manifest as JSON: %v", err)
	}
	return inst
}
