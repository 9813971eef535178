package handlers

import (
	"fmt"
	"strings"
	"testing"

	"flinkslink/flinks"
)

// flinksCodes is the FlinksCode catalogue of the Flinks reference (§6), as the
// flinks package knows it: each needs its words here.
var flinksCodes = flinks.FlinksCodes()

// TestEveryFailureCodeIsExplained: every code the fetcher can record — a
// FlinksCode, one of its own, or HTTP_nnn for a status Flinks answered without a
// code — gets its own words on the failure page, and "Try again" is offered
// exactly where the client's retry policy says repeating can help.
func TestEveryFailureCodeIsExplained(t *testing.T) {
	generic := codeCatalogue[flinks.CodeUnexpected]
	type row struct {
		code      string
		wantRetry *bool // nil: either is sensible
	}
	yes, no := true, false
	var rows []row

	for _, code := range flinksCodes {
		r := row{code: code}
		switch (&flinks.Error{Endpoint: "GetAccountsDetail", StatusCode: 401, FlinksCode: code}).Kind() {
		case flinks.KindRetryLater, flinks.KindReauthorize, flinks.KindPending:
			r.wantRetry = &yes
		case flinks.KindMisconfigured:
			r.wantRetry = &no
		case flinks.KindNeedsUser:
			if code != "DISABLED_INSTITUTION" { // "try later, or another bank"
				r.wantRetry = &no
			}
		}
		rows = append(rows, r)
	}
	rows = append(rows,
		row{flinks.CodeNetwork, &yes},
		row{flinks.CodeMalformed, &yes},
		row{flinks.CodeTimedOut, &yes},
		row{flinks.CodeMFARequired, &no}, // a cached fetch would meet the same question
		row{flinks.CodeForeignData, &yes},
	)
	if n := len(flinksCodes); n < 26 {
		t.Errorf("the flinks package knows %d FlinksCodes, want the reference's 26+", n)
	}
	for status := 300; status <= 599; status++ {
		r := row{code: fmt.Sprintf("HTTP_%d", status)}
		switch (&flinks.Error{Endpoint: "GetAccountsDetail", StatusCode: status}).Kind() {
		case flinks.KindRetryLater:
			r.wantRetry = &yes
		case flinks.KindMisconfigured:
			r.wantRetry = &no
		}
		if status < 400 {
			r.wantRetry = &no // a redirect: the configured address is wrong
		}
		rows = append(rows, r)
	}

	for _, r := range rows {
		info, specific := lookupCode(r.code)
		if !specific || info.Title == generic.Title || info.Message == generic.Message {
			t.Errorf("%s: generic explanation %q", r.code, info.Title)
			continue
		}
		if info.Title == "" || info.Message == "" || info.Action == "" {
			t.Errorf("%s: incomplete entry %+v", r.code, info)
		}
		if r.wantRetry != nil && info.Retry != *r.wantRetry {
			t.Errorf("%s: Retry = %v, want %v (the client's policy for it)", r.code, info.Retry, *r.wantRetry)
		}
		if strings.Contains(info.Message, "HTTP_") {
			t.Errorf("%s: message shows the raw code: %q", r.code, info.Message)
		}
		if d := describeCode(r.code); d != info {
			t.Errorf("%s: describeCode and lookupCode disagree", r.code)
		}
		if title, msg, action, ok := ExplainCode(r.code); !ok || title != info.Title || msg != info.Message || action != info.Action {
			t.Errorf("%s: ExplainCode = %q %q %q %v", r.code, title, msg, action, ok)
		}
	}
}

// TestHTTPStatusExplanations pins the words for the statuses the fault matrix
// produces, so a 503 never reads like a 401.
func TestHTTPStatusExplanations(t *testing.T) {
	for _, tt := range []struct{ code, title, mention string }{
		{"HTTP_302", "Flinks answered from elsewhere", "redirect (HTTP 302)"},
		{"HTTP_401", codeCatalogue["ACCESS_DENIED"].Title, "HTTP 401"},
		{"HTTP_404", "Flinks address not found", "HTTP 404"},
		{"HTTP_408", "Flinks did not answer in time", "HTTP 408"},
		{"HTTP_429", codeCatalogue["TOO_MANY_REQUESTS"].Title, "HTTP 429"},
		{"HTTP_418", "Request refused by Flinks", "HTTP 418"},
		{"HTTP_502", "Flinks is having problems", "HTTP 502"},
		{"HTTP_503", "Flinks is having problems", "HTTP 503"},
		{"http_503", "Flinks is having problems", "HTTP 503"},
	} {
		info := describeCode(tt.code)
		if info.Title != tt.title || !strings.Contains(info.Message, tt.mention) {
			t.Errorf("%s: %q / %q; want title %q mentioning %q", tt.code, info.Title, info.Message, tt.title, tt.mention)
		}
	}
}

// TestUnknownCodesAreGeneric: what the fetcher cannot name gets the generic
// entry, and is reported as such.
func TestUnknownCodesAreGeneric(t *testing.T) {
	generic := codeCatalogue[flinks.CodeUnexpected]
	for _, code := range []string{"", flinks.CodeUnexpected, "SOMETHING_NEW", "HTTP_", "HTTP_abc", "HTTP_1000", "HTTP_200", "HTTP_99", "HTTP_+50", "<script>"} {
		info, specific := lookupCode(code)
		if specific || info.codeWords != generic {
			t.Errorf("%q: specific %v, %q; want the generic entry", code, specific, info.Title)
		}
	}
	if _, _, _, ok := ExplainCode("SOMETHING_NEW"); ok {
		t.Error("ExplainCode calls an unknown code specific")
	}
}
