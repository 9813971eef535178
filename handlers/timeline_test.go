package handlers

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"flinkslink/handlers/fetcher"
	"flinkslink/store"
)

// Personal data in the raw Flinks answers below: the masking at storage must
// keep every one of them off the page, the downloads and the API.
const (
	rawAccountNumber = "0123456789"
	rawEmail         = "john.doe@example.com"
	rawPhone         = "5145550199"
	rawPostalCode    = "H0H 0H0"
)

// Flinks answers as the fetcher receives them (before MaskBody). The LoginId
// appears as Login.Id and, for good measure, inside a free-text field.
var (
	rawAuthorize = `{"Login":{"Id":"` + testLoginID + `","Username":"greatday","IsScheduledRefresh":false,"LastRefresh":"2025-01-31T17:40:54"},` +
		`"Institution":"FlinksCapital","RequestId":"req-auth-1","Links":[{"rel":"AccountsDetail","href":"/GetAccountsDetail/` + testLoginID + `"}]}`
	rawPending = `{"FlinksCode":"OPERATION_PENDING","Message":"Your request is still being processed.","RequestId":"req-auth-1"}`
	rawAggErr  = `{"FlinksCode":"AGGREGATION_ERROR","Message":"An error occurred while aggregating.","RequestId":"req-auth-1"}`
	rawDetail  = `{"HttpStatusCode":200,"Login":{"Id":"` + testLoginID + `","Username":"greatday"},"Accounts":[{` +
		`"Id":"27a9ffa0-c6b9-4cc6-9eaa-aa9efa07a889","Title":"Chequing Account","AccountNumber":"` + rawAccountNumber + `",` +
		`"TransitNumber":"77777","InstitutionNumber":"777","Balance":{"Current":5105.6,"Available":5105.6},` +
		`"Holder":{"Name":"John Doe","Email":"` + rawEmail + `","PhoneNumber":"` + rawPhone + `",` +
		`"Address":{"CivicAddress":"1 Main St","City":"Montreal","PostalCode":"` + rawPostalCode + `"}}}],"RequestId":"req-auth-1"}`
	rawProxyHTML = "<html><body><h1>503 Service Unavailable</h1></body></html>"
)

// tick keeps each recorded entry in its own millisecond, so the expected order
// of the timeline does not depend on the tie-break.
func tlTick() { time.Sleep(3 * time.Millisecond) }

// seedCall records a call the way the fetcher does: the body masked first.
func seedCall(t *testing.T, app *testApp, id string, fetch int, c store.Call, raw string) {
	t.Helper()
	tlTick()
	c.At = time.Now()
	if raw != "" {
		c.Body = fetcher.MaskBody([]byte(raw), testLoginID)
	}
	if err := app.db.RecordCall(t.Context(), id, fetch, c); err != nil {
		t.Fatal(err)
	}
}

func seedState(t *testing.T, app *testApp, id string, fetch int, u store.StateUpdate) {
	t.Helper()
	tlTick()
	if err := app.db.RecordState(t.Context(), id, fetch, u); err != nil {
		t.Fatal(err)
	}
}

