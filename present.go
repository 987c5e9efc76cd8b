package csbot

import (
	"strconv"
	"strings"
)

// Emoji is the colour of a band: a red, yellow or green circle, and a
// white one for no score.
func (b Band) Emoji() string {
	switch b {
	case BandRed:
		return "🔴"
	case BandYellow:
		return "🟡"
	case BandGreen:
		return "🟢"
	}
	return "⚪"
}

// Word names a band for text, "not scored" for none.
func (b Band) Word() string {
	if b == "" {
		return "not scored"
	}
	return string(b)
}

// String is the trend's arrow and its 7- and 30-day changes:
// "↘ -12 in 7 days · -20 in 30 days"; "" when there is no trend yet.
func (t Trend) String() string {
	if !t.Has7 && !t.Has30 {
		return ""
	}
	d := t.Delta30
	if t.Has7 {
		d = t.Delta7
	}
	arrow := "→"
	switch {
	case d < 0:
		arrow = "↘"
	case d > 0:
		arrow = "↗"
	}
	var parts []string
	if t.Has7 {
		parts = append(parts, signedInt(t.Delta7)+" in 7 days")
	}
	if t.Has30 {
		parts = append(parts, signedInt(t.Delta30)+" in 30 days")
	}
	return arrow + " " + strings.Join(parts, " · ")
}

// signedInt formats n with its sign: "+5", "-12", "0".
func signedInt(n int) string {
	if n > 0 {
		return "+" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// Title names a signal kind for people: "Usage dropped".
func (k SignalKind) Title() string {
	switch k {
	case SignalTicketSpike:
		return "Ticket spike"
	case SignalUsageDrop:
		return "Usage dropped"
	case SignalUsageSilent:
		return "Usage went silent"
	case SignalInvoiceOverdue:
		return "Invoice overdue"
	case SignalOutages:
		return "Repeated outages"
	case SignalDetractor:
		return "Detractor NPS"
	case SignalBandDrop:
		return "Health dropped a band"
	case SignalChampionLeft:
		return "Champion left"
	case SignalNoTouch:
		return "No recent touchpoint"
	case SignalRenewalRisk:
		return "Renewal at risk"
	}
	return strings.ReplaceAll(string(k), "_", " ")
}

// Emoji marks a severity: a red circle for critical, an orange diamond
// for warning, a blue one for info.
func (s SignalSeverity) Emoji() string {
	switch s {
	case SignalCritical:
		return "🔴"
	case SignalWarning:
		return "🟠"
	}
	return "🔹"
}

// DaysText says how far a day is, given the signed number of days from
// today: "today", "tomorrow", "in 12 days", "yesterday", "5 days ago".
func DaysText(n int) string {
	switch {
	case n == 0:
		return "today"
	case n == 1:
		return "tomorrow"
	case n == -1:
		return "yesterday"
	case n > 1:
		return "in " + strconv.Itoa(n) + " days"
	}
	return strconv.Itoa(-n) + " days ago"
}
