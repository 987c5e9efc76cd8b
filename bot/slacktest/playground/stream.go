package playground

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/csbot/csbot/bot/slacktest"
)

// The live updates. Each open page follows the simulator and the page's
// own state over Server-Sent Events. A page is sent only what changed of
// what it shows, and a part is rendered again only when what it shows
// changed: the counters of the simulator (slacktest.Revision) and of the
// page's own state say which parts may have; the feed's items are
// rendered one by one, each again only when its content changed, and an
// update carries the items' keys and the items that changed, not the
// whole feed. So what a change costs is bounded by what a page shows
// (feedLimit items at most), not by the history behind it.

// fragments is one update of a page: the parts that changed, the others
// left out.
type fragments struct {
	// Sidebar is the sidebar's HTML.
	Sidebar *string `json:"sidebar,omitempty"`
	// Main is the whole main pane's HTML: the conversation's header and
	// its feed (or App Home).
	Main *string `json:"main,omitempty"`
	// Feed updates the feed of the main pane last sent.
	Feed *feedUpdate `json:"feed,omitempty"`
	// Modal is the modal shown, Key "" for none.
	Modal *modalUpdate `json:"modal,omitempty"`
	// Clock is the clock's HTML.
	Clock *string `json:"clock,omitempty"`
}

func (f fragments) empty() bool {
	return f.Sidebar == nil && f.Main == nil && f.Feed == nil && f.Modal == nil && f.Clock == nil
}

// feedUpdate is a change of the feed: its items' keys in order, and the
// HTML of the items that are new or changed, by key; the page keeps the
// others as they are.
type feedUpdate struct {
	Keys []string          `json:"keys"`
	HTML map[string]string `json:"html"`
}

// modalUpdate is the modal a page shows: its key (which changes when
// another modal, or a new version of it, is shown; "" for none) and its
// HTML.
type modalUpdate struct {
	Key  string `json:"key"`
	HTML string `json:"html"`
}

// tab is one open page: where it is, and what it was last sent.
type tab struct {
	w       where
	me      Person
	started bool
	rev     slacktest.Revision
	page    uint64 // the page's own state, by Server.rev
	names   *nameTable
	minute  int64 // of the clock shown

	sidebar sidebarData
	home    string                  // the main pane of the App Home tab
	keys    []string                // the feed's items, in order
	items   map[string]renderedItem // by key
	older   bool
	modal   string // key of the modal shown
	clock   string
}

// renderedItem is a feed item as last sent, and the fingerprint of what
// it was rendered from.
type renderedItem struct {
	fp   uint64
	html template.HTML
}

// update returns what changed for t since its last update, and takes it
// as sent.
func (s *Server) update(t *tab) (fragments, error) {
	var f fragments
	rev := s.sim.Revision(t.w.In, t.me.ID)
	_, page := s.localChanged()
	first := !t.started

	names := s.names.Load()
	if first || rev.Workspace != t.rev.Workspace {
		names = s.refreshNames()
		if sb := s.sidebar(t.w, t.me); first || !sb.equal(t.sidebar) {
			html, err := s.render("sidebar", pageData{Sidebar: sb})
			if err != nil {
				return f, err
			}
			f.Sidebar, t.sidebar = &html, sb
		}
	}

	var snap *slacktest.Snapshot
	snapshot := func() slacktest.Snapshot {
		if snap == nil {
			sn := s.sim.Snapshot()
			snap = &sn
		}
		return *snap
	}
	renamed := names != t.names
	switch {
	case t.w.Tab == "home":
		if first || renamed || rev.Views != t.rev.Views {
			m := s.mainHead(names, t.w, t.me)
			s.fillHome(&m, snapshot(), t.me)
			html, err := s.render("main", m)
			if err != nil {
				return f, err
			}
			if first || html != t.home {
				f.Main, t.home = &html, html
			}
		}
	case first || renamed || rev.Channel != t.rev.Channel:
		if err := s.updateFeed(t, &f, snapshot(), names, first || renamed); err != nil {
			return f, err
		}
	}

	if first || rev.Views != t.rev.Views || page != t.page {
		m := s.modal(snapshot(), t.me)
		key := ""
		if m != nil {
			key = m.Key
		}
		if first || key != t.modal {
			u := &modalUpdate{Key: key}
			if m != nil {
				html, err := s.render("modal", m)
				if err != nil {
					return f, err
				}
				u.HTML = html
			}
			f.Modal, t.modal = u, key
		}
	}

	minute := s.now().Unix() / 60
	if first || page != t.page || minute != t.minute {
		html, err := s.render("clock", pageData{Clock: s.clock(t.me)})
		if err != nil {
			return f, err
		}
		if first || html != t.clock {
			f.Clock, t.clock = &html, html
		}
	}

	t.started, t.rev, t.page, t.names, t.minute = true, rev, page, names, minute
	return f, nil
}