// pendingLinkWithTimeline creates a link for b whose fetch went through every
// kind of entry and is now pending; it returns the link's path and id.
func pendingLinkWithTimeline(t *testing.T, app *testApp, b *browser) (string, string) {
	t.Helper()
	path := b.linkFor(testLoginID)
	id := strings.TrimPrefix(path, "/links/")
	link, err := app.db.Link(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	f := link.Fetch
	seedState(t, app, id, f, store.StateUpdate{State: store.StateAuthorizing, Note: store.NoteOf(store.NoteAuthorizeCached)})
	seedCall(t, app, id, f, store.Call{Endpoint: "Authorize", Method: "POST", StatusCode: 200, RequestID: "req-auth-1", Attempt: 1, Duration: 85 * time.Millisecond}, rawAuthorize)
	seedState(t, app, id, f, store.StateUpdate{State: store.StateFetching, RequestID: "req-auth-1", Note: store.NoteOf(store.NoteRequestDetails)})
	seedCall(t, app, id, f, store.Call{Endpoint: "GetAccountsDetail", Method: "POST", StatusCode: 202, FlinksCode: "OPERATION_PENDING", RequestID: "req-auth-1", Attempt: 1, Duration: 1200 * time.Millisecond}, rawPending)
	seedState(t, app, id, f, store.StateUpdate{State: store.StatePending, RequestID: "req-auth-1", Polls: 1, NextPollAt: time.Now().Add(10 * time.Second), Note: store.NoteOf(store.NotePending, 1)})
	seedCall(t, app, id, f, store.Call{Endpoint: "GetAccountsDetailAsync", Method: "GET", StatusCode: 500, FlinksCode: "AGGREGATION_ERROR", RequestID: "req-auth-1", Attempt: 1, Duration: 40 * time.Millisecond}, rawAggErr)
	seedState(t, app, id, f, store.StateUpdate{State: store.StateRetrying, RequestID: "req-auth-1", Polls: 1, ErrorCode: "AGGREGATION_ERROR", ErrorMessage: "An error occurred while aggregating.", Note: store.NoteOf(store.NoteRetrying)})
	seedCall(t, app, id, f, store.Call{Endpoint: "GetAccountsDetailAsync", Method: "GET", StatusCode: 503, RequestID: "req-auth-1", Attempt: 2, Duration: 12 * time.Millisecond}, rawProxyHTML)
	seedCall(t, app, id, f, store.Call{Endpoint: "GetAccountsDetailAsync", Method: "GET", RequestID: "req-auth-1", Attempt: 3, Duration: 3 * time.Second, Err: "dial tcp 127.0.0.1:9: connect: connection refused"}, "")
	seedState(t, app, id, f, store.StateUpdate{State: store.StatePending, RequestID: "req-auth-1", Polls: 2, NextPollAt: time.Now().Add(10 * time.Second), Note: store.NoteOf(store.NotePending, 2)})
	return path, id
}

// completeWithDetail records the final 200 answer and the snapshot.
func completeWithDetail(t *testing.T, app *testApp, id string) {
	t.Helper()
	link, err := app.db.Link(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	seedCall(t, app, id, link.Fetch, store.Call{Endpoint: "GetAccountsDetailAsync", Method: "GET", StatusCode: 200, RequestID: "req-auth-1", Attempt: 4, Duration: 230 * time.Millisecond}, rawDetail)
	tlTick()
	cur, avail, debit, credit, bal := int64(510560), int64(-5), int64(4999), int64(150025), int64(510560)
	err = app.db.CompleteFetch(t.Context(), id, link.Fetch, store.Snapshot{
		Institution: "FlinksCapital", InstitutionName: "Flinks Capital", LastRefresh: time.Date(2025, 1, 31, 17, 40, 54, 0, time.UTC),
		HolderName: "John Doe",
		Accounts: []store.Account{{
			ID: "27a9ffa0-c6b9-4cc6-9eaa-aa9efa07a889", Title: "Chequing Account", Last4: "6789", Type: "Chequing",
			Category: "Operations", Currency: "CAD", Current: &cur, Available: &avail, HolderName: "John Doe",
			Transactions: []store.Transaction{
				{ID: "t2", Date: "2025-01-31", Description: "PAYROLL", Credit: &credit, Balance: &bal},
				{ID: "t1", Date: "2025-01-30", Description: "COFFEE", Debit: &debit},
			},
		}},
	}, store.NoteOf(store.NoteDataReceived, 1))
	if err != nil {
		t.Fatal(err)
	}
}

// getBytes is b.get for answers that are not HTML: the raw body.
func (b *browser) getBytes(path string, header ...string) (*http.Response, []byte) {
	b.app.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.app.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.app.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.app.t.Fatal(err)
	}
	return resp, body
}

// assertNoPersonalData fails when any secret of the raw answers shows.
func assertNoPersonalData(t *testing.T, where, text string) {
	t.Helper()
	for _, secret := range []string{testLoginID, rawAccountNumber, rawEmail, rawPhone, rawPostalCode, "1 Main St", "77777"} {
		if strings.Contains(text, secret) {
			t.Errorf("%s shows %q", where, secret)
		}
	}
}

func tlText(s *goquery.Selection) string { return strings.TrimSpace(s.Text()) }

func TestTimelinePanelListsEventsAndCalls(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path, _ := pendingLinkWithTimeline(t, app, b)

	resp, doc := b.get(path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	panel := doc.Find("details[data-testid=timeline-details]")
	if panel.Length() != 1 {
		t.Fatal("no Details panel on the link page")
	}
	if doc.Find("#link-status details, #link-status [data-testid=timeline-details]").Length() != 0 {
		t.Error("the Details panel is inside the polled #link-status: its swaps would close it")
	}
	if _, open := panel.Attr("open"); open {
		t.Error("the Details panel starts open; it should be collapsed")
	}
	if got := tlText(panel.Find("summary .timeline-title")); got != "Details" {
		t.Errorf("panel summary %q, want Details", got)
	}

	// Every state change and call, in time order.
	var kinds []string
	var times []time.Time
	panel.Find("#timeline-entries > li").Each(func(_ int, li *goquery.Selection) {
		tid, _ := li.Attr("data-testid")
		switch tid {
		case "timeline-event":
			st, _ := li.Attr("data-state")
			kinds = append(kinds, "event:"+st)
		case "timeline-call":
			kinds = append(kinds, "call:"+tlText(li.Find("[data-testid=call-endpoint]"))+":"+tlText(li.Find("[data-testid=call-status]")))
		default:
			kinds = append(kinds, tid)
		}
		if dt, ok := li.Find("[data-testid=entry-time]").Attr("datetime"); ok {
			at, err := time.Parse(time.RFC3339Nano, dt)
			if err != nil {
				t.Errorf("entry time %q is not RFC 3339: %v", dt, err)
			}
			times = append(times, at)
		}
	})
	want := []string{
		"timeline-fetch",
		"event:received",
		"event:authorizing", "call:Authorize:200",
		"event:fetching", "timeline-polls", // the 202 and the pending state it led to
		"call:GetAccountsDetailAsync:500",
		"event:retrying", "call:GetAccountsDetailAsync:503", "call:GetAccountsDetailAsync:no response",
		"timeline-polls",
		"timeline-tail",
	}
	if !slices.Equal(kinds, want) {
		t.Errorf("timeline entries\n got %q\nwant %q", kinds, want)
	}
	if !slices.IsSortedFunc(times, func(a, b time.Time) int { return a.Compare(b) }) {
		t.Errorf("entry times are not in order: %v", times)
	}

	// A call shows its fields.
	auth := panel.Find("[data-testid=timeline-call]").First()
	for sel, want := range map[string]string{
		"[data-testid=call-method]":     "POST",
		"[data-testid=call-endpoint]":   "Authorize",
		"[data-testid=call-status]":     "200",
		"[data-testid=call-duration]":   "85 ms",
		"[data-testid=call-attempt]":    "1",
		"[data-testid=call-request-id]": "req-auth-1",
	} {
		if got := tlText(auth.Find(sel)); got != want {
			t.Errorf("Authorize call %s = %q, want %q", sel, got, want)
		}
	}
	if got := auth.Find("[data-testid=entry-time]").Text(); len(got) != len("15:04:05.000") {
		t.Errorf("call time %q, want the time of day to the millisecond", got)
	}
	pendingCall := panel.Find("[data-testid=timeline-polls]").First()
	if got := tlText(pendingCall.Find("[data-testid=polls-summary]")); got != "202, still collecting: 1 answer" {
		t.Errorf("poll group says %q", got)
	}
	if got := tlText(pendingCall.Find("[data-testid=polls-request-id]")); got != "req-auth-1" {
		t.Errorf("poll group RequestId %q", got)
	}
	// A 202 shows its code without calling it a failure.
	if got := tlText(pendingCall.Find("[data-testid=entry-code]")); got != "OPERATION_PENDING" {
		t.Errorf("202 FlinksCode %q", got)
	}
	if pendingCall.Find("[data-testid=code-explain]").Length() != 0 || pendingCall.HasClass("tl-failed") {
		t.Error("a 202 OPERATION_PENDING is shown as a failure")
	}

	// Failures show their code, opening onto the catalogue's explanation.
	failed := panel.Find("[data-testid=timeline-call].tl-failed").First()
	if got := tlText(failed.Find("[data-testid=entry-code]")); got != "AGGREGATION_ERROR" {
		t.Errorf("failed call code %q", got)
	}
	info := describeCode("AGGREGATION_ERROR")
	explain := failed.Find("details[data-testid=code-explain]")
	if !strings.Contains(explain.Find("summary").Text(), info.Title) || tlText(explain.Find("[data-testid=code-message]")) != info.Message {
		t.Errorf("failed call explanation %q, want %q / %q", tlText(explain), info.Title, info.Message)
	}
	retrying := panel.Find("[data-testid=timeline-event][data-state=retrying]")
	if got := tlText(retrying.Find("[data-testid=entry-code]")); got != "AGGREGATION_ERROR" || !retrying.HasClass("tl-failed") {
		t.Errorf("retrying event code %q (failed class %v)", got, retrying.HasClass("tl-failed"))
	}
	if got := tlText(retrying.Find("[data-testid=event-note]")); !strings.HasPrefix(got, "A temporary failure: trying again") {
		t.Errorf("retrying event note %q", got)
	}
	noResponse := panel.Find("[data-testid=timeline-call]").Eq(3)
	if got := tlText(noResponse.Find("[data-testid=call-error]")); !strings.Contains(got, "connection refused") {
		t.Errorf("no-response call error %q", got)
	}
	if got := tlText(noResponse.Find("[data-testid=call-attempt]")); got != "3" {
		t.Errorf("no-response call attempt %q, want 3", got)
	}
	if noResponse.Find("[data-testid=call-body]").Length() != 0 {
		t.Error("a call without a response shows a body")
	}

	// Bodies: pretty-printed JSON, masked, with Copy and Download.
	body := auth.Find("[data-testid=call-body-text]")
	var parsed map[string]any
	if err := json.Unmarshal([]byte(body.Text()), &parsed); err != nil {
		t.Fatalf("Authorize body is not JSON: %v\n%s", err, body.Text())
	}
	if parsed["RequestId"] != "req-auth-1" || !strings.Contains(body.Text(), "\n  \"") {
		t.Errorf("Authorize body not shown pretty-printed:\n%s", body.Text())
	}
	copyBtn := auth.Find("button[data-testid=call-copy]")
	if from, _ := copyBtn.Attr("data-copy-from"); from == "" || body.AttrOr("id", "") != from {
		t.Errorf("Copy button copies #%s, the body is #%s", from, body.AttrOr("id", ""))
	}
	if label := copyBtn.AttrOr("aria-label", ""); !strings.Contains(label, "POST Authorize") {
		t.Errorf("Copy button's accessible name %q does not say which call", label)
	}
	html, _ := doc.Html()
	assertNoPersonalData(t, "link page", html)
	if !strings.Contains(html, "••••") {
		t.Error("no masked value in the bodies: the test data was not masked the way it should")
	}
	if strings.Contains(html, "<script>") || doc.Find("script:not([src])").Length() != 0 {
		t.Error("inline script on the page (the CSP forbids them)")
	}

	// Live: the list ends with the tail, whose cursor the status poll sends.
	if got := tailCursor(panel); !strings.Contains(got, "event=") {
		t.Errorf("tail cursor %q", got)
	}
	if got := doc.Find("#link-status").AttrOr("hx-include", ""); got != "#timeline-tail" {
		t.Errorf("status hx-include %q, want the tail", got)
	}
}

func TestTimelineDownloads(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path, _ := pendingLinkWithTimeline(t, app, b)
	_, doc := b.get(path)
	other := app.browser()
	other.connectTag()

	// One call's body: JSON attachment, masked.
	href, ok := doc.Find("[data-testid=timeline-call]").First().Find("a[data-testid=call-download]").Attr("href")
	if !ok {
		t.Fatal("no Download button on the Authorize call")
	}
	resp, body := b.getBytes(href)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("body download: %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("body download Content-Type %q", ct)
	}
	disp, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || !strings.HasSuffix(params["filename"], "-Authorize.json") {
		t.Errorf("body download Content-Disposition %q", resp.Header.Get("Content-Disposition"))
	}
	var auth struct {
		Login     struct{ Id, Username string }
		RequestId string
	}
	if err := json.Unmarshal(body, &auth); err != nil {
		t.Fatalf("downloaded body is not JSON: %v", err)
	}
	if auth.RequestId != "req-auth-1" || auth.Login.Id != "••••" || auth.Login.Username != "••••" {
		t.Errorf("downloaded body: %+v, want RequestId kept and Login masked", auth)
	}
	assertNoPersonalData(t, "downloaded body", string(body))
	if resp, _ := other.getBytes(href); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another browser downloaded the body: %d, want 404", resp.StatusCode)
	}

	// A body that is not JSON (a proxy's HTML page) is plain text, never HTML.
	proxy := doc.Find("[data-testid=timeline-call]").Eq(2)
	href2, _ := proxy.Find("a[data-testid=call-download]").Attr("href")
	resp, body = b.getBytes(href2)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(string(body), "503 Service Unavailable") {
		t.Errorf("HTML body download: %d %q %q", resp.StatusCode, ct, body)
	}
	if proxy.Find("[data-testid=call-body]").Text() == "" || !strings.Contains(proxy.Text(), "Not JSON") {
		t.Error("a non-JSON body is not labelled as such")
	}
	// A call of this link that does not exist, and a malformed id.
	for _, bad := range []string{path + "/calls/999999/body", path + "/calls/abc/body"} {
		if resp, _ := b.getBytes(bad); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, resp.StatusCode)
		}
	}

	// The whole timeline.
	href, ok = doc.Find("a[data-testid=timeline-download]").Attr("href")
	if !ok {
		t.Fatal("no Download timeline button")
	}
	resp, body = b.getBytes(href)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("timeline download: %d %q", resp.StatusCode, ct)
	}
	if disp, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); disp != "attachment" || !strings.HasSuffix(params["filename"], "-timeline.json") {
		t.Errorf("timeline download Content-Disposition %q", resp.Header.Get("Content-Disposition"))
	}
	var tl struct {
		LinkID   string `json:"link_id"`
		State    string `json:"state"`
		Timeline struct {
			Events []struct {
				State string `json:"state"`
			} `json:"events"`
			Calls []struct {
				Endpoint string          `json:"endpoint"`
				Status   int             `json:"status"`
				Body     json.RawMessage `json:"body"`
				BodyText *string         `json:"body_text"`
			} `json:"calls"`
		} `json:"timeline"`
	}
	if err := json.Unmarshal(body, &tl); err != nil {
		t.Fatalf("timeline download is not JSON: %v", err)
	}
	if tl.State != "pending" || len(tl.Timeline.Events) != 6 || len(tl.Timeline.Calls) != 5 {
		t.Errorf("timeline download: state %q, %d events, %d calls; want pending, 6, 5", tl.State, len(tl.Timeline.Events), len(tl.Timeline.Calls))
	}
	if len(tl.Timeline.Calls) == 5 {
		if c := tl.Timeline.Calls[0]; c.Endpoint != "Authorize" || c.Status != 200 || !json.Valid(c.Body) || c.Body[0] != '{' {
			t.Errorf("first call %s %d, body %s: want Authorize 200 with its body embedded as JSON", c.Endpoint, c.Status, c.Body)
		}
		if c := tl.Timeline.Calls[3]; c.BodyText == nil || string(c.Body) != "null" {
			t.Errorf("the HTML answer: body %s, body_text %v; want null and the text", c.Body, c.BodyText)
		}
	}
	assertNoPersonalData(t, "timeline download", string(body))
	if resp, _ := other.getBytes(href); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another browser downloaded the timeline: %d, want 404", resp.StatusCode)
	}
}

