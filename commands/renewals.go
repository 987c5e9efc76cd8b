package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// renewalsQuery is a report asked for, with its scope and dates resolved:
// what a page shows and what its "Show more" button carries.
type renewalsQuery struct {
	Scope renewalsScope
	// UserID is the person of renewalsOfUser; UserLabel the name the
	// mention gave them, shown when csbot does not know them.
	UserID, UserLabel string
	// From and To bound the renewal dates, inclusive, midnight UTC.
	From, To time.Time
	// Quarter says the window is a fiscal quarter (for its label).
	Quarter bool
	AtRisk  bool
	// Offset is the first line of the page.
	Offset int
}

// renewalsUsageText is how to use /renewals, for a fiscal year starting in
// fyStart.
func renewalsUsageText(fyStart time.Month) string {
	return "*/renewals* lists open renewals by month, with ARR totals:\n" +
		"• `/renewals`: yours in the next 90 days\n" +
		"• `/renewals 30` (or `30d`, `30 days`): the next 1 to 730 days\n" +
		"• `/renewals q1`: the fiscal Q1 that is current or next; also `/renewals 2027-Q1`, `FY27 Q1`, `this quarter`, `next quarter` " +
		fmt.Sprintf("(the fiscal year starts in %s)\n", fyStart) +
		"• `/renewals @sam`, `/renewals team`, `/renewals all`: someone's, your team's (managers), everyone's\n" +
		"• `/renewals at-risk`: only accounts in the yellow or red band\n" +
		"• `/renewals acme`: one account's renewal history\n" +
		"Combine them: `/renewals team at-risk 30`."
}

// renewalsUsage is a usage reply: what was wrong (mrkdwn, escaped; "" for
// plain help) and how to use /renewals.
func (c *Commands) renewalsUsage(problem string) bot.Reply {
	how := renewalsUsageText(c.cfg.FiscalYearStart)
	var blocks []slack.Block
	text := how
	if problem != "" {
		blocks = append(blocks, bot.FitSection(problem))
		text = problem + "\n" + how
	}
	blocks = append(blocks, bot.FitSection(how))
	rep := usage(bot.TruncateMrkdwn(text, bot.MaxFallbackText))
	rep.Blocks = blocks
	return rep
}

// renewals answers /renewals: a report of open renewals (see
// parseRenewalsArgs for what it takes), one account's renewal history, or
// a usage hint.
func (c *Commands) renewals(ctx context.Context, req bot.CommandRequest) (bot.Reply, error) {
	args, err := parseRenewalsArgs(req.Text, c.cfg.FiscalYearStart)
	if err != nil {
		var ae *renewalsArgError
		if errors.As(err, &ae) {
			return c.renewalsUsage(bot.Escape(ae.msg)), nil
		}
		return bot.Reply{}, fmt.Errorf("read /renewals arguments: %w", err)
	}
	switch {
	case args.Help:
		return c.renewalsUsage(""), nil
	case args.Query != "":
		return c.renewalsOfAccount(ctx, req.Request, args)
	}
	q := renewalsQuery{Scope: args.Scope, UserID: args.UserID, UserLabel: args.UserLabel, AtRisk: args.AtRisk}
	q.From, q.To, q.Quarter = renewalsDates(args.Window, c.today(req.Actor), c.cfg.FiscalYearStart)
	return c.renewalsReport(ctx, req.Request, q)
}

// renewalsOfAccount answers /renewals with the name of an account: its
// renewal history. Text that is probably a mistyped keyword and names no
// account gets a "did you mean".
func (c *Commands) renewalsOfAccount(ctx context.Context, req bot.Request, args renewalsArgs) (bot.Reply, error) {
	query, res, rep, err := c.findAccounts(ctx, args.Query, "renewals")
	if err != nil {
		return bot.Reply{}, err
	}
	if rep != nil {
		return *rep, nil
	}
	if len(args.DidYouMean) > 0 && len(res.Matches) == 0 {
		kws := make([]string, len(args.DidYouMean))
		for i, k := range args.DidYouMean {
			kws[i] = "`" + k + "`"
		}
		return c.renewalsUsage(fmt.Sprintf("No account matches “%s”, and /renewals doesn't know that word: did you mean %s?",
			bot.Escape(bot.Truncate(args.Query, maxRenewalsName)), renewalsOrList(kws))), nil
	}
	a, rep := lookupReply("renewals", query, res)
	if rep != nil {
		return *rep, nil
	}
	return c.renewalHistoryOf(ctx, req, a)
}

