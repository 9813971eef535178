package sandbox_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"flinkslink/flinks/sandbox"
)

func TestGenerateAuthorizeToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})

	r := h.do("POST", h.api+"/GenerateAuthorizeToken", map[string]string{"flinks-auth-key": secretKey}, nil)
	if r.status != 200 {
		t.Fatalf("status: got %d, want 200 (%s)", r.status, r.raw)
	}
	wantKeys(t, r.body, "HttpStatusCode", "Token")
	if got := num(t, r.body, "HttpStatusCode"); got != 200 {
		t.Errorf("HttpStatusCode: got %v, want 200", got)
	}
	if tok := str(t, r.body, "Token"); !guidRe.MatchString(tok) {
		t.Errorf("Token: got %q, want a GUID", tok)
	}

	for name, headers := range map[string]map[string]string{
		"wrong secret":  {"flinks-auth-key": apiKey},
		"missing":       {},
		"in x-api-key":  {"x-api-key": secretKey},
		"authorization": {"Authorization": secretKey},
	} {
		r := h.do("POST", h.api+"/GenerateAuthorizeToken", headers, nil)
		wantError(t, r, 401, "UNAUTHORIZED")
		if got := str(t, r.body, "Message"); got != "You must provide a valid auth key" {
			t.Errorf("%s: Message: got %q", name, got)
		}
	}
}

func TestAuthorizeTokenSingleUseAndExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	login := map[string]any{"Institution": "FlinksCapital", "Username": "greatday_nomfa", "Password": "Everyday"}

	tok := h.token()
	if r := h.authorizeWith(tok, login); r.status != 200 {
		t.Fatalf("first use: got %d %s", r.status, r.raw)
	}
	r := h.authorizeWith(tok, login)
	wantError(t, r, 401, "UNAUTHORIZED")
	if got := str(t, r.body, "Message"); got != "You must provide a valid authorize token" {
		t.Errorf("Message: got %q", got)
	}

	wantError(t, h.authorizeWith("", login), 401, "UNAUTHORIZED")
	wantError(t, h.authorizeWith(secretKey, login), 401, "UNAUTHORIZED")
	wantError(t, h.authorizeWith("6f1f0d3c-1111-4222-8333-444455556666", login), 401, "UNAUTHORIZED")

	almost, expired := h.token(), h.token()
	h.clock.Advance(30*time.Minute - time.Second)
	if r := h.authorizeWith(almost, login); r.status != 200 {
		t.Errorf("token at 29m59s: got %d %s, want 200", r.status, r.raw)
	}
	h.clock.Advance(time.Second)
	wantError(t, h.authorizeWith(expired, login), 401, "UNAUTHORIZED")
}

func TestTokenLifetimeIsScaled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{TimeScale: 0.01})
	tok := h.token()
	h.clock.Advance(18*time.Second + time.Millisecond) // 30 min × 0.01
	wantError(t, h.authorizeWith(tok, map[string]any{"Institution": "FlinksCapital", "Username": "greatday_nomfa",
		"Password": "Everyday"}), 401, "UNAUTHORIZED")
}

