package csbot

import (
	"fmt"
	"strings"
	"time"
)

// Tier is an account's touch model: how much human attention it gets.
type Tier string

// The tiers, from most to least human attention.
const (
	TierHigh Tier = "high" // a named CSM, monthly meetings, quarterly EBRs
	TierLow  Tier = "low"  // packaged onboarding, annual EBRs, automated checks
	TierTech Tier = "tech" // one-to-many, everything automated
)

// Tiers lists every tier in order of attention.
func Tiers() []Tier { return []Tier{TierHigh, TierLow, TierTech} }

// Valid reports whether t is one of the known tiers.
func (t Tier) Valid() bool { return t == TierHigh || t == TierLow || t == TierTech }

// Stage is where an account is in the Land-Adopt-Expand-Renew journey.
type Stage string

// The lifecycle stages. An account is in exactly one at a time.
const (
	StageOnboarding Stage = "onboarding"
	StageAdopting   Stage = "adopting"
	StageExpanding  Stage = "expanding"
	StageRenewing   Stage = "renewing"
	StageChurned    Stage = "churned"
)

// Stages lists every stage in journey order.
func Stages() []Stage {
	return []Stage{StageOnboarding, StageAdopting, StageExpanding, StageRenewing, StageChurned}
}

// Account is a customer organisation with a subscription.
type Account struct {
	ID             int64  // internal id
	ExternalID     string // the CRM's id, unique
	Name           string
	Domain         string
	Tier           Tier
	ARR            Cents
	Stage          Stage
	CSMUserID      string // Slack user id of the CSM, empty when unassigned
	AEUserID       string // Slack user id of the account executive
	SlackChannelID string // the account's own channel, empty when none
	LicensedSeats  int
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// ContactRole is the part a customer-side person plays for the vendor.
type ContactRole string

// The contact roles.
const (
	RoleChampion    ContactRole = "champion"
	RoleExecSponsor ContactRole = "exec_sponsor"
	RoleRenewal     ContactRole = "renewal"
	RoleBilling     ContactRole = "billing"
	RoleUser        ContactRole = "user"
)

// ContactRoles lists every contact role.
func ContactRoles() []ContactRole {
	return []ContactRole{RoleChampion, RoleExecSponsor, RoleRenewal, RoleBilling, RoleUser}
}

// Contact is a person at the customer.
type Contact struct {
	ID        int64
	AccountID int64
	Name      string
	Role      ContactRole
	Email     string
	Title     string
	Active    bool
}

// Cents is an amount of money in integer cents of the book's currency.
type Cents int64

// String formats c as dollars with thousands separators: "$125,000.50",
// or "$125,000" when there are no cents.
func (c Cents) String() string {
	neg := c < 0
	if neg {
		c = -c
	}
	whole, frac := int64(c)/100, int64(c)%100
	s := GroupThousands(whole)
	if frac != 0 {
		s += fmt.Sprintf(".%02d", frac)
	}
	if neg {
		return "-$" + s
	}
	return "$" + s
}

// Short formats c compactly for dense lists: "$1.2M", "$18.4k", "$950".
func (c Cents) Short() string {
	d := float64(c) / 100
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	switch {
	case d >= 1e6:
		return sign + "$" + trimZero(fmt.Sprintf("%.1f", d/1e6)) + "M"
	case d >= 1e3:
		return sign + "$" + trimZero(fmt.Sprintf("%.1f", d/1e3)) + "k"
	default:
		return sign + "$" + fmt.Sprintf("%.0f", d)
	}
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }

// GroupThousands writes n with comma thousands separators: 12,345.
func GroupThousands(n int64) string {
	s := fmt.Sprintf("%d", n)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