// renewalsDates resolves a window on today (midnight UTC) for a fiscal
// year starting in fyStart: from and to, inclusive, and whether it is a
// fiscal quarter. A window in days runs from today to today plus Days; a
// quarter covers the whole quarter, so an open renewal whose date has
// passed within it shows too.
func renewalsDates(w renewalsWindow, today time.Time, fyStart time.Month) (from, to time.Time, quarter bool) {
	var q csbot.FiscalQuarter
	switch w.Kind {
	case renewalsQuarterNumber:
		q = csbot.QuarterOf(today, fyStart)
		for i := 0; i < 4 && q.Q != w.Q; i++ {
			q = q.Next()
		}
	case renewalsNamedQuarter:
		q = w.Quarter
		q.Start = fyStart
	case renewalsThisQuarter:
		q = csbot.QuarterOf(today, fyStart)
	case renewalsNextQuarter:
		q = csbot.QuarterOf(today, fyStart).Next()
	default:
		days := w.Days
		if days < 1 || days > maxRenewalDays {
			days = defaultRenewalDays
		}
		return today, today.AddDate(0, 0, days), false
	}
	return q.First(), q.Last(), true
}

// renewalsWindowLabel names a report's dates: "next 90 days" and "in the
// next 90 days", or "FY2027 Q1 (Feb 1 - Apr 30, 2026)" and the same with
// "in".
func renewalsWindowLabel(q renewalsQuery, fyStart time.Month) (label, phrase string) {
	if q.Quarter {
		label = renewalsDateRange(q.From, q.To)
		if fq := csbot.QuarterOf(q.From, fyStart); fq.First().Equal(q.From) && fq.Last().Equal(q.To) {
			label = fmt.Sprintf("%s (%s)", fq, label)
		}
		return label, "in " + label
	}
	label = "next " + renewalsCount(dayCount(q.From, q.To), "day", "days")
	return label, "in the " + label
}

// renewalsScopeReply is who a report is about: the owners to filter on
// (nil for every account), its title and sentence words, a note, or the
// reply to send instead when the actor may not see it.
type renewalsScopeReply struct {
	owners []string
	title  string // "Your renewals"
	whose  string // "for your accounts"
	note   string // mrkdwn
	// unknown is set when the person of renewalsOfUser is not a user.
	unknown bool
	refuse  *bot.Reply
}

// renewalsScopeText is the title of a report of scope ("Your renewals",
// "Sam's at-risk renewals") and whose accounts it covers, for a sentence
// ("for Sam's accounts"; "" for every account). name is the person of
// renewalsOfUser.
func renewalsScopeText(scope renewalsScope, name string, atRisk bool) (title, whose string) {
	switch scope {
	case renewalsOfMine:
		title, whose = "Your", "for your accounts"
	case renewalsOfTeam:
		title, whose = "Team", "for your team's accounts"
	case renewalsOfUser:
		title, whose = name+"'s", "for "+name+"'s accounts"
	default:
		title = "All"
	}
	if atRisk {
		return title + " at-risk renewals", whose
	}
	return title + " renewals", whose
}

