package csbot

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The demo portfolio
//
// A Demo is a deterministic, realistic book of accounts written as the same
// CSV files a user would import. Nothing is held in memory: each account's
// plan (tier, ARR, seats, planted risk, CSM, renewal date, ...) is derived
// from a random generator seeded by (seed, account index), and each kind's
// rows from a generator of their own seeded the same way, so every file can
// be written on its own, in any order, and still agree with the others.
//
// Tiers are laid out in blocks of 20 consecutive accounts, each holding
// exactly 1 high-touch, 5 low-touch and 14 tech-touch accounts (5%, 25%,
// 70%). Risks are laid out in blocks of 33 consecutive accounts, each
// holding exactly one account of each of the 9 DemoRisks (about 3% each,
// 27% in all); no_touch always goes to a high- or low-touch account. The
// first accounts are ACME Corp. (high touch, healthy), Globex Inc. (low
// touch, renewal at risk) and Initech LLC (low touch, ticket spike).

// DemoRisk is one way a demo account was deliberately made unhealthy.
type DemoRisk string

// The planted risks. Each at-risk account gets exactly one of them (a
// renewal at risk comes with the signals that make the account red). Each
// clearly exceeds the default thresholds of DefaultPolicy, while every
// measure the risk does not concern stays within them, and the open
// renewal of an account with any other risk is 120 days away or more.
const (
	// DemoRiskUsageCollapse: usage falls over 3 days, 32-36 days ago, to
	// 12-28% of its level, so that mean daily active users of the last 30
	// days are about 65-88% below those of the prior 30 days.
	DemoRiskUsageCollapse DemoRisk = "usage_collapse"
	// DemoRiskUsageSilent: the account was active, then has had no active
	// users and no events for the last 70-110 days.
	DemoRiskUsageSilent DemoRisk = "usage_silent"
	// DemoRiskTicketSpike: in the last 27 days, 17-22 (high touch), 33-44
	// (low) or 65-85 (tech) tickets were opened on top of the usual few;
	// thresholds are 10, 20 and 40.
	DemoRiskTicketSpike DemoRisk = "ticket_spike"
	// DemoRiskInvoiceOverdue: one invoice is unpaid 62 days or more past
	// due (62-153 days; 65-98 for annual billing); later ones are paid.
	DemoRiskInvoiceOverdue DemoRisk = "invoice_overdue"
	// DemoRiskDetractorNPS: a response scoring 0-3 from the champion or the
	// exec sponsor 3-25 days ago; older responses score 7-10.
	DemoRiskDetractorNPS DemoRisk = "detractor_nps"
	// DemoRiskOutages: 3 outages of the account alone started 2-26 days
	// ago (the default raises outages at 2).
	DemoRiskOutages DemoRisk = "outages"
	// DemoRiskChampionLeft: the account's only champion contact is
	// inactive.
	DemoRiskChampionLeft DemoRisk = "champion_left"
	// DemoRiskNoTouch: the last touchpoint was 65-87 days ago for a
	// high-touch account (cadence 30) or 185-232 days ago for a low-touch
	// one (cadence 90). Never planted on tech touch, which has no cadence.
	DemoRiskNoTouch DemoRisk = "no_touch"
	// DemoRiskRenewalAtRisk: the open renewal is 20-75 days away, not
	// auto-renewing, and the account is red: its usage collapses to 5-12%
	// (DemoRiskUsageCollapse), a detractor answered 0-3
	// (DemoRiskDetractorNPS), an invoice is 62+ days overdue
	// (DemoRiskInvoiceOverdue), and 2 urgent and 1 high-severity tickets
	// are open (too few for a ticket spike). Demo.Risks lists all four.
	DemoRiskRenewalAtRisk DemoRisk = "renewal_at_risk"
)

// DemoRisks lists every planted risk, in the order of the constants.
func DemoRisks() []DemoRisk {
	return []DemoRisk{
		DemoRiskUsageCollapse, DemoRiskUsageSilent, DemoRiskTicketSpike, DemoRiskInvoiceOverdue,
		DemoRiskDetractorNPS, DemoRiskOutages, DemoRiskChampionLeft, DemoRiskNoTouch, DemoRiskRenewalAtRisk,
	}
}

// DefaultDemoAccounts is how many accounts a demo has unless told otherwise.
const DefaultDemoAccounts = 200

// DemoOptions configure NewDemo.
type DemoOptions struct {
	// Accounts is how many customer accounts to generate; 0 or less means
	// DefaultDemoAccounts. 100,000 works for scale tests.
	Accounts int
	// Seed picks one of many possible books.
	Seed uint64
	// Now is the moment the data is relative to: usage runs to the day
	// before, renewals fall due after it. Only its date in UTC matters, so
	// the same seed on the same day gives byte-identical files. The zero
	// time means 2026-01-01 UTC (the package never reads the clock).
	Now time.Time
}

// Demo generates a demo portfolio. It holds no generated rows and is safe
// for concurrent use.
type Demo struct {
	n     int
	seed  uint64
	today time.Time // Now's date, as midnight UTC
	tiers [3]int    // accounts per tier: high, low, tech
	staff demoStaff
	names demoNamer
}

// NewDemo returns the demo portfolio described by opts.
func NewDemo(opts DemoOptions) *Demo {
	d := &Demo{n: opts.Accounts, seed: opts.Seed, names: newDemoNamer(opts.Seed)}
	if d.n <= 0 {
		d.n = DefaultDemoAccounts
	}
	now := opts.Now.UTC()
	if opts.Now.IsZero() {
		now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	d.today = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)

	full, rem := d.n/demoTierBlock, d.n%demoTierBlock
	for t, per := range demoTierPerBlock {
		d.tiers[t] = full * per
	}
	if rem > 0 {
		blk := d.tierBlock(full)
		for p := range rem {
			d.tiers[demoTierIndex(blk[p])]++
		}
	}
	s := &d.staff
	s.highCSMs = demoCeilDiv(d.tiers[0], demoBookHigh)
	s.lowCSMs = demoCeilDiv(d.tiers[1], demoBookLow)
	s.techCSMs = demoCeilDiv(d.tiers[2], demoBookTech)
	s.leads = max(1, demoCeilDiv(s.highCSMs+s.lowCSMs+s.techCSMs, demoTeamSize))
	s.onboarding = max(1, demoCeilDiv(d.n, 250))
	s.sales = max(2, demoCeilDiv(d.tiers[0]+d.tiers[1], 40))
	return d
}

