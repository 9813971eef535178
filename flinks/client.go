// Package flinks is a client for the Flinks Banking Services API (v3):
// GenerateAuthorizeToken, Authorize (including the MFA answer), GetAccountsSummary,
// GetAccountsDetail, their Async pollers and DeleteCard, plus FetchCached, which runs
// the whole cached flow (Authorize → GetAccountsDetail → poll until ready) as one call.
//
// Money is decoded exactly into Amount (cents) from the JSON number text, never through
// float64. Errors returned by the API are *Error values; classify them with errors.As
// and (*Error).Kind, or with KindOf for any error returned by this package.
//
// The LoginId is a permanent credential: this package never puts it, the API key, the
// secret key or an authorize token into an error message, a Call or a StateChange.
//
// Flinks API docs: https://docs.flinks.com/reference
package flinks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the API base including the customer id, e.g.
	// https://toolbox-api.private.fin.ag/v3/43387ca6-0391-4c82-857d-70d95f087ecb.
	// The client appends /BankingServices/<Endpoint>. A trailing slash (or a trailing
	// /BankingServices) is tolerated. It must be an absolute http(s) URL without
	// credentials, query or fragment.
	BaseURL string
	// APIKey is sent as x-api-key on the data endpoints (GetAccounts*, *Async,
	// DeleteCard) when non-empty. Instances without the feature enabled need none.
	APIKey string
	// SecretKey, when non-empty, is used to mint a fresh authorize token with
	// GenerateAuthorizeToken for every Authorize call that does not carry one.
	SecretKey string
	// HTTPClient is used for every call. When nil, a client with a 4-minute timeout
	// (longer than Flinks' 210 s synchronous limit) that does not follow redirects is used.
	HTTPClient *http.Client
}

// DefaultTimeout is the per-call timeout of the default HTTP client. Flinks answers a
// synchronous data call within 210 s (then dispatches it and answers 202), so the
// timeout must be longer than that.
const DefaultTimeout = 4 * time.Minute

// Body size caps. Data payloads (a year of transactions on many accounts) can be a
// few MiB; error envelopes are tiny, so anything large there is not Flinks talking.
const (
	maxDataBody  = 32 << 20
	maxErrorBody = 64 << 10
	maxCallBody  = 256 << 10
)

// Client is a Flinks Banking Services API client. It is safe for concurrent use.
type Client struct {
	base       string // scheme://host/path without trailing slash
	apiKey     string
	secretKey  string
	httpClient *http.Client
}

// NewClient validates cfg and returns a Client.
func NewClient(cfg Config) (*Client, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{
			Timeout:   DefaultTimeout,
			Transport: newTransport(),
			// Go forwards custom headers such as x-api-key and flinks-auth-key on
			// redirects, even to other hosts; Flinks never redirects API calls, so a
			// redirect is reported as an unexpected response instead of followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &Client{
		base:       base,
		apiKey:     cfg.APIKey,
		secretKey:  cfg.SecretKey,
		httpClient: hc,
	}, nil
}

// MaxIdleConns is how many idle connections to Flinks the client keeps for
// reuse. Net/http keeps 2 per host by default, so with more fetches in
// flight most calls opened a new TCP (and TLS) connection and left one in
// TIME_WAIT; this is sized to the fetches that call Flinks at once.
const MaxIdleConns = 64

// newTransport is http.DefaultTransport's settings with room for
// MaxIdleConns idle connections to the one host the client calls.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = MaxIdleConns
	t.MaxIdleConnsPerHost = MaxIdleConns
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// parseBaseURL parses the base URL once. Error messages do not echo the URL, since a
// misconfigured one could carry credentials.
func parseBaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("flinks: Config.BaseURL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("flinks: Config.BaseURL is not a valid URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("flinks: Config.BaseURL must be an absolute http(s) URL")
	}
	if u.User != nil {
		return "", errors.New("flinks: Config.BaseURL must not contain credentials")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", errors.New("flinks: Config.BaseURL must not have a query or fragment")
	}
	p := strings.TrimRight(u.EscapedPath(), "/")
	// People often paste the documented endpoint prefix; accept it rather than
	// building .../BankingServices/BankingServices/...
	if strings.HasSuffix(strings.ToLower(p), "/bankingservices") {
		p = strings.TrimRight(p[:len(p)-len("/bankingservices")], "/")
	}
	return u.Scheme + "://" + u.Host + p, nil
}

