package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Credentials of the public Flinks Toolbox (docs §1.2), the defaults of Config.
const (
	DefaultCustomerID = "43387ca6-0391-4c82-857d-70d95f087ecb"
	DefaultSecretKey  = "c4569c54-e167-4d34-8de6-f4113bc82414"
	DefaultAPIKey     = "3d5266a8-b697-48d4-8de6-52e2e2662acc"
)

// Lifetimes from the reference (§4.5), before TimeScale.
const (
	tokenLifetime       = 30 * time.Minute // authorize token, if unused
	requestIdleLifetime = 8 * time.Minute  // RequestId without activity
	processingLifetime  = 30 * time.Minute // RequestId while a data call is pending
	// busyWindow is how long a served data call keeps the card "in use": a
	// data call from another RequestId in that window answers 202, as two
	// concurrent calls on one card do at Flinks (§4.2).
	busyWindow = 3 * time.Second
	// connectLifetime bounds an idle Connect session. It is not scaled: a
	// tester reading the consent page must not see it expire.
	connectLifetime = time.Hour
)

// Config configures a sandbox Server. The zero value is usable: it serves the
// Toolbox credentials at the root, in memory, in real time.
type Config struct {
	// CustomerID is the {customerId} path segment accepted by the API; other
	// values get 401. Default DefaultCustomerID.
	CustomerID string
	// SecretKey is the flinks-auth-key GenerateAuthorizeToken requires.
	// Default DefaultSecretKey.
	SecretKey string
	// APIKey is the x-api-key of the data endpoints. Default DefaultAPIKey.
	APIKey string
	// RequireAPIKey makes a missing x-api-key a 401. By default a missing key
	// is accepted because the key "must be enabled by Flinks" per instance
	// (§2.1); a wrong key is always a 401.
	RequireAPIKey bool
	// Prefix is the URL path the handler is mounted at: "" standalone,
	// "/sandbox" when embedded in the app. The handler receives full paths
	// (no http.StripPrefix) and builds every link with this prefix.
	Prefix string
	// TimeScale multiplies every duration (scrape times, expiries, token
	// lifetimes): 0.05 makes them 20 times shorter. 0 means 1.
	TimeScale float64
	// StatePath is the SQLite file holding the sandbox's state (logins,
	// scrapes, RequestIds, tokens, Connect sessions); "" keeps it in memory.
	// Scrapes are stored as start and end times, so a restart resumes them.
	StatePath string
	// Now replaces time.Now, for tests.
	Now func() time.Time
	// WebhookURL, when set, receives a signed GetAccountsDetail webhook for
	// each scrape, WebhookDelay (on the sandbox's clock, not scaled) after
	// it ends, signed with WebhookSecret (see webhooks.go).
	WebhookURL    string
	WebhookSecret string
	WebhookDelay  time.Duration
	// Logger receives unexpected errors; default slog.Default().
	Logger *slog.Logger
}

// Server is the Flinks sandbox: the Banking Services API under
// Prefix+"/v3/", the Connect look-alike under Prefix+"/v2/" and a help page
// at Prefix+"/". It is safe for concurrent use.
type Server struct {
	cfg    Config
	prefix string
	scale  float64
	now    func() time.Time
	log    *slog.Logger
	mux    *http.ServeMux
	pages  map[string]*template.Template

	// mu serialises every state transition: each request reads rows,
	// decides, and writes them back under it.
	mu       sync.Mutex
	db       *sql.DB
	override *time.Duration
	// overrides are SetPendingOverrideFor's, by Connect tag (one browser's
	// session in the app); they win over override.
	overrides map[string]time.Duration

	stopWebhooks context.CancelFunc // nil without WebhookURL
	webhooksDone chan struct{}
}

