package sandbox_test

import (
	"math"
	"regexp"
	"testing"
	"time"

	"flinkslink/flinks/flinkstest"
	"flinkslink/flinks/sandbox"
)

var (
	transitRe = regexp.MustCompile(`^\d{5}$`)
	accountRe = regexp.MustCompile(`^\d{7}$`)
)

// checkDetail validates a GetAccountsDetail 200 against docs §5.4 and the
// generator's promises; anchor is the scrape's end.
func checkDetail(t *testing.T, body map[string]any, anchor time.Time, days int) {
	t.Helper()
	wantKeys(t, body, "HttpStatusCode", "Accounts", "InstitutionName", "Login", "InstitutionId", "Institution", "RequestId")
	if num(t, body, "HttpStatusCode") != 200 || num(t, body, "InstitutionId") != 14 || str(t, body, "Institution") != "FlinksCapital" {
		t.Errorf("envelope: got %v %v %v", body["HttpStatusCode"], body["InstitutionId"], body["Institution"])
	}
	allowed := map[string]string{"Chequing": "Operations", "Savings": "Operations", "CreditCard": "Credits", "LineOfCredit": "Credits"}
	last := anchor.UTC().Truncate(24 * time.Hour)
	first := last.AddDate(0, 0, -days+1)
	currencies := map[string]bool{}
	types := map[string]bool{}
	for i, a := range arr(t, body, "Accounts") {
		acct := a.(map[string]any)
		wantKeys(t, acct, "Transactions", "TransitNumber", "InstitutionNumber", "OverdraftLimit", "Title", "AccountNumber",
			"LastFourDigits", "Balance", "Category", "Type", "Currency", "Holder", "AccountType", "Id")
		typ, cat := str(t, acct, "Type"), str(t, acct, "Category")
		if allowed[typ] != cat {
			t.Errorf("account %d: Category/Type %s/%s not in docs §5.4", i, cat, typ)
		}
		types[typ] = true
		currencies[str(t, acct, "Currency")] = true
		if !guidRe.MatchString(str(t, acct, "Id")) {
			t.Errorf("account %d: Id %q", i, str(t, acct, "Id"))
		}
		bal := get(t, acct, "Balance").(map[string]any)
		wantKeys(t, bal, "Available", "Current", "Limit")
		current := num(t, bal, "Current")
		if !cents(current) {
			t.Errorf("account %d: Current %v has more than 2 decimals", i, current)
		}
		if typ == "CreditCard" {
			if bal["Limit"] == nil {
				t.Errorf("credit card without Limit")
			}
			if _, ok := acct["LastFourDigits"].(string); !ok {
				t.Errorf("credit card LastFourDigits: got %v", acct["LastFourDigits"])
			}
		} else if acct["LastFourDigits"] != nil {
			t.Errorf("account %d (%s): LastFourDigits %v, want null", i, typ, acct["LastFourDigits"])
		}
		txns := arr(t, acct, "Transactions")
		for j, tx := range txns {
			m := tx.(map[string]any)
			wantKeys(t, m, "Date", "Code", "Description", "Debit", "Credit", "Balance", "Id")
			debit, hasDebit := m["Debit"].(float64)
			credit, hasCredit := m["Credit"].(float64)
			if hasDebit == hasCredit {
				t.Fatalf("account %d txn %d: want exactly one of Debit/Credit, got %v / %v", i, j, m["Debit"], m["Credit"])
			}
			if m["Code"] != nil || str(t, m, "Description") == "" || !guidRe.MatchString(str(t, m, "Id")) {
				t.Errorf("account %d txn %d: %v", i, j, m)
			}
			if !cents(debit) || !cents(credit) || !cents(num(t, m, "Balance")) {
				t.Errorf("account %d txn %d: amounts with more than 2 decimals: %v", i, j, m)
			}
			d, err := time.Parse(time.DateOnly, str(t, m, "Date"))
			if err != nil {
				t.Fatalf("Date %q: %v", m["Date"], err)
			}
			if d.After(last) || d.Before(first) {
				t.Errorf("account %d txn %d: Date %s outside [%s, %s]", i, j, m["Date"], first.Format(time.DateOnly), last.Format(time.DateOnly))
			}
			if j == 0 && math.Abs(num(t, m, "Balance")-current) > 0.001 {
				t.Errorf("account %d: newest Balance %v != Current %v", i, m["Balance"], current)
			}
			if j+1 < len(txns) {
				older := txns[j+1].(map[string]any)
				od, _ := time.Parse(time.DateOnly, str(t, older, "Date"))
				if od.After(d) {
					t.Errorf("account %d: transactions not newest first at %d", i, j)
				}
				delta := credit - debit
				if cat == "Credits" { // an amount owed: purchases raise it
					delta = -delta
				}
				if got := num(t, m, "Balance") - num(t, older, "Balance"); math.Abs(got-delta) > 0.005 {
					t.Fatalf("account %d txn %d: running balance moved %.2f, want %.2f", i, j, got, delta)
				}
			}
		}
	}
	for _, typ := range []string{"Chequing", "Savings", "CreditCard", "LineOfCredit"} {
		if !types[typ] {
			t.Errorf("no %s account", typ)
		}
	}
	if !currencies["CAD"] || !currencies["USD"] {
		t.Errorf("currencies: got %v, want CAD and USD", currencies)
	}
}

