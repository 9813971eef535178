package sandbox

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// The generator invents a plausible Canadian household for each LoginId.
// Everything is a pure function of the LoginId and the calendar day: the
// transactions of a given day (descriptions, amounts, ids) never change, so a
// refresh only adds days, and the same LoginId always gets the same accounts.
// Amounts are integer cents until they are written out. Balances are walked
// forward over a full year from an opening balance, so every running Balance
// is consistent with its neighbours and the newest one equals Current.

// historyDays is how much history is generated; DaysOfTransactions filters it.
const historyDays = 365

type acctKind int

const (
	kChequing acctKind = iota
	kJoint
	kSavings
	kEmergency
	kUSD
	kMastercard
	kVisa
	kLOC
)

type kindInfo struct {
	name, title, category, typ, currency string
	credit                               bool // balance is an amount owed: a Debit raises it
	eft, eTransfer                       float64
}

// Category/Type pairs are the ones of docs §5.4.
var kinds = [...]kindInfo{
	kChequing:   {"chequing", "Chequing Account", "Operations", "Chequing", "CAD", false, 1, 0.98},
	kJoint:      {"joint", "Joint Chequing Account", "Operations", "Chequing", "CAD", false, 1, 0.95},
	kSavings:    {"savings", "High Interest Savings", "Operations", "Savings", "CAD", false, 0.92, 0.4},
	kEmergency:  {"emergency", "Emergency Fund Savings", "Operations", "Savings", "CAD", false, 0.9, 0.3},
	kUSD:        {"usd", "US Dollar Savings", "Operations", "Savings", "USD", false, 0.45, 0},
	kMastercard: {"mastercard", "Mastercard World Elite", "Credits", "CreditCard", "CAD", true, 0, 0},
	kVisa:       {"visa", "Visa Infinite", "Credits", "CreditCard", "CAD", true, 0, 0},
	kLOC:        {"loc", "Personal Line of Credit", "Credits", "LineOfCredit", "CAD", true, 0.1, 0},
}

var (
	standardKinds = []acctKind{kChequing, kSavings, kUSD, kMastercard, kLOC}
	denseKinds    = []acctKind{kChequing, kJoint, kSavings, kEmergency, kUSD, kMastercard, kVisa, kLOC}
)

// dataset is everything the data endpoints return for one login.
type dataset struct {
	holder   holder
	accounts []account
}

type holder struct {
	name, civic, city, province, postal, email, phone string
}

type account struct {
	kind          acctKind
	id            string
	number        string // 7 digits
	transit       string // 5 digits
	lastFour      string // "" = null
	overdraft     int64
	limit         int64 // 0 = null
	current       int64
	available     int64
	availableNull bool
	txns          []txn // newest first
}

type txn struct {
	date          time.Time // UTC midnight
	desc          string
	debit, credit int64 // exactly one is non-zero
	balance       int64 // after this transaction
	id            string
}

type rawTxn struct {
	desc          string
	debit, credit int64
}

type city struct {
	name, province, fsa, area, hydro, phone string
	streets                                 []string
}

var cities = []city{
	{"Montréal", "QC", "H2J", "514", "HYDRO-QUEBEC", "VIDEOTRON", []string{"rue Saint-Denis", "avenue du Mont-Royal", "boulevard Saint-Laurent", "rue Sherbrooke Est"}},
	{"Québec", "QC", "G1R", "418", "HYDRO-QUEBEC", "VIDEOTRON", []string{"rue Saint-Jean", "boulevard René-Lévesque", "avenue Cartier"}},
	{"Toronto", "ON", "M5J", "416", "TORONTO HYDRO", "ROGERS", []string{"York Street", "Queen Street West", "Bathurst Street", "Danforth Avenue"}},
	{"Ottawa", "ON", "K2P", "613", "HYDRO OTTAWA", "BELL CANADA", []string{"Elgin Street", "Bank Street", "Somerset Street West"}},
	{"Vancouver", "BC", "V6E", "604", "BC HYDRO", "TELUS", []string{"West Georgia Street", "Commercial Drive", "Main Street"}},
	{"Calgary", "AB", "T2P", "403", "ENMAX ENERGY", "TELUS", []string{"7 Avenue SW", "17 Avenue SW", "Centre Street N"}},
	{"Halifax", "NS", "B3J", "902", "NOVA SCOTIA POWER", "BELL ALIANT", []string{"Barrington Street", "Spring Garden Road", "Quinpool Road"}},
	{"Winnipeg", "MB", "R3B", "204", "MANITOBA HYDRO", "BELL MTS", []string{"Portage Avenue", "Corydon Avenue", "Main Street"}},
}