func TestLiveAuthorizeNoMFA(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	// Usernames and passwords in any case, as the Toolbox accepts them.
	r := h.authorize(map[string]any{"Institution": "FlinksCapital", "Username": "GREATDAY_NoMfa", "Password": "everyday",
		"MostRecentCached": false, "Save": true, "Tag": "userId=42"})
	if r.status != 200 {
		t.Fatalf("status: got %d, want 200 (%s)", r.status, r.raw)
	}
	wantKeys(t, r.body, "HttpStatusCode", "Links", "InstitutionName", "Login", "InstitutionId", "Institution", "RequestId", "Tag")
	wantLinks := []any{
		map[string]any{"rel": "AccountsDetail", "href": "/GetAccountsDetail", "example": nil},
		map[string]any{"rel": "AccountsSummary", "href": "/GetAccountsSummary", "example": nil},
		map[string]any{"rel": "Statements", "href": "/GetStatements", "example": nil},
	}
	if got := get(t, r.body, "Links"); !jsonEqual(got, wantLinks) {
		t.Errorf("Links: got %v, want %v", got, wantLinks)
	}
	if got := num(t, r.body, "InstitutionId"); got != 14 {
		t.Errorf("InstitutionId: got %v, want 14", got)
	}
	for _, k := range []string{"Institution", "InstitutionName"} {
		if got := str(t, r.body, k); got != "FlinksCapital" {
			t.Errorf("%s: got %q, want FlinksCapital", k, got)
		}
	}
	if got := str(t, r.body, "Tag"); got != "userId=42" {
		t.Errorf("Tag: got %q", got)
	}
	if !guidRe.MatchString(str(t, r.body, "RequestId")) {
		t.Errorf("RequestId: got %q, want a GUID", str(t, r.body, "RequestId"))
	}
	login := get(t, r.body, "Login").(map[string]any)
	wantKeys(t, login, "Username", "IsScheduledRefresh", "LastRefresh", "Type", "Id")
	if got := str(t, login, "Username"); got != "greatday_nomfa" {
		t.Errorf("Login.Username: got %q, want the canonical greatday_nomfa", got)
	}
	if got := get(t, login, "IsScheduledRefresh"); got != false {
		t.Errorf("IsScheduledRefresh: got %v", got)
	}
	if got := str(t, login, "Type"); got != "Personal" {
		t.Errorf("Type: got %q", got)
	}
	lr := str(t, login, "LastRefresh")
	if !lastRefreshRe.MatchString(lr) || lr != "2026-01-21T20:47:47.145999" {
		t.Errorf("LastRefresh: got %q, want 2026-01-21T20:47:47.145999 (no zone, 6 digits)", lr)
	}
	id := str(t, login, "Id")
	if !guidRe.MatchString(id) {
		t.Errorf("Login.Id: got %q, want a GUID", id)
	}
	// Each connection is a new LoginId, as Connect would issue.
	if again := h.live("greatday_nomfa"); again == id {
		t.Errorf("second connection reused LoginId %s", id)
	}
}

func TestLiveAuthorizeRejections(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		msg    string
	}{
		{"wrong password", map[string]any{"Institution": "FlinksCapital", "Username": "Greatday", "Password": "WrongPassword"},
			401, "INVALID_LOGIN", "The card number (username) or password provided is invalid"},
		{"unknown user", map[string]any{"Institution": "FlinksCapital", "Username": "nobody", "Password": "Everyday"},
			401, "INVALID_LOGIN", "The card number (username) or password provided is invalid"},
		{"disabled account", map[string]any{"Institution": "FlinksCapital", "Username": "test_disabled_account", "Password": "Everyday"},
			401, "DISABLED_LOGIN", ""},
		{"service unavailable", map[string]any{"Institution": "FlinksCapital", "Username": "Test_Service_Unavailable", "Password": "Everyday"},
			401, "RETRY_LATER", ""},
		{"real bank", map[string]any{"Institution": "RBC", "Username": "Greatday", "Password": "Everyday"},
			405, "DISABLED_INSTITUTION", ""},
		{"missing institution", map[string]any{"Username": "Greatday", "Password": "Everyday"},
			400, "INVALID_REQUEST", ""},
		{"nothing", map[string]any{"Save": true}, 400, "INVALID_REQUEST", ""},
		{"cached without LoginId", map[string]any{"MostRecentCached": true}, 400, "INVALID_REQUEST", ""},
	}
	for _, c := range cases {
		r := h.authorize(c.body)
		wantError(t, r, c.status, c.code)
		if c.msg != "" && str(t, r.body, "Message") != c.msg {
			t.Errorf("%s: Message: got %q, want %q", c.name, str(t, r.body, "Message"), c.msg)
		}
	}
}