// statusPollURL is the request the page's htmx makes for the status: the
// status element's URL (with ?v=, the version it shows) and the cursor the
// timeline's tail holds (hx-include="#timeline-tail"). Without the version
// the server answers at once rather than waiting for a change.
func statusPollURL(t *testing.T, doc *goquery.Document, withVersion bool) string {
	t.Helper()
	st := doc.Find("#link-status")
	if st.AttrOr("hx-include", "") != "#timeline-tail" {
		t.Fatalf("the status element does not send the timeline's cursor (hx-include %q)", st.AttrOr("hx-include", ""))
	}
	u, err := url.Parse(st.AttrOr("hx-get", ""))
	if err != nil || u.Path == "" {
		t.Fatalf("status hx-get %q", st.AttrOr("hx-get", ""))
	}
	q := u.Query()
	if !withVersion {
		q.Del("v")
	}
	doc.Find("#timeline-tail input[type=hidden]").Each(func(_ int, in *goquery.Selection) {
		q.Add(in.AttrOr("name", ""), in.AttrOr("value", ""))
	})
	u.RawQuery = q.Encode()
	return u.String()
}

// tailCursor is the cursor the tail of doc (a page or a poll's answer) holds.
func tailCursor(doc *goquery.Selection) string {
	var parts []string
	doc.Find("#timeline-tail input[type=hidden]").Each(func(_ int, in *goquery.Selection) {
		parts = append(parts, in.AttrOr("name", "")+"="+in.AttrOr("value", ""))
	})
	return strings.Join(parts, "&")
}

