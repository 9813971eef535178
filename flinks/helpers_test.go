package flinks_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"flinkslink/flinks"
)

const (
	customerID = "43387ca6-0391-4c82-857d-70d95f087ecb"
	basePath   = "/v3/" + customerID
	prefix     = basePath + "/BankingServices/"

	testAPIKey = "apikey-3d5266a8-b697-48d4"
	testSecret = "secret-c4569c54-e167-4d34"
	// testLoginID is deliberately not GUID-shaped so scrubbing is proven to work
	// by value, not only by the GUID pattern.
	testLoginID = "LOGIN-5602459c-secret-card"
)

// newServer starts an httptest server whose handler serves only under basePath;
// anything else fails the test. It returns a client pointed at the base path.
func newServer(t *testing.T, cfg flinks.Config, h http.Handler) (*flinks.Client, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(basePath+"/", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL.Path)
		http.Error(w, "not found", http.StatusNotFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL + basePath
	c, err := flinks.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, srv
}

// setup is the go-github style helper: a mux to register endpoint handlers on and a
// client with both keys configured.
func setup(t *testing.T) (*http.ServeMux, *flinks.Client) {
	t.Helper()
	mux := http.NewServeMux()
	c, _ := newServer(t, flinks.Config{APIKey: testAPIKey, SecretKey: testSecret}, mux)
	return mux, c
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if got := r.Method; got != want {
		t.Errorf("method = %s, want %s", got, want)
	}
}

func testHeader(t *testing.T, r *http.Request, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("header %s = %q, want %q", name, got, want)
	}
}

func testNoHeader(t *testing.T, r *http.Request, name string) {
	t.Helper()
	if v, ok := r.Header[http.CanonicalHeaderKey(name)]; ok {
		t.Errorf("header %s = %q, want absent", name, v)
	}
}

func testJSONHeaders(t *testing.T, r *http.Request) {
	t.Helper()
	testHeader(t, r, "Content-Type", "application/json")
	testHeader(t, r, "Accept", "application/json")
}

// testBody compares the request body with want as JSON values.
func testBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	var got, exp any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, b)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad want: %v", err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("request body = %s\nwant %s", b, want)
	}
}

func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// equal fails with both values as indented JSON when they differ.
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("%s differs:\ngot  %s\nwant %s", what, g, w)
	}
}

func ptr[T any](v T) *T { return &v }

// --- scriptable fake Flinks for FetchCached ---

type answer struct {
	status int
	body   string
	hang   bool // block until the client goes away
	close  bool // drop the connection without answering
	// Broken bodies: the status line and headers arrive, the body does not.
	truncate bool          // declare a Content-Length longer than the body sent
	cut      bool          // send half the body, then drop the connection
	stall    time.Duration // send half the body, wait this long (or until the client goes), send the rest
	location string        // Location header, for redirects
}

type recorded struct {
	Method, Endpoint, ID string
	Header               http.Header
	Body                 []byte
	At                   time.Time
}

// fake is a Flinks double: per endpoint a script func(n) answer, where n counts that
// endpoint's calls from 1. Unscripted endpoints get sensible successes.
type fake struct {
	t       *testing.T
	mu      sync.Mutex
	scripts map[string]func(n int) answer
	counts  map[string]int
	reqs    []recorded
}

func newFake(t *testing.T) *fake {
	return &fake{t: t, scripts: map[string]func(int) answer{}, counts: map[string]int{}}
}

func (f *fake) on(endpoint string, script func(n int) answer) { f.scripts[endpoint] = script }

// tokenN is the n-th minted token; GUID-shaped like Flinks' tokens.
func tokenN(n int) string { return fmt.Sprintf("%08d-aaaa-4bbb-8ccc-eeeeeeeeeeee", n) }

// requestIDN is the RequestId of the n-th Authorize.
func requestIDN(n int) string { return fmt.Sprintf("req-%d", n) }

func authorizeOK(requestID, loginID string) string {
	return fmt.Sprintf(`{"HttpStatusCode":200,"InstitutionName":"FlinksCapital","Institution":"FlinksCapital","InstitutionId":14,
		"Login":{"Username":"Greatday","IsScheduledRefresh":false,"LastRefresh":"2026-01-21T20:47:47.145999","Type":"Personal","Id":%q},
		"RequestId":%q}`, loginID, requestID)
}

func detailOK(requestID string) string {
	return fmt.Sprintf(`{"HttpStatusCode":200,"RequestId":%q,"Institution":"FlinksCapital",
		"Login":{"Id":%q},
		"Accounts":[{"Id":"acct-1","Title":"Chequing","Balance":{"Current":12.34},
		"Transactions":[{"Id":"t1","Date":"2025-01-31","Debit":1.5}]}]}`, requestID, testLoginID)
}

func pending(code, requestID string) answer {
	return answer{status: 202, body: fmt.Sprintf(`{"FlinksCode":%q,"HttpStatusCode":202,"Message":"Your operation is still processing","RequestId":%q}`, code, requestID)}
}

