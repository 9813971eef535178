package flinks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"flinkslink/flinks"
)

// Fuzz tests for decoding Flinks' answers through the client's real path (the
// HTTP client, envelope parsing, status handling and decoding), with the network
// replaced by a RoundTripper that answers the fuzzed status and body. `go test`
// runs the seeds below and testdata/fuzz/<FuzzName>/; `go test -fuzz=FuzzX`
// explores further.

// fuzzLoginID is GUID-shaped like a real LoginId.
const fuzzLoginID = "5602459c-f6d0-4ca0-6750-08dccdcadcc0"

// anyGUID finds a GUID-shaped string anywhere, even run into other characters.
var anyGUID = regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

var codeShape = regexp.MustCompile(`^[A-Za-z0-9_]*$`)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// fuzzClient is a client whose every call is answered by answer(endpoint).
func fuzzClient(t *testing.T, answer func(endpoint string) (int, []byte)) *flinks.Client {
	t.Helper()
	hc := &http.Client{
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Body != nil {
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
			rest := strings.TrimPrefix(r.URL.Path, prefix)
			endpoint, _, _ := strings.Cut(rest, "/")
			status, body := answer(endpoint)
			return &http.Response{
				StatusCode:    status,
				Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
				Proto:         "HTTP/1.1",
				ProtoMajor:    1,
				ProtoMinor:    1,
				Header:        http.Header{"Content-Type": {"application/json; charset=utf-8"}},
				Body:          io.NopCloser(bytes.NewReader(body)),
				ContentLength: int64(len(body)),
				Request:       r,
			}, nil
		}),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c, err := flinks.NewClient(flinks.Config{BaseURL: "https://flinks.test" + basePath, APIKey: testAPIKey, SecretKey: testSecret, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fuzzStatus maps any fuzzed number to a status Flinks could answer (200–599),
// favouring the ones the client treats specially.
func fuzzStatus(s uint16) int {
	special := []int{200, 202, 203, 400, 401, 429, 500, 502}
	if int(s) < len(special)*8 {
		return special[int(s)%len(special)]
	}
	return 200 + int(s)%400
}

// addBodySeeds adds every fixture and a set of hostile bodies, under each of a
// few statuses.
func addBodySeeds(f *testing.F, add func(status uint16, body []byte)) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(0, b) // 200
		add(1, b) // 202
	}
	for _, body := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `{"Accounts":null}`, `{"Accounts":[]}`, `{"Accounts":[null]}`,
		`{"HttpStatusCode":200,"Accounts":[`,
		`{"HttpStatusCode":202,"FlinksCode":"OPERATION_PENDING","RequestId":"1243c283-e0ca-4fda-a5e4-343068430190"}`,
		`{"HttpStatusCode":"202","FlinksCode":7}`,
		`{"HttpStatusCode":400,"FlinksCode":"SESSION_NONEXISTENT","Message":"Inputs session id or card if were not found."}`,
		`{"HttpStatusCode":401,"FlinksCode":"INVALID_LOGIN","Message":"LoginId ` + fuzzLoginID + ` is invalid"}`,
		`{"HttpStatusCode":401,"FlinksCode":"INVALID_LOGIN","Message":"LoginId_` + strings.ToUpper(fuzzLoginID) + `_is invalid"}`,
		`{"HttpStatusCode":401,"FlinksCode":"` + fuzzLoginID + `","RequestId":"` + fuzzLoginID + `"}`,
		`{"HttpStatusCode":401,"FlinksCode":"A-` + fuzzLoginID + `","Message":"a` + fuzzLoginID + `9"}`,
		`{"HttpStatusCode":200,"RequestId":"` + fuzzLoginID + `","Login":{"Id":"` + fuzzLoginID + `"},"Accounts":[]}`,
		`{"Accounts":[{"Balance":{"Current":"lots"}}]}`,
		`{"Accounts":[{"Balance":{"Current":1e400,"Available":"","Limit":null},"OverdraftLimit":"-0.005"}]}`,
		`{"Accounts":[{"Transactions":[{"Date":"2025-02-30","Debit":1}]}]}`,
		`{"Accounts":[{"Transactions":[{"Date":"0001-01-01T00:00:00","Debit":"9223372036854775807"}]}]}`,
		`{"Accounts":[{"AccountNumber":12345678901234567890,"TransitNumber":"00123","Holder":"John"}]}`,
		`{"Accounts":[{"Holder":{"Name":null,"Address":{"City":7}}}]}`,
		`{"Login":{"LastRefresh":"2025-01-31T17:40:54.5692615"},"Accounts":[{"EftEligibleRatio":"x"}]}`,
		`{"RequestId":"r","SecurityChallenges":[{"Type":"QuestionAndAnswer","Prompt":"What city?"}]}`,
		`<html><body>502 Bad Gateway</body></html>`,
		"{\"Message\":\"\xff\xfe\",\"FlinksCode\":\"\u00e9\"}",
		`{"Message":"` + strings.Repeat("é", 400) + `"}`,
	} {
		for _, s := range []uint16{0, 1, 2, 3, 4, 7} {
			add(s, []byte(body))
		}
	}
}

