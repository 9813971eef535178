package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"flinkslink/flinks/sandbox"
)

// browser drives the Connect pages like a user with JavaScript off: it
// follows forms and never follows redirects by itself.
type browser struct {
	t      *testing.T
	h      *harness
	client *http.Client
}

func newBrowser(t *testing.T, h *harness) *browser {
	c := *h.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, h: h, client: &c}
}

type pageRes struct {
	status int
	header http.Header
	raw    string
	doc    *html.Node
}

func (b *browser) read(res *http.Response, err error) pageRes {
	b.t.Helper()
	if err != nil {
		b.t.Fatalf("request: %v", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatalf("read: %v", err)
	}
	doc, err := html.Parse(strings.NewReader(string(raw)))
	if err != nil {
		b.t.Fatalf("parse: %v", err)
	}
	return pageRes{status: res.StatusCode, header: res.Header, raw: string(raw), doc: doc}
}

func (b *browser) get(path string) pageRes {
	b.t.Helper()
	return b.read(b.client.Get(b.h.ts.URL + path))
}

// submit posts the form whose action ends with action, with its hidden
// fields plus the given ones (a submit button is just another field).
func (b *browser) submit(p pageRes, action string, fields url.Values) pageRes {
	b.t.Helper()
	forms := findAll(p.doc, func(n *html.Node) bool {
		a, _ := attr(n, "action")
		return n.Data == "form" && strings.HasSuffix(a, action)
	})
	if len(forms) == 0 {
		b.t.Fatalf("no form posting to %s in:\n%s", action, p.raw)
	}
	form := forms[0]
	if m, _ := attr(form, "method"); m != "post" {
		b.t.Fatalf("form %s: method %q, want post", action, m)
	}
	values := url.Values{}
	for _, in := range findAll(form, func(n *html.Node) bool { return n.Data == "input" }) {
		if typ, _ := attr(in, "type"); typ == "hidden" {
			name, _ := attr(in, "name")
			v, _ := attr(in, "value")
			values.Set(name, v)
		}
	}
	for k, v := range fields {
		values[k] = v
	}
	target, _ := attr(form, "action")
	return b.read(b.client.PostForm(b.h.ts.URL+target, values))
}

func findAll(n *html.Node, pred func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && pred(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func body(p pageRes) *html.Node {
	return findAll(p.doc, func(n *html.Node) bool { return n.Data == "body" })[0]
}

// events returns the postMessage payloads the page's script will post.
func events(t *testing.T, p pageRes) []map[string]any {
	t.Helper()
	raw, _ := attr(body(p), "data-events")
	var evs []map[string]any
	if err := json.Unmarshal([]byte(raw), &evs); err != nil {
		t.Fatalf("data-events %q: %v", raw, err)
	}
	return evs
}

func steps(t *testing.T, p pageRes) []string {
	t.Helper()
	var out []string
	for _, e := range events(t, p) {
		out = append(out, e["step"].(string))
	}
	return out
}

func wantSteps(t *testing.T, p pageRes, want ...string) {
	t.Helper()
	if got := steps(t, p); !slices.Equal(got, want) {
		t.Errorf("events: got %v, want %v", got, want)
	}
}

func lastEvent(t *testing.T, p pageRes) map[string]any {
	t.Helper()
	evs := events(t, p)
	if len(evs) == 0 {
		t.Fatalf("no events")
	}
	return evs[len(evs)-1]
}

// alert returns the text of the page's role=alert element, "" if none.
func alert(p pageRes) string {
	for _, n := range findAll(p.doc, func(n *html.Node) bool { r, _ := attr(n, "role"); return r == "alert" }) {
		return text(n)
	}
	return ""
}

// connectURL builds a /v2/ URL with the given parameters.
func connectURL(prefix string, params map[string]string) string {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	return prefix + "/v2/?" + q.Encode()
}

// login walks consent, institution and credentials; it returns the page
// after the credentials.
func (b *browser) login(prefix string, params map[string]string, username string) pageRes {
	b.t.Helper()
	p := b.get(connectURL(prefix, params))
	if p.status != 200 {
		b.t.Fatalf("GET /v2/: got %d:\n%s", p.status, p.raw)
	}
	if params["consentEnable"] != "false" {
		p = b.submit(p, "/v2/consent", url.Values{"decision": {"accept"}})
	}
	p = b.submit(p, "/v2/institution", url.Values{"institution": {"FlinksCapital"}})
	return b.submit(p, "/v2/credential", url.Values{"username": {username}, "password": {"Everyday"}})
}

// redirectOf returns the URL the success page sends the top window to.
func redirectOf(t *testing.T, p pageRes) *url.URL {
	t.Helper()
	raw, ok := attr(body(p), "data-redirect-url")
	if !ok {
		t.Fatalf("no data-redirect-url on the page (%d):\n%s", p.status, p.raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("redirect %q: %v", raw, err)
	}
	return u
}

func TestConnectFlowNoMFA(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	b := newBrowser(t, h)

	p := b.get(connectURL("", map[string]string{"demo": "true", "redirectUrl": "https://app.example/cb?x=1", "tag": "user 7",
		"customerName": "Budget Buddy"}))
	if p.status != 200 {
		t.Fatalf("GET: got %d", p.status)
	}
	wantSteps(t, p, "APP_MOUNTED", "COMPONENT_LOAD_CONSENT")
	if !strings.Contains(text(p.doc), "Budget Buddy uses Flinks") {
		t.Errorf("consent page does not name the customer")
	}

	p = b.submit(p, "/v2/consent", url.Values{"decision": {"accept"}})
	wantSteps(t, p, "COMPONENT_ACCEPT_CONSENT", "COMPONENT_LOAD_INSTITUTION_SELECTOR")
	buttons := findAll(p.doc, func(n *html.Node) bool { return n.Data == "button" && strings.Contains(text(n), "Flinks Capital") })
	if len(buttons) != 1 {
		t.Fatalf("no Flinks Capital button with demo=true")
	}
	if _, disabled := attr(buttons[0], "disabled"); disabled {
		t.Errorf("Flinks Capital is disabled")
	}
	rbc := findAll(p.doc, func(n *html.Node) bool { return n.Data == "button" && strings.Contains(text(n), "RBC") })
	if _, disabled := attr(rbc[0], "disabled"); !disabled || !strings.Contains(text(rbc[0]), "not available in the sandbox") {
		t.Errorf("real banks must be listed as unavailable: %q", text(rbc[0]))
	}

	p = b.submit(p, "/v2/institution", url.Values{"institution": {"FlinksCapital"}})
	wantSteps(t, p, "INSTITUTION_SELECTED", "COMPONENT_LOAD_CREDENTIAL")
	if ev := events(t, p)[0]; ev["institution"] != "FlinksCapital" {
		t.Errorf("INSTITUTION_SELECTED: got %v", ev)
	}
	// Demo mode shows the sandbox users next to the form, with labels on inputs.
	if page := text(p.doc); !strings.Contains(page, "Sandbox users") || !strings.Contains(page, "greatday_nomfa") || !strings.Contains(page, "Everyday") {
		t.Errorf("credential page does not list the sandbox users")
	}
	for _, id := range []string{"username", "password"} {
		if len(findAll(p.doc, func(n *html.Node) bool { f, _ := attr(n, "for"); return n.Data == "label" && f == id })) != 1 {
			t.Errorf("no label for #%s", id)
		}
	}

	p = b.submit(p, "/v2/credential", url.Values{"username": {"GreatDay_NoMFA"}, "password": {"Everyday"}})
	if p.status != 200 {
		t.Fatalf("credentials: got %d:\n%s", p.status, p.raw)
	}
	wantSteps(t, p, "SUBMIT_CREDENTIAL", "REDIRECT")
	u := redirectOf(t, p)
	q := u.Query()
	loginID := q.Get("loginId")
	if u.Scheme != "https" || u.Host != "app.example" || u.Path != "/cb" || q.Get("x") != "1" || !guidRe.MatchString(loginID) ||
		q.Get("institution") != "FlinksCapital" || q.Get("tag") != "user 7" || q.Has("accountId") {
		t.Errorf("redirect: got %s", u)
	}
	if mode, _ := attr(body(p), "data-redirect-mode"); mode != "top" {
		t.Errorf("redirect mode: got %q, want top (no innerRedirect)", mode)
	}
	links := findAll(p.doc, func(n *html.Node) bool { return n.Data == "a" })
	if len(links) != 1 {
		t.Fatalf("want one fallback link, got %d", len(links))
	}
	if href, _ := attr(links[0], "href"); href != u.String() {
		t.Errorf("fallback link: got %q, want %q", href, u)
	}
	if target, _ := attr(links[0], "target"); target != "_top" {
		t.Errorf("fallback link target: got %q", target)
	}
	redirect := lastEvent(t, p)
	if redirect["url"] != u.String() || redirect["loginId"] != loginID || redirect["institution"] != "FlinksCapital" ||
		!guidRe.MatchString(redirect["requestId"].(string)) {
		t.Errorf("REDIRECT event: got %v", redirect)
	}

	// The connection is real: its data is pending, then ready, with the tag.
	r := h.authorize(map[string]any{"LoginId": loginID, "MostRecentCached": true})
	if r.status != 200 || str(t, r.body, "Login", "Username") != "greatday_nomfa" || str(t, r.body, "Tag") != "user 7" {
		t.Fatalf("cached Authorize: got %d %s", r.status, r.raw)
	}
	rid := str(t, r.body, "RequestId")
	wantPending(t, h.detail(rid, nil), "OPERATION_PENDING", rid, "GetAccountsDetail")
}

func TestConnectFlowMFA(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	b := newBrowser(t, h)
	p := b.login("", map[string]string{"demo": "true", "redirectUrl": "http://localhost:8080/callback"}, "greatday")
	wantSteps(t, p, "SUBMIT_CREDENTIAL", "COMPONENT_LOAD_MFA")
	if got := events(t, p)[1]["mfaTypes"]; !jsonEqual(got, []string{"QuestionAndAnswer"}) {
		t.Errorf("mfaTypes: got %v", got)
	}
	labels := findAll(p.doc, func(n *html.Node) bool { f, _ := attr(n, "for"); return n.Data == "label" && f == "answer" })
	if len(labels) != 1 {
		t.Fatalf("no label for the answer")
	}
	question := text(labels[0])
	answer := sandbox.Scenarios()[0].MFAAnswers[question]
	if answer == "" {
		t.Fatalf("question %q is not a Canadian prompt", question)
	}

	p = b.submit(p, "/v2/mfa", url.Values{"answer": {"Atlantis"}})
	wantSteps(t, p, "SUBMIT_MFA", "INVALID_SECURITY_RESPONSE", "COMPONENT_LOAD_MFA_RETRY")
	if got := alert(p); got != "Incorrect answer. Please try again." {
		t.Errorf("alert: got %q", got)
	}
	if got := text(findAll(p.doc, func(n *html.Node) bool { f, _ := attr(n, "for"); return f == "answer" })[0]); got != question {
		t.Errorf("retry asks %q, want the same question %q", got, question)
	}

	p = b.submit(p, "/v2/mfa", url.Values{"answer": {" " + strings.ToLower(answer) + " "}})
	wantSteps(t, p, "SUBMIT_MFA", "REDIRECT")
	u := redirectOf(t, p)
	if u.Host != "localhost:8080" || !guidRe.MatchString(u.Query().Get("loginId")) || u.Query().Has("tag") {
		t.Errorf("redirect: got %s", u)
	}
	r := h.authorize(map[string]any{"LoginId": u.Query().Get("loginId"), "MostRecentCached": true})
	if r.status != 200 || str(t, r.body, "Login", "Username") != "Greatday" {
		t.Errorf("cached Authorize: got %d %s", r.status, r.raw)
	}
}

func TestConnectWrongPasswordAndMaximumRetry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	b := newBrowser(t, h)
	p := b.get(connectURL("", map[string]string{"demo": "true", "redirectUrl": "https://app.example/", "consentEnable": "false",
		"maximumRetry": "2"}))
	wantSteps(t, p, "APP_MOUNTED", "COMPONENT_LOAD_INSTITUTION_SELECTOR")
	p = b.submit(p, "/v2/institution", url.Values{"institution": {"FlinksCapital"}})
	p = b.submit(p, "/v2/credential", url.Values{"username": {"Greatday"}, "password": {"hunter2-secret"}})
	wantSteps(t, p, "SUBMIT_CREDENTIAL", "INVALID_LOGIN", "COMPONENT_LOAD_CREDENTIAL_RETRY")
	if got := alert(p); !strings.Contains(strings.ToLower(got), "invalid username or password") {
		t.Errorf("alert: got %q", got)
	}
	if strings.Contains(p.raw, "hunter2-secret") {
		t.Errorf("the password was echoed into the page")
	}
	user := findAll(p.doc, func(n *html.Node) bool { id, _ := attr(n, "id"); return id == "username" })[0]
	if v, _ := attr(user, "value"); v != "Greatday" {
		t.Errorf("username not kept for the retry: %q", v)
	}
	if inv, _ := attr(user, "aria-invalid"); inv != "true" {
		t.Errorf("username field not marked invalid")
	}
	cs, _ := attr(findAll(p.doc, func(n *html.Node) bool { nm, _ := attr(n, "name"); return nm == "cs" })[0], "value")
	p = b.submit(p, "/v2/credential", url.Values{"username": {"Greatday"}, "password": {"nope"}})
	wantSteps(t, p, "SUBMIT_CREDENTIAL", "INVALID_LOGIN", "MAXIMUM_RETRY_REACHED")
	if len(findAll(p.doc, func(n *html.Node) bool { return n.Data == "form" })) != 0 {
		t.Errorf("the retry cap page still offers a form")
	}
	p = b.read(b.client.PostForm(h.ts.URL+"/v2/credential", url.Values{"cs": {cs}, "username": {"Greatday"}, "password": {"Everyday"}}))
	if p.status != http.StatusConflict {
		t.Errorf("credentials after the retry cap: got %d, want 409 (session closed)", p.status)
	}
}

func TestConnectAccountSelector(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	b := newBrowser(t, h)
	params := map[string]string{"demo": "true", "redirectUrl": "https://app.example/cb", "accountSelectorEnable": "true", "tag": "t"}
	p := b.login("", params, "test_ready")
	wantSteps(t, p, "SUBMIT_CREDENTIAL", "COMPONENT_LOAD_ACCOUNT_SELECTION")
	if ev := lastEvent(t, p); ev["totalAccounts"] != float64(5) || ev["displayedAccounts"] != float64(3) {
		t.Errorf("selection metadata: got %v, want 5 accounts, 3 operations ones shown", ev)
	}
	radios := findAll(p.doc, func(n *html.Node) bool { typ, _ := attr(n, "type"); return n.Data == "input" && typ == "radio" })
	if len(radios) != 3 {
		t.Fatalf("got %d radios, want 3", len(radios))
	}
	p = b.submit(p, "/v2/accounts", nil)
	if got := alert(p); got != "Please select an account." {
		t.Errorf("no selection: alert %q", got)
	}
	chosen, _ := attr(radios[1], "value")
	p = b.submit(p, "/v2/accounts", url.Values{"accountId": {chosen}})
	wantSteps(t, p, "ACCOUNT_SELECTED", "REDIRECT")
	u := redirectOf(t, p)
	if u.Query().Get("accountId") != chosen || lastEvent(t, p)["accountId"] != chosen || events(t, p)[0]["accountId"] != chosen {
		t.Errorf("accountId: got redirect %s, events %v", u, events(t, p))
	}
	// The id is the API's account Id.
	rid := h.cached(u.Query().Get("loginId"))
	d := h.detail(rid, map[string]any{"AccountsFilter": []string{chosen}})
	if d.status != 200 || len(arr(t, d.body, "Accounts")) != 1 || str(t, d.body, "Accounts", 0, "Id") != chosen {
		t.Errorf("AccountsFilter with the selected id: got %d %s", d.status, d.raw)
	}

	params["accountSelectorMultiple"] = "true"
	p = b.login("", params, "test_ready")
	boxes := findAll(p.doc, func(n *html.Node) bool { typ, _ := attr(n, "type"); return n.Data == "input" && typ == "checkbox" })
	if len(boxes) != 3 {
		t.Fatalf("got %d checkboxes, want 3", len(boxes))
	}
	first, _ := attr(boxes[0], "value")
	third, _ := attr(boxes[2], "value")
	p = b.submit(p, "/v2/accounts", url.Values{"accountId": {first, third}})
	u = redirectOf(t, p)
	if got := u.Query().Get("accountId"); got != first+","+third || !strings.Contains(u.RawQuery, "accountId="+first+","+third) {
		t.Errorf("multiple accountId: got %q in %s, want comma-separated", got, u.RawQuery)
	}
}

func TestConnectInnerAndJSRedirect(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	b := newBrowser(t, h)
	p := b.login("", map[string]string{"demo": "true", "redirectUrl": "https://app.example/cb", "innerRedirect": "true",
		"tag": "a&b=c"}, "greatday_nomfa")
	if p.status != http.StatusSeeOther {
		t.Fatalf("innerRedirect: got %d, want 303", p.status)
	}
	loc, err := url.Parse(p.header.Get("Location"))
	if err != nil || loc.Host != "app.example" || loc.Query().Get("tag") != "a&b=c" || !guidRe.MatchString(loc.Query().Get("loginId")) ||
		loc.Query().Get("institution") != "FlinksCapital" {
		t.Errorf("Location: got %q", p.header.Get("Location"))
	}
	if want := "loginId=" + loc.Query().Get("loginId") + "&tag=a%26b%3Dc&institution=FlinksCapital"; loc.RawQuery != want {
		t.Errorf("query order: got %q, want the docs' %q", loc.RawQuery, want)
	}

	p = b.login("", map[string]string{"demo": "true", "redirectUrl": "https://app.example/cb", "jsRedirect": "true"}, "greatday_nomfa")
	if p.status != 200 {
		t.Fatalf("jsRedirect: got %d", p.status)
	}
	wantSteps(t, p, "SUBMIT_CREDENTIAL", "REDIRECT")
	if mode, _ := attr(body(p), "data-redirect-mode"); mode != "none" {
		t.Errorf("jsRedirect mode: got %q, want none (no navigation)", mode)
	}
	if len(findAll(p.doc, func(n *html.Node) bool { return n.Data == "a" })) != 0 {
		t.Errorf("jsRedirect page must not offer a navigation link")
	}
}

func TestConnectAuthorizeToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	b := newBrowser(t, h)
	base := map[string]string{"demo": "true", "redirectUrl": "https://app.example/cb"}
	with := func(tok string) map[string]string {
		m := map[string]string{"authorizeToken": tok}
		for k, v := range base {
			m[k] = v
		}
		return m
	}

	p := b.get(connectURL("", with("00000000-0000-4000-8000-000000000000")))
	if p.status != 401 {
		t.Errorf("unknown token: got %d, want 401", p.status)
	}
	wantSteps(t, p, "APP_MOUNTED", "TOKEN_INVALID")
	if !strings.Contains(alert(p), "expired or was already used") {
		t.Errorf("alert: got %q", alert(p))
	}

	tok := h.token()
	p = b.login("", with(tok), "greatday_nomfa")
	if p.status != 200 || !slices.Contains(steps(t, p), "REDIRECT") {
		t.Fatalf("valid token: got %d %v", p.status, steps(t, p))
	}
	// Spent by the credentials: neither Connect nor the API take it again.
	wantSteps(t, b.get(connectURL("", with(tok))), "APP_MOUNTED", "TOKEN_INVALID")
	wantError(t, h.authorizeWith(tok, map[string]any{"LoginId": redirectOf(t, p).Query().Get("loginId"), "MostRecentCached": true}),
		401, "UNAUTHORIZED")

	// A token spent elsewhere after the iframe loaded fails at the credentials.
	tok = h.token()
	p = b.get(connectURL("", with(tok)))
	p = b.submit(p, "/v2/consent", url.Values{"decision": {"accept"}})
	p = b.submit(p, "/v2/institution", url.Values{"institution": {"FlinksCapital"}})
	h.authorizeWith(tok, map[string]any{"Institution": "FlinksCapital", "Username": "greatday_nomfa", "Password": "Everyday"})
	p = b.submit(p, "/v2/credential", url.Values{"username": {"greatday_nomfa"}, "password": {"Everyday"}})
	if p.status != 401 {
		t.Errorf("spent token at the credentials: got %d", p.status)
	}
	wantSteps(t, p, "TOKEN_INVALID")

	// Expired.
	tok = h.token()
	h.clock.Advance(31 * 60e9)
	wantSteps(t, b.get(connectURL("", with(tok))), "APP_MOUNTED", "TOKEN_INVALID")
}

func TestConnectRejectsBadRedirectURL(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	b := newBrowser(t, h)
	for _, bad := range []string{"javascript:alert(1)", "/relative/cb", "", "ftp://files.example/x", "https://user:pw@app.example/", "//app.example/cb"} {
		p := b.get(connectURL("", map[string]string{"demo": "true", "redirectUrl": bad}))
		if p.status != 400 {
			t.Errorf("redirectUrl %q: got %d, want 400", bad, p.status)
		}
		if !strings.Contains(alert(p), "redirectUrl") {
			t.Errorf("redirectUrl %q: alert %q", bad, alert(p))
		}
		if len(findAll(p.doc, func(n *html.Node) bool { return n.Data == "form" })) != 0 || strings.Contains(p.raw, "javascript:") {
			t.Errorf("redirectUrl %q: the page must stop the flow", bad)
		}
	}
}

func TestConnectFrench(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	b := newBrowser(t, h)
	params := map[string]string{"demo": "true", "redirectUrl": "https://app.example/cb", "language": "fr"}
	p := b.get(connectURL("", params))
	htmlNode := findAll(p.doc, func(n *html.Node) bool { return n.Data == "html" })[0]
	if lang, _ := attr(htmlNode, "lang"); lang != "fr" {
		t.Errorf("lang: got %q", lang)
	}
	if page := text(p.doc); !strings.Contains(page, "Accepter") || !strings.Contains(page, "Refuser") {
		t.Errorf("consent page is not in French: %s", page)
	}
	p = b.submit(p, "/v2/consent", url.Values{"decision": {"accept"}})
	p = b.submit(p, "/v2/institution", url.Values{"institution": {"FlinksCapital"}})
	if !strings.Contains(text(p.doc), "Mot de passe") {
		t.Errorf("credential page is not in French")
	}
	bad := b.submit(p, "/v2/credential", url.Values{"username": {"Greatday"}, "password": {"x"}})
	if got := alert(bad); got != "Nom d'utilisateur ou mot de passe invalide. Veuillez réessayer." {
		t.Errorf("French error: got %q", got)
	}
	p = b.submit(bad, "/v2/credential", url.Values{"username": {"Greatday"}, "password": {"Everyday"}})
	q := text(findAll(p.doc, func(n *html.Node) bool { f, _ := attr(n, "for"); return f == "answer" })[0])
	if !strings.Contains(q, "Où") && !strings.Contains(q, "Quel") {
		t.Errorf("MFA question is not French: %q", q)
	}
	answer := sandbox.Scenarios()[0].MFAAnswers[q]
	p = b.submit(p, "/v2/mfa", url.Values{"answer": {answer}})
	if !strings.Contains(text(p.doc), "Votre compte est connecté") {
		t.Errorf("success page is not in French: %s", text(p.doc))
	}
}

func TestConnectPrefix(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{Prefix: "/sandbox"})
	b := newBrowser(t, h)
	check := func(p pageRes) {
		t.Helper()
		for _, n := range findAll(p.doc, func(*html.Node) bool { return true }) {
			for _, key := range []string{"href", "src", "action"} {
				v, ok := attr(n, key)
				if !ok || strings.HasPrefix(v, "https://app.example") {
					continue
				}
				if !strings.HasPrefix(v, "/sandbox/") {
					t.Errorf("<%s %s=%q> is not under /sandbox/", n.Data, key, v)
				}
				if key != "action" {
					if res, err := b.client.Get(h.ts.URL + v); err != nil || res.StatusCode != 200 {
						t.Errorf("%s: not served", v)
					} else {
						res.Body.Close()
					}
				}
			}
		}
	}
	params := map[string]string{"demo": "true", "redirectUrl": "https://app.example/cb"}
	p := b.get(connectURL("/sandbox", params))
	check(p)
	p = b.submit(p, "/sandbox/v2/consent", url.Values{"decision": {"accept"}})
	check(p)
	p = b.submit(p, "/sandbox/v2/institution", url.Values{"institution": {"FlinksCapital"}})
	check(p)
	p = b.submit(p, "/sandbox/v2/credential", url.Values{"username": {"greatday_nomfa"}, "password": {"Everyday"}})
	check(p)
	if !guidRe.MatchString(redirectOf(t, p).Query().Get("loginId")) {
		t.Errorf("prefixed flow did not complete")
	}

	// The API and the help page live under the prefix too; the root does not.
	if r := h.do("POST", h.ts.URL+"/sandbox/v3/"+customerID+"/BankingServices/GenerateAuthorizeToken",
		map[string]string{"flinks-auth-key": secretKey}, nil); r.status != 200 {
		t.Errorf("prefixed API: got %d", r.status)
	}
	if r := b.get("/v2/?demo=true"); r.status != 404 {
		t.Errorf("unprefixed Connect: got %d, want 404", r.status)
	}
	index := b.get("/sandbox/")
	check(index)
	if r := b.get("/sandbox"); r.status != http.StatusMovedPermanently || r.header.Get("Location") != "/sandbox/" {
		t.Errorf("/sandbox: got %d %q", r.status, r.header.Get("Location"))
	}
	if r := b.get("/sandbox/v2?demo=true"); r.header.Get("Location") != "/sandbox/v2/?demo=true" {
		t.Errorf("/sandbox/v2: got %q", r.header.Get("Location"))
	}
}

func TestConnectErrorUsersComplete(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	b := newBrowser(t, h)
	for user, code := range map[string]string{"test_disabled_account": "DISABLED_LOGIN", "test_service_unavailable": "RETRY_LATER"} {
		p := b.login("", map[string]string{"demo": "true", "redirectUrl": "https://app.example/cb"}, user)
		loginID := redirectOf(t, p).Query().Get("loginId")
		if !guidRe.MatchString(loginID) {
			t.Fatalf("%s: Connect did not issue a LoginId", user)
		}
		wantError(t, h.authorize(map[string]any{"LoginId": loginID, "MostRecentCached": true}), 401, code)
		wantError(t, h.authorize(map[string]any{"LoginId": loginID, "MostRecentCached": false}), 401, code)
		wantError(t, h.detail(lastEvent(t, p)["requestId"].(string), nil), 401, code)
	}
}

func TestConnectEscapesParameters(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	b := newBrowser(t, h)
	evil := `"><script>alert(1)</script>`
	params := map[string]string{"demo": "true", "redirectUrl": "https://app.example/cb", "tag": evil, "customerName": evil,
		"backgroundColor": `red;}body{display:none`, "foregroundColor1": "1b55e2"}
	p := b.get(connectURL("", params))
	if strings.Contains(p.raw, "<script>alert") {
		t.Errorf("customerName reached the page unescaped")
	}
	if !strings.Contains(text(p.doc), evil+" uses Flinks") {
		t.Errorf("customerName not shown as text")
	}
	bd := body(p)
	if _, ok := attr(bd, "data-bg"); ok {
		t.Errorf("an invalid backgroundColor was passed on")
	}
	if fg, _ := attr(bd, "data-fg"); fg != "#1b55e2" {
		t.Errorf("foregroundColor1: got %q", fg)
	}
	p = b.submit(p, "/v2/consent", url.Values{"decision": {"accept"}})
	p = b.submit(p, "/v2/institution", url.Values{"institution": {"FlinksCapital"}})
	p = b.submit(p, "/v2/credential", url.Values{"username": {"greatday_nomfa"}, "password": {"Everyday"}})
	if strings.Contains(p.raw, "<script>alert") {
		t.Errorf("tag reached the success page unescaped")
	}
	if got := redirectOf(t, p).Query().Get("tag"); got != evil {
		t.Errorf("tag round trip: got %q", got)
	}
	if got := lastEvent(t, p)["url"].(string); !strings.Contains(got, url.QueryEscape(evil)) {
		t.Errorf("REDIRECT url: got %q", got)
	}
}

// TestConnectPagesFitStrictCSP checks every page is usable under
// script-src 'self': no inline script, style or handler.
func TestConnectPagesFitStrictCSP(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	b := newBrowser(t, h)
	var pages []pageRes
	p := b.get(connectURL("", map[string]string{"demo": "true", "redirectUrl": "https://app.example/cb", "accountSelectorEnable": "true",
		"closeEnable": "true", "institutionFilterEnable": "true"}))
	pages = append(pages, p)
	p = b.submit(p, "/v2/consent", url.Values{"decision": {"deny"}})
	wantSteps(t, p, "COMPONENT_DENY_CONSENT")
	pages = append(pages, p)
	p = b.submit(p, "/v2/consent", url.Values{"decision": {"review"}})
	wantSteps(t, p, "COMPONENT_LOAD_CONSENT")
	p = b.submit(p, "/v2/consent", url.Values{"decision": {"accept"}})
	pages = append(pages, p)
	p = b.submit(p, "/v2/institution", url.Values{"institution": {"FlinksCapital"}})
	pages = append(pages, p)
	p = b.submit(p, "/v2/credential", url.Values{"username": {"Greatday"}, "password": {"Everyday"}})
	pages = append(pages, p)
	answer := sandbox.Scenarios()[0].MFAAnswers[text(findAll(p.doc, func(n *html.Node) bool { f, _ := attr(n, "for"); return f == "answer" })[0])]
	p = b.submit(p, "/v2/mfa", url.Values{"answer": {answer}})
	pages = append(pages, p)
	radio := findAll(p.doc, func(n *html.Node) bool { typ, _ := attr(n, "type"); return typ == "radio" })
	id, _ := attr(radio[0], "value")
	p = b.submit(p, "/v2/accounts", url.Values{"accountId": {id}})
	pages = append(pages, p, b.get("/"), b.get("/landing?loginId=x"))

	for i, p := range pages {
		if p.status != 200 {
			t.Errorf("page %d: status %d", i, p.status)
		}
		if !strings.Contains(p.header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("page %d: CSP header %q", i, p.header.Get("Content-Security-Policy"))
		}
		for _, n := range findAll(p.doc, func(*html.Node) bool { return true }) {
			if n.Data == "script" || n.Data == "style" {
				if src, ok := attr(n, "src"); n.Data == "style" || !ok || src == "" || text(n) != "" {
					t.Errorf("page %d: inline <%s>", i, n.Data)
				}
			}
			for _, a := range n.Attr {
				if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
					t.Errorf("page %d: <%s %s=...> needs unsafe-inline", i, n.Data, a.Key)
				}
			}
		}
	}
}

