package csbot

import (
	"testing"
	"time"
)

// scheduleZone loads a time zone or fails the test.
func scheduleZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

// utcAt returns an instant given in UTC.
func utcAt(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, time.UTC)
}

// calendarDay returns a date as the package holds dates: midnight UTC.
func calendarDay(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func TestReminderDay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		zone string
		now  time.Time
		hour int
		want time.Time
	}{
		// Los Angeles, spring forward on Sunday 2026-03-08 at 02:00 PST.
		{"LA day before, 08:59 PST", "America/Los_Angeles", utcAt(2026, 3, 7, 16, 59, 59), 9, calendarDay(2026, 3, 6)},
		{"LA day before, 09:00 PST", "America/Los_Angeles", utcAt(2026, 3, 7, 17, 0, 0), 9, calendarDay(2026, 3, 7)},
		{"LA change day, 08:59:59 PDT", "America/Los_Angeles", utcAt(2026, 3, 8, 15, 59, 59), 9, calendarDay(2026, 3, 7)},
		{"LA change day, 09:00 PDT", "America/Los_Angeles", utcAt(2026, 3, 8, 16, 0, 0), 9, calendarDay(2026, 3, 8)},
		{"LA change day, 01:59:59 PST, hour 2", "America/Los_Angeles", utcAt(2026, 3, 8, 9, 59, 59), 2, calendarDay(2026, 3, 7)},
		{"LA change day, 03:00 PDT, hour 2 skipped", "America/Los_Angeles", utcAt(2026, 3, 8, 10, 0, 0), 2, calendarDay(2026, 3, 8)},
		{"LA day after, 09:00 PDT", "America/Los_Angeles", utcAt(2026, 3, 9, 16, 0, 0), 9, calendarDay(2026, 3, 9)},
		// Los Angeles, fall back on Sunday 2026-11-01 at 02:00 PDT.
		{"LA fall back, 08:59:59 PST", "America/Los_Angeles", utcAt(2026, 11, 1, 16, 59, 59), 9, calendarDay(2026, 10, 31)},
		{"LA fall back, 09:00 PST", "America/Los_Angeles", utcAt(2026, 11, 1, 17, 0, 0), 9, calendarDay(2026, 11, 1)},
		{"LA fall back, 23:59 PST", "America/Los_Angeles", utcAt(2026, 11, 2, 7, 59, 0), 9, calendarDay(2026, 11, 1)},
		// Berlin, spring forward on Sunday 2026-03-29 at 02:00 CET.
		{"Berlin change day, 08:59:59 CEST", "Europe/Berlin", utcAt(2026, 3, 29, 6, 59, 59), 9, calendarDay(2026, 3, 28)},
		{"Berlin change day, 09:00 CEST", "Europe/Berlin", utcAt(2026, 3, 29, 7, 0, 0), 9, calendarDay(2026, 3, 29)},
		{"Berlin day before, 09:00 CET", "Europe/Berlin", utcAt(2026, 3, 28, 8, 0, 0), 9, calendarDay(2026, 3, 28)},
		{"Berlin day before, 08:59 CET", "Europe/Berlin", utcAt(2026, 3, 28, 7, 59, 0), 9, calendarDay(2026, 3, 27)},
		// Berlin, fall back on Sunday 2026-10-25 at 03:00 CEST.
		{"Berlin fall back, 08:59:59 CET", "Europe/Berlin", utcAt(2026, 10, 25, 7, 59, 59), 9, calendarDay(2026, 10, 24)},
		{"Berlin fall back, 09:00 CET", "Europe/Berlin", utcAt(2026, 10, 25, 8, 0, 0), 9, calendarDay(2026, 10, 25)},
		// Kolkata, +05:30 all year; its date runs ahead of UTC's.
		{"Kolkata 08:59:59", "Asia/Kolkata", utcAt(2026, 3, 8, 3, 29, 59), 9, calendarDay(2026, 3, 7)},
		{"Kolkata 09:00", "Asia/Kolkata", utcAt(2026, 3, 8, 3, 30, 0), 9, calendarDay(2026, 3, 8)},
		{"Kolkata 01:30 of the next local day", "Asia/Kolkata", utcAt(2026, 6, 30, 20, 0, 0), 9, calendarDay(2026, 6, 30)},
		{"Kolkata 23:59", "Asia/Kolkata", utcAt(2026, 6, 30, 18, 29, 0), 9, calendarDay(2026, 6, 30)},
		// Kathmandu, +05:45.
		{"Kathmandu 08:59:59", "Asia/Kathmandu", utcAt(2026, 3, 8, 3, 14, 59), 9, calendarDay(2026, 3, 7)},
		{"Kathmandu 09:00", "Asia/Kathmandu", utcAt(2026, 3, 8, 3, 15, 0), 9, calendarDay(2026, 3, 8)},
		// Hour 0: always the local date.
		{"hour 0 at local midnight", "Europe/Berlin", utcAt(2026, 12, 31, 23, 0, 0), 0, calendarDay(2027, 1, 1)},
		// Month and year boundaries.
		{"New Year before 09:00", "UTC", utcAt(2027, 1, 1, 8, 0, 0), 9, calendarDay(2026, 12, 31)},
		{"first of March before 09:00", "UTC", utcAt(2026, 3, 1, 8, 0, 0), 9, calendarDay(2026, 2, 28)},
	}
	for _, tt := range tests {
		loc := scheduleZone(t, tt.zone)
		if got := ReminderDay(tt.now, loc, tt.hour); !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("%s: ReminderDay(%v, %s, %d) = %v, want %v (midnight UTC)", tt.name, tt.now, tt.zone, tt.hour, got, tt.want)
		}
	}
}

