package flinks_test

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"flinkslink/flinks"
)

func TestNewClientValidation(t *testing.T) {
	t.Parallel()
	bad := []string{
		"",
		"   ",
		"toolbox-api.private.fin.ag/v3/x",
		"/v3/43387ca6",
		"ftp://toolbox-api.private.fin.ag/v3/x",
		"https://",
		"https://user:pass@toolbox-api.private.fin.ag/v3/x",
		"https://toolbox-api.private.fin.ag/v3/x?debug=1",
		"https://toolbox-api.private.fin.ag/v3/x#frag",
		"https://toolbox api/v3",
	}
	for _, u := range bad {
		c, err := flinks.NewClient(flinks.Config{BaseURL: u})
		if err == nil || c != nil {
			t.Errorf("NewClient(%q) = %v, %v; want error", u, c, err)
			continue
		}
		if strings.Contains(err.Error(), "pass") {
			t.Errorf("NewClient error echoes credentials: %v", err)
		}
	}
	for _, u := range []string{
		"https://toolbox-api.private.fin.ag/v3/43387ca6-0391-4c82-857d-70d95f087ecb",
		"https://toolbox-api.private.fin.ag/v3/43387ca6-0391-4c82-857d-70d95f087ecb/",
		"http://localhost:8081/v3/43387ca6-0391-4c82-857d-70d95f087ecb",
	} {
		if _, err := flinks.NewClient(flinks.Config{BaseURL: u}); err != nil {
			t.Errorf("NewClient(%q): %v", u, err)
		}
	}
}

// TestBaseURLForms checks that a trailing slash or a pasted /BankingServices still
// produce the documented path.
func TestBaseURLForms(t *testing.T) {
	t.Parallel()
	for _, suffix := range []string{"", "/", "/BankingServices", "/BankingServices/"} {
		mux := http.NewServeMux()
		hits := 0
		mux.HandleFunc(prefix+"GetAccountsDetailAsync/req-1", func(w http.ResponseWriter, r *http.Request) {
			hits++
			reply(w, 200, detailOK("req-1"))
		})
		_, srv := newServer(t, flinks.Config{}, mux)
		c, err := flinks.NewClient(flinks.Config{BaseURL: srv.URL + basePath + suffix})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetAccountsDetailAsync(t.Context(), "req-1"); err != nil || hits != 1 {
			t.Errorf("suffix %q: err %v, hits %d", suffix, err, hits)
		}
	}
}

func TestGenerateAuthorizeToken(t *testing.T) {
	t.Parallel()
	mux, c := setup(t)
	mux.HandleFunc(prefix+"GenerateAuthorizeToken", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testJSONHeaders(t, r)
		testHeader(t, r, "flinks-auth-key", testSecret)
		testNoHeader(t, r, "x-api-key")
		reply(w, 200, `{"HttpStatusCode":200,"Token":"d65f1adb-8ebc-48dc-be8b-20c773ba1565"}`)
	})
	tok, err := c.GenerateAuthorizeToken(t.Context())
	if err != nil || tok != "d65f1adb-8ebc-48dc-be8b-20c773ba1565" {
		t.Errorf("GenerateAuthorizeToken = %q, %v", tok, err)
	}
}

func TestGenerateAuthorizeTokenErrors(t *testing.T) {
	t.Parallel()
	mux, c := setup(t)
	mux.HandleFunc(prefix+"GenerateAuthorizeToken", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 401, `{"HttpStatusCode":401,"FlinksCode":"UNAUTHORIZED","Message":"You must provide a valid auth key"}`)
	})
	_, err := c.GenerateAuthorizeToken(t.Context())
	var fe *flinks.Error
	if !errors.As(err, &fe) || fe.StatusCode != 401 || fe.FlinksCode != "UNAUTHORIZED" || fe.Kind() != flinks.KindMisconfigured {
		t.Errorf("err = %#v", err)
	}

	// Without a secret there is nothing to send.
	noSecret, err := flinks.NewClient(flinks.Config{BaseURL: "https://example.invalid/v3/x"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = noSecret.GenerateAuthorizeToken(t.Context())
	if err == nil || flinks.KindOf(err) != flinks.KindMisconfigured {
		t.Errorf("no secret: err = %v, kind %v", err, flinks.KindOf(err))
	}

	// A 200 without a token is not a success.
	mux2, c2 := setup(t)
	mux2.HandleFunc(prefix+"GenerateAuthorizeToken", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, `{"HttpStatusCode":200}`)
	})
	_, err = c2.GenerateAuthorizeToken(t.Context())
	if !errors.As(err, &fe) || fe.Kind() != flinks.KindRetryLater || fe.Message != "malformed response" {
		t.Errorf("200 without token: err = %v", err)
	}
}