var (
	firstNames = []string{"Émilie", "Olivier", "Sophie", "Liam", "Chloé", "Noah", "Maya", "Gabriel", "Léa", "Ethan",
		"Amélie", "Lucas", "Sarah", "Mathis", "Priya", "Arjun", "Mei", "Daniel", "Fatima", "Jacob"}
	lastNames = []string{"Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin", "Smith",
		"Brown", "Wilson", "MacDonald", "Campbell", "Singh", "Patel", "Nguyen", "Chen", "Martin", "Leblanc"}
	employers = []string{"CGI INC", "SHOPIFY INC", "DESJARDINS GROUP", "ROGERS COMMUNICATIONS", "CITY OF TORONTO",
		"BOMBARDIER INC", "TELUS CORP", "LOBLAW COMPANIES", "MCGILL UNIVERSITY", "GOVERNMENT OF CANADA", "CAE INC"}
	friends = []string{"JEAN-PHILIPPE B", "MARIE LAVOIE", "ALEX TREMBLAY", "SAMIR H", "CATHERINE ROY", "KEVIN NGUYEN",
		"JULIE MORIN", "OMAR K", "NATHALIE GAGNON", "RYAN SMITH"}
)

// spend is a family of everyday purchases: how often it happens per day
// (standard and dense profile), which merchants, and what it costs a month.
// Amounts derive from the monthly budget, so the dense profile (test_slow)
// has many more, smaller transactions but the same budget.
type spend struct {
	rate, denseRate float64
	merchants       []string // may hold one verb: %s a friend's name, %0Nd a store number
	monthly         int64    // cents
	credit          bool
}

var chequingSpends = []spend{
	{0.25, 1.0, []string{"LOBLAWS #%04d", "METRO #%03d", "SOBEYS #%03d", "IGA #%04d", "MAXI #%03d", "NO FRILLS #%04d", "COSTCO WHOLESALE #%03d", "PROVIGO #%04d"}, 65000, false},
	{0.25, 1.2, []string{"TIM HORTONS #%04d", "STARBUCKS #%05d", "SECOND CUP #%03d"}, 6000, false},
	{0.08, 0.3, []string{"PETRO-CANADA #%05d", "SHELL C%05d", "ESSO #%04d", "ULTRAMAR #%04d"}, 16000, false},
	{0.05, 0.2, []string{"SHOPPERS DRUG MART #%04d", "JEAN COUTU #%03d", "PHARMAPRIX #%04d"}, 6000, false},
	{0.05, 0.15, []string{"INTERAC E-TRANSFER TO %s"}, 15000, false},
	{0.04, 0.10, []string{"INTERAC E-TRANSFER FROM %s"}, 15000, true},
	{0.03, 0.05, []string{"ATM WITHDRAWAL - BRANCH %05d"}, 6000, false},
	{0, 0.6, []string{"STM - OPUS RECHARGE", "PRESTO FARE"}, 12000, false},
	{0, 0.5, []string{"UBER EATS", "DOORDASH", "A&W #%04d", "SUBWAY %05d"}, 30000, false},
	{0, 0.2, []string{"DOLLARAMA #%04d"}, 5000, false},
}

var jointSpends = []spend{
	{0, 0.7, []string{"COSTCO WHOLESALE #%03d", "SUPER C #%03d", "FARM BOY #%03d", "WALMART SUPERCENTER #%04d"}, 60000, false},
	{0, 0.3, []string{"CANADIAN TIRE #%04d", "RONA #%05d", "HOME HARDWARE #%04d"}, 15000, false},
	{0, 0.2, []string{"INTERAC E-TRANSFER FROM %s"}, 20000, true},
}