func flinksError(status int, code, msg, requestID string) answer {
	return answer{status: status, body: fmt.Sprintf(`{"HttpStatusCode":%d,"FlinksCode":%q,"Message":%q,"RequestId":%q}`, status, code, msg, requestID)}
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		f.t.Errorf("path %q lacks prefix %q", r.URL.Path, prefix)
		http.NotFound(w, r)
		return
	}
	endpoint, id, _ := strings.Cut(rest, "/")
	body, _ := io.ReadAll(r.Body)

	f.mu.Lock()
	f.counts[endpoint]++
	n := f.counts[endpoint]
	f.reqs = append(f.reqs, recorded{Method: r.Method, Endpoint: endpoint, ID: id, Header: r.Header.Clone(), Body: body, At: time.Now()})
	script := f.scripts[endpoint]
	authorizes := f.counts["Authorize"]
	f.mu.Unlock()

	var a answer
	switch {
	case script != nil:
		a = script(n)
	case endpoint == "GenerateAuthorizeToken":
		a = answer{status: 200, body: fmt.Sprintf(`{"HttpStatusCode":200,"Token":%q}`, tokenN(n))}
	case endpoint == "Authorize":
		var req struct{ LoginID string }
		json.Unmarshal(body, &req)
		a = answer{status: 200, body: authorizeOK(requestIDN(authorizes), req.LoginID)}
	case endpoint == "GetAccountsDetail":
		var req struct{ RequestID string }
		json.Unmarshal(body, &req)
		a = answer{status: 200, body: detailOK(req.RequestID)}
	case endpoint == "GetAccountsDetailAsync":
		a = answer{status: 200, body: detailOK(id)}
	default:
		f.t.Errorf("unexpected endpoint %q", endpoint)
		a = answer{status: 404, body: "not found"}
	}
	switch {
	case a.hang:
		<-r.Context().Done()
	case a.close:
		hj, _ := w.(http.Hijacker)
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
	case a.truncate, a.cut, a.stall > 0:
		brokenReply(w, r, a)
	default:
		if a.location != "" {
			w.Header().Set("Location", a.location)
		}
		reply(w, a.status, a.body)
	}
}

// brokenReply sends a's status and headers, then a body that does not arrive whole.
func brokenReply(w http.ResponseWriter, r *http.Request, a answer) {
	half := len(a.body) / 2
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	if a.truncate {
		w.Header().Set("Content-Length", strconv.Itoa(len(a.body)+100))
	}
	w.WriteHeader(a.status)
	switch {
	case a.truncate:
		// The server closes the connection when the handler returns short.
		io.WriteString(w, a.body)
	case a.cut:
		io.WriteString(w, a.body[:half])
		w.(http.Flusher).Flush()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	default:
		io.WriteString(w, a.body[:half])
		w.(http.Flusher).Flush()
		select {
		case <-time.After(a.stall):
			io.WriteString(w, a.body[half:])
		case <-r.Context().Done():
		}
	}
}

// count is how many calls endpoint got, read under the lock: a handler that
// never answered has written nothing the race detector can order after.
func (f *fake) count(endpoint string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[endpoint]
}

func (f *fake) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fake) endpoints() []string {
	var out []string
	for _, r := range f.requests() {
		out = append(out, r.Endpoint)
	}
	return out
}

func (f *fake) client(t *testing.T, cfg flinks.Config) *flinks.Client {
	t.Helper()
	c, _ := newServer(t, cfg, f)
	return c
}

// trace collects OnCall and OnState reports.
type trace struct {
	mu     sync.Mutex
	calls  []flinks.Call
	states []flinks.StateChange
}

func (tr *trace) opts(o flinks.FetchOptions) flinks.FetchOptions {
	o.OnCall = func(c flinks.Call) { tr.mu.Lock(); tr.calls = append(tr.calls, c); tr.mu.Unlock() }
	prev := o.OnState
	o.OnState = func(s flinks.StateChange) {
		tr.mu.Lock()
		tr.states = append(tr.states, s)
		tr.mu.Unlock()
		if prev != nil {
			prev(s)
		}
	}
	return o
}

func (tr *trace) stages() []flinks.Stage {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []flinks.Stage
	for _, s := range tr.states {
		out = append(out, s.Stage)
	}
	return out
}

func (tr *trace) callSummary() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []string
	for _, c := range tr.calls {
		out = append(out, fmt.Sprintf("%s %s %d #%d", c.Method, c.Endpoint, c.StatusCode, c.Attempt))
	}
	return out
}

// checkTerminal asserts exactly one terminal state change, last.
func (tr *trace) checkTerminal(t *testing.T, want flinks.Stage) {
	t.Helper()
	st := tr.stages()
	n := 0
	for _, s := range st {
		if s == flinks.StageReady || s == flinks.StageFailed || s == flinks.StageTimedOut {
			n++
		}
	}
	if n != 1 || len(st) == 0 || st[len(st)-1] != want {
		t.Errorf("stages = %v, want exactly one terminal stage %q at the end", st, want)
	}
}

// fastOpts are FetchOptions with millisecond timings.
func fastOpts() flinks.FetchOptions {
	return flinks.FetchOptions{
		PollInterval: 5 * time.Millisecond,
		Timeout:      5 * time.Second,
		BackoffBase:  time.Millisecond,
		BackoffMax:   3 * time.Millisecond,
	}
}

// mustNotContain fails if s contains any of the secrets (case-insensitively).
func mustNotContain(t *testing.T, where string, s []byte, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if bytes.Contains(bytes.ToLower(s), bytes.ToLower([]byte(sec))) {
			t.Errorf("%s contains %q: %s", where, sec, s)
		}
	}
}