// The import kinds a demo writes, in load order.
const (
	demoKindUsers       = "users"
	demoKindAccounts    = "accounts"
	demoKindContacts    = "contacts"
	demoKindRenewals    = "renewals"
	demoKindUsage       = "usage"
	demoKindTickets     = "tickets"
	demoKindNPS         = "nps"
	demoKindInvoices    = "invoices"
	demoKindOutages     = "outages"
	demoKindTouchpoints = "touchpoints"
)

// Kinds returns the kinds WriteCSV writes, in the order they must be
// loaded: a kind may refer to records of the kinds before it.
func (d *Demo) Kinds() []string {
	return []string{
		demoKindUsers, demoKindAccounts, demoKindContacts, demoKindRenewals, demoKindUsage,
		demoKindTickets, demoKindNPS, demoKindInvoices, demoKindOutages, demoKindTouchpoints,
	}
}

// demoHeader returns the header row of kind, or nil for an unknown kind.
func demoHeader(kind string) []string {
	switch kind {
	case demoKindUsers:
		return []string{"slack_id", "role", "name", "email", "manager_slack_id", "timezone"}
	case demoKindAccounts:
		return []string{"external_id", "name", "tier", "arr", "domain", "stage", "csm", "ae", "channel", "licensed_seats"}
	case demoKindContacts:
		return []string{"account_external_id", "name", "role", "email", "title", "active"}
	case demoKindRenewals:
		return []string{"external_id", "account_external_id", "renewal_date", "arr", "start_date", "auto_renew", "status", "outcome_reason"}
	case demoKindUsage:
		return []string{"account_external_id", "day", "active_users", "licensed_seats", "events"}
	case demoKindTickets:
		return []string{"external_id", "account_external_id", "opened_at", "severity", "status", "closed_at", "subject"}
	case demoKindNPS:
		return []string{"account_external_id", "responded_at", "score", "respondent_email", "comment"}
	case demoKindInvoices:
		return []string{"external_id", "account_external_id", "due_on", "amount", "issued_on", "paid_on"}
	case demoKindOutages:
		return []string{"external_id", "started_at", "ended_at", "account_external_id", "severity", "summary"}
	case demoKindTouchpoints:
		return []string{"account_external_id", "at", "kind", "summary", "user"}
	}
	return nil
}

// WriteCSV writes the file of one kind to w: a header row, then the rows,
// streamed as they are generated. Dates are YYYY-MM-DD, timestamps RFC 3339
// in UTC, money in currency units ("125000.50"). It returns an error for an
// unknown kind, or the first error writing to w.
func (d *Demo) WriteCSV(kind string, w io.Writer) error {
	header := demoHeader(kind)
	if header == nil {
		return fmt.Errorf("unknown demo kind %q: use one of %s", kind, strings.Join(d.Kinds(), ", "))
	}
	if kind == demoKindUsage {
		return d.writeUsage(w)
	}
	out := &demoRows{cw: csv.NewWriter(w)}
	out.row(header...)
	switch kind {
	case demoKindUsers:
		d.writeUsers(out)
	case demoKindOutages:
		d.writeGlobalOutages(out)
		d.eachAccount(out, d.writeAccountOutages)
	default:
		d.eachAccount(out, map[string]func(*demoRows, *demoPlan){
			demoKindAccounts:    d.writeAccount,
			demoKindContacts:    d.writeContacts,
			demoKindRenewals:    d.writeRenewals,
			demoKindTickets:     d.writeTickets,
			demoKindNPS:         d.writeNPS,
			demoKindInvoices:    d.writeInvoices,
			demoKindTouchpoints: d.writeTouches,
		}[kind])
	}
	if out.err != nil {
		return fmt.Errorf("write demo %s: %w", kind, out.err)
	}
	out.cw.Flush()
	if err := out.cw.Error(); err != nil {
		return fmt.Errorf("write demo %s: %w", kind, err)
	}
	return nil
}

// Risks returns the ground truth of the planted risks: for each at-risk
// account's external id, what was planted (see the DemoRisk constants). A
// renewal at risk lists the other risks that make the account red after
// DemoRiskRenewalAtRisk itself.
func (d *Demo) Risks() map[string][]DemoRisk {
	out := make(map[string][]DemoRisk)
	l := d.newLayout()
	for i := range d.n {
		if r := l.slot(i).risk; r != "" {
			out[demoAccountID(i)] = demoPlanted(r)
		}
	}
	return out
}

// Healthy returns the external ids of the accounts planted with no risk
// at all, in file order. Each looks healthy by every measure, with margin:
// mean daily active users at least 70% of seats and within 10% of the
// prior 30 days, at most a third of the tier's ticket threshold in 30
// days and no unresolved high or urgent ticket, NPS responses of 8-10 only
// (or none), every invoice paid by its due date, the last touchpoint within
// half the tier's cadence and an EBR within its exec cadence, no outage of
// its own, and one active champion.
func (d *Demo) Healthy() []string {
	var out []string
	l := d.newLayout()
	for i := range d.n {
		if l.slot(i).risk == "" {
			out = append(out, demoAccountID(i))
		}
	}
	return out
}

func demoPlanted(r DemoRisk) []DemoRisk {
	if r == DemoRiskRenewalAtRisk {
		return []DemoRisk{DemoRiskRenewalAtRisk, DemoRiskUsageCollapse, DemoRiskDetractorNPS, DemoRiskInvoiceOverdue}
	}
	return []DemoRisk{r}
}

// demoRows writes CSV records and keeps the first error.
type demoRows struct {
	cw  *csv.Writer
	err error
}

func (o *demoRows) row(fields ...string) {
	if o.err == nil {
		o.err = o.cw.Write(fields)
	}
}

// eachAccount calls write with the plan of every account, in order,
// stopping at the first write error.
func (d *Demo) eachAccount(out *demoRows, write func(*demoRows, *demoPlan)) {
	l := d.newLayout()
	for i := range d.n {
		if out.err != nil {
			return
		}
		p := d.plan(i, l)
		write(out, &p)
	}
}

// Random streams: every kind draws from its own generator per account.
const (
	demoStreamTier uint64 = iota + 1
	demoStreamRisk
	demoStreamPlan
	demoStreamUser
	demoStreamContacts
	demoStreamRenewals
	demoStreamUsage
	demoStreamTickets
	demoStreamNPS
	demoStreamInvoices
	demoStreamOutages
	demoStreamTouches
	demoStreamIDs
)

// rand returns the generator of stream for index i.
func (d *Demo) rand(stream uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(demoMix(d.seed^stream*0x9E3779B97F4A7C15), demoMix(uint64(i)+stream<<56)))
}

// demoMix is the splitmix64 finalizer: a bijection that scatters bits.
func demoMix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	return x ^ x>>31
}