func TestConnectWithoutDemoAndLostSessions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	b := newBrowser(t, h)
	p := b.get(connectURL("", map[string]string{"redirectUrl": "https://app.example/cb", "consentEnable": "false"}))
	if len(findAll(p.doc, func(n *html.Node) bool { return n.Data == "button" && strings.Contains(text(n), "Flinks Capital") })) != 0 {
		t.Errorf("Flinks Capital offered without demo=true")
	}
	if !strings.Contains(text(p.doc), "demo=true") {
		t.Errorf("no hint about demo=true")
	}
	p = b.submit(p, "/v2/institution", url.Values{"institution": {"FlinksCapital"}})
	wantSteps(t, p, "DISABLED_INSTITUTION", "COMPONENT_LOAD_INSTITUTION_SELECTOR")

	lost := b.read(b.client.PostForm(h.ts.URL+"/v2/credential", url.Values{"cs": {"nope"}, "username": {"Greatday"}, "password": {"Everyday"}}))
	if lost.status != 400 || !strings.Contains(alert(lost), "expired") {
		t.Errorf("unknown session: got %d %q", lost.status, alert(lost))
	}
	// A step out of order is refused, not skipped.
	p = b.get(connectURL("", map[string]string{"demo": "true", "redirectUrl": "https://app.example/cb"}))
	skip := b.submit(p, "/v2/consent", url.Values{"decision": {"accept"}})
	cs, _ := attr(findAll(skip.doc, func(n *html.Node) bool { nm, _ := attr(n, "name"); return nm == "cs" })[0], "value")
	out := b.read(b.client.PostForm(h.ts.URL+"/v2/mfa", url.Values{"cs": {cs}, "answer": {"Montreal"}}))
	if out.status != http.StatusConflict {
		t.Errorf("MFA before credentials: got %d, want 409", out.status)
	}
}