func TestCachedFlowPendingThenReady(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.live("greatday_nomfa")
	rid := h.cached(id)

	wantPending(t, h.detail(rid, nil), "OPERATION_PENDING", rid, "GetAccountsDetail")
	h.clock.Advance(5 * time.Second)
	wantPending(t, h.poll(rid), "OPERATION_PENDING", rid, "GetAccountsDetail")
	// Some clients POST the poller.
	post := h.do("POST", h.api+"/GetAccountsDetailAsync/"+rid, map[string]string{"x-api-key": apiKey}, nil)
	wantPending(t, post, "OPERATION_PENDING", rid, "GetAccountsDetail")

	h.clock.Advance(5*time.Second - time.Millisecond)
	wantPending(t, h.poll(rid), "OPERATION_PENDING", rid, "GetAccountsDetail")
	h.clock.Advance(time.Millisecond)
	ready := h.poll(rid)
	if ready.status != 200 {
		t.Fatalf("poll at the scrape's end: got %d %s, want 200", ready.status, ready.raw)
	}
	checkDetail(t, ready.body, t0.Add(10*time.Second), 90)
	if got := str(t, ready.body, "RequestId"); got != rid {
		t.Errorf("RequestId: got %q", got)
	}
	if got := str(t, ready.body, "Login", "Id"); got != id {
		t.Errorf("Login.Id: got %q", got)
	}
	// The sync call now answers the same 200, byte for byte.
	sync := h.detail(rid, nil)
	if sync.status != 200 || string(sync.raw) != string(ready.raw) {
		t.Errorf("sync after ready: got %d, body differs from the poller's", sync.status)
	}
	// Default WithAccountIdentity is false (§5.3): numbers are null.
	for i := range arr(t, ready.body, "Accounts") {
		for _, k := range []string{"TransitNumber", "InstitutionNumber", "AccountNumber"} {
			if v := get(t, ready.body, "Accounts", i, k); v != nil {
				t.Errorf("account %d %s without WithAccountIdentity: got %v, want null", i, k, v)
			}
		}
		if get(t, ready.body, "Accounts", i, "Holder") == nil {
			t.Errorf("account %d: Holder null by default, want it (WithKYC defaults to true)", i)
		}
	}
}

