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
		if !v.Terminal {
			v.ElapsedMs = max(end.Sub(l.FetchStartedAt).Milliseconds(), 1)
		}
		v.StartedAt = m.StartedAt + " " + formatTimestamp(l.FetchStartedAt, lang)
		v.StartedISO = isoTime(l.FetchStartedAt)
	}
	if !l.NextPollAt.IsZero() && !v.Terminal {
		// A time, not a countdown: a long-polled page is redrawn when the
		// link changes, not every second.
		v.NextPoll = l.NextPollAt.UTC().Format("15:04:05") + " UTC"
		v.NextPollISO = isoTime(l.NextPollAt)
	}

	switch l.State {
	case store.StateReady:
		v.Tone = "success"
	case store.StateRetrying:
		// Say what went wrong, as Flinks (or the network) said it: the
		// fetch has not failed, and nothing is asked of the person.
		if l.ErrorCode != "" {
			if flinks.IsOurCode(l.ErrorCode) {
				v.Headline = m.RetryingOurs(describeCodeIn(l.ErrorCode, lang).Title)
			} else {
				v.Headline = m.RetryingAfter(l.ErrorCode)
			}
			v.Detail = describeCodeIn(l.ErrorCode, lang).Message + " " + m.RetryingOnOurOwn
		}
	case store.StateFailed, store.StateTimedOut:
		v.Tone = "error"
		f := failureView(l, lang)
		v.Failure = &f
		// The failure block says what happened; the headline alone tops it.
		v.Detail = ""
	}
	v.Steps = steps(l, m.Steps)
	return v
}

// steps ticks the progress list from what has happened to the link, not from
// its state alone: a step is done only once it happened (a session is open
// once Flinks gave a RequestId; the data is requested once Flinks answered the
// request with a 202 or the data), so a retried Authorize ticks nothing, and
// the list never goes backwards when the fetch fails.
func steps(l store.Link, labels [5]string) []views.Step {
	reached := 1 // the link exists: Connect handed us the bank connection
	if l.RequestID != "" {
		reached = 2
	}
	if l.RequestID != "" && (l.Polls > 0 || l.State == store.StatePending) {
		reached = 3
	}
	if l.State == store.StateReady {
		reached = len(labels)
	}
	out := make([]views.Step, 0, len(labels))
	for i, label := range labels {
		st := "todo"
		switch {
		case i < reached:
			st = "done"
		case i == reached && l.State.Terminal():
			st = "failed"
		case i == reached:
			st = "current"
		}
		out = append(out, views.Step{Label: label, Status: st})
	}
	return out
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
		Institution: views.InstitutionName(l.Institution),
		State:       string(l.State),
		StateLabel:  stateLabel(l.State, lang),
		Created:     formatRelative(now.Sub(l.CreatedAt), lang),
		CreatedAt:   isoTime(l.CreatedAt),
		Updated:     formatRelative(now.Sub(l.UpdatedAt), lang),
		UpdatedAt:   isoTime(l.UpdatedAt),
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

// isoTime is t for a <time datetime> that app.js shows in the viewer's own
// time zone; "" for a zero time.
func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
