package handlers

import (
	"fmt"
	"net/url"
	"regexp"
	"time"

	"flinkslink/flinks"
	"flinkslink/store"
	"flinkslink/views"
)

// linkIDPattern accepts the shape of store's random link ids, so a malformed id
// is a 404 without a database query.
var linkIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// stepStates are, for each step of the progress list (views.Messages.Steps),
// the states during which it is the current one.
var stepStates = [len(views.Messages{}.Steps)][]store.State{
	{store.StateReceived},
	{store.StateAuthorizing},
	{store.StateFetching},
	{store.StatePending, store.StateRetrying},
	{store.StateReady},
}

// statusView describes a link's fetch for the polling element.
func statusView(l store.Link, now time.Time, pollEvery time.Duration, lang string) views.StatusView {
	m := views.For(lang)
	v := views.StatusView{
		State:     string(l.State),
		Terminal:  l.State.Terminal(),
		Tone:      "progress",
		Headline:  m.StateHeadline[string(l.State)],
		Detail:    m.StateDetail[string(l.State)],
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
		v.StartedAt = m.StartedAt + " " + formatTimestamp(l.FetchStartedAt, lang)
	}
	if !l.NextPollAt.IsZero() && !v.Terminal {
		if d := l.NextPollAt.Sub(now); d > 0 {
			v.NextPoll = m.NextCheckIn(formatDuration(d))
		} else {
			v.NextPoll = m.NextCheckNow
		}
	}

	current := -1
	for i, states := range stepStates {
		for _, st := range states {
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
		f := failureView(l, lang)
		v.Failure = &f
		v.Detail = f.Message
		failedAt = failedStep(l)
	}
	for i, label := range m.Steps {
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
		v.Steps = append(v.Steps, views.Step{Label: label, Status: st})
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
func failureView(l store.Link, lang string) views.FailureView {
	code := l.ErrorCode
	if l.State == store.StateTimedOut && code == "" {
		code = flinks.CodeTimedOut
	}
	info := describeCodeIn(code, lang)
	v := views.FailureView{
		Code:      code,
		Title:     info.Title,
		Message:   info.Message,
		Action:    info.Action,
		CanRetry:  info.Retry,
		DocsURL:   info.Docs,
		RawDetail: l.ErrorMessage,
		Ours:      flinks.IsOurCode(code),
	}
	if code == flinks.CodeMFARequired && l.RequestID != "" {
		// The bank's question can be answered in Connect, on that RequestId.
		v.ReconnectURL = "/?" + url.Values{"reconnect": {l.ID}}.Encode()
	}
	return v
}

// pollEveryAttr renders a duration for htmx's "every" trigger.
func pollEveryAttr(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", int(d/time.Second))
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// linkRow is one line of the links list.
func linkRow(l store.Link, now time.Time, lang string) views.LinkRow {
	return views.LinkRow{
		URL:         linkPath(l.ID),
		Institution: l.Institution,
		State:       string(l.State),
		StateLabel:  stateLabel(l.State, lang),
		Created:     formatRelative(now.Sub(l.CreatedAt), lang),
		CreatedAt:   l.CreatedAt.UTC().Format(time.RFC3339),
		Updated:     formatRelative(now.Sub(l.UpdatedAt), lang),
		UpdatedAt:   l.UpdatedAt.UTC().Format(time.RFC3339),
	}
}

// stateLabel is the short badge text for a state.
func stateLabel(s store.State, lang string) string {
	badges := views.For(lang).StateBadge
	if b, ok := badges[string(s)]; ok {
		return b
	}
	return badges[""]
}