// TestReminderDayFeedsDueReminder checks that the day ReminderDay gives is
// the day DueReminder reads: a reminder due on the day a zone changes to
// summer time is due from 09:00 local that day, not an hour earlier or
// later.
func TestReminderDayFeedsDueReminder(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	tests := []struct {
		zone       string
		renewal    time.Time // 30 days after the change day
		before, at time.Time // 08:59:59 and 09:00 local on the change day
	}{
		{"America/Los_Angeles", calendarDay(2026, 4, 7), utcAt(2026, 3, 8, 15, 59, 59), utcAt(2026, 3, 8, 16, 0, 0)},
		{"Europe/Berlin", calendarDay(2026, 4, 28), utcAt(2026, 3, 29, 6, 59, 59), utcAt(2026, 3, 29, 7, 0, 0)},
		{"Asia/Kolkata", calendarDay(2026, 4, 7), utcAt(2026, 3, 8, 3, 29, 59), utcAt(2026, 3, 8, 3, 30, 0)},
		{"Asia/Kathmandu", calendarDay(2026, 4, 7), utcAt(2026, 3, 8, 3, 14, 59), utcAt(2026, 3, 8, 3, 15, 0)},
	}
	for _, tt := range tests {
		loc := scheduleZone(t, tt.zone)
		r := Renewal{ID: 7, AccountID: 3, RenewalDate: tt.renewal, Status: RenewalOpen}
		hour := p.Notifications.ReminderHour
		rem, ok := DueReminder(r, TierHigh, p, ReminderDay(tt.before, loc, hour))
		if !ok || rem.OffsetDays != 60 || !rem.Late {
			t.Errorf("%s, 08:59:59 local: DueReminder = %+v, %v; want the 60-day reminder, late", tt.zone, rem, ok)
		}
		rem, ok = DueReminder(r, TierHigh, p, ReminderDay(tt.at, loc, hour))
		if !ok || rem.OffsetDays != 30 || rem.Late || rem.DaysLeft != 30 {
			t.Errorf("%s, 09:00 local: DueReminder = %+v, %v; want the 30-day reminder, on time, 30 days left", tt.zone, rem, ok)
		}
	}
}