func TestTimelinePollAppendsNewEntriesAndStops(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path, id := pendingLinkWithTimeline(t, app, b)
	_, doc := b.get(path)
	if doc.Find("#timeline-tail[hx-get], #timeline-tail[hx-trigger]").Length() != 0 {
		t.Error("the timeline's tail polls on its own: a second request per change")
	}
	cursor := tailCursor(doc.Selection)
	if !strings.Contains(cursor, "event=") || !strings.Contains(cursor, "call=") {
		t.Fatalf("the tail holds no cursor: %q", cursor)
	}

	// Nothing new: the status answer leaves the list alone (the tail stays).
	resp, frag := b.get(statusPollURL(t, doc, false), "HX-Request", "true")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("poll: %d", resp.StatusCode)
	}
	if frag.Find("#link-status").Length() != 1 || frag.Find("hx-partial, #timeline-tail, [data-testid^=timeline]").Length() != 0 {
		t.Errorf("poll with nothing new brought list items:\n%s", tlHTML(frag.Html()))
	}
	if frag.Find("title, header.site, details").Length() != 0 {
		t.Error("the poll answered more than the status")
	}

	// Another 202 and its pending state continue the poll run the page ends
	// with: that one entry comes back, counting one more answer, to replace
	// itself in place (hx-swap-oob, outside the partial), then a tail further on.
	group := doc.Find("[data-testid=timeline-polls]").Last()
	seedCall(t, app, id, 1, store.Call{Endpoint: "GetAccountsDetailAsync", Method: "GET", StatusCode: 202, FlinksCode: "OPERATION_PENDING", RequestID: "req-auth-1", Attempt: 4, Duration: 50 * time.Millisecond}, rawPending)
	seedState(t, app, id, 1, store.StateUpdate{State: store.StatePending, RequestID: "req-auth-1", Polls: 3, Note: store.NoteOf(store.NotePending, 3)})
	// The page's version is out of date: the answer comes at once.
	_, frag = b.get(statusPollURL(t, doc, true), "HX-Request", "true")
	partial := frag.Find("hx-partial")
	if partial.Length() != 1 || partial.AttrOr("hx-target", "") != "#timeline-tail" || partial.AttrOr("hx-swap", "") != "outerHTML" {
		t.Fatalf("the status answer does not replace the timeline's tail:\n%s", tlHTML(frag.Html()))
	}
	var got []string
	partial.Find("li").Each(func(_ int, li *goquery.Selection) { got = append(got, li.AttrOr("data-testid", "")) })
	if want := []string{"timeline-tail"}; !slices.Equal(got, want) {
		t.Fatalf("poll after two new entries brought %q in the partial, want %q", got, want)
	}
	updated := frag.Find("[data-testid=timeline-polls]").Not("hx-partial *")
	if updated.Length() != 1 || updated.AttrOr("id", "") != group.AttrOr("id", "x") || updated.AttrOr("hx-swap-oob", "") != "true" {
		t.Errorf("the run came back as %q (oob %q), want %q replaced in place", updated.AttrOr("id", ""), updated.AttrOr("hx-swap-oob", ""), group.AttrOr("id", ""))
	}
	if before, after := group.AttrOr("data-count", ""), updated.AttrOr("data-count", ""); before != "0" || after != "1" {
		t.Errorf("the run counted %s answers, then %s; want 0 then 1", before, after)
	}
	next := tailCursor(partial)
	if next == cursor {
		t.Error("the tail did not move past the new entries")
	}

	// The fetch ends: the last entries, then an end; the status carries no hx-* attributes.
	completeWithDetail(t, app, id)
	pollDoc := goquery.NewDocumentFromNode(doc.Selection.Nodes[0])
	pollDoc.Find("#timeline-tail").ReplaceWithSelection(partial.Find("#timeline-tail"))
	_, frag = b.get(statusPollURL(t, pollDoc, true), "HX-Request", "true")
	partial = frag.Find("hx-partial")
	if partial.Find("[data-testid=timeline-event][data-state=ready]").Length() != 1 || partial.Find("[data-testid=timeline-call]").Length() != 1 {
		t.Errorf("final poll lacks the ready event or the last call:\n%s", tlHTML(frag.Html()))
	}
	end := partial.Find("[data-testid=timeline-end]")
	if end.Length() != 1 || partial.Find("[data-testid=timeline-tail]").Length() != 0 {
		t.Fatal("the final poll did not end the timeline")
	}
	if !strings.Contains(end.Text(), "Ready") {
		t.Errorf("end says %q, want the final state", end.Text())
	}
	if frag.Find("[hx-get], [hx-trigger]").Length() != 0 {
		t.Error("the terminal render still carries hx-* attributes: polling would not stop")
	}
	// Where the status poll resumes if "Refresh data" starts a new fetch in
	// place: past everything shown.
	if resume := tailCursor(partial); resume == "" || resume == next {
		t.Errorf("end's cursor %q, want one past %q", resume, next)
	}
	assertNoPersonalData(t, "final poll", tlHTML(frag.Html()))

	// A terminal link's page: no polling anywhere in the panel.
	_, doc = b.get(path)
	if doc.Find("[data-testid=timeline-panel] [hx-get]").Length() != 0 || doc.Find("[data-testid=timeline-end]").Length() != 1 {
		t.Error("terminal link page's timeline still polls")
	}
	// 7 calls: 2 answered 202 and are counted by the poll groups.
	calls, polled := doc.Find("[data-testid=timeline-call]").Length(), 0
	doc.Find("[data-testid=timeline-polls]").Each(func(_ int, g *goquery.Selection) {
		n, _ := strconv.Atoi(g.AttrOr("data-count", ""))
		polled += n
	})
	if calls+polled != 7 || polled != 2 {
		t.Errorf("terminal page lists %d calls and %d in poll groups, want 5 and 2", calls, polled)
	}

	// Without htmx the poll URL is the full page; a bad cursor is refused; and
	// another browser gets nothing.
	next = path + "/status?" + next
	if _, full := b.get(next); full.Find("title").Length() == 0 || full.Find("[data-testid=timeline-details]").Length() != 1 {
		t.Error("non-htmx request to the status URL did not get the full page")
	}
	if resp, _ := b.get(path+"/status?event=-1", "HX-Request", "true"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad cursor: %d, want 400", resp.StatusCode)
	}
	other := app.browser()
	other.connectTag()
	if resp, _ := other.get(next, "HX-Request", "true"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another browser polled the status: %d, want 404", resp.StatusCode)
	}
}

