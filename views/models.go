// Package views holds the app's templ components and the view models they
// render. Components do no I/O and make no business decisions: handlers build
// the view models (money and dates already formatted) and pick the component.
// This package imports no other package of the project.
package views

import (
	"slices"

	"github.com/a-h/templ"
)

// Page is what every full page tells the layout.
type Page struct {
	Title     string // the part before " · Flinks Link"
	CSRFToken string // echoed into forms and htmx headers
	Nav       string // which nav item is current: "home", "links"
	Path      string // this page's path, where the language switch returns to
	// ReloadEvery, when positive, reloads the page every so many seconds in
	// a browser without JavaScript (<noscript> meta refresh): a pending link
	// still reaches its summary there.
	ReloadEvery int
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
	// FrameURL gives a fresh Connect URL (a new authorize token) as JSON, for
	// the page to reload the frame before or after its token expires.
	FrameURL string
	// RefreshAfterMs is when, untouched, the frame is reloaded with a new
	// token (authorize tokens die after 15 to 30 minutes).
	RefreshAfterMs int64
	// Reconnecting: the frame resumes a link's security question (Connect's
	// requestId); the page says why.
	Reconnecting bool
	// Pending is the sandbox's pending-duration control; nil hides it.
	Pending *PendingControlView
}

// ScenarioView is one sandbox test user shown beside the Connect iframe.
type ScenarioView struct {
	Username, Password, Summary, MFA string
	// MFAAnswers are the security-question answers (the same for the English
	// and French prompts), each shown with a copy button; nil without MFA.
	MFAAnswers []string
	// PendingRef is the reference timing the summaries name ("~10 s") and
	// PendingShown the same under this server's SANDBOX_TIME_SCALE ("~0.5 s");
	// both empty when the scale is 1.
	PendingRef, PendingShown string
}

// LinkView is one linked account's page; the same model drives the full page and the
// polling fragment.
type LinkView struct {
	Page
	ID          string
	Institution string
	StatusURL   string // the htmx polling URL (the fragment)
	RetryURL    string // POST target for "Try again"
	CancelURL   string // POST target for "Stop" while the fetch runs
	RefreshURL  string // POST target for "Re-read saved data" (a new cached fetch)
	// RefreshBankURL is the POST target for "Refresh from the bank" (a live
	// Authorize: Flinks signs in to the bank now).
	RefreshBankURL string
	Status         StatusView
	// Summary is the account summary, rendered (Summary of a SummaryView);
	// nil until a snapshot exists.
	Summary templ.Component
	// Timeline is the Details panel, outside the polled status element; nil
	// hides it (the status fragment never carries it).
	Timeline *TimelineView
}

// StatusView is the polling element: the fetch's state in words.
type StatusView struct {
	State    string // machine name, also the data-state attribute: received, authorizing, fetching, pending, retrying, ready, failed, timed_out
	Terminal bool   // true ends the polling: the render carries no hx-* attributes
	Tone     string // "progress", "success", "error": the colour of the panel
	Headline string // one sentence: what is happening now
	Detail   string // a second sentence: why, or what comes next
	Steps    []Step
	Elapsed  string // time since the fetch started, e.g. "12 s"
	// ElapsedMs is the same in milliseconds while the fetch runs (0 once it
	// ended): app.js counts on from it between two answers of the long poll.
	ElapsedMs   int64
	Polls       int    // Flinks' 202 answers so far
	NextPoll    string // when the fetch calls Flinks next, e.g. "15:04:05 UTC"; empty when not waiting
	NextPollISO string // the same, for <time datetime> (app.js shows it in the viewer's zone)
	StartedAt   string // exact time, for the title attribute
	StartedISO  string // the same, RFC 3339, shown in the viewer's zone by app.js
	Failure     *FailureView
	PollEvery   string // htmx trigger interval, e.g. "1s"
	SummaryNote string // shown once ready, above the summary
	// LongerThanUsual is set while the fetch has run past the app's threshold:
	// the view says so (and why) and keeps polling.
	LongerThanUsual bool
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
	// Ours: Code is this app's (TIMED_OUT, NETWORK…), not a FlinksCode, so it
	// is labelled as ours and not linked to Flinks' documentation.
	Ours bool
	// ReconnectURL, when set, continues in Flinks Connect on the RequestId
	// whose security question the bank asked (Connect's requestId).
	ReconnectURL string
}

// SummaryView is the account summary once the data is ready.
type SummaryView struct {
	Institution    string
	LastRefresh    string
	LastRefreshISO string // RFC 3339 ("" when unknown), shown in the viewer's zone by app.js
	HolderName     string
	FetchedAt      string
	// Stale: the data is the bank's last saved data (LastRefresh), not a
	// fresh read; the person must reconnect to refresh it.
	Stale bool
	// Unreadable counts transactions Flinks sent that could not be read.
	Unreadable int
	// Paging is set when the account cards span more than one page.
	Paging   *PagingView
	Totals   []TotalView
	Accounts []AccountView
}

// PagingView places a page of account cards: From–To of Total, and the
// neighbouring pages ("" at either end).
type PagingView struct {
	From, To, Total  int
	PrevURL, NextURL string
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
	// Anchor is the card's element id; AllURL lists every transaction of
	// the account (when some are not shown); TxPaging, once they are listed,
	// pages through them, and CloseURL goes back to the recent ones.
	Anchor, AllURL, CloseURL string
	TxPaging                 *PagingView
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
	Links        []LinkRow
	Notice       string // the outcome of the last action (a deletion), or ""
	StartOverURL string // POST target for "Start over"
}

