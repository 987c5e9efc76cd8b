package csbot_test

import (
	"fmt"
	"time"

	"github.com/csbot/csbot"
)

func ExampleScore() {
	now := time.Date(2025, 6, 15, 10, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return time.Date(2025, 6, 15-n, 0, 0, 0, 0, time.UTC) }
	f := csbot.AccountFacts{
		AccountID:           42,
		Tier:                csbot.TierHigh,
		LicensedSeats:       50,
		UsageFirstDay:       day(400),
		LastActiveDay:       day(1),
		ActiveUserDays:      18 * 30, // 18 a day over the last 30 days
		PriorActiveUserDays: 31 * 30, // 31 a day over the 30 before
		TicketsOnRecord:     true,
		Tickets30:           4,
		InvoicesOnRecord:    true,
		Overdue: []csbot.Invoice{
			{ID: 880, ExternalID: "INV-880", DueOn: day(47), Amount: 1_000_000},
			{ID: 881, ExternalID: "INV-881", DueOn: day(12), Amount: 840_000},
		},
		LastTouchAt:  now.AddDate(0, 0, -12),
		LastEBRAt:    now.AddDate(0, 0, -70),
		ExecSponsors: 1,
		Previous:     csbot.HealthSnapshot{Day: day(1), Score: 74, Band: csbot.BandGreen},
		Week:         csbot.HealthSnapshot{Day: day(7), Score: 78, Band: csbot.BandGreen},
	}
	p := csbot.DefaultPolicy()

	h := csbot.Score(f, p, now)
	fmt.Printf("%d %s, %+d in 7 days\n", h.Score, h.Band, h.Trend.Delta7)
	for _, d := range h.Drivers {
		fmt.Printf("-%d %s: %s\n", d.Points, d.Kind, d.Text)
	}
	for _, m := range h.Missing() {
		fmt.Println("missing:", m)
	}
	for _, s := range csbot.Signals(f, h, p, now) {
		fmt.Printf("%s %s\n", s.Severity, s.DedupeKey)
	}
	// Output:
	// 58 yellow, -20 in 7 days
	// -21 usage: active users down 41% vs the prior 30 days (31 -> 18 of 50 seats)
	// -18 payments: 2 invoices overdue, oldest 47 days, $18,400
	// -3 support: 4 tickets in 30 days, none open
	// missing: no NPS responses in the last 180 days
	// warning usage_drop:42:-30%
	// critical invoice_overdue:880:30d
	// warning band_drop:42:yellow
}

func ExampleDueReminder() {
	r := csbot.Renewal{
		ID:          7,
		RenewalDate: time.Date(2025, 9, 30, 0, 0, 0, 0, time.UTC),
		Status:      csbot.RenewalOpen,
	}
	// The bot was down from 40 days before the renewal until 20 days before:
	// the 30-day reminder is sent late; the 60-day one was sent on time.
	today := time.Date(2025, 9, 10, 9, 0, 0, 0, time.UTC)
	if rem, ok := csbot.DueReminder(r, csbot.TierHigh, csbot.DefaultPolicy(), today); ok {
		fmt.Println(rem.Key, rem.DaysLeft, "days left, late:", rem.Late)
	}
	// Output:
	// renewal:7:2025-09-30:30d 20 days left, late: true
}
