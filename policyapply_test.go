package csbot_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csbot/csbot"
)

// nested returns {a: {b: {c: v}}} for the key "a.b.c".
func nested(key string, v any) map[string]any {
	parts := strings.Split(key, ".")
	m := map[string]any{parts[len(parts)-1]: v}
	for i := len(parts) - 2; i >= 0; i-- {
		m = map[string]any{parts[i]: m}
	}
	return m
}

func TestPolicyApply(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]any
		change    func(p *csbot.Policy)
	}{
		{"nil map", nil, func(p *csbot.Policy) {}},
		{"empty map", map[string]any{}, func(p *csbot.Policy) {}},
		{"empty section", map[string]any{"tiers": nil}, func(p *csbot.Policy) {}},
		{"one key", nested("tiers.high.weights.usage", 50), func(p *csbot.Policy) {
			p.Tiers.High.Weights.Usage = 50
		}},
		{"top-level key", map[string]any{"override_expiry_days": 45}, func(p *csbot.Policy) {
			p.OverrideExpiryDays = 45
		}},
		{"int64", nested("tiers.low.support.spike_tickets", int64(25)), func(p *csbot.Policy) {
			p.Tiers.Low.Support.SpikeTickets = 25
		}},
		{"uint64", nested("tiers.low.support.spike_tickets", uint64(25)), func(p *csbot.Policy) {
			p.Tiers.Low.Support.SpikeTickets = 25
		}},
		{"float64 without a fraction", nested("tiers.low.support.spike_tickets", 25.0), func(p *csbot.Policy) {
			p.Tiers.Low.Support.SpikeTickets = 25
		}},
		{"json.Number", nested("tiers.low.support.spike_tickets", json.Number("25")), func(p *csbot.Policy) {
			p.Tiers.Low.Support.SpikeTickets = 25
		}},
		{"negative", nested("tiers.tech.weights.usage", -5), func(p *csbot.Policy) {
			p.Tiers.Tech.Weights.Usage = -5 // Apply sets; Validate judges
		}},
		{"list of any", nested("tiers.tech.renewals.reminder_days", []any{60, 30.0, int64(7)}), func(p *csbot.Policy) {
			p.Tiers.Tech.Renewals.ReminderDays = []int{60, 30, 7}
		}},
		{"typed list", nested("tiers.tech.renewals.auto_renew_reminder_days", []int{45}), func(p *csbot.Policy) {
			p.Tiers.Tech.Renewals.AutoRenewReminderDays = []int{45}
		}},
		{"empty list", nested("tiers.high.renewals.reminder_days", []any{}), func(p *csbot.Policy) {
			p.Tiers.High.Renewals.ReminderDays = []int{}
		}},
		{"several keys in several tiers", map[string]any{
			"tiers": map[string]any{
				"high": map[string]any{"bands": map[string]any{"green": 75, "yellow": 45}},
				"tech": map[string]any{"payments": map[any]any{"overdue_days": 60, "overdue_critical_days": 120}},
			},
			"signal_rearm_days": 7,
		}, func(p *csbot.Policy) {
			p.Tiers.High.Bands = csbot.BandPolicy{Green: 75, Yellow: 45}
			p.Tiers.Tech.Payments.OverdueDays, p.Tiers.Tech.Payments.OverdueCriticalDays = 60, 120
			p.SignalRearmDays = 7
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := csbot.DefaultPolicy()
			if err := got.Apply(tt.overrides); err != nil {
				t.Fatalf("Apply(%v) = %v, want nil", tt.overrides, err)
			}
			want := csbot.DefaultPolicy()
			tt.change(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Apply(%v) policy mismatch (-want +got):\n%s", tt.overrides, diff)
			}
		})
	}
}

