package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
	"github.com/slack-go/slack"
)

// HomeStore is what the App Home reads.
type HomeStore interface {
	// HomeView returns what the App Home of q.User shows, each list cut
	// to q.Limit with the totals of all; csbot.ErrNotFound when csbot
	// does not know them.
	HomeView(ctx context.Context, q csbot.HomeQuery) (csbot.HomeData, error)
	// Admins returns the admins, by name, at most limit of them: whom
	// someone csbot does not know asks to be added.
	Admins(ctx context.Context, limit int) ([]csbot.User, error)
}

// actionHomeSettings is the action_id of the App Home's "Notification
// settings" button, which opens the alert settings modal of /health
// settings.
const actionHomeSettings = "home_settings"

// settingsFromHome is the private_metadata of an alert settings modal
// opened from the App Home: saving it publishes the home again.
const settingsFromHome = "home"

// homeAdmins is how many admins the welcome names.
const homeAdmins = 5

// maxHomeEvidence is the most of an alert's evidence a line shows.
const maxHomeEvidence = 300

// registerHome gives r the App Home: published each time someone opens
// it, and its settings button.
func (c *Commands) registerHome(r Registrar) {
	r.HandleEvent("app_home_opened", c.homeOpened)
	r.HandleAction(actionHomeSettings, c.homeSettings)
}

// homeOpened answers app_home_opened on the Home tab with the person's
// App Home, read afresh. The runtime keeps it from guests and people of
// other organisations.
func (c *Commands) homeOpened(ctx context.Context, req bot.EventRequest) (bot.Reply, error) {
	if homeTab(req) != "home" || !csbot.IsSlackUserID(req.UserID) {
		return bot.Reply{}, nil
	}
	// The runtime's actor has Slack's time zone when csbot has none on
	// file; without it (Slack could not be asked), the users table's.
	actor := req.Actor
	if actor.SlackID != req.UserID {
		var err error
		if actor, err = bot.ResolveActor(ctx, c.cfg.Store, req.UserID); err != nil {
			return bot.Reply{}, fmt.Errorf("app home of %s: %w", req.UserID, err)
		}
	}
	v, err := c.home(ctx, actor)
	if err != nil {
		return bot.Reply{}, err
	}
	return bot.Reply{PublishHome: &v}, nil
}

// homeTab returns the tab an app_home_opened event is about: "home" or
// "messages"; "" when the event does not say.
func homeTab(req bot.EventRequest) string {
	var ev struct {
		Tab string `json:"tab"`
	}
	if err := json.Unmarshal(req.Inner, &ev); err != nil {
		return ""
	}
	return ev.Tab
}

// homeSettings answers the App Home's "Notification settings" button:
// the modal of /health settings, marked so that saving it publishes the
// home again.
func (c *Commands) homeSettings(ctx context.Context, req bot.ActionRequest) (bot.Reply, error) {
	rep, err := c.settings(ctx, req.Request)
	if err != nil {
		return bot.Reply{}, err
	}
	if rep.OpenView != nil {
		rep.OpenView.PrivateMetadata = settingsFromHome
	}
	return rep, nil
}

// republishHome adds to rep the App Home of whoever submitted req when
// the modal came from their App Home, so that the home shows what they
// changed. A home that cannot be read is logged and left as it was: the
// change is made all the same.
func (c *Commands) republishHome(ctx context.Context, req bot.ViewRequest, rep bot.Reply) bot.Reply {
	if req.View.PrivateMetadata != settingsFromHome {
		return rep
	}
	v, err := c.home(ctx, req.Actor)
	if err != nil {
		c.log.WarnContext(ctx, "app home not published again", "user", req.UserID, "err", err)
		return rep
	}
	rep.PublishHome = &v
	return rep
}