var cardSpends = []spend{
	{0.20, 0.8, []string{"AMAZON.CA", "AMAZON MKTPL*CA", "BEST BUY #%03d", "WINNERS #%03d", "CANADIAN TIRE #%04d", "IKEA"}, 45000, false},
	{0.15, 0.6, []string{"RESTAURANT LE VIEUX %03d", "THE KEG #%04d", "ST-HUBERT #%03d", "SUSHI SHOP #%03d", "UBER* EATS"}, 25000, false},
	{0.06, 0.3, []string{"SAQ %05d", "LCBO #%04d", "BEER STORE #%04d"}, 9000, false},
	{0.06, 0.2, []string{"UBER* TRIP", "CINEPLEX #%04d", "CINEPLEX ODEON #%04d"}, 7000, false},
	{0.01, 0.02, []string{"AIR CANADA", "VIA RAIL CANADA", "WESTJET"}, 8000, false},
}

// newDataset builds the data of a login as of anchor (the end of its scrape).
func newDataset(loginID string, anchor time.Time, def *scenarioDef) dataset {
	g := newGenerator(loginID, def.dense)
	ds := dataset{holder: g.holder()}
	list := standardKinds
	if def.dense {
		list = denseKinds
	}
	end := dayNum(anchor)
	start := end - historyDays + 1
	for _, k := range list {
		ds.accounts = append(ds.accounts, g.account(k, start, end, def.noTxns))
	}
	return ds
}

type generator struct {
	loginID string
	seed    uint64
	dense   bool
	p       persona
	cards   map[cardDay][]rawTxn // memo: card purchases are summed by the payments
}

type cardDay struct {
	k   acctKind
	day int64
}

// persona is the household's fixed traits.
type persona struct {
	first, last, partnerEmployer, employer, rentPayee string
	city                                              city
	civicNo                                           int
	street, postal, phone                             string
	pay, rent, savingsXfer, emergencyXfer, locPayment int64
	phoneBill, gst, daycare                           int64
	payParity                                         int64
}

// Purposes separate the random streams, so adding a draw to one family of
// transactions never changes another.
const (
	purposePersona uint64 = iota + 1
	purposeAccount
	purposeDay
	purposeCard
	purposeHydro
	purposeInterest
	purposeSavingsOut
	purposeLOCAdvance
	purposeHolds
)

func newGenerator(loginID string, dense bool) *generator {
	sum := sha256.Sum256([]byte(strings.ToLower(loginID)))
	g := &generator{loginID: strings.ToLower(loginID), seed: binary.BigEndian.Uint64(sum[:8]), dense: dense,
		cards: map[cardDay][]rawTxn{}}
	r := g.rng(purposePersona, 0)
	p := &g.p
	p.first, p.last = pick(r, firstNames), pick(r, lastNames)
	p.city = cities[r.IntN(len(cities))]
	p.civicNo = 10 + r.IntN(4900)
	p.street = pick(r, p.city.streets)
	p.postal = fmt.Sprintf("%s %d%c%d", p.city.fsa, r.IntN(10), 'A'+rune(r.IntN(26)), r.IntN(10))
	p.phone = fmt.Sprintf("+1 %s-555-01%02d", p.city.area, r.IntN(100))
	p.employer, p.partnerEmployer = pick(r, employers), pick(r, employers)
	p.pay = between(r, 200000, 320000)
	p.rent = roundTo(p.pay*int64(60+r.IntN(15))/100, 500)
	if dense { // two incomes' worth of spending: a bigger pay, the same rent
		p.pay = p.pay * 3 / 2
	}
	switch r.IntN(3) {
	case 0:
		p.rentPayee = "INTERAC E-TRANSFER TO " + pick(r, friends)
	case 1:
		p.rentPayee = "RENT - CAPREIT PAD"
	default:
		p.rentPayee = "RENT - GESTION IMMOBILIERE " + strings.ToUpper(foldAnswer(pick(r, lastNames)))
	}
	p.savingsXfer = roundTo(between(r, 20000, 80000), 2500)
	p.emergencyXfer = roundTo(between(r, 15000, 30000), 5000)
	p.locPayment = roundTo(between(r, 15000, 40000), 2500)
	p.phoneBill = between(r, 6500, 11000)
	p.gst = between(r, 8000, 13000)
	p.daycare = between(r, 60000, 100000)
	p.payParity = int64(r.IntN(2))
	return g
}