func TestPolicyApplyErrors(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]any
		want      string
	}{
		{"misspelled key", nested("tiers.high.weights.usgae", 40),
			"tiers.high.weights.usgae: unknown key; did you mean usage?"},
		{"misspelled tier", nested("tiers.hihg.weights.usage", 40),
			"tiers.hihg: unknown key; did you mean high?"},
		{"misspelled top-level key", map[string]any{"tier": nil},
			"tier: unknown key; did you mean tiers?"},
		{"wrong case", map[string]any{"Tiers": nil},
			"Tiers: unknown key; did you mean tiers?"},
		{"unknown key", nested("tiers.low.colour", "red"),
			"tiers.low.colour: unknown key; want one of bands, weights, usage, support, satisfaction, payments, engagement, reliability, renewals, alerts"},
		{"non-string key", map[string]any{"tiers": map[any]any{1: 2}},
			"tiers.1: unknown key; want one of high, low, tech"},
		{"text for a number", nested("tiers.low.support.spike_tickets", "ten"),
			`tiers.low.support.spike_tickets: want a whole number, got "ten"`},
		{"quoted number", nested("tiers.low.support.spike_tickets", "10"),
			`tiers.low.support.spike_tickets: want a whole number, got "10"`},
		{"fraction", nested("tiers.low.support.spike_tickets", 2.5),
			"tiers.low.support.spike_tickets: want a whole number, got 2.5"},
		{"NaN", nested("tiers.low.support.spike_tickets", math.NaN()),
			"tiers.low.support.spike_tickets: want a whole number, got NaN"},
		{"too big", nested("tiers.low.support.spike_tickets", 1e300),
			"tiers.low.support.spike_tickets: want a whole number in range, got 1e+300"},
		{"too big uint64", nested("tiers.low.support.spike_tickets", uint64(math.MaxUint64)),
			"tiers.low.support.spike_tickets: want a whole number in range, got 18446744073709551615"},
		{"bool", map[string]any{"signal_rearm_days": true},
			"signal_rearm_days: want a whole number, got true"},
		{"null number", map[string]any{"signal_rearm_days": nil},
			"signal_rearm_days: want a whole number, got nothing"},
		{"map for a number", nested("tiers.high.weights.usage", map[string]any{"x": 1}),
			"tiers.high.weights.usage: want a whole number, got a map"},
		{"number for a map", nested("tiers.high.weights", 40),
			"tiers.high.weights: want a map of keys, got 40"},
		{"list for a map", map[string]any{"tiers": []any{1}},
			"tiers: want a map of keys, got a list"},
		{"number for a list", nested("tiers.high.renewals.reminder_days", 30),
			"tiers.high.renewals.reminder_days: want a list of whole numbers, got 30"},
		{"null list", nested("tiers.high.renewals.reminder_days", nil),
			"tiers.high.renewals.reminder_days: want a list of whole numbers, got nothing"},
		{"bad list element", nested("tiers.high.renewals.reminder_days", []any{30, "a week"}),
			`tiers.high.renewals.reminder_days[1]: want a whole number, got "a week"`},
		{"long text is cut", map[string]any{"signal_rearm_days": strings.Repeat("x", 100)},
			`signal_rearm_days: want a whole number, got "` + strings.Repeat("x", 40) + `..."`},
		{"every problem, sorted by key", map[string]any{
			"tiers":                map[string]any{"low": map[string]any{"weights": map[string]any{"usage": "a lot", "suport": 5}}},
			"override_expiry_days": 1.5,
		}, "override_expiry_days: want a whole number, got 1.5\n" +
			"tiers.low.weights.suport: unknown key; did you mean support?\n" +
			`tiers.low.weights.usage: want a whole number, got "a lot"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := csbot.DefaultPolicy()
			err := p.Apply(tt.overrides)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Apply(%v) = %v, want %q", tt.overrides, err, tt.want)
			}
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var pe *csbot.PolicyError
				if !errors.As(e, &pe) {
					t.Errorf("Apply(%v) error %q is a %T, want a *csbot.PolicyError", tt.overrides, e, e)
				}
			}
			if diff := cmp.Diff(csbot.DefaultPolicy(), p); diff != "" {
				t.Errorf("Apply(%v) failed but changed the policy (-want +got):\n%s", tt.overrides, diff)
			}
		})
	}
}

// changedPolicy returns a valid policy in which no tier equals another or
// its default.
func changedPolicy() csbot.Policy {
	p := csbot.DefaultPolicy()
	p.OverrideExpiryDays = 45
	p.SignalRearmDays = 3
	p.Tiers.High.Weights.Usage = 50
	p.Tiers.Low.Bands = csbot.BandPolicy{Green: 80, Yellow: 50}
	p.Tiers.Tech.Support.SpikeTickets, p.Tiers.Tech.Support.SpikeCriticalTickets = 33, 66
	p.Tiers.Tech.Renewals.ReminderDays = []int{45, 15, 1}
	p.Tiers.High.Renewals.AutoRenewReminderDays = []int{}
	return p
}

func TestPolicyMapRoundTrip(t *testing.T) {
	for _, want := range []csbot.Policy{csbot.DefaultPolicy(), changedPolicy()} {
		// Onto the zero Policy, so that Map must carry every setting.
		var got csbot.Policy
		if err := got.Apply(want.Map()); err != nil {
			t.Fatalf("Apply(Map()) = %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Apply(Map()) mismatch (-want +got):\n%s", diff)
		}

		// Through JSON, where every number comes back a float64.
		data, err := json.Marshal(want.Map())
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		got = csbot.Policy{}
		if err := got.Apply(m); err != nil {
			t.Fatalf("Apply(JSON of Map()) = %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Apply(JSON of Map()) mismatch (-want +got):\n%s", diff)
		}
	}
}

func TestPolicyMapCopiesLists(t *testing.T) {
	p := csbot.DefaultPolicy()
	days := p.Map()["tiers"].(map[string]any)["high"].(map[string]any)["renewals"].(map[string]any)["reminder_days"].([]int)
	days[0] = -1
	for _, s := range p.Settings() {
		if list, ok := s.Value.([]int); ok && len(list) > 0 {
			list[0] = -1
		}
	}
	if diff := cmp.Diff(csbot.DefaultPolicy(), p); diff != "" {
		t.Errorf("changing Map() or Settings() changed the policy (-want +got):\n%s", diff)
	}
}

// TestPolicySettingsKeys checks, by reflection, that Settings has one entry
// per leaf field of Policy, that Apply accepts each key alone, and that the
// key Apply takes is the key Validate names.
func TestPolicySettingsKeys(t *testing.T) {
	var leaves int
	var count func(t reflect.Type)
	count = func(t reflect.Type) {
		for i := range t.NumField() {
			if f := t.Field(i); f.Type.Kind() == reflect.Struct {
				count(f.Type)
			} else {
				leaves++
			}
		}
	}
	count(reflect.TypeFor[csbot.Policy]())

	def := csbot.DefaultPolicy()
	settings := def.Settings()
	if len(settings) != leaves || leaves < 80 {
		t.Fatalf("Settings() has %d entries, want one per leaf field (%d)", len(settings), leaves)
	}
	if got, want := settings[0].Key, "tiers.high.bands.green"; got != want {
		t.Errorf("Settings()[0].Key = %q, want %q (declaration order)", got, want)
	}
	seen := make(map[string]bool)
	for _, s := range settings {
		if seen[s.Key] {
			t.Errorf("Settings() has key %q twice", s.Key)
		}
		seen[s.Key] = true

		// The default value alone changes nothing.
		p := csbot.DefaultPolicy()
		if err := p.Apply(nested(s.Key, s.Value)); err != nil {
			t.Errorf("Apply(%s: %v) = %v", s.Key, s.Value, err)
			continue
		}
		if diff := cmp.Diff(def, p); diff != "" {
			t.Errorf("Apply(%s: default) changed the policy (-want +got):\n%s", s.Key, diff)
		}

		// A wild value is set, and Validate names the same key.
		key, wild := s.Key, any(-100000)
		switch s.Value.(type) {
		case []int:
			key, wild = s.Key+"[0]", []any{-100000}
		case []string:
			key, wild = s.Key+"[0]", []any{"bogus"}
		case string:
			wild = "bogus"
		case bool:
			continue // every boolean is valid
		}
		if err := p.Apply(nested(s.Key, wild)); err != nil {
			t.Errorf("Apply(%s: %v) = %v", s.Key, wild, err)
			continue
		}
		if !slices.Contains(validateKeys(p.Validate()), key) {
			t.Errorf("Apply(%s: %v), then Validate() = %v, want an error naming %s", s.Key, wild, p.Validate(), key)
		}
	}
}

// validateKeys returns the keys of the *csbot.PolicyError values in err.
func validateKeys(err error) []string {
	var keys []string
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		var pe *csbot.PolicyError
		if errors.As(e, &pe) {
			keys = append(keys, pe.Key)
		}
	}
	return keys
}

func FuzzPolicyApply(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"tiers": {"high": {"weights": {"usage": 50}}}}`,
		`{"tiers": {"hihg": {"weights": {"usgae": "ten"}}}, "override_expiry_days": 1.5}`,
		`{"tiers": {"tech": {"renewals": {"reminder_days": [30, 7.0, "x", null, [1], {}]}}}}`,
		`{"tiers": [1, 2], "signal_rearm_days": 1e400}`,
		`{"tiers": {"low": null, "high": {"bands": {"green": -9223372036854775809}}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, useNumber := range []bool{false, true} {
			dec := json.NewDecoder(strings.NewReader(string(data)))
			if useNumber {
				dec.UseNumber()
			}
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				return
			}
			p := csbot.DefaultPolicy()
			if err := p.Apply(m); err != nil {
				if diff := cmp.Diff(csbot.DefaultPolicy(), p); diff != "" {
					t.Fatalf("Apply(%s) = %v but changed the policy (-want +got):\n%s", data, err, diff)
				}
				if len(validateKeys(err)) != len(err.(interface{ Unwrap() []error }).Unwrap()) {
					t.Fatalf("Apply(%s) = %v, want only *csbot.PolicyError values", data, err)
				}
				continue
			}
			_ = p.Validate()
			var q csbot.Policy
			if err := q.Apply(p.Map()); err != nil {
				t.Fatalf("Apply(%s) then Apply(Map()) = %v", data, err)
			}
			if diff := cmp.Diff(p, q); diff != "" {
				t.Fatalf("Apply(%s): Map round trip mismatch (-want +got):\n%s", data, diff)
			}
		}
	})
}