// Layout of tiers and risks.
const (
	demoTierBlock = 20 // accounts per tier block: 1 high, 5 low, 14 tech
	demoRiskBlock = 33 // accounts per risk block: one of each risk
)

// demoTierPerBlock is how many accounts of each tier (high, low, tech) a
// tier block holds.
var demoTierPerBlock = [3]int{1, 5, 14}

func demoTierIndex(t Tier) int {
	switch t {
	case TierHigh:
		return 0
	case TierLow:
		return 1
	}
	return 2
}

// tierBlock returns the tiers of the accounts of tier block b.
func (d *Demo) tierBlock(b int) [demoTierBlock]Tier {
	var t [demoTierBlock]Tier
	for p := range t {
		switch {
		case p < demoTierPerBlock[0]:
			t[p] = TierHigh
		case p < demoTierPerBlock[0]+demoTierPerBlock[1]:
			t[p] = TierLow
		default:
			t[p] = TierTech
		}
	}
	lo := 0
	if b == 0 {
		lo = 3 // ACME Corp. is high touch, Globex and Initech low touch
	}
	s := t[lo:]
	d.rand(demoStreamTier, b).Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return t
}

// riskBlock returns the risks planted on the accounts of risk block b ("" =
// healthy).
func (d *Demo) riskBlock(b int) [demoRiskBlock]DemoRisk {
	var out [demoRiskBlock]DemoRisk
	first := b * demoRiskBlock
	var tiers [demoRiskBlock]Tier
	tb, blk := -1, [demoTierBlock]Tier{}
	for p := range tiers {
		i := first + p
		if i/demoTierBlock != tb {
			tb = i / demoTierBlock
			blk = d.tierBlock(tb)
		}
		tiers[p] = blk[i%demoTierBlock]
	}
	free := make([]int, 0, demoRiskBlock)
	for p := range demoRiskBlock {
		if b == 0 && p < 3 {
			continue
		}
		free = append(free, p)
	}
	if b == 0 {
		out[1], out[2] = DemoRiskRenewalAtRisk, DemoRiskTicketSpike // Globex, Initech
	}
	r := d.rand(demoStreamRisk, b)
	take := func(k int) int {
		p := free[k]
		free = slices.Delete(free, k, k+1)
		return p
	}
	var cand []int
	for k, p := range free {
		if tiers[p] != TierTech {
			cand = append(cand, k)
		}
	}
	if len(cand) > 0 {
		out[take(cand[r.IntN(len(cand))])] = DemoRiskNoTouch
	}
	for _, risk := range DemoRisks() {
		if risk == DemoRiskNoTouch || (b == 0 && (risk == DemoRiskRenewalAtRisk || risk == DemoRiskTicketSpike)) {
			continue
		}
		out[take(r.IntN(len(free)))] = risk
	}
	return out
}

// demoSlot is where an account sits in the layout.
type demoSlot struct {
	tier        Tier
	rank        int // index among the accounts of its tier
	nonTechRank int // index among the high- and low-touch accounts
	risk        DemoRisk
}

// demoLayout caches the current tier and risk blocks while accounts are
// visited in order.
type demoLayout struct {
	d      *Demo
	tb, rb int
	tiers  [demoTierBlock]Tier
	risks  [demoRiskBlock]DemoRisk
}

func (d *Demo) newLayout() *demoLayout { return &demoLayout{d: d, tb: -1, rb: -1} }

func (l *demoLayout) slot(i int) demoSlot {
	b, p := i/demoTierBlock, i%demoTierBlock
	if l.tb != b {
		l.tiers, l.tb = l.d.tierBlock(b), b
	}
	s := demoSlot{tier: l.tiers[p]}
	same, nonTech := 0, 0
	for q := range p {
		if l.tiers[q] == s.tier {
			same++
		}
		if l.tiers[q] != TierTech {
			nonTech++
		}
	}
	s.rank = b*demoTierPerBlock[demoTierIndex(s.tier)] + same
	s.nonTechRank = b*(demoTierPerBlock[0]+demoTierPerBlock[1]) + nonTech
	if rb := i / demoRiskBlock; l.rb != rb {
		l.risks, l.rb = l.d.riskBlock(rb), rb
	}
	s.risk = l.risks[i%demoRiskBlock]
	return s
}

// Staffing: CSM capacity is planned by ARR per CSM.
const (
	demoBookHigh = 4    // high-touch accounts per CSM, about $3M ARR
	demoBookLow  = 45   // low-touch accounts per CSM, about $4M ARR
	demoBookTech = 2000 // tech-touch accounts per pooled CSM
	demoTeamSize = 7    // CSMs per team lead
)

// demoStaff counts the vendor's team. Users are numbered: 0 the admin, 1
// the head of CS, then team leads, high-, low- and tech-touch CSMs,
// onboarding specialists and account executives.
type demoStaff struct {
	leads, highCSMs, lowCSMs, techCSMs, onboarding, sales int
}

func (s demoStaff) firstHigh() int  { return 2 + s.leads }
func (s demoStaff) firstLow() int   { return s.firstHigh() + s.highCSMs }
func (s demoStaff) firstTech() int  { return s.firstLow() + s.lowCSMs }
func (s demoStaff) firstOnb() int   { return s.firstTech() + s.techCSMs }
func (s demoStaff) firstSales() int { return s.firstOnb() + s.onboarding }
func (s demoStaff) total() int      { return s.firstSales() + s.sales }

// demoUser is one member of the vendor's team.
type demoUser struct {
	id, name, email, manager, tz string
	role                         UserRole
}

func (d *Demo) user(k int) demoUser {
	s := d.staff
	u := demoUser{id: d.userID(k)}
	switch {
	case k == 0:
		u.role = UserAdmin
	case k == 1:
		u.role = UserManager
	case k < s.firstHigh():
		u.role, u.manager = UserManager, d.userID(1)
	case k < s.firstOnb():
		u.role, u.manager = UserCSM, d.userID(2+min((k-s.firstHigh())/demoTeamSize, s.leads-1))
	case k < s.firstSales():
		u.role, u.manager = UserOnboarding, d.userID(2+(k-s.firstOnb())%s.leads)
	default:
		u.role = UserSales
	}
	nf, nl := len(demoFirstNames), len(demoLastNames)
	m := nf * nl
	pair := (k%m*demoCoprime(m) + int(demoMix(d.seed^demoStreamUser)%uint64(m))) % m
	first, last := demoFirstNames[pair%nf], demoLastNames[pair/nf]
	u.name = first + " " + last
	local := strings.ToLower(first + "." + last)
	if k >= m {
		local += strconv.Itoa(k/m + 1)
	}
	u.email = local + "@csbot.example"
	u.tz = demoTimezones[d.rand(demoStreamUser, k).IntN(len(demoTimezones))]
	return u
}

