package flinks

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrPending matches (with errors.Is) any *Error whose Kind is KindPending: Flinks
// answered 202 OPERATION_PENDING or OPERATION_DISPATCHED and the data must be polled
// from the Async endpoint with the same RequestId.
var ErrPending = errors.New("flinks: operation pending")

// ErrTimedOut is wrapped by the error FetchCached returns when Flinks was still
// pending when FetchOptions.Timeout ran out. That error also wraps the last 202
// *Error, so check errors.Is(err, ErrTimedOut) before errors.Is(err, ErrPending).
var ErrTimedOut = errors.New("flinks: timed out waiting for account data")

// ErrForeignData is wrapped by the error FetchCached returns when Flinks
// answered with data for another LoginId or RequestId than the one asked
// about. Nothing of that answer is returned; retrying cannot help.
var ErrForeignData = errors.New("flinks: data for another connection")

// Error is a non-success answer from Flinks: any status other than the expected
// 200 (or 203 on Authorize), or a 2xx whose body could not be used.
//
// Its fields and text never contain the LoginId, the API key, the secret key or an
// authorize token: Message is scrubbed of those (and of anything GUID-shaped) because
// Flinks echoes the LoginId in some messages.
type Error struct {
	Endpoint   string // e.g. "GetAccountsDetailAsync"; never contains an id
	StatusCode int    // HTTP status (or the body's HttpStatusCode when a 200 carried another one)
	FlinksCode string // e.g. "OPERATION_PENDING", "SESSION_NONEXISTENT"; empty when the body was not JSON
	Message    string // Flinks' Message, scrubbed and capped; the status text for non-JSON bodies; "malformed response" for an unusable 2xx
	RequestID  string // the RequestId the answer is about, when known
	// RetryAfter is the wait the answer's Retry-After header asked for (on a
	// 429 or 503, say), capped at maxRetryAfter; 0 when it gave none.
	RetryAfter time.Duration
}