// mfaStart logs Greatday in and returns the token, the 203 body and the answer.
func mfaStart(t *testing.T, h *harness, lang string) (string, response, string) {
	t.Helper()
	tok := h.token()
	r := h.authorizeWith(tok, map[string]any{"Institution": "FlinksCapital", "Username": "Greatday", "Password": "Everyday",
		"Language": lang, "Save": true, "Tag": "t1"})
	if r.status != 203 {
		t.Fatalf("status: got %d, want 203 (%s)", r.status, r.raw)
	}
	var answers map[string]string
	for _, s := range sandbox.Scenarios() {
		if s.Username == "Greatday" {
			answers = s.MFAAnswers
		}
	}
	answer, ok := answers[str(t, r.body, "SecurityChallenges", 0, "Prompt")]
	if !ok {
		t.Fatalf("prompt %q is not in the scenario's MFAAnswers", str(t, r.body, "SecurityChallenges", 0, "Prompt"))
	}
	return tok, r, answer
}

func TestGreatdayMFA(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	tok, r, answer := mfaStart(t, h, "")

	wantKeys(t, r.body, "Links", "HttpStatusCode", "SecurityChallenges", "Institution", "RequestId", "Tag")
	wantLinks := []any{map[string]any{"rel": "Authorization", "href": "/Authorize", "example": nil}}
	if got := get(t, r.body, "Links"); !jsonEqual(got, wantLinks) {
		t.Errorf("Links: got %v", got)
	}
	if got := num(t, r.body, "HttpStatusCode"); got != 203 {
		t.Errorf("HttpStatusCode: got %v", got)
	}
	challenges := arr(t, r.body, "SecurityChallenges")
	if len(challenges) != 1 {
		t.Fatalf("SecurityChallenges: got %d, want one", len(challenges))
	}
	p := str(t, challenges[0], "Prompt")
	canadian := []string{"What city were you born in?", "What is the best country on earth?", "What shape do people like most?"}
	if !slices.Contains(canadian, p) {
		t.Errorf("Prompt: got %q, want one of %q", p, canadian)
	}
	if got := str(t, challenges[0], "Type"); got != "QuestionAndAnswer" {
		t.Errorf("Type: got %q", got)
	}
	rid := str(t, r.body, "RequestId")
	answerWith := func(responses map[string]any) response {
		return h.authorizeWith(tok, map[string]any{"RequestId": rid, "SecurityResponses": responses})
	}

	// Nothing answered: the challenge again, same RequestId.
	again := answerWith(map[string]any{})
	if again.status != 203 || str(t, again.body, "RequestId") != rid || str(t, again.body, "SecurityChallenges", 0, "Prompt") != p {
		t.Errorf("empty answers: got %d %s, want 203 with the same RequestId and prompt", again.status, again.raw)
	}
	if r := answerWith(map[string]any{p: []string{""}}); r.status != 203 {
		t.Errorf("blank answer: got %d, want 203", r.status)
	}

	var other string
	for _, c := range canadian {
		if c != p {
			other = c
		}
	}
	wantError(t, answerWith(map[string]any{other: []string{"Canada"}}), 401, "UNKNOWN_CHALLENGE_KEY")
	// Keys are data: a client that lower-cases them gets UNKNOWN_CHALLENGE_KEY.
	wantError(t, answerWith(map[string]any{strings.ToLower(p): []string{answer}}), 401, "UNKNOWN_CHALLENGE_KEY")

	wrong := answerWith(map[string]any{p: []string{"Atlantis"}})
	wantError(t, wrong, 401, "INVALID_SECURITY_RESPONSE")
	if str(t, wrong.body, "RequestId") != rid || str(t, wrong.body, "SecurityChallenges", 0, "Prompt") != p {
		t.Errorf("wrong answer: got %s, want the RequestId and challenge for a retry", wrong.raw)
	}

	// Another token cannot take over the session's token.
	wantError(t, h.authorizeWith(h.token()+"x", map[string]any{"RequestId": rid, "SecurityResponses": map[string]any{p: []string{answer}}}),
		401, "UNAUTHORIZED")

	ok := answerWith(map[string]any{p: []string{strings.ToUpper(answer)}})
	if ok.status != 200 {
		t.Fatalf("right answer: got %d %s, want 200", ok.status, ok.raw)
	}
	if got := str(t, ok.body, "RequestId"); got != rid {
		t.Errorf("RequestId after MFA: got %q, want the 203's %q", got, rid)
	}
	if got := str(t, ok.body, "Login", "Username"); got != "Greatday" {
		t.Errorf("Login.Username: got %q", got)
	}
	if !guidRe.MatchString(str(t, ok.body, "Login", "Id")) {
		t.Errorf("Login.Id: got %q", str(t, ok.body, "Login", "Id"))
	}
	if got := str(t, ok.body, "Tag"); got != "t1" {
		t.Errorf("Tag: got %q, want t1", got)
	}
	wantError(t, answerWith(map[string]any{p: []string{answer}}), 400, "ALREADY_AUTHORIZED")

	// The token is bound to that RequestId: another session cannot reuse it.
	wantError(t, h.authorizeWith(tok, map[string]any{"Institution": "FlinksCapital", "Username": "Greatday", "Password": "Everyday"}),
		401, "UNAUTHORIZED")
}