func TestAuthorizeCached(t *testing.T) {
	t.Parallel()
	mux, c := setup(t)
	const token = "d65f1adb-8ebc-48dc-be8b-20c773ba1565"
	mux.HandleFunc(prefix+"GenerateAuthorizeToken", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "flinks-auth-key", testSecret)
		reply(w, 200, `{"HttpStatusCode":200,"Token":"`+token+`"}`)
	})
	mux.HandleFunc(prefix+"Authorize", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testJSONHeaders(t, r)
		testHeader(t, r, "flinks-auth-key", token)
		testNoHeader(t, r, "x-api-key")
		testBody(t, r, `{"LoginId":"5602459c-f6d0-4ca0-6750-08dccdcadcc0","MostRecentCached":true}`)
		reply(w, 200, fixture(t, "authorize_200.json"))
	})
	got, err := c.Authorize(t.Context(), flinks.AuthorizeRequest{LoginID: "5602459c-f6d0-4ca0-6750-08dccdcadcc0", MostRecentCached: true})
	if err != nil {
		t.Fatal(err)
	}
	want := &flinks.AuthorizeResponse{
		HTTPStatusCode:  200,
		RequestID:       "22178382-31ee-485c-a750-c20929b6a344",
		Institution:     "FlinksCapital",
		InstitutionName: "FlinksCapital",
		InstitutionID:   14,
		Login: flinks.Login{
			ID:          "5602459c-f6d0-4ca0-6750-08dccdcadcc0",
			Username:    "Greatday",
			LastRefresh: flinks.Time{Time: time.Date(2026, 1, 21, 20, 47, 47, 145999000, time.UTC)},
			Type:        "Personal",
		},
		AuthorizeToken: token,
	}
	equal(t, "AuthorizeResponse", got, want)
	if got.NeedsMFA() {
		t.Error("NeedsMFA on a 200")
	}
}