func TestIndexAndAssets(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	b := newBrowser(t, h)
	p := b.get("/")
	if p.status != 200 {
		t.Fatalf("index: got %d", p.status)
	}
	page := text(p.doc)
	for _, s := range sandbox.Scenarios() {
		if !strings.Contains(page, s.Username) || !strings.Contains(page, s.Summary) {
			t.Errorf("index does not list %s", s.Username)
		}
	}
	for _, want := range []string{customerID, secretKey, apiKey, "Everyday"} {
		if !strings.Contains(page, want) {
			t.Errorf("index does not show %s", want)
		}
	}
	link := findAll(p.doc, func(n *html.Node) bool { return n.Data == "a" && strings.Contains(text(n), "Try Flinks Connect") })
	href, _ := attr(link[0], "href")
	u, _ := url.Parse(href)
	if u.Path != "/v2/" || !strings.HasPrefix(u.Query().Get("redirectUrl"), h.ts.URL+"/landing") {
		t.Errorf("Connect link: got %q", href)
	}
	land := b.get("/landing?loginId=2b0b1e56-3c1c-4c8e-9a53-3d8c0ab2d0b7&institution=FlinksCapital")
	if !strings.Contains(text(land.doc), "2b0b1e56-3c1c-4c8e-9a53-3d8c0ab2d0b7") || !strings.Contains(text(land.doc), "GetAccountsDetail") {
		t.Errorf("landing page does not show the LoginId and next calls")
	}
	// Keys an operator configured are never printed: only the Toolbox's public ones are.
	own := newHarness(t, sandbox.Config{SecretKey: "operator-secret-0f9e8d7c", APIKey: "operator-api-key-1a2b3c"})
	for _, path := range []string{"/", "/landing?loginId=2b0b1e56-3c1c-4c8e-9a53-3d8c0ab2d0b7"} {
		page := text(newBrowser(t, own).get(path).doc)
		if strings.Contains(page, "operator-secret-0f9e8d7c") || strings.Contains(page, "operator-api-key-1a2b3c") || !strings.Contains(page, "<your secret key>") {
			t.Errorf("%s with the operator's keys shows them (or no placeholder)", path)
		}
	}
	for path, ctype := range map[string]string{"/v2/assets/connect.js": "javascript", "/v2/assets/connect.css": "text/css"} {
		res, err := b.client.Get(h.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), ctype) {
			t.Errorf("%s: got %d %q", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	if res, _ := b.client.Get(h.ts.URL + "/v2/assets/nope.js"); res.StatusCode != 404 {
		t.Errorf("missing asset: got %d", res.StatusCode)
	}
}
