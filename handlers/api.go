package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"flinkslink/store"
)

// apiPrefix is where the JSON API lives; errors under it are answered in JSON.
const apiPrefix = "/api/"

// isAPIPath reports whether a request is for the JSON API.
func isAPIPath(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, apiPrefix)
}

// apiLinkPath is the JSON API's URL of a link.
func apiLinkPath(id string) string { return apiPrefix + "links/" + id }

// apiLink is GET /api/links/{id}: a link's state, its timeline and, once a fetch
// succeeded, its summary. Times are RFC 3339 in UTC; a time that is not known
// (yet) is null. It never carries the LoginId, the session or the Connect tag.
type apiLink struct {
	ID             string      `json:"id"`
	Institution    string      `json:"institution"`
	State          string      `json:"state"`    // received, authorizing, fetching, pending, retrying, ready, failed, timed_out
	Terminal       bool        `json:"terminal"` // ready, failed or timed_out: nothing changes until a new fetch
	Fetch          int         `json:"fetch"`    // fetch generation: 1, then +1 for each "Try again" or "Refresh data"
	Polls          int         `json:"polls"`    // Flinks' 202 answers in this fetch
	NextPollAt     *string     `json:"next_poll_at"`
	RequestID      string      `json:"request_id"`
	Error          *apiError   `json:"error"` // set in failed and timed_out
	CreatedAt      string      `json:"created_at"`
	UpdatedAt      string      `json:"updated_at"`
	FetchStartedAt *string     `json:"fetch_started_at"`
	Timeline       apiTimeline `json:"timeline"`
	Summary        *apiSummary `json:"summary"` // null until a fetch succeeded
}

// apiError is why a fetch failed, with the explanation the failure view shows.
type apiError struct {
	Code     string `json:"code"`    // FlinksCode, or ours: TIMED_OUT, NETWORK, MALFORMED, MFA_REQUIRED, UNEXPECTED, HTTP_nnn
	Message  string `json:"message"` // Flinks' own message, or ours
	Title    string `json:"title"`
	Explain  string `json:"explanation"`
	Action   string `json:"action"`
	CanRetry bool   `json:"can_retry"`
	// Ours: the code is this app's (TIMED_OUT, NETWORK…), not a FlinksCode.
	Ours    bool   `json:"ours"`
	DocsURL string `json:"docs_url,omitempty"`
}

// apiTimeline is every state change and every Flinks call, each list oldest first.
type apiTimeline struct {
	Events []apiEvent `json:"events"`
	Calls  []apiCall  `json:"calls"`
}

type apiEvent struct {
	ID        int64  `json:"id"`
	Fetch     int    `json:"fetch"`
	At        string `json:"at"`
	State     string `json:"state"`
	RequestID string `json:"request_id"`
	Polls     int    `json:"polls"`
	// Kind and Args say what happened as data (see store.NoteKind); pages
	// render them in their language.
	Kind string   `json:"kind"`
	Args []string `json:"args"`
	// Note is the English sentence of an entry stored before entries had kinds.
	Note         string `json:"note,omitempty"`
	ErrorCode    string `json:"error_code"`
	ErrorMessage string `json:"error_message"`
}

type apiCall struct {
	ID         int64  `json:"id"`
	Fetch      int    `json:"fetch"`
	At         string `json:"at"` // when the call started
	Endpoint   string `json:"endpoint"`
	Method     string `json:"method"`
	Status     int    `json:"status"` // 0: no response arrived
	FlinksCode string `json:"flinks_code"`
	RequestID  string `json:"request_id"`
	Attempt    int    `json:"attempt"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error"`
	// Body is the response body (masked when it was stored) as JSON; when it is
	// not JSON it is null and BodyText has it.
	Body     json.RawMessage `json:"body"`
	BodyText *string         `json:"body_text,omitempty"`
}

