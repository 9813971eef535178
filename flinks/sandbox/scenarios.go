package sandbox

import (
	"strings"
	"time"
)

// Never is the Pending value of a scenario whose background scrape never
// completes (test_never): its Async poller answers 202 until the client gives up.
const Never time.Duration = -1

// Password is the password of every sandbox user, as on the Flinks Toolbox
// (compared case-insensitively, as the Toolbox does: the official SDK tests
// log in with "EveryDay").
const Password = "Everyday"

// Scenario is one sandbox user of the Flinks Capital test institution: what to
// type in Connect (or send to Authorize) and what the sandbox then does.
type Scenario struct {
	// Username selects the scenario; matched case-insensitively.
	Username string
	// Password is always Password ("Everyday").
	Password string
	// MFA reports whether the login asks a security question first.
	MFA bool
	// MFAAnswers maps every prompt the user may be asked (English and French)
	// to its answer; nil without MFA.
	MFAAnswers map[string]string
	// Summary is one line saying what the user triggers, for a help table.
	Summary string
	// Pending is how long, unscaled, the data stays pending after the
	// connection: the background scrape for most users, the dispatch time of
	// every data call for test_dispatched, Never for test_never.
	Pending time.Duration
}

// Canadian MFA prompts of Flinks Capital and their answers (docs §8). The
// French prompts are ours (the reference only says they contain "Où",
// "Quel" and "Quelle"); the answers are the same.
var (
	promptsEN = []string{
		"What city were you born in?",
		"What is the best country on earth?",
		"What shape do people like most?",
	}
	promptsFR = []string{
		"Où êtes-vous né?",
		"Quel est le meilleur pays sur terre?",
		"Quelle forme les gens aiment-ils le plus?",
	}
	promptAnswers = []string{"Montreal", "Canada", "Triangle"}
)

// prompt returns the i-th security question in the session's language.
func prompt(i int, lang string) string {
	i = ((i % len(promptsEN)) + len(promptsEN)) % len(promptsEN)
	if lang == "fr" {
		return promptsFR[i]
	}
	return promptsEN[i]
}

// authError is an error a scenario answers to every Authorize of its login.
type authError struct {
	status  int
	code    string
	message string
}

// scenarioDef is a Scenario plus the knobs the API code reads. The exported
// part is what the app displays; the rest is how the sandbox behaves.
type scenarioDef struct {
	Scenario
	key        string     // lower-case username, the stored scenario id
	authErr    *authError // every Authorize of this user fails with it
	dispatched bool       // data calls answer OPERATION_DISPATCHED for Pending
	flaky      bool       // the first 3 polls of each RequestId fail with 5xx
	expire     bool       // the first RequestId expires on its 4th poll
	noTxns     bool       // accounts without transactions
	// authPending: while the scrape runs, the cached Authorize itself answers
	// 202 OPERATION_PENDING, and its RequestId is then polled (§4.2).
	authPending bool
	// questionNotFound: every cached Authorize replays a failed nightly
	// refresh, 401 QUESTION_NOT_FOUND, whose RequestId can still read the
	// cached data (Flinks' help: cached errors).
	questionNotFound bool
	// refreshMFA: a refresh from the bank (a live Authorize of the saved
	// LoginId) asks a security question (203); Connect with that requestId,
	// or the API, answers it, and the same LoginId is refreshed.
	refreshMFA bool
	dense      bool // 8 accounts, many transactions a day
}

// Timings, unscaled. Ten seconds is one poll interval of the documented
// client loop, so a client sees at least one 202 before the 200.
const (
	pendingDefault  = 10 * time.Second
	pendingSlow     = 60 * time.Second
	pendingExpiring = 60 * time.Second // outlives 4 polls at 10 s plus a re-authorize
)

var scenarioTable = buildScenarios()

