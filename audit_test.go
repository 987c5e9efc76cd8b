package csbot

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMaskEmails(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"acme", "acme"},
		{"jo@acme.com", "***@acme.com"},
		{"ask Jo.Doe+renewals@mail.acme.co.uk today", "ask ***@mail.acme.co.uk today"},
		{"<mailto:jo@acme.com|jo@acme.com>", "<mailto:***@acme.com|***@acme.com>"},
		{"a@b.io, c@d.io", "***@b.io, ***@d.io"},
		{"@dana and #acme", "@dana and #acme"},
		{"acme.com", "acme.com"},
	}
	for _, tt := range tests {
		if got := MaskEmails(tt.in); got != tt.want {
			t.Errorf("MaskEmails(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAuditText(t *testing.T) {
	t.Parallel()
	if got := AuditText("  /health \n acme   public "); got != "/health acme public" {
		t.Errorf("AuditText folds spaces: got %q", got)
	}
	long := strings.Repeat("é", MaxAuditText+50) + " jo@acme.com"
	got := AuditText(long)
	if n := utf8.RuneCountInString(got); n != MaxAuditText || !strings.HasSuffix(got, "…") {
		t.Errorf("AuditText(long) has %d characters ending %q, want %d ending with …", n, got[len(got)-5:], MaxAuditText)
	}
	// The address is masked before the text is cut, so no part of it is
	// kept whatever the cut.
	edge := strings.Repeat("x ", (MaxAuditText-10)/2) + "dana.scully@fbi.gov"
	if got := AuditText(edge); strings.Contains(got, "dana") || strings.Contains(got, "scully") {
		t.Errorf("AuditText(%q) = %q, keeps part of the address", edge, got)
	}
}

func TestAuditFilterEffectiveLimit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ limit, want int }{{0, DefaultAuditLimit}, {-3, DefaultAuditLimit}, {7, 7}, {MaxAuditLimit + 1, MaxAuditLimit}} {
		if got := (AuditFilter{Limit: tt.limit}).EffectiveLimit(); got != tt.want {
			t.Errorf("AuditFilter{Limit: %d}.EffectiveLimit() = %d, want %d", tt.limit, got, tt.want)
		}
	}
}

func FuzzAuditText(f *testing.F) {
	for _, s := range []string{"jo@acme.com", "<mailto:jo@acme.com|jo@acme.com>", "acme public", strings.Repeat("a@b.co ", 60)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AuditText(s)
		if utf8.RuneCountInString(got) > MaxAuditText {
			t.Errorf("AuditText(%q) has %d characters", s, utf8.RuneCountInString(got))
		}
		for _, m := range emailLike.FindAllStringSubmatch(got, -1) {
			if !strings.HasSuffix(strings.TrimSuffix(m[0], "@"+m[1]), "***") {
				t.Errorf("AuditText(%q) = %q keeps the address %q", s, got, m[0])
			}
		}
	})
}
