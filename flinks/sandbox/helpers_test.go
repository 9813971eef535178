package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"flinkslink/flinks/flinkstest"
	"flinkslink/flinks/sandbox"
)

// Toolbox credentials, spelled out here rather than taken from the package,
// so a typo in a default would show.
const (
	customerID = "43387ca6-0391-4c82-857d-70d95f087ecb"
	secretKey  = "c4569c54-e167-4d34-8de6-f4113bc82414"
	apiKey     = "3d5266a8-b697-48d4-8de6-52e2e2662acc"
)

var (
	guidRe        = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	lastRefreshRe = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$`)
	t0            = time.Date(2026, 1, 21, 20, 47, 47, 145999000, time.UTC)
)

// harness is a sandbox behind a real HTTP server, on a fake clock unless
// the config brings its own.
type harness struct {
	t     *testing.T
	srv   *sandbox.Server
	ts    *httptest.Server
	clock *flinkstest.Clock
	api   string
}

func newHarness(t *testing.T, cfg sandbox.Config) *harness {
	t.Helper()
	h := &harness{t: t, clock: flinkstest.NewClock(t0)}
	if cfg.Now == nil {
		cfg.Now = h.clock.Now
	}
	srv, err := sandbox.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.srv = srv
	h.ts = httptest.NewServer(srv)
	t.Cleanup(func() {
		h.ts.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	h.api = h.ts.URL + cfg.Prefix + "/v3/" + customerID + "/BankingServices"
	return h
}

// response is a decoded API answer.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any // nil when the body is not a JSON object
}

func (h *harness) do(method, url string, headers map[string]string, body any) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		h.t.Fatalf("request: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatalf("read: %v", err)
	}
	out := response{status: res.StatusCode, header: res.Header, raw: raw}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		out.body = m
	}
	return out
}

// token mints an authorize token.
func (h *harness) token() string {
	h.t.Helper()
	r := h.do("POST", h.api+"/GenerateAuthorizeToken", map[string]string{"flinks-auth-key": secretKey}, nil)
	if r.status != 200 {
		h.t.Fatalf("GenerateAuthorizeToken: got %d %s", r.status, r.raw)
	}
	return r.body["Token"].(string)
}

// authorize calls /Authorize with a fresh token.
func (h *harness) authorize(body any) response {
	h.t.Helper()
	return h.authorizeWith(h.token(), body)
}

func (h *harness) authorizeWith(token string, body any) response {
	h.t.Helper()
	return h.do("POST", h.api+"/Authorize", map[string]string{"flinks-auth-key": token}, body)
}

// live logs a scenario user in through the API and returns the LoginId.
func (h *harness) live(username string) string {
	h.t.Helper()
	r := h.authorize(map[string]any{"Institution": "FlinksCapital", "Username": username, "Password": "Everyday",
		"MostRecentCached": false, "Save": true})
	if r.status != 200 {
		h.t.Fatalf("live Authorize %s: got %d %s", username, r.status, r.raw)
	}
	return str(h.t, r.body, "Login", "Id")
}

// cached opens a cached session on a LoginId and returns its RequestId.
func (h *harness) cached(loginID string) string {
	h.t.Helper()
	r := h.authorize(map[string]any{"LoginId": loginID, "MostRecentCached": true})
	if r.status != 200 {
		h.t.Fatalf("cached Authorize: got %d %s", r.status, r.raw)
	}
	return str(h.t, r.body, "RequestId")
}

func (h *harness) detail(requestID string, extra map[string]any) response {
	h.t.Helper()
	body := map[string]any{"RequestId": requestID}
	for k, v := range extra {
		body[k] = v
	}
	return h.do("POST", h.api+"/GetAccountsDetail", map[string]string{"x-api-key": apiKey}, body)
}

func (h *harness) poll(requestID string) response {
	h.t.Helper()
	return h.do("GET", h.api+"/GetAccountsDetailAsync/"+requestID, map[string]string{"x-api-key": apiKey}, nil)
}

// ready returns the LoginId of a user whose first scrape is over.
func (h *harness) ready(username string, pending time.Duration) string {
	h.t.Helper()
	id := h.live(username)
	h.clock.Advance(pending)
	return id
}

// get walks a path of keys through decoded JSON.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not an object: %v", k, v)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("missing key %q in %v", k, keys(m))
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at [%d]: not an array that long: %v", k, v)
			}
			v = a[k]
		}
	}
	return v
}

func str(t *testing.T, v any, path ...any) string {
	t.Helper()
	s, ok := get(t, v, path...).(string)
	if !ok {
		t.Fatalf("%v: got %T, want string", path, get(t, v, path...))
	}
	return s
}

func num(t *testing.T, v any, path ...any) float64 {
	t.Helper()
	f, ok := get(t, v, path...).(float64)
	if !ok {
		t.Fatalf("%v: got %T (%v), want number", path, get(t, v, path...), get(t, v, path...))
	}
	return f
}

func arr(t *testing.T, v any, path ...any) []any {
	t.Helper()
	a, ok := get(t, v, path...).([]any)
	if !ok {
		t.Fatalf("%v: got %T, want array", path, get(t, v, path...))
	}
	return a
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// wantKeys fails unless m has exactly these keys.
func wantKeys(t *testing.T, m map[string]any, want ...string) {
	t.Helper()
	if len(m) != len(want) {
		t.Errorf("keys: got %v, want %v", keys(m), want)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("keys: %q missing from %v", k, keys(m))
		}
	}
}

// wantError checks a Flinks error envelope.
func wantError(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status: got %d, want %d (%s)", r.status, status, r.raw)
	}
	if r.body == nil {
		t.Fatalf("body is not a JSON object: %s", r.raw)
	}
	if got := num(t, r.body, "HttpStatusCode"); int(got) != status {
		t.Errorf("HttpStatusCode: got %v, want %d", got, status)
	}
	if got := str(t, r.body, "FlinksCode"); got != code {
		t.Errorf("FlinksCode: got %q, want %q", got, code)
	}
	if str(t, r.body, "Message") == "" {
		t.Errorf("Message is empty")
	}
}

// wantPending checks the 202 body of docs §4.1.
func wantPending(t *testing.T, r response, code, requestID, endpoint string) {
	t.Helper()
	if r.status != 202 {
		t.Fatalf("status: got %d, want 202 (%s)", r.status, r.raw)
	}
	wantKeys(t, r.body, "FlinksCode", "Links", "HttpStatusCode", "Message", "RequestId")
	if got := str(t, r.body, "FlinksCode"); got != code {
		t.Errorf("FlinksCode: got %q, want %q", got, code)
	}
	if got := num(t, r.body, "HttpStatusCode"); got != 202 {
		t.Errorf("HttpStatusCode: got %v, want 202", got)
	}
	msg := map[string]string{"OPERATION_PENDING": "Your operation is still processing",
		"OPERATION_DISPATCHED": "Your operations had been dispatched to background process for long running jobs"}[code]
	if got := str(t, r.body, "Message"); got != msg {
		t.Errorf("Message: got %q, want %q", got, msg)
	}
	if got := str(t, r.body, "RequestId"); got != requestID {
		t.Errorf("RequestId: got %q, want %q", got, requestID)
	}
	links := arr(t, r.body, "Links")
	if len(links) != 1 {
		t.Fatalf("Links: got %v, want one link", links)
	}
	want := map[string]any{"rel": endpoint + "Async", "href": "/" + endpoint + "Async",
		"example": "/" + endpoint + "Async/" + requestID}
	if got := links[0].(map[string]any); !jsonEqual(got, want) {
		t.Errorf("Links[0]: got %v, want %v", got, want)
	}
}

func jsonEqual(a, b any) bool {
	ra, _ := json.Marshal(a)
	rb, _ := json.Marshal(b)
	return bytes.Equal(ra, rb)
}

// cents reports whether v has at most two decimals.
func cents(v float64) bool {
	return math.Abs(v*100-math.Round(v*100)) < 1e-6
}
