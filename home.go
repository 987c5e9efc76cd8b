package csbot

import "time"

// The App Home's defaults: how far ahead and back its renewals look, and
// how many items each of its lists shows.
const (
	// HomeRenewalDays is how many days ahead the App Home's renewals
	// look.
	HomeRenewalDays = 90
	// HomeOverdueDays is how far back it looks for open renewals whose
	// date has passed, the most urgent of all (as /renewals does).
	HomeOverdueDays = 90
	// HomeListLimit is how many items each list shows; the rest are
	// counted.
	HomeListLimit = 10
)

// HomeQuery asks for what a person's App Home shows.
type HomeQuery struct {
	// User is the person's Slack id.
	User string
	// Today is their calendar date (in their own time zone) at midnight
	// UTC, the form of stored dates; Now is the instant the home is read
	// at, for snoozes.
	Today time.Time
	Now   time.Time
	// Days and OverdueDays bound the renewals: dated Today-OverdueDays
	// through Today+Days.
	Days, OverdueDays int
	// Limit caps each list; the totals count every item.
	Limit int
	// Team adds the team's totals and at-risk renewals: the people who
	// report to User (and User's own accounts).
	Team bool
	// AllHandoffs lists every open handoff rather than those User owns.
	AllHandoffs bool
}

// HomeQueryFor returns the query of the App Home of u on today (their
// calendar date at midnight UTC) at now: managers see their team too, and
// onboarding every open handoff.
func HomeQueryFor(u User, today, now time.Time) HomeQuery {
	return HomeQuery{
		User: u.SlackID, Today: today, Now: now,
		Days: HomeRenewalDays, OverdueDays: HomeOverdueDays, Limit: HomeListLimit,
		Team:        u.Role == UserManager,
		AllHandoffs: u.Role == UserOnboarding,
	}
}

// HomeData is what a person's App Home shows, read at one instant.
type HomeData struct {
	// Book is the accounts they are the CSM of.
	Book HomeBook
	// Renewals are the open renewals of accounts whose CSM or account
	// executive they are.
	Renewals HomeRenewals
	// Alerts are the open alerts of their accounts.
	Alerts HomeAlerts
	// Handoffs are the open handoffs they own, or all of them
	// (HomeQuery.AllHandoffs).
	Handoffs HomeHandoffs
	// Team is their team's, for HomeQuery.Team; nil otherwise.
	Team *HomeTeam
	// Prefs are their alert routes.
	Prefs NotifyPrefs
}

// HomeBook is a CSM's book of business: the accounts that have not
// churned, worst health first (as /health lists them), the first few of
// them, with totals over all.
type HomeBook struct {
	Accounts []PortfolioEntry
	// Total and ARR count and sum every account; ByBand counts them by
	// the band of their latest snapshot ("" for never scored).
	Total  int
	ARR    Cents
	ByBand map[Band]int
}

// HomeRenewals are the first few of a list of open renewals, by date,
// with totals over all.
type HomeRenewals struct {
	Lines []RenewalLine
	Total int
	ARR   Cents
	// NoContact counts the renewals (of all) whose account has no active
	// renewal contact on file.
	NoContact int
}

// HomeAlert is an open alert on one of a CSM's accounts.
type HomeAlert struct {
	ID       int64
	Account  AccountBrief
	Kind     SignalKind
	Severity SignalSeverity
	Evidence string
	// Since is when it was raised.
	Since time.Time
}

// HomeAlerts are the first few open alerts, the most severe and then the
// oldest first, with the count of all.
type HomeAlerts struct {
	Items []HomeAlert
	Total int
}

// HomeHandoff is an open handoff, waiting to be acknowledged.
type HomeHandoff struct {
	ID      int64
	Account AccountBrief
	// Author and Owner are Slack ids; Owner is empty when nobody owns it
	// yet.
	Author, Owner string
	CreatedAt     time.Time
}

// HomeHandoffs are the first few open handoffs, oldest first, with the
// count of all.
type HomeHandoffs struct {
	Items []HomeHandoff
	Total int
}

// HomeCSM is one CSM's book at a glance, in a manager's App Home.
type HomeCSM struct {
	// CSM is their Slack id; Name their name in the users table, "" when
	// it does not know them.
	CSM, Name   string
	Accounts    int
	ARR         Cents
	Red, Yellow int
	// AtRisk is the ARR of their red and yellow accounts.
	AtRisk Cents
}

// HomeTeam is a manager's team: each CSM's book, the most ARR at risk
// first (the first few), the team's totals, and its renewals at risk
// (accounts in the yellow or red band).
type HomeTeam struct {
	CSMs []HomeCSM
	// TotalCSMs counts every CSM of the team with accounts, or without
	// accounts but reporting to the manager.
	TotalCSMs int
	Accounts  int
	ARR       Cents
	AtRisk    Cents
	// Red and Yellow count the team's accounts in each band.
	Red, Yellow int
	Renewals    HomeRenewals
}