func TestAuthorizeMFA(t *testing.T) {
	t.Parallel()
	mux, c := setup(t)
	mints := 0
	mux.HandleFunc(prefix+"GenerateAuthorizeToken", func(w http.ResponseWriter, r *http.Request) {
		mints++
		reply(w, 200, `{"HttpStatusCode":200,"Token":"tok-first-call"}`)
	})
	// A prompt with characters JSON encoders like to escape and mixed case: the key
	// must reach Flinks exactly as the bank wrote it.
	const prompt = "What's <Your> pet & NAME?"
	calls := 0
	mux.HandleFunc(prefix+"Authorize", func(w http.ResponseWriter, r *http.Request) {
		calls++
		testHeader(t, r, "flinks-auth-key", "tok-first-call")
		switch calls {
		case 1:
			testBody(t, r, `{"Username":"Greatday","Password":"Everyday","Institution":"FlinksCapital","Language":"fr","Tag":"u=1","Save":true}`)
			reply(w, 203, fixture(t, "authorize_203.json"))
		case 2:
			raw, _ := io.ReadAll(r.Body)
			if !strings.Contains(string(raw), `"What's <Your> pet & NAME?":["Rex"]`) {
				t.Errorf("prompt key not sent verbatim: %s", raw)
			}
			var body map[string]any
			json.Unmarshal(raw, &body)
			want := map[string]any{
				"RequestId":         "9022abc2-8a2e-4b06-a06e-c3e5449c4d10",
				"SecurityResponses": map[string]any{prompt: []any{"Rex"}},
			}
			equal(t, "MFA answer body", body, want)
			reply(w, 200, `{"HttpStatusCode":200,"RequestId":"9022abc2-8a2e-4b06-a06e-c3e5449c4d10","Login":{"Id":"new-login"}}`)
		}
	})
	first, err := c.Authorize(t.Context(), flinks.AuthorizeRequest{
		Username: "Greatday", Password: "Everyday", Institution: "FlinksCapital", Language: "fr", Tag: "u=1", Save: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !first.NeedsMFA() || first.HTTPStatusCode != 203 || first.RequestID != "9022abc2-8a2e-4b06-a06e-c3e5449c4d10" || first.AuthorizeToken != "tok-first-call" {
		t.Fatalf("first = %+v", first)
	}
	equal(t, "challenges", first.SecurityChallenges, []flinks.SecurityChallenge{
		{Type: "QuestionAndAnswer", Prompt: "What shape do people like most?"},
		{Type: "MultipleChoice", Prompt: "Pick your city", Iterables: []string{"Montreal", "Toronto"}},
	})
	second, err := c.Authorize(t.Context(), flinks.AuthorizeRequest{
		RequestID:         first.RequestID,
		SecurityResponses: map[string][]string{prompt: {"Rex"}},
		AuthorizeToken:    first.AuthorizeToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	if second.NeedsMFA() || second.Login.ID != "new-login" || mints != 1 {
		t.Errorf("second = %+v, mints %d (the answer must re-send the first token)", second, mints)
	}
}

func TestAuthorizeWithoutSecretSendsNoAuthKey(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	c, _ := newServer(t, flinks.Config{}, mux)
	mux.HandleFunc(prefix+"GenerateAuthorizeToken", func(w http.ResponseWriter, r *http.Request) {
		t.Error("GenerateAuthorizeToken called without a secret")
	})
	mux.HandleFunc(prefix+"Authorize", func(w http.ResponseWriter, r *http.Request) {
		testNoHeader(t, r, "flinks-auth-key")
		reply(w, 200, fixture(t, "authorize_200.json"))
	})
	got, err := c.Authorize(t.Context(), flinks.AuthorizeRequest{LoginID: "l", MostRecentCached: true})
	if err != nil || got.AuthorizeToken != "" {
		t.Errorf("got %+v, %v", got, err)
	}
}

func TestGetAccountsDetail(t *testing.T) {
	t.Parallel()
	mux, c := setup(t)
	mux.HandleFunc(prefix+"GetAccountsDetail", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testJSONHeaders(t, r)
		testHeader(t, r, "x-api-key", testAPIKey)
		testNoHeader(t, r, "flinks-auth-key")
		testBody(t, r, `{"RequestId":"22178382-31ee-485c-a750-c20929b6a344","DaysOfTransactions":"Days90",
			"WithAccountIdentity":true,"WithKYC":true,"WithTransactions":true,"WithBalance":true}`)
		reply(w, 200, fixture(t, "detail_200.json"))
	})
	d, err := c.GetAccountsDetail(t.Context(), flinks.NewDetailRequest("22178382-31ee-485c-a750-c20929b6a344"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Accounts) != 1 || len(d.Accounts[0].Transactions) != 2 || d.RequestID != "22178382-31ee-485c-a750-c20929b6a344" {
		t.Errorf("detail = %+v", d)
	}
}

func TestGetAccountsDetailRequestFields(t *testing.T) {
	t.Parallel()
	mux, c := setup(t)
	mux.HandleFunc(prefix+"GetAccountsDetail", func(w http.ResponseWriter, r *http.Request) {
		// False flags are sent: Flinks defaults some of them to true.
		testBody(t, r, `{"RequestId":"r","DaysOfTransactions":"Days365","WithAccountIdentity":false,"WithKYC":false,
			"WithTransactions":true,"WithBalance":false,"AccountsFilter":["a1","a2"]}`)
		reply(w, 200, `{"HttpStatusCode":200,"Accounts":[]}`)
	})
	d, err := c.GetAccountsDetail(t.Context(), flinks.DetailRequest{
		RequestID: "r", DaysOfTransactions: flinks.Days365, WithTransactions: true, AccountsFilter: []string{"a1", "a2"},
	})
	if err != nil || d.RequestID != "r" || d.Accounts == nil || len(d.Accounts) != 0 {
		t.Errorf("got %+v, %v (RequestId falls back to the request's; empty Accounts is fine)", d, err)
	}
}

func TestGetAccountsDetailPending(t *testing.T) {
	t.Parallel()
	mux, c := setup(t)
	mux.HandleFunc(prefix+"GetAccountsDetail", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 202, fixture(t, "pending_202.json"))
	})
	d, err := c.GetAccountsDetail(t.Context(), flinks.NewDetailRequest("1243c283-e0ca-4fda-a5e4-343068430190"))
	if d != nil {
		t.Errorf("data returned on 202: %+v", d)
	}
	var fe *flinks.Error
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want *Error", err)
	}
	want := &flinks.Error{Endpoint: "GetAccountsDetail", StatusCode: 202, FlinksCode: "OPERATION_PENDING",
		Message: "Your operation is still processing", RequestID: "1243c283-e0ca-4fda-a5e4-343068430190"}
	equal(t, "pending error", fe, want)
	if !errors.Is(err, flinks.ErrPending) || fe.Kind() != flinks.KindPending {
		t.Errorf("errors.Is(err, ErrPending) = false or kind %v", fe.Kind())
	}
}

func TestAsyncPollers(t *testing.T) {
	t.Parallel()
	mux, c := setup(t)
	// The id is path-escaped; an odd id must not change the route.
	const odd = "req/../x y"
	for _, ep := range []string{"GetAccountsDetailAsync", "GetAccountsSummaryAsync"} {
		mux.HandleFunc(prefix+ep+"/", func(w http.ResponseWriter, r *http.Request) {
			testMethod(t, r, http.MethodGet)
			testJSONHeaders(t, r)
			testHeader(t, r, "x-api-key", testAPIKey)
			if r.ContentLength > 0 {
				t.Errorf("%s: poll has a body", ep)
			}
			id := strings.TrimPrefix(r.URL.EscapedPath(), prefix+ep+"/")
			switch id {
			case "1243c283-e0ca-4fda-a5e4-343068430190":
				reply(w, 202, `{"FlinksCode":"OPERATION_DISPATCHED","HttpStatusCode":202,"Message":"dispatched"}`)
			case "req%2F..%2Fx%20y":
				reply(w, 200, fixture(t, "summary_200.json"))
			default:
				t.Errorf("%s: id %q", ep, id)
			}
		})
	}
	_, err := c.GetAccountsDetailAsync(t.Context(), "1243c283-e0ca-4fda-a5e4-343068430190")
	var fe *flinks.Error
	if !errors.As(err, &fe) || fe.FlinksCode != "OPERATION_DISPATCHED" || fe.RequestID != "1243c283-e0ca-4fda-a5e4-343068430190" || !errors.Is(err, flinks.ErrPending) {
		t.Errorf("DISPATCHED: %#v (RequestId must come from the path when the body lacks it)", err)
	}
	s, err := c.GetAccountsSummaryAsync(t.Context(), odd)
	if err != nil || len(s.Accounts) != 1 || s.Tag != "userId=42" {
		t.Errorf("summary async = %+v, %v", s, err)
	}
	if _, err := c.GetAccountsDetailAsync(t.Context(), ""); err == nil {
		t.Error("empty RequestId: want error")
	}
}

func TestGetAccountsSummary(t *testing.T) {
	t.Parallel()
	mux, c := setup(t)
	mux.HandleFunc(prefix+"GetAccountsSummary", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodPost)
		testHeader(t, r, "x-api-key", testAPIKey)
		testBody(t, r, `{"RequestId":"7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"}`)
		reply(w, 200, fixture(t, "summary_200.json"))
	})
	s, err := c.GetAccountsSummary(t.Context(), "7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6")
	if err != nil || s.RequestID != "7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6" || s.InstitutionName != "BMO" || *s.Accounts[0].Balance.Current != 432145 {
		t.Errorf("summary = %+v, %v", s, err)
	}
}

