package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// A handoff's notifications are keyed by its id:
//
//	handoff:<id>:account              the post in the account's channel
//	handoff:<id>:onboarding           the post in the onboarding channel
//	handoff:<id>:dm                   the DM sent when there is no channel to post in
//	handoff:<id>:owner:<user>         the DM to an owner it was (re)assigned to
//	handoff_update:<id>:<change>...   an edit of one of those, in place
//	handoff_acked:<id>                the DM telling the author it was taken
//	handoff_nudge:<id>, handoff_escalation:<id> (see QueueHandoffNudges)
//
// Every one carries a csbot.HandoffPost only: the notifier renders the
// message from the handoff as it stands when it is sent.

// handoffDefaultLimit is the length of a list of handoffs unless the filter
// says otherwise; handoffMaxLimit caps it.
const (
	handoffDefaultLimit = 50
	handoffMaxLimit     = 500
)

// handoffSnapshot is a handoff as handoff_history keeps it: every field
// the note carries, stakeholders included, as it stood after a change.
type handoffSnapshot struct {
	Account         int64               `json:"account"`
	Author          string              `json:"author"`
	Owner           string              `json:"owner,omitempty"`
	State           csbot.HandoffState  `json:"state"`
	Goals           string              `json:"goals"`
	SuccessCriteria string              `json:"success_criteria"`
	Commitments     string              `json:"commitments,omitempty"`
	Products        string              `json:"products"`
	Seats           int                 `json:"seats,omitempty"`
	ContractStart   string              `json:"contract_start,omitempty"` // 2006-01-02
	GoLive          string              `json:"go_live,omitempty"`        // 2006-01-02
	Risks           string              `json:"risks,omitempty"`
	Tier            csbot.Tier          `json:"tier,omitempty"`
	Notes           string              `json:"notes,omitempty"`
	Stakeholders    []csbot.Stakeholder `json:"stakeholders"`
}

// snapshotOf returns the history snapshot of h.
func snapshotOf(h csbot.Handoff) handoffSnapshot {
	day := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.DateOnly)
	}
	st := h.Stakeholders
	if st == nil {
		st = []csbot.Stakeholder{}
	}
	return handoffSnapshot{
		Account: h.AccountID, Author: h.Author, Owner: h.Owner, State: h.State,
		Goals: h.Goals, SuccessCriteria: h.SuccessCriteria, Commitments: h.Commitments, Products: h.Products,
		Seats: h.Seats, ContractStart: day(h.ContractStart), GoLive: day(h.GoLive), Risks: h.Risks,
		Tier: h.Tier, Notes: h.Notes, Stakeholders: st,
	}
}

// handoffColumns are the columns handoffRow scans, of the handoffs aliased
// h. Stakeholders come from the latest history snapshot: a handoff names
// people as they were when it was written or last amended, whatever
// happens to the contacts since. The ts of a post not recorded on the
// handoff comes from its notification once sent.
const handoffColumns = `h.id, h.account_id, h.author_slack_id, coalesce(h.owner_slack_id, ''), h.state,
       h.goals, h.success_criteria, h.commitments, h.products, coalesce(h.seats, 0), h.contract_start, h.go_live,
       h.risks, coalesce(h.tier, ''), h.notes, coalesce(h.acked_by_slack_id, ''), h.acked_at,
       coalesce(h.account_channel_id, ''),
       coalesce(h.account_ts, (SELECT n.slack_ts FROM notifications n
                                WHERE n.dedupe_key = 'handoff:' || h.id || ':account' AND n.state = 'sent'), ''),
       coalesce(h.onboarding_channel, ''),
       coalesce(h.onboarding_ts, (SELECT n.slack_ts FROM notifications n
                                   WHERE n.dedupe_key = 'handoff:' || h.id || ':onboarding' AND n.state = 'sent'), ''),
       h.created_at, h.updated_at,
       (SELECT hh.snapshot -> 'stakeholders' FROM handoff_history hh
         WHERE hh.handoff_id = h.id ORDER BY hh.id DESC LIMIT 1),
       (SELECT count(*) FROM handoff_history hh WHERE hh.handoff_id = h.id)`

// handoffRow scans handoffColumns.
type handoffRow struct {
	h                    csbot.Handoff
	state, tier          string
	start, goLive, acked *time.Time
	stakeholders         []byte
	history              int64
}

