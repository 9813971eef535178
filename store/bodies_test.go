package store_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"flinkslink/store"
)

// storedBodyBytes is what the calls table holds in bodies, in all.
func storedBodyBytes(t *testing.T, db *store.DB) int64 {
	t.Helper()
	var n int64
	if err := db.SQL().QueryRowContext(t.Context(), `SELECT coalesce(sum(length(body)), 0) FROM calls`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// 180 polls answered by the same 202 body keep one copy of it, and every
// call still reads back with its body.
func TestIdenticalAnswersAreStoredOnce(t *testing.T) {
	db, _ := newDB(t)
	link := mustCreate(t, db, "s1", "login-1")
	body := []byte(`{"FlinksCode":"OPERATION_PENDING","HttpStatusCode":202,"Message":"Your operation is still processing","RequestId":"r1","Pad":"` +
		strings.Repeat("x", 2000) + `"}`)
	for i := range 180 {
		if err := db.RecordCall(t.Context(), link.ID, 1, store.Call{Endpoint: "GetAccountsDetailAsync", StatusCode: 202, Attempt: i + 1, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	if got := storedBodyBytes(t, db); got != int64(len(body)) {
		t.Errorf("180 identical answers keep %d bytes, want one copy (%d)", got, len(body))
	}
	calls, err := db.Calls(t.Context(), link.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range calls {
		if !bytes.Equal(c.Body, body) {
			t.Fatalf("call %d reads back %d bytes, want the shared body", i, len(c.Body))
		}
	}
	// A different answer in between is kept whole; the repeat after it still points at the first copy.
	other := []byte(`{"HttpStatusCode":500}`)
	for _, b := range [][]byte{other, body} {
		if err := db.RecordCall(t.Context(), link.ID, 1, store.Call{Endpoint: "GetAccountsDetailAsync", Body: b}); err != nil {
			t.Fatal(err)
		}
	}
	if got := storedBodyBytes(t, db); got != int64(len(body)+len(other)) {
		t.Errorf("after a different answer: %d bytes kept, want %d", got, len(body)+len(other))
	}
	if calls, _ := db.Calls(t.Context(), link.ID); !bytes.Equal(calls[len(calls)-1].Body, body) || !bytes.Equal(calls[len(calls)-2].Body, other) {
		t.Error("the last two calls do not read back their own answers")
	}
}

// A link keeps at most 4 MiB of answers: past that, each answer keeps its
// start and says it was cut.
func TestALinkKeepsBoundedAnswers(t *testing.T) {
	db, _ := newDB(t)
	link := mustCreate(t, db, "s1", "login-1")
	for i := range 40 {
		body := []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("y", 200<<10)))
		if err := db.RecordCall(t.Context(), link.ID, 1, store.Call{Endpoint: "GetAccountsDetailAsync", Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	if got := storedBodyBytes(t, db); got > 4<<20+40<<10 {
		t.Errorf("40 answers of 200 KiB keep %d bytes, want at most 4 MiB and the cut answers' starts", got)
	}
	calls, err := db.Calls(t.Context(), link.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 40 {
		t.Fatalf("%d calls, want every one of the 40 recorded", len(calls))
	}
	if last := calls[len(calls)-1].Body; !strings.HasSuffix(string(last), store.BodyNotKept) || len(last) > 2<<10 {
		t.Errorf("the last answer keeps %d bytes ending %q; want its start and the cut note", len(last), last[max(0, len(last)-80):])
	}
}