// Endpoint names, as they appear in URLs, Error.Endpoint and Call.Endpoint.
const (
	epGenerateAuthorizeToken  = "GenerateAuthorizeToken"
	epAuthorize               = "Authorize"
	epGetAccountsDetail       = "GetAccountsDetail"
	epGetAccountsDetailAsync  = "GetAccountsDetailAsync"
	epGetAccountsSummary      = "GetAccountsSummary"
	epGetAccountsSummaryAsync = "GetAccountsSummaryAsync"
	epDeleteCard              = "DeleteCard"
)

// request describes one HTTP exchange with Flinks.
type request struct {
	method   string
	endpoint string
	pathID   string // appended as one escaped path segment (RequestId, LoginId)
	body     any    // JSON-encoded when non-nil
	authKey  string // flinks-auth-key value, sent when non-empty
	apiKey   bool   // send x-api-key when configured
	// ok lists the statuses handed to decode; every other status becomes an *Error.
	ok     []int
	decode func(status int, body []byte) error
	// requestID is the RequestId the call is about, used when the answer lacks one.
	requestID string
	// secrets are credentials (authorize token, password) redacted from errors,
	// Calls and Call.Body. decode may append to it (a freshly minted token).
	secrets []string
	// private are ids (LoginId, username) redacted from errors and Call text but
	// left in Call.Body, which the app masks.
	private []string
}

// observer receives a Call after every HTTP exchange; FetchCached installs one, the
// single-call methods pass nil.
type observer struct {
	now     func() time.Time
	onCall  func(Call)
	private []string // ids (the LoginId) redacted from every error and Call of this operation
	secrets []string // credentials minted during this operation (authorize tokens), redacted everywhere
	// callTimeout bounds each exchange, from sending the request to the last byte
	// of the body; 0 leaves only the HTTP client's own timeout.
	callTimeout time.Duration
	// limit, when set, is the latest moment (real time) any exchange of this
	// operation may run to: FetchCached's bound on the whole fetch.
	limit func() time.Time
}

func (o *observer) timeout() time.Duration {
	if o == nil {
		return 0
	}
	return o.callTimeout
}

func (o *observer) timeNow() time.Time {
	if o != nil && o.now != nil {
		return o.now()
	}
	return time.Now()
}

