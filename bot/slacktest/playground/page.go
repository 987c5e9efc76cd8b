package playground

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/csbot/csbot/bot/slacktest"
)

// where is what the page shows: as whom, which conversation, which tab
// of the DM with csbot.
type where struct {
	As  string // person id
	In  string // conversation id
	Tab string // "home" or "" (messages)
}

// query returns the page's URL for w.
func (w where) query() string {
	v := url.Values{"as": {w.As}, "in": {w.In}}
	if w.Tab != "" {
		v.Set("tab", w.Tab)
	}
	return "/?" + v.Encode()
}

// resolve fills in the defaults of a request's where: the default person,
// their DM with csbot, and drops a tab outside that DM.
func (s *Server) resolve(r *http.Request) (where, Person) {
	q := r.URL.Query()
	p := s.person(q.Get("as"))
	w := where{As: p.ID, In: q.Get("in"), Tab: q.Get("tab")}
	dm := s.sim.OpenDM(p.ID)
	names := s.refreshNames()
	if c, ok := names.channels[w.In]; !ok || (c.IM && w.In != dm) {
		w.In = dm
	}
	if w.In != dm || w.Tab != "home" {
		w.Tab = ""
	}
	return w, p
}

// pageData is everything the page shows.
type pageData struct {
	Where    where
	Me       Person
	People   []personGroup
	Commands []Command
	Sidebar  sidebarData
	Main     mainData
	Modal    *modalData
	Clock    clockData
}

type personGroup struct {
	Label  string
	People []personChoice
}

type personChoice struct {
	ID, Label string
	Selected  bool
}

type sidebarData struct {
	DM     convLink
	Yours  []convLink
	Others []convLink
}

type convLink struct {
	ID, Name, URL     string
	Count             int
	Current, Shared   bool
	Private, Archived bool
}

type mainData struct {
	Where  where
	Title  string
	IsDM   bool
	Shared bool
	// Items are the feed's items, rendered (see renderItem); Older says
	// that older ones are left out.
	Items []template.HTML
	Older bool
	// Home is the person's published App Home, nil when none.
	Home []*block
	// HomeView is its view id, for the actions in it.
	HomeView string
	// HomeURL and MessagesURL lead to the DM's tabs.
	HomeURL, MessagesURL string
}

type modalData struct {
	Key    string // changes when the modal shown changes
	ViewID string
	Title  textObject
	Submit *textObject
	Close  *textObject
	Blocks []*block
	// Back is set for a pushed modal: closing it shows the one below.
	Back bool
}

type clockData struct {
	Enabled bool
	Now     string // in the person's zone
	Zone    string
	Ahead   string // how far ahead of the wall clock, "" when not
	Input   string // Now for a datetime-local input
	// Status says what the last run of the schedules did, "" before the
	// first.
	Status  string
	Running bool
	Failed  bool
}

// roleOrder lists the roles as the person picker groups them.
var roleOrder = [...]struct{ role, label string }{
	{"csm", "CSMs"}, {"manager", "Managers"}, {"sales", "Sales"}, {"onboarding", "Onboarding"}, {"admin", "Admins"},
}

func (s *Server) pageData(w where, me Person) (pageData, error) {
	snap := s.sim.Snapshot()
	d := pageData{Where: w, Me: me, Commands: s.cfg.Commands}
	groups := map[string][]personChoice{}
	for _, p := range s.cfg.People {
		groups[p.Role] = append(groups[p.Role], personChoice{ID: p.ID, Label: p.Name + " (" + p.Role + ")", Selected: p.ID == me.ID})
	}
	for _, r := range roleOrder {
		if len(groups[r.role]) > 0 {
			d.People = append(d.People, personGroup{Label: r.label, People: groups[r.role]})
			delete(groups, r.role)
		}
	}
	for _, role := range sortedKeys(groups) {
		d.People = append(d.People, personGroup{Label: role, People: groups[role]})
	}
	d.Sidebar = s.sidebar(w, me)
	names := s.refreshNames()
	d.Main = s.mainHead(names, w, me)
	if w.Tab == "home" {
		s.fillHome(&d.Main, snap, me)
	} else {
		fd := s.feed(snap, me, w.In)
		d.Main.Older = fd.Older
		for _, it := range fd.Items {
			html, err := s.renderItem(it)
			if err != nil {
				return d, err
			}
			d.Main.Items = append(d.Main.Items, html)
		}
	}
	d.Modal = s.modal(snap, me)
	d.Clock = s.clock(me)
	return d, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// sidebar returns the sidebar: the DM with csbot, the person's channels
// and the others, with their counts of messages.
func (s *Server) sidebar(w where, me Person) sidebarData {
	dm := s.sim.OpenDM(me.ID)
	convs := s.sim.Conversations()
	posts := make(map[string]int, len(convs))
	for _, c := range convs {
		posts[c.ID] = c.Posts
	}
	count := func(id string) int { return posts[id] }
	sb := sidebarData{DM: convLink{ID: dm, Name: "csbot", URL: where{As: me.ID, In: dm}.query(), Count: count(dm), Current: w.In == dm}}
	mine := map[string]bool{}
	for _, id := range me.Channels {
		mine[id] = true
	}
	for _, c := range channelsOf(convs) {
		l := convLink{ID: c.ID, Name: c.Name, URL: where{As: me.ID, In: c.ID}.query(), Count: count(c.ID),
			Current: c.ID == w.In, Shared: c.ExtShared || c.Shared, Private: c.Private, Archived: c.Archived}
		if mine[c.ID] {
			sb.Yours = append(sb.Yours, l)
		} else {
			sb.Others = append(sb.Others, l)
		}
	}
	return sb
}

// equal reports whether two sidebars show the same.
func (a sidebarData) equal(b sidebarData) bool {
	return a.DM == b.DM && slices.Equal(a.Yours, b.Yours) && slices.Equal(a.Others, b.Others)
}

// mainHead returns the main pane without its content: the title and tabs
// of the conversation.
func (s *Server) mainHead(names *nameTable, w where, me Person) mainData {
	c := names.channels[w.In]
	m := mainData{Where: w, Title: "#" + c.Name, IsDM: c.IM, Shared: c.ExtShared || c.Shared}
	if c.IM {
		m.Title = "csbot"
		m.HomeURL = where{As: me.ID, In: w.In, Tab: "home"}.query()
		m.MessagesURL = where{As: me.ID, In: w.In}.query()
	}
	return m
}

// fillHome puts the person's App Home in the main pane.
func (s *Server) fillHome(m *mainData, snap slacktest.Snapshot, me Person) {
	for _, v := range snap.Views() {
		if v.Type == "home" && v.UserID == me.ID {
			m.Home, m.HomeView = parseBlocks(v.Blocks), v.ID
			s.fillChoices(m.Home)
		}
	}
}

// renderItem renders a feed item as the page holds it: in a wrapper
// named by its key.
func (s *Server) renderItem(it feedItem) (template.HTML, error) {
	it.parse()
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, "feeditem", it); err != nil {
		return "", fmt.Errorf("render item %s: %w", it.Key, err)
	}
	return template.HTML(buf.String()), nil //nolint:gosec // rendered by html/template
}