func TestDigestWeek(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		zone     string
		now      time.Time
		weekday  time.Weekday
		hour     int
		wantWeek string
		wantDue  time.Time
	}{
		// Berlin: Monday 2026-03-30 is the first Monday of summer time.
		{"Berlin Monday 08:59:59 CEST", "Europe/Berlin", utcAt(2026, 3, 30, 6, 59, 59), time.Monday, 9, "2026-W13", utcAt(2026, 3, 23, 8, 0, 0)},
		{"Berlin Monday 09:00 CEST", "Europe/Berlin", utcAt(2026, 3, 30, 7, 0, 0), time.Monday, 9, "2026-W14", utcAt(2026, 3, 30, 7, 0, 0)},
		{"Berlin Sunday after", "Europe/Berlin", utcAt(2026, 4, 5, 21, 0, 0), time.Monday, 9, "2026-W14", utcAt(2026, 3, 30, 7, 0, 0)},
		{"Berlin first Monday of winter time", "Europe/Berlin", utcAt(2026, 10, 26, 8, 0, 0), time.Monday, 9, "2026-W44", utcAt(2026, 10, 26, 8, 0, 0)},
		{"Berlin Monday 08:59:59 CET", "Europe/Berlin", utcAt(2026, 10, 26, 7, 59, 59), time.Monday, 9, "2026-W43", utcAt(2026, 10, 19, 7, 0, 0)},
		// Los Angeles: Monday 2026-03-09 and 2026-11-02, the days after the changes.
		{"LA Monday 08:59:59 PDT", "America/Los_Angeles", utcAt(2026, 3, 9, 15, 59, 59), time.Monday, 9, "2026-W10", utcAt(2026, 3, 2, 17, 0, 0)},
		{"LA Monday 09:00 PDT", "America/Los_Angeles", utcAt(2026, 3, 9, 16, 0, 0), time.Monday, 9, "2026-W11", utcAt(2026, 3, 9, 16, 0, 0)},
		{"LA Monday 09:00 PST", "America/Los_Angeles", utcAt(2026, 11, 2, 17, 0, 0), time.Monday, 9, "2026-W45", utcAt(2026, 11, 2, 17, 0, 0)},
		{"LA Monday 08:59:59 PST", "America/Los_Angeles", utcAt(2026, 11, 2, 16, 59, 59), time.Monday, 9, "2026-W44", utcAt(2026, 10, 26, 16, 0, 0)},
		// Kolkata and Kathmandu: the local Monday begins on Sunday in UTC.
		{"Kolkata Monday 09:00", "Asia/Kolkata", utcAt(2026, 1, 5, 3, 30, 0), time.Monday, 9, "2026-W02", utcAt(2026, 1, 5, 3, 30, 0)},
		{"Kolkata Monday 08:59:59", "Asia/Kolkata", utcAt(2026, 1, 5, 3, 29, 59), time.Monday, 9, "2026-W01", utcAt(2025, 12, 29, 3, 30, 0)},
		{"Kolkata Monday 00:30 is Sunday in UTC", "Asia/Kolkata", utcAt(2026, 1, 4, 19, 0, 0), time.Monday, 0, "2026-W02", utcAt(2026, 1, 4, 18, 30, 0)},
		{"Kathmandu Monday 09:00", "Asia/Kathmandu", utcAt(2026, 1, 5, 3, 15, 0), time.Monday, 9, "2026-W02", utcAt(2026, 1, 5, 3, 15, 0)},
		{"Kathmandu Monday 08:59:59", "Asia/Kathmandu", utcAt(2026, 1, 5, 3, 14, 59), time.Monday, 9, "2026-W01", utcAt(2025, 12, 29, 3, 15, 0)},
		// ISO weeks across New Year: 2026 has 53 weeks, and 2025-12-29 is in 2026's first.
		{"Monday 2026-12-28", "UTC", utcAt(2026, 12, 28, 9, 0, 0), time.Monday, 9, "2026-W53", utcAt(2026, 12, 28, 9, 0, 0)},
		{"Sunday 2027-01-03", "UTC", utcAt(2027, 1, 3, 23, 0, 0), time.Monday, 9, "2026-W53", utcAt(2026, 12, 28, 9, 0, 0)},
		{"Monday 2027-01-04", "UTC", utcAt(2027, 1, 4, 9, 0, 0), time.Monday, 9, "2027-W01", utcAt(2027, 1, 4, 9, 0, 0)},
		{"Friday 2027-01-01 is in 2026's ISO year", "UTC", utcAt(2027, 1, 1, 9, 0, 0), time.Friday, 9, "2026-W53", utcAt(2027, 1, 1, 9, 0, 0)},
		{"Monday 2025-12-29 is in 2026's ISO year", "UTC", utcAt(2025, 12, 31, 12, 0, 0), time.Monday, 9, "2026-W01", utcAt(2025, 12, 29, 9, 0, 0)},
		{"Sunday digest on Sunday after it", "UTC", utcAt(2026, 6, 7, 10, 0, 0), time.Sunday, 9, "2026-W23", utcAt(2026, 6, 7, 9, 0, 0)},
		// A local time the clocks skip is due at the change.
		{"LA Sunday 02:00 skipped, at the change", "America/Los_Angeles", utcAt(2026, 3, 8, 10, 0, 0), time.Sunday, 2, "2026-W10", utcAt(2026, 3, 8, 10, 0, 0)},
		{"LA Sunday 02:00 skipped, just before", "America/Los_Angeles", utcAt(2026, 3, 8, 9, 59, 59), time.Sunday, 2, "2026-W09", utcAt(2026, 3, 1, 10, 0, 0)},
		{"Berlin Sunday 02:00 skipped", "Europe/Berlin", utcAt(2026, 3, 29, 1, 0, 0), time.Sunday, 2, "2026-W13", utcAt(2026, 3, 29, 1, 0, 0)},
		// A local time the clocks show twice is due at its first occurrence.
		{"LA Sunday 01:00 twice", "America/Los_Angeles", utcAt(2026, 11, 1, 8, 30, 0), time.Sunday, 1, "2026-W44", utcAt(2026, 11, 1, 8, 0, 0)},
		{"Berlin Sunday 02:00 twice", "Europe/Berlin", utcAt(2026, 10, 25, 0, 30, 0), time.Sunday, 2, "2026-W43", utcAt(2026, 10, 25, 0, 0, 0)},
	}
	for _, tt := range tests {
		loc := scheduleZone(t, tt.zone)
		week, due := DigestWeek(tt.now, loc, tt.weekday, tt.hour)
		if week != tt.wantWeek || !due.Equal(tt.wantDue) {
			t.Errorf("%s: DigestWeek(%v, %s, %v, %d) = %s, %v; want %s, %v", tt.name, tt.now, tt.zone, tt.weekday, tt.hour,
				week, due.UTC(), tt.wantWeek, tt.wantDue)
		}
		if due.After(tt.now) {
			t.Errorf("%s: due %v is after now %v", tt.name, due, tt.now)
		}
	}
}