// maxRetryAfter caps a Retry-After: a longer one is Flinks (or a proxy)
// asking for more than a fetch can wait; the fetch's own limit still rules.
const maxRetryAfter = 10 * time.Minute

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(min(max(secs, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// msgMalformed is Error.Message for a 2xx whose body could not be used.
const msgMalformed = "malformed response"

// maxMessageLen caps Error.Message: Flinks' messages are one sentence, and the
// app stores and shows this text.
const maxMessageLen = 300

// Error formats the error as "flinks: <Endpoint>: <status> [<FlinksCode>][: <Message>]".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("flinks: ")
	b.WriteString(e.Endpoint)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.FlinksCode != "" {
		b.WriteByte(' ')
		b.WriteString(e.FlinksCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is reports whether target is ErrPending and e is a pending answer.
func (e *Error) Is(target error) bool {
	return target == ErrPending && e.Kind() == KindPending
}

// Kind says what a caller should do about an error.
type Kind int

// The kinds of error. The zero Kind is KindUnexpected.
const (
	// KindUnexpected is anything else, including a redirect, a 203 outside
	// Authorize and unknown 4xx codes.
	KindUnexpected Kind = iota
	// KindPending is a 202 OPERATION_PENDING / OPERATION_DISPATCHED: poll the Async endpoint.
	KindPending
	// KindRetryLater is a network error (including a body cut short and a call
	// timeout), a 5xx, 408, 429, RETRY_LATER, TOO_MANY_REQUESTS, CARD_IN_USE,
	// CONCURRENT_SESSION or AGGREGATION_ERROR, or a 2xx whose body could not be
	// used (Message "malformed response": garbled or truncated JSON, an HTML page,
	// a data answer without Accounts): retry the same call with backoff.
	KindRetryLater
	// KindReauthorize is SESSION_NONEXISTENT or SESSION_EXPIRED: the RequestId is
	// gone; call Authorize again for a new one.
	KindReauthorize
	// KindNeedsUser means the person must act (reconnect, fix their bank account):
	// INVALID_LOGIN, INVALID_USERNAME, INVALID_PASSWORD, INVALID_SECURITY_RESPONSE*,
	// UNKNOWN_CHALLENGE_KEY, SECURITYRESPONSES_INCOMPLETE, QUESTION_NOT_FOUND,
	// NEW_ACCOUNT, DISABLED_LOGIN, DISABLED_INSTITUTION, UNAUTHORIZED from the bank,
	// NO_TRANSACTION, and an MFA challenge (203) where none can be answered.
	KindNeedsUser
	// KindMisconfigured means our keys or configuration are wrong: ACCESS_DENIED,
	// INVALID_REQUEST, METHOD_NOT_AVAILABLE, a 401/403 on GenerateAuthorizeToken, a
	// rejected authorize token or API key, a 401/403/404/405 without a FlinksCode, or
	// a missing SecretKey.
	KindMisconfigured
)

// String returns a short snake_case name, e.g. "retry_later".
func (k Kind) String() string {
	switch k {
	case KindPending:
		return "pending"
	case KindRetryLater:
		return "retry_later"
	case KindReauthorize:
		return "reauthorize"
	case KindNeedsUser:
		return "needs_user"
	case KindMisconfigured:
		return "misconfigured"
	case KindUnexpected:
		return "unexpected"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// codes is what each FlinksCode of the reference's catalogue (§6) means: the
// client's Kind, and whether the person trying again later (a new fetch) can
// help. UNAUTHORIZED is decided in Kind because it depends on the endpoint and
// message. A new FlinksCode is one line here, plus its words in the app.
var codes = map[string]codeMeaning{
	"OPERATION_PENDING":    {KindPending, true},
	"OPERATION_DISPATCHED": {KindPending, true},

	"RETRY_LATER":        {KindRetryLater, true},
	"TOO_MANY_REQUESTS":  {KindRetryLater, true},
	"CARD_IN_USE":        {KindRetryLater, true},
	"CONCURRENT_SESSION": {KindRetryLater, true},
	"AGGREGATION_ERROR":  {KindRetryLater, true},

	"SESSION_NONEXISTENT": {KindReauthorize, true},
	"SESSION_EXPIRED":     {KindReauthorize, true},

	"INVALID_LOGIN":                      {KindNeedsUser, false},
	"INVALID_USERNAME":                   {KindNeedsUser, false},
	"INVALID_PASSWORD":                   {KindNeedsUser, false},
	"INVALID_SECURITY_RESPONSE":          {KindNeedsUser, false},
	"INVALID_SECURITY_RESPONSE_NO_RETRY": {KindNeedsUser, false},
	"SECURITYRESPONSES_INCOMPLETE":       {KindNeedsUser, false},
	"UNKNOWN_CHALLENGE_KEY":              {KindNeedsUser, false},
	"QUESTION_NOT_FOUND":                 {KindNeedsUser, false},
	"NEW_ACCOUNT":                        {KindNeedsUser, false},
	"DISABLED_LOGIN":                     {KindNeedsUser, false},
	"DISABLED_INSTITUTION":               {KindNeedsUser, true}, // the bank is down at Flinks: later may work
	"NO_TRANSACTION":                     {KindNeedsUser, false},
	"UNAUTHORIZED":                       {KindNeedsUser, false},

	"ACCESS_DENIED":        {KindMisconfigured, false},
	"INVALID_REQUEST":      {KindMisconfigured, false},
	"METHOD_NOT_AVAILABLE": {KindMisconfigured, false},

	// Authorize called again on an authorized session: a flow bug, not a
	// credential problem, whatever the status.
	"ALREADY_AUTHORIZED": {KindUnexpected, true},
}

// codeMeaning is one line of codes.
type codeMeaning struct {
	kind  Kind
	retry bool
}

// Kind classifies e: first by a 202 status, then by FlinksCode, then by HTTP status.
func (e *Error) Kind() Kind {
	if e.StatusCode == http.StatusAccepted {
		return KindPending
	}
	// A success status with an unusable body is most likely garbled on the way
	// (a proxy, a cut connection); the same call usually works when repeated.
	if e.StatusCode >= 200 && e.StatusCode < 300 && e.FlinksCode == "" && e.Message == msgMalformed {
		return KindRetryLater
	}
	// A wrong secret answers 401 UNAUTHORIZED here: never the user's fault.
	if e.Endpoint == epGenerateAuthorizeToken && (e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden) {
		return KindMisconfigured
	}
	code := strings.ToUpper(strings.TrimSpace(e.FlinksCode))
	if code == "UNAUTHORIZED" {
		// UNAUTHORIZED means both "the bank refused" and, for a bad authorize token
		// or API key, "you must provide a valid authorize token / key" (the exact
		// body is unconfirmed, see the reference's open question 1). Telling the
		// person to reconnect would not fix a key, so the message decides.
		if mentionsCredential(e.Message) {
			return KindMisconfigured
		}
		return KindNeedsUser
	}
	if m, ok := codes[code]; ok {
		return m.kind
	}
	switch s := e.StatusCode; {
	case s == http.StatusNonAuthoritativeInfo && e.Endpoint == epAuthorize:
		// Only FetchCached turns a 203 into an error: a cached Authorize that
		// asks for MFA needs the person to reconnect.
		return KindNeedsUser
	case s == http.StatusUnauthorized, s == http.StatusForbidden, s == http.StatusNotFound, s == http.StatusMethodNotAllowed:
		return KindMisconfigured
	case s == http.StatusRequestTimeout, s == http.StatusTooManyRequests, s >= 500 && s <= 599:
		return KindRetryLater
	}
	return KindUnexpected
}

func mentionsCredential(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "token") || strings.Contains(m, "auth key") ||
		strings.Contains(m, "api key") || strings.Contains(m, "x-api-key")
}

// KindOf classifies any error returned by this package: the Kind of a wrapped
// *Error, KindRetryLater for a *TransportError, for ErrTimedOut (Flinks was too slow;
// try again later) and for context.DeadlineExceeded, KindMisconfigured for a missing
// SecretKey, and KindUnexpected otherwise (including nil and context.Canceled).
func KindOf(err error) Kind {
	if err == nil {
		return KindUnexpected
	}
	if errors.Is(err, ErrTimedOut) {
		return KindRetryLater
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind()
	}
	if errors.Is(err, errNoSecretKey) {
		return KindMisconfigured
	}
	var te *TransportError
	if errors.As(err, &te) || errors.Is(err, context.DeadlineExceeded) {
		return KindRetryLater
	}
	return KindUnexpected
}

var errNoSecretKey = errors.New("no SecretKey configured")

// newError builds the *Error for a non-OK answer.
func (c *Client) newError(r *request, status int, env envelope) *Error {
	e := &Error{
		Endpoint:   r.endpoint,
		StatusCode: status,
		FlinksCode: strings.TrimSpace(env.FlinksCode),
		Message:    capText(scrubGUIDs(c.scrub(strings.TrimSpace(env.Message), r)), maxMessageLen),
		RequestID:  firstNonEmpty(env.RequestID, r.requestID),
	}
	if !env.valid && e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if status == http.StatusAccepted && e.FlinksCode == "" {
		e.FlinksCode = "OPERATION_PENDING"
	}
	return e
}

const redacted = "[redacted]"

// capText shortens s to at most n bytes, on a rune boundary, marking the cut.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// minSecretLen keeps scrubbing from mangling messages when a configured value is
// absurdly short (a one-letter password would otherwise erase every "a").
const minSecretLen = 4

// scrub removes the configured keys, the call's credentials and its private ids
// from s, case-insensitively (.NET services echo GUIDs in either case).
func (c *Client) scrub(s string, r *request) string {
	for _, v := range c.sensitive(r, true) {
		s = replaceFold(s, v)
	}
	return s
}

// scrubBody caps a response body kept for Call.Body and redacts credentials (keys,
// tokens, password) from it. Private ids (the LoginId) are left in: Authorize and the
// data calls echo it as Login.Id, and the app masks bodies before showing them.
func (c *Client) scrubBody(body []byte, r *request) []byte {
	if body == nil {
		return nil
	}
	if len(body) > maxCallBody {
		body = body[:maxCallBody]
	}
	s := string(body)
	for _, v := range c.sensitive(r, false) {
		s = replaceFold(s, v)
	}
	return []byte(s)
}

// sensitive lists the values to redact; values shorter than minSecretLen are skipped.
func (c *Client) sensitive(r *request, withPrivate bool) []string {
	all := []string{c.apiKey, c.secretKey}
	all = append(all, r.secrets...)
	if withPrivate {
		all = append(all, r.private...)
	}
	vals := all[:0]
	for _, v := range all {
		if len(v) >= minSecretLen {
			vals = append(vals, v)
		}
	}
	return vals
}

func replaceFold(s, old string) string {
	if !strings.Contains(strings.ToLower(s), strings.ToLower(old)) {
		return s
	}
	re := regexp.MustCompile("(?i)" + regexp.QuoteMeta(old))
	return re.ReplaceAllLiteralString(s, redacted)
}

// guidRE has no word boundaries: "LoginId_<guid>" or a GUID run into other hex
// digits must not slip through.
var guidRE = regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// scrubGUIDs redacts anything GUID-shaped from a Flinks message: LoginIds, tokens and
// keys are all GUIDs, and Flinks echoes ids we may not know about (DeleteCard says
// "All of the information about LoginId <id> has been removed").
func scrubGUIDs(s string) string {
	return guidRE.ReplaceAllLiteralString(s, redacted)
}
