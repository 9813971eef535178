package flinks_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"flinkslink/flinks"
)

func TestErrorKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint string
		status   int
		code     string
		msg      string
		want     flinks.Kind
	}{
		{"GetAccountsDetail", 202, "OPERATION_PENDING", "", flinks.KindPending},
		{"GetAccountsDetailAsync", 202, "OPERATION_DISPATCHED", "", flinks.KindPending},
		{"GetAccountsDetailAsync", 202, "", "", flinks.KindPending},

		{"GetAccountsDetail", 500, "", "", flinks.KindRetryLater},
		{"GetAccountsDetail", 502, "", "Bad Gateway", flinks.KindRetryLater},
		{"GetAccountsDetail", 503, "", "", flinks.KindRetryLater},
		{"GetAccountsDetail", 500, "AGGREGATION_ERROR", "", flinks.KindRetryLater},
		{"Authorize", 401, "RETRY_LATER", "", flinks.KindRetryLater},
		{"Authorize", 401, "TOO_MANY_REQUESTS", "", flinks.KindRetryLater},
		{"Authorize", 403, "TOO_MANY_REQUESTS", "", flinks.KindRetryLater},
		{"DeleteCard", 400, "CARD_IN_USE", "", flinks.KindRetryLater},
		{"GetAccountsDetail", 409, "CONCURRENT_SESSION", "", flinks.KindRetryLater},
		{"GetAccountsDetail", 429, "", "", flinks.KindRetryLater},
		{"GetAccountsDetail", 408, "", "", flinks.KindRetryLater},

		{"GetAccountsDetailAsync", 400, "SESSION_NONEXISTENT", "", flinks.KindReauthorize},
		{"GetAccountsDetail", 401, "SESSION_EXPIRED", "", flinks.KindReauthorize},
		{"GetAccountsDetail", 400, "session_nonexistent", "", flinks.KindReauthorize},

		{"Authorize", 401, "INVALID_LOGIN", "", flinks.KindNeedsUser},
		{"Authorize", 400, "INVALID_LOGIN", "", flinks.KindNeedsUser},
		{"Authorize", 401, "INVALID_USERNAME", "", flinks.KindNeedsUser},
		{"Authorize", 401, "INVALID_PASSWORD", "", flinks.KindNeedsUser},
		{"Authorize", 401, "INVALID_SECURITY_RESPONSE", "", flinks.KindNeedsUser},
		{"Authorize", 401, "INVALID_SECURITY_RESPONSE_NO_RETRY", "", flinks.KindNeedsUser},
		{"Authorize", 401, "QUESTION_NOT_FOUND", "", flinks.KindNeedsUser},
		{"Authorize", 401, "NEW_ACCOUNT", "", flinks.KindNeedsUser},
		{"Authorize", 401, "DISABLED_LOGIN", "", flinks.KindNeedsUser},
		{"Authorize", 405, "DISABLED_INSTITUTION", "", flinks.KindNeedsUser},
		{"Authorize", 401, "UNAUTHORIZED", "The institution did not authorize", flinks.KindNeedsUser},
		{"GetAccountsDetail", 401, "NO_TRANSACTION", "", flinks.KindNeedsUser},
		{"Authorize", 203, "", "", flinks.KindNeedsUser},

		{"Authorize", 401, "ACCESS_DENIED", "", flinks.KindMisconfigured},
		{"Authorize", 401, "UNAUTHORIZED", "You must provide a valid authorize token", flinks.KindMisconfigured},
		{"GetAccountsDetail", 401, "UNAUTHORIZED", "Invalid x-api-key", flinks.KindMisconfigured},
		{"GenerateAuthorizeToken", 401, "UNAUTHORIZED", "You must provide a valid auth key", flinks.KindMisconfigured},
		{"GenerateAuthorizeToken", 401, "", "", flinks.KindMisconfigured},
		{"Authorize", 401, "INVALID_REQUEST", "", flinks.KindMisconfigured},
		{"Authorize", 400, "INVALID_REQUEST", "", flinks.KindMisconfigured},
		{"GetAccountsDetail", 401, "METHOD_NOT_AVAILABLE", "", flinks.KindMisconfigured},
		{"GetAccountsDetail", 404, "", "Not Found", flinks.KindMisconfigured},
		{"GetAccountsDetail", 401, "", "", flinks.KindMisconfigured},
		{"GetAccountsDetail", 403, "", "", flinks.KindMisconfigured},
		{"GetAccountsDetail", 405, "", "", flinks.KindMisconfigured},

		// An unusable 2xx is retried: it is most likely garbled on the way.
		{"GetAccountsDetail", 200, "", "malformed response", flinks.KindRetryLater},
		{"GetAccountsDetailAsync", 200, "", "malformed response", flinks.KindRetryLater},
		{"GenerateAuthorizeToken", 200, "", "malformed response", flinks.KindRetryLater},
		{"GetAccountsDetail", 203, "", "", flinks.KindUnexpected},
		{"GetAccountsDetail", 302, "", "", flinks.KindUnexpected},
		{"GetAccountsDetail", 400, "", "", flinks.KindUnexpected},
		{"Authorize", 401, "ALREADY_AUTHORIZED", "", flinks.KindUnexpected},
		{"GetAccountsDetail", 418, "SOMETHING_NEW", "", flinks.KindUnexpected},
		{"GetAccountsDetail", 503, "SOMETHING_NEW", "", flinks.KindRetryLater},
	}
	for _, tt := range tests {
		e := &flinks.Error{Endpoint: tt.endpoint, StatusCode: tt.status, FlinksCode: tt.code, Message: tt.msg}
		if got := e.Kind(); got != tt.want {
			t.Errorf("%s %d %s %q: Kind = %v, want %v", tt.endpoint, tt.status, tt.code, tt.msg, got, tt.want)
		}
		if got := errors.Is(e, flinks.ErrPending); got != (tt.want == flinks.KindPending) {
			t.Errorf("%s %d %s: errors.Is(ErrPending) = %v", tt.endpoint, tt.status, tt.code, got)
		}
	}
}