// demoCoprime returns a step near 0.618*m that is coprime with m.
func demoCoprime(m int) int {
	s := m*618/1000 + 1
	for demoGCD(s, m) != 1 {
		s++
	}
	return s
}

// userID returns the Slack user id of user k: "U" and 10 characters,
// distinct for every k.
func (d *Demo) userID(k int) string { return d.slackID('U', k, 1) }

// channelID returns the Slack channel id of account i's channel.
func (d *Demo) channelID(i int) string { return d.slackID('C', i, 2) }

func (d *Demo) slackID(prefix byte, n int, tag uint64) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	x := demoPerm51(uint64(n), demoMix(d.seed^tag*demoStreamIDs))
	var b [11]byte
	b[0] = prefix
	for k := 10; k >= 1; k-- { // 36^10 > 2^51
		b[k] = digits[x%36]
		x /= 36
	}
	return string(b[:])
}

// demoPerm51 is a keyed bijection on [0, 2^51).
func demoPerm51(x, key uint64) uint64 {
	const mask = 1<<51 - 1
	x = (x + key) & mask
	x ^= x >> 25
	x = x * 0x5DEECE66D & mask
	x ^= x >> 21
	x = x * 0x2545F4914F6CDD1D & mask
	x ^= x >> 27
	return x
}

func (d *Demo) writeUsers(out *demoRows) {
	for k := range d.staff.total() {
		u := d.user(k)
		out.row(u.id, string(u.role), u.name, u.email, u.manager, u.tz)
	}
}

// demoPlan is everything about one account that more than one kind needs.
type demoPlan struct {
	i            int
	id           string
	slot         demoSlot
	name, domain string
	arr          Cents
	seats        int
	stage        Stage
	csm, ae      string
	channel      string
	onboarding   bool // a new customer, since 75-150 days
	autoRenew    bool

	termYears int
	termStart time.Time // the current term's start
	renewal   time.Time // the open renewal's date
	pastTerms int       // terms before the current one
	sinceAgo  int       // days from the first term's start to today

	billingMonths int // 1, 3 or 12

	level         float64 // weekday share of seats active, now
	weekend       float64 // weekend activity relative to weekdays
	trend         float64 // growth of usage over the 180 days
	eventsPerUser float64
	collapseAgo   int     // usage collapse reached, in days ago
	collapseTo    float64 // share of usage left after the collapse
	silentAgo     int     // days of silence
}

func demoAccountID(i int) string { return "ACC-" + demoPad(i+1, 6) }

// demoPad formats n with at least width digits.
func demoPad(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// plan derives account i's plan. l must be used for accounts in order.
func (d *Demo) plan(i int, l *demoLayout) demoPlan {
	s := l.slot(i)
	r := d.rand(demoStreamPlan, i)
	p := demoPlan{i: i, id: demoAccountID(i), slot: s}

	p.name, p.domain = d.names.base(i)
	suffix := demoLegalSuffix(r)
	if i >= len(demoWellKnown) {
		p.name += " " + suffix
	}

	switch s.tier {
	case TierHigh:
		arr := math.Round(demoLogUniform(r, 250_000, 1_500_000)/1000) * 1000
		p.arr = Cents(arr * 100)
		p.seats = int(arr / float64(400+r.IntN(301)))
	case TierLow:
		arr := math.Round(demoLogUniform(r, 20_000, 250_000)/100) * 100
		p.arr = Cents(arr * 100)
		p.seats = max(10, int(arr/float64(250+r.IntN(251))))
	default:
		prices := [...]Cents{1900, 2450, 2900, 3999} // a seat a month
		perSeat := prices[r.IntN(len(prices))] * 12
		lo, hi := int((60_000+perSeat-1)/perSeat), int(2_000_000/perSeat)
		p.seats = min(hi, max(lo, int(math.Round(demoLogUniform(r, float64(lo), float64(hi))))))
		p.arr = Cents(p.seats) * perSeat
	}

	uTerm, uBill, uStage, uAuto := r.Float64(), r.Float64(), r.Float64(), r.Float64()
	p.onboarding = s.risk == "" && r.Float64() < 0.05
	p.termYears = 1
	switch {
	case s.tier == TierHigh && uTerm < 0.3:
		p.termYears = 2 + r.IntN(2)
	case s.tier == TierLow && uTerm < 0.15:
		p.termYears = 2
	}
	switch s.tier {
	case TierHigh:
		p.billingMonths = demoChoose(uBill, []float64{0.7}, 12, 3)
	case TierLow:
		p.billingMonths = demoChoose(uBill, []float64{0.6, 0.85}, 12, 3, 1)
	default:
		p.billingMonths = demoChoose(uBill, []float64{0.25}, 12, 1)
	}
	if s.risk == DemoRiskRenewalAtRisk && p.billingMonths == 12 {
		p.billingMonths = 3 // so that a recent invoice can be overdue
		if s.tier == TierTech {
			p.billingMonths = 1
		}
	}
	annualOverdue := s.risk == DemoRiskInvoiceOverdue && p.billingMonths == 12
	if p.onboarding || annualOverdue || s.risk == DemoRiskRenewalAtRisk {
		p.termYears = 1
	}
	maxDays := 365
	if p.termYears > 1 {
		maxDays = 540
	}
	startAgo, renewalIn := -1, 0
	switch {
	case s.risk == DemoRiskRenewalAtRisk:
		renewalIn = 20 + r.IntN(56)
	case annualOverdue:
		startAgo = 95 + r.IntN(31) // the annual invoice is 65+ days overdue
	case p.onboarding:
		startAgo = 75 + r.IntN(76)
	case s.risk != "":
		renewalIn = 120 + r.IntN(maxDays-119) // well clear of the 90-day window
	default:
		renewalIn = 1 + r.IntN(maxDays)
	}
	if startAgo >= 0 {
		p.termStart = d.ago(startAgo)
		p.renewal = p.termStart.AddDate(p.termYears, 0, 0)
	} else {
		p.renewal = d.ago(-renewalIn)
		p.termStart = p.renewal.AddDate(-p.termYears, 0, 0)
	}
	if !p.onboarding {
		p.pastTerms = r.IntN(4)
	}
	since := p.termStart.AddDate(-p.pastTerms*p.termYears, 0, 0)
	for !p.onboarding && d.daysSince(since) < 200 {
		p.pastTerms++
		since = p.termStart.AddDate(-p.pastTerms*p.termYears, 0, 0)
	}
	p.sinceAgo = d.daysSince(since)

	switch {
	case p.onboarding:
		p.stage = StageOnboarding
	case d.daysSince(p.renewal) >= -90:
		p.stage = StageRenewing
	case s.risk == "" && uStage < 0.3:
		p.stage = StageExpanding
	default:
		p.stage = StageAdopting
	}
	switch s.tier {
	case TierHigh:
		p.autoRenew = uAuto < 0.1
	case TierLow:
		p.autoRenew = uAuto < 0.5
	default:
		p.autoRenew = uAuto < 0.9
	}
	if s.risk == DemoRiskRenewalAtRisk {
		p.autoRenew = false
	}

	p.level = 0.85 + 0.09*r.Float64()
	p.weekend = 0.62 + 0.13*r.Float64()
	p.trend = -0.04 + 0.08*r.Float64()
	if p.stage == StageExpanding {
		p.trend = 0.08 + 0.08*r.Float64()
	}
	p.eventsPerUser = 15 + 100*r.Float64()
	p.collapseAgo = 31 + r.IntN(3)
	p.collapseTo = 0.12 + 0.16*r.Float64()
	if s.risk == DemoRiskRenewalAtRisk {
		p.collapseTo = 0.05 + 0.07*r.Float64()
	}
	p.silentAgo = 70 + r.IntN(41)

	switch s.tier {
	case TierHigh:
		p.csm = d.userID(d.staff.firstHigh() + s.rank/demoBookHigh)
	case TierLow:
		p.csm = d.userID(d.staff.firstLow() + s.rank/demoBookLow)
	default:
		p.csm = d.userID(d.staff.firstTech() + s.rank%d.staff.techCSMs)
	}
	if s.tier != TierTech {
		p.ae = d.userID(d.staff.firstSales() + s.nonTechRank%d.staff.sales)
		p.channel = d.channelID(i)
	}
	return p
}

// demoChoose returns vals[k] for the first cut u falls below, else the
// last value.
func demoChoose(u float64, cuts []float64, vals ...int) int {
	for k, c := range cuts {
		if u < c {
			return vals[k]
		}
	}
	return vals[len(vals)-1]
}

func demoLegalSuffix(r *rand.Rand) string {
	total := 0
	for _, s := range demoLegalSuffixes {
		total += s.weight
	}
	n := r.IntN(total)
	for _, s := range demoLegalSuffixes {
		if n < s.weight {
			return s.suffix
		}
		n -= s.weight
	}
	return "Inc."
}

// demoLogUniform draws from lo..hi with small values more likely, as with
// deal sizes.
func demoLogUniform(r *rand.Rand, lo, hi float64) float64 {
	return lo * math.Exp(r.Float64()*math.Log(hi/lo))
}

func demoCeilDiv(a, b int) int { return (a + b - 1) / b }

func demoPick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// ago returns midnight UTC, n days before today (after, when n < 0).
func (d *Demo) ago(n int) time.Time { return d.today.AddDate(0, 0, -n) }

// daysSince counts whole days from t's date to today (negative when t is
// after today).
func (d *Demo) daysSince(t time.Time) int {
	return int(math.Round(d.today.Sub(t).Hours() / 24))
}

// at returns a moment during business hours (UTC), a days before today.
func (d *Demo) at(r *rand.Rand, a, fromHour, hours int) time.Time {
	sec := (fromHour+r.IntN(hours))*3600 + r.IntN(3600)
	return d.ago(a).Add(time.Duration(sec) * time.Second)
}

func demoDate(t time.Time) string { return t.Format(time.DateOnly) }

func demoStamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// demoOptDate formats t, or "" for the zero time.
func demoOptDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return demoDate(t)
}

func demoOptStamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return demoStamp(t)
}

// demoMoney formats c in currency units: "125000" or "125000.50".
func demoMoney(c Cents) string {
	s := strconv.FormatInt(int64(c/100), 10)
	if f := int64(c % 100); f != 0 {
		s += "." + demoPad(int(f), 2)
	}
	return s
}

func (d *Demo) writeAccount(out *demoRows, p *demoPlan) {
	out.row(p.id, p.name, string(p.slot.tier), demoMoney(p.arr), p.domain, string(p.stage),
		p.csm, p.ae, p.channel, strconv.Itoa(p.seats))
}

// writeUsage writes the usage file by hand: it is by far the largest, one
// row per account and day, and needs no quoting.
func (d *Demo) writeUsage(w io.Writer) error {
	const days = 180
	var dates [days + 1]string
	var weekend [days + 1]bool
	for a := 1; a <= days; a++ {
		t := d.ago(a)
		dates[a] = demoDate(t)
		weekend[a] = t.Weekday() == time.Saturday || t.Weekday() == time.Sunday
	}
	buf := make([]byte, 0, 72<<10)
	buf = append(buf, strings.Join(demoHeader(demoKindUsage), ",")...)
	buf = append(buf, '\n')
	l := d.newLayout()
	for i := range d.n {
		p := d.plan(i, l)
		r := d.rand(demoStreamUsage, i)
		seats, carry := float64(p.seats), 0.0
		for a := min(days, p.sinceAgo); a >= 1; a-- {
			ratio := p.level * (1 - p.trend*float64(a-1)/(days-1))
			if weekend[a] {
				ratio *= p.weekend
			}
			ratio *= 0.96 + 0.08*r.Float64()
			if p.onboarding {
				if age := p.sinceAgo - a; age < 14 {
					ratio *= 0.25 + 0.75*float64(age)/14
				}
			}
			switch p.slot.risk {
			case DemoRiskUsageCollapse, DemoRiskRenewalAtRisk:
				if a <= p.collapseAgo {
					ratio *= p.collapseTo
				} else if a <= p.collapseAgo+3 {
					ratio *= p.collapseTo + (1-p.collapseTo)*float64(a-p.collapseAgo)/4
				}
			case DemoRiskUsageSilent:
				if a <= p.silentAgo {
					ratio = 0
				}
			}
			// Error diffusion: each day rounds what is left over from the
			// days before, so small accounts' 30-day sums stay true.
			carry += ratio * seats
			active := min(p.seats, max(0, int(math.Floor(carry+0.5))))
			if ratio == 0 {
				active, carry = 0, 0
			}
			carry = min(1, max(-1, carry-float64(active)))
			events := int64(float64(active) * p.eventsPerUser * (0.85 + 0.3*r.Float64()))
			buf = append(buf, p.id...)
			buf = append(buf, ',')
			buf = append(buf, dates[a]...)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, int64(active), 10)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, int64(p.seats), 10)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, events, 10)
			buf = append(buf, '\n')
		}
		if len(buf) >= 64<<10 {
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("write demo usage: %w", err)
			}
			buf = buf[:0]
		}
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write demo usage: %w", err)
	}
	return nil
}

