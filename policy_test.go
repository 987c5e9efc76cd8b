package csbot_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/csbot/csbot"
)

func TestDefaultPolicyValid(t *testing.T) {
	if err := csbot.DefaultPolicy().Validate(); err != nil {
		t.Fatalf("DefaultPolicy().Validate() = %v, want nil", err)
	}
}

// TestDefaultPolicyMatchesIssue pins the defaults the issue names.
func TestDefaultPolicyMatchesIssue(t *testing.T) {
	p := csbot.DefaultPolicy()
	type tierDefaults struct {
		Bands        csbot.BandPolicy
		Weights      csbot.Weights
		Spike        int
		DropPct      int
		SilentDays   int
		OverdueDays  int
		Outages      int
		DetractorMax int
		Cadence      int
		RiskDays     int
		Reminders    []int
		AutoRenew    []int
	}
	got := map[csbot.Tier]tierDefaults{}
	for _, tier := range csbot.Tiers() {
		tp := p.Tier(tier)
		got[tier] = tierDefaults{tp.Bands, tp.Weights, tp.Support.SpikeTickets, tp.Usage.DropPct,
			tp.Usage.SilentDays, tp.Payments.OverdueDays, tp.Reliability.Outages, tp.Satisfaction.DetractorMax,
			tp.Engagement.CadenceDays, tp.Renewals.RiskDays, tp.Renewals.ReminderDays, tp.Renewals.AutoRenewReminderDays}
	}
	bands := csbot.BandPolicy{Green: 70, Yellow: 40}
	weights := csbot.Weights{Usage: 35, Support: 15, Satisfaction: 15, Payments: 15, Engagement: 10, Reliability: 10}
	techWeights := weights
	techWeights.Engagement = 0
	want := map[csbot.Tier]tierDefaults{
		csbot.TierHigh: {bands, weights, 10, 30, 60, 15, 2, 6, 30, 90,
			[]int{120, 90, 60, 30, 14, 7}, []int{120, 90, 60, 30, 14, 7}},
		csbot.TierLow: {bands, weights, 20, 30, 60, 30, 2, 6, 90, 90,
			[]int{90, 60, 30, 7}, []int{90, 60, 30, 7}},
		csbot.TierTech: {bands, techWeights, 40, 30, 60, 45, 2, 6, 0, 90,
			[]int{30, 7}, []int{30}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DefaultPolicy() mismatch (-want +got):\n%s", diff)
	}
	if p.OverrideExpiryDays != 30 {
		t.Errorf("DefaultPolicy().OverrideExpiryDays = %d, want 30", p.OverrideExpiryDays)
	}
}

func TestDefaultPolicyTiersDoNotShareSlices(t *testing.T) {
	p := csbot.DefaultPolicy()
	p.Tiers.High.Renewals.ReminderDays[0] = 1
	if q := csbot.DefaultPolicy(); q.Tiers.High.Renewals.ReminderDays[0] != 120 ||
		q.Tiers.High.Renewals.AutoRenewReminderDays[0] != 120 {
		t.Errorf("DefaultPolicy() shares its slices between calls")
	}
	if p.Tiers.High.Renewals.AutoRenewReminderDays[0] != 120 || p.Tiers.Low.Renewals.ReminderDays[0] != 90 {
		t.Errorf("DefaultPolicy() shares its slices between tiers or lists")
	}
}

func TestPolicyTier(t *testing.T) {
	p := csbot.DefaultPolicy()
	p.Tiers.High.Bands.Green = 80
	p.Tiers.Low.Bands.Green = 75
	p.Tiers.Tech.Bands.Green = 65
	tests := []struct {
		tier csbot.Tier
		want int
	}{
		{csbot.TierHigh, 80}, {csbot.TierLow, 75}, {csbot.TierTech, 65}, {"gold", 75}, {"", 75},
	}
	for _, tt := range tests {
		if got := p.Tier(tt.tier).Bands.Green; got != tt.want {
			t.Errorf("Tier(%q).Bands.Green = %d, want %d", tt.tier, got, tt.want)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*csbot.Policy)
		want   []string // the keys of the errors
	}{
		{"negative weight", func(p *csbot.Policy) { p.Tiers.High.Weights.Usage = -5 },
			[]string{"tiers.high.weights.usage"}},
		{"all weights zero", func(p *csbot.Policy) { p.Tiers.Low.Weights = csbot.Weights{} },
			[]string{"tiers.low.weights"}},
		{"bands crossed", func(p *csbot.Policy) { p.Tiers.Tech.Bands.Yellow = 70 },
			[]string{"tiers.tech.bands.yellow"}},
		{"green above 100", func(p *csbot.Policy) { p.Tiers.High.Bands.Green = 101 },
			[]string{"tiers.high.bands.green"}},
		{"critical drop below drop", func(p *csbot.Policy) { p.Tiers.High.Usage.DropCriticalPct = 20 },
			[]string{"tiers.high.usage.drop_critical_pct"}},
		{"critical spike below spike", func(p *csbot.Policy) { p.Tiers.Low.Support.SpikeCriticalTickets = 5 },
			[]string{"tiers.low.support.spike_critical_tickets"}},
		{"critical overdue at overdue", func(p *csbot.Policy) { p.Tiers.Low.Payments.OverdueCriticalDays = 30 },
			[]string{"tiers.low.payments.overdue_critical_days"}},
		{"engagement weight without cadence", func(p *csbot.Policy) { p.Tiers.Tech.Weights.Engagement = 10 },
			[]string{"tiers.tech.engagement.cadence_days"}},
		{"detractor max 10", func(p *csbot.Policy) { p.Tiers.High.Satisfaction.DetractorMax = 10 },
			[]string{"tiers.high.satisfaction.detractor_max"}},
		{"critical max above detractor max", func(p *csbot.Policy) { p.Tiers.High.Satisfaction.CriticalMax = 7 },
			[]string{"tiers.high.satisfaction.critical_max"}},
		{"duplicate reminder", func(p *csbot.Policy) { p.Tiers.Low.Renewals.ReminderDays = []int{30, 7, 30} },
			[]string{"tiers.low.renewals.reminder_days[2]"}},
		{"negative reminder", func(p *csbot.Policy) { p.Tiers.Tech.Renewals.AutoRenewReminderDays = []int{-1} },
			[]string{"tiers.tech.renewals.auto_renew_reminder_days[0]"}},
		{"override expiry 0", func(p *csbot.Policy) { p.OverrideExpiryDays = 0 },
			[]string{"override_expiry_days"}},
		{"several", func(p *csbot.Policy) {
			p.SignalRearmDays = -1
			p.Tiers.High.Reliability.Outages = 0
		}, []string{"signal_rearm_days", "tiers.high.reliability.outages"}},
	}
	for _, tt := range tests {
		p := csbot.DefaultPolicy()
		tt.change(&p)
		err := p.Validate()
		got := policyErrorKeys(err)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Validate() = %v; keys mismatch (-want +got):\n%s", tt.name, err, diff)
		}
	}
}