func (r *handoffRow) fields() []any {
	h := &r.h
	return []any{&h.ID, &h.AccountID, &h.Author, &h.Owner, &r.state,
		&h.Goals, &h.SuccessCriteria, &h.Commitments, &h.Products, &h.Seats, &r.start, &r.goLive,
		&h.Risks, &r.tier, &h.Notes, &h.AckedBy, &r.acked,
		&h.AccountChannel, &h.AccountTS, &h.OnboardingChannel, &h.OnboardingTS,
		&h.CreatedAt, &h.UpdatedAt, &r.stakeholders, &r.history}
}

// handoff returns the handoff scanned.
func (r *handoffRow) handoff() (csbot.Handoff, error) {
	h := r.h
	h.State, h.Tier = csbot.HandoffState(r.state), csbot.Tier(r.tier)
	h.ContractStart, h.GoLive, h.AckedAt = timeOrZero(r.start), timeOrZero(r.goLive), timeOrZero(r.acked)
	h.Stakeholders = nil
	if len(r.stakeholders) > 0 && string(r.stakeholders) != "null" {
		if err := json.Unmarshal(r.stakeholders, &h.Stakeholders); err != nil {
			return h, fmt.Errorf("stakeholders of handoff %d: %w", h.ID, err)
		}
	}
	return h, nil
}

// amendments is how often the handoff scanned was amended.
func (r *handoffRow) amendments() int { return max(int(r.history)-1, 0) }

func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// handoffViewSQL reads handoffs with their accounts; a WHERE clause
// follows.
const handoffViewSQL = `SELECT ` + handoffColumns + `, ` + dueBriefColumnsA + `
  FROM handoffs h
  JOIN accounts a ON a.id = h.account_id`

// handoffViewByIDSQL reads handoff $1.
const handoffViewByIDSQL = handoffViewSQL + `
 WHERE h.id = $1`

// handoffOpenOfSQL reads the latest handoff of account $1 that is not
// closed.
const handoffOpenOfSQL = handoffViewSQL + `
 WHERE h.account_id = $1 AND h.state <> 'closed'
 ORDER BY h.created_at DESC, h.id DESC
 LIMIT 1`

// handoffListSQL reads the handoffs in states $1 (any when empty), owned
// by $2 and written by $3 (anyone when empty), newest first, at most $4.
const handoffListSQL = handoffViewSQL + `
 WHERE (cardinality($1::text[]) = 0 OR h.state = ANY($1::text[]))
   AND ($2 = '' OR h.owner_slack_id = $2)
   AND ($3 = '' OR h.author_slack_id = $3)
 ORDER BY h.created_at DESC, h.id DESC
 LIMIT $4`