func TestAddBusinessDays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		zone string
		t    time.Time
		n    int
		want time.Time
	}{
		{"Monday plus 1", "UTC", utcAt(2026, 6, 1, 10, 0, 0), 1, utcAt(2026, 6, 2, 10, 0, 0)},
		{"Wednesday plus 3 skips the weekend", "UTC", utcAt(2026, 6, 3, 10, 0, 0), 3, utcAt(2026, 6, 8, 10, 0, 0)},
		{"Friday plus 1 is Monday", "UTC", utcAt(2026, 6, 5, 17, 30, 0), 1, utcAt(2026, 6, 8, 17, 30, 0)},
		{"Friday plus 5 is Friday", "UTC", utcAt(2026, 6, 5, 10, 0, 0), 5, utcAt(2026, 6, 12, 10, 0, 0)},
		{"Monday plus 10", "UTC", utcAt(2026, 6, 1, 10, 0, 0), 10, utcAt(2026, 6, 15, 10, 0, 0)},
		{"Thursday plus 7", "UTC", utcAt(2026, 6, 4, 10, 0, 0), 7, utcAt(2026, 6, 15, 10, 0, 0)},
		{"Saturday plus 1 is Tuesday", "UTC", utcAt(2026, 6, 6, 10, 0, 0), 1, utcAt(2026, 6, 9, 10, 0, 0)},
		{"Sunday plus 1 is Tuesday", "UTC", utcAt(2026, 6, 7, 23, 0, 0), 1, utcAt(2026, 6, 9, 23, 0, 0)},
		{"Sunday plus 5 is next Monday", "UTC", utcAt(2026, 6, 7, 9, 0, 0), 5, utcAt(2026, 6, 15, 9, 0, 0)},
		{"zero", "UTC", utcAt(2026, 6, 6, 10, 0, 0), 0, utcAt(2026, 6, 6, 10, 0, 0)},
		{"negative", "UTC", utcAt(2026, 6, 3, 10, 0, 0), -2, utcAt(2026, 6, 3, 10, 0, 0)},
		// The local time of day is kept across a change of offset.
		{"LA Friday 10:00 PST plus 1 is Monday 10:00 PDT", "America/Los_Angeles", utcAt(2026, 3, 6, 18, 0, 0), 1, utcAt(2026, 3, 9, 17, 0, 0)},
		{"LA Friday 10:00 PDT plus 1 is Monday 10:00 PST", "America/Los_Angeles", utcAt(2026, 10, 30, 17, 0, 0), 1, utcAt(2026, 11, 2, 18, 0, 0)},
		{"Berlin Thursday 15:00 CET plus 2 is Monday 15:00 CEST", "Europe/Berlin", utcAt(2026, 3, 26, 14, 0, 0), 2, utcAt(2026, 3, 30, 13, 0, 0)},
		{"Berlin Friday 09:00 CEST plus 1 is Monday 09:00 CET", "Europe/Berlin", utcAt(2026, 10, 23, 7, 0, 0), 1, utcAt(2026, 10, 26, 8, 0, 0)},
		// The weekdays are loc's: Friday 20:00 UTC is Saturday 01:30 in Kolkata.
		{"Kolkata Saturday 01:30 plus 1 is Tuesday 01:30", "Asia/Kolkata", utcAt(2026, 6, 5, 20, 0, 0), 1, utcAt(2026, 6, 8, 20, 0, 0)},
		{"Kolkata Friday 23:00 plus 1 is Monday 23:00", "Asia/Kolkata", utcAt(2026, 6, 5, 17, 30, 0), 1, utcAt(2026, 6, 8, 17, 30, 0)},
		{"Kathmandu Monday 00:10 plus 1", "Asia/Kathmandu", utcAt(2026, 6, 7, 18, 25, 0), 1, utcAt(2026, 6, 8, 18, 25, 0)},
		{"UTC Friday in LA is Friday", "America/Los_Angeles", utcAt(2026, 6, 6, 2, 0, 0), 1, utcAt(2026, 6, 9, 2, 0, 0)},
	}
	for _, tt := range tests {
		loc := scheduleZone(t, tt.zone)
		if got := AddBusinessDays(tt.t, tt.n, loc); !got.Equal(tt.want) {
			t.Errorf("%s: AddBusinessDays(%v, %d, %s) = %v, want %v", tt.name, tt.t, tt.n, tt.zone, got.UTC(), tt.want)
		}
	}
}

