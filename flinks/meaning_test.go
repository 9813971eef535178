package flinks_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"flinkslink/flinks"
)

// Classify is the one place that says what a failure means.
func TestClassify(t *testing.T) {
	timedOut := fmt.Errorf("%w after 5 polls: %w", flinks.ErrTimedOut, &flinks.Error{Endpoint: "GetAccountsDetailAsync", StatusCode: 202, FlinksCode: "OPERATION_PENDING"})
	for _, tc := range []struct {
		name        string
		err         error
		code        string
		ours, retry bool
		unknownCard bool
	}{
		{"a FlinksCode", &flinks.Error{StatusCode: 401, FlinksCode: "disabled_login", Message: "locked"}, "DISABLED_LOGIN", false, false, false},
		{"a transient FlinksCode", &flinks.Error{StatusCode: 401, FlinksCode: "RETRY_LATER"}, "RETRY_LATER", false, true, false},
		{"DISABLED_INSTITUTION: later may work", &flinks.Error{StatusCode: 401, FlinksCode: "DISABLED_INSTITUTION"}, "DISABLED_INSTITUTION", false, true, false},
		{"the limit", timedOut, flinks.CodeTimedOut, true, true, false},
		{"foreign data", fmt.Errorf("%w: x", flinks.ErrForeignData), flinks.CodeForeignData, true, true, false},
		{"a network failure", &flinks.TransportError{Err: errors.New("reset")}, flinks.CodeNetwork, true, true, false},
		{"a deadline", context.DeadlineExceeded, flinks.CodeNetwork, true, true, false},
		{"a garbled 200", &flinks.Error{StatusCode: 200, Message: "malformed response"}, flinks.CodeMalformed, true, true, false},
		{"a 203 on cached Authorize", &flinks.Error{Endpoint: "Authorize", StatusCode: 203}, flinks.CodeMFARequired, true, false, false},
		{"a 503 without a code", &flinks.Error{StatusCode: 503}, "HTTP_503", false, true, false},
		{"a 404 without a code", &flinks.Error{StatusCode: 404}, "HTTP_404", false, false, false},
		{"an unknown card, by code", &flinks.Error{StatusCode: 401, FlinksCode: "INVALID_LOGIN"}, "INVALID_LOGIN", false, false, true},
		{"an unknown card, by DeleteCard's text", &flinks.Error{StatusCode: 400, Message: "Invalid LoginId"}, "HTTP_400", false, false, true},
		{"anything else", errors.New("boom"), flinks.CodeUnexpected, true, true, false},
	} {
		f := flinks.Classify(tc.err)
		if f.Code != tc.code || f.Ours != tc.ours || f.Retry != tc.retry || f.CardUnknown != tc.unknownCard || f.Message == "" {
			t.Errorf("%s: %+v; want code %s ours %v retry %v unknown card %v, and a message", tc.name, f, tc.code, tc.ours, tc.retry, tc.unknownCard)
		}
		if f.Retry != flinks.CanRetry(f.Code) {
			t.Errorf("%s: Classify and CanRetry disagree on %s", tc.name, f.Code)
		}
	}
	if (flinks.Classify(nil) != flinks.Failure{}) {
		t.Error("Classify(nil) is not the zero Failure")
	}
	for _, code := range flinks.FlinksCodes() {
		if !flinks.Known(code) || flinks.IsOurCode(code) {
			t.Errorf("%s: Known %v, ours %v", code, flinks.Known(code), flinks.IsOurCode(code))
		}
	}
}