func TestKindString(t *testing.T) {
	t.Parallel()
	want := map[flinks.Kind]string{
		flinks.KindUnexpected: "unexpected", flinks.KindPending: "pending", flinks.KindRetryLater: "retry_later",
		flinks.KindReauthorize: "reauthorize", flinks.KindNeedsUser: "needs_user", flinks.KindMisconfigured: "misconfigured",
		flinks.Kind(99): "kind(99)",
	}
	for k, s := range want {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), k.String(), s)
		}
	}
	var zero flinks.Kind
	if zero != flinks.KindUnexpected {
		t.Error("the zero Kind must be KindUnexpected")
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    flinks.Error
		want string
	}{
		{flinks.Error{Endpoint: "GetAccountsDetail", StatusCode: 401, FlinksCode: "DISABLED_LOGIN", Message: "Account disabled"},
			"flinks: GetAccountsDetail: 401 DISABLED_LOGIN: Account disabled"},
		{flinks.Error{Endpoint: "GetAccountsDetail", StatusCode: 502, Message: "Bad Gateway"},
			"flinks: GetAccountsDetail: 502: Bad Gateway"},
		{flinks.Error{Endpoint: "Authorize", StatusCode: 500}, "flinks: Authorize: 500"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestResponseClassification drives the wire: status line and body → error fields.
func TestResponseClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		body      string
		want      *flinks.Error
		wantKind  flinks.Kind
		wantNoErr bool
	}{
		{name: "ok", status: 200, body: `{"HttpStatusCode":200,"Accounts":[]}`, wantNoErr: true},
		{name: "pending", status: 202, body: `{"FlinksCode":"OPERATION_PENDING","HttpStatusCode":202,"Message":"m","RequestId":"r1"}`,
			want: &flinks.Error{StatusCode: 202, FlinksCode: "OPERATION_PENDING", Message: "m", RequestID: "r1"}, wantKind: flinks.KindPending},
		{name: "pending with empty body", status: 202, body: ``,
			want: &flinks.Error{StatusCode: 202, FlinksCode: "OPERATION_PENDING", Message: "Accepted", RequestID: "r1"}, wantKind: flinks.KindPending},
		{name: "200 whose envelope says pending", status: 200, body: `{"FlinksCode":"OPERATION_PENDING","HttpStatusCode":202,"RequestId":"r1"}`,
			want: &flinks.Error{StatusCode: 202, FlinksCode: "OPERATION_PENDING", RequestID: "r1"}, wantKind: flinks.KindPending},
		{name: "session", status: 400, body: fixture(t, "error_401.json"),
			want:     &flinks.Error{StatusCode: 400, FlinksCode: "INVALID_LOGIN", Message: "The card number (username) or password provided is invalid", RequestID: "22178382-31ee-485c-a750-c20929b6a344"},
			wantKind: flinks.KindNeedsUser},
		{name: "disabled", status: 401, body: `{"HttpStatusCode":401,"FlinksCode":"DISABLED_LOGIN","Message":"disabled"}`,
			want: &flinks.Error{StatusCode: 401, FlinksCode: "DISABLED_LOGIN", Message: "disabled", RequestID: "r1"}, wantKind: flinks.KindNeedsUser},
		{name: "malformed JSON on 200", status: 200, body: `{"HttpStatusCode":200,"Accounts":[`,
			want: &flinks.Error{StatusCode: 200, Message: "malformed response", RequestID: "r1"}, wantKind: flinks.KindRetryLater},
		{name: "200 without Accounts", status: 200, body: `{"HttpStatusCode":200}`,
			want: &flinks.Error{StatusCode: 200, Message: "malformed response", RequestID: "r1"}, wantKind: flinks.KindRetryLater},
		{name: "200 null", status: 200, body: `null`,
			want: &flinks.Error{StatusCode: 200, Message: "malformed response", RequestID: "r1"}, wantKind: flinks.KindRetryLater},
		{name: "200 with a bad amount", status: 200, body: `{"Accounts":[{"Balance":{"Current":"lots"}}]}`,
			want: &flinks.Error{StatusCode: 200, Message: "malformed response", RequestID: "r1"}, wantKind: flinks.KindRetryLater},
		{name: "HTML 502", status: 502, body: `<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>`,
			want: &flinks.Error{StatusCode: 502, Message: "Bad Gateway", RequestID: "r1"}, wantKind: flinks.KindRetryLater},
		{name: "HTML 200", status: 200, body: `<html>captive portal</html>`,
			want: &flinks.Error{StatusCode: 200, Message: "malformed response", RequestID: "r1"}, wantKind: flinks.KindRetryLater},
		{name: "404 route", status: 404, body: `404 page not found`,
			want: &flinks.Error{StatusCode: 404, Message: "Not Found", RequestID: "r1"}, wantKind: flinks.KindMisconfigured},
		{name: "redirect not followed", status: 302, body: ``,
			want: &flinks.Error{StatusCode: 302, Message: "Found", RequestID: "r1"}, wantKind: flinks.KindUnexpected},
		{name: "203 outside Authorize", status: 203, body: `{"HttpStatusCode":203}`,
			want: &flinks.Error{StatusCode: 203, RequestID: "r1"}, wantKind: flinks.KindUnexpected},
		{name: "status field of the wrong type", status: 500, body: `{"HttpStatusCode":"500","FlinksCode":"AGGREGATION_ERROR","Message":"boom"}`,
			want: &flinks.Error{StatusCode: 500, FlinksCode: "AGGREGATION_ERROR", Message: "boom", RequestID: "r1"}, wantKind: flinks.KindRetryLater},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mux, c := setup(t)
			mux.HandleFunc(prefix+"GetAccountsDetailAsync/r1", func(w http.ResponseWriter, r *http.Request) {
				if tt.status == 302 {
					w.Header().Set("Location", "https://elsewhere.example/steal")
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			d, err := c.GetAccountsDetailAsync(t.Context(), "r1")
			if tt.wantNoErr {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if d != nil {
				t.Errorf("data returned with an error: %+v", d)
			}
			var fe *flinks.Error
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			tt.want.Endpoint = "GetAccountsDetailAsync"
			equal(t, "error", fe, tt.want)
			if fe.Kind() != tt.wantKind || flinks.KindOf(err) != tt.wantKind {
				t.Errorf("Kind = %v, KindOf = %v, want %v", fe.Kind(), flinks.KindOf(err), tt.wantKind)
			}
		})
	}
}

func TestTransportErrorRedactsIDs(t *testing.T) {
	t.Parallel()
	// A listener that is closed at once: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := flinks.NewClient(flinks.Config{BaseURL: "http://" + addr + basePath, APIKey: testAPIKey, SecretKey: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	err = c.DeleteCard(t.Context(), testLoginID)
	if err == nil {
		t.Fatal("want error")
	}
	var te *flinks.TransportError
	if !errors.As(err, &te) || flinks.KindOf(err) != flinks.KindRetryLater {
		t.Errorf("err = %v (%T), want *TransportError with KindRetryLater", err, err)
	}
	var fe *flinks.Error
	if errors.As(err, &fe) {
		t.Errorf("network error should not be an *Error: %v", fe)
	}
	if !strings.HasPrefix(err.Error(), "flinks: DeleteCard: ") || !strings.Contains(err.Error(), "DeleteCard/[redacted]") {
		t.Errorf("err = %q", err)
	}
	mustNotContain(t, "transport error", []byte(err.Error()), testLoginID, testAPIKey, testSecret)
	_, err = c.GetAccountsDetailAsync(t.Context(), "req-secretish")
	mustNotContain(t, "transport error", []byte(err.Error()), "req-secretish")
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	mux, c := setup(t)
	mux.HandleFunc(prefix+"GetAccountsDetail", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.GetAccountsDetail(ctx, flinks.NewDetailRequest("r"))
	if !errors.Is(err, context.Canceled) || err.Error() != "flinks: GetAccountsDetail: context canceled" {
		t.Errorf("err = %v", err)
	}
	if flinks.KindOf(err) != flinks.KindUnexpected {
		t.Errorf("KindOf(cancel) = %v", flinks.KindOf(err))
	}
}

func TestErrorsScrubSecrets(t *testing.T) {
	t.Parallel()
	const token = "0000000a-bbbb-4ccc-8ddd-eeeeeeeeeeee"
	const password = "hunter2-Password"
	mux, c := setup(t)
	mux.HandleFunc(prefix+"GenerateAuthorizeToken", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, `{"HttpStatusCode":200,"Token":"`+token+`"}`)
	})
	// Flinks echoing everything it was sent, in another case for good measure.
	echo := strings.Join([]string{testLoginID, strings.ToLower(testAPIKey), testSecret, strings.ToUpper(token), password, "some-other-guid 11111111-2222-3333-4444-555555555555"}, " | ")
	mux.HandleFunc(prefix+"Authorize", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 401, `{"HttpStatusCode":401,"FlinksCode":"INVALID_LOGIN","Message":"`+echo+`"}`)
	})
	_, err := c.Authorize(t.Context(), flinks.AuthorizeRequest{LoginID: testLoginID, Password: password, MostRecentCached: true})
	var fe *flinks.Error
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v", err)
	}
	mustNotContain(t, "Error()", []byte(err.Error()), testLoginID, testAPIKey, testSecret, token, password, "11111111-2222")
	mustNotContain(t, "Message", []byte(fe.Message), testLoginID, testAPIKey, testSecret, token, password)
	if !strings.Contains(fe.Message, "[redacted]") {
		t.Errorf("Message = %q", fe.Message)
	}
}