// updateFeed puts in f what changed of t's feed: the whole main pane when
// full is set or its frame changed (older items left out or not, an empty
// feed), else the feed's keys and the items that changed.
func (s *Server) updateFeed(t *tab, f *fragments, snap slacktest.Snapshot, names *nameTable, full bool) error {
	fd := s.feed(snap, t.me, t.w.In)
	keys := make([]string, len(fd.Items))
	items := make(map[string]renderedItem, len(fd.Items))
	changed := map[string]string{}
	for i, it := range fd.Items {
		keys[i] = it.Key
		fp := s.fingerprint(it, names)
		if old, ok := t.items[it.Key]; ok && old.fp == fp {
			items[it.Key] = old
			continue
		}
		html, err := s.renderItem(it)
		if err != nil {
			return err
		}
		items[it.Key] = renderedItem{fp: fp, html: html}
		changed[it.Key] = string(html)
	}
	full = full || fd.Older != t.older || (len(keys) == 0) != (len(t.keys) == 0)
	switch {
	case full:
		m := s.mainHead(names, t.w, t.me)
		m.Older = fd.Older
		for _, k := range keys {
			m.Items = append(m.Items, items[k].html)
		}
		html, err := s.render("main", m)
		if err != nil {
			return err
		}
		f.Main = &html
	case len(changed) > 0 || !slices.Equal(keys, t.keys):
		f.Feed = &feedUpdate{Keys: keys, HTML: changed}
	}
	t.keys, t.items, t.older = keys, items, fd.Older
	return nil
}

// fingerprint sums up what a feed item is rendered from.
func (s *Server) fingerprint(it feedItem, names *nameTable) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	put := func(parts ...string) {
		for _, p := range parts {
			h.WriteString(strconv.Itoa(len(p)))
			h.WriteByte(':')
			h.WriteString(p)
		}
	}
	flags := func(it feedItem) string {
		return strconv.FormatBool(it.Edited) + strconv.FormatBool(it.Inert)
	}
	put(it.Kind, it.Key, it.Channel, it.TS, it.Time, it.Day, it.Text, string(it.raw), it.Command, flags(it),
		strconv.Itoa(len(it.Replies)), strconv.Itoa(names.count))
	for _, r := range it.Replies {
		put(r.TS, r.Time, r.Text, string(r.raw), flags(r))
	}
	return h.Sum64()
}

// render executes a template into a string.
func (s *Server) render(name string, data any) (string, error) {
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return buf.String(), nil
}

// serveEvents streams the page's updates as Server-Sent Events: the page
// as it stands at once, then what changed of it, until the page goes
// away or the server stops.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	where, me := s.resolve(r)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	keepAlive := time.NewTicker(20 * time.Second)
	defer keepAlive.Stop()
	t := &tab{w: where, me: me}
	for {
		// Take the change signals before reading, so that no change
		// between the read and the wait is missed.
		simChanged := s.sim.Changed()
		pageChanged, _ := s.localChanged()
		f, err := s.update(t)
		if err != nil {
			s.log.Error("render page update", "err", err)
			return
		}
		if !f.empty() {
			msg, _ := json.Marshal(f)
			if _, err := fmt.Fprintf(w, "data: %s\n\n", msg); err != nil {
				return
			}
			flusher.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-simChanged:
		case <-pageChanged:
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}