// demoContact is a person at the customer.
type demoContact struct {
	name, email, title string
	role               ContactRole
	active             bool
}

func (d *Demo) contacts(p *demoPlan) []demoContact {
	r := d.rand(demoStreamContacts, p.i)
	nf := len(demoFirstNames)
	m := nf * len(demoLastNames)
	base, step, next := r.IntN(m), demoCoprime(m), 0
	type person struct{ name, email string }
	newPerson := func() person { // distinct within the account
		k := (base + next*step) % m
		next++
		first, last := demoFirstNames[k%nf], demoLastNames[k/nf]
		return person{first + " " + last, strings.ToLower(first+"."+last) + "@" + p.domain}
	}
	var cs []demoContact
	add := func(who person, role ContactRole, title string, active bool) {
		cs = append(cs, demoContact{name: who.name, email: who.email, title: title, role: role, active: active})
	}
	champ, champTitle := newPerson(), demoPick(r, demoChampionTitles[:])
	add(champ, RoleChampion, champTitle, p.slot.risk != DemoRiskChampionLeft)
	if p.slot.tier != TierTech {
		add(newPerson(), RoleExecSponsor, demoPick(r, demoExecTitles[:]), true)
		if r.Float64() < 0.9 {
			add(newPerson(), RoleRenewal, demoPick(r, demoRenewalTitles[:]), true)
		}
		if r.Float64() < 0.9 {
			add(newPerson(), RoleBilling, demoPick(r, demoBillingTitles[:]), true)
		}
		users := r.IntN(3)
		if p.slot.tier == TierHigh {
			users = 2 + r.IntN(3)
		}
		for range users {
			add(newPerson(), RoleUser, demoPick(r, demoUserTitles[:]), true)
		}
		if r.Float64() < 0.2 {
			add(newPerson(), RoleUser, demoPick(r, demoUserTitles[:]), false) // moved on
		}
		return cs
	}
	// Tech touch: the champion is often also who pays and renews.
	payer, payerTitle := champ, champTitle
	if r.Float64() < 0.5 {
		payer, payerTitle = newPerson(), demoPick(r, demoBillingTitles[:])
	}
	if r.Float64() < 0.7 {
		add(payer, RoleBilling, payerTitle, true)
	}
	if r.Float64() < 0.4 {
		add(payer, RoleRenewal, payerTitle, true)
	}
	if r.Float64() < 0.5 {
		add(newPerson(), RoleUser, demoPick(r, demoUserTitles[:]), true)
	}
	return cs
}

func (d *Demo) writeContacts(out *demoRows, p *demoPlan) {
	for _, c := range d.contacts(p) {
		out.row(p.id, c.name, string(c.role), c.email, c.title, strconv.FormatBool(c.active))
	}
}

// demoRenewal is one subscription term's renewal.
type demoRenewal struct {
	start, date time.Time
	arr         Cents
	auto        bool
	status      RenewalStatus
	reason      string
}

func (d *Demo) renewals(p *demoPlan) []demoRenewal {
	r := d.rand(demoStreamRenewals, p.i)
	round := func(x float64) Cents { // to $1,000 high, $100 low, $1 tech
		unit := map[Tier]float64{TierHigh: 1000, TierLow: 100, TierTech: 1}[p.slot.tier]
		return Cents(math.Max(1, math.Round(x/100/unit)) * unit * 100)
	}
	past := make([]demoRenewal, p.pastTerms)
	arr := p.arr
	for j := 1; j <= p.pastTerms; j++ { // walking back from the current term
		rn := demoRenewal{
			start: p.termStart.AddDate(-j*p.termYears, 0, 0),
			date:  p.termStart.AddDate(-(j-1)*p.termYears, 0, 0),
			auto:  p.autoRenew,
		}
		u, f := r.Float64(), r.Float64()
		switch {
		case u < 0.6:
			rn.status, rn.reason = RenewalRenewed, demoPick(r, demoRenewedReasons[:])
			rn.arr = round(float64(arr) / (1 + 0.05*f))
		case u < 0.85:
			rn.status, rn.reason = RenewalExpanded, demoPick(r, demoExpandedReasons[:])
			rn.arr = round(float64(arr) / (1.15 + 0.35*f))
		default:
			rn.status, rn.reason = RenewalDownsell, demoPick(r, demoDownsellReasons[:])
			rn.arr = round(float64(arr) / (0.7 + 0.2*f))
		}
		arr = rn.arr
		past[p.pastTerms-j] = rn
	}
	out := past
	if p.pastTerms > 0 && r.Float64() < 0.12 { // an add-on that did not renew
		out = append(out, demoRenewal{
			start:  p.termStart.AddDate(-p.termYears, 0, 0),
			date:   p.termStart,
			arr:    Cents(math.Max(1, math.Round(float64(past[p.pastTerms-1].arr)*(0.08+0.12*r.Float64())/100)) * 100),
			status: RenewalChurned,
			reason: demoPick(r, demoAddonChurnReasons[:]),
		})
	}
	return append(out, demoRenewal{start: p.termStart, date: p.renewal, arr: p.arr, auto: p.autoRenew, status: RenewalOpen})
}

func (d *Demo) writeRenewals(out *demoRows, p *demoPlan) {
	for k, rn := range d.renewals(p) {
		out.row("REN-"+p.id[4:]+"-"+strconv.Itoa(k+1), p.id, demoDate(rn.date), demoMoney(rn.arr),
			demoDate(rn.start), strconv.FormatBool(rn.auto), string(rn.status), rn.reason)
	}
}

// demoTicket is one support ticket.
type demoTicket struct {
	opened, closed time.Time
	sev            Severity
	status         TicketStatus
	subject        string
}

// Ticket kinds.
const (
	demoTicketUsual  = iota // everyday questions; unresolved only when recent and low or normal
	demoTicketSpike         // part of a ticket spike
	demoTicketUrgent        // an open escalation of a renewal at risk
)

func (d *Demo) tickets(p *demoPlan) []demoTicket {
	r := d.rand(demoStreamTickets, p.i)
	var ts []demoTicket
	for w := range 6 { // a few tickets in each 30-day window
		var n int
		switch p.slot.tier {
		case TierHigh:
			n = r.IntN(4)
		case TierLow:
			n = r.IntN(3)
		default:
			if r.Float64() < 0.15 {
				n = 1
			}
		}
		for range n {
			ts = append(ts, d.ticket(r, 30*w+1+r.IntN(29), demoTicketUsual))
		}
	}
	switch p.slot.risk {
	case DemoRiskTicketSpike:
		n := map[Tier]int{TierHigh: 17 + r.IntN(6), TierLow: 33 + r.IntN(12), TierTech: 65 + r.IntN(21)}[p.slot.tier]
		for range n {
			ts = append(ts, d.ticket(r, 1+r.IntN(27), demoTicketSpike))
		}
	case DemoRiskRenewalAtRisk:
		for _, sev := range []Severity{SeverityUrgent, SeverityUrgent, SeverityHigh} {
			t := d.ticket(r, 3+r.IntN(18), demoTicketUrgent)
			t.sev = sev
			ts = append(ts, t)
		}
	}
	slices.SortStableFunc(ts, func(a, b demoTicket) int { return a.opened.Compare(b.opened) })
	return ts
}