func (g *generator) rng(purpose uint64, n int64) *rand.Rand {
	return rand.New(rand.NewPCG(g.seed^(purpose*0x9E3779B97F4A7C15), uint64(n)))
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func between(r *rand.Rand, lo, hi int64) int64 { return lo + r.Int64N(hi-lo+1) }

func roundTo(v, step int64) int64 { return (v + step/2) / step * step }

func dayNum(t time.Time) int64 {
	return t.UTC().Unix() / 86400
}

func dayDate(n int64) time.Time { return time.Unix(n*86400, 0).UTC() }

func (g *generator) holder() holder {
	p := g.p
	email := strings.ToLower(accentFolder.Replace(p.first + "." + p.last))
	email = strings.ReplaceAll(email, " ", "") + "@example.com"
	return holder{
		name:     p.first + " " + p.last,
		civic:    fmt.Sprintf("%d %s", p.civicNo, p.street),
		city:     p.city.name,
		province: p.city.province,
		postal:   p.postal,
		email:    email,
		phone:    p.phone,
	}
}

// detGUID derives a stable GUID-shaped id from its parts.
func detGUID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
	b := sum[:16]
	b[6] = (b[6] & 0x0f) | 0x40 // version 4 layout, so it looks like Flinks' ids
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (g *generator) account(k acctKind, start, end int64, noTxns bool) account {
	info := kinds[k]
	r := g.rng(purposeAccount, int64(k))
	a := account{
		kind:    k,
		id:      detGUID(g.loginID, "account", info.name),
		number:  fmt.Sprintf("%07d", 1000000+r.IntN(9000000)),
		transit: fmt.Sprintf("%05d", 10000+g.rng(purposeAccount, 99).IntN(90000)), // one branch for the household
	}
	var balance int64
	switch k {
	case kChequing:
		balance, a.overdraft = between(r, 300000, 800000), 50000
		if g.dense {
			balance *= 2
		}
	case kJoint:
		balance, a.overdraft = between(r, 300000, 800000), 100000
	case kSavings:
		balance = between(r, 500000, 2500000)
	case kEmergency:
		balance = between(r, 300000, 1000000)
	case kUSD:
		balance = between(r, 100000, 400000)
	case kMastercard, kVisa:
		a.limit = roundTo(between(r, 500000, 2000000), 50000)
		a.lastFour = fmt.Sprintf("%04d", r.IntN(10000))
		if noTxns {
			balance = between(r, 0, 150000)
		} else {
			balance = g.cardOpening(k, start)
		}
	case kLOC:
		a.limit = 2500000
		balance = between(r, 400000, 1200000)
	}
	if !noTxns {
		for day := start; day <= end; day++ {
			for seq, raw := range g.day(k, day) {
				if info.credit {
					balance += raw.debit - raw.credit
				} else {
					balance += raw.credit - raw.debit
				}
				a.txns = append(a.txns, txn{
					date: dayDate(day), desc: raw.desc, debit: raw.debit, credit: raw.credit, balance: balance,
					id: detGUID(g.loginID, "txn", info.name, fmt.Sprint(day), fmt.Sprint(seq)),
				})
			}
		}
		// Newest first, as Flinks Capital returns them.
		for i, j := 0, len(a.txns)-1; i < j; i, j = i+1, j-1 {
			a.txns[i], a.txns[j] = a.txns[j], a.txns[i]
		}
	}
	a.current = balance
	switch {
	case info.credit:
		a.available = a.limit - balance
	case k == kUSD:
		a.availableNull = true // the bank does not report it for this account
	case k == kChequing || k == kJoint:
		a.available = balance - between(g.rng(purposeHolds, end), 0, 8000) // card holds not yet posted
	default:
		a.available = balance
	}
	return a
}

// day returns the transactions of account k on day n, oldest first.
func (g *generator) day(k acctKind, n int64) []rawTxn {
	date := dayDate(n)
	d := date.Day()
	p := g.p
	r := g.rng(purposeDay, n*16+int64(k))
	var out []rawTxn
	add := func(desc string, debit, credit int64) {
		if debit > 0 || credit > 0 {
			out = append(out, rawTxn{desc: desc, debit: debit, credit: credit})
		}
	}
	friday := date.Weekday() == time.Friday
	switch k {
	case kChequing:
		if friday && (n/7)%2 == p.payParity {
			add("PAYROLL DEPOSIT - "+p.employer, 0, p.pay+between(r, -2500, 2500))
		}
		if d == 1 {
			add(p.rentPayee, p.rent, 0)
		}
		if d == 2 {
			add("TRANSFER TO SAVINGS", p.savingsXfer, 0)
		}
		if d == 5 && date.Month()%3 == 1 { // January, April, July, October
			add("CANADA GST/HST CREDIT", 0, p.gst)
		}
		if d == 15 {
			add(p.city.hydro, between(g.rng(purposeHydro, n), 5500, 16000), 0)
		}
		if d == 18 {
			add(p.city.phone, p.phoneBill, 0)
		}
		add("PAYMENT - MASTERCARD", g.cardPayment(kMastercard, n), 0)
		if g.dense {
			add("PAYMENT - VISA", g.cardPayment(kVisa, n), 0)
		}
		add("TRANSFER FROM SAVINGS", 0, g.savingsWithdrawal(n))
		add("TRANSFER FROM LINE OF CREDIT", 0, g.locAdvance(n))
		if d == 25 {
			add("LINE OF CREDIT PAYMENT", p.locPayment, 0)
		}
		if d == 28 {
			add("MONTHLY ACCOUNT FEE", 495, 0)
		}
		g.everyday(r, chequingSpends, add)
	case kJoint:
		if friday && (n/7)%2 != p.payParity {
			add("PAYROLL DEPOSIT - "+p.partnerEmployer, 0, p.pay/2+between(r, -2000, 2000))
		}
		if d == 3 {
			add("TRANSFER TO EMERGENCY FUND", p.emergencyXfer, 0)
		}
		if d == 5 {
			add("DAYCARE - CPE LES PETITS AMIS", p.daycare, 0)
		}
		if d == 12 {
			add("HOME INSURANCE - INTACT", 9800, 0)
		}
		if d == 15 {
			add("RRSP CONTRIBUTION - WEALTHSIMPLE", 50000, 0)
		}
		g.everyday(r, jointSpends, add)
	case kSavings:
		if d == 2 {
			add("TRANSFER FROM CHEQUING", 0, p.savingsXfer)
		}
		add("TRANSFER TO CHEQUING", g.savingsWithdrawal(n), 0)
		if isMonthEnd(date) {
			add("INTEREST", 0, between(g.rng(purposeInterest, n), 150, 1200))
		}
	case kEmergency:
		if d == 3 {
			add("TRANSFER FROM JOINT CHEQUING", 0, p.emergencyXfer)
		}
		if isMonthEnd(date) {
			add("INTEREST", 0, between(g.rng(purposeInterest, n*3), 100, 900))
		}
	case kUSD:
		if d == 10 {
			add("INTEREST", 0, between(g.rng(purposeInterest, n*7), 10, 250))
		}
		if r.Float64() < 0.03 {
			add("FX TRANSFER FROM CAD", 0, between(r, 10000, 60000))
		}
		if r.Float64() < 0.01 {
			add("WITHDRAWAL - CROSS-BORDER PURCHASE", between(r, 5000, 20000), 0)
		}
	case kMastercard, kVisa:
		for _, t := range g.cardPurchases(k, n) {
			add(t.desc, t.debit, 0)
		}
		add("PAYMENT - THANK YOU", 0, g.cardPayment(k, n))
	case kLOC:
		if d == 20 {
			add("INTEREST CHARGE", between(g.rng(purposeInterest, n*5), 3500, 8500), 0)
		}
		add("ADVANCE - TRANSFER TO CHEQUING", g.locAdvance(n), 0)
		if d == 25 {
			add("PAYMENT RECEIVED - THANK YOU", 0, p.locPayment)
		}
	}
	return out
}

// everyday draws the day's purchases from a family table.
func (g *generator) everyday(r *rand.Rand, spends []spend, add func(string, int64, int64)) {
	for _, s := range spends {
		rate := s.rate
		if g.dense {
			rate = s.denseRate
		}
		if rate == 0 {
			continue
		}
		mean := float64(s.monthly) / (rate * 30.4)
		for count := occurrences(r, rate); count > 0; count-- {
			desc := pick(r, s.merchants)
			switch {
			case strings.Contains(desc, "%s"):
				desc = fmt.Sprintf(desc, pick(r, friends))
			case strings.Contains(desc, "%"):
				desc = fmt.Sprintf(desc, r.IntN(9000)+100)
			}
			amount := max(int64(mean*(0.35+1.3*r.Float64())), 100)
			if strings.HasPrefix(desc, "ATM") {
				amount = max(roundTo(amount, 2000), 2000)
			}
			if s.credit {
				add(desc, 0, amount)
			} else {
				add(desc, amount, 0)
			}
		}
	}
}

// occurrences turns a daily rate into a count: the whole part always
// happens, the fraction is a coin toss.
func occurrences(r *rand.Rand, rate float64) int {
	n := int(rate)
	if r.Float64() < rate-float64(n) {
		n++
	}
	return n
}

func isMonthEnd(t time.Time) bool { return t.AddDate(0, 0, 1).Day() == 1 }

// cardPurchases returns a card's purchases on day n (memoised: payments
// add up a whole month of them).
func (g *generator) cardPurchases(k acctKind, n int64) []rawTxn {
	key := cardDay{k, n}
	if t, ok := g.cards[key]; ok {
		return t
	}
	var out []rawTxn
	r := g.rng(purposeCard, n*16+int64(k))
	date := dayDate(n)
	if k == kMastercard && date.Day() == 7 {
		out = append(out, rawTxn{desc: "NETFLIX.COM", debit: 1899})
	}
	if k == kMastercard && date.Day() == 12 {
		out = append(out, rawTxn{desc: "SPOTIFY P" + strings.ToUpper(detGUID(g.loginID, "spotify")[:8]), debit: 1299})
	}
	if k == kVisa && date.Day() == 9 {
		out = append(out, rawTxn{desc: "DISNEY PLUS", debit: 1499})
	}
	g.everyday(r, cardSpends, func(desc string, debit, _ int64) {
		out = append(out, rawTxn{desc: desc, debit: debit})
	})
	g.cards[key] = out
	return out
}

// cardPayDay is the day of the month each card is paid in full from chequing.
func cardPayDay(k acctKind) int {
	if k == kVisa {
		return 24
	}
	return 22
}

// cardPayment is the payment made on day n (0 on other days): the whole of
// the previous calendar month's purchases, so the card never runs a credit.
func (g *generator) cardPayment(k acctKind, n int64) int64 {
	date := dayDate(n)
	if date.Day() != cardPayDay(k) {
		return 0
	}
	first := time.Date(date.Year(), date.Month()-1, 1, 0, 0, 0, 0, time.UTC)
	return g.cardSum(k, dayNum(first), dayNum(first.AddDate(0, 1, 0)))
}

// cardOpening is what is owed on a card just before day start: the purchases
// not yet covered by a payment made before start.
func (g *generator) cardOpening(k acctKind, start int64) int64 {
	date := dayDate(start)
	from := time.Date(date.Year(), date.Month(), 1, 0, 0, 0, 0, time.UTC)
	if date.Day() <= cardPayDay(k) { // last month is paid on or after start
		from = from.AddDate(0, -1, 0)
	}
	return g.cardSum(k, dayNum(from), start)
}

func (g *generator) cardSum(k acctKind, from, to int64) int64 {
	var sum int64
	for n := from; n < to; n++ {
		for _, t := range g.cardPurchases(k, n) {
			sum += t.debit
		}
	}
	return sum
}

// savingsWithdrawal and locAdvance are the rare transfers into chequing;
// both sides draw the same amount from the same stream.
func (g *generator) savingsWithdrawal(n int64) int64 {
	r := g.rng(purposeSavingsOut, n)
	if r.Float64() < 0.01 {
		return roundTo(between(r, 20000, 80000), 5000)
	}
	return 0
}

func (g *generator) locAdvance(n int64) int64 {
	r := g.rng(purposeLOCAdvance, n)
	if r.Float64() < 0.008 {
		return roundTo(between(r, 50000, 150000), 10000)
	}
	return 0
}
