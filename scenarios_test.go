package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flinkslink/flinks"
	"flinkslink/flinks/flinkstest"
	"flinkslink/flinks/sandbox"
)

// startStandaloneSandbox runs `flinkslink sandbox -addr 127.0.0.1:0` in this
// process, on the clock now (nil: real time), and returns its base URL.
func startStandaloneSandbox(t *testing.T, scale string, now func() time.Time) string {
	t.Helper()
	env := map[string]string{"SANDBOX_TIME_SCALE": scale, "LOG_LEVEL": "warn"}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	// A folder that does not exist yet, like data/ in a fresh clone.
	stateDir := filepath.Join(t.TempDir(), "data")
	args := []string{"sandbox", "-addr", "127.0.0.1:0", "-state", filepath.Join(stateDir, "sandbox.db")}
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, io.Discard, ready, hooks{sandboxNow: now})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sandbox: %v", err)
		}
	})
	select {
	case base := <-ready:
		if fi, err := os.Stat(stateDir); err != nil {
			t.Errorf("state folder: %v; want it created", err)
		} else if fi.Mode().Perm() != 0o700 {
			t.Errorf("state folder mode %v, want 0700", fi.Mode().Perm())
		}
		return base
	case err := <-done:
		t.Fatalf("sandbox did not start: %v", err)
	}
	return ""
}