func TestPolicyErrorMessage(t *testing.T) {
	p := csbot.DefaultPolicy()
	p.Tiers.High.Weights.Usage = -5
	want := "tiers.high.weights.usage: must be >= 0, got -5"
	if err := p.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want %q", err, want)
	}
}

// policyErrorKeys returns the keys of the *csbot.PolicyError values joined
// in err.
func policyErrorKeys(err error) []string {
	if err == nil {
		return nil
	}
	var keys []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			keys = append(keys, policyErrorKeys(e)...)
		}
		return keys
	}
	var pe *csbot.PolicyError
	if errors.As(err, &pe) {
		return []string{pe.Key}
	}
	return []string{"not a PolicyError: " + err.Error()}
}

// TestPolicyKeysDerivable checks that the key Validate names for each
// integer setting is the setting's field path in lower_snake_case, the
// naming a decoder outside the package relies on: setting any one integer
// field to a wild value must give an error naming exactly that path.
func TestPolicyKeysDerivable(t *testing.T) {
	var paths []string
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				key := snakeCase(v.Type().Field(i).Name)
				if path != "" {
					key = path + "." + key
				}
				walk(v.Field(i), key)
			}
		case reflect.Int:
			paths = append(paths, path)
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Int {
				paths = append(paths, path+"[0]")
			}
		case reflect.String, reflect.Bool:
			// Checked with wild text by TestPolicySettingsKeys.
		default:
			t.Fatalf("policy field %s has kind %s, which a file decoder may not handle", path, v.Kind())
		}
	}
	walk(reflect.ValueOf(csbot.DefaultPolicy()), "")
	if len(paths) < 80 {
		t.Fatalf("found only %d policy settings", len(paths))
	}

	for _, path := range paths {
		p := csbot.DefaultPolicy()
		setPolicyPath(reflect.ValueOf(&p).Elem(), path, -100000)
		keys := policyErrorKeys(p.Validate())
		found := false
		for _, k := range keys {
			switch {
			case k == path:
				found = true
			case !relatedKey(path, k):
				t.Errorf("setting %s = -100000: Validate() names unrelated key %q", path, k)
			}
		}
		if !found {
			t.Errorf("setting %s = -100000: Validate() keys %q, want %q among them", path, keys, path)
		}
	}
}

// relatedKey reports whether an error on key k is an expected knock-on of
// changing path (a bound that depends on another setting).
func relatedKey(path, k string) bool {
	pairs := [][2]string{
		{"bands.green", "bands.yellow"}, {"bands.yellow", "bands.green"},
		{"satisfaction.detractor_max", "satisfaction.critical_max"},
		{"weights.", ".weights"},
	}
	for _, pr := range pairs {
		if strings.Contains(path, pr[0]) && strings.HasSuffix(k, pr[1]) {
			return true
		}
	}
	return false
}

func setPolicyPath(v reflect.Value, path string, x int) {
	for _, part := range strings.Split(path, ".") {
		idx := strings.HasSuffix(part, "[0]")
		part = strings.TrimSuffix(part, "[0]")
		v = v.FieldByNameFunc(func(name string) bool { return snakeCase(name) == part })
		if idx {
			v = v.Index(0)
		}
	}
	v.SetInt(int64(x))
}

// snakeCase turns a Go field name into lower_snake_case.
func snakeCase(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
