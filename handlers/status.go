package handlers

import (
	"fmt"
	"regexp"
	"time"

	"flinkslink/handlers/fetcher"
	"flinkslink/store"
	"flinkslink/views"
)

// linkIDPattern accepts the shape of store's random link ids, so a malformed id
// is a 404 without a database query.
var linkIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// stateWords is what each state means to the person waiting.
var stateWords = map[store.State]struct{ headline, detail string }{
	store.StateReceived:    {"Connection received", "Your bank is connected. We are about to ask Flinks for your account data."},
	store.StateAuthorizing: {"Opening a session with Flinks", "We are asking Flinks for access to the data it collected from your bank."},
	store.StateFetching:    {"Requesting your account data", "Flinks is preparing your accounts, balances and recent transactions."},
	store.StatePending:     {"Flinks is still collecting your data", "Right after you connect, Flinks reads your accounts from your bank in the background. We check with Flinks every few seconds; this page updates on its own."},
	store.StateRetrying:    {"Flinks did not answer; trying again", "A temporary problem between us and Flinks. We will retry shortly."},
	store.StateReady:       {"Your account summary is ready", ""},
	store.StateFailed:      {"We could not get your account data", ""},
	store.StateTimedOut:    {"Flinks took too long", ""},
}

// steps are the stages shown in the progress list, in order.
var steps = []struct {
	label  string
	states []store.State // the states during which this step is the current one
}{
	{"Connected to your bank through Flinks Connect", []store.State{store.StateReceived}},
	{"Session opened with Flinks", []store.State{store.StateAuthorizing}},
	{"Account data requested", []store.State{store.StateFetching}},
	{"Flinks collects your data from your bank", []store.State{store.StatePending, store.StateRetrying}},
	{"Summary ready", []store.State{store.StateReady}},
}

// statusView describes a link's fetch for the polling element.
func statusView(l store.Link, now time.Time, pollEvery time.Duration) views.StatusView {
	words := stateWords[l.State]
	v := views.StatusView{
		State:     string(l.State),
		Terminal:  l.State.Terminal(),
		Tone:      "progress",
		Headline:  words.headline,
		Detail:    words.detail,
		Polls:     l.Polls,
		PollEvery: pollEveryAttr(pollEvery),
	}
	if v.Headline == "" {
		v.Headline = string(l.State)
	}
	if !l.FetchStartedAt.IsZero() {
		end := now
		if v.Terminal {
			end = l.UpdatedAt
		}
		v.Elapsed = formatDuration(end.Sub(l.FetchStartedAt))
		v.StartedAt = "Started " + l.FetchStartedAt.UTC().Format("2006-01-02 15:04:05 MST")
	}
	if !l.NextPollAt.IsZero() && !v.Terminal {
		if d := l.NextPollAt.Sub(now); d > 0 {
			v.NextPoll = "in " + formatDuration(d)
		} else {
			v.NextPoll = "now"
		}
	}

	current := -1
	for i, s := range steps {
		for _, st := range s.states {
			if st == l.State {
				current = i
			}
		}
	}
	failedAt := -1
	switch l.State {
	case store.StateReady:
		v.Tone = "success"
	case store.StateFailed, store.StateTimedOut:
		v.Tone = "error"
		f := failureView(l)
		v.Failure = &f
		v.Detail = f.Message
		failedAt = failedStep(l)
	}
	for i, s := range steps {
		st := "todo"
		switch {
		case failedAt >= 0 && i < failedAt, current >= 0 && i < current:
			st = "done"
		case i == failedAt:
			st = "failed"
		case i == current:
			st = "current"
			if l.State == store.StateReady {
				st = "done"
			}
		}
		v.Steps = append(v.Steps, views.Step{Label: s.label, Status: st})
	}
	return v
}

// failedStep guesses the step a failed fetch stopped at from how far it got.
func failedStep(l store.Link) int {
	switch {
	case l.Polls > 0:
		return 3
	case l.RequestID != "":
		return 2
	default:
		return 1
	}
}

// failureView explains a failed link using the FlinksCode catalogue.
func failureView(l store.Link) views.FailureView {
	code := l.ErrorCode
	if l.State == store.StateTimedOut && code == "" {
		code = fetcher.CodeTimedOut
	}
	info := describeCode(code)
	return views.FailureView{
		Code:      code,
		Title:     info.Title,
		Message:   info.Message,
		Action:    info.Action,
		CanRetry:  info.Retry,
		DocsURL:   info.Docs,
		RawDetail: l.ErrorMessage,
	}
}

// pollEveryAttr renders a duration for htmx's "every" trigger.
func pollEveryAttr(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", int(d/time.Second))
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// linkRow is one line of the links list.
func linkRow(l store.Link, now time.Time) views.LinkRow {
	return views.LinkRow{
		URL:         linkPath(l.ID),
		Institution: l.Institution,
		State:       string(l.State),
		StateLabel:  stateLabel(l.State),
		Created:     formatRelative(now.Sub(l.CreatedAt)),
		CreatedAt:   l.CreatedAt.UTC().Format(time.RFC3339),
		Updated:     formatRelative(now.Sub(l.UpdatedAt)),
		UpdatedAt:   l.UpdatedAt.UTC().Format(time.RFC3339),
	}
}

// stateLabel is the short badge text for a state.
func stateLabel(s store.State) string {
	switch s {
	case store.StateReady:
		return "Ready"
	case store.StateFailed:
		return "Failed"
	case store.StateTimedOut:
		return "Timed out"
	default:
		return "Pending"
	}
}
