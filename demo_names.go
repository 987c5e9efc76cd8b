package csbot

import (
	"strconv"
	"strings"
)

// The word lists of the demo portfolio. They are constant data: the demo
// never changes them. Every word is plain ASCII so that it can also be used
// in an email address or a domain name.

// demoWellKnown are the fictional sample companies that open the demo book,
// so that people can try `/health acme` straight away.
var demoWellKnown = [...]struct{ name, domain string }{
	{"ACME Corp.", "acme.example"},
	{"Globex Inc.", "globex.example"},
	{"Initech LLC", "initech.example"},
	{"Umbrella Corp.", "umbrella.example"},
	{"Hooli Inc.", "hooli.example"},
	{"Vandelay Industries", "vandelay.example"},
	{"Soylent Corp.", "soylent.example"},
	{"Wonka Industries", "wonka.example"},
}

// demoPrefixes and demoRoots join into compound company names
// ("Brightbrook", "Cobaltridge"). The two lists share no word.
var demoPrefixes = [...]string{
	"Amber", "Aspen", "Azure", "Beacon", "Birch", "Blue", "Bright", "Cedar",
	"Clear", "Cobalt", "Copper", "Coral", "Crimson", "Crystal", "Deep", "Ember",
	"Emerald", "Fair", "Falcon", "Fern", "Fox", "Frost", "Golden", "Granite",
	"Green", "Grey", "Harbor", "Hazel", "High", "Indigo", "Iron", "Ivory",
	"Juniper", "Lake", "Linden", "Lumen", "Maple", "Marble", "Meadow", "Moon",
	"North", "Oak", "Ocean", "Onyx", "Orchard", "Pine", "Prairie", "Quartz",
	"Rain", "Raven", "Red", "River", "Rock", "Ruby", "Sage", "Salt",
	"Sand", "Silver", "Sky", "Slate", "Snow", "South", "Spruce", "Star",
	"Steel", "Stone", "Storm", "Summit", "Sun", "Swift", "Thunder", "Timber",
	"True", "Violet", "West", "Willow", "Wind", "Wolf",
}

var demoRoots = [...]string{
	"bay", "beam", "bell", "bird", "bridge", "brook", "crest", "croft",
	"dale", "field", "fire", "ford", "forge", "gate", "glen", "grove",
	"haven", "hill", "hollow", "hurst", "keep", "land", "leaf", "light",
	"line", "marsh", "mark", "mere", "mont", "moor", "path", "peak",
	"point", "port", "reach", "ridge", "rise", "shore", "side", "spark",
	"spring", "stead", "thorn", "tide", "top", "vale", "view", "wave",
	"well", "wick", "wood", "works", "worth", "yard",
}

// demoIndustries follow a compound or a surname: "Brightbrook Logistics".
var demoIndustries = [...]string{
	"Analytics", "Logistics", "Health", "Foods", "Labs", "Systems", "Software",
	"Partners", "Manufacturing", "Energy", "Media", "Capital", "Robotics",
	"Retail", "Insurance", "Pharma", "Textiles", "Holdings", "Biotech",
	"Networks", "Solutions", "Consulting", "Freight", "Marine", "Aerospace",
	"Dynamics", "Industries", "Technologies", "Group", "Studios", "Motors",
	"Semiconductors", "Telecom", "Financial", "Realty", "Hospitality",
	"Education", "Security", "Agritech", "Materials", "Chemicals",
	"Outfitters", "Design", "Data", "Cloud",
}