func TestGreatdayMFAFrench(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	tok, r, answer := mfaStart(t, h, "fr")
	p := str(t, r.body, "SecurityChallenges", 0, "Prompt")
	if !strings.Contains(p, "Où") && !strings.Contains(p, "Quel") {
		t.Errorf("Prompt: got %q, want a French prompt", p)
	}
	ok := h.authorizeWith(tok, map[string]any{"RequestId": str(t, r.body, "RequestId"),
		"SecurityResponses": map[string]any{p: answer}}) // a bare string is tolerated
	if ok.status != 200 {
		t.Fatalf("answer: got %d %s, want 200", ok.status, ok.raw)
	}
}

func TestMFARequestIdExpires(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	tok, r, answer := mfaStart(t, h, "en")
	h.clock.Advance(8*time.Minute + time.Second)
	p := str(t, r.body, "SecurityChallenges", 0, "Prompt")
	wantError(t, h.authorizeWith(tok, map[string]any{"RequestId": str(t, r.body, "RequestId"),
		"SecurityResponses": map[string]any{p: []string{answer}}}), 400, "SESSION_NONEXISTENT")
}

func TestCachedAuthorize(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.live("greatday_nomfa")
	r := h.authorize(map[string]any{"LoginId": id, "MostRecentCached": true})
	if r.status != 200 {
		t.Fatalf("status: got %d %s", r.status, r.raw)
	}
	if got := str(t, r.body, "Login", "Id"); got != id {
		t.Errorf("Login.Id: got %q, want %q", got, id)
	}
	if got := str(t, r.body, "Login", "LastRefresh"); !lastRefreshRe.MatchString(got) {
		t.Errorf("LastRefresh: got %q", got)
	}
	rid := str(t, r.body, "RequestId")
	if again := h.cached(id); again == rid {
		t.Errorf("a cached Authorize reused RequestId %s", rid)
	}

	bad := h.authorize(map[string]any{"LoginId": "0b5b5b5b-0000-4000-8000-000000000000", "MostRecentCached": true})
	wantError(t, bad, 401, "INVALID_LOGIN")
	if got := str(t, bad.body, "Message"); got != "The LoginId provided is either invalid or does not belong to the CustomerId" {
		t.Errorf("Message: got %q", got)
	}
}

func TestLiveRefreshOfSavedLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.ready("greatday_nomfa", 10*time.Second)
	if r := h.detail(h.cached(id), nil); r.status != 200 {
		t.Fatalf("before refresh: got %d, want 200", r.status)
	}
	r := h.authorize(map[string]any{"LoginId": id, "MostRecentCached": false, "Save": true})
	if r.status != 200 || str(t, r.body, "Login", "Id") != id {
		t.Fatalf("refresh: got %d %s", r.status, r.raw)
	}
	// A new scrape runs: the data is pending again for the scenario's time.
	rid := str(t, r.body, "RequestId")
	wantPending(t, h.detail(rid, nil), "OPERATION_PENDING", rid, "GetAccountsDetail")
	h.clock.Advance(10 * time.Second)
	if r := h.poll(rid); r.status != 200 {
		t.Errorf("after refresh: got %d, want 200", r.status)
	}
}

