package csbot

import (
	"fmt"
	"time"
)

// Schedules are set in each person's wall-clock time: "9:00" is 9:00 on
// the clocks of their time zone, whatever the offset from UTC that day.
// On a day the clocks change, a local time may not exist (skipped when
// the clocks go forward) or exist twice (when they go back). Go's
// time.Date settles both cases differently from zone to zone (it can put
// a skipped 02:00 an hour before the change), so the helpers here settle
// them themselves, by one rule: a local time stands for the first instant
// at which the clocks read it or later. A skipped time is the instant of
// the change (the clocks jump past it then); a repeated one is its first
// occurrence. ReminderDay follows the same rule, since it asks whether
// the clocks have reached an hour yet.

// ReminderDay returns the calendar day whose renewal reminders are due at
// instant now for a person in loc who gets them from hour:00 local time:
// the local date of now, or the day before while the local clocks read
// earlier than hour:00. It reads the wall clock of loc, so a change to or
// from summer time does not move it. The day is returned as midnight UTC
// of that date, the form DueReminder and the rest of the package take
// ("today").
func ReminderDay(now time.Time, loc *time.Location, hour int) time.Time {
	l := now.In(loc)
	y, m, d := l.Date()
	if l.Hour() < hour {
		d--
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// DigestWeek returns the weekly digest most recently due at now for a
// person in loc who gets digests on weekday at hour:00 local time: due is
// the latest instant at or before now at which loc's clocks read that
// weekday at hour:00 (a skipped or repeated local time is read as the
// package comment above says), and week is the ISO week of due's local
// date, as "2026-W48" (the ISO year, which differs from the calendar
// year for some days around New Year, and the week zero-padded).
func DigestWeek(now time.Time, loc *time.Location, weekday time.Weekday, hour int) (week string, due time.Time) {
	l := now.In(loc)
	y, m, d := l.Date()
	back := (int(l.Weekday()) - int(weekday) + 7) % 7
	due = localTime(y, m, d-back, hour, 0, 0, 0, loc)
	if due.After(now) {
		back += 7
		due = localTime(y, m, d-back, hour, 0, 0, 0, loc)
	}
	wy, wn := time.Date(y, m, d-back, 0, 0, 0, 0, time.UTC).ISOWeek()
	return fmt.Sprintf("%04d-W%02d", wy, wn), due
}

// AddBusinessDays returns t plus n business days (Monday to Friday),
// counted on loc's calendar, at the same local wall-clock time as t (read
// as the package comment above says when that time is skipped or repeated
// on the day reached). A t on a Saturday or Sunday counts from the next
// Monday at the same time, so Saturday 10:00 plus one business day is
// Tuesday 10:00. Holidays are not known. For n <= 0 it returns t.
func AddBusinessDays(t time.Time, n int, loc *time.Location) time.Time {
	if n <= 0 {
		return t
	}
	l := t.In(loc)
	y, m, d := l.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC) // the calendar date alone
	switch day.Weekday() {
	case time.Saturday:
		day = day.AddDate(0, 0, 2)
	case time.Sunday:
		day = day.AddDate(0, 0, 1)
	}
	day = day.AddDate(0, 0, n/5*7)
	for rest := n % 5; rest > 0; {
		day = day.AddDate(0, 0, 1)
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			rest--
		}
	}
	y, m, d = day.Date()
	return localTime(y, m, d, l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), loc)
}

// localTime returns the first instant at which loc's clocks read the
// given date and time or later, in loc. It is time.Date for every local
// time that exists once. A local time the clocks skip (going forward)
// gives the instant of the change; one they show twice (going back) gives
// its first occurrence. Out-of-range values are normalised as time.Date
// does (day 0 is the last day of the month before).
func localTime(year int, month time.Month, day, hour, min, sec, nsec int, loc *time.Location) time.Time {
	// The reading asked for, normalised, written as if it were UTC.
	wall := time.Date(year, month, day, hour, min, sec, nsec, time.UTC)
	// The instant is wall minus loc's offset at it. Offsets lie within a
	// day of UTC, so the offsets in force a day and a half either side of
	// wall are the ones before and after any change near it.
	var first time.Time
	for _, probe := range []time.Time{wall.Add(-36 * time.Hour), wall, wall.Add(36 * time.Hour)} {
		_, off := probe.In(loc).Zone()
		t := wall.Add(-time.Duration(off) * time.Second)
		if readsAs(t.In(loc), wall) && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	if !first.IsZero() {
		return first.In(loc)
	}
	// Skipped: read with the offset before the change, the time falls
	// after it, inside the new offset's span, which began at the change.
	_, off := wall.Add(-36 * time.Hour).In(loc).Zone()
	t := wall.Add(-time.Duration(off) * time.Second).In(loc)
	if start, _ := t.ZoneBounds(); !start.IsZero() && !start.After(t) {
		return start.In(loc)
	}
	return t
}

// readsAs reports whether the local clock reading of t is wall's UTC
// reading.
func readsAs(t, wall time.Time) bool {
	y, m, d := t.Date()
	wy, wm, wd := wall.Date()
	h, mi, s := t.Clock()
	wh, wmi, ws := wall.Clock()
	return y == wy && m == wm && d == wd && h == wh && mi == wmi && s == ws && t.Nanosecond() == wall.Nanosecond()
}