// demoFirmNames are surnames for names like "Keller & Moss" and
// "Hartmann Logistics".
var demoFirmNames = [...]string{
	"Ashford", "Bancroft", "Bellamy", "Calloway", "Carrington", "Castellan",
	"Delacroix", "Dunmore", "Eastwick", "Ellery", "Fairbairn", "Fenwick",
	"Galloway", "Grantham", "Halvorsen", "Hartmann", "Holloway", "Ingram",
	"Jarvis", "Kearney", "Keller", "Kingsley", "Lindqvist", "Lockhart",
	"Marchetti", "Merriweather", "Montague", "Moss", "Nakamura", "Norcross",
	"Okonkwo", "Oyelaran", "Pemberton", "Prescott", "Quimby", "Radcliffe",
	"Ramires", "Rasmussen", "Sandoval", "Sinclair", "Stanhope", "Sutherland",
	"Takahashi", "Thornton", "Underhill", "Valdivia", "Vance", "Wainwright",
	"Whitfield", "Winslow", "Yardley", "Zielinski",
}

// demoDistinguishers tell apart names that would otherwise repeat, in very
// large books only. None is an industry word.
var demoDistinguishers = [...]string{
	"Global", "International", "Americas", "Europe", "Pacific", "Nordic",
	"Atlantic", "Alpine", "Central", "Coastal", "Digital", "Direct",
	"Worldwide", "Iberia", "Benelux", "Asia",
}

// demoLegalSuffixes are legal forms with their weights.
var demoLegalSuffixes = [...]struct {
	suffix string
	weight int
}{
	{"Inc.", 30}, {"LLC", 14}, {"Corp.", 12}, {"Ltd", 12}, {"GmbH", 9},
	{"AG", 3}, {"S.A.", 4}, {"B.V.", 4}, {"Pty Ltd", 3}, {"plc", 3},
	{"Co.", 3}, {"SAS", 3}, {"AB", 2}, {"Oy", 1}, {"K.K.", 1},
}

// demoFirstNames and demoLastNames make people's names: the vendor's team
// and the customers' contacts.
var demoFirstNames = [...]string{
	"James", "Mary", "Wei", "Priya", "Carlos", "Sofia", "Liam", "Emma",
	"Noah", "Olivia", "Aarav", "Yuki", "Hiroshi", "Fatima", "Omar", "Chloe",
	"Lucas", "Mia", "Mateo", "Isabella", "Ethan", "Ava", "Arjun", "Ananya",
	"Kenji", "Sakura", "Jin", "Lena", "Jonas", "Lukas", "Hannah", "Felix",
	"Clara", "Pierre", "Camille", "Louis", "Chiara", "Marco", "Giulia", "Diego",
	"Valentina", "Ana", "Joao", "Ines", "Kwame", "Amara", "Chinedu", "Zanele",
	"Thabo", "Nia", "Sipho", "Ayesha", "Bilal", "Zara", "Ibrahim", "Leila",
	"Hassan", "Noor", "Daniel", "Sarah", "David", "Rachel", "Michael", "Laura",
	"Thomas", "Julia", "Erik", "Astrid", "Lars", "Ingrid", "Mikael", "Aino",
	"Olga", "Ivan", "Katarzyna", "Piotr", "Tomas", "Eva", "Andrei", "Elena",
	"Nikolai", "Mei", "Hao", "Lin", "Xin", "Rohan", "Kavya", "Vikram",
	"Deepa", "Sanjay", "Linh", "Minh", "Siti", "Rizal", "Grace", "Samuel",
	"Ruth", "Oscar", "Freya", "Mohammed",
}

var demoLastNames = [...]string{
	"Smith", "Johnson", "Garcia", "Martinez", "Chen", "Wang", "Li", "Zhang",
	"Kim", "Park", "Lee", "Nguyen", "Tran", "Patel", "Shah", "Singh",
	"Kumar", "Gupta", "Sato", "Suzuki", "Tanaka", "Watanabe", "Mueller", "Schmidt",
	"Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Dubois", "Laurent",
	"Martin", "Bernard", "Moreau", "Rossi", "Russo", "Ferrari", "Bianchi", "Romano",
	"Silva", "Santos", "Oliveira", "Costa", "Pereira", "Fernandez", "Lopez", "Gonzalez",
	"Rodriguez", "Perez", "Okafor", "Adeyemi", "Mensah", "Nkosi", "Dlamini", "Mwangi",
	"Otieno", "Haddad", "Khalil", "Nasser", "Rahman", "Hussain", "Khan", "Ali",
	"Cohen", "Levi", "Novak", "Kowalski", "Nowak", "Horvat", "Petrov", "Ivanov",
	"Popescu", "Jensen", "Hansen", "Nielsen", "Larsen", "Andersson", "Johansson", "Karlsson",
	"Virtanen", "Korhonen", "Murphy", "Kelly", "Walsh", "Taylor", "Brown", "Wilson",
	"Evans", "Roberts", "Walker", "Wright", "Clarke", "Hughes", "Edwards", "Green",
	"Hall", "Young", "King", "Scott",
}