// handoffQuerier is what reading a handoff needs: the pool or a
// transaction.
type handoffQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryHandoffViews runs q, one of the handoffViewSQL statements, and
// returns its views.
func queryHandoffViews(ctx context.Context, db handoffQuerier, q string, args ...any) ([]csbot.HandoffView, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []csbot.HandoffView
	var r handoffRow
	var a dueBriefRow
	_, err = pgx.ForEachRow(rows, append(r.fields(), a.fields()...), func() error {
		h, err := r.handoff()
		if err != nil {
			return err
		}
		out = append(out, csbot.HandoffView{Handoff: h, Account: a.brief(), Missing: h.Missing(), Amendments: r.amendments()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// handoffViewOne runs q for one view; csbot.ErrNotFound when there is none.
func handoffViewOne(ctx context.Context, db handoffQuerier, q string, args ...any) (csbot.HandoffView, error) {
	vs, err := queryHandoffViews(ctx, db, q, args...)
	if err != nil {
		return csbot.HandoffView{}, err
	}
	if len(vs) == 0 {
		return csbot.HandoffView{}, csbot.ErrNotFound
	}
	return vs[0], nil
}

// HandoffView returns handoff id as its messages show it: the handoff
// (its stakeholders as its latest version named them), its account, what
// recommended parts it lacks, and how often it was amended. It returns
// csbot.ErrNotFound (wrapped) when there is no such handoff.
func (s *Store) HandoffView(ctx context.Context, id int64) (csbot.HandoffView, error) {
	v, err := handoffViewOne(ctx, s.pool, handoffViewByIDSQL, id)
	if err != nil {
		return csbot.HandoffView{}, fmt.Errorf("handoff %d: %w", id, err)
	}
	return v, nil
}

// OpenHandoffOf returns the latest handoff of the account that is not
// closed (open or acknowledged). It returns csbot.ErrNotFound (wrapped)
// when there is none.
func (s *Store) OpenHandoffOf(ctx context.Context, accountID int64) (csbot.Handoff, error) {
	v, err := handoffViewOne(ctx, s.pool, handoffOpenOfSQL, accountID)
	if err != nil {
		return csbot.Handoff{}, fmt.Errorf("open handoff of account %d: %w", accountID, err)
	}
	return v.Handoff, nil
}

// Handoffs returns the handoffs f selects, newest first, with their
// accounts, in one query: in any of f.States (any state when empty), of
// owner f.Owner and author f.Author (anyone when empty), at most f.Limit
// (default 50, at most 500). CreatedAt says how long an open one has
// waited.
func (s *Store) Handoffs(ctx context.Context, f csbot.HandoffFilter) ([]csbot.HandoffView, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = handoffDefaultLimit
	}
	limit = min(limit, handoffMaxLimit)
	states := make([]string, len(f.States))
	for i, st := range f.States {
		states[i] = string(st)
	}
	vs, err := queryHandoffViews(ctx, s.pool, handoffListSQL, states, f.Owner, f.Author, limit)
	if err != nil {
		return nil, fmt.Errorf("handoffs: %w", err)
	}
	return vs, nil
}

// handoffGuard refuses a handoff the caller should have refused: one with
// Problems, or without an account or author.
func handoffGuard(h csbot.Handoff) error {
	if p := h.Problems(); p != nil {
		fields := make([]string, 0, len(p))
		for f := range p {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		return fmt.Errorf("handoff is not valid: %s", strings.Join(fields, ", "))
	}
	if h.AccountID == 0 {
		return errors.New("handoff without an account")
	}
	return nil
}

// handoffDate is a handoff date as a date parameter: its calendar day,
// NULL when zero.
func handoffDate(t time.Time) pgtype.Date {
	if t.IsZero() {
		return pgtype.Date{}
	}
	y, m, d := t.Date()
	return pgtype.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Valid: true}
}

// insertHandoffSQL writes a new open handoff.
const insertHandoffSQL = `
INSERT INTO handoffs (account_id, author_slack_id, owner_slack_id, state, goals, success_criteria, commitments, products,
                      seats, contract_start, go_live, risks, tier, notes, account_channel_id, onboarding_channel,
                      created_at, updated_at)
VALUES ($1, $2, nullif($3, ''), 'open', $4, $5, $6, $7, nullif($8, 0), $9, $10, $11, $12, $13, nullif($14, ''),
        nullif($15, ''), $16, $16)
RETURNING id`

// insertHandoffHistorySQL records a version of a handoff.
const insertHandoffHistorySQL = `
INSERT INTO handoff_history (handoff_id, changed_by_slack_id, changed_at, snapshot) VALUES ($1, $2, $3, $4)`

// CreateHandoff stores handoff h, written by h.Author, and the posts that
// announce it, in one transaction, and returns it as stored: with its id,
// state open, its stakeholders' contact ids, and its times (now).
//
// h must have no Problems (the caller validates; a handoff with some is
// refused with a plain error). Its tier defaults to the account's. A
// stakeholder with a ContactID must be a contact of the account, and is
// then named as on file; one without is stored into contacts (matched on
// account, role and name regardless of case; a match gets the email and
// title given, when given, and is made active). The version is kept in
// handoff_history and the creation in audit_log.
//
// The handoff is posted in the account's channel (key
// "handoff:<id>:account", falling back to a DM to the author when the
// channel refuses it) and in onboardingChannel (key
// "handoff:<id>:onboarding", same fallback) when each exists; when
// neither does, it goes by DM to its owner, or without one to its author
// (key "handoff:<id>:dm"), so it is never left unposted.
//
// It returns csbot.ErrNotFound (wrapped) when the account does not exist.
func (s *Store) CreateHandoff(ctx context.Context, h csbot.Handoff, onboardingChannel string, now time.Time) (csbot.Handoff, error) {
	if err := handoffGuard(h); err != nil {
		return csbot.Handoff{}, fmt.Errorf("create handoff: %w", err)
	}
	if h.Author == "" {
		return csbot.Handoff{}, errors.New("create handoff: no author")
	}
	var out csbot.Handoff
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var tier, channel string
		if err := tx.QueryRow(ctx, `SELECT tier, coalesce(slack_channel_id, '') FROM accounts WHERE id = $1`,
			h.AccountID).Scan(&tier, &channel); err != nil {
			return fmt.Errorf("account %d: %w", h.AccountID, notFound(err))
		}
		if h.Tier == "" {
			h.Tier = csbot.Tier(tier)
		}
		stakeholders, err := resolveStakeholders(ctx, tx, h.AccountID, h.Stakeholders, now)
		if err != nil {
			return err
		}
		h.Stakeholders, h.State = stakeholders, csbot.HandoffOpen
		if err := tx.QueryRow(ctx, insertHandoffSQL, h.AccountID, h.Author, h.Owner, h.Goals, h.SuccessCriteria,
			h.Commitments, h.Products, h.Seats, handoffDate(h.ContractStart), handoffDate(h.GoLive), h.Risks,
			string(h.Tier), h.Notes, channel, onboardingChannel, now).Scan(&h.ID); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		if err := insertHandoffHistory(ctx, tx, h, h.Author, now); err != nil {
			return err
		}

		var posts []csbot.Notification
		post := func(place csbot.HandoffPlace, channel, user, fallback string) error {
			payload, err := json.Marshal(csbot.HandoffPost{Handoff: h.ID, Place: place, At: now})
			if err != nil {
				return err
			}
			suffix := string(place)
			if suffix == "" {
				suffix = "dm"
			}
			posts = append(posts, csbot.Notification{
				Key: handoffKey(h.ID, suffix), Kind: csbot.NotifyHandoff, AccountID: h.AccountID,
				Channel: channel, User: user, FallbackUser: fallback, Payload: payload, NotBefore: now,
			})
			return nil
		}
		if channel != "" {
			if err := post(csbot.HandoffInAccount, channel, "", h.Author); err != nil {
				return err
			}
		}
		if onboardingChannel != "" {
			if err := post(csbot.HandoffInOnboarding, onboardingChannel, "", h.Author); err != nil {
				return err
			}
		}
		if len(posts) == 0 {
			if err := post("", "", cmp.Or(h.Owner, h.Author), ""); err != nil {
				return err
			}
		}
		if _, _, err := s.insertNotifications(ctx, tx, posts, now); err != nil {
			return err
		}
		if err := audit(ctx, tx, now, h.Author, "handoff_created", h.AccountID, map[string]any{
			"handoff": h.ID, "owner": h.Owner, "posts": len(posts),
		}); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		v, err := handoffViewOne(ctx, tx, handoffViewByIDSQL, h.ID)
		out = v.Handoff
		return err
	})
	if err != nil {
		return csbot.Handoff{}, fmt.Errorf("create handoff for account %d: %w", h.AccountID, err)
	}
	return out, nil
}

// handoffKey returns the key "handoff:<id>:<suffix>".
func handoffKey(id int64, suffix string) string {
	return "handoff:" + strconv.FormatInt(id, 10) + ":" + suffix
}

// insertHandoffHistory records h as it now stands, changed by by.
func insertHandoffHistory(ctx context.Context, tx pgx.Tx, h csbot.Handoff, by string, now time.Time) error {
	snap, err := json.Marshal(snapshotOf(h))
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if _, err := tx.Exec(ctx, insertHandoffHistorySQL, h.ID, by, now, snap); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// contactsOfAccountSQL reads the contacts $2 of account $1.
const contactsOfAccountSQL = `
SELECT id, name, role, coalesce(email, ''), coalesce(title, '')
  FROM contacts
 WHERE account_id = $1 AND id = ANY($2::bigint[])`

// upsertStakeholdersSQL stores the new stakeholders ($2..$5: names, roles,
// emails, titles) of account $1 into contacts at $6, and returns the
// contact id of each by its ordinal. Two given with the same role and
// name (regardless of case) are one contact, the later one's details
// winning.
const upsertStakeholdersSQL = `
WITH given AS (
    SELECT u.name, u.role, u.email, u.title, u.ord
      FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(name, role, email, title, ord)
),
upserted AS (
    INSERT INTO contacts (account_id, name, role, email, title, active, created_at, updated_at)
    SELECT DISTINCT ON (g.role, lower(g.name)) $1, g.name, g.role, nullif(g.email, ''), nullif(g.title, ''), true, $6, $6
      FROM given g
     ORDER BY g.role, lower(g.name), g.ord DESC
    ON CONFLICT (account_id, role, lower(name)) DO UPDATE
       SET email = coalesce(EXCLUDED.email, contacts.email), title = coalesce(EXCLUDED.title, contacts.title),
           active = true, updated_at = EXCLUDED.updated_at
    RETURNING id, role, lower(name) AS lname
)
SELECT g.ord, u.id FROM given g JOIN upserted u ON u.role = g.role AND u.lname = lower(g.name)`

// resolveStakeholders returns the stakeholders of a handoff on account
// with their contact ids: those without one are stored into contacts
// first; then those naming a contact must be contacts of the account, and
// are named as on file.
func resolveStakeholders(ctx context.Context, tx pgx.Tx, account int64, in []csbot.Stakeholder, now time.Time) ([]csbot.Stakeholder, error) {
	out := slices.Clone(in)
	var known []int64
	var names, roles, emails, titles []string
	var at, knownAt []int // index in out of each new one, of each on file
	for i := range out {
		st := &out[i]
		if st.ContactID != 0 {
			known, knownAt = append(known, st.ContactID), append(knownAt, i)
			continue
		}
		st.Name, st.Email, st.Title = strings.TrimSpace(st.Name), strings.TrimSpace(st.Email), strings.TrimSpace(st.Title)
		switch {
		case st.Name == "":
			return nil, fmt.Errorf("stakeholder %d has no name", i+1)
		case !slices.Contains(csbot.ContactRoles(), st.Role):
			return nil, fmt.Errorf("stakeholder %q: unknown role %q", st.Name, st.Role)
		case utf8.RuneCountInString(st.Name) > csbot.HandoffNameLimit, utf8.RuneCountInString(st.Email) > csbot.HandoffNameLimit,
			utf8.RuneCountInString(st.Title) > csbot.HandoffNameLimit:
			return nil, fmt.Errorf("stakeholder %q: name, email or title longer than %d characters", st.Name, csbot.HandoffNameLimit)
		}
		names, roles, emails, titles = append(names, st.Name), append(roles, string(st.Role)), append(emails, st.Email), append(titles, st.Title)
		at = append(at, i)
	}

	if len(names) > 0 {
		rows, err := tx.Query(ctx, upsertStakeholdersSQL, account, names, roles, emails, titles, now)
		if err != nil {
			return nil, fmt.Errorf("store stakeholders: %w", err)
		}
		var ord, id int64
		if _, err := pgx.ForEachRow(rows, []any{&ord, &id}, func() error {
			out[at[ord-1]].ContactID = id
			return nil
		}); err != nil {
			return nil, fmt.Errorf("store stakeholders: %w", err)
		}
		for _, i := range at {
			if out[i].ContactID == 0 {
				return nil, fmt.Errorf("store stakeholder %q: no contact id", out[i].Name)
			}
		}
	}
	if len(known) > 0 {
		rows, err := tx.Query(ctx, contactsOfAccountSQL, account, known)
		if err != nil {
			return nil, fmt.Errorf("stakeholders: %w", err)
		}
		onFile := map[int64]csbot.Stakeholder{}
		var c csbot.Stakeholder
		var role string
		if _, err := pgx.ForEachRow(rows, []any{&c.ContactID, &c.Name, &role, &c.Email, &c.Title}, func() error {
			c.Role = csbot.ContactRole(role)
			onFile[c.ContactID] = c
			return nil
		}); err != nil {
			return nil, fmt.Errorf("stakeholders: %w", err)
		}
		for _, i := range knownAt {
			c, ok := onFile[out[i].ContactID]
			if !ok {
				return nil, fmt.Errorf("contact %d is not a contact of account %d", out[i].ContactID, account)
			}
			out[i] = c
		}
	}
	return out, nil
}

// lockHandoffSQL locks handoff $1 and reads what changes to it need.
const lockHandoffSQL = `
SELECT h.account_id, h.state, coalesce(h.owner_slack_id, ''), a.tier
  FROM handoffs h JOIN accounts a ON a.id = h.account_id
 WHERE h.id = $1
   FOR UPDATE OF h`

// lockedHandoff is what lockHandoffSQL reads.
type lockedHandoff struct {
	account     int64
	state       csbot.HandoffState
	owner, tier string
}

// lockHandoff locks handoff id in tx; csbot.ErrNotFound when it does not
// exist.
func lockHandoff(ctx context.Context, tx pgx.Tx, id int64) (lockedHandoff, error) {
	var l lockedHandoff
	var state string
	if err := tx.QueryRow(ctx, lockHandoffSQL, id).Scan(&l.account, &state, &l.owner, &l.tier); err != nil {
		return l, notFound(err)
	}
	l.state = csbot.HandoffState(state)
	return l, nil
}

// handoffPostsSQL reads the posts of a handoff that may be in Slack: the
// NotifyHandoff notifications of account $1 keyed like $2 ("handoff:<id>:%",
// fallbacks included) not given up on.
const handoffPostsSQL = `
SELECT id, dedupe_key, coalesce(target_channel, ''), coalesce(target_user, '')
  FROM notifications
 WHERE account_id = $1 AND kind = 'handoff' AND dedupe_key LIKE $2 AND state NOT IN ('failed', 'skipped')
 ORDER BY id`

// handoffUpdates returns the notifications that change every post of
// handoff id (on account) in place after change, made by by at now: one
// per post, to the same target, keyed
// "handoff_update:<id>:<change><suffix>:<post id>".
func handoffUpdates(ctx context.Context, tx pgx.Tx, id, account int64, change, suffix, by string, now time.Time) ([]csbot.Notification, error) {
	prefix := handoffKey(id, "")
	rows, err := tx.Query(ctx, handoffPostsSQL, account, prefix+"%")
	if err != nil {
		return nil, fmt.Errorf("posts: %w", err)
	}
	var out []csbot.Notification
	var post int64
	var key, channel, user string
	_, err = pgx.ForEachRow(rows, []any{&post, &key, &channel, &user}, func() error {
		var place csbot.HandoffPlace
		switch rest := strings.TrimPrefix(key, prefix); {
		case strings.HasPrefix(rest, string(csbot.HandoffInAccount)):
			place = csbot.HandoffInAccount
		case strings.HasPrefix(rest, string(csbot.HandoffInOnboarding)):
			place = csbot.HandoffInOnboarding
		}
		payload, err := json.Marshal(csbot.HandoffPost{Handoff: id, Place: place, Notification: post, Change: change, By: by, At: now})
		if err != nil {
			return err
		}
		out = append(out, csbot.Notification{
			Key:  fmt.Sprintf("handoff_update:%d:%s%s:%d", id, change, suffix, post),
			Kind: csbot.NotifyHandoffUpdate, AccountID: account, Channel: channel, User: user,
			Payload: payload, NotBefore: now,
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("posts: %w", err)
	}
	return out, nil
}

// nanosSuffix is ":<now in Unix nanoseconds>", which tells apart the
// updates of changes that may happen more than once.
func nanosSuffix(now time.Time) string { return ":" + strconv.FormatInt(now.UnixNano(), 10) }

// ownerDM returns the NotifyHandoff DM that hands handoff id to owner,
// keyed "handoff:<id>:owner:<owner>": once per owner.
func ownerDM(id, account int64, owner string, now time.Time) (csbot.Notification, error) {
	payload, err := json.Marshal(csbot.HandoffPost{Handoff: id, At: now})
	if err != nil {
		return csbot.Notification{}, err
	}
	return csbot.Notification{
		Key: handoffKey(id, "owner:"+owner), Kind: csbot.NotifyHandoff, AccountID: account, User: owner,
		Payload: payload, NotBefore: now,
	}, nil
}

// updateHandoffSQL writes the fields of an amended handoff.
const updateHandoffSQL = `
UPDATE handoffs
   SET owner_slack_id = nullif($2, ''), goals = $3, success_criteria = $4, commitments = $5, products = $6,
       seats = nullif($7, 0), contract_start = $8, go_live = $9, risks = $10, tier = $11, notes = $12, updated_at = $13
 WHERE id = $1`

// AmendHandoff replaces the fields of handoff h.ID with h's (owner, what
// the note says, its stakeholders; not its account, author, state or
// acknowledgement) in one transaction, and returns it as stored. The new
// version is added to handoff_history (earlier ones are kept), new
// stakeholders are stored as CreateHandoff stores them, the amendment is
// audited, and every post of the handoff is updated in place (a
// NotifyHandoffUpdate to the post's target, key
// "handoff_update:<id>:amended:<now Unix nanos>:<post id>"). A new owner
// also gets the handoff by DM, as with ReassignHandoff.
//
// h must have no Problems (a plain error otherwise), and a closed handoff
// is not amended (a plain error). It returns csbot.ErrNotFound (wrapped)
// when there is no such handoff.
func (s *Store) AmendHandoff(ctx context.Context, h csbot.Handoff, by string, now time.Time) (csbot.Handoff, error) {
	var out csbot.Handoff
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		l, err := lockHandoff(ctx, tx, h.ID)
		if err != nil {
			return err
		}
		h.AccountID = l.account
		if err := handoffGuard(h); err != nil {
			return err
		}
		if l.state == csbot.HandoffClosed {
			return errors.New("the handoff is closed")
		}
		old, err := handoffViewOne(ctx, tx, handoffViewByIDSQL, h.ID)
		if err != nil {
			return err
		}
		if h.Tier == "" {
			h.Tier = csbot.Tier(l.tier)
		}
		stakeholders, err := resolveStakeholders(ctx, tx, l.account, h.Stakeholders, now)
		if err != nil {
			return err
		}
		h.Stakeholders = stakeholders
		if _, err := tx.Exec(ctx, updateHandoffSQL, h.ID, h.Owner, h.Goals, h.SuccessCriteria, h.Commitments, h.Products,
			h.Seats, handoffDate(h.ContractStart), handoffDate(h.GoLive), h.Risks, string(h.Tier), h.Notes, now); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		h.Author, h.State = old.Handoff.Author, old.Handoff.State
		if err := insertHandoffHistory(ctx, tx, h, by, now); err != nil {
			return err
		}
		changed := changedHandoffFields(old.Handoff, h)
		if err := audit(ctx, tx, now, by, "handoff_amended", l.account, map[string]any{
			"handoff": h.ID, "changed": changed,
		}); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		ns, err := handoffUpdates(ctx, tx, h.ID, l.account, "amended", nanosSuffix(now), by, now)
		if err != nil {
			return err
		}
		if h.Owner != "" && h.Owner != l.owner {
			dm, err := ownerDM(h.ID, l.account, h.Owner, now)
			if err != nil {
				return err
			}
			ns = append(ns, dm)
		}
		if _, _, err := s.insertNotifications(ctx, tx, ns, now); err != nil {
			return err
		}
		v, err := handoffViewOne(ctx, tx, handoffViewByIDSQL, h.ID)
		out = v.Handoff
		return err
	})
	if err != nil {
		return csbot.Handoff{}, fmt.Errorf("amend handoff %d: %w", h.ID, err)
	}
	return out, nil
}

// changedHandoffFields names the fields (as csbot.Handoff* names them, and
// "stakeholders") in which b differs from a.
func changedHandoffFields(a, b csbot.Handoff) []string {
	out := []string{}
	for _, f := range []struct {
		name string
		same bool
	}{
		{csbot.HandoffOwner, a.Owner == b.Owner},
		{csbot.HandoffGoals, a.Goals == b.Goals},
		{csbot.HandoffCriteria, a.SuccessCriteria == b.SuccessCriteria},
		{csbot.HandoffCommitments, a.Commitments == b.Commitments},
		{csbot.HandoffProducts, a.Products == b.Products},
		{csbot.HandoffSeats, a.Seats == b.Seats},
		{csbot.HandoffStart, handoffDate(a.ContractStart) == handoffDate(b.ContractStart)},
		{csbot.HandoffGoLive, handoffDate(a.GoLive) == handoffDate(b.GoLive)},
		{csbot.HandoffRisks, a.Risks == b.Risks},
		{csbot.HandoffTier, a.Tier == b.Tier},
		{csbot.HandoffNotes, a.Notes == b.Notes},
		{"stakeholders", slices.Equal(a.Stakeholders, b.Stakeholders)},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}

// ackHandoffSQL records that $2 acknowledged handoff $1 at $3, if it is
// open; without an owner, they become its owner.
const ackHandoffSQL = `
UPDATE handoffs
   SET state = 'acknowledged', acked_by_slack_id = $2, acked_at = $3, updated_at = $3,
       owner_slack_id = coalesce(owner_slack_id, $2)
 WHERE id = $1 AND state = 'open'`

// onboardAccountSQL moves account $1 to the onboarding stage at $2, unless
// it churned.
const onboardAccountSQL = `
UPDATE accounts SET stage = 'onboarding', updated_at = $2
 WHERE id = $1 AND stage NOT IN ('onboarding', 'churned')`

// AckHandoff records that by (a Slack user id) took handoff id at now, in
// one transaction that locks it. A handoff that is not open is returned
// as it stands with false, and nothing is written: who acknowledged it
// and when are in it. Otherwise the handoff becomes acknowledged (and
// by's, when it had no owner), its account's stage becomes onboarding
// unless it churned, the acknowledgement is audited, every post of the
// handoff is updated in place (key
// "handoff_update:<id>:acknowledged:<post id>"), and the author is told by
// DM (key "handoff_acked:<id>", unless by is the author); it returns the
// handoff and true. It returns csbot.ErrNotFound (wrapped) when there is
// no such handoff.
func (s *Store) AckHandoff(ctx context.Context, id int64, by string, now time.Time) (csbot.Handoff, bool, error) {
	if by == "" {
		return csbot.Handoff{}, false, fmt.Errorf("acknowledge handoff %d: nobody", id)
	}
	var out csbot.Handoff
	acked := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		l, err := lockHandoff(ctx, tx, id)
		if err != nil {
			return err
		}
		if l.state == csbot.HandoffOpen {
			if acked, err = s.ackHandoff(ctx, tx, id, l.account, by, now); err != nil {
				return err
			}
		}
		v, err := handoffViewOne(ctx, tx, handoffViewByIDSQL, id)
		out = v.Handoff
		return err
	})
	if err != nil {
		return csbot.Handoff{}, false, fmt.Errorf("acknowledge handoff %d: %w", id, err)
	}
	return out, acked, nil
}

// ackHandoff writes the acknowledgement of handoff id, locked in tx, and
// reports whether it was open, so acknowledged now.
func (s *Store) ackHandoff(ctx context.Context, tx pgx.Tx, id, account int64, by string, now time.Time) (bool, error) {
	tag, err := tx.Exec(ctx, ackHandoffSQL, id, by, now)
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if _, err := tx.Exec(ctx, onboardAccountSQL, account, now); err != nil {
		return false, fmt.Errorf("account stage: %w", err)
	}
	if err := audit(ctx, tx, now, by, "handoff_acknowledged", account, map[string]any{"handoff": id}); err != nil {
		return false, fmt.Errorf("audit: %w", err)
	}
	ns, err := handoffUpdates(ctx, tx, id, account, "acknowledged", "", by, now)
	if err != nil {
		return false, err
	}
	var author string
	if err := tx.QueryRow(ctx, `SELECT author_slack_id FROM handoffs WHERE id = $1`, id).Scan(&author); err != nil {
		return false, err
	}
	if author != by {
		payload, err := json.Marshal(csbot.HandoffPost{Handoff: id, Change: "acknowledged", By: by, At: now})
		if err != nil {
			return false, err
		}
		ns = append(ns, csbot.Notification{
			Key: "handoff_acked:" + strconv.FormatInt(id, 10), Kind: csbot.NotifyHandoffAcked, AccountID: account,
			User: author, Payload: payload, NotBefore: now,
		})
	}
	if _, _, err := s.insertNotifications(ctx, tx, ns, now); err != nil {
		return false, err
	}
	return true, nil
}

// ReassignHandoff makes owner (a Slack user id) the owner of handoff id,
// made by by at now, in one transaction, and returns the handoff as
// stored. The change is audited, every post of the handoff is updated in
// place (key "handoff_update:<id>:reassigned:<now Unix nanos>:<post id>"),
// and owner gets the handoff by DM (a NotifyHandoff, key
// "handoff:<id>:owner:<owner>": once per owner, however often it comes
// back to them). Reassigning to the current owner writes nothing. A closed
// handoff is not reassigned (a plain error). It returns csbot.ErrNotFound
// (wrapped) when there is no such handoff.
func (s *Store) ReassignHandoff(ctx context.Context, id int64, owner, by string, now time.Time) (csbot.Handoff, error) {
	if owner == "" {
		return csbot.Handoff{}, fmt.Errorf("reassign handoff %d: no owner", id)
	}
	var out csbot.Handoff
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		l, err := lockHandoff(ctx, tx, id)
		if err != nil {
			return err
		}
		if l.state == csbot.HandoffClosed {
			return errors.New("the handoff is closed")
		}
		if l.owner != owner {
			if _, err := tx.Exec(ctx, `UPDATE handoffs SET owner_slack_id = $2, updated_at = $3 WHERE id = $1`,
				id, owner, now); err != nil {
				return err
			}
			if err := audit(ctx, tx, now, by, "handoff_reassigned", l.account, map[string]any{
				"handoff": id, "from": l.owner, "to": owner,
			}); err != nil {
				return fmt.Errorf("audit: %w", err)
			}
			ns, err := handoffUpdates(ctx, tx, id, l.account, "reassigned", nanosSuffix(now), by, now)
			if err != nil {
				return err
			}
			dm, err := ownerDM(id, l.account, owner, now)
			if err != nil {
				return err
			}
			if _, _, err := s.insertNotifications(ctx, tx, append(ns, dm), now); err != nil {
				return err
			}
		}
		v, err := handoffViewOne(ctx, tx, handoffViewByIDSQL, id)
		out = v.Handoff
		return err
	})
	if err != nil {
		return csbot.Handoff{}, fmt.Errorf("reassign handoff %d: %w", id, err)
	}
	return out, nil
}