func TestTimelineInFrench(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path, _ := pendingLinkWithTimeline(t, app, b)
	_, doc := b.get(path, "Accept-Language", "fr-CA,fr;q=0.9")
	panel := doc.Find("[data-testid=timeline-panel]")
	for sel, want := range map[string]string{
		"summary .timeline-title":                                "Détails",
		"[data-testid=timeline-download]":                        "Télécharger la chronologie",
		"[data-testid=timeline-call] .tl-kind":                   "Appel à Flinks",
		"[data-testid=timeline-event] .tl-kind":                  "Changement d'état",
		"[data-testid=timeline-event] [data-testid=event-state]": "Connexion reçue",
		"[data-testid=timeline-fetch] h3":                        "Récupération 1, commencée le",
		"[data-testid=call-copy]":                                "Copier",
		"[data-testid=call-download]":                            "Télécharger",
		"[data-testid=timeline-tail]":                            "Mise à jour en direct",
	} {
		if got := tlText(panel.Find(sel).First()); !strings.HasPrefix(got, want) {
			t.Errorf("%s = %q, want it to start with %q", sel, got, want)
		}
	}
	if got := tlText(panel.Find("[data-testid=timeline-polls] [data-testid=polls-summary]").First()); got != "202, collecte en cours : 1 réponse" {
		t.Errorf("French poll group %q", got)
	}
	if label := panel.Find("[data-testid=call-copy]").First().AttrOr("aria-label", ""); !strings.HasPrefix(label, "Copier le corps de la réponse de POST Authorize à ") {
		t.Errorf("French Copy label %q", label)
	}
	// A failure's code opens onto the catalogue's French explanation.
	info := describeCodeIn("AGGREGATION_ERROR", "fr")
	explain := panel.Find("[data-testid=code-explain]").First()
	if got := tlText(explain.Find("[data-testid=code-message]")); got != info.Message || got == describeCode("AGGREGATION_ERROR").Message {
		t.Errorf("French explanation %q, want %q", got, info.Message)
	}
	if strings.Contains(panel.Text(), "State change") || strings.Contains(panel.Text(), "Response body") {
		t.Error("English labels on the French page")
	}
}

