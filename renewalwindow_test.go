package csbot_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/csbot/csbot"
)

func TestDueReminder(t *testing.T) {
	date := time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)
	before := func(n int) time.Time { return date.AddDate(0, 0, -n).Add(9 * time.Hour) }
	tests := []struct {
		name      string
		tier      csbot.Tier
		autoRenew bool
		today     time.Time
		want      string // "<key> late" or "<key>" or "" for none
	}{
		{"high 121 days", csbot.TierHigh, false, before(121), ""},
		{"high 120 days", csbot.TierHigh, false, before(120), "renewal:7:2025-09-30:120d"},
		{"high 119 days", csbot.TierHigh, false, before(119), "renewal:7:2025-09-30:120d late"},
		{"high 91 days", csbot.TierHigh, false, before(91), "renewal:7:2025-09-30:120d late"},
		{"high 90 days", csbot.TierHigh, false, before(90), "renewal:7:2025-09-30:90d"},
		{"high 60 days", csbot.TierHigh, false, before(60), "renewal:7:2025-09-30:60d"},
		{"high 30 days", csbot.TierHigh, false, before(30), "renewal:7:2025-09-30:30d"},
		{"high 14 days", csbot.TierHigh, false, before(14), "renewal:7:2025-09-30:14d"},
		// down from 45 days before to 8: only the most recent missed one.
		{"high 8 days", csbot.TierHigh, false, before(8), "renewal:7:2025-09-30:14d late"},
		{"high 7 days", csbot.TierHigh, false, before(7), "renewal:7:2025-09-30:7d"},
		{"high on the day", csbot.TierHigh, false, before(0), "renewal:7:2025-09-30:7d late"},
		{"high a day after", csbot.TierHigh, false, before(-1), ""},
		{"high auto-renew", csbot.TierHigh, true, before(60), "renewal:7:2025-09-30:60d"},
		{"low 91 days", csbot.TierLow, false, before(91), ""},
		{"low 90 days", csbot.TierLow, false, before(90), "renewal:7:2025-09-30:90d"},
		{"low 14 days", csbot.TierLow, false, before(14), "renewal:7:2025-09-30:30d late"},
		{"low 7 days", csbot.TierLow, false, before(7), "renewal:7:2025-09-30:7d"},
		{"tech 31 days", csbot.TierTech, false, before(31), ""},
		{"tech 30 days", csbot.TierTech, false, before(30), "renewal:7:2025-09-30:30d"},
		{"tech 7 days", csbot.TierTech, false, before(7), "renewal:7:2025-09-30:7d"},
		{"tech auto-renew 30 days", csbot.TierTech, true, before(30), "renewal:7:2025-09-30:30d"},
		{"tech auto-renew 7 days gets no 7-day reminder", csbot.TierTech, true, before(7), "renewal:7:2025-09-30:30d late"},
	}
	for _, tt := range tests {
		r := csbot.Renewal{ID: 7, AccountID: 42, RenewalDate: date, AutoRenew: tt.autoRenew, Status: csbot.RenewalOpen}
		rem, ok := csbot.DueReminder(r, tt.tier, csbot.DefaultPolicy(), tt.today)
		got := ""
		if ok {
			got = rem.Key
			if rem.Late {
				got += " late"
			}
		}
		if got != tt.want {
			t.Errorf("%s: DueReminder(%+v, %s, %s) = %q, want %q", tt.name, r, tt.tier, tt.today.Format(time.DateOnly), got, tt.want)
		}
	}
}

func TestDueReminderFields(t *testing.T) {
	date := time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)
	r := csbot.Renewal{ID: 7, AccountID: 42, RenewalDate: date, Status: csbot.RenewalOpen}
	got, ok := csbot.DueReminder(r, csbot.TierHigh, csbot.DefaultPolicy(), time.Date(2025, 9, 20, 15, 0, 0, 0, time.UTC))
	want := csbot.Reminder{
		RenewalID:   7,
		AccountID:   42,
		RenewalDate: date,
		OffsetDays:  14,
		DueOn:       time.Date(2025, 9, 16, 0, 0, 0, 0, time.UTC),
		DaysLeft:    10,
		Late:        true,
		Key:         "renewal:7:2025-09-30:14d",
	}
	if diff := cmp.Diff(want, got); !ok || diff != "" {
		t.Errorf("DueReminder(%+v) = %v; mismatch (-want +got):\n%s", r, ok, diff)
	}
}