func TestDetailOptions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.ready("test_ready", 0)
	rid := h.cached(id)

	full := h.detail(rid, map[string]any{"WithAccountIdentity": true, "WithKYC": true, "DaysOfTransactions": "Days365"})
	if full.status != 200 {
		t.Fatalf("detail: got %d %s", full.status, full.raw)
	}
	checkDetail(t, full.body, t0, 365)
	accounts := arr(t, full.body, "Accounts")
	if len(accounts) < 4 {
		t.Fatalf("accounts: got %d, want at least 4", len(accounts))
	}
	for i := range accounts {
		if !transitRe.MatchString(str(t, full.body, "Accounts", i, "TransitNumber")) ||
			str(t, full.body, "Accounts", i, "InstitutionNumber") != "777" ||
			!accountRe.MatchString(str(t, full.body, "Accounts", i, "AccountNumber")) {
			t.Errorf("account %d identity: %v %v %v", i, get(t, full.body, "Accounts", i, "TransitNumber"),
				get(t, full.body, "Accounts", i, "InstitutionNumber"), get(t, full.body, "Accounts", i, "AccountNumber"))
		}
	}
	holder := get(t, full.body, "Accounts", 0, "Holder").(map[string]any)
	wantKeys(t, holder, "Name", "Address", "Email", "PhoneNumber")
	addr := holder["Address"].(map[string]any)
	wantKeys(t, addr, "CivicAddress", "City", "Province", "PostalCode", "POBox", "Country")
	if addr["Country"] != "CA" || addr["POBox"] != nil || !regexp.MustCompile(`^[A-Z]\d[A-Z] \d[A-Z]\d$`).MatchString(addr["PostalCode"].(string)) {
		t.Errorf("Address: got %v", addr)
	}

	d90 := h.detail(rid, nil)
	checkDetail(t, d90.body, t0, 90)
	n90, n365 := 0, 0
	for i := range accounts {
		n365 += len(arr(t, full.body, "Accounts", i, "Transactions"))
		n90 += len(arr(t, d90.body, "Accounts", i, "Transactions"))
	}
	if n90 == 0 || n365 < 3*n90 {
		t.Errorf("transactions: got %d for Days90 and %d for Days365", n90, n365)
	}

	off := h.detail(rid, map[string]any{"WithBalance": false, "WithKYC": false, "WithTransactions": false})
	for i := range arr(t, off.body, "Accounts") {
		if b := get(t, off.body, "Accounts", i, "Balance"); !jsonEqual(b, map[string]any{"Available": nil, "Current": nil, "Limit": nil}) {
			t.Errorf("WithBalance false: got %v", b)
		}
		if get(t, off.body, "Accounts", i, "Holder") != nil || len(arr(t, off.body, "Accounts", i, "Transactions")) != 0 {
			t.Errorf("WithKYC/WithTransactions false: got %v", get(t, off.body, "Accounts", i))
		}
	}

	want := str(t, full.body, "Accounts", 2, "Id")
	filtered := h.detail(rid, map[string]any{"AccountsFilter": []string{want}})
	if got := arr(t, filtered.body, "Accounts"); len(got) != 1 || str(t, got[0], "Id") != want {
		t.Errorf("AccountsFilter: got %d accounts", len(got))
	}

	wantError(t, h.detail(rid, map[string]any{"DaysOfTransactions": "Days30"}), 400, "INVALID_REQUEST")
}

func TestSummary(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.live("greatday_nomfa")
	r := h.authorize(map[string]any{"LoginId": id, "MostRecentCached": true, "Tag": "userId=7"})
	rid := str(t, r.body, "RequestId")
	sum := func() response {
		return h.do("POST", h.api+"/GetAccountsSummary", map[string]string{"x-api-key": apiKey}, map[string]any{"RequestId": rid})
	}
	wantPending(t, sum(), "OPERATION_PENDING", rid, "GetAccountsSummary")
	h.clock.Advance(10 * time.Second)
	res := h.do("GET", h.api+"/GetAccountsSummaryAsync/"+rid, map[string]string{"x-api-key": apiKey}, nil)
	if res.status != 200 {
		t.Fatalf("summary poll: got %d %s", res.status, res.raw)
	}
	wantKeys(t, res.body, "HttpStatusCode", "Accounts", "Links", "Tag", "InstitutionName", "Login", "InstitutionId", "Institution", "RequestId")
	if got := str(t, res.body, "Tag"); got != "userId=7" {
		t.Errorf("Tag: got %q", got)
	}
	for i, a := range arr(t, res.body, "Accounts") {
		wantKeys(t, a.(map[string]any), "EftEligibleRatio", "ETransferEligibleRatio", "Title", "AccountNumber", "LastFourDigits",
			"Balance", "Category", "Type", "Currency", "Holder", "AccountType", "Id")
		if r := num(t, a, "EftEligibleRatio"); r < 0 || r > 1 {
			t.Errorf("account %d EftEligibleRatio %v", i, r)
		}
	}
	// The same RequestId then serves the detail too.
	if d := h.detail(rid, nil); d.status != 200 {
		t.Errorf("detail after summary: got %d", d.status)
	}
}

func TestUnknownRequestID(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	unknown := "5f2b9b7e-8a39-4d55-9a0c-1b2c3d4e5f60"
	for _, r := range []response{
		h.detail(unknown, nil),
		h.do("POST", h.api+"/GetAccountsSummary", map[string]string{"x-api-key": apiKey}, map[string]any{"RequestId": unknown}),
		h.poll(unknown),
		h.poll("not-a-guid"),
		h.do("GET", h.api+"/GetAccountsSummaryAsync/"+unknown, nil, nil),
	} {
		wantError(t, r, 400, "SESSION_NONEXISTENT")
		if got := str(t, r.body, "Message"); got != "Inputs session id or card if were not found." {
			t.Errorf("Message: got %q", got)
		}
	}
}

func TestRequestIDExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.ready("greatday_nomfa", 10*time.Second)

	// 8 minutes idle after Authorize.
	idle := h.cached(id)
	fresh := h.cached(id)
	h.clock.Advance(8*time.Minute - time.Second)
	if r := h.detail(fresh, nil); r.status != 200 {
		t.Errorf("at 7m59s idle: got %d, want 200", r.status)
	}
	h.clock.Advance(time.Second)
	wantError(t, h.detail(idle, nil), 400, "SESSION_NONEXISTENT")

	// 30 minutes while processing, however often it is polled.
	long := 40 * time.Minute
	h.srv.SetPendingOverride(&long)
	defer h.srv.SetPendingOverride(nil)
	rid := str(t, h.authorize(map[string]any{"LoginId": id, "MostRecentCached": false}).body, "RequestId")
	wantPending(t, h.detail(rid, nil), "OPERATION_PENDING", rid, "GetAccountsDetail")
	h.clock.Advance(29 * time.Minute)
	wantPending(t, h.poll(rid), "OPERATION_PENDING", rid, "GetAccountsDetail")
	h.clock.Advance(time.Minute)
	wantError(t, h.poll(rid), 400, "SESSION_NONEXISTENT")
}

func TestOverlappingDataCalls(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.live("test_ready")
	first, second := h.cached(id), h.cached(id)
	if r := h.detail(first, nil); r.status != 200 {
		t.Fatalf("first call: got %d %s", r.status, r.raw)
	}
	// Another RequestId while the first call is still being served: 202.
	wantPending(t, h.detail(second, nil), "OPERATION_PENDING", second, "GetAccountsDetail")
	wantPending(t, h.poll(second), "OPERATION_PENDING", second, "GetAccountsDetail")
	// The first RequestId is not blocked by its own call.
	if r := h.detail(first, nil); r.status != 200 {
		t.Errorf("first again: got %d, want 200", r.status)
	}
	h.clock.Advance(3 * time.Second)
	if r := h.poll(second); r.status != 200 {
		t.Errorf("second after the window: got %d %s, want 200", r.status, r.raw)
	}

	// During a running scrape both calls wait for it.
	slow := h.live("greatday_nomfa")
	a, b := h.cached(slow), h.cached(slow)
	wantPending(t, h.detail(a, nil), "OPERATION_PENDING", a, "GetAccountsDetail")
	wantPending(t, h.detail(b, nil), "OPERATION_PENDING", b, "GetAccountsDetail")
}

func TestAPIKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.ready("test_ready", 0)
	rid := h.cached(id)
	for _, r := range []response{
		h.do("POST", h.api+"/GetAccountsDetail", map[string]string{"x-api-key": "wrong"}, map[string]any{"RequestId": rid}),
		h.do("GET", h.api+"/GetAccountsDetailAsync/"+rid, map[string]string{"x-api-key": secretKey}, nil),
		h.do("DELETE", h.api+"/DeleteCard/"+id, map[string]string{"x-api-key": "wrong"}, nil),
	} {
		wantError(t, r, 401, "UNAUTHORIZED")
		if got := str(t, r.body, "Message"); got != "The x-api-key provided is invalid" {
			t.Errorf("Message: got %q", got)
		}
	}
	// No key at all is accepted unless the instance requires it.
	if r := h.do("POST", h.api+"/GetAccountsDetail", nil, map[string]any{"RequestId": rid}); r.status != 200 {
		t.Errorf("without x-api-key: got %d %s, want 200", r.status, r.raw)
	}

	strict := newHarness(t, sandbox.Config{RequireAPIKey: true})
	srid := strict.cached(strict.ready("test_ready", 0))
	wantError(t, strict.do("POST", strict.api+"/GetAccountsDetail", nil, map[string]any{"RequestId": srid}), 401, "UNAUTHORIZED")
	if r := strict.detail(srid, nil); r.status != 200 {
		t.Errorf("with the key: got %d", r.status)
	}
}

