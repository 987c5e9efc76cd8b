// Package csbot holds the domain of csbot, a Slack bot for Customer Success
// teams: the plain types of the customer book (accounts, renewals, contacts,
// usage, tickets, NPS, invoices, outages, touchpoints, users) and the pure
// logic over them (CSV cell parsing, import validation, the demo portfolio,
// and later health scoring and risk signals).
//
// The package imports only the standard library. It speaks no SQL and no
// Slack and never reads the clock: the current time is always passed in.
package csbot
