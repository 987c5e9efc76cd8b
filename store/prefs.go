package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/csbot/csbot"
	"github.com/jackc/pgx/v5"
)

// The queries of a user's notification preferences.
const (
	notifyPrefsSQL = `SELECT notify_prefs FROM users WHERE slack_id = $1`

	notifyPrefsForUpdateSQL = `SELECT notify_prefs FROM users WHERE slack_id = $1 FOR UPDATE`

	// setNotifyPrefsSQL replaces the top-level keys of $2 in the user's
	// preferences, keeping any others; preferences that are not a JSON
	// object are replaced whole.
	setNotifyPrefsSQL = `
UPDATE users
   SET notify_prefs = CASE WHEN jsonb_typeof(notify_prefs) = 'object' THEN notify_prefs ELSE '{}'::jsonb END || $2::jsonb,
       updated_at = $3
 WHERE slack_id = $1`
)

// NotifyPrefs returns the notification preferences of the user with Slack
// id slackID: the routes they chose per signal kind, without the routes
// that are not valid or of kinds csbot does not know. Preferences that are
// not readable JSON are none. It returns csbot.ErrNotFound when the users
// table has no such user.
func (s *Store) NotifyPrefs(ctx context.Context, slackID string) (csbot.NotifyPrefs, error) {
	var raw []byte
	if err := s.pool.QueryRow(ctx, notifyPrefsSQL, slackID).Scan(&raw); err != nil {
		return csbot.NotifyPrefs{}, fmt.Errorf("notification preferences of %s: %w", slackID, notFound(err))
	}
	return readNotifyPrefs(raw), nil
}

// SetNotifyPrefs replaces the alert routes of the user with Slack id
// slackID with p's, stamps the user's updated_at and records the change
// in the audit log (action notify_prefs_changed, the user as actor, the
// new and previous routes as details), in one transaction. Only valid
// routes of known signal kinds are stored; others are dropped. Every route
// given is stored as it is, including one equal to the policy's default
// (which then stays even if the policy changes): leave a kind out of p to
// have it follow the policy. Other top-level keys of the stored
// preferences are kept. It returns csbot.ErrNotFound, changing nothing,
// when the users table has no such user.
func (s *Store) SetNotifyPrefs(ctx context.Context, slackID string, p csbot.NotifyPrefs) error {
	clean := cleanNotifyPrefs(p)
	// alerts is always written, so that an empty choice clears the old one.
	js, err := json.Marshal(map[string]any{"alerts": clean.Alerts})
	if err != nil {
		return fmt.Errorf("set notification preferences of %s: %w", slackID, err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var raw []byte
		if err := tx.QueryRow(ctx, notifyPrefsForUpdateSQL, slackID).Scan(&raw); err != nil {
			return notFound(err)
		}
		previous := readNotifyPrefs(raw)
		now := s.now()
		if _, err := tx.Exec(ctx, setNotifyPrefsSQL, slackID, js, now); err != nil {
			return err
		}
		details := map[string]any{"alerts": clean.Alerts, "previous": previous.Alerts}
		if err := audit(ctx, tx, now, slackID, "notify_prefs_changed", 0, details); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set notification preferences of %s: %w", slackID, err)
	}
	return nil
}

// readNotifyPrefs decodes stored preferences, keeping only valid routes of
// known kinds; unreadable ones are none.
func readNotifyPrefs(raw []byte) csbot.NotifyPrefs {
	var p csbot.NotifyPrefs
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil {
		return csbot.NotifyPrefs{}
	}
	return cleanNotifyPrefs(p)
}

// cleanNotifyPrefs returns p with only its valid routes of known kinds,
// its Alerts never nil.
func cleanNotifyPrefs(p csbot.NotifyPrefs) csbot.NotifyPrefs {
	out := csbot.NotifyPrefs{Alerts: map[csbot.SignalKind]csbot.Route{}}
	kinds := csbot.SignalKinds()
	for k, r := range p.Alerts {
		if r.Valid() && slices.Contains(kinds, k) {
			out.Alerts[k] = r
		}
	}
	return out
}