// demoTimezones are where the vendor's team works.
var demoTimezones = [...]string{
	"America/New_York", "America/New_York", "America/Chicago", "America/Denver",
	"America/Los_Angeles", "America/Los_Angeles", "America/Sao_Paulo",
	"Europe/London", "Europe/London", "Europe/Berlin", "Europe/Paris",
	"Europe/Madrid", "Europe/Stockholm", "Asia/Singapore", "Asia/Tokyo",
	"Asia/Kolkata", "Australia/Sydney",
}

// The four shapes of generated company names.
const (
	demoNameCompound         = iota // "Brightbrook"
	demoNameCompoundIndustry        // "Brightbrook Logistics"
	demoNameFirmIndustry            // "Hartmann Logistics"
	demoNameFirmPair                // "Keller & Moss"
	demoNameShapes
)

// demoNamePattern spreads the shapes over every 20 consecutive accounts.
var demoNamePattern = [20]uint8{
	demoNameCompoundIndustry, demoNameCompoundIndustry, demoNameCompound, demoNameCompoundIndustry,
	demoNameFirmIndustry, demoNameCompoundIndustry, demoNameFirmPair, demoNameCompoundIndustry,
	demoNameCompoundIndustry, demoNameFirmIndustry, demoNameCompoundIndustry, demoNameCompound,
	demoNameCompoundIndustry, demoNameCompoundIndustry, demoNameFirmIndustry, demoNameCompoundIndustry,
	demoNameFirmPair, demoNameCompoundIndustry, demoNameCompoundIndustry, demoNameCompoundIndustry,
}

// demoNameSpace is how many distinct names a shape has.
func demoNameSpace(shape int) int {
	compounds := len(demoPrefixes) * len(demoRoots)
	switch shape {
	case demoNameCompound:
		return compounds
	case demoNameCompoundIndustry:
		return compounds * len(demoIndustries)
	case demoNameFirmIndustry:
		return len(demoFirmNames) * len(demoIndustries)
	default:
		return len(demoFirmNames) * (len(demoFirmNames) - 1)
	}
}

// demoNamer maps account indexes to company names, one to one: within a
// shape, the k-th account of that shape gets combination (k*mult+off) mod
// space, and only when k runs past the space does a distinguishing word
// (then a number) make the name unique.
type demoNamer struct {
	mult, off [demoNameShapes]int
}

func newDemoNamer(seed uint64) demoNamer {
	var n demoNamer
	for s := range demoNameShapes {
		space := demoNameSpace(s)
		m := space*618/1000 + 1
		for demoGCD(m, space) != 1 {
			m++
		}
		n.mult[s] = m
		n.off[s] = int(demoMix(seed^uint64(s+1)*0x51ED27) % uint64(space))
	}
	return n
}