// checkError asserts what every error from a decode must satisfy. withLoginID
// says the call carried fuzzLoginID (Authorize, FetchCached), so the client knew
// to keep it out of every field, not only the text.
func checkError(t *testing.T, err error, withLoginID bool, secrets ...string) {
	t.Helper()
	text := err.Error()
	for _, s := range append(secrets, fuzzLoginID, testAPIKey, testSecret) {
		if strings.Contains(strings.ToLower(text), strings.ToLower(s)) {
			t.Fatalf("error reveals %q: %s", s, text)
		}
	}
	if m := anyGUID.FindString(text); m != "" {
		t.Fatalf("error contains the GUID-shaped %q: %s", m, text)
	}
	var fe *flinks.Error
	if errors.As(err, &fe) {
		_ = fe.Kind()
		if !codeShape.MatchString(fe.FlinksCode) {
			t.Fatalf("FlinksCode %q is not a code", fe.FlinksCode)
		}
		if withLoginID && strings.Contains(strings.ToLower(fe.RequestID), fuzzLoginID) {
			t.Fatalf("RequestID carries the LoginId: %q", fe.RequestID)
		}
		if len(fe.Message) > 310 {
			t.Fatalf("Message not capped: %d bytes", len(fe.Message))
		}
	}
}

func FuzzDecodeAccountsDetail(f *testing.F) {
	addBodySeeds(f, func(s uint16, b []byte) { f.Add(s, b) })
	f.Fuzz(func(t *testing.T, s uint16, body []byte) {
		status := fuzzStatus(s)
		c := fuzzClient(t, func(string) (int, []byte) { return status, body })
		for _, call := range []func() (*flinks.AccountsDetail, error){
			func() (*flinks.AccountsDetail, error) {
				return c.GetAccountsDetail(context.Background(), flinks.NewDetailRequest("req-1"))
			},
			func() (*flinks.AccountsDetail, error) { return c.GetAccountsDetailAsync(context.Background(), "req-1") },
		} {
			d, err := call()
			if err != nil {
				if d != nil {
					t.Fatalf("data returned with an error: %v", err)
				}
				var fe *flinks.Error
				if !errors.As(err, &fe) {
					t.Fatalf("a complete answer gave a non-*Error: %T %v", err, err)
				}
				if status == http.StatusAccepted && fe.Kind() != flinks.KindPending {
					t.Fatalf("a 202 is not pending: %v", err)
				}
				checkError(t, err, false)
				continue
			}
			if status != http.StatusOK {
				t.Fatalf("HTTP %d accepted as data", status)
			}
			if d == nil || d.Accounts == nil {
				t.Fatalf("success without Accounts: %+v", d)
			}
			if d.RequestID == "" {
				t.Fatal("no RequestID")
			}
			// What was decoded encodes and decodes back to the same amounts.
			enc, err := json.Marshal(d)
			if err != nil {
				t.Fatalf("re-encoding decoded data: %v", err)
			}
			var back flinks.AccountsDetail
			if err := json.Unmarshal(enc, &back); err != nil {
				t.Fatalf("decoding re-encoded data: %v\n%s", err, enc)
			}
			if len(back.Accounts) != len(d.Accounts) {
				t.Fatalf("round trip changed the accounts: %d → %d", len(d.Accounts), len(back.Accounts))
			}
			for i, a := range d.Accounts {
				b := back.Accounts[i]
				if !sameAmount(a.Balance.Current, b.Balance.Current) || !sameAmount(a.Balance.Available, b.Balance.Available) ||
					!sameAmount(a.Balance.Limit, b.Balance.Limit) || !sameAmount(a.OverdraftLimit, b.OverdraftLimit) ||
					len(a.Transactions) != len(b.Transactions) {
					t.Fatalf("account %d changed in a round trip:\n%+v\n%+v", i, a, b)
				}
				for j, tx := range a.Transactions {
					bt := b.Transactions[j]
					if !sameAmount(tx.Debit, bt.Debit) || !sameAmount(tx.Credit, bt.Credit) || !sameAmount(tx.Balance, bt.Balance) || tx.Date != bt.Date {
						t.Fatalf("transaction %d/%d changed in a round trip:\n%+v\n%+v", i, j, tx, bt)
					}
				}
			}
		}
	})
}