// renewalsScopeOf resolves q's scope for actor, checking that they may see
// it: "mine" needs a known user, "team" a manager or an admin.
func (c *Commands) renewalsScopeOf(ctx context.Context, actor bot.Actor, q renewalsQuery) (renewalsScopeReply, error) {
	var s renewalsScopeReply
	s.title, s.whose = renewalsScopeText(q.Scope, "", q.AtRisk)
	switch q.Scope {
	case renewalsOfMine:
		if !actor.Known {
			rep := usage("csbot doesn't know you yet (you're not in its list of users), so it can't tell which accounts are yours. " +
				"Try `/renewals all`, or `/renewals @user` for a colleague's.")
			return renewalsScopeReply{refuse: &rep}, nil
		}
		s.owners = []string{actor.SlackID}
	case renewalsOfTeam:
		if !actor.Is(csbot.UserManager, csbot.UserAdmin) {
			rep := usage("`/renewals team` is for managers and admins: it shows the renewals of the people who report to you. " +
				"Try `/renewals` for yours, `/renewals @user` for a colleague's or `/renewals all`.")
			return renewalsScopeReply{refuse: &rep}, nil
		}
		team, err := c.cfg.Store.TeamOf(ctx, actor.SlackID)
		if err != nil {
			return renewalsScopeReply{}, fmt.Errorf("team of %s: %w", actor.SlackID, err)
		}
		s.owners = []string{actor.SlackID}
		for _, u := range team {
			s.owners = append(s.owners, u.SlackID)
		}
		if len(team) == 0 {
			s.note = "No one reports to you in csbot's list of users, so these are your own accounts."
		}
	case renewalsOfUser:
		name := q.UserLabel
		u, err := c.cfg.Store.UserBySlackID(ctx, q.UserID)
		switch {
		case errors.Is(err, csbot.ErrNotFound):
			s.unknown = true
			s.note = bot.UserMention(q.UserID) + " isn't in csbot's list of users; these are the accounts that name them as CSM or account executive."
		case err != nil:
			return renewalsScopeReply{}, fmt.Errorf("user %s: %w", q.UserID, err)
		case u.Name != "":
			name = u.Name
		}
		name = bot.Truncate(orElse(strings.TrimSpace(name), q.UserID), maxRenewalsName)
		s.title, s.whose = renewalsScopeText(q.Scope, name, q.AtRisk)
		s.owners = []string{q.UserID}
	}
	return s, nil
}

// overdueRenewalDays is how far back a "next N days" report looks for open
// renewals whose date has passed.
const overdueRenewalDays = 90

// renewalsReport answers with a page of the report q asks for.
func (c *Commands) renewalsReport(ctx context.Context, req bot.Request, q renewalsQuery) (bot.Reply, error) {
	if q.Scope == renewalsOfUser && q.UserID == req.Actor.SlackID && req.Actor.Known {
		q.Scope, q.UserID, q.UserLabel = renewalsOfMine, "", ""
	}
	scope, err := c.renewalsScopeOf(ctx, req.Actor, q)
	if err != nil {
		return bot.Reply{}, err
	}
	if scope.refuse != nil {
		return *scope.refuse, nil
	}
	from := q.From
	if !q.Quarter {
		// An open renewal whose date has passed is the most urgent of all
		// (lapsed, or closed without anyone recording it): a "next N days"
		// report leads with those of the last overdueRenewalDays.
		from = q.From.AddDate(0, 0, -overdueRenewalDays)
	}
	size := renewalsPageSize(q.From, q.To)
	f := csbot.RenewalFilter{From: from, To: q.To, Owners: scope.owners, AtRisk: q.AtRisk, Offset: q.Offset, Limit: size}
	rep, err := c.cfg.Store.Renewals(ctx, f)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("renewals: %w", err)
	}
	rep.Lines = fitRenewalsLines(rep.Lines)

	// A manager without accounts of their own sees their team's.
	if q.Scope == renewalsOfMine && q.Offset == 0 && rep.Total == 0 && req.Actor.Is(csbot.UserManager) {
		own, err := c.cfg.Store.Portfolio(ctx, []string{req.Actor.SlackID})
		if err != nil {
			return bot.Reply{}, fmt.Errorf("portfolio of %s: %w", req.Actor.SlackID, err)
		}
		if len(own) == 0 {
			q.Scope = renewalsOfTeam
			if scope, err = c.renewalsScopeOf(ctx, req.Actor, q); err != nil {
				return bot.Reply{}, err
			}
			if scope.refuse != nil {
				return *scope.refuse, nil
			}
			scope.note = "You have no accounts of your own, so these are your team's."
			f.Owners = scope.owners
			if rep, err = c.cfg.Store.Renewals(ctx, f); err != nil {
				return bot.Reply{}, fmt.Errorf("renewals: %w", err)
			}
			rep.Lines = fitRenewalsLines(rep.Lines)
		}
	}

	if scope.unknown && rep.Total == 0 {
		_, inWindow := renewalsWindowLabel(q, c.cfg.FiscalYearStart)
		return usage(fmt.Sprintf("csbot doesn't know %s: they aren't in its list of users, and no account that names them as CSM or account executive renews %s. "+
			"Try `/renewals all`.", bot.UserMention(q.UserID), inWindow)), nil
	}
	if len(rep.Lines) == 0 && rep.Total > 0 {
		return usage("There are no more renewals to show: the list has changed since. Run `/renewals` again for a fresh one."), nil
	}

	out := renewalsPageReply(q, scope, rep, c.today(req.Actor), c.cfg.FiscalYearStart)
	if err := bot.CheckLimits(bot.SurfaceMessage, out.Blocks, out.Text); err != nil {
		return bot.Reply{}, fmt.Errorf("renewals page of %d lines: %w", len(rep.Lines), err)
	}
	return out, nil
}