// base returns the name of account i without its legal suffix, and its
// domain. Bases are unique across accounts.
func (n demoNamer) base(i int) (name, domain string) {
	if i < len(demoWellKnown) {
		w := demoWellKnown[i]
		return w.name, w.domain
	}
	shape := int(demoNamePattern[i%len(demoNamePattern)])
	perBlock, before := 0, 0
	for p, s := range demoNamePattern {
		if int(s) == shape {
			perBlock++
			if p < i%len(demoNamePattern) {
				before++
			}
		}
	}
	rank := i/len(demoNamePattern)*perBlock + before
	space := demoNameSpace(shape)
	c := (rank%space*n.mult[shape] + n.off[shape]) % space
	wrap := rank / space

	compound := func(c int) string {
		return demoPrefixes[c%len(demoPrefixes)] + demoRoots[c/len(demoPrefixes)%len(demoRoots)]
	}
	switch shape {
	case demoNameCompound:
		name = compound(c)
	case demoNameCompoundIndustry:
		compounds := len(demoPrefixes) * len(demoRoots)
		name = compound(c%compounds) + " " + demoIndustries[c/compounds]
	case demoNameFirmIndustry:
		name = demoFirmNames[c%len(demoFirmNames)] + " " + demoIndustries[c/len(demoFirmNames)]
	default:
		a := c % len(demoFirmNames)
		b := (a + 1 + c/len(demoFirmNames)) % len(demoFirmNames)
		name = demoFirmNames[a] + " & " + demoFirmNames[b]
	}
	if wrap > 0 {
		d := len(demoDistinguishers)
		name += " " + demoDistinguishers[(wrap-1)%d]
		if wrap > d {
			name += " " + strconv.Itoa((wrap-1)/d+1)
		}
	}
	return name, demoDomain(name)
}

// demoDomain turns a company name into a host under the reserved .example
// top-level domain: "Keller & Moss" is keller-and-moss.example.
func demoDomain(name string) string {
	var b strings.Builder
	for _, w := range strings.Fields(name) {
		if w == "&" {
			w = "and"
		}
		if b.Len() > 0 {
			b.WriteByte('-')
		}
		for _, r := range strings.ToLower(w) {
			if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
				b.WriteRune(r)
			}
		}
	}
	b.WriteString(".example")
	return b.String()
}