func sameAmount(a, b *flinks.Amount) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func FuzzDecodeAuthorize(f *testing.F) {
	addBodySeeds(f, func(s uint16, b []byte) { f.Add(s, b) })
	f.Fuzz(func(t *testing.T, s uint16, body []byte) {
		status := fuzzStatus(s)
		c := fuzzClient(t, func(endpoint string) (int, []byte) {
			if endpoint == "GenerateAuthorizeToken" {
				return 200, []byte(`{"HttpStatusCode":200,"Token":"` + tokenN(1) + `"}`)
			}
			return status, body
		})
		resp, err := c.Authorize(context.Background(), flinks.AuthorizeRequest{LoginID: fuzzLoginID, MostRecentCached: true})
		if err != nil {
			if resp != nil {
				t.Fatalf("response returned with an error: %v", err)
			}
			checkError(t, err, true, tokenN(1))
			return
		}
		if resp.HTTPStatusCode != 200 && resp.HTTPStatusCode != 203 {
			t.Fatalf("success with HTTPStatusCode %d", resp.HTTPStatusCode)
		}
		if status != 200 && status != 203 {
			t.Fatalf("HTTP %d accepted", status)
		}
		if resp.RequestID == "" || strings.Contains(strings.ToLower(resp.RequestID), fuzzLoginID) {
			t.Fatalf("RequestID %q", resp.RequestID)
		}
	})
}

// FuzzFetchCached answers one step of the cached flow (Authorize, GetAccountsDetail
// or the poller) with the fuzzed answer, the others like a healthy Flinks, and
// checks that the flow ends in exactly one terminal state with no id leaked into
// an error, a Call (outside its Body) or a StateChange.
func FuzzFetchCached(f *testing.F) {
	addBodySeeds(f, func(s uint16, b []byte) {
		for step := range uint8(3) {
			f.Add(step, s, b)
		}
	})
	f.Fuzz(func(t *testing.T, step uint8, s uint16, body []byte) {
		status := fuzzStatus(s)
		fuzzed := []string{"Authorize", "GetAccountsDetail", "GetAccountsDetailAsync"}[step%3]
		c := fuzzClient(t, func(endpoint string) (int, []byte) {
			switch {
			case endpoint == fuzzed:
				return status, body
			case endpoint == "GenerateAuthorizeToken":
				return 200, []byte(`{"HttpStatusCode":200,"Token":"` + tokenN(1) + `"}`)
			case endpoint == "Authorize":
				return 200, []byte(authorizeOK("req-1", fuzzLoginID))
			case endpoint == "GetAccountsDetail":
				return 202, []byte(`{"HttpStatusCode":202,"FlinksCode":"OPERATION_PENDING","RequestId":"req-1"}`)
			}
			return 200, []byte(detailOK("req-1"))
		})
		var tr trace
		d, err := c.FetchCached(context.Background(), fuzzLoginID, tr.opts(flinks.FetchOptions{
			PollInterval: time.Nanosecond, Timeout: time.Nanosecond, MaxRetries: -1,
			BackoffBase: time.Nanosecond, BackoffMax: time.Nanosecond,
		}))
		secrets := []string{fuzzLoginID, testAPIKey, testSecret, tokenN(1)}
		if err != nil {
			if d != nil {
				t.Fatalf("data returned with an error: %v", err)
			}
			checkError(t, err, true, tokenN(1))
		} else if d == nil || d.Accounts == nil {
			t.Fatalf("success without Accounts: %+v", d)
		}
		last := flinks.StageReady
		if err != nil {
			last = flinks.StageFailed
			if errors.Is(err, flinks.ErrTimedOut) {
				last = flinks.StageTimedOut
			}
		}
		tr.checkTerminal(t, last)
		for _, call := range tr.calls {
			call.Body = nil
			text := strings.ToLower(fmt.Sprintf("%+v", call))
			for _, sec := range secrets {
				if strings.Contains(text, strings.ToLower(sec)) {
					t.Fatalf("Call reveals %q: %+v", sec, call)
				}
			}
		}
		for _, st := range tr.states {
			text := strings.ToLower(fmt.Sprintf("%+v", st))
			if st.Err != nil {
				text += strings.ToLower(st.Err.Error())
			}
			for _, sec := range secrets {
				if strings.Contains(text, strings.ToLower(sec)) {
					t.Fatalf("StateChange reveals %q: %+v", sec, st)
				}
			}
		}
	})
}

