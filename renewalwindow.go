package csbot

import (
	"fmt"
	"time"
)

// Reminder is a renewal reminder that is due.
type Reminder struct {
	RenewalID   int64
	AccountID   int64
	RenewalDate time.Time // the renewal's date, midnight UTC
	OffsetDays  int       // the reminder is for this many days before RenewalDate
	DueOn       time.Time // RenewalDate minus OffsetDays, midnight UTC
	DaysLeft    int       // days from the day asked about to RenewalDate
	Late        bool      // DueOn is before the day asked about: it fell due while nothing sent it
	// Key is "renewal:<renewal id>:<yyyy-mm-dd renewal date>:<offset>d".
	// The date is part of it so a renewal that moves gets its reminders
	// anew; the notifier sends each key once.
	Key string
}

// DueReminder returns the reminder of renewal r, of an account of the given
// tier, that is due on today's date (its calendar date in its own location:
// ReminderDay gives the day whose reminders are due at an instant for a
// person in their zone), and whether there is one.
//
// The reminder days come from the tier's renewal policy (reminder_days, or
// auto_renew_reminder_days for an auto-renewing renewal: by default 30 alone
// for tech touch). Of the reminders whose due day has come, only the most
// recent applies; it is Late when its due day is before today, so a
// reminder missed while the bot was down is sent once, late, and older
// missed ones are skipped. A reminder already sent keeps being returned
// until the next one falls due: the notifier skips keys it has sent.
// Renewals that are not open, have no date, or whose date has passed get
// none.
func DueReminder(r Renewal, tier Tier, p Policy, today time.Time) (Reminder, bool) {
	if r.Status != RenewalOpen || r.RenewalDate.IsZero() {
		return Reminder{}, false
	}
	day := localDay(today)
	date := localDay(r.RenewalDate)
	left := daysBetween(day, date)
	if left < 0 {
		return Reminder{}, false
	}
	rp := p.Tier(tier).Renewals
	offsets := rp.ReminderDays
	if r.AutoRenew {
		offsets = rp.AutoRenewReminderDays
	}
	best := -1
	for _, o := range offsets {
		if o >= left && (best < 0 || o < best) {
			best = o
		}
	}
	if best < 0 {
		return Reminder{}, false
	}
	due := date.AddDate(0, 0, -best)
	return Reminder{
		RenewalID:   r.ID,
		AccountID:   r.AccountID,
		RenewalDate: date,
		OffsetDays:  best,
		DueOn:       due,
		DaysLeft:    left,
		Late:        due.Before(day),
		Key:         fmt.Sprintf("renewal:%d:%s:%dd", r.ID, date.Format(time.DateOnly), best),
	}, true
}