func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	tok := h.token()
	for _, body := range []string{`{"LoginId": `, `not json`, ``, `{"Save": "maybe"}`, `{"LoginId": 12}`, `[1,2]`} {
		r := h.authorizeWith(tok, body)
		wantError(t, r, 400, "INVALID_REQUEST")
	}
	// A malformed call does not spend the token.
	if r := h.authorizeWith(tok, map[string]any{"Institution": "FlinksCapital", "Username": "greatday_nomfa", "Password": "Everyday"}); r.status != 200 {
		t.Errorf("token after malformed calls: got %d %s, want 200", r.status, r.raw)
	}
	wantError(t, h.do("POST", h.api+"/GetAccountsDetail", map[string]string{"x-api-key": apiKey}, `{"RequestId":`), 400, "INVALID_REQUEST")
	wantError(t, h.do("POST", h.api+"/GetAccountsDetail", map[string]string{"x-api-key": apiKey}, `{}`), 400, "INVALID_REQUEST")
}

func TestCaseInsensitiveKeysAndStringBooleans(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	// Spelled as the official C# SDK does: UserName, booleans as strings.
	r := h.authorize(map[string]any{"institution": "FlinksCapital", "UserName": "greatday_nomfa", "PASSWORD": "Everyday",
		"save": "true", "mostRecentCached": "false", "scheduleRefresh": "True"})
	if r.status != 200 {
		t.Fatalf("live: got %d %s", r.status, r.raw)
	}
	if got := get(t, r.body, "Login", "IsScheduledRefresh"); got != true {
		t.Errorf("IsScheduledRefresh from \"True\": got %v", got)
	}
	id := str(t, r.body, "Login", "Id")
	h.clock.Advance(10 * time.Second)
	c := h.authorize(map[string]any{"loginid": id, "mostrecentcached": "true"})
	if c.status != 200 {
		t.Fatalf("cached: got %d %s", c.status, c.raw)
	}
	d := h.do("POST", h.api+"/GetAccountsDetail", map[string]string{"x-api-key": apiKey},
		map[string]any{"requestid": str(t, c.body, "RequestId"), "withtransactions": "false", "WithKyc": "false",
			"withAccountIdentity": "TRUE", "daysoftransactions": "days365"})
	if d.status != 200 {
		t.Fatalf("detail: got %d %s", d.status, d.raw)
	}
	for i := range arr(t, d.body, "Accounts") {
		if n := len(arr(t, d.body, "Accounts", i, "Transactions")); n != 0 {
			t.Errorf("account %d: got %d transactions with withtransactions \"false\"", i, n)
		}
		if got := get(t, d.body, "Accounts", i, "Holder"); got != nil {
			t.Errorf("account %d: Holder with WithKyc \"false\": got %v", i, got)
		}
		if got := get(t, d.body, "Accounts", i, "InstitutionNumber"); got != "777" {
			t.Errorf("account %d: InstitutionNumber with \"TRUE\": got %v", i, got)
		}
	}
}

func TestUnknownCustomerAndRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	other := h.ts.URL + "/v3/11111111-2222-4333-8444-555555555555/BankingServices"
	wantError(t, h.do("POST", other+"/GenerateAuthorizeToken", map[string]string{"flinks-auth-key": secretKey}, nil), 401, "UNAUTHORIZED")
	wantError(t, h.do("POST", other+"/Authorize", map[string]string{"flinks-auth-key": h.token()},
		map[string]any{"LoginId": "x", "MostRecentCached": true}), 401, "UNAUTHORIZED")
	wantError(t, h.do("GET", other+"/GetAccountsDetailAsync/x", map[string]string{"x-api-key": apiKey}, nil), 401, "UNAUTHORIZED")
	wantError(t, h.do("DELETE", other+"/DeleteCard/x", map[string]string{"x-api-key": apiKey}, nil), 401, "UNAUTHORIZED")

	wantError(t, h.do("GET", h.api+"/Authorize", nil, nil), 405, "INVALID_REQUEST")
	wantError(t, h.do("POST", h.api+"/GetStatementsEverything", nil, `{}`), 404, "INVALID_REQUEST")
	wantError(t, h.do("DELETE", h.api+"/GetAccountsDetailAsync/x", nil, nil), 405, "INVALID_REQUEST")
	wantError(t, h.do("POST", h.api+"/Authorize/extra", nil, `{}`), 404, "INVALID_REQUEST")
}