// home returns the App Home of actor: what needs them for someone csbot
// knows, a welcome for anyone else.
func (c *Commands) home(ctx context.Context, actor bot.Actor) (slack.HomeTabViewRequest, error) {
	if !actor.Known {
		return c.welcomeHome(ctx)
	}
	now := c.cfg.Now()
	today := c.today(actor)
	d, err := c.cfg.Store.HomeView(ctx, csbot.HomeQueryFor(actor.User, today, now))
	if errors.Is(err, csbot.ErrNotFound) {
		return c.welcomeHome(ctx)
	} else if err != nil {
		return slack.HomeTabViewRequest{}, fmt.Errorf("app home of %s: %w", actor.SlackID, err)
	}
	v := renderHome(homePage{Actor: actor, Data: d, Today: today, Now: now, Loc: c.location(actor), Policy: c.cfg.Policy})
	if err := bot.CheckHome(v); err != nil {
		return slack.HomeTabViewRequest{}, fmt.Errorf("app home of %s: %w", actor.SlackID, err)
	}
	return v, nil
}

// welcomeHome is the App Home of someone csbot does not know.
func (c *Commands) welcomeHome(ctx context.Context) (slack.HomeTabViewRequest, error) {
	admins, err := c.cfg.Store.Admins(ctx, homeAdmins)
	if err != nil {
		return slack.HomeTabViewRequest{}, fmt.Errorf("welcome home: %w", err)
	}
	return renderWelcome(admins), nil
}

// homeView wraps blocks in a Home tab view.
func homeView(blocks []slack.Block) slack.HomeTabViewRequest {
	if len(blocks) > bot.MaxViewBlocks {
		// The lists are capped so that this never happens; should it,
		// the end of the page goes rather than the whole of it.
		blocks = append(blocks[:bot.MaxViewBlocks-1:bot.MaxViewBlocks-1],
			homeContext("Some of this page was left out: it was too long for Slack. Type `/health` or `/renewals` for the rest."))
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}}
}

// renderWelcome is the App Home of someone csbot does not know: what
// csbot is, whom to ask to be added, and what anyone may type.
func renderWelcome(admins []csbot.User) slack.HomeTabViewRequest {
	ask := "ask whoever runs csbot for your team to add you to its list of users (the `users` import)"
	if len(admins) > 0 {
		names := make([]string, len(admins))
		for i, a := range admins {
			names[i] = bot.UserMention(a.SlackID)
		}
		ask = "ask an admin, " + orJoin(names) + ", to add you to csbot's list of users"
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plainText("Welcome to csbot")),
		bot.FitSection("csbot keeps the customer success team's accounts in view, here in Slack: health, renewals, risk alerts and handoffs."),
		bot.FitSection("*csbot doesn't know you yet*, so there is nothing of yours to show here. To be added, " + ask +
			", with your role (CSM, manager, sales, onboarding or admin). This page then shows your accounts, renewals, alerts and handoffs."),
		bot.FitSection("*Meanwhile, anyone can type:*\n" +
			"• `/health acme`: an account's health card\n" +
			"• `/renewals all`: every open renewal of the next 90 days; `/renewals acme`: an account's renewal history\n" +
			"• `/ebr acme`: a draft of an executive business review\n" +
			"• `/csbot help`: everything csbot can do"),
	}
	return homeView(blocks)
}

// homePage is a known person's App Home to render.
type homePage struct {
	Actor bot.Actor
	Data  csbot.HomeData
	// Today is their date at midnight UTC; Now the instant it is read
	// at; Loc their time zone.
	Today, Now time.Time
	Loc        *time.Location
	Policy     csbot.Policy
}

