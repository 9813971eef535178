package flinkstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// CustomerID is the {customerId} the Server serves: the public Toolbox's.
const CustomerID = "43387ca6-0391-4c82-857d-70d95f087ecb"

// Prefix is the path of every Banking Services endpoint on a Server.
const Prefix = "/v3/" + CustomerID + "/BankingServices/"

// Answer writes one response to a call, however broken.
type Answer func(w http.ResponseWriter, r *http.Request)

// Script answers the n-th call (from 1) of one endpoint.
type Script func(n int) Answer

// Request is one call a Server received.
type Request struct {
	Method   string
	Endpoint string // "Authorize", "GetAccountsDetailAsync", …
	ID       string // the path segment after the endpoint (the Async RequestId)
	Header   http.Header
	Body     []byte
	At       time.Time
}

// Server is a scripted Flinks API over real HTTP. Each endpoint answers by
// its Script; an endpoint without one answers like a healthy Flinks right
// after Connect: a token, a 200 Authorize (RequestId "req-N" for the N-th
// Authorize, the LoginId the request asked for), GetAccountsDetail 202
// OPERATION_PENDING, then the Async poll's data. Safe for concurrent use.
type Server struct {
	// URL is the API base to configure a client with: scheme, host and
	// /v3/{customerId}.
	URL string
	// LoginID is the LoginId the default data answers name.
	LoginID string

	t    testing.TB
	srv  *httptest.Server
	stop chan struct{} // closed at cleanup: stalled answers return

	mu      sync.Mutex
	scripts map[string]Script
	counts  map[string]int
	keyed   map[string]int // calls that carried x-api-key or flinks-auth-key
	reqs    []Request
}

// NewServer starts a Server whose default data names loginID; it stops when
// the test ends. A request outside Prefix fails the test.
func NewServer(t testing.TB, loginID string) *Server {
	s := &Server{LoginID: loginID, t: t, stop: make(chan struct{}),
		scripts: map[string]Script{}, counts: map[string]int{}, keyed: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/v3/" + CustomerID
	t.Cleanup(s.srv.Close)
	t.Cleanup(func() { close(s.stop) }) // runs first: unblocks stalled answers so Close can return
	return s
}

// On scripts endpoint's answers, replacing any earlier script.
func (s *Server) On(endpoint string, script Script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts[endpoint] = script
}

// Count is how many calls endpoint got.
func (s *Server) Count(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[endpoint]
}

// Keyed is how many calls of endpoint carried x-api-key or flinks-auth-key.
func (s *Server) Keyed(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keyed[endpoint]
}

// Requests returns every call received, in order of arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		s.t.Errorf("request outside %s: %s %s", Prefix, r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	endpoint, id, _ := strings.Cut(rest, "/")
	// An answer that waits (Hang, Stall) also ends when the test does.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	r = r.WithContext(ctx)
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))

	s.mu.Lock()
	s.counts[endpoint]++
	n := s.counts[endpoint]
	if r.Header.Get("x-api-key") != "" || r.Header.Get("flinks-auth-key") != "" {
		s.keyed[endpoint]++
	}
	s.reqs = append(s.reqs, Request{Method: r.Method, Endpoint: endpoint, ID: id, Header: r.Header.Clone(), Body: body, At: time.Now()})
	script := s.scripts[endpoint]
	authorizes := s.counts["Authorize"]
	s.mu.Unlock()

	if script != nil {
		script(n)(w, r)
		return
	}
	switch endpoint {
	case "GenerateAuthorizeToken":
		Reply(200, fmt.Sprintf(`{"HttpStatusCode":200,"Token":%q}`, TokenN(n)))(w, r)
	case "Authorize":
		var req struct{ LoginID string }
		_ = json.Unmarshal(body, &req)
		Authorized(RequestIDN(authorizes), req.LoginID)(w, r)
	case "GetAccountsDetail":
		Pending("OPERATION_PENDING")(w, r)
	case "GetAccountsDetailAsync":
		Detail(id, s.LoginID)(w, r)
	default:
		s.t.Errorf("unexpected endpoint %q", endpoint)
		http.NotFound(w, r)
	}
}

// TokenN is the n-th minted authorize token; GUID-shaped like Flinks' tokens.
func TokenN(n int) string { return fmt.Sprintf("%08d-aaaa-4bbb-8ccc-eeeeeeeeeeee", n) }

// RequestIDN is the RequestId of the n-th Authorize by default.
func RequestIDN(n int) string { return fmt.Sprintf("req-%d", n) }

// --- answers ---