func buildScenarios() []*scenarioDef {
	mfaAnswers := map[string]string{}
	for i := range promptsEN {
		mfaAnswers[promptsEN[i]] = promptAnswers[i]
		mfaAnswers[promptsFR[i]] = promptAnswers[i]
	}
	viaConnect := "; Connect still completes and issues a LoginId, whose cached Authorize then answers it"
	defs := []*scenarioDef{
		{Scenario: Scenario{Username: "Greatday", MFA: true, MFAAnswers: mfaAnswers, Pending: pendingDefault,
			Summary: "Security question first (Montreal / Canada / Triangle), then data pending ~10 s (202 OPERATION_PENDING, then 200)"}},
		{Scenario: Scenario{Username: "greatday_nomfa", Pending: pendingDefault,
			Summary: "No MFA; data pending ~10 s (202 OPERATION_PENDING, then 200)"}},
		{Scenario: Scenario{Username: "test_ready", Pending: 0,
			Summary: "No MFA; data ready at once (200 on the first data call)"}},
		{Scenario: Scenario{Username: "test_slow", Pending: pendingSlow,
			Summary: "Data pending ~60 s; 8 accounts and a year of dense transactions (ask Days365 to get them all)"},
			dense: true},
		{Scenario: Scenario{Username: "test_dispatched", Pending: pendingDefault,
			Summary: "Every data call answers 202 OPERATION_DISPATCHED; the Async poller stays dispatched ~10 s, then 200"},
			dispatched: true},
		{Scenario: Scenario{Username: "test_disabled_account",
			Summary: "Authorize answers 401 DISABLED_LOGIN" + viaConnect},
			authErr: &authError{401, "DISABLED_LOGIN", "The account has been disabled by the financial institution"}},
		{Scenario: Scenario{Username: "test_service_unavailable",
			Summary: "Authorize answers 401 RETRY_LATER" + viaConnect},
			authErr: &authError{401, "RETRY_LATER", "A connection with the financial institution could not be established, please retry later"}},
		{Scenario: Scenario{Username: "test_never", Pending: Never,
			Summary: "The scrape never ends: the Async poller answers 202 OPERATION_PENDING forever, until the app's time limit ends the fetch in TIMED_OUT (30 s with the QA time limit)"}},
		{Scenario: Scenario{Username: "test_flaky", Pending: pendingDefault,
			Summary: "Data pending ~10 s; the first 3 polls of each RequestId fail (500 AGGREGATION_ERROR, 503 HTML, 502 HTML), then normal answers"},
			flaky: true},
		{Scenario: Scenario{Username: "test_expired", Pending: pendingExpiring,
			Summary: "Data pending ~60 s; the first RequestId's 4th poll answers 400 SESSION_NONEXISTENT; a fresh cached Authorize then works"},
			expire: true},
		{Scenario: Scenario{Username: "test_authorize_pending", Pending: pendingDefault,
			Summary: "The cached Authorize itself answers 202 OPERATION_PENDING while the scrape runs (~10 s); its RequestId's Async poller then answers 200"},
			authPending: true},
		{Scenario: Scenario{Username: "test_question_not_found", Pending: 0,
			Summary: "The cached Authorize answers 401 QUESTION_NOT_FOUND (a failed nightly refresh replayed), yet its RequestId still reads the cached data: a dated summary that asks to reconnect"},
			questionNotFound: true},
		{Scenario: Scenario{Username: "test_refresh_mfa", Pending: pendingDefault, MFAAnswers: mfaAnswers,
			Summary: "No MFA at first; a refresh from the bank asks a security question (203): continue in Connect (its requestId), answer Montreal / Canada / Triangle, and the data is refreshed (~10 s)"},
			refreshMFA: true},
		{Scenario: Scenario{Username: "test_no_transactions", Pending: pendingDefault,
			Summary: "Accounts without any transactions (Transactions: []); data pending ~10 s"},
			noTxns: true},
	}
	for _, d := range defs {
		d.Password = Password
		d.key = strings.ToLower(d.Username)
	}
	return defs
}

// Scenarios returns the sandbox users in display order. The result is a copy:
// changing it does not change the sandbox.
func Scenarios() []Scenario {
	out := make([]Scenario, len(scenarioTable))
	for i, d := range scenarioTable {
		out[i] = d.Scenario
		if d.MFAAnswers != nil {
			out[i].MFAAnswers = make(map[string]string, len(d.MFAAnswers))
			for k, v := range d.MFAAnswers {
				out[i].MFAAnswers[k] = v
			}
		}
	}
	return out
}

// lookupScenario finds a user by name, ignoring case; nil when unknown.
func lookupScenario(username string) *scenarioDef {
	key := strings.ToLower(strings.TrimSpace(username))
	for _, d := range scenarioTable {
		if d.key == key {
			return d
		}
	}
	return nil
}

// scenarioOf returns the stored scenario of a login; a row written by an
// older sandbox with an unknown key behaves like greatday_nomfa.
func scenarioOf(key string) *scenarioDef {
	if d := lookupScenario(key); d != nil {
		return d
	}
	return lookupScenario("greatday_nomfa")
}

// checkAnswer reports whether answer is right for the prompt, forgiving case,
// surrounding spaces and accents ("montréal").
func (d *scenarioDef) checkAnswer(prompt, answer string) bool {
	want, ok := d.MFAAnswers[prompt]
	return ok && foldAnswer(answer) == foldAnswer(want)
}

var accentFolder = strings.NewReplacer("é", "e", "è", "e", "ê", "e", "à", "a", "â", "a", "î", "i", "ô", "o", "û", "u", "ç", "c",
	"É", "e", "È", "e", "À", "a")

func foldAnswer(s string) string {
	return strings.ToLower(accentFolder.Replace(strings.TrimSpace(s)))
}