func TestNoAPIKeyConfigured(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	c, _ := newServer(t, flinks.Config{}, mux)
	mux.HandleFunc(prefix+"GetAccountsDetail", func(w http.ResponseWriter, r *http.Request) {
		testNoHeader(t, r, "x-api-key")
		reply(w, 200, fixture(t, "detail_200.json"))
	})
	mux.HandleFunc(prefix+"DeleteCard/", func(w http.ResponseWriter, r *http.Request) {
		testNoHeader(t, r, "x-api-key")
		reply(w, 200, fixture(t, "deletecard_200.json"))
	})
	if _, err := c.GetAccountsDetail(t.Context(), flinks.NewDetailRequest("r")); err != nil {
		t.Error(err)
	}
	if err := c.DeleteCard(t.Context(), "l"); err != nil {
		t.Error(err)
	}
}

func TestDeleteCard(t *testing.T) {
	t.Parallel()
	const loginID = "eceae0c0-1ed3-468f-ae30-08d6decf1675"
	mux, c := setup(t)
	status := 200
	mux.HandleFunc(prefix+"DeleteCard/"+loginID, func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, http.MethodDelete)
		testJSONHeaders(t, r)
		testHeader(t, r, "x-api-key", testAPIKey)
		switch status {
		case 200:
			reply(w, 200, fixture(t, "deletecard_200.json"))
		case 400:
			reply(w, 400, `{"HttpStatusCode":400,"FlinksCode":"CARD_IN_USE","Message":"LoginId `+strings.ToUpper(loginID)+` is in use"}`)
		}
	})
	if err := c.DeleteCard(t.Context(), loginID); err != nil {
		t.Fatalf("DeleteCard: %v", err)
	}
	status = 400
	err := c.DeleteCard(t.Context(), loginID)
	var fe *flinks.Error
	if !errors.As(err, &fe) || fe.FlinksCode != "CARD_IN_USE" || fe.Kind() != flinks.KindRetryLater {
		t.Fatalf("err = %v", err)
	}
	mustNotContain(t, "DeleteCard error", []byte(err.Error()), loginID)
	mustNotContain(t, "DeleteCard Message", []byte(fe.Message), loginID)
	if err := c.DeleteCard(t.Context(), ""); err == nil {
		t.Error("empty LoginId: want error")
	}
}

// TestConnectionsToFlinksAreReused: 16 fetches calling Flinks at once, 8
// calls each, open about one connection per fetch, not one per call (the
// default transport keeps only 2 idle connections per host: 59 of them on
// this machine). The margin is the transport's own: a dial it starts when
// no connection is idle may finish after one came back (18 seen under -race).
func TestConnectionsToFlinksAreReused(t *testing.T) {
	t.Parallel()
	var opened atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"HttpStatusCode":200,"Token":"00000001-aaaa-4bbb-8ccc-eeeeeeeeeeee"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := flinks.NewClient(flinks.Config{BaseURL: srv.URL + "/v3/43387ca6-0391-4c82-857d-70d95f087ecb", APIKey: "k", SecretKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	const fetches, calls = 16, 8
	var wg sync.WaitGroup
	for range fetches {
		wg.Go(func() {
			for range calls {
				if _, err := c.GenerateAuthorizeToken(t.Context()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := opened.Load(); n > fetches+fetches/2 {
		t.Errorf("%d calls opened %d connections, want about one per concurrent fetch (%d)", fetches*calls, n, fetches)
	}
	t.Logf("%d calls, %d connections", fetches*calls, opened.Load())
}
