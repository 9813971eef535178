package store

import (
	"encoding/json"
	"strconv"
)

// NoteKind names what a timeline entry says. Pages render each kind in their
// own language (views.TimelineMessages.Notes), and the JSON API gives the kind
// and its arguments as they are, so rewording a sentence changes no stored data.
type NoteKind string

// The kinds of timeline notes, with their arguments.
const (
	NoteReceived        NoteKind = "received"         // the bank connection arrived from Connect
	NoteFetchStarted    NoteKind = "fetch_started"    // [fetch number]
	NoteRefreshStarted  NoteKind = "refresh_started"  // [fetch number]: a refresh from the bank
	NoteAuthorizeCached NoteKind = "authorize_cached" // Authorize, MostRecentCached
	NoteAuthorizeLive   NoteKind = "authorize_live"   // Authorize, MostRecentCached false
	NoteRequestDetails  NoteKind = "request_details"  // GetAccountsDetail
	NotePending         NoteKind = "pending"          // [answer number]: a 202
	NoteRetrying        NoteKind = "retrying"         // a temporary failure, retried after a wait
	NoteStopped         NoteKind = "stopped"          // the fetch ended on the event's error
	NoteCancelled       NoteKind = "cancelled"        // the owner stopped the fetch
	NoteDataReceived    NoteKind = "data_received"    // [account count]
	NoteWebhookReceived NoteKind = "webhook_received" // [account count]: pushed by Flinks' webhook
	NoteAttached        NoteKind = "attached"         // [kind, its args...]: joined a running fetch
)

// NoteKinds lists every kind, for the tests that check each one renders in each language.
func NoteKinds() []NoteKind {
	return []NoteKind{NoteReceived, NoteFetchStarted, NoteRefreshStarted, NoteAuthorizeCached, NoteAuthorizeLive,
		NoteRequestDetails, NotePending, NoteRetrying, NoteStopped, NoteCancelled, NoteDataReceived,
		NoteWebhookReceived, NoteAttached}
}

// Note is what a timeline entry says: a kind and its arguments. Entries
// written before kinds existed have none, and keep their English sentence in
// Event.Text.
type Note struct {
	Kind NoteKind
	Args []string
}

// NoteOf builds a note from its kind and arguments (numbers as decimals).
func NoteOf(kind NoteKind, args ...int) Note {
	n := Note{Kind: kind}
	for _, a := range args {
		n.Args = append(n.Args, strconv.Itoa(a))
	}
	return n
}

// Attached is n as seen by a link that joined the fetch after it began.
func (n Note) Attached() Note {
	if n.Kind == NoteAttached || n.Kind == "" {
		return n
	}
	return Note{Kind: NoteAttached, Args: append([]string{string(n.Kind)}, n.Args...)}
}

// Inner is the note an attached note wraps (n itself for any other kind).
func (n Note) Inner() Note {
	if n.Kind != NoteAttached || len(n.Args) == 0 {
		return n
	}
	return Note{Kind: NoteKind(n.Args[0]), Args: n.Args[1:]}
}

func (n Note) argsJSON() string {
	if len(n.Args) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(n.Args) // a []string always marshals
	return string(b)
}

func parseArgs(s string) []string {
	var args []string
	if json.Unmarshal([]byte(s), &args) != nil {
		return nil
	}
	return args
}