// New opens the sandbox's state and builds its handler.
func New(cfg Config) (*Server, error) {
	if cfg.CustomerID == "" {
		cfg.CustomerID = DefaultCustomerID
	}
	if cfg.SecretKey == "" {
		cfg.SecretKey = DefaultSecretKey
	}
	if cfg.APIKey == "" {
		cfg.APIKey = DefaultAPIKey
	}
	scale := cfg.TimeScale
	if scale == 0 {
		scale = 1
	}
	if scale < 0 || math.IsNaN(scale) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("new sandbox: time scale %v must be positive", cfg.TimeScale)
	}
	prefix := strings.TrimRight(cfg.Prefix, "/")
	if prefix != "" && (!strings.HasPrefix(prefix, "/") || strings.ContainsAny(prefix, "{}?# \t")) {
		return nil, fmt.Errorf("new sandbox: prefix %q must be a plain absolute path like /sandbox", cfg.Prefix)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	pages, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("new sandbox: %w", err)
	}
	db, err := openDB(cfg.StatePath)
	if err != nil {
		return nil, fmt.Errorf("new sandbox: %w", err)
	}
	s := &Server{cfg: cfg, prefix: prefix, scale: scale, now: now, log: log, pages: pages, db: db}
	if err := s.prune(context.Background(), now()); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("new sandbox: %w", err)
	}
	s.routes()
	if cfg.WebhookURL != "" {
		if err := s.startWebhooks(); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("new sandbox: %w", err)
		}
	}
	return s, nil
}

// ServeHTTP serves the API, the Connect pages and the help page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Close closes the state database. In-memory state is lost; a StatePath
// file keeps everything for the next New.
func (s *Server) Close() error {
	if s.stopWebhooks != nil {
		s.stopWebhooks()
		<-s.webhooksDone
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close sandbox state: %w", err)
	}
	return nil
}

// SetPendingOverride is a QA control: when d is non-nil every scrape started
// from now on lasts exactly *d (not scaled), whatever the scenario, and so
// does test_dispatched's dispatch; a negative *d means the scrape never ends.
// nil restores the scenario timings. Running scrapes keep their end time.
func (s *Server) SetPendingOverride(d *time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d == nil {
		s.override = nil
		return
	}
	v := *d
	s.override = &v
}

// maxOverrides bounds the per-tag overrides a long-running demo keeps.
const maxOverrides = 10_000

// SetPendingOverrideFor is SetPendingOverride for the connections made with
// one Connect tag only (the app passes one tag per browser session), so one
// tester's choice does not change another's. nil removes it.
func (s *Server) SetPendingOverrideFor(tag string, d *time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d == nil {
		delete(s.overrides, tag)
		return
	}
	if s.overrides == nil || len(s.overrides) >= maxOverrides {
		s.overrides = map[string]time.Duration{} // forget them all rather than grow
	}
	s.overrides[tag] = *d
}

// overrideFor is the pending override for a connection made with tag: its
// own, else the server-wide one; nil for the scenario's timing.
func (s *Server) overrideFor(tag string) *time.Duration {
	if d, ok := s.overrides[tag]; ok && tag != "" {
		return &d
	}
	return s.override
}

func (s *Server) routes() {
	p := s.prefix
	api := p + "/v3/{customerId}/BankingServices/"
	m := http.NewServeMux()
	m.HandleFunc("POST "+api+"GenerateAuthorizeToken", s.handleGenerateToken)
	m.HandleFunc("POST "+api+"Authorize", s.handleAuthorize)
	m.HandleFunc("POST "+api+"GetAccountsDetail", s.handleData(endpointDetail))
	m.HandleFunc("POST "+api+"GetAccountsSummary", s.handleData(endpointSummary))
	// The docs say GET for the pollers; some clients POST them (§4.3).
	for _, method := range []string{"GET ", "POST "} {
		m.HandleFunc(method+api+"GetAccountsDetailAsync/{requestId}", s.handleAsync(endpointDetail))
		m.HandleFunc(method+api+"GetAccountsSummaryAsync/{requestId}", s.handleAsync(endpointSummary))
	}
	m.HandleFunc("DELETE "+api+"DeleteCard/{loginId}", s.handleDeleteCard)
	m.HandleFunc(p+"/v3/", s.handleAPIFallback)

	m.HandleFunc("GET "+p+"/v2/{$}", s.handleConnectStart)
	m.HandleFunc("GET "+p+"/v2", s.redirectSlash)
	m.HandleFunc("POST "+p+"/v2/consent", s.handleConsent)
	m.HandleFunc("POST "+p+"/v2/institution", s.handleInstitution)
	m.HandleFunc("POST "+p+"/v2/back", s.handleBack)
	m.HandleFunc("POST "+p+"/v2/credential", s.handleCredential)
	m.HandleFunc("POST "+p+"/v2/mfa", s.handleMFA)
	m.HandleFunc("POST "+p+"/v2/accounts", s.handleAccounts)
	m.HandleFunc("GET "+p+"/v2/assets/{file}", s.handleAsset)

	m.HandleFunc("GET "+p+"/{$}", s.handleIndex)
	m.HandleFunc("GET "+p+"/landing", s.handleLanding)
	if p != "" {
		m.HandleFunc("GET "+p, s.redirectSlash)
	}
	s.mux = m
}