// do performs one exchange: builds the request, sends it, reads the capped body,
// turns non-OK statuses into *Error, hands OK ones to r.decode, and reports a Call.
func (c *Client) do(ctx context.Context, obs *observer, r *request) error {
	if obs != nil {
		r.private = append(r.private, obs.private...)
		r.secrets = append(r.secrets, obs.secrets...)
	}
	// The per-call deadline covers the whole exchange, body included: a server
	// that sends its headers and then trickles (or stalls) the body is cut off
	// like one that never answers. ctx (the caller's) still decides cancellation.
	callCtx := ctx
	timeout := obs.timeout()
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	if obs != nil && obs.limit != nil {
		if l := obs.limit(); deadline.IsZero() || l.Before(deadline) {
			deadline = l
		}
	}
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	req, err := c.newRequest(callCtx, r)
	if err != nil {
		return fmt.Errorf("flinks: %s: %w", r.endpoint, err)
	}
	call := Call{Endpoint: r.endpoint, Method: r.method, RequestID: r.requestID, Started: obs.timeNow()}
	start := time.Now()

	resp, err := c.httpClient.Do(req)
	if err != nil {
		call.Duration = time.Since(start)
		err = c.transportError(ctx, r, err, timeout)
		call.Err = c.scrub(err.Error(), r)
		obs.report(call)
		return err
	}
	defer resp.Body.Close()

	status := resp.StatusCode
	limit := int64(maxErrorBody)
	if status >= 200 && status < 300 {
		limit = maxDataBody
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	call.Duration = time.Since(start)
	if readErr != nil {
		// The answer broke off: the connection was reset or closed before the
		// declared length, or the per-call timeout ran out mid-body. Nothing in a
		// partial answer can be trusted, so it is a network failure (retried),
		// whatever its status line said.
		// Body stays nil: a partial answer may hold half a credential (a token
		// cut before decode could mark it secret) and says nothing useful.
		call.StatusCode = status
		if ctxErr := ctx.Err(); ctxErr != nil {
			call.Err = ctxErr.Error()
			obs.report(call)
			return fmt.Errorf("flinks: %s: %w", r.endpoint, ctxErr)
		}
		te := c.bodyError(r, status, readErr, timeout)
		call.Err = te.msg
		obs.report(call)
		return fmt.Errorf("flinks: %s: %w", r.endpoint, te)
	}
	tooLarge := int64(len(body)) > limit
	if tooLarge {
		body = body[:limit]
	}
	// Decoding is bounded by the bytes received, not by what they nest to.
	tooDeep := NestingDepth(body) > MaxNesting

	var env envelope
	if !tooDeep {
		env = c.cleanEnvelope(parseEnvelope(body), r)
	}
	// Some clients distinguish ready from pending by the body's HttpStatusCode; if
	// the status line says 200 but the envelope says otherwise, the envelope wins.
	if status == http.StatusOK {
		if bs := env.status(); bs != 0 && bs != http.StatusOK {
			status = bs
		}
	}
	call.StatusCode = status
	call.FlinksCode = env.FlinksCode
	if env.RequestID != "" {
		call.RequestID = env.RequestID
	}

	var result error
	switch {
	case contains(r.ok, status):
		var detail error
		switch {
		case tooLarge:
			detail = fmt.Errorf("response body exceeds %d bytes", limit)
		case tooDeep:
			detail = fmt.Errorf("response body nests deeper than %d levels", MaxNesting)
		default:
			detail = r.decode(status, body)
		}
		if detail != nil {
			call.Err = c.scrub(detail.Error(), r)
			result = &Error{
				Endpoint:   r.endpoint,
				StatusCode: status,
				Message:    msgMalformed,
				RequestID:  firstNonEmpty(env.RequestID, r.requestID),
			}
		}
	default:
		e := c.newError(r, status, env)
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		result = e
	}
	call.Body = c.scrubBody(body, r)
	obs.report(call)
	return result
}

func (c *Client) newRequest(ctx context.Context, r *request) (*http.Request, error) {
	u := c.endpointURL(r.endpoint)
	if r.pathID != "" {
		u += "/" + url.PathEscape(r.pathID)
	}
	var body io.Reader
	if r.body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		// Passwords and MFA prompts are sent verbatim; \u0026-style escaping is
		// legal JSON but needlessly different from what the user typed.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r.body); err != nil {
			return nil, fmt.Errorf("encoding request: %w", err)
		}
		body = &buf
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		// The URL may contain the LoginId; do not wrap the parse error.
		return nil, errors.New("building request failed")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if r.authKey != "" {
		req.Header.Set("flinks-auth-key", r.authKey)
	}
	if r.apiKey && c.apiKey != "" {
		req.Header.Set("x-api-key", c.apiKey)
	}
	return req, nil
}

func (c *Client) endpointURL(endpoint string) string {
	return c.base + "/BankingServices/" + endpoint
}

// transportError wraps a failed round trip. A cancelled ctx (the caller's, not the
// per-call deadline) is reported as the context's error; anything else, including
// the per-call timeout, becomes a *TransportError whose URL has the path id
// (RequestId or LoginId) redacted.
func (c *Client) transportError(ctx context.Context, r *request, err error, timeout time.Duration) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("flinks: %s: %w", r.endpoint, ctxErr)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		u := c.endpointURL(r.endpoint)
		if r.pathID != "" {
			u += "/" + redacted
		}
		err = &url.Error{Op: ue.Op, URL: u, Err: ue.Err}
	}
	msg := err.Error()
	if timeout > 0 && errors.Is(err, context.DeadlineExceeded) {
		msg = fmt.Sprintf("no answer within %s: %s", timeout, msg)
	}
	return fmt.Errorf("flinks: %s: %w", r.endpoint, &TransportError{Err: err, msg: c.scrub(msg, r)})
}

