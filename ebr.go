package csbot

import "time"

// EBRPeriod is the stretch of time an executive business review covers:
// [Start, End), dates at midnight UTC, with a label for people
// ("FY2027 Q1", "last 90 days", "FY2026 H1").
type EBRPeriod struct {
	Start, End time.Time
	Label      string
}

// EBRFacts is the fact sheet of one account for one period: every figure
// an EBR draft may state, computed by code from the stored data. A draft
// (the model's or the template's) uses these and nothing else; the model
// sees this sheet and nothing else. It holds no contact emails.
type EBRFacts struct {
	Account AccountBrief `json:"account"`
	Period  EBRPeriod    `json:"period"`

	// Goals and SuccessCriteria come from the account's latest handoff,
	// if any, quoted as data.
	Goals           string `json:"goals,omitempty"`
	SuccessCriteria string `json:"success_criteria,omitempty"`

	Health      HealthBrief  `json:"health"`
	HealthStart *HealthBrief `json:"health_start,omitempty"` // at the period's start, when known
	// HealthNow is the latest score, when it is later than the period's
	// end: what the review's asks and next steps start from.
	HealthNow *HealthBrief `json:"health_now,omitempty"`

	Usage        EBRUsage        `json:"usage"`
	Support      EBRSupport      `json:"support"`
	Satisfaction EBRSatisfaction `json:"satisfaction"`
	Touchpoints  []EBRTouchpoint `json:"touchpoints,omitempty"` // in the period, newest first, at most 10
	Renewal      *RenewalBrief   `json:"renewal,omitempty"`     // the next open renewal
	// Risks are the account's live alerts when the sheet is made (alert
	// states have no history to read them at the period's end).
	Risks []AlertItem `json:"risks,omitempty"`
}

// EBRUsage is adoption and usage over the period.
type EBRUsage struct {
	HasData          bool    `json:"has_data"`
	Seats            int     `json:"seats"`
	AvgActiveUsers   float64 `json:"avg_active_users"`
	PeakActiveUsers  int     `json:"peak_active_users"`
	PeakDay          string  `json:"peak_day,omitempty"` // yyyy-mm-dd
	AdoptionPct      int     `json:"adoption_pct"`       // avg active users / seats
	PrevAvgActive    float64 `json:"prev_avg_active"`    // the period of the same length before
	ChangePct        int     `json:"change_pct"`         // against it; 0 without
	HasPrev          bool    `json:"has_prev"`
	DaysWithActivity int     `json:"days_with_activity"`
}

// EBRSupport is the support experience over the period.
type EBRSupport struct {
	Opened       int            `json:"opened"`
	BySeverity   map[string]int `json:"by_severity,omitempty"` // low, normal, high, urgent
	Resolved     int            `json:"resolved"`
	MedianHours  float64        `json:"median_hours_to_resolve"`
	OpenAtEnd    int            `json:"open_at_end"`
	UrgentOpened int            `json:"urgent_opened"`
	// Subjects are up to five ticket subjects, quoted as data.
	Subjects []string `json:"subjects,omitempty"`
}

// EBRSatisfaction is NPS over the period.
type EBRSatisfaction struct {
	Responses  int        `json:"responses"`
	NPS        int        `json:"nps"` // promoters% - detractors%, -100..100; meaningful with responses
	Promoters  int        `json:"promoters"`
	Passives   int        `json:"passives"`
	Detractors int        `json:"detractors"`
	Quotes     []EBRQuote `json:"quotes,omitempty"` // up to three comments, quoted as data
}

// EBRQuote is an NPS comment, without who said it.
type EBRQuote struct {
	Score   int    `json:"score"`
	Comment string `json:"comment"`
}

// EBRTouchpoint is a meeting, call or other touch in the period.
type EBRTouchpoint struct {
	Day     string    `json:"day"` // yyyy-mm-dd
	Kind    TouchKind `json:"kind"`
	Summary string    `json:"summary,omitempty"` // quoted as data
}

// The sections of an EBR draft, in order.
const (
	EBRSummary      = "executive_summary"
	EBROutcomes     = "outcomes"
	EBRAdoption     = "adoption"
	EBRSupportPart  = "support"
	EBRSatisfied    = "satisfaction"
	EBRRisksAndAsks = "risks_and_asks"
	EBRNext         = "next"
)

// EBRSections lists the sections of a draft in order.
func EBRSections() []string {
	return []string{EBRSummary, EBROutcomes, EBRAdoption, EBRSupportPart, EBRSatisfied, EBRRisksAndAsks, EBRNext}
}

// EBRDraft is a drafted review: its sections' text by section, where it
// came from, and the figures in the text that the fact sheet does not
// hold.
type EBRDraft struct {
	Sections map[string]string `json:"sections"`
	// Source is "llm" or "template".
	Source string `json:"source"`
	Model  string `json:"model,omitempty"`
	// Note says why a template draft was made ("no model configured",
	// "the model timed out").
	Note    string          `json:"note,omitempty"`
	Flagged []FlaggedFigure `json:"flagged,omitempty"`
}

// FlaggedFigure is a number in a draft that no figure of the fact sheet
// matches.
type FlaggedFigure struct {
	Section string `json:"section"`
	Text    string `json:"text"` // as written: "$18.4k", "42%"
}

// EBRVersion is one stored version of an account's draft for a period:
// the draft, the fact sheet it was made from, and what made it.
type EBRVersion struct {
	ID        int64
	AccountID int64
	Period    EBRPeriod
	Version   int
	By        string // Slack user id of whoever asked for it or edited it
	Facts     EBRFacts
	Draft     EBRDraft
	// Edited marks a version a person wrote over a draft.
	Edited bool
	// FactsHash and PromptHash identify the sheet and the prompt;
	// tokens and latency are the model's, zero for the template.
	FactsHash                      string
	PromptHash                     string
	PromptTokens, CompletionTokens int
	Latency                        time.Duration
	CreatedAt                      time.Time
}