// redirectSlash sends "/v2" to "/v2/" (and the bare prefix to the index),
// keeping the query: Connect URLs are often typed without the slash.
func (s *Server) redirectSlash(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Path + "/"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusMovedPermanently)
}

// apiEndpoints maps the endpoint names to their number of path segments
// after the name, so the fallback can tell a wrong method (405) from an
// unknown endpoint (404).
var apiEndpoints = map[string]int{"GenerateAuthorizeToken": 0, "Authorize": 0, "GetAccountsDetail": 0,
	"GetAccountsSummary": 0, "GetAccountsDetailAsync": 1, "GetAccountsSummaryAsync": 1, "DeleteCard": 1}

// handleAPIFallback answers everything under /v3/ that no route matched,
// with Flinks' envelope rather than the mux's plain-text errors.
func (s *Server) handleAPIFallback(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, s.prefix+"/v3/")
	parts := strings.Split(rest, "/")
	if len(parts) >= 3 && parts[1] == "BankingServices" {
		if !s.customerOK(w, parts[0]) {
			return
		}
		if n, ok := apiEndpoints[parts[2]]; ok && len(parts) == 3+n {
			writeError(w, http.StatusMethodNotAllowed, "INVALID_REQUEST",
				fmt.Sprintf("The requested resource does not support http method '%s'.", r.Method), "")
			return
		}
	}
	writeError(w, http.StatusNotFound, "INVALID_REQUEST", "No HTTP resource was found that matches the request URI", "")
}

// customerOK answers 401 when the path's customerId is not ours.
func (s *Server) customerOK(w http.ResponseWriter, customerID string) bool {
	if strings.EqualFold(customerID, s.cfg.CustomerID) {
		return true
	}
	writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "The CustomerId provided is invalid", "")
	return false
}

// apiKeyOK checks x-api-key on the data endpoints.
func (s *Server) apiKeyOK(w http.ResponseWriter, r *http.Request) bool {
	key := r.Header.Get("x-api-key")
	switch {
	case key == "" && !s.cfg.RequireAPIKey:
		return true
	case key == "":
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "An x-api-key header is required", "")
		return false
	case subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.APIKey)) != 1:
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "The x-api-key provided is invalid", "")
		return false
	}
	return true
}

// internalError logs err and answers Flinks' generic 500.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "flinks sandbox", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "AGGREGATION_ERROR", "An unexpected error occurred", "")
}

// scaled applies TimeScale to a reference duration.
func (s *Server) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * s.scale)
}

// scrapeTime is how long a new scrape of this scenario lasts; never reports
// a scrape that does not end. Called with mu held.
func (s *Server) scrapeTime(def *scenarioDef, tag string) (d time.Duration, never bool) {
	if o := s.overrideFor(tag); o != nil {
		return *o, *o < 0
	}
	switch {
	case def.dispatched, def.authErr != nil:
		// test_dispatched delays each data call instead (dispatchTime); the
		// error users have nothing to scrape.
		return 0, false
	case def.Pending == Never:
		return 0, true
	}
	return s.scaled(def.Pending), false
}

// dispatchTime is how long a data call of test_dispatched stays dispatched.
func (s *Server) dispatchTime(def *scenarioDef, tag string) time.Duration {
	if o := s.overrideFor(tag); o != nil {
		return max(*o, 0)
	}
	return s.scaled(def.Pending)
}

// startScrape begins a background scrape of l at now.
func (s *Server) startScrape(l *login, def *scenarioDef, now time.Time) {
	d, never := s.scrapeTime(def, l.Tag)
	l.ScrapeStart, l.ScrapeNever = now, never
	l.ScrapeEnd = now.Add(d)
}

// newGUID returns a random GUID, the shape of every Flinks id.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