// Reply answers status with a JSON body.
func Reply(status int, body string) Answer {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// FlinksError answers Flinks' error shape; requestID may be empty.
func FlinksError(status int, code, message, requestID string) Answer {
	return Reply(status, fmt.Sprintf(`{"HttpStatusCode":%d,"FlinksCode":%q,"Message":%q,"RequestId":%q}`, status, code, message, requestID))
}

// Authorized is a 200 Authorize for loginID.
func Authorized(requestID, loginID string) Answer {
	return Reply(200, AuthorizedBody(requestID, loginID))
}

// AuthorizedBody is the body of Authorized.
func AuthorizedBody(requestID, loginID string) string {
	return fmt.Sprintf(`{"HttpStatusCode":200,"InstitutionName":"FlinksCapital","Institution":"FlinksCapital","InstitutionId":14,
		"Login":{"Username":"Greatday","IsScheduledRefresh":false,"LastRefresh":"2026-01-21T20:47:47.145999","Type":"Personal","Id":%q},
		"RequestId":%q}`, loginID, requestID)
}

// RequestIDOf is the RequestId a data call is about: the poller's path
// segment, or GetAccountsDetail's body.
func RequestIDOf(r *http.Request) string {
	if _, id, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, Prefix), "/"); ok {
		return id
	}
	raw, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(raw))
	var body struct{ RequestID string }
	_ = json.Unmarshal(raw, &body)
	return body.RequestID
}

// Pending is a 202 with code (OPERATION_PENDING or OPERATION_DISPATCHED) for
// the RequestId the call is about.
func Pending(code string) Answer {
	return func(w http.ResponseWriter, r *http.Request) {
		Reply(202, PendingBody(code, RequestIDOf(r)))(w, r)
	}
}

// PendingBody is the body of a 202.
func PendingBody(code, requestID string) string {
	return fmt.Sprintf(`{"FlinksCode":%q,"HttpStatusCode":202,"Message":"Your operation is still processing","RequestId":%q}`, code, requestID)
}

// DetailBody is a GetAccountsDetail 200 with one chequing account.
func DetailBody(requestID, loginID string) string {
	return fmt.Sprintf(`{"HttpStatusCode":200,"RequestId":%q,"Institution":"FlinksCapital",
		"Login":{"Id":%q,"Username":"greatday_nomfa"},
		"Accounts":[{"Id":"0d3e8c5a-5f2b-4f0e-9d0a-6a1b2c3d4e5f","Title":"Chequing","AccountNumber":"1111000","Category":"Operations",
		"Type":"Chequing","Currency":"CAD","Balance":{"Available":5105.5,"Current":5105.5,"Limit":null},
		"Transactions":[{"Id":"t1","Date":"2026-01-30","Description":"PAYROLL","Credit":1500.25,"Balance":5105.5}]}]}`,
		requestID, loginID)
}

// Detail answers DetailBody.
func Detail(requestID, loginID string) Answer { return Reply(200, DetailBody(requestID, loginID)) }

// DetailFor answers the data for whatever RequestId the call is about.
func DetailFor(loginID string) Answer {
	return func(w http.ResponseWriter, r *http.Request) { Detail(RequestIDOf(r), loginID)(w, r) }
}

// Truncated declares a Content-Length 100 bytes longer than the body it
// sends; the server then closes the connection.
func Truncated(status int, body string) Answer {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)+100))
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// CutMidBody sends the headers and half the body, then drops the connection.
func CutMidBody(status int, body string) Answer {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body[:len(body)/2])
		_ = http.NewResponseController(w).Flush()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}

// Reset drops the connection before answering anything.
func Reset() Answer {
	return func(w http.ResponseWriter, _ *http.Request) {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}

// Stall sends the headers and half the body, then the rest after d, unless
// the client gives up or the test ends first.
func Stall(status int, body string, d time.Duration) Answer {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		half := len(body) / 2
		_, _ = io.WriteString(w, body[:half])
		_ = http.NewResponseController(w).Flush()
		select {
		case <-time.After(d):
			_, _ = io.WriteString(w, body[half:])
		case <-r.Context().Done():
		}
	}
}

// Hang never answers: no headers, no body, until the client gives up or the
// test ends.
func Hang() Answer {
	return func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
}

// HTML answers status with a proxy's HTML error page, as a load balancer does.
func HTML(status int) Answer {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center><hr><center>nginx</center></body></html>",
			status, http.StatusText(status), status, http.StatusText(status))
	}
}

// Redirect answers 302 to to.
func Redirect(to string) Answer {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
}

// Always answers a on every call.
func Always(a Answer) Script { return func(int) Answer { return a } }

// First answers a on the first k calls and b after.
func First(k int, a, b Answer) Script {
	return func(n int) Answer {
		if n <= k {
			return a
		}
		return b
	}
}
