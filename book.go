package csbot

// BookSummary is an overview of a book of accounts: what the run command
// prints and, later, what a manager's digest opens with.
type BookSummary struct {
	Accounts     int
	ARR          Cents
	ByTier       []TierSummary // in Tiers() order, tiers without accounts included
	ByBand       map[string]int
	Unscored     int // accounts without a health snapshot
	Renewals     int // open renewals in the window
	RenewalsARR  Cents
	RenewalsDays int // the window, in days from now
}

// TierSummary counts the accounts and ARR of one tier.
type TierSummary struct {
	Tier     Tier
	Accounts int
	ARR      Cents
}