func tlHTML(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

// The timeline's own URL still answers, for pages served before the status
// answer carried the panel's entries: the entries after its cursor and a tail,
// 400 for a bad cursor, 404 for another browser.
func TestTimelineURLServesEntriesAfterItsCursor(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path, _ := pendingLinkWithTimeline(t, app, b)
	_, all := b.get(path+"/timeline?event=0&call=0", "HX-Request", "true")
	n := all.Find("li.tl-entry, li.tl-fetch").Length()
	if n == 0 || all.Find("#timeline-tail").Length() != 1 {
		t.Fatalf("from the start: %d entries and %d tails", n, all.Find("#timeline-tail").Length())
	}
	cursor := tailCursor(all.Selection)
	_, none := b.get(path+"/timeline?"+cursor, "HX-Request", "true")
	if got := none.Find("li.tl-entry, li.tl-fetch").Length(); got != 0 {
		t.Errorf("after the last entry: %d entries, want none", got)
	}
	if resp, _ := b.get(path+"/timeline?event=-1", "HX-Request", "true"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad cursor: %d, want 400", resp.StatusCode)
	}
	other := app.browser()
	other.connectTag()
	if resp, _ := other.get(path+"/timeline?event=0", "HX-Request", "true"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another browser read the timeline: %d, want 404", resp.StatusCode)
	}
}