// renderHome renders a known person's App Home: a greeting with the
// "Notification settings" button and their alert routes, then the lists
// that concern them (book, renewals, alerts, handoffs, team), each capped
// at csbot.HomeListLimit with a line saying where to see the rest.
//
// Three blocks open the page and two close it; each list comes after a
// divider: the book and the renewals take at most 14 blocks each, alerts
// and handoffs 13 each, the team 5 and its renewals 14: 78 in all, within
// Slack's 100.
func renderHome(p homePage) slack.HomeTabViewRequest {
	d := p.Data
	role := p.Actor.Role
	greeting := "Hi there 👋"
	if f := strings.Fields(p.Actor.Name); len(f) > 0 {
		greeting = bot.Truncate("Hi "+f[0]+" 👋", bot.MaxHeaderText)
	}
	intro := slack.NewSectionBlock(mdText(fmt.Sprintf("What needs you as of *%s*. This page is read afresh each time you open it.",
		p.Now.In(p.Loc).Format("Mon Jan 2, 15:04 MST"))), nil,
		slack.NewAccessory(slack.NewButtonBlockElement(actionHomeSettings, "open", plainText("Notification settings"))))
	blocks := []slack.Block{
		slack.NewHeaderBlock(plainText(greeting)),
		intro,
		homeContext(homePrefsLine(d.Prefs, p.Policy)),
	}
	shown := false
	section := func(part []slack.Block) {
		blocks = append(blocks, slack.NewDividerBlock())
		blocks = append(blocks, part...)
		shown = true
	}

	if d.Book.Total > 0 || role == csbot.UserCSM {
		section(homeBook(d.Book, p.Today))
	}
	if d.Book.Total > 0 || d.Renewals.Total > 0 || role == csbot.UserCSM || role == csbot.UserSales {
		section(homeRenewals(d.Renewals, p.Today, "Your renewals", "your accounts", "`/renewals`"))
	}
	if d.Book.Total > 0 || d.Alerts.Total > 0 {
		section(homeAlerts(d.Alerts, p.Now))
	}
	all := role == csbot.UserOnboarding
	if all || d.Handoffs.Total > 0 {
		section(homeHandoffs(d.Handoffs, all, p.Now, p.Loc))
	}
	if t := d.Team; t != nil {
		section(homeTeam(*t))
		section(homeRenewals(t.Renewals, p.Today, "Team renewals at risk", "your team's accounts in the yellow or red band",
			"`/renewals team at-risk`"))
	}
	if !shown {
		blocks = append(blocks, slack.NewDividerBlock(),
			bot.FitSection("Nothing needs you here right now: no accounts, renewals, alerts or handoffs of yours are in csbot."))
	}
	blocks = append(blocks, slack.NewDividerBlock(),
		homeContext("`/health acme`: an account's health card · `/health`: your portfolio · `/renewals`: renewals · "+
			"`/handoff status`: open handoffs · `/ebr acme`: draft a review · `/csbot help`: everything else"))
	return homeView(blocks)
}

// homeContext is a context block of mrkdwn text (escaped already).
func homeContext(text string) slack.Block {
	return slack.NewContextBlock("", mdText(bot.TruncateMrkdwn(text, bot.MaxSectionText)))
}

// homeHeader is a header block.
func homeHeader(text string) slack.Block {
	return slack.NewHeaderBlock(plainText(bot.Truncate(text, bot.MaxHeaderText)))
}

// homeMore is the line after a capped list: "+3 more: type `/renewals`
// to see them all."; nil when nothing was left out.
func homeMore(total, shown int, where string) []slack.Block {
	if n := total - shown; n > 0 {
		return []slack.Block{homeContext(fmt.Sprintf("+%d more: %s", n, where))}
	}
	return nil
}

// healthButton is a section of text with a button to the account's
// health card (the pick-list button of /health, which answers in the
// person's DM when pressed on the App Home).
func healthButton(text string, accountID int64) slack.Block {
	btn := slack.NewButtonBlockElement(pickPrefix+"health", strconv.FormatInt(accountID, 10), plainText("Health"))
	return slack.NewSectionBlock(mdText(bot.TruncateMrkdwn(text, bot.MaxSectionText)), nil, slack.NewAccessory(btn))
}

// homeCap returns the first csbot.HomeListLimit items of s.
func homeCap[T any](s []T) []T { return s[:min(len(s), csbot.HomeListLimit)] }