// bodyError is the *TransportError for an answer whose body could not be read to
// the end.
func (c *Client) bodyError(r *request, status int, readErr error, timeout time.Duration) *TransportError {
	err := fmt.Errorf("reading the body of an HTTP %d answer: %w", status, readErr)
	msg := err.Error()
	if timeout > 0 && errors.Is(readErr, context.DeadlineExceeded) {
		msg = fmt.Sprintf("answer not complete within %s (HTTP %d): %s", timeout, status, readErr)
	}
	return &TransportError{Err: err, msg: c.scrub(msg, r)}
}

// TransportError is a network-level failure: no complete HTTP answer was received
// (connection refused or reset, a body cut short of its Content-Length, or no
// complete answer within FetchOptions.CallTimeout or the HTTP client's timeout).
// Its text has keys and the LoginId redacted. KindOf reports KindRetryLater for it.
type TransportError struct {
	Err error // the underlying error; a *url.Error's URL has the path id redacted
	msg string
}

// Error returns the scrubbed text of the underlying error.
func (e *TransportError) Error() string { return e.msg }

// Unwrap returns the underlying error, so errors.Is(err, os.ErrDeadlineExceeded) etc. work.
func (e *TransportError) Unwrap() error { return e.Err }

func (o *observer) report(c Call) {
	if o != nil && o.onCall != nil {
		o.onCall(c)
	}
}

// envelope is the part every Flinks answer shares.
type envelope struct {
	HTTPStatusCode int    `json:"HttpStatusCode"`
	StatusCode     int    `json:"StatusCode"` // DeleteCard says StatusCode
	FlinksCode     string `json:"FlinksCode"`
	Message        string `json:"Message"`
	RequestID      string `json:"RequestId"`
	valid          bool   // the body was a JSON object
}

func (e envelope) status() int {
	if e.HTTPStatusCode != 0 {
		return e.HTTPStatusCode
	}
	return e.StatusCode
}

// parseEnvelope reads the common fields, tolerating any body (HTML, truncated,
// a field of an unexpected type).
func parseEnvelope(body []byte) envelope {
	var env envelope
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return env
	}
	err := json.Unmarshal(trimmed, &env)
	var te *json.UnmarshalTypeError
	env.valid = err == nil || errors.As(err, &te)
	if !env.valid {
		return envelope{}
	}
	return env
}

// flinksCodePattern is the shape of every FlinksCode (OPERATION_PENDING, ...).
var flinksCodePattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// maxRequestIDLen bounds a RequestId taken from an answer (Flinks' are
// 36-character GUIDs).
const maxRequestIDLen = 64

// cleanEnvelope drops envelope fields that cannot be what Flinks sends: a
// FlinksCode that is not a code, and a RequestId that is too long or carries a
// credential or the LoginId. Both end up in errors, Calls and the app's
// database, so a confused or hostile upstream must not be able to put an id
// there that this package promises to keep out.
func (c *Client) cleanEnvelope(env envelope, r *request) envelope {
	env.FlinksCode = strings.TrimSpace(env.FlinksCode)
	if env.FlinksCode != "" && !flinksCodePattern.MatchString(env.FlinksCode) {
		env.FlinksCode = ""
	}
	if !c.usableRequestID(env.RequestID, r) {
		env.RequestID = ""
	}
	return env
}

// usableRequestID reports whether id can be used and shown as a RequestId:
// non-empty, short, printable ASCII without spaces, and containing none of the
// call's credentials or private ids.
func (c *Client) usableRequestID(id string, r *request) bool {
	// Flinks' RequestIds are GUIDs: letters, digits and dashes are all a
	// RequestId may hold, so that ".." or "a/b" never becomes a path we call.
	if !usableID(id) {
		return false
	}
	lower := strings.ToLower(id)
	for _, v := range c.sensitive(r, true) {
		if strings.Contains(lower, strings.ToLower(v)) {
			return false
		}
	}
	return true
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
