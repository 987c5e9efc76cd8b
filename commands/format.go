package commands

import (
	"time"

	"github.com/csbot/csbot"
	"github.com/csbot/csbot/bot"
)

// today returns the actor's calendar date as midnight UTC, the form of
// stored dates: read in their own zone when known, else in the configured
// one.
func (c *Commands) today(a bot.Actor) time.Time {
	y, m, d := c.cfg.Now().In(c.location(a)).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// location is the reader's zone: their own when known, else the
// configured one. Zones are read from the system's database once each.
func (c *Commands) location(a bot.Actor) *time.Location {
	if a.TZ == "" {
		return c.cfg.Location
	}
	if l, ok := c.zones.Load(a.TZ); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(a.TZ)
	if err != nil {
		return c.cfg.Location
	}
	c.zones.Store(a.TZ, l)
	return l
}

// daysLeft says how far date is from today, both dates at midnight UTC:
// "today", "tomorrow", "in 12 days", "yesterday", "5 days ago".
func daysLeft(today, date time.Time) string { return csbot.DaysText(dayCount(today, date)) }

// dayCount is the signed number of days from today to date.
func dayCount(today, date time.Time) int { return int(date.Sub(today).Hours() / 24) }

// shortDate formats a date as "Mar 4, 2027".
func shortDate(d time.Time) string { return d.Format("Jan 2, 2006") }

// usage is a public ephemeral reply: a hint on how to use a command.
func usage(text string) bot.Reply { return bot.Reply{Text: text, Public: true} }