// FuzzAmount: ParseAmount never panics; what it accepts formats (String) and
// parses back to the same cents, survives a JSON round trip, and — for plain
// decimals — equals the exact value in cents rounded half away from zero.
func FuzzAmount(f *testing.F) {
	for _, s := range []string{
		"0", "-0", "+0", "0.00", "1", "-1", "1.5", "-1.5", ".5", "5.", "1234.45", "-1234.56", "0.1", "0.30000000000000004",
		"1.005", "-1.005", "1.004999", "0.005", "-0.005", "0.0049", "1e3", "1E-2", "1.5e2", "-2.5e-1", "1e999999", "1e-999999",
		"9223372036854775807", "92233720368547758.07", "92233720368547758.08", "-92233720368547758.08", "-92233720368547758.09",
		"00000000000000000000000001.23", " 12.34 ", "1,234.56", "$12", "12.3.4", "1e", "e1", "-", "+", ".", "", "0x10", "1_000",
		"NaN", "Infinity", "١٢٣", "1.5\u00a0", strings.Repeat("9", 400), "0." + strings.Repeat("0", 300) + "5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := flinks.ParseAmount(s)
		if err != nil {
			// The input is quoted, cut at 40 bytes: at most 4 characters a byte.
			if strings.Count(err.Error(), "\n") > 0 || len(err.Error()) > 250 {
				t.Fatalf("error not bounded: %q", err)
			}
			return
		}
		str := a.String()
		if b, err := flinks.ParseAmount(str); err != nil || b != a {
			t.Fatalf("ParseAmount(%q) = %d; String %q parses to %d, %v", s, a, str, b, err)
		}
		if !regexp.MustCompile(`^-?[0-9]+\.[0-9]{2}$`).MatchString(str) {
			t.Fatalf("String() = %q", str)
		}
		enc, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var back flinks.Amount
		if err := json.Unmarshal(enc, &back); err != nil || back != a {
			t.Fatalf("JSON round trip of %d: %s → %d, %v", a, enc, back, err)
		}
		var fromString flinks.Amount
		quoted, _ := json.Marshal(s)
		if err := json.Unmarshal(quoted, &fromString); err != nil || fromString != a {
			t.Fatalf("as a JSON string %s: %d, %v; want %d", quoted, fromString, err, a)
		}
		// Cross-check plain decimals (no exponent: big.Rat would build huge numbers)
		// against exact rational arithmetic.
		t2 := strings.TrimSpace(s)
		if strings.ContainsAny(t2, "eE") || len(t2) > 200 {
			return
		}
		t2 = strings.TrimPrefix(t2, "+")
		if strings.HasSuffix(t2, ".") {
			t2 += "0"
		}
		r, ok := new(big.Rat).SetString(t2)
		if !ok {
			t.Fatalf("ParseAmount accepted %q, which is not a decimal", s)
		}
		want := roundHalfAway(new(big.Rat).Mul(r, big.NewRat(100, 1)))
		if want.Cmp(big.NewInt(int64(a))) != 0 {
			t.Fatalf("ParseAmount(%q) = %d cents, want %s", s, a, want)
		}
	})
}

// roundHalfAway rounds r to the nearest integer, halves away from zero.
func roundHalfAway(r *big.Rat) *big.Int {
	neg := r.Sign() < 0
	abs := new(big.Rat).Abs(r)
	abs.Add(abs, big.NewRat(1, 2))
	q := new(big.Int).Quo(abs.Num(), abs.Denom())
	if neg {
		q.Neg(q)
	}
	return q
}