// ticket returns a ticket opened a days before today.
func (d *Demo) ticket(r *rand.Rand, a, kind int) demoTicket {
	t := demoTicket{opened: d.ago(a).Add(time.Duration(r.IntN(86400)) * time.Second)}
	u := r.Float64()
	switch kind {
	case demoTicketUsual:
		t.sev = []Severity{SeverityLow, SeverityNormal, SeverityHigh, SeverityUrgent}[demoChoose(u, []float64{0.25, 0.8, 0.97}, 0, 1, 2, 3)]
		t.subject = demoPick(r, demoTicketSubjects[:])
	default:
		t.sev = []Severity{SeverityNormal, SeverityHigh, SeverityUrgent}[demoChoose(u, []float64{0.3, 0.8}, 0, 1, 2)]
		t.subject = demoPick(r, demoSpikeSubjects[:])
	}
	left := d.today.Sub(t.opened) // time until today: closed_at stays in the past
	v := r.Float64()
	switch {
	case kind == demoTicketUrgent,
		kind == demoTicketSpike && v < 0.6,
		kind == demoTicketUsual && a <= 10 && v < 0.4:
		t.status = []TicketStatus{TicketOpen, TicketPending}[r.IntN(2)]
		if kind == demoTicketUsual && t.sev != SeverityLow {
			t.sev = SeverityNormal
		}
	case a > 10:
		t.status = []TicketStatus{TicketClosed, TicketSolved}[demoChoose(r.Float64(), []float64{0.75}, 0, 1)]
		t.closed = t.opened.Add(time.Hour + time.Duration(r.Int64N(int64(6*24*time.Hour))))
	default:
		t.status = TicketSolved
		t.closed = t.opened.Add(time.Duration(r.Int64N(int64(min(left, 72*time.Hour)))))
	}
	t.closed = t.closed.Truncate(time.Second)
	return t
}

func (d *Demo) writeTickets(out *demoRows, p *demoPlan) {
	for k, t := range d.tickets(p) {
		out.row("TKT-"+p.id[4:]+"-"+strconv.Itoa(k+1), p.id, demoStamp(t.opened), string(t.sev),
			string(t.status), demoOptStamp(t.closed), t.subject)
	}
}

// demoNPS is one survey response.
type demoNPS struct {
	at             time.Time
	score          int
	email, comment string
}

func (d *Demo) nps(p *demoPlan, cs []demoContact) []demoNPS {
	r := d.rand(demoStreamNPS, p.i)
	var who []demoContact
	var lead *demoContact // who voices a detractor's view
	for k, c := range cs {
		if c.active && (c.role == RoleChampion || c.role == RoleExecSponsor || c.role == RoleUser) {
			who = append(who, c)
			if lead == nil && c.role != RoleUser {
				lead = &cs[k]
			}
		}
	}
	if len(who) == 0 {
		return nil
	}
	if lead == nil {
		lead = &who[0]
	}
	n := map[Tier]int{TierHigh: 2 + r.IntN(4), TierLow: 1 + r.IntN(3), TierTech: r.IntN(3)}[p.slot.tier]
	detractor := p.slot.risk == DemoRiskDetractorNPS || p.slot.risk == DemoRiskRenewalAtRisk
	a := 1 + r.IntN(20)
	if detractor {
		a += 30 // keep the last 30 days for the detractor
	}
	var out []demoNPS
	for k := 0; k < n && a <= 175; k++ {
		score := 8 + r.IntN(3)
		if p.slot.risk != "" {
			score = 7 + r.IntN(4)
		}
		out = append(out, demoNPS{at: d.at(r, a, 8, 11), score: score, email: demoPick(r, who).email, comment: demoComment(r, score)})
		a += 12 + r.IntN(40)
	}
	if detractor {
		score := r.IntN(4)
		out = append(out, demoNPS{at: d.at(r, 3+r.IntN(23), 8, 11), score: score, email: lead.email, comment: demoComment(r, score)})
	}
	slices.SortFunc(out, func(a, b demoNPS) int { return a.at.Compare(b.at) })
	return out
}

func demoComment(r *rand.Rand, score int) string {
	switch {
	case score <= 6:
		return demoPick(r, demoDetractorComments[:])
	case r.Float64() < 0.35:
		return ""
	case score >= 9:
		return demoPick(r, demoPromoterComments[:])
	default:
		return demoPick(r, demoPassiveComments[:])
	}
}

func (d *Demo) writeNPS(out *demoRows, p *demoPlan) {
	for _, n := range d.nps(p, d.contacts(p)) {
		out.row(p.id, demoStamp(n.at), strconv.Itoa(n.score), n.email, n.comment)
	}
}

// demoInvoice is one invoice; paid is zero while unpaid.
type demoInvoice struct {
	issued, due, paid time.Time
	amount            Cents
}

// invoices bills the account every billingMonths, anchored on the current
// term's start, over the last year. Healthy invoices are paid before they
// fall due. An overdue account leaves unpaid its latest invoice that fell
// due 62 or more days ago.
func (d *Demo) invoices(p *demoPlan) []demoInvoice {
	r := d.rand(demoStreamInvoices, p.i)
	y, m, day := p.termStart.Date()
	anchor := time.Date(y, m, min(day, 28), 0, 0, 0, 0, time.UTC)
	issue := func(k int) time.Time { return anchor.AddDate(0, k*p.billingMonths, 0) }
	lower := d.ago(365)
	if p.pastTerms == 0 && anchor.After(lower) {
		lower = anchor
	}
	k := 0
	for !issue(k).Before(lower) {
		k--
	}
	for issue(k).Before(lower) {
		k++
	}
	net := 30
	if p.billingMonths == 1 {
		net = 14
	}
	amount := p.arr * Cents(p.billingMonths) / 12
	var out []demoInvoice
	unpaid := -1
	for ; issue(k).Before(d.today); k++ {
		inv := demoInvoice{issued: issue(k), amount: amount}
		inv.due = inv.issued.AddDate(0, 0, net)
		if paid := inv.issued.AddDate(0, 0, r.IntN(net-1)); paid.Before(d.today) {
			inv.paid = paid
		}
		if d.daysSince(inv.due) >= 62 {
			unpaid = len(out)
		}
		out = append(out, inv)
	}
	if (p.slot.risk == DemoRiskInvoiceOverdue || p.slot.risk == DemoRiskRenewalAtRisk) && unpaid >= 0 {
		out[unpaid].paid = time.Time{}
	}
	return out
}