// TestClientAgainstSandboxScenarios links each sandbox user through the
// sandbox's Connect, then runs the client's cached flow on the LoginId.
func TestClientAgainstSandboxScenarios(t *testing.T) {
	// The sandbox's clock stands still until the client has seen a 202, then
	// jumps past every scenario's pending time (at most 60 s × 0.01): each
	// user that should answer 202 first does, however slow the machine.
	clock := flinkstest.NewClock(time.Now())
	base := startStandaloneSandbox(t, "0.01", clock.Now)
	client, err := flinks.NewClient(flinks.Config{
		BaseURL: base + "/v3/" + sandbox.DefaultCustomerID, APIKey: sandbox.DefaultAPIKey, SecretKey: sandbox.DefaultSecretKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	connect, _ := url.Parse(base + "/v2/?demo=true&innerRedirect=true&tag=t1&redirectUrl=" + url.QueryEscape("https://app.example/cb"))

	for _, tc := range []struct {
		user      string
		wantPolls bool   // at least one 202 before the data
		wantNoTx  bool   // accounts without transactions
		wantCode  string // expected FlinksCode of the failure
		wantKind  flinks.Kind
		timedOut  bool
		// authPending: the cached Authorize itself answers 202, and its
		// RequestId is polled without a GetAccountsDetail.
		authPending bool
		replayed    string // the data comes despite this replayed FlinksCode
	}{
		{user: "Greatday", wantPolls: true},
		{user: "greatday_nomfa", wantPolls: true},
		{user: "test_ready"},
		{user: "test_slow", wantPolls: true},
		{user: "test_dispatched", wantPolls: true},
		{user: "test_flaky", wantPolls: true},
		{user: "test_expired", wantPolls: true},
		{user: "test_no_transactions", wantPolls: true, wantNoTx: true},
		{user: "test_authorize_pending", wantPolls: true, authPending: true},
		{user: "test_question_not_found", replayed: "QUESTION_NOT_FOUND"},
		{user: "test_disabled_account", wantCode: "DISABLED_LOGIN", wantKind: flinks.KindNeedsUser},
		{user: "test_service_unavailable", wantCode: "RETRY_LATER", wantKind: flinks.KindRetryLater},
		{user: "test_never", timedOut: true},
	} {
		t.Run(tc.user, func(t *testing.T) {
			redirect := connectFlow(t, newHTTPBrowser(t), connect, tc.user)
			loginID := redirect.Query().Get("loginId")
			if loginID == "" || redirect.Query().Get("tag") != "t1" {
				t.Fatalf("redirect %s lacks loginId or tag", redirect)
			}
			polls, dispatched := 0, false
			var endpoints []string
			detail, err := client.FetchCached(t.Context(), loginID, flinks.FetchOptions{
				PollInterval: 20 * time.Millisecond,
				Timeout:      2 * time.Second,
				BackoffBase:  5 * time.Millisecond,
				BackoffMax:   20 * time.Millisecond,
				OnCall: func(c flinks.Call) {
					endpoints = append(endpoints, fmt.Sprintf("%s %d", c.Endpoint, c.StatusCode))
					if c.StatusCode == http.StatusAccepted {
						polls++
						dispatched = dispatched || c.FlinksCode == "OPERATION_DISPATCHED"
						clock.Advance(time.Second)
					}
				},
			})
			switch {
			case tc.timedOut:
				if !errors.Is(err, flinks.ErrTimedOut) {
					t.Fatalf("err = %v, want ErrTimedOut", err)
				}
				return
			case tc.wantCode != "":
				var fe *flinks.Error
				if !errors.As(err, &fe) || fe.FlinksCode != tc.wantCode || fe.Kind() != tc.wantKind {
					t.Fatalf("err = %v, want %s (%v)", err, tc.wantCode, tc.wantKind)
				}
				return
			case err != nil:
				t.Fatalf("FetchCached: %v", err)
			}
			if len(detail.Accounts) < 3 {
				t.Errorf("%d accounts, want 3+", len(detail.Accounts))
			}
			if tc.wantPolls && polls == 0 {
				t.Error("data came without a single 202: the async flow was not exercised")
			}
			if !tc.wantPolls && polls != 0 {
				t.Errorf("%d pending answers, want the data at once", polls)
			}
			if got := strings.Join(endpoints, ", "); tc.authPending && (!strings.Contains(got, "Authorize 202") || strings.Contains(got, "GetAccountsDetail 2")) {
				t.Errorf("calls %s; want a 202 on Authorize, then only polls of its RequestId", got)
			}
			if got := ""; detail.Replayed != nil || tc.replayed != "" {
				if detail.Replayed != nil {
					got = detail.Replayed.FlinksCode
				}
				if got != tc.replayed {
					t.Errorf("data replayed %q, want %q", got, tc.replayed)
				}
			}
			if tc.user == "test_dispatched" && !dispatched {
				t.Error("no OPERATION_DISPATCHED seen")
			}
			txs := 0
			for _, a := range detail.Accounts {
				txs += len(a.Transactions)
				if a.Balance.Current == nil {
					t.Errorf("account %s has no current balance", a.Title)
				}
			}
			if tc.wantNoTx != (txs == 0) {
				t.Errorf("%d transactions; want none: %v", txs, tc.wantNoTx)
			}
		})
	}
}

// TestStandaloneSandboxWire drives the standalone sandbox the way the README's
// curl examples do, with the Toolbox's keys.
func TestStandaloneSandboxWire(t *testing.T) {
	base := startStandaloneSandbox(t, "0.01", nil)
	api := base + "/v3/" + sandbox.DefaultCustomerID + "/BankingServices/"
	call := func(method, endpoint string, header map[string]string, body any) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			rd = bytes.NewReader(raw)
		}
		req, _ := http.NewRequest(method, api+endpoint, rd)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	token := func() string {
		t.Helper()
		st, out := call("POST", "GenerateAuthorizeToken", map[string]string{"flinks-auth-key": sandbox.DefaultSecretKey}, nil)
		if st != 200 {
			t.Fatalf("GenerateAuthorizeToken: %d %v", st, out)
		}
		return out["Token"].(string)
	}
	apiKey := map[string]string{"x-api-key": sandbox.DefaultAPIKey}

	st, out := call("POST", "Authorize", map[string]string{"flinks-auth-key": token()}, map[string]any{
		"Institution": "FlinksCapital", "Username": "greatday_nomfa", "Password": "Everyday", "Save": true, "MostRecentCached": false})
	login, _ := out["Login"].(map[string]any)
	if st != 200 || login["Id"] == nil {
		t.Fatalf("live Authorize: %d %v", st, out)
	}
	loginID := login["Id"].(string)

	st, out = call("POST", "Authorize", map[string]string{"flinks-auth-key": token()}, map[string]any{"LoginId": loginID, "MostRecentCached": true})
	if st != 200 {
		t.Fatalf("cached Authorize: %d %v", st, out)
	}
	rid := out["RequestId"].(string)
	st, out = call("POST", "GetAccountsDetail", apiKey, map[string]any{"RequestId": rid, "WithTransactions": true, "WithAccountIdentity": true})
	if st != 202 || out["FlinksCode"] != "OPERATION_PENDING" || out["HttpStatusCode"].(float64) != 202 {
		t.Fatalf("GetAccountsDetail: %d %v, want 202 OPERATION_PENDING", st, out)
	}
	polls := 0
	for st == 202 && polls < 200 {
		time.Sleep(10 * time.Millisecond)
		st, out = call("GET", "GetAccountsDetailAsync/"+rid, apiKey, nil)
		polls++
	}
	if accounts, _ := out["Accounts"].([]any); st != 200 || len(accounts) == 0 {
		t.Fatalf("after %d polls: %d %v", polls, st, out)
	}

	st, out = call("POST", "Authorize", map[string]string{"flinks-auth-key": token()}, map[string]any{
		"Institution": "FlinksCapital", "Username": "Greatday", "Password": "Everyday", "Save": true})
	if st != 203 {
		t.Fatalf("Greatday Authorize: %d %v, want 203", st, out)
	}

	st, out = call("GET", "GetAccountsDetailAsync/00000000-0000-0000-0000-000000000000", apiKey, nil)
	if st != 400 || out["FlinksCode"] != "SESSION_NONEXISTENT" {
		t.Errorf("unknown RequestId: %d %v, want 400 SESSION_NONEXISTENT", st, out)
	}
	st, out = call("POST", "Authorize", map[string]string{"flinks-auth-key": token()}, map[string]any{
		"Institution": "FlinksCapital", "Username": "test_disabled_account", "Password": "Everyday", "Save": true})
	if st != 401 || out["FlinksCode"] != "DISABLED_LOGIN" {
		t.Errorf("test_disabled_account: %d %v, want 401 DISABLED_LOGIN", st, out)
	}
	st, out = call("DELETE", "DeleteCard/"+loginID, apiKey, nil)
	if st != 200 || out["StatusCode"].(float64) != 200 {
		t.Fatalf("DeleteCard: %d %v", st, out)
	}
	st, out = call("POST", "Authorize", map[string]string{"flinks-auth-key": token()}, map[string]any{"LoginId": loginID, "MostRecentCached": true})
	if st != 401 || out["FlinksCode"] != "INVALID_LOGIN" {
		t.Errorf("cached Authorize after DeleteCard: %d %v, want 401 INVALID_LOGIN", st, out)
	}
}

// `flinkslink --help` prints what the program does and its commands; an
// unknown command points there.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		var out bytes.Buffer
		if err := run(t.Context(), []string{arg}, func(string) string { return "" }, &out, nil, hooks{}); err != nil || !strings.Contains(out.String(), "flinkslink sandbox") {
			t.Errorf("%s: %v, %q", arg, err, out.String())
		}
	}
	if err := run(t.Context(), []string{"serve"}, func(string) string { return "" }, io.Discard, nil, hooks{}); err == nil || !strings.Contains(err.Error(), "--help") {
		t.Errorf("unknown command: %v", err)
	}
}