func (s *Server) modal(snap slacktest.Snapshot, me Person) *modalData {
	stack := s.modals.stack(snap.Views(), me.ID)
	if len(stack) == 0 {
		return nil
	}
	v := stack[len(stack)-1]
	info := readViewInfo(v)
	d := &modalData{Key: v.ID + "@" + v.Hash, ViewID: v.ID, Title: info.Title, Submit: info.Submit, Close: info.Close,
		Blocks: parseBlocks(v.Blocks), Back: len(stack) > 1}
	errs := s.modals.errorsOf(v)
	for _, b := range d.Blocks {
		if msg, ok := errs[b.generatedID()]; ok {
			b.Error = msg
		}
	}
	s.fillChoices(d.Blocks)
	return d
}

// fillChoices gives the users and conversations selects their choices.
func (s *Server) fillChoices(blocks []*block) {
	for _, b := range blocks {
		for _, e := range append([]*elem{b.Accessory, b.Input}, b.Elements...) {
			if e == nil {
				continue
			}
			switch e.Type {
			case "users_select", "multi_users_select":
				picked := append([]string{e.InitialUser}, e.InitialUsers...)
				for _, p := range s.cfg.People {
					e.People = append(e.People, choice{ID: p.ID, Label: p.Name, Selected: slices.Contains(picked, p.ID)})
				}
				slices.SortFunc(e.People, func(a, b choice) int { return strings.Compare(a.Label, b.Label) })
			case "conversations_select", "multi_conversations_select", "channels_select", "multi_channels_select":
				for _, c := range s.channels() {
					e.Channels = append(e.Channels, choice{ID: c.ID, Label: "#" + c.Name,
						Selected: c.ID == e.InitialConversation || c.ID == e.InitialChannel})
				}
			}
		}
	}
}

func (s *Server) clock(me Person) clockData {
	loc := s.zone(me)
	now := s.now().In(loc)
	d := clockData{Enabled: s.cfg.RunSchedules != nil, Now: now.Format("Mon Jan 2, 2006 15:04"), Zone: loc.String(),
		Input: now.Format("2006-01-02T15:04")}
	st := s.scheduleStatus()
	d.Running, d.Failed = st.Running, st.Failed
	if !st.At.IsZero() {
		at := st.At.In(loc).Format("Mon Jan 2 15:04")
		switch {
		case st.Running:
			d.Status = "Running the schedules at " + at + "…"
		case st.Failed:
			d.Status = "The schedules at " + at + " failed: " + st.Text
		default:
			d.Status = "Ran the schedules at " + at + ": " + st.Text
		}
	}
	if ahead := now.Sub(time.Now()); ahead >= time.Minute {
		d.Ahead = roughDuration(ahead) + " ahead"
	}
	return d
}

// roughDuration says d in days and hours, or minutes.
func roughDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case hours > 0:
		return fmt.Sprintf("%dh", hours)
	}
	return fmt.Sprintf("%dmin", int(d/time.Minute))
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	where, me := s.resolve(r)
	var buf bytes.Buffer
	d, err := s.pageData(where, me)
	if err == nil {
		err = s.tmpl.ExecuteTemplate(&buf, "page", d)
	}
	if err != nil {
		s.log.Error("render page", "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) funcs() template.FuncMap {
	return template.FuncMap{
		// txt renders a text object as Slack does: mrkdwn or plain text.
		"txt": func(v any) template.HTML {
			t := asText(v)
			if t == nil {
				return ""
			}
			if t.Type == "mrkdwn" {
				return Mrkdwn(t.Text, s.names.Load())
			}
			return PlainText(t.Text, t.Emoji == nil || *t.Emoji)
		},
		// label is a text object's text for places that hold no markup
		// (options, attributes), emoji shown.
		"label": func(v any) string {
			t := asText(v)
			if t == nil {
				return ""
			}
			return replaceEmoji(t.Text)
		},
		"mrkdwn":    func(text string) template.HTML { return Mrkdwn(text, s.names.Load()) },
		"feedLimit": func() int { return feedLimit },
	}
}

// asText returns the text object v holds, or nil.
func asText(v any) *textObject {
	switch t := v.(type) {
	case *textObject:
		return t
	case textObject:
		return &t
	}
	return nil
}