func (d *Demo) writeInvoices(out *demoRows, p *demoPlan) {
	for k, inv := range d.invoices(p) {
		out.row("INV-"+p.id[4:]+"-"+strconv.Itoa(k+1), p.id, demoDate(inv.due), demoMoney(inv.amount),
			demoDate(inv.issued), demoOptDate(inv.paid))
	}
}

// demoOutage is an incident; account is "" for a global one.
type demoOutage struct {
	start, end    time.Time
	severity, sum string
}

func (d *Demo) outage(r *rand.Rand, a int, summaries []string) demoOutage {
	o := demoOutage{start: d.at(r, a, 0, 20), severity: demoPick(r, []string{"critical", "major", "major", "minor"})}
	o.end = o.start.Add(30*time.Minute + time.Duration(r.IntN(330))*time.Minute)
	o.sum = demoPick(r, summaries)
	return o
}

// writeGlobalOutages writes 4-6 outages of the whole service, 35-175 days
// ago: none in the last 30 days.
func (d *Demo) writeGlobalOutages(out *demoRows) {
	r := d.rand(demoStreamOutages, -1)
	n := 4 + r.IntN(3)
	width := 140 / n
	for k := range n {
		o := d.outage(r, 175-k*width-r.IntN(width), demoGlobalOutages[:])
		out.row("OUT-G-"+strconv.Itoa(k+1), demoStamp(o.start), demoStamp(o.end), "", o.severity, o.sum)
	}
}

func (d *Demo) accountOutages(p *demoPlan) []demoOutage {
	r := d.rand(demoStreamOutages, p.i)
	var os []demoOutage
	switch p.slot.risk {
	case "":
	case DemoRiskOutages:
		for _, a := range []int{20 + r.IntN(7), 11 + r.IntN(6), 2 + r.IntN(6)} {
			os = append(os, d.outage(r, a, demoAccountOutages[:]))
		}
	default: // an old one, long forgotten
		if r.Float64() < 0.25 {
			os = append(os, d.outage(r, 45+r.IntN(130), demoAccountOutages[:]))
		}
	}
	return os
}

func (d *Demo) writeAccountOutages(out *demoRows, p *demoPlan) {
	for k, o := range d.accountOutages(p) {
		out.row("OUT-"+p.id[4:]+"-"+strconv.Itoa(k+1), demoStamp(o.start), demoStamp(o.end), p.id, o.severity, o.sum)
	}
}

// demoTouch is one touchpoint.
type demoTouch struct {
	at            time.Time
	kind          TouchKind
	summary, user string
}

// touches records the CSM's cadence over the last year: high touch every
// 10-18 days with an EBR every 6th touch, low touch every 24-40 days with
// an EBR every 8th, tech touch 0-2 automated emails or notes a year. A new
// customer also has a kickoff and a handoff note by onboarding.
func (d *Demo) touches(p *demoPlan) []demoTouch {
	r := d.rand(demoStreamTouches, p.i)
	limit := min(365, p.sinceAgo)
	if p.onboarding {
		limit = p.sinceAgo - 25
	}
	var ts []demoTouch
	touch := func(a int, kind TouchKind, summary, user string) {
		ts = append(ts, demoTouch{at: d.at(r, d.weekday(a), 13, 8).Truncate(15 * time.Minute), kind: kind, summary: summary, user: user})
	}
	if p.slot.tier == TierTech {
		n := r.IntN(3)
		for k := range n {
			seg := limit / n
			kind := TouchEmail
			if r.Float64() < 0.2 {
				kind = TouchNote
			}
			touch(1+k*seg+r.IntN(seg-3), kind, demoPick(r, demoTechSummaries[:]), p.csm)
		}
	} else {
		gap, span, last, every := 10, 9, 1+r.IntN(12), 6
		if p.slot.tier == TierLow {
			gap, span, last, every = 24, 17, 1+r.IntN(30), 8
		}
		if p.slot.risk == DemoRiskNoTouch {
			last = 65 + r.IntN(21)
			if p.slot.tier == TierLow {
				last = 185 + r.IntN(46)
			}
		}
		var days []int // most recent first
		for a := last; ; a += gap + r.IntN(span) {
			if a = d.weekday(a); a > limit {
				break
			}
			days = append(days, a)
		}
		phase := 0
		if len(days) > 0 {
			phase = r.IntN(min(every, len(days)))
		}
		for j, a := range days {
			u := r.Float64()
			switch {
			case j%every == phase:
				touch(a, TouchEBR, demoPick(r, demoEBRSummaries[:]), p.csm)
			case p.slot.tier == TierHigh && u < 0.07:
				touch(a, TouchOnsite, demoPick(r, demoOnsiteSummaries[:]), p.csm)
			case u < 0.45:
				touch(a, TouchMeeting, demoPick(r, demoMeetingSummaries[:]), p.csm)
			case u < 0.75:
				touch(a, TouchCall, demoPick(r, demoCallSummaries[:]), p.csm)
			case u < 0.93:
				touch(a, TouchEmail, demoPick(r, demoEmailSummaries[:]), p.csm)
			default:
				touch(a, TouchNote, demoPick(r, demoNoteSummaries[:]), p.csm)
			}
		}
	}
	if p.onboarding {
		onb := d.userID(d.staff.firstOnb() + p.i%d.staff.onboarding)
		kickoff := TouchMeeting
		if p.slot.tier == TierTech {
			kickoff = TouchEmail
		}
		touch(p.sinceAgo-3, kickoff, "Kickoff: goals, success criteria and go-live plan", onb)
		touch(p.sinceAgo-21, TouchNote, "Handoff from onboarding to the CSM: live, champion trained", onb)
	}
	slices.SortFunc(ts, func(a, b demoTouch) int { return a.at.Compare(b.at) })
	return ts
}

// weekday moves a day a days before today back to the Friday before when
// it falls on a weekend.
func (d *Demo) weekday(a int) int {
	switch d.ago(a).Weekday() {
	case time.Saturday:
		return a + 1
	case time.Sunday:
		return a + 2
	}
	return a
}

func (d *Demo) writeTouches(out *demoRows, p *demoPlan) {
	for _, t := range d.touches(p) {
		out.row(p.id, demoStamp(t.at), string(t.kind), t.summary, t.user)
	}
}
