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
	"sync"
	"testing"
	"time"

	"flinkslink/flinks"
	"flinkslink/flinks/flinkstest"
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
	truncate bool              // declare a Content-Length longer than the body sent
	cut      bool              // send half the body, then drop the connection
	stall    time.Duration     // send half the body, wait this long (or until the client goes), send the rest
	location string            // Location header, for redirects
	serve    flinkstest.Answer // any other answer
}

// recorded is one call the fake received.
type recorded = flinkstest.Request

// fake is the kit's scripted Flinks (flinkstest.Server) with this package's
// defaults: per endpoint a script func(n) answer, where n counts that
// endpoint's calls from 1; unscripted data calls answer detailOK at once.
type fake struct {
	*flinkstest.Server
}

func newFake(t *testing.T) *fake {
	f := &fake{flinkstest.NewServer(t, testLoginID)}
	f.on("GetAccountsDetail", func(int) answer {
		return answer{serve: func(w http.ResponseWriter, r *http.Request) {
			reply(w, 200, detailOK(flinkstest.RequestIDOf(r)))
		}}
	})
	f.on("GetAccountsDetailAsync", func(int) answer {
		return answer{serve: func(w http.ResponseWriter, r *http.Request) {
			reply(w, 200, detailOK(flinkstest.RequestIDOf(r)))
		}}
	})
	return f
}

func (f *fake) on(endpoint string, script func(n int) answer) {
	f.On(endpoint, func(n int) flinkstest.Answer { return script(n).answer() })
}

// tokenN is the n-th minted token; GUID-shaped like Flinks' tokens.
func tokenN(n int) string { return flinkstest.TokenN(n) }

// requestIDN is the RequestId of the n-th Authorize.
func requestIDN(n int) string { return flinkstest.RequestIDN(n) }

func authorizeOK(requestID, loginID string) string {
	return flinkstest.AuthorizedBody(requestID, loginID)
}

func detailOK(requestID string) string {
	return fmt.Sprintf(`{"HttpStatusCode":200,"RequestId":%q,"Institution":"FlinksCapital",
		"Login":{"Id":%q},
		"Accounts":[{"Id":"acct-1","Title":"Chequing","Balance":{"Current":12.34},
		"Transactions":[{"Id":"t1","Date":"2025-01-31","Debit":1.5}]}]}`, requestID, testLoginID)
}

func pending(code, requestID string) answer {
	return answer{status: 202, body: flinkstest.PendingBody(code, requestID)}
}

func flinksError(status int, code, msg, requestID string) answer {
	return answer{status: status, body: fmt.Sprintf(`{"HttpStatusCode":%d,"FlinksCode":%q,"Message":%q,"RequestId":%q}`, status, code, msg, requestID)}
}

// answer is how this package's tests spell one of the kit's answers.
func (a answer) answer() flinkstest.Answer {
	switch {
	case a.serve != nil:
		return a.serve
	case a.hang:
		return flinkstest.Hang()
	case a.close:
		return flinkstest.Reset()
	case a.truncate:
		return flinkstest.Truncated(a.status, a.body)
	case a.cut:
		return flinkstest.CutMidBody(a.status, a.body)
	case a.stall > 0:
		return flinkstest.Stall(a.status, a.body, a.stall)
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		if a.location != "" {
			w.Header().Set("Location", a.location)
		}
		reply(w, a.status, a.body)
	}
}

func (f *fake) count(endpoint string) int { return f.Count(endpoint) }

func (f *fake) requests() []recorded { return f.Requests() }

func (f *fake) endpoints() []string {
	var out []string
	for _, r := range f.requests() {
		out = append(out, r.Endpoint)
	}
	return out
}

func (f *fake) client(t *testing.T, cfg flinks.Config) *flinks.Client {
	t.Helper()
	cfg.BaseURL = f.URL
	c, err := flinks.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
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