// apiSummary is the account data of the last successful fetch.
type apiSummary struct {
	Institution     string  `json:"institution"`
	InstitutionName string  `json:"institution_name"`
	LastRefresh     *string `json:"last_refresh"`
	FetchedAt       string  `json:"fetched_at"`
	Fetch           int     `json:"fetch"` // the fetch generation that produced it
	HolderName      string  `json:"holder_name"`
	// StaleCode is the FlinksCode that makes this data the bank's last saved
	// data rather than a fresh read (QUESTION_NOT_FOUND), or "".
	StaleCode string `json:"stale_code"`
	// UnreadableTransactions counts the transactions left out as unreadable.
	UnreadableTransactions int          `json:"unreadable_transactions"`
	Accounts               []apiAccount `json:"accounts"`
}

type apiAccount struct {
	ID           string           `json:"id"`
	Title        string           `json:"title"`
	NumberMasked string           `json:"number_masked"` // "•••• 1234"; "" when Flinks gave no number
	Type         string           `json:"type"`
	Category     string           `json:"category"`
	Currency     string           `json:"currency"`
	HolderName   string           `json:"holder_name"`
	Balances     apiBalances      `json:"balances"`
	Transactions []apiTransaction `json:"transactions"` // all of them, as Flinks returned them
}

type apiBalances struct {
	Current   *apiMoney `json:"current"`
	Available *apiMoney `json:"available"`
	Limit     *apiMoney `json:"limit"`
}

// apiMoney is an amount both ways: an exact decimal string and integer cents.
type apiMoney struct {
	Amount string `json:"amount"` // "-1234.50"
	Cents  int64  `json:"cents"`  // -123450
}

type apiTransaction struct {
	ID          string    `json:"id"`
	Date        string    `json:"date"` // YYYY-MM-DD
	Description string    `json:"description"`
	Debit       *apiMoney `json:"debit"`
	Credit      *apiMoney `json:"credit"`
	Balance     *apiMoney `json:"balance"`
}

