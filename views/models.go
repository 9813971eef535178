// Package views holds the app's templ components and the view models they
// render. Components do no I/O and make no business decisions: handlers build
// the view models (money and dates already formatted) and pick the component.
// This package imports no other package of the project.
package views

// Page is what every full page tells the layout.
type Page struct {
	Title     string // the part before " · Flinks Link"
	CSRFToken string // echoed into forms and htmx headers
	Nav       string // which nav item is current: "home", "links"
	Path      string // this page's path, where the language switch returns to
}

// HomeView is the landing page: the explanation and the Flinks Connect iframe.
type HomeView struct {
	Page
	ConnectURL    string // full iframe URL, query included
	ConnectOrigin string // scheme://host of ConnectURL, checked against postMessage origins
	CallbackPath  string // our redirect handler's path, the only URL a REDIRECT event may send the page to
	Sandbox       bool   // the embedded Flinks sandbox is in use
	Scenarios     []ScenarioView
	ConnectError  string // set when the Connect URL could not be built (e.g. the authorize token failed)
}

// ScenarioView is one sandbox test user shown beside the Connect iframe.
type ScenarioView struct {
	Username, Password, Summary, MFA string
}

// LinkView is one linked account's page; the same model drives the full page and the
// polling fragment.
type LinkView struct {
	Page
	ID          string
	Institution string
	StatusURL   string // the htmx polling URL (the fragment)
	RetryURL    string // POST target for "Try again"
	Status      StatusView
	Summary     *SummaryView // nil until a snapshot exists
}

// StatusView is the polling element: the fetch's state in words.
type StatusView struct {
	State       string // machine name, also the data-state attribute: received, authorizing, fetching, pending, retrying, ready, failed, timed_out
	Terminal    bool   // true ends the polling: the render carries no hx-* attributes
	Tone        string // "progress", "success", "error": the colour of the panel
	Headline    string // one sentence: what is happening now
	Detail      string // a second sentence: why, or what comes next
	Steps       []Step
	Elapsed     string // time since the fetch started, e.g. "12 s"
	Polls       int    // Flinks' 202 answers so far
	NextPoll    string // e.g. "in 4 s"; empty when not waiting
	StartedAt   string // exact time, for the title attribute
	Failure     *FailureView
	PollEvery   string // htmx trigger interval, e.g. "1s"
	SummaryNote string // shown once ready, above the summary
}

// Step is one stage of the fetch in the progress list.
type Step struct {
	Label  string
	Status string // "done", "current", "todo", "failed"
}

// FailureView explains a failed or timed-out fetch.
type FailureView struct {
	Code      string // FlinksCode or our code (TIMED_OUT)
	Title     string
	Message   string // plain language: what happened
	Action    string // plain language: what the person can do
	CanRetry  bool   // show "Try again"
	DocsURL   string
	RawDetail string // Flinks' own message, shown small
}

// SummaryView is the account summary once the data is ready.
type SummaryView struct {
	Institution string
	LastRefresh string
	HolderName  string
	FetchedAt   string
	Totals      []TotalView
	Accounts    []AccountView
}

// TotalView sums the balances of one currency.
type TotalView struct {
	Currency string
	Assets   string // deposit accounts' current balances
	Owed     string // credit accounts' current balances
	Accounts int
}

// AccountView is one account in the summary.
type AccountView struct {
	ID           string
	Title        string
	Masked       string // "•••• 1234" or "" when Flinks gave no number
	Type         string // "Chequing", "Credit card", ...
	Category     string
	Currency     string
	Current      string
	Available    string
	Limit        string
	Transactions []TransactionView // the 10 most recent
	MoreCount    int               // transactions not shown
}

// TransactionView is one row of an account's recent transactions.
type TransactionView struct {
	Date        string // formatted for display
	DateISO     string // for the <time> element
	Description string
	Debit       string
	Credit      string
	Balance     string
}

// ErrorView is a full error page (or, for htmx requests, an alert fragment).
type ErrorView struct {
	Page
	Status  int
	Heading string
	Message string
	Hints   []string
}

// BreakoutView is returned to the Connect iframe when Flinks redirected inside it:
// the page moves the top window to Target.
type BreakoutView struct {
	Page
	Target string
}

// LinksView is the list of this browser's links.
type LinksView struct {
	Page
	Links []LinkRow
}

// LinkRow is one link in the list.
type LinkRow struct {
	URL, Institution   string
	State, StateLabel  string
	Created, CreatedAt string // relative, and exact (RFC 3339) for the tooltip
	Updated, UpdatedAt string
}