// renewalsPageReply renders rep, the page of q's report that the store
// gave, for scope on today, with a "Show more" button carrying the next
// page's query when more follow.
func renewalsPageReply(q renewalsQuery, scope renewalsScopeReply, rep csbot.RenewalReport, today time.Time, fyStart time.Month) bot.Reply {
	window, inWindow := renewalsWindowLabel(q, fyStart)
	page := renewalsPage{
		Title: scope.title, Window: window, InWindow: inWindow, Whose: scope.whose,
		Report: rep, Today: today, Offset: q.Offset, AtRisk: q.AtRisk, Note: scope.note,
	}
	if next := q.Offset + len(rep.Lines); next < rep.Total && len(rep.Lines) > 0 {
		more := q
		more.Offset = next
		page.More = encodeRenewalsMore(more)
	}
	if rep.Total == 0 {
		page.Tries = renewalsTries(q)
	}
	return renewalsReply(page)
}

// renewalsTries suggests what to ask instead of q, which found nothing.
func renewalsTries(q renewalsQuery) []string {
	var tries []string
	if !q.Quarter {
		if n := dayCount(q.From, q.To); n < maxRenewalDays {
			longer := 730
			for _, d := range []int{180, 365} {
				if n < d {
					longer = d
					break
				}
			}
			tries = append(tries, fmt.Sprintf("a longer window (`/renewals %d`)", longer))
		}
	} else {
		tries = append(tries, "the next 90 days (`/renewals`)")
	}
	if q.AtRisk {
		tries = append(tries, "every renewal, not only at-risk ones (leave out `at-risk`)")
	}
	if q.Scope != renewalsOfAll {
		tries = append(tries, "everyone's (`/renewals all`)")
	}
	return append(tries, "`/renewals help`")
}

// renewalsMoreValue is what a "Show more" button carries: the query with
// the next page's offset. It comes back from Slack, so it is checked
// before use (parseRenewalsMore).
type renewalsMoreValue struct {
	Version int    `json:"v"`
	Scope   string `json:"s"`
	User    string `json:"u,omitempty"`
	Label   string `json:"n,omitempty"`
	From    string `json:"f"`
	To      string `json:"t"`
	Quarter bool   `json:"q,omitempty"`
	AtRisk  bool   `json:"r,omitempty"`
	Offset  int    `json:"o"`
}

// renewalsScopeNames name the scopes in a button value.
var renewalsScopeNames = [...]string{
	renewalsOfMine: "mine",
	renewalsOfUser: "user",
	renewalsOfTeam: "team",
	renewalsOfAll:  "all",
}