// LinkRow is one link in the list. The same model drives the row in the page
// and the htmx fragment that refreshes it while its fetch runs.
type LinkRow struct {
	URL, Institution string
	// Holder, Accounts and Deposits tell ready links apart: the account
	// holder, "3 accounts", the deposits' total; empty before any data.
	Holder, Accounts, Deposits string
	State, StateLabel          string
	Created, CreatedAt         string // relative, and exact (RFC 3339) for the tooltip
	Updated, UpdatedAt         string

	ID         string
	Terminal   bool   // false while a fetch runs: the row polls RowURL, Refresh and Delete are disabled
	RowURL     string // the row fragment, polled while the fetch runs
	PollEvery  string // htmx trigger interval, e.g. "2s"
	RefreshURL string // POST "Refresh data"
	RetryURL   string // POST "Try again"; shown when CanRetry
	CanRetry   bool   // the fetch failed in a way a new fetch may fix
	DeleteURL  string // the delete confirmation page
	CancelURL  string // POST "Stop": ends a running fetch, so it can be deleted
	CSRFToken  string // for the row's forms (the row is also rendered alone)
}

// TimelineView is a link page's Details panel: every state change and every
// Flinks call, in time order. The panel is not part of the polled status
// element: its list grows by its own poll (see TimelineTail), so an opened panel,
// an opened response body or a focused button is never replaced.
type TimelineView struct {
	Entries     []TimelineEntry
	Tail        TimelineTail
	DownloadURL string // the whole timeline as a JSON attachment
	APIURL      string // the link as JSON, timeline included
}

// TimelineTail is the last item of the timeline list. While the fetch runs it
// polls URL (which names the entries already shown) and is replaced by the
// entries recorded since plus a new tail; once the fetch has ended it carries no
// hx-* attributes, which ends that polling.
type TimelineTail struct {
	Live       bool
	StateLabel string // when not Live: the state the fetch ended in, in words
	// Cursor names the entries the page shows (hidden inputs): the status
	// element's long poll sends them (hx-include), and its answer carries
	// the entries after them, so the list grows on the status's one request.
	Cursor []Field
}

// Field is one name and value sent with a request.
type Field struct{ Name, Value string }

// TimelineDelta is what a status answer adds to the Details panel: entries
// already shown that it rebuilds in place (the trailing run of polls, by id),
// then the new entries and the next tail, which replace the old tail.
type TimelineDelta struct {
	Replaced []TimelineEntry
	Entries  []TimelineEntry
	Tail     TimelineTail
}

// Kinds of timeline entries.
const (
	EntryFetch = "fetch" // a heading: a fetch generation begins
	EntryEvent = "event" // a state change
	EntryCall  = "call"  // a call to Flinks
	EntryPolls = "polls" // a run of 202 answers and the pending states they led to
)

// TimelineEntry is one item of the timeline: a state change, a Flinks call, or
// the heading of a fetch generation.
type TimelineEntry struct {
	Kind     string // EntryFetch, EntryEvent or EntryCall
	DOMID    string // unique in the page: "tl-event-12", "tl-call-30"
	Fetch    int
	Heading  string // EntryFetch: "Fetch 2, started …"
	Time     string // time of day, to the millisecond: "17:40:54.123"
	TimeISO  string // RFC 3339, for <time datetime>
	TimeFull string // date and time in words, for the title
	Failed   bool   // an error: a failed call, or a retrying, failed or timed-out state

	// State changes. NoteLegacy: Note is an English sentence stored before
	// notes had kinds.
	State, StateLabel, Note string
	NoteLegacy              bool

	// Calls.
	Method, Endpoint string
	StatusCode       int    // 0: no response arrived
	Duration         string // "120 ms", "1.2 s"
	Attempt          int
	RequestID        string
	Err              string // transport error, scrubbed by the client

	// Both: the FlinksCode (calls) or the error code (state changes), with its
	// explanation when the entry is a failure; nil without a code.
	Code *CodeView
	// ErrorMessage is Flinks' own message on a failed state change.
	ErrorMessage string

	// The response body of a call, masked when it was stored.
	Body          string // pretty-printed when JSON; "" when there was none
	BodyJSON      bool
	BodySize      int
	BodyTruncated bool   // cut at the store's limit
	BodyClipped   bool   // Body is only the start of the stored body (the page stays small)
	BodyURL       string // the body as an attachment
	CallName      string // "POST Authorize at 17:40:54.123", for the buttons' accessible names

	// A run of 202 polls (EntryPolls): how many answers, the answer
	// numbers the pending states counted, the run's end and length; the
	// body above is the last answer's, BodyDOMID its element's id. OOB: the
	// entry replaces the one with its DOMID already in the page.
	PollCount, PollFirst, PollLast int
	Until, UntilISO, Span          string
	BodyDOMID                      string
	OOB                            bool
}

// CodeView is a FlinksCode (or one of the app's codes) and, for failures, the
// plain-language explanation the failure view also uses.
type CodeView struct {
	Code      string
	Explained bool // Title, Message, Action and DocsURL are set
	Title     string
	Message   string
	Action    string
	DocsURL   string
}

// connectStateNames are the ends of a Connect session the landing page
// explains: consent refused, the window closed, the bank's retry cap hit, the
// authorize token expired.
var connectStateNames = []string{"denied", "closed", "maxretry", "expired"}

// sortedKeys returns m's keys in order, for a stable page.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// longPollTrigger is the hx-trigger of a long-polled element: ask at once
// when it appears ("load": the previous answer was just swapped in), and
// every retry, which hx-sync="this:drop" ignores while a request waits, so
// it only asks again after a request that failed.
func longPollTrigger(retry string) string { return "load, every " + retry }