// homePrefsLine says where the person's alerts go: the kinds they routed
// themselves, the rest following the team's default.
func homePrefsLine(prefs csbot.NotifyPrefs, p csbot.Policy) string {
	var own []string
	for _, k := range csbot.SignalKinds() {
		if r := prefs.Route(k, p); r != p.Notifications.DefaultRoute(k) {
			own = append(own, k.Title()+": "+routeWords(r))
		}
	}
	if len(own) == 0 {
		return "🔔 Every kind of alert reaches you as your team's policy says. Change it with *Notification settings*."
	}
	return "🔔 Your own alert routes: " + strings.Join(own, " · ") + ". Every other kind follows your team's policy."
}

// homeBook is the book's part of the App Home: a summary, the worst
// accounts first, each with a button to its health card.
func homeBook(b csbot.HomeBook, today time.Time) []slack.Block {
	out := []slack.Block{homeHeader("Your book")}
	if b.Total == 0 {
		return append(out, bot.FitSection("You're not the CSM of any account in csbot. Look any account up with `/health acme`."))
	}
	out = append(out, bot.FitSection(fmt.Sprintf("*%s*, *%s* ARR, worst health first\n%s",
		renewalsCount(b.Total, "account", "accounts"), b.ARR.Short(), bandCounts(b.ByBand))))
	list := homeCap(b.Accounts)
	for _, e := range list {
		out = append(out, healthButton(portfolioLine(e, today), e.Account.ID))
	}
	return append(out, homeMore(b.Total, len(list), "type `/health` to see your whole portfolio.")...)
}

// homeRenewals is a list of renewals on the App Home: a summary (count,
// ARR, how many lack a renewal contact), then each renewal by date with
// a button to its account's health card.
func homeRenewals(r csbot.HomeRenewals, today time.Time, title, whose, command string) []slack.Block {
	out := []slack.Block{homeHeader(fmt.Sprintf("%s, next %d days", title, csbot.HomeRenewalDays))}
	if r.Total == 0 {
		return append(out, bot.FitSection(fmt.Sprintf("No open renewals on %s in the next %d days.", whose, csbot.HomeRenewalDays)))
	}
	summary := fmt.Sprintf("*%s*, *%s* ARR, by date", renewalsCount(r.Total, "renewal", "renewals"), r.ARR.Short())
	if r.NoContact > 0 {
		summary += fmt.Sprintf(" · ⚠️ %d with no renewal contact on file", r.NoContact)
	} else {
		summary += " · every one has a renewal contact"
	}
	out = append(out, bot.FitSection(summary))
	list := homeCap(r.Lines)
	for _, l := range list {
		out = append(out, healthButton(renewalsLineText(l, today), l.Account.ID))
	}
	return append(out, homeMore(r.Total, len(list), "type "+command+" to see them all.")...)
}

// homeAlerts is the open alerts' part of the App Home: the most severe
// first, each with its kind, severity, age and evidence, and a button to
// the account's health card.
func homeAlerts(a csbot.HomeAlerts, now time.Time) []slack.Block {
	out := []slack.Block{homeHeader("Open alerts on your accounts")}
	if a.Total == 0 {
		return append(out, bot.FitSection("No open alerts on your accounts. ✅"))
	}
	list := homeCap(a.Items)
	for _, it := range list {
		text := fmt.Sprintf("%s *%s* · %s · %s · %s", it.Severity.Emoji(), bot.Escape(it.Kind.Title()),
			bot.Bold(bot.Truncate(orElse(it.Account.Name, it.Account.ExternalID), maxNameChars)), it.Severity, alertAge(now.Sub(it.Since)))
		if e := strings.TrimSpace(it.Evidence); e != "" {
			text += "\n" + bot.Escape(bot.Truncate(e, maxHomeEvidence))
		}
		out = append(out, healthButton(text, it.Account.ID))
	}
	return append(out, homeMore(a.Total, len(list), "each account's health card lists its open risks (`/health acme`).")...)
}