func TestDueReminderNone(t *testing.T) {
	date := time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)
	today := date.AddDate(0, 0, -30)
	for _, st := range csbot.RenewalStatuses() {
		r := csbot.Renewal{ID: 7, RenewalDate: date, Status: st}
		_, ok := csbot.DueReminder(r, csbot.TierHigh, csbot.DefaultPolicy(), today)
		if want := st == csbot.RenewalOpen; ok != want {
			t.Errorf("DueReminder(status %s) = %v, want %v", st, ok, want)
		}
	}
	r := csbot.Renewal{ID: 7, Status: csbot.RenewalOpen}
	if rem, ok := csbot.DueReminder(r, csbot.TierHigh, csbot.DefaultPolicy(), today); ok {
		t.Errorf("DueReminder(no date) = %+v, want none", rem)
	}
}

func TestDueReminderMovedRenewal(t *testing.T) {
	p := csbot.DefaultPolicy()
	today := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	r := csbot.Renewal{ID: 7, RenewalDate: time.Date(2025, 6, 8, 0, 0, 0, 0, time.UTC), Status: csbot.RenewalOpen}
	first, _ := csbot.DueReminder(r, csbot.TierHigh, p, today)
	r.RenewalDate = time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC) // moved a month out
	moved, _ := csbot.DueReminder(r, csbot.TierHigh, p, today)
	if first.Key != "renewal:7:2025-06-08:7d" || moved.Key != "renewal:7:2025-07-01:30d" {
		t.Errorf("DueReminder keys before and after the move = %q, %q; want renewal:7:2025-06-08:7d, renewal:7:2025-07-01:30d",
			first.Key, moved.Key)
	}
}

// TestDueReminderUsesTodaysLocalDate checks that the caller's time zone
// decides which day it is.
func TestDueReminderUsesTodaysLocalDate(t *testing.T) {
	la := time.FixedZone("PDT", -7*60*60)
	date := time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC)
	r := csbot.Renewal{ID: 7, RenewalDate: date, Status: csbot.RenewalOpen}
	// 23:30 on 23 September in Los Angeles is already 24 September in UTC.
	today := time.Date(2025, 9, 23, 23, 30, 0, 0, la)
	rem, ok := csbot.DueReminder(r, csbot.TierHigh, csbot.DefaultPolicy(), today)
	if !ok || rem.OffsetDays != 7 || rem.Late || rem.DaysLeft != 7 {
		t.Errorf("DueReminder(%v) = %+v, %v; want the 7-day reminder, on time", today, rem, ok)
	}
}

// TestDueReminderEachOnce walks every day up to a renewal and checks that
// each reminder day of the tier is due, on time, exactly on its day.
func TestDueReminderEachOnce(t *testing.T) {
	p := csbot.DefaultPolicy()
	date := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tier := range csbot.Tiers() {
		r := csbot.Renewal{ID: 3, RenewalDate: date, Status: csbot.RenewalOpen}
		var onTime []int
		keys := map[string]bool{}
		for d := 400; d >= -5; d-- {
			rem, ok := csbot.DueReminder(r, tier, p, date.AddDate(0, 0, -d))
			if !ok {
				continue
			}
			if !rem.Late {
				onTime = append(onTime, rem.OffsetDays)
			}
			keys[rem.Key] = true
		}
		want := p.Tier(tier).Renewals.ReminderDays
		if diff := cmp.Diff(want, onTime); diff != "" || len(keys) != len(want) {
			t.Errorf("DueReminder(%s) on-time offsets mismatch (-want +got):\n%s (keys %v)", tier, diff, keys)
		}
	}
}
