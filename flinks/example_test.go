package flinks_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"flinkslink/flinks"
)

// ExampleClient_FetchCached runs the cached flow against a stand-in for Flinks that
// answers 202 once before the data is ready.
func ExampleClient_FetchCached() {
	polls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/Authorize"):
			io.WriteString(w, `{"HttpStatusCode":200,"RequestId":"req-1","Login":{"Id":"login-1"}}`)
		case strings.HasSuffix(r.URL.Path, "/GetAccountsDetail"):
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"HttpStatusCode":202,"FlinksCode":"OPERATION_PENDING","RequestId":"req-1"}`)
		case strings.Contains(r.URL.Path, "/GetAccountsDetailAsync/"):
			polls++
			io.WriteString(w, `{"HttpStatusCode":200,"RequestId":"req-1","Accounts":[
				{"Title":"Chequing","Currency":"CAD","Balance":{"Current":1234.5,"Available":null}}]}`)
		}
	}))
	defer srv.Close()

	c, err := flinks.NewClient(flinks.Config{BaseURL: srv.URL + "/v3/43387ca6-0391-4c82-857d-70d95f087ecb"})
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := c.FetchCached(context.Background(), "login-1", flinks.FetchOptions{
		PollInterval: time.Millisecond, // Flinks asks for the default, 10 s
		OnState:      func(s flinks.StateChange) { fmt.Println("state:", s.Stage, s.Polls) },
	})
	switch {
	case errors.Is(err, flinks.ErrTimedOut):
		fmt.Println("still pending; try again later")
	case err != nil:
		fmt.Println("failed:", flinks.KindOf(err))
	default:
		for _, a := range d.Accounts {
			fmt.Println(a.Title, a.Currency, a.Balance.Current, a.Balance.Available == nil)
		}
	}
	// Output:
	// state: authorizing 0
	// state: fetching 0
	// state: pending 1
	// state: ready 1
	// Chequing CAD 1234.50 true
}

// ExampleKindOf shows how a caller decides what to do about an error.
func ExampleKindOf() {
	err := fmt.Errorf("sync: %w", &flinks.Error{Endpoint: "Authorize", StatusCode: 401, FlinksCode: "DISABLED_LOGIN"})
	switch flinks.KindOf(err) {
	case flinks.KindNeedsUser:
		fmt.Println("ask the person to reconnect their bank")
	case flinks.KindRetryLater:
		fmt.Println("try again later")
	default:
		fmt.Println("alert the team")
	}
	// Output: ask the person to reconnect their bank
}
