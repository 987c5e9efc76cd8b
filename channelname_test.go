package csbot

import (
	"strings"
	"testing"
)

func TestSlugChannelName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"ACME Corp.", "acme-corp"},
		{"Globex & Co. <Intl>", "globex-co-intl"},
		{"Café Müller GmbH", "cafe-muller-gmbh"},
		{"Straße", "strasse"},
		{"  --a -- b__c--  ", "a-b__c"},
		{"株式会社", ""},
		{"acct-株式会社", "acct"},
		{"UPPER_lower-123", "upper_lower-123"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := SlugChannelName(tt.in); got != tt.want {
			t.Errorf("SlugChannelName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := SlugChannelName(strings.Repeat("abc ", 40))
	if len(long) > MaxChannelName || strings.HasSuffix(long, "-") {
		t.Errorf("SlugChannelName(long) = %q (%d characters), want at most %d not ending in -", long, len(long), MaxChannelName)
	}
}

func TestChannelName(t *testing.T) {
	t.Parallel()
	acme := Account{ID: 7, ExternalID: "ACME-001", Name: "ACME Corp.", Domain: "acme.com"}
	tests := []struct {
		pattern string
		a       Account
		want    string
	}{
		{DefaultChannelPattern, acme, "acct-acme-corp"},
		{"cs-{external_id}", acme, "cs-acme-001"},
		{"{name}-{domain}", acme, "acme-corp-acme-com"},
		{"Kunde {name}", acme, "kunde-acme-corp"},
		{DefaultChannelPattern, Account{ID: 9, ExternalID: "JP-1", Name: "株式会社"}, "acct-jp-1"},
		{DefaultChannelPattern, Account{ID: 9, Name: "株式会社"}, "acct-9"},
	}
	for _, tt := range tests {
		if got := ChannelName(tt.pattern, tt.a); got != tt.want {
			t.Errorf("ChannelName(%q, %q) = %q, want %q", tt.pattern, tt.a.Name, got, tt.want)
		}
	}
}

func TestCheckChannelPattern(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{DefaultChannelPattern, "cs-{external_id}", "cs-{name}-{domain}", "{name}-cs", "Kunde {name}", "c{name}7"} {
		if err := CheckChannelPattern(ok); err != nil {
			t.Errorf("CheckChannelPattern(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"acct", "acct-{domain}", "acct-{nme}", ""} {
		if err := CheckChannelPattern(bad); err == nil {
			t.Errorf("CheckChannelPattern(%q) = nil, want an error", bad)
		}
	}
	// Too little text of its own: an account named "General" would be
	// given #general.
	for _, bad := range []string{"{name}", "{name}-", "-{name}_", "{external_id}", "{name}-{domain}", "x-{name}", "#{name}", "株式-{name}"} {
		err := CheckChannelPattern(bad)
		if err == nil || !strings.Contains(err.Error(), "at least 2 letters or digits of its own") || !strings.Contains(err.Error(), `"acct-{name}"`) {
			t.Errorf("CheckChannelPattern(%q) = %v, want it refused for too little text of its own", bad, err)
		}
	}
}

func FuzzSlugChannelName(f *testing.F) {
	for _, s := range []string{"ACME Corp.", "Café Müller", "株式会社", "--a--", "", strings.Repeat("ab ", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := SlugChannelName(s)
		if len(got) > MaxChannelName || strings.HasPrefix(got, "-") || strings.HasSuffix(got, "-") || strings.Contains(got, "--") {
			t.Errorf("SlugChannelName(%q) = %q: too long or badly dashed", s, got)
		}
		for _, r := range got {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_' {
				t.Fatalf("SlugChannelName(%q) = %q holds %q", s, got, r)
			}
		}
		if again := SlugChannelName(got); again != got {
			t.Errorf("SlugChannelName is not stable: %q gives %q, then %q", s, got, again)
		}
	})
}