// demoGCD returns the greatest common divisor of a and b.
func demoGCD(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// The customer-side job titles of each contact role.
var (
	demoChampionTitles = [...]string{
		"Director of Operations", "Head of Customer Operations", "Senior Operations Manager",
		"Director of IT", "Head of Analytics", "Program Manager", "Director of Supply Chain",
		"Head of Digital", "Engineering Manager", "Director of Finance Systems",
	}
	demoExecTitles = [...]string{
		"Chief Operating Officer", "VP of Operations", "Chief Information Officer",
		"Chief Technology Officer", "VP of Engineering", "Chief Financial Officer",
		"SVP of Customer Experience", "Chief Digital Officer",
	}
	demoRenewalTitles = [...]string{
		"Procurement Manager", "Strategic Sourcing Lead", "Vendor Manager",
		"Head of Procurement", "IT Asset Manager",
	}
	demoBillingTitles = [...]string{
		"Accounts Payable Specialist", "Finance Manager", "Controller",
		"Accounts Payable Lead", "Billing Coordinator",
	}
	demoUserTitles = [...]string{
		"Analyst", "Operations Specialist", "Team Lead", "Data Analyst",
		"Project Coordinator", "Support Lead", "Planner", "Account Manager",
	}
)

// Ticket subjects: everyday questions, and the burst of an incident-like
// ticket spike.
var (
	demoTicketSubjects = [...]string{
		"How do I add a new user?", "Export to CSV missing columns", "SSO login question",
		"Invoice address change", "Report shows wrong time zone", "Request: bulk edit of records",
		"API rate limit question", "Dashboard loads slowly", "Password reset email not received",
		"How to set up a webhook", "Permissions for read-only users", "Mobile app sync delay",
		"Question about data retention", "Integration with our CRM", "Scheduled report did not arrive",
		"Feature request: dark mode", "Cannot upload attachment", "Audit log access",
	}
	demoSpikeSubjects = [...]string{
		"Sync failing since the last update", "Users locked out after SSO change",
		"Data missing from yesterday's import", "API returns 500 errors", "Reports time out",
		"Duplicate records after sync", "Notifications not delivered", "Cannot save changes",
		"Integration keeps disconnecting", "Dashboard shows stale data",
	}
)

// NPS comments by sentiment.
var (
	demoPromoterComments = [...]string{
		"Great product, the team relies on it every day.", "Support is fast and helpful.",
		"Saved us hours each week.", "Our CSM is excellent.", "Easy to roll out to new teams.",
		"Reporting is a game changer for us.", "Solid and reliable.",
	}
	demoPassiveComments = [...]string{
		"Good overall, reporting could be more flexible.", "Works well, pricing is a bit high.",
		"Fine for our needs.", "Would like more integrations.", "Onboarding took longer than expected.",
	}
	demoDetractorComments = [...]string{
		"Too many outages and bugs lately.", "We are not getting the value we were promised.",
		"Support takes days to answer.", "The team has stopped using it.",
		"Considering alternatives at renewal.", "Too expensive for what we use.",
	}
)

// Touchpoint summaries by kind.
var (
	demoMeetingSummaries = [...]string{
		"Monthly status meeting: adoption dashboard and open tickets",
		"Status meeting: reviewed success plan milestones",
		"Working session on the reporting rollout",
		"Status meeting: new team onboarding plan",
		"Roadmap preview with the champion",
	}
	demoCallSummaries = [...]string{
		"Check-in call with the champion", "Call about the upcoming renewal",
		"Health check call: usage and support", "Call to follow up on an escalated ticket",
		"Quick call about a new use case",
	}
	demoEmailSummaries = [...]string{
		"Sent the monthly usage report", "Shared best practices for admins",
		"Followed up on training attendance", "Sent release notes and webinar invite",
		"Shared the success plan draft",
	}
	demoEBRSummaries = [...]string{
		"EBR: outcomes vs goals, adoption trend, next-half priorities",
		"EBR with the exec sponsor: ROI review and expansion options",
		"EBR: support experience, roadmap and renewal timeline",
	}
	demoOnsiteSummaries = [...]string{
		"Onsite workshop with the operations team", "Onsite visit: training for new users",
		"Onsite planning day with the exec sponsor",
	}
	demoNoteSummaries = [...]string{
		"Champion mentioned budget review next quarter", "Customer asked about SSO enforcement",
		"Logged feedback on the reporting module", "Noted interest in the API add-on",
	}
	demoTechSummaries = [...]string{
		"Welcome email with onboarding guide", "Invited to the quarterly product webinar",
		"Sent the annual usage summary", "Automated check-in: tips for admins",
	}
)

// Renewal outcome reasons by status.
var (
	demoRenewedReasons = [...]string{
		"Renewed on standard terms", "Renewed after the EBR showed clear ROI",
		"Renewed with a price lock", "Renewed; procurement asked for net 60",
	}
	demoExpandedReasons = [...]string{
		"Expanded seats for a new team", "Added the analytics module",
		"Rolled out to a second business unit", "Upgraded to the enterprise plan",
	}
	demoDownsellReasons = [...]string{
		"Reduced seats after a hiring freeze", "Dropped unused seats after a license audit",
		"Moved to a lower plan: budget cuts", "Consolidated two teams onto fewer seats",
	}
	demoAddonChurnReasons = [...]string{
		"Dropped the analytics add-on: low adoption", "Cancelled the API add-on: built in-house",
		"Dropped premium support: budget cuts", "Cancelled the sandbox environment: project ended",
	}
)

// Outage summaries.
var (
	demoGlobalOutages = [...]string{
		"Elevated API error rates in us-east", "Login failures for SSO users",
		"Delayed data processing pipeline", "Degraded dashboard performance",
		"Email notifications delayed", "Partial outage of the reporting service",
	}
	demoAccountOutages = [...]string{
		"Tenant database failover", "Integration connector outage for this tenant",
		"Data sync stalled for this workspace", "Storage quota misconfiguration blocked uploads",
		"Custom domain certificate expired",
	}
)
