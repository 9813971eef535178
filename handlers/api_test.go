package handlers

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"flinkslink/store"
)

// apiLinkDoc is GET /api/links/{id} as the README documents it, decoded by
// name as a script would: the test fails when a field is renamed or missing.
type apiLinkDoc struct {
	ID             string  `json:"id"`
	Institution    string  `json:"institution"`
	State          string  `json:"state"`
	Terminal       bool    `json:"terminal"`
	Fetch          int     `json:"fetch"`
	Polls          int     `json:"polls"`
	NextPollAt     *string `json:"next_poll_at"`
	RequestID      string  `json:"request_id"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
	FetchStartedAt *string `json:"fetch_started_at"`
	Error          *struct {
		Code        string `json:"code"`
		Message     string `json:"message"`
		Title       string `json:"title"`
		Explanation string `json:"explanation"`
		Action      string `json:"action"`
		CanRetry    bool   `json:"can_retry"`
		DocsURL     string `json:"docs_url"`
		Ours        bool   `json:"ours"`
	} `json:"error"`
	Timeline struct {
		Events []struct {
			ID           int64    `json:"id"`
			Fetch        int      `json:"fetch"`
			At           string   `json:"at"`
			State        string   `json:"state"`
			RequestID    string   `json:"request_id"`
			Polls        int      `json:"polls"`
			Kind         string   `json:"kind"`
			Args         []string `json:"args"`
			Note         string   `json:"note"`
			ErrorCode    string   `json:"error_code"`
			ErrorMessage string   `json:"error_message"`
		} `json:"events"`
		Calls []struct {
			ID         int64           `json:"id"`
			Fetch      int             `json:"fetch"`
			At         string          `json:"at"`
			Endpoint   string          `json:"endpoint"`
			Method     string          `json:"method"`
			Status     int             `json:"status"`
			FlinksCode string          `json:"flinks_code"`
			RequestID  string          `json:"request_id"`
			Attempt    int             `json:"attempt"`
			DurationMS int64           `json:"duration_ms"`
			Error      string          `json:"error"`
			Body       json.RawMessage `json:"body"`
			BodyText   *string         `json:"body_text"`
		} `json:"calls"`
	} `json:"timeline"`
	Summary *struct {
		Institution     string  `json:"institution"`
		InstitutionName string  `json:"institution_name"`
		LastRefresh     *string `json:"last_refresh"`
		FetchedAt       string  `json:"fetched_at"`
		Fetch           int     `json:"fetch"`
		HolderName      string  `json:"holder_name"`
		StaleCode       string  `json:"stale_code"`
		Unreadable      int     `json:"unreadable_transactions"`
		Accounts        []struct {
			ID           string `json:"id"`
			Title        string `json:"title"`
			NumberMasked string `json:"number_masked"`
			Type         string `json:"type"`
			Category     string `json:"category"`
			Currency     string `json:"currency"`
			HolderName   string `json:"holder_name"`
			Balances     struct {
				Current, Available, Limit *apiMoneyDoc
			} `json:"balances"`
			Transactions []struct {
				ID                     string `json:"id"`
				Date                   string `json:"date"`
				Description            string `json:"description"`
				Debit, Credit, Balance *apiMoneyDoc
			} `json:"transactions"`
		} `json:"accounts"`
	} `json:"summary"`
}

type apiMoneyDoc struct {
	Amount string `json:"amount"`
	Cents  int64  `json:"cents"`
}

type apiErrorDoc struct {
	Error struct {
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// getJSON fetches path and decodes its JSON answer into v, failing when the
// answer is not JSON; it returns the response and the raw body.
func (b *browser) getJSON(path string, v any, header ...string) (*http.Response, []byte) {
	b.app.t.Helper()
	resp, body := b.getBytes(path, header...)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		b.app.t.Fatalf("GET %s: Content-Type %q, want JSON; body:\n%s", path, ct, body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		b.app.t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
	return resp, body
}

func mustRFC3339(t *testing.T, what, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Errorf("%s %q is not RFC 3339: %v", what, s, err)
	}
	return at
}

func TestAPILinkPending(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	_, id := pendingLinkWithTimeline(t, app, b)

	var doc apiLinkDoc
	resp, raw := b.getJSON("/api/links/"+id, &doc)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if doc.ID != id || doc.Institution != "FlinksCapital" || doc.State != "pending" || doc.Terminal || doc.Fetch != 1 || doc.Polls != 2 || doc.RequestID != "req-auth-1" {
		t.Errorf("link: %+v", doc)
	}
	if doc.NextPollAt == nil || doc.FetchStartedAt == nil {
		t.Fatal("next_poll_at or fetch_started_at is null while pending")
	}
	next := mustRFC3339(t, "next_poll_at", *doc.NextPollAt)
	if d := time.Until(next); d > 15*time.Second || next.Before(mustRFC3339(t, "fetch_started_at", *doc.FetchStartedAt)) {
		t.Errorf("next_poll_at %v is not about 10 s ahead", next)
	}
	created := mustRFC3339(t, "created_at", doc.CreatedAt)
	mustRFC3339(t, "updated_at", doc.UpdatedAt)
	mustRFC3339(t, "fetch_started_at", *doc.FetchStartedAt)
	if time.Since(created) > time.Minute {
		t.Errorf("created_at %v", created)
	}
	if doc.Error != nil || doc.Summary != nil {
		t.Errorf("pending link has error %+v / summary %+v, want null", doc.Error, doc.Summary)
	}
	if !bytes.Contains(raw, []byte(`"summary": null`)) || !bytes.Contains(raw, []byte(`"error": null`)) {
		t.Error("summary and error are not null while pending")
	}

	// The timeline: events and calls, oldest first, bodies embedded.
	ev, calls := doc.Timeline.Events, doc.Timeline.Calls
	var states []string
	for _, e := range ev {
		states = append(states, e.State)
	}
	if got := strings.Join(states, ","); got != "received,authorizing,fetching,pending,retrying,pending" {
		t.Errorf("event states %s", got)
	}
	// What each entry says is data, not English prose.
	if e := ev[3]; e.Kind != "pending" || !slices.Equal(e.Args, []string{"1"}) || e.Note != "" {
		t.Errorf("pending event says kind %q args %q note %q", e.Kind, e.Args, e.Note)
	}
	if e := ev[4]; e.Kind != "retrying" || e.ErrorCode != "AGGREGATION_ERROR" || e.Args == nil {
		t.Errorf("retrying event says kind %q args %v code %q", e.Kind, e.Args, e.ErrorCode)
	}
	if len(calls) != 5 {
		t.Fatalf("%d calls, want 5", len(calls))
	}
	c := calls[0]
	if c.Endpoint != "Authorize" || c.Method != "POST" || c.Status != 200 || c.Attempt != 1 || c.DurationMS != 85 || c.RequestID != "req-auth-1" {
		t.Errorf("first call %+v", c)
	}
	var body struct {
		Login     map[string]any
		RequestId string
	}
	if err := json.Unmarshal(c.Body, &body); err != nil || body.RequestId != "req-auth-1" || body.Login["Id"] != "••••" {
		t.Errorf("first call's body not embedded as masked JSON (%v): %s", err, c.Body)
	}
	if c := calls[2]; c.FlinksCode != "AGGREGATION_ERROR" || c.Status != 500 {
		t.Errorf("third call %+v", c)
	}
	if c := calls[3]; c.BodyText == nil || !strings.Contains(*c.BodyText, "503 Service Unavailable") || string(c.Body) != "null" {
		t.Errorf("HTML answer: body %s, body_text %v", c.Body, c.BodyText)
	}
	if c := calls[4]; c.Status != 0 || !strings.Contains(c.Error, "connection refused") || string(c.Body) != "null" || c.BodyText != nil {
		t.Errorf("call without an answer: %+v", c)
	}
	if ev[4].ErrorCode != "AGGREGATION_ERROR" {
		t.Errorf("retrying event code %q", ev[4].ErrorCode)
	}
	assertNoPersonalData(t, "API answer", string(raw))
}

func TestAPILinkReadyAndFailed(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	_, id := pendingLinkWithTimeline(t, app, b)
	completeWithDetail(t, app, id)

	var doc apiLinkDoc
	_, raw := b.getJSON("/api/links/"+id, &doc)
	if doc.State != "ready" || !doc.Terminal || doc.NextPollAt != nil || doc.Error != nil {
		t.Errorf("ready link: state %q terminal %v next %v error %+v", doc.State, doc.Terminal, doc.NextPollAt, doc.Error)
	}
	s := doc.Summary
	if s == nil {
		t.Fatal("no summary once ready")
	}
	if s.StaleCode != "" || s.Unreadable != 0 {
		t.Errorf("a fresh summary says stale %q, %d unreadable rows", s.StaleCode, s.Unreadable)
	}
	if s.Institution != "FlinksCapital" || s.InstitutionName != "Flinks Capital" || s.HolderName != "John Doe" || s.LastRefresh == nil || *s.LastRefresh != "2025-01-31T17:40:54.000Z" {
		t.Errorf("summary %+v", s)
	}
	mustRFC3339(t, "fetched_at", s.FetchedAt)
	if len(s.Accounts) != 1 {
		t.Fatalf("%d accounts", len(s.Accounts))
	}
	a := s.Accounts[0]
	if a.NumberMasked != "•••• 6789" || a.Type != "Chequing" || a.Category != "Operations" || a.Currency != "CAD" || a.Title != "Chequing Account" {
		t.Errorf("account %+v", a)
	}
	if m := a.Balances.Current; m == nil || m.Amount != "5105.60" || m.Cents != 510560 {
		t.Errorf("current balance %+v, want 5105.60 / 510560", m)
	}
	if m := a.Balances.Available; m == nil || m.Amount != "-0.05" || m.Cents != -5 {
		t.Errorf("available balance %+v, want -0.05 / -5", m)
	}
	if a.Balances.Limit != nil {
		t.Errorf("limit %+v, want null (Flinks gave none)", a.Balances.Limit)
	}
	if len(a.Transactions) != 2 {
		t.Fatalf("%d transactions, want 2 (all of them)", len(a.Transactions))
	}
	tx0, tx1 := a.Transactions[0], a.Transactions[1]
	if tx0.Date != "2025-01-31" || tx0.Description != "PAYROLL" || tx0.Credit == nil || tx0.Credit.Amount != "1500.25" || tx0.Credit.Cents != 150025 || tx0.Debit != nil {
		t.Errorf("first transaction %+v", tx0)
	}
	if tx1.Debit == nil || tx1.Debit.Amount != "49.99" || tx1.Debit.Cents != 4999 || tx1.Balance != nil {
		t.Errorf("second transaction %+v", tx1)
	}
	last := doc.Timeline.Calls[len(doc.Timeline.Calls)-1]
	if last.Status != 200 || !json.Valid(last.Body) || !strings.Contains(string(last.Body), "••••6789") {
		t.Errorf("final call body not embedded and masked: %s", last.Body)
	}
	assertNoPersonalData(t, "API answer", string(raw))

	// A failed link: the error with its explanation.
	b2 := app.browser()
	path2 := b2.linkFor("11111111-2222-3333-4444-555555555555")
	id2 := strings.TrimPrefix(path2, "/links/")
	seedState(t, app, id2, 1, store.StateUpdate{State: store.StateFailed, ErrorCode: "RETRY_LATER", ErrorMessage: "bank unavailable"})
	var failed apiLinkDoc
	b2.getJSON("/api/links/"+id2, &failed)
	info := describeCode("RETRY_LATER")
	if e := failed.Error; e == nil || e.Code != "RETRY_LATER" || e.Message != "bank unavailable" || e.Title != info.Title || e.Explanation != info.Message || e.CanRetry != info.Retry || e.Ours {
		t.Errorf("failed link error %+v", failed.Error)
	}
	if !failed.Terminal || failed.State != "failed" || failed.Summary != nil {
		t.Errorf("failed link: %+v", failed)
	}
}

func TestAPIOwnershipAndErrorsInJSON(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	_, id := pendingLinkWithTimeline(t, app, b)

	other := app.browser()
	other.connectTag() // a session of its own
	var e apiErrorDoc
	resp, raw := other.getJSON("/api/links/"+id, &e)
	if resp.StatusCode != http.StatusNotFound || e.Error.Status != 404 || e.Error.Code != "linkNotFound" || e.Error.Message == "" {
		t.Errorf("another session: %d %+v", resp.StatusCode, e)
	}
	if bytes.Contains(raw, []byte("<")) {
		t.Errorf("JSON error carries HTML: %s", raw)
	}

	// No cookie at all, an unknown id, a malformed id and an unknown API path:
	// JSON 404s. The French session gets the message in French.
	anon := &browser{app: app, c: &http.Client{}}
	for _, path := range []string{"/api/links/" + id, "/api/links/" + strings.Repeat("A", 22), "/api/links/%3Cx%3E", "/api/nothing-here"} {
		var e apiErrorDoc
		resp, _ := anon.getJSON(path, &e)
		if resp.StatusCode != http.StatusNotFound || e.Error.Status != http.StatusNotFound {
			t.Errorf("%s: %d %+v, want a JSON 404", path, resp.StatusCode, e)
		}
	}
	var fr apiErrorDoc
	other.getJSON("/api/links/"+id, &fr, "Accept-Language", "fr")
	if !strings.HasPrefix(fr.Error.Message, "Aucune liaison") {
		t.Errorf("French error message %q", fr.Error.Message)
	}

	// A method the API does not take: JSON too (the CSRF check answers first).
	req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/api/links/"+id, nil)
	r, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var pe apiErrorDoc
	if err := json.NewDecoder(r.Body).Decode(&pe); err != nil || r.StatusCode < 400 || pe.Error.Status != r.StatusCode {
		t.Errorf("POST /api/links/{id}: %d %+v (%v), want a JSON error", r.StatusCode, pe, err)
	}
	r.Body.Close()

	// The pages keep answering HTML errors.
	resp, doc := other.get("/links/" + id)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(ct, "text/html") || doc.Find("title").Length() == 0 {
		t.Errorf("page error: %d %q", resp.StatusCode, ct)
	}
}

func TestDecimalAmount(t *testing.T) {
	for cents, want := range map[int64]string{
		0: "0.00", 5: "0.05", -5: "-0.05", 100: "1.00", -4999: "-49.99", 123456789: "1234567.89",
		math.MinInt64: "-92233720368547758.08", math.MaxInt64: "92233720368547758.07",
	} {
		if got := decimalAmount(cents); got != want {
			t.Errorf("decimalAmount(%d) = %q, want %q", cents, got, want)
		}
	}
}