// alertAge says how long an alert has been open: "open for 3 days",
// "open for 5 hours", "open for under an hour".
func alertAge(d time.Duration) string {
	switch days, hours := int(d/(24*time.Hour)), int(d/time.Hour); {
	case days >= 1:
		return fmt.Sprintf("open for %d %s", days, countNoun(days, "day", "days"))
	case hours >= 1:
		return fmt.Sprintf("open for %d %s", hours, countNoun(hours, "hour", "hours"))
	}
	return "open for under an hour"
}

// homeHandoffs is the part of the App Home of open handoffs: those the
// person owns, or all of them for onboarding; oldest first, with their age
// in business days on the person's calendar and a button to view each.
func homeHandoffs(h csbot.HomeHandoffs, all bool, now time.Time, loc *time.Location) []slack.Block {
	title := "Handoffs waiting for you"
	if all {
		title = "Handoffs waiting for onboarding"
	}
	out := []slack.Block{homeHeader(title)}
	if h.Total == 0 {
		return append(out, bot.FitSection("No handoff is waiting: every one has been acknowledged."))
	}
	list := homeCap(h.Items)
	for _, it := range list {
		owner := "no owner yet"
		if it.Owner != "" {
			owner = "owner " + bot.UserMention(it.Owner)
		}
		text := fmt.Sprintf("🤝 %s · %s ARR · waiting %s · from %s · %s",
			bot.Bold(bot.Truncate(orElse(it.Account.Name, it.Account.ExternalID), maxNameChars)), it.Account.ARR.Short(),
			businessAge(businessDaysSince(it.CreatedAt, now, loc)), bot.UserMention(it.Author), owner)
		btn := slack.NewButtonBlockElement(actionHandoffView, strconv.FormatInt(it.ID, 10), plainText("View"))
		out = append(out, slack.NewSectionBlock(mdText(bot.TruncateMrkdwn(text, bot.MaxSectionText)), nil, slack.NewAccessory(btn)))
	}
	return append(out, homeMore(h.Total, len(list), "type `/handoff status` to see them all.")...)
}

// homeTeam is a manager's team on the App Home: its totals, then each
// CSM's book, the most ARR at risk first.
func homeTeam(t csbot.HomeTeam) []slack.Block {
	out := []slack.Block{homeHeader("Your team")}
	if t.TotalCSMs == 0 {
		return append(out, bot.FitSection("No one reports to you in csbot's list of users, and you have no accounts as CSM."))
	}
	summary := fmt.Sprintf("*%s*, *%s*, *%s* ARR · *%s* ARR at risk (red or yellow)",
		renewalsCount(t.TotalCSMs, "CSM", "CSMs"), renewalsCount(t.Accounts, "account", "accounts"), t.ARR.Short(), t.AtRisk.Short())
	if bands := bandCounts(map[csbot.Band]int{csbot.BandRed: t.Red, csbot.BandYellow: t.Yellow}); bands != "" {
		summary += "\n" + bands
	}
	out = append(out, bot.FitSection(summary))
	list := homeCap(t.CSMs)
	lines := make([]string, len(list))
	for i, c := range list {
		name := bot.UserMention(c.CSM)
		if strings.TrimSpace(c.Name) != "" {
			name = bot.Bold(bot.Truncate(c.Name, maxNameChars))
		}
		lines[i] = fmt.Sprintf("• %s · %s · %s ARR · 🔴 %d · 🟡 %d · %s at risk", name,
			renewalsCount(c.Accounts, "account", "accounts"), c.ARR.Short(), c.Red, c.Yellow, c.AtRisk.Short())
	}
	out = append(out, bot.FitSection(strings.Join(lines, "\n")))
	return append(out, homeMore(t.TotalCSMs, len(list), "type `/health @name` to see anyone's portfolio, `/renewals team` for the team's renewals.")...)
}
