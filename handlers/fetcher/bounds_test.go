package fetcher_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"flinkslink/flinks/flinkstest"
	"flinkslink/handlers/fetcher"
	"flinkslink/store"
)

// A 17 KB answer nested 9,000 arrays deep once took a link to 815 MB: the
// body was decoded into generic values and re-indented before any cap. Now
// the work is bounded by the bytes received. Ten such 202s, recorded on a
// link like any answer, allocate well under 50 MB in all (measured as the
// bytes the whole process allocated, which bounds what it could hold).
// Not parallel: nothing else allocates meanwhile.
func TestNestedAnswersAreCheap(t *testing.T) {
	deep := `{"HttpStatusCode":202,"FlinksCode":"OPERATION_PENDING","RequestId":"req-1","Links":` +
		strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + `}`
	const polls = 10
	up := newUpstream(t, map[string]flinkstest.Script{
		"GetAccountsDetail":      flinkstest.Always(flinkstest.Reply(202, deep)),
		"GetAccountsDetailAsync": flinkstest.First(polls-1, flinkstest.Reply(202, deep), flinkstest.DetailFor(faultLoginID)),
	})
	client, db, link := faultFixture(t, up)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f := fetcher.New(t.Context(), faultLog(), db, client, fetcher.Options{PollInterval: time.Millisecond, Timeout: time.Minute})
	f.Start(link.ID, link.Fetch)
	got := faultAwaitEnd(t, db, link.ID, 60*time.Second)
	faultWaitFetcher(t, f, 10*time.Second)
	runtime.ReadMemStats(&after)

	if got.State != store.StateReady {
		t.Fatalf("ended %s %q, want ready after the nested 202s", got.State, got.ErrorCode)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d nested 202s (%d bytes each): %.1f MB allocated", polls, len(deep), float64(allocated)/1e6)
	if allocated > 50<<20 {
		t.Errorf("the nested answers allocated %.1f MB, want < 50 MB", float64(allocated)/1e6)
	}
	calls, err := db.Calls(t.Context(), link.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		if len(c.Body) > 2*len(deep) {
			t.Errorf("%s stored a %d-byte body for a %d-byte answer", c.Endpoint, len(c.Body), len(deep))
		}
	}
}

// MaskBody hides the LoginId in any case Flinks echoes it, in JSON and in
// text, and keeps its output near the size of its input.
func TestMaskBodyIgnoresCaseAndBoundsSize(t *testing.T) {
	upper := strings.ToUpper(faultLoginID)
	for name, body := range map[string]string{
		"json":       `{"Message":"LoginId ` + upper + ` is busy","Login":{"Id":"` + upper + `"}}`,
		"html":       `<html>card ` + upper + ` at ` + faultLoginID + `</html>`,
		"too deep":   `{"x":"` + upper + `","y":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
		"mixed case": `{"Message":"` + strings.ToUpper(faultLoginID[:8]) + faultLoginID[8:] + `"}`,
	} {
		out := fetcher.MaskBody([]byte(body), faultLoginID)
		if strings.Contains(strings.ToLower(string(out)), faultLoginID) {
			t.Errorf("%s: masked body still holds the LoginId: %s", name, out)
		}
		if len(out) > 2*len(body)+1024 {
			t.Errorf("%s: masked body %d bytes for %d", name, len(out), len(body))
		}
	}
	// Many tiny tokens at depth: indenting would multiply the size.
	wide := `{"a":[` + strings.Repeat(`[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]],`, 2000) + `1]}`
	if out := fetcher.MaskBody([]byte(wide), faultLoginID); len(out) > 2*len(wide)+1024 {
		t.Errorf("wide body: masked %d bytes for %d", len(out), len(wide))
	}
}