// handleAPILink answers GET /api/links/{id} for the link's owner (the session
// cookie); anyone else gets the 404 every unknown link gets, in JSON.
func (h *Handler) handleAPILink(c echo.Context) error {
	link, err := h.ownedLink(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	events, calls, err := h.loadTimeline(ctx, link.ID, timelineCursor{})
	if err != nil {
		return err
	}
	v := apiLink{
		ID:             link.ID,
		Institution:    link.Institution,
		State:          string(link.State),
		Terminal:       link.State.Terminal(),
		Fetch:          link.Fetch,
		Polls:          link.Polls,
		NextPollAt:     rfc3339Ptr(link.NextPollAt),
		RequestID:      link.RequestID,
		CreatedAt:      rfc3339(link.CreatedAt),
		UpdatedAt:      rfc3339(link.UpdatedAt),
		FetchStartedAt: rfc3339Ptr(link.FetchStartedAt),
		Timeline:       newAPITimeline(events, calls),
	}
	if link.State == store.StateFailed || link.State == store.StateTimedOut {
		f := failureView(link, h.lang(c))
		v.Error = &apiError{
			Code: f.Code, Message: f.RawDetail, Title: f.Title, Explain: f.Message, Action: f.Action,
			CanRetry: f.CanRetry, DocsURL: f.DocsURL, Ours: f.Ours,
		}
	}
	snap, err := h.store.Snapshot(ctx, link.ID)
	switch {
	case err == nil:
		s := newAPISummary(snap)
		v.Summary = &s
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	return writeJSON(c, http.StatusOK, v)
}

func newAPITimeline(events []store.Event, calls []store.Call) apiTimeline {
	t := apiTimeline{Events: make([]apiEvent, 0, len(events)), Calls: make([]apiCall, 0, len(calls))}
	for _, e := range events {
		t.Events = append(t.Events, apiEvent{
			ID: e.ID, Fetch: e.Fetch, At: rfc3339(e.At), State: string(e.State), RequestID: e.RequestID,
			Polls: e.Polls, Kind: string(e.Note.Kind), Args: append([]string{}, e.Note.Args...), Note: e.Text,
			ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage,
		})
	}
	for _, c := range calls {
		ac := apiCall{
			ID: c.ID, Fetch: c.Fetch, At: rfc3339(c.At), Endpoint: c.Endpoint, Method: c.Method,
			Status: c.StatusCode, FlinksCode: c.FlinksCode, RequestID: c.RequestID, Attempt: c.Attempt,
			DurationMS: c.Duration.Milliseconds(), Error: c.Err,
		}
		switch {
		case len(c.Body) == 0:
		case json.Valid(c.Body):
			ac.Body = json.RawMessage(c.Body)
		default:
			s := string(c.Body)
			ac.BodyText = &s
		}
		t.Calls = append(t.Calls, ac)
	}
	return t
}

func newAPISummary(s store.Snapshot) apiSummary {
	v := apiSummary{
		Institution:            s.Institution,
		InstitutionName:        s.InstitutionName,
		LastRefresh:            rfc3339Ptr(s.LastRefresh),
		FetchedAt:              rfc3339(s.FetchedAt),
		Fetch:                  s.Fetch,
		HolderName:             s.HolderName,
		StaleCode:              s.StaleCode,
		UnreadableTransactions: s.UnreadableTransactions,
		Accounts:               make([]apiAccount, 0, len(s.Accounts)),
	}
	for _, a := range s.Accounts {
		cur := strings.ToUpper(a.Currency)
		if cur == "" {
			cur = "CAD"
		}
		acc := apiAccount{
			ID: a.ID, Title: a.Title, NumberMasked: maskAccountNumber(a.Last4), Type: a.Type, Category: a.Category,
			Currency: cur, HolderName: a.HolderName,
			Balances:     apiBalances{Current: money(a.Current), Available: money(a.Available), Limit: money(a.Limit)},
			Transactions: make([]apiTransaction, 0, len(a.Transactions)),
		}
		for _, t := range a.Transactions {
			acc.Transactions = append(acc.Transactions, apiTransaction{
				ID: t.ID, Date: t.Date, Description: t.Description,
				Debit: money(t.Debit), Credit: money(t.Credit), Balance: money(t.Balance),
			})
		}
		v.Accounts = append(v.Accounts, acc)
	}
	return v
}

// money is an amount in cents both ways; nil (Flinks sent null) stays null.
func money(cents *int64) *apiMoney {
	if cents == nil {
		return nil
	}
	return &apiMoney{Amount: decimalAmount(*cents), Cents: *cents}
}

// decimalAmount writes cents as an exact decimal: 123456 → "1234.56", -5 → "-0.05".
func decimalAmount(cents int64) string {
	var u uint64
	sign := ""
	if cents < 0 {
		sign = "-"
		u = uint64(-(cents + 1)) + 1 // safe for math.MinInt64
	} else {
		u = uint64(cents)
	}
	frac := strconv.FormatUint(u%100, 10)
	if len(frac) == 1 {
		frac = "0" + frac
	}
	return sign + strconv.FormatUint(u/100, 10) + "." + frac
}

// rfc3339 writes an instant in UTC, to the millisecond the store keeps.
func rfc3339(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// rfc3339Ptr is rfc3339, with null for the zero time.
func rfc3339Ptr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := rfc3339(t)
	return &s
}

// writeJSON answers v as indented JSON, never cached (it is per-person data).
func writeJSON(c echo.Context, status int, v any) error {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(status, echo.MIMEApplicationJSON, append(body, '\n'))
}

// apiErrorBody is every JSON API error: {"error": {"status", "code", "message"}}.
type apiErrorBody struct {
	Error apiErrorDetail `json:"error"`
}

type apiErrorDetail struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`    // stable key: linkNotFound, pageNotFound, method, tooMany, internal, ...
	Message string `json:"message"` // in the request's language
}

// writeAPIError is HandleError's answer on /api/ paths.
func writeAPIError(c echo.Context, status int, key, message string) error {
	return writeJSON(c, status, apiErrorBody{Error: apiErrorDetail{Status: status, Code: key, Message: message}})
}