func TestDeleteCard(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.live("greatday_nomfa")
	rid := h.cached(id)
	del := func() response {
		return h.do("DELETE", h.api+"/DeleteCard/"+id, map[string]string{"x-api-key": apiKey}, nil)
	}
	wantError(t, del(), 400, "CARD_IN_USE")

	h.clock.Advance(10 * time.Second)
	r := del()
	if r.status != 200 {
		t.Fatalf("delete: got %d %s", r.status, r.raw)
	}
	want := map[string]any{"StatusCode": float64(200), "Message": "All of the information about LoginId " + id + " has been removed"}
	if !jsonEqual(r.body, want) {
		t.Errorf("body: got %s, want %v", r.raw, want)
	}

	gone := h.authorize(map[string]any{"LoginId": id, "MostRecentCached": true})
	wantError(t, gone, 401, "INVALID_LOGIN")
	wantError(t, h.detail(rid, nil), 400, "SESSION_NONEXISTENT")
	again := del()
	wantError(t, again, 404, "INVALID_LOGIN")
	if got := str(t, again.body, "Message"); got != "Invalid LoginId" {
		t.Errorf("Message: got %q", got)
	}
}

func TestDataIsDeterministic(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.ready("test_ready", 0)
	opts := map[string]any{"WithAccountIdentity": true, "DaysOfTransactions": "Days365"}
	a := h.detail(h.cached(id), opts)
	h.clock.Advance(time.Minute) // past the busy window, same day
	b := h.detail(h.cached(id), opts)
	if a.status != 200 || b.status != 200 {
		t.Fatalf("got %d and %d", a.status, b.status)
	}
	if !jsonEqual(get(t, a.body, "Accounts"), get(t, b.body, "Accounts")) {
		t.Errorf("two RequestIds on one LoginId got different accounts")
	}
	other := h.detail(h.cached(h.ready("test_ready", 0)), opts)
	if str(t, other.body, "Accounts", 0, "Id") == str(t, a.body, "Accounts", 0, "Id") ||
		str(t, other.body, "Accounts", 0, "Transactions", 0, "Id") == str(t, a.body, "Accounts", 0, "Transactions", 0, "Id") {
		t.Errorf("two LoginIds share account or transaction ids")
	}
	// A refresh days later keeps every old transaction's id and text.
	h.clock.Advance(72 * time.Hour)
	h.authorize(map[string]any{"LoginId": id, "MostRecentCached": false})
	later := h.detail(h.cached(id), opts)
	old := map[string]string{}
	for _, tx := range arr(t, a.body, "Accounts", 0, "Transactions") {
		old[str(t, tx, "Id")] = str(t, tx, "Description")
	}
	kept := 0
	for _, tx := range arr(t, later.body, "Accounts", 0, "Transactions") {
		if d, ok := old[str(t, tx, "Id")]; ok {
			kept++
			if d != str(t, tx, "Description") {
				t.Errorf("transaction %s changed description", str(t, tx, "Id"))
			}
		}
	}
	if kept < len(old)*9/10 {
		t.Errorf("after a refresh 3 days later only %d of %d transactions kept their ids", kept, len(old))
	}
}

func TestDataCallBeforeMFAAnswer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	_, r, _ := mfaStart(t, h, "en")
	wantError(t, h.detail(str(t, r.body, "RequestId"), nil), 401, "UNAUTHORIZED")
}

func TestPersistenceAcrossRestart(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/sandbox.db"
	clk := flinkstest.NewClock(t0)
	open := func() *harness {
		h := newHarness(t, sandbox.Config{StatePath: path, Now: clk.Now})
		h.clock = clk
		return h
	}

	first := open()
	id := first.live("greatday_nomfa")
	rid := first.cached(id)
	spare := first.token()
	wantPending(t, first.detail(rid, nil), "OPERATION_PENDING", rid, "GetAccountsDetail")
	clk.Advance(4 * time.Second)
	first.ts.Close()
	if err := first.srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	second := open()
	wantPending(t, second.poll(rid), "OPERATION_PENDING", rid, "GetAccountsDetail")
	clk.Advance(6*time.Second - time.Millisecond) // just before the original end
	wantPending(t, second.poll(rid), "OPERATION_PENDING", rid, "GetAccountsDetail")
	clk.Advance(time.Millisecond)
	r := second.poll(rid)
	if r.status != 200 {
		t.Fatalf("at the original end time: got %d %s", r.status, r.raw)
	}
	checkDetail(t, r.body, t0.Add(10*time.Second), 90)
	// Tokens survive too.
	if r := second.authorizeWith(spare, map[string]any{"LoginId": id, "MostRecentCached": true}); r.status != 200 {
		t.Errorf("token minted before the restart: got %d", r.status)
	}
}