// maxRenewalsOffset bounds the offset a button may carry.
const maxRenewalsOffset = 1_000_000

// maxRenewalsLabel bounds a mention's label in a button value.
const maxRenewalsLabel = 80

// encodeRenewalsMore encodes q for a button value: compact JSON, well
// under Slack's 2000 characters.
func encodeRenewalsMore(q renewalsQuery) string {
	v := renewalsMoreValue{
		Version: 1, Scope: renewalsScopeNames[q.Scope], From: q.From.Format(time.DateOnly), To: q.To.Format(time.DateOnly),
		Quarter: q.Quarter, AtRisk: q.AtRisk, Offset: q.Offset,
	}
	if q.Scope == renewalsOfUser {
		v.User, v.Label = q.UserID, bot.Truncate(q.UserLabel, maxRenewalsLabel)
	}
	b, err := json.Marshal(v)
	if err != nil { // a struct of strings, ints and bools always encodes
		return ""
	}
	return string(b)
}

// parseRenewalsMore decodes a button value, and reports whether it is one
// that encodeRenewalsMore could have made.
func parseRenewalsMore(s string) (renewalsQuery, bool) {
	var v renewalsMoreValue
	if len(s) > bot.MaxButtonValue || json.Unmarshal([]byte(s), &v) != nil || v.Version != 1 {
		return renewalsQuery{}, false
	}
	q := renewalsQuery{Quarter: v.Quarter, AtRisk: v.AtRisk, Offset: v.Offset}
	found := false
	for i, name := range renewalsScopeNames {
		if name == v.Scope {
			q.Scope, found = renewalsScope(i), true
		}
	}
	if !found || v.Offset < 1 || v.Offset > maxRenewalsOffset {
		return renewalsQuery{}, false
	}
	if q.Scope == renewalsOfUser {
		if !csbot.IsSlackUserID(v.User) || len(v.User) > bot.MaxID || utf8.RuneCountInString(v.Label) > maxRenewalsLabel || !utf8.ValidString(v.Label) {
			return renewalsQuery{}, false
		}
		q.UserID, q.UserLabel = v.User, v.Label
	} else if v.User != "" || v.Label != "" {
		return renewalsQuery{}, false
	}
	var err1, err2 error
	q.From, err1 = time.Parse(time.DateOnly, v.From)
	q.To, err2 = time.Parse(time.DateOnly, v.To)
	if err1 != nil || err2 != nil || q.To.Before(q.From) || dayCount(q.From, q.To) > maxRenewalDays+1 {
		return renewalsQuery{}, false
	}
	return q, true
}

// renewalsMore answers a "Show more" click with the next page, as a new
// ephemeral message. The value is checked, and so is the clicker's right
// to the scope, as on the command.
func (c *Commands) renewalsMore(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	q, ok := parseRenewalsMore(req.Action.Value)
	if !ok {
		c.log.WarnContext(ctx, "renewals: a Show more button with a value csbot did not make", "user", req.UserID, "len", len(req.Action.Value))
		return usage("Sorry, that button no longer works. Run `/renewals` again for a fresh list."), nil
	}
	return c.renewalsReport(ctx, req.Request, q)
}

// registerRenewals gives r the handler of the reports' "Show more" button.
func (c *Commands) registerRenewals(r Registrar) {
	r.HandleAction(renewalsMoreAction, c.renewalsMore)
}

// renewalHistoryOf shows one account's renewals, latest first: date,
// status, ARR and its change against the term before, the outcome's
// reason and auto-renewal, with the next open renewal on top.
func (c *Commands) renewalHistoryOf(ctx context.Context, req bot.Request, a csbot.Account) (bot.Reply, error) {
	noteAccount(ctx, a.ID)
	hist, err := c.cfg.Store.RenewalHistory(ctx, a.ID)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("renewal history of account %d: %w", a.ID, err)
	}
	return renewalsHistoryReply(a, hist, c.today(req.Actor)), nil
}