func TestLocalTimeSkippedAndRepeated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		zone string
		y    int
		m    time.Month
		d, h int
		min  int
		want time.Time
	}{
		{"ordinary", "America/Los_Angeles", 2026, 3, 8, 9, 0, utcAt(2026, 3, 8, 16, 0, 0)},
		{"LA 02:00 skipped", "America/Los_Angeles", 2026, 3, 8, 2, 0, utcAt(2026, 3, 8, 10, 0, 0)},
		{"LA 02:30 skipped", "America/Los_Angeles", 2026, 3, 8, 2, 30, utcAt(2026, 3, 8, 10, 0, 0)},
		{"LA 01:30 twice", "America/Los_Angeles", 2026, 11, 1, 1, 30, utcAt(2026, 11, 1, 8, 30, 0)},
		{"Berlin 02:30 skipped", "Europe/Berlin", 2026, 3, 29, 2, 30, utcAt(2026, 3, 29, 1, 0, 0)},
		{"Berlin 02:30 twice", "Europe/Berlin", 2026, 10, 25, 2, 30, utcAt(2026, 10, 25, 0, 30, 0)},
		{"Berlin 03:00 after the repeat", "Europe/Berlin", 2026, 10, 25, 3, 0, utcAt(2026, 10, 25, 2, 0, 0)},
		{"Kathmandu", "Asia/Kathmandu", 2026, 1, 1, 0, 0, utcAt(2025, 12, 31, 18, 15, 0)},
		{"day 0 normalised", "UTC", 2026, 3, 0, 9, 0, utcAt(2026, 2, 28, 9, 0, 0)},
	}
	for _, tt := range tests {
		loc := scheduleZone(t, tt.zone)
		got := localTime(tt.y, tt.m, tt.d, tt.h, tt.min, 0, 0, loc)
		if !got.Equal(tt.want) || got.Location() != loc {
			t.Errorf("%s: localTime(%d-%02d-%02d %02d:%02d, %s) = %v, want %v in %s", tt.name, tt.y, tt.m, tt.d, tt.h, tt.min,
				tt.zone, got, tt.want, tt.zone)
		}
	}
}
