package sandbox

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The Connect look-alike (docs §7) is server-rendered: every step is a form
// POST answered with the next page. The pages carry their postMessage events
// in a data-events attribute and connect.js posts them to window.parent on
// load, so the host page sees the same event stream as with Flinks' SPA.
// Nothing is inline (scripts, styles, handlers): the app runs a strict CSP.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// connectPages are the Connect templates, each parsed with layout.html.
var connectPages = []string{"consent", "denied", "institutions", "credential", "mfa", "accounts", "success", "error"}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range connectPages {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse %s page: %w", name, err)
		}
		pages[name] = t
	}
	for _, name := range []string{"index", "landing"} {
		t, err := template.ParseFS(templateFS, "templates/site.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse %s page: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// event is one postMessage payload: {step: "...", ...}.
type event map[string]any

func ev(step string, kv ...any) event {
	e := event{"step": step}
	for i := 0; i+1 < len(kv); i += 2 {
		e[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return e
}

// institution is a row of the institution list.
type institution struct {
	Code, Name string
	Available  bool
}

// The real banks are listed so the page looks like Connect, but disabled:
// the sandbox only has Flinks Capital.
var realBanks = []institution{
	{"RBC", "RBC Royal Bank", false},
	{"TD", "TD Canada Trust", false},
	{"BMO", "BMO Bank of Montreal", false},
	{"Scotia", "Scotiabank", false},
	{"CIBC", "CIBC", false},
	{"Desjardins", "Desjardins", false},
	{"National", "National Bank", false},
	{"Tangerine", "Tangerine", false},
}

// accountChoice is a row of the account selector.
type accountChoice struct {
	ID, Title, Masked, Balance string
	Checked                    bool
}

// page is the data of every Connect template.
type page struct {
	T            *texts
	Lang         string
	Title        string
	Base         string // Prefix + "/v2"
	Session      string
	Events       string // JSON array for data-events
	RedirectURL  string
	RedirectMode string // "top" or "none"
	Header       bool
	HeaderImg    bool
	CloseButton  bool
	BackButton   bool
	BG, FG       string
	Demo         bool
	Users        []Scenario
	Error        string
	Message      string
	Customer     string
	Institutions []institution
	Filter       bool
	Username     string
	Prompt       string
	Accounts     []accountChoice
	Multiple     bool
	NoTitle      bool
}

// flag reads a boolean Connect parameter ("true"/"false", any case).
func flag(q url.Values, name string, def bool) bool {
	switch strings.ToLower(strings.TrimSpace(q.Get(name))) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	return def
}

var guidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

var hexColour = regexp.MustCompile(`^[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$`)

func colour(v string) string {
	if hexColour.MatchString(v) {
		return "#" + v
	}
	return ""
}

// newPage fills what every page needs from the iframe parameters.
func (s *Server) newPage(q url.Values, sessionID string) *page {
	lang := language(q.Get("language"))
	t := textsFor(lang)
	customer := strings.TrimSpace(q.Get("customerName"))
	if customer == "" {
		customer = t.DefaultCustomer
	}
	demo := flag(q, "demo", false)
	p := &page{
		T: t, Lang: lang, Base: s.prefix + "/v2", Session: sessionID, Events: "[]",
		Header: flag(q, "headerEnable", true), HeaderImg: flag(q, "headerImgEnable", true),
		CloseButton: flag(q, "closeEnable", false), BackButton: flag(q, "backEnable", true),
		BG: colour(q.Get("backgroundColor")), FG: colour(q.Get("foregroundColor1")),
		Demo: demo, Customer: customer, Filter: flag(q, "institutionFilterEnable", false),
		Multiple: flag(q, "accountSelectorMultiple", false), NoTitle: flag(q, "accountSelectorNoTitle", false),
	}
	return p
}

// showUsers lists the sandbox users beside the form, in demo mode only, so
// a tester knows what to type.
func (p *page) showUsers() {
	if p.Demo {
		p.Users = Scenarios()
	}
}

func (p *page) emit(events ...event) {
	raw, err := json.Marshal(events)
	if err == nil {
		p.Events = string(raw)
	}
}

// render writes a Connect (or help) page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.internalError(w, r, fmt.Errorf("no page %q", name))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.internalError(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// The same policy the app enforces, so an inline script or style slipping
	// into a template breaks here too. No frame-ancestors: Connect is meant to
	// be framed by any site.
	if h.Get("Content-Security-Policy") == "" {
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'")
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage shows a terminal error with its events.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, p *page, message string, events ...event) {
	p.Title, p.Message = p.T.ErrorTitle, message
	p.emit(events...)
	s.render(w, r, status, "error", p)
}

// checkRedirect accepts only absolute http(s) URLs: anything else (a
// javascript: URL above all) would be navigated to by the top window.
func checkRedirect(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("redirectUrl is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse redirectUrl: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, errors.New("redirectUrl must be an absolute http(s) URL")
	}
	return u, nil
}

// redirectTarget appends Connect's result to redirectUrl (§7.3), in the
// docs' order: loginId, tag, institution, then the selected accountId(s),
// comma-separated.
func redirectTarget(raw, loginID, tag string, accountIDs []string) (string, error) {
	u, err := checkRedirect(raw)
	if err != nil {
		return "", err
	}
	parts := []string{"loginId=" + url.QueryEscape(loginID)}
	if tag != "" {
		parts = append(parts, "tag="+url.QueryEscape(tag))
	}
	parts = append(parts, "institution="+institutionCode)
	if len(accountIDs) > 0 {
		esc := make([]string, len(accountIDs))
		for i, id := range accountIDs {
			esc[i] = url.QueryEscape(id)
		}
		parts = append(parts, "accountId="+strings.Join(esc, ","))
	}
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += strings.Join(parts, "&")
	return u.String(), nil
}

// handleConnectStart is GET /v2/?params: a new Connect session.
func (s *Server) handleConnectStart(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := s.newPage(q, "")
	mounted := ev("APP_MOUNTED")
	if _, err := checkRedirect(q.Get("redirectUrl")); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, p, p.T.BadRedirect, mounted)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx := r.Context()
	now := s.now()
	if tok := q.Get("authorizeToken"); tok != "" {
		ok, err := s.tokenUsable(ctx, tok, "", now)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if !ok {
			s.errorPage(w, r, http.StatusUnauthorized, p, p.T.TokenInvalid, mounted, ev("TOKEN_INVALID"))
			return
		}
	}
	if rid := q.Get("requestId"); rid != "" {
		s.resumeMFA(w, r, p, q, rid, now, mounted)
		return
	}
	sess := &connectSession{ID: newGUID(), Params: q, Step: stepInstitutions, UpdatedAt: now}
	if flag(q, "consentEnable", true) {
		sess.Step = stepConsent
	}
	if err := s.saveSession(ctx, sess); err != nil {
		s.internalError(w, r, err)
		return
	}
	p.Session = sess.ID
	if sess.Step == stepConsent {
		s.showConsent(w, r, p, mounted)
		return
	}
	s.showInstitutions(w, r, p, "", mounted)
}

// resumeMFA opens Connect on a RequestId whose bank asked a security
// question during a refresh of a saved login (Connect's requestId, §7.2):
// straight to the question; answering it refreshes that login. Called with mu held.
func (s *Server) resumeMFA(w http.ResponseWriter, r *http.Request, p *page, q url.Values, requestID string, now time.Time, events ...event) {
	ctx := r.Context()
	rq, err := s.getRequest(ctx, requestID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if rq == nil || rq.State != stateMFA || rq.LoginID == "" || !s.requestAlive(rq, nil, now) {
		s.errorPage(w, r, http.StatusBadRequest, p, p.T.ResumeGone, events...)
		return
	}
	sess := &connectSession{ID: newGUID(), Params: q, Step: stepMFA, Username: rq.Username, Prompt: rq.Prompt,
		LoginID: rq.LoginID, RequestID: rq.ID, UpdatedAt: now}
	if err := s.saveSession(ctx, sess); err != nil {
		s.internalError(w, r, err)
		return
	}
	p.Session = sess.ID
	s.showMFA(w, r, p, sess, "", append(events, ev("COMPONENT_LOAD_MFA", "mfaTypes", []string{"QuestionAndAnswer"}))...)
}

// session loads the Connect session a form posted; it answers the error
// page itself when the session is gone or not at one of the given steps.
// Called with mu held.
func (s *Server) session(w http.ResponseWriter, r *http.Request, steps ...string) (*connectSession, *page, bool) {
	id := r.PostFormValue("cs")
	var sess *connectSession
	var err error
	if id != "" {
		if sess, err = s.getSession(r.Context(), id); err != nil {
			s.internalError(w, r, err)
			return nil, nil, false
		}
	}
	now := s.now()
	if sess == nil || now.Sub(sess.UpdatedAt) > connectLifetime {
		p := s.newPage(url.Values{"language": {r.PostFormValue("lang")}}, "")
		if sess != nil {
			p = s.newPage(sess.Params, "")
		}
		s.errorPage(w, r, http.StatusBadRequest, p, p.T.SessionGone)
		return nil, nil, false
	}
	p := s.newPage(sess.Params, sess.ID)
	for _, st := range steps {
		if sess.Step == st {
			sess.UpdatedAt = now
			return sess, p, true
		}
	}
	s.errorPage(w, r, http.StatusConflict, p, p.T.WrongStep)
	return nil, nil, false
}

func (s *Server) save(w http.ResponseWriter, r *http.Request, sess *connectSession) bool {
	if err := s.saveSession(r.Context(), sess); err != nil {
		s.internalError(w, r, err)
		return false
	}
	return true
}

func (s *Server) showConsent(w http.ResponseWriter, r *http.Request, p *page, events ...event) {
	p.Title = fmt.Sprintf(p.T.ConsentTitle, p.Customer)
	p.emit(append(events, ev("COMPONENT_LOAD_CONSENT"))...)
	s.render(w, r, http.StatusOK, "consent", p)
}

func (s *Server) showInstitutions(w http.ResponseWriter, r *http.Request, p *page, errMsg string, events ...event) {
	p.Title, p.Error = p.T.InstitutionsTitle, errMsg
	if p.Demo {
		p.Institutions = append(p.Institutions, institution{institutionCode, "Flinks Capital", true})
	}
	p.Institutions = append(p.Institutions, realBanks...)
	p.emit(append(events, ev("COMPONENT_LOAD_INSTITUTION_SELECTOR"))...)
	s.render(w, r, http.StatusOK, "institutions", p)
}

func (s *Server) showCredential(w http.ResponseWriter, r *http.Request, p *page, username, errMsg string, events ...event) {
	p.Title, p.Username, p.Error = p.T.CredentialTitle, username, errMsg
	p.showUsers()
	p.emit(events...)
	s.render(w, r, http.StatusOK, "credential", p)
}

func (s *Server) showMFA(w http.ResponseWriter, r *http.Request, p *page, sess *connectSession, errMsg string, events ...event) {
	p.Title, p.Prompt, p.Error = p.T.MFATitle, prompt(sess.Prompt, p.Lang), errMsg
	p.showUsers()
	p.emit(events...)
	s.render(w, r, http.StatusOK, "mfa", p)
}

// handleConsent is POST /v2/consent: accept, deny, or review after a deny.
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, p, ok := s.session(w, r, stepConsent, stepDenied)
	if !ok {
		return
	}
	switch d := r.PostFormValue("decision"); {
	case d == "accept" && sess.Step == stepConsent:
		sess.Step = stepInstitutions
		if s.save(w, r, sess) {
			s.showInstitutions(w, r, p, "", ev("COMPONENT_ACCEPT_CONSENT"))
		}
	case d == "deny" && sess.Step == stepConsent:
		sess.Step = stepDenied
		if s.save(w, r, sess) {
			p.Title = p.T.DeniedTitle
			p.emit(ev("COMPONENT_DENY_CONSENT"))
			s.render(w, r, http.StatusOK, "denied", p)
		}
	case d == "review" && sess.Step == stepDenied:
		sess.Step = stepConsent
		if s.save(w, r, sess) {
			s.showConsent(w, r, p)
		}
	default:
		s.errorPage(w, r, http.StatusBadRequest, p, p.T.WrongStep)
	}
}

// handleInstitution is POST /v2/institution.
func (s *Server) handleInstitution(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, p, ok := s.session(w, r, stepInstitutions, stepCredential)
	if !ok {
		return
	}
	inst := r.PostFormValue("institution")
	if inst != institutionCode || !p.Demo {
		s.showInstitutions(w, r, p, p.T.DisabledInstitution, ev("DISABLED_INSTITUTION", "institution", inst))
		return
	}
	sess.Step = stepCredential
	if s.save(w, r, sess) {
		s.showCredential(w, r, p, "", "", ev("INSTITUTION_SELECTED", "institution", institutionCode),
			ev("COMPONENT_LOAD_CREDENTIAL", "institution", institutionCode))
	}
}

// handleBack is POST /v2/back: from the login or MFA page to the list.
func (s *Server) handleBack(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, p, ok := s.session(w, r, stepCredential, stepMFA)
	if !ok {
		return
	}
	sess.Step, sess.Username = stepInstitutions, ""
	if s.save(w, r, sess) {
		s.showInstitutions(w, r, p, "")
	}
}

// maxRetry is the maximumRetry parameter; 0 = unlimited.
func maxRetry(q url.Values) int {
	n, err := strconv.Atoi(q.Get("maximumRetry"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// failed counts a failed attempt and, past maximumRetry, ends the session.
func (s *Server) failed(w http.ResponseWriter, r *http.Request, sess *connectSession, p *page, events []event) bool {
	sess.Failures++
	if m := maxRetry(sess.Params); m > 0 && sess.Failures >= m {
		sess.Step = stepFailed
		if s.save(w, r, sess) {
			s.errorPage(w, r, http.StatusOK, p, p.T.MaxRetry, append(events, ev("MAXIMUM_RETRY_REACHED", "institution", institutionCode))...)
		}
		return true
	}
	return false
}

// handleCredential is POST /v2/credential: username and password. The
// authorize token, when the iframe got one, is spent here (§2.1).
func (s *Server) handleCredential(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, p, ok := s.session(w, r, stepCredential)
	if !ok {
		return
	}
	ctx := r.Context()
	now := s.now()
	if tok := sess.Params.Get("authorizeToken"); tok != "" && !sess.TokenUsed {
		usable, err := s.tokenUsable(ctx, tok, "", now)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if !usable {
			sess.Step = stepFailed
			if s.save(w, r, sess) {
				s.errorPage(w, r, http.StatusUnauthorized, p, p.T.TokenInvalid, ev("TOKEN_INVALID"))
			}
			return
		}
		if err := s.useToken(ctx, tok, now, "connect:"+sess.ID); err != nil {
			s.internalError(w, r, err)
			return
		}
		sess.TokenUsed = true
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	events := []event{ev("SUBMIT_CREDENTIAL", "institution", institutionCode)}
	def := lookupScenario(username)
	if def == nil || !strings.EqualFold(r.PostFormValue("password"), def.Password) {
		events = append(events, ev("INVALID_LOGIN", "institution", institutionCode))
		if s.failed(w, r, sess, p, events) {
			return
		}
		if s.save(w, r, sess) {
			s.showCredential(w, r, p, username, p.T.InvalidLogin,
				append(events, ev("COMPONENT_LOAD_CREDENTIAL_RETRY", "institution", institutionCode))...)
		}
		return
	}
	sess.Username = def.Username
	if def.MFA {
		sess.Step = stepMFA
		sess.Prompt = rand.IntN(len(promptsEN))
		if s.save(w, r, sess) {
			s.showMFA(w, r, p, sess, "", append(events, ev("COMPONENT_LOAD_MFA", "mfaTypes", []string{"QuestionAndAnswer"}))...)
		}
		return
	}
	s.complete(w, r, sess, p, def, events)
}

// handleMFA is POST /v2/mfa: the answer to the security question.
func (s *Server) handleMFA(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, p, ok := s.session(w, r, stepMFA)
	if !ok {
		return
	}
	answer := r.PostFormValue("answer")
	if strings.TrimSpace(answer) == "" {
		if s.save(w, r, sess) {
			s.showMFA(w, r, p, sess, p.T.EmptyAnswer)
		}
		return
	}
	def := scenarioOf(sess.Username)
	events := []event{ev("SUBMIT_MFA", "institution", institutionCode)}
	if !def.checkAnswer(prompt(sess.Prompt, p.Lang), answer) {
		events = append(events, ev("INVALID_SECURITY_RESPONSE", "institution", institutionCode))
		if s.failed(w, r, sess, p, events) {
			return
		}
		if s.save(w, r, sess) {
			s.showMFA(w, r, p, sess, p.T.InvalidAnswer,
				append(events, ev("COMPONENT_LOAD_MFA_RETRY", "mfaTypes", []string{"QuestionAndAnswer"}))...)
		}
		return
	}
	if sess.LoginID != "" && sess.RequestID != "" {
		s.completeResume(w, r, sess, p, def, events)
		return
	}
	s.complete(w, r, sess, p, def, events)
}

// completeResume finishes a resumed question: the saved login is refreshed
// (a new background scrape) and Connect redirects with the same LoginId.
func (s *Server) completeResume(w http.ResponseWriter, r *http.Request, sess *connectSession, p *page, def *scenarioDef, events []event) {
	ctx := r.Context()
	now := s.now()
	rq, err := s.getRequest(ctx, sess.RequestID)
	var l *login
	if err == nil && rq != nil {
		l, err = s.getLogin(ctx, sess.LoginID)
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if rq == nil || l == nil {
		s.errorPage(w, r, http.StatusBadRequest, p, p.T.ResumeGone)
		return
	}
	if _, err := s.refreshLogin(ctx, rq, l, def, now); err != nil {
		s.internalError(w, r, err)
		return
	}
	s.finish(w, r, sess, p, nil, events)
}

// complete finishes the live login: a LoginId is issued and its background
// scrape starts now, which is why the app's first cached data call usually
// answers 202 (§7.3). Error users complete too: their error comes from the
// cached Authorize, where the app can show it.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, sess *connectSession, p *page, def *scenarioDef, events []event) {
	ctx := r.Context()
	now := s.now()
	q := sess.Params
	rq := &request{ID: newGUID(), Username: def.Username, Scenario: def.key, Tag: q.Get("tag"), Language: p.Lang,
		Scheduled: flag(q, "scheduleRefresh", false), CreatedAt: now, LastActivity: now}
	l, err := s.createLogin(ctx, def, rq, now)
	if err == nil {
		err = s.saveRequest(ctx, rq)
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	sess.LoginID, sess.RequestID = l.ID, rq.ID
	if !flag(q, "accountSelectorEnable", false) {
		s.finish(w, r, sess, p, nil, events)
		return
	}
	sess.Step = stepAccounts
	if !s.save(w, r, sess) {
		return
	}
	s.showAccounts(w, r, p, sess, "", nil, events)
}

// selectable returns the accounts the selector offers: operations accounts
// only unless showAllAccounts, optionally one currency (§7.2).
func (s *Server) selectable(sess *connectSession) ([]account, int) {
	all := newDataset(sess.LoginID, s.now(), scenarioOf(sess.Username)).accounts
	currency := strings.ToUpper(strings.TrimSpace(sess.Params.Get("accountSelectorCurrency")))
	showAll := flag(sess.Params, "showAllAccounts", false)
	var out []account
	for _, a := range all {
		info := kinds[a.kind]
		if (!showAll && info.category != "Operations") || (currency != "" && info.currency != currency) {
			continue
		}
		out = append(out, a)
	}
	return out, len(all)
}

func (s *Server) showAccounts(w http.ResponseWriter, r *http.Request, p *page, sess *connectSession, errMsg string, checked []string, events []event) {
	list, total := s.selectable(sess)
	for _, a := range list {
		info := kinds[a.kind]
		c := accountChoice{ID: a.id, Title: info.title, Masked: "•••• " + a.number[len(a.number)-4:],
			Balance: formatMoney(a.current, info.currency, p.Lang)}
		for _, id := range checked {
			c.Checked = c.Checked || id == a.id
		}
		p.Accounts = append(p.Accounts, c)
	}
	p.Title, p.Error = p.T.AccountsTitle, errMsg
	if p.Multiple {
		p.Title = p.T.AccountsTitleMultiple
	}
	if errMsg == "" {
		events = append(events, ev("COMPONENT_LOAD_ACCOUNT_SELECTION", "totalAccounts", total, "displayedAccounts", len(list)))
	}
	p.emit(events...)
	s.render(w, r, http.StatusOK, "accounts", p)
}

// handleAccounts is POST /v2/accounts: the account selector's choice.
func (s *Server) handleAccounts(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, p, ok := s.session(w, r, stepAccounts)
	if !ok {
		return
	}
	offered, _ := s.selectable(sess)
	var chosen []string
	for _, id := range r.PostForm["accountId"] {
		for _, a := range offered {
			if a.id == id {
				chosen = append(chosen, id)
				break
			}
		}
	}
	switch {
	case len(chosen) == 0:
		s.showAccounts(w, r, p, sess, p.T.SelectOne, nil, nil)
		return
	case len(chosen) > 1 && !p.Multiple:
		s.showAccounts(w, r, p, sess, p.T.SelectOnlyOne, chosen, nil)
		return
	}
	s.finish(w, r, sess, p, chosen, []event{ev("ACCOUNT_SELECTED", "accountId", strings.Join(chosen, ","))})
}

// finish sends the user back to redirectUrl (§7.3): a plain 303 inside the
// iframe with innerRedirect, a top-window navigation by connect.js
// otherwise, or only the REDIRECT event with jsRedirect.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, sess *connectSession, p *page, accountIDs []string, events []event) {
	q := sess.Params
	target, err := redirectTarget(q.Get("redirectUrl"), sess.LoginID, q.Get("tag"), accountIDs)
	if err != nil { // checked at start; only a tampered state row gets here
		s.errorPage(w, r, http.StatusBadRequest, p, p.T.BadRedirect)
		return
	}
	sess.Step = stepDone
	if !s.save(w, r, sess) {
		return
	}
	redirect := ev("REDIRECT", "institution", institutionCode, "url", target, "loginId", sess.LoginID,
		"requestId", sess.RequestID)
	if len(accountIDs) > 0 {
		redirect["accountId"] = strings.Join(accountIDs, ",")
	}
	js, inner := flag(q, "jsRedirect", false), flag(q, "innerRedirect", false)
	if inner && !js {
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	p.Title, p.RedirectURL, p.RedirectMode = p.T.SuccessTitle, target, "top"
	if js {
		p.RedirectMode = "none"
	}
	p.emit(append(events, redirect)...)
	s.render(w, r, http.StatusOK, "success", p)
}

// formatMoney shows a balance the way each language writes it.
func formatMoney(cents int64, currency, lang string) string {
	neg := cents < 0
	if neg {
		cents = -cents
	}
	whole := strconv.FormatInt(cents/100, 10)
	sep, dec := ",", "."
	if lang == "fr" {
		sep, dec = "\u00a0", ","
	}
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	num := fmt.Sprintf("%s%s%02d", b.String(), dec, cents%100)
	sign := ""
	if neg {
		sign = "-"
	}
	if lang == "fr" {
		return sign + num + "\u00a0$\u00a0" + currency
	}
	return sign + "$" + num + " " + currency
}

// handleAsset serves connect.js and connect.css.
func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) {
	name := path.Join("assets", r.PathValue("file"))
	if _, err := fs.Stat(assetFS, name); err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, assetFS, name)
}

// sitePage is the data of the help page and the landing page.
type sitePage struct {
	Title      string
	Assets     string
	Base       string
	Scenarios  []Scenario
	CustomerID string
	SecretKey  string
	APIKey     string
	APIBase    string
	ConnectURL string
	Never      time.Duration
	Result     [][2]string
	LoginID    string
	Scale      float64
}

func (s *Server) sitePage(r *http.Request, title string) *sitePage {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	origin := scheme + "://" + r.Host
	landing := origin + s.prefix + "/landing"
	// The Toolbox's keys are public; keys an operator configured are not
	// printed to whoever opens this page.
	secretKey, apiKey := s.cfg.SecretKey, s.cfg.APIKey
	if secretKey != DefaultSecretKey {
		secretKey = "<your secret key>"
	}
	if apiKey != DefaultAPIKey {
		apiKey = "<your x-api-key>"
	}
	return &sitePage{
		Title: title, Assets: s.prefix + "/v2/assets", Base: s.prefix, Scenarios: Scenarios(),
		CustomerID: s.cfg.CustomerID, SecretKey: secretKey, APIKey: apiKey,
		APIBase:    origin + s.prefix + "/v3/" + s.cfg.CustomerID + "/BankingServices",
		ConnectURL: s.prefix + "/v2/?demo=true&innerRedirect=true&tag=sandbox-demo&redirectUrl=" + url.QueryEscape(landing),
		Never:      Never, Scale: s.scale,
	}
}

// handleIndex is the standalone help page: the scenario table and how to
// drive the sandbox.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "index", s.sitePage(r, "Flinks sandbox"))
}

// handleLanding is where the help page's Connect link redirects: it shows
// what Connect appended, and the calls to make next.
func (s *Server) handleLanding(w http.ResponseWriter, r *http.Request) {
	p := s.sitePage(r, "Connected: Flinks sandbox")
	q := r.URL.Query()
	for _, k := range []string{"loginId", "institution", "tag", "accountId"} {
		if v := q.Get(k); v != "" {
			p.Result = append(p.Result, [2]string{k, v})
		}
	}
	// Only a GUID goes into the copy-paste shell commands.
	if guidRe.MatchString(q.Get("loginId")) {
		p.LoginID = q.Get("loginId")
	}
	s.render(w, r, http.StatusOK, "landing", p)
}
