package handlers

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"flinkslink/flinks"
	"flinkslink/store"
	"flinkslink/views"
)

// TimelineStore is what the Details panel, its downloads and the JSON API read
// beyond the link itself: its state changes and its Flinks calls (response
// bodies already masked when they were stored).
type TimelineStore interface {
	Events(ctx context.Context, linkID string) ([]store.Event, error)
	Calls(ctx context.Context, linkID string) ([]store.Call, error)
	CallsAfter(ctx context.Context, linkID string, afterID int64) ([]store.Call, error)
}

// bodyStoreLimit is the store's cap on a stored response body (store.RecordCall):
// a body of exactly this size was probably cut.
const bodyStoreLimit = 256 << 10

// renderLinkPage renders a link's full page, Details panel included.
func (h *Handler) renderLinkPage(c echo.Context, v views.LinkView) error {
	if err := h.addTimeline(c, &v); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.LinkPage(v))
}

// addTimeline fills the Details panel of a link page whose status v already
// holds. The link was read before its timeline: a link seen in a terminal state
// has all its entries recorded, so a terminal panel misses none.
func (h *Handler) addTimeline(c echo.Context, v *views.LinkView) error {
	events, calls, err := h.loadTimeline(c.Request().Context(), v.ID, timelineCursor{})
	if err != nil {
		return err
	}
	lang := h.lang(c)
	entries, cur := timelineEntries(v.ID, events, calls, timelineCursor{}, lang)
	v.Timeline = &views.TimelineView{
		Entries:     entries,
		Tail:        h.timelineTail(store.State(v.Status.State), cur, lang),
		DownloadURL: linkPath(v.ID) + "/timeline.json",
		APIURL:      apiLinkPath(v.ID),
	}
	return nil
}

// loadTimeline reads a link's events, then its calls. Both only grow, each in
// time order, and a poll shows what is newer than what it showed before (see
// timelineCursor); reading the events first keeps a state change recorded right
// after a call from being shown before it.
func (h *Handler) loadTimeline(ctx context.Context, linkID string, after timelineCursor) ([]store.Event, []store.Call, error) {
	events, err := h.store.Events(ctx, linkID)
	if err != nil {
		return nil, nil, err
	}
	// Calls carry response bodies: only those the page does not show yet.
	calls, err := h.store.CallsAfter(ctx, linkID, after.callsFrom())
	if err != nil {
		return nil, nil, err
	}
	return events, calls, nil
}

// handleTimeline answers with the entries recorded after those named by the
// query (see timelineCursor), then the next tail: what a status answer adds
// to the panel (see timelineDelta), on its own, for scripts and older pages.
// A request not from htmx gets the full page.
func (h *Handler) handleTimeline(c echo.Context) error {
	if !isFragment(c) {
		v, err := h.linkView(c)
		if err != nil {
			return err
		}
		return h.renderLinkPage(c, v)
	}
	link, err := h.ownedLink(c)
	if err != nil {
		return err
	}
	after, err := parseCursor(c)
	if err != nil {
		return err
	}
	events, calls, err := h.loadTimeline(c.Request().Context(), link.ID, after)
	if err != nil {
		return err
	}
	lang := h.lang(c)
	entries, cur := timelineEntries(link.ID, events, calls, after, lang)
	return h.render(c, http.StatusOK, views.TimelineEntries(entries, h.timelineTail(link.State, cur, lang)))
}

// timelineDelta is what the Details panel gains since the cursor a status
// poll sent: nil when it gains nothing, or the poll sent no cursor (it is not
// from a link page). The link was read before its timeline, so a terminal
// link's entries are all there.
func (h *Handler) timelineDelta(c echo.Context, link store.Link) (*views.TimelineDelta, error) {
	if !c.QueryParams().Has("event") {
		return nil, nil
	}
	after, err := parseCursor(c)
	if err != nil {
		return nil, err
	}
	if link.LastEvent <= after.event && link.LastCall <= after.call {
		// The page shows every entry there is: nothing to read, nothing to
		// send (its tail stays as it is).
		return nil, nil
	}
	events, calls, err := h.loadTimeline(c.Request().Context(), link.ID, after)
	if err != nil {
		return nil, err
	}
	lang := h.lang(c)
	entries, cur := timelineEntries(link.ID, events, calls, after, lang)
	d := &views.TimelineDelta{Tail: h.timelineTail(link.State, cur, lang)}
	for _, e := range entries {
		if e.OOB {
			d.Replaced = append(d.Replaced, e)
		} else {
			d.Entries = append(d.Entries, e)
		}
	}
	return d, nil
}

// timelineTail is the last item of the list: live while the fetch runs;
// once it ended, saying so. Either way it carries the cursor that the status
// element's next poll sends, so a new fetch started in place ("Refresh data"
// swaps the status element without reloading the page) goes on from it.
func (h *Handler) timelineTail(state store.State, cur timelineCursor, lang string) views.TimelineTail {
	tail := views.TimelineTail{Live: !state.Terminal(), Cursor: cur.fields()}
	if state.Terminal() {
		tail.StateLabel = stateLabel(state, lang)
	}
	return tail
}

// timelineCursor names the entries a page already shows: every event and call
// with an ID up to these. Zero shows everything.
type timelineCursor struct {
	event, call int64
	// runEvent and runCall are the first event and call (0: none yet) of
	// the group of 202 polls the page shows last: a poll that continues it
	// updates that group in place rather than adding an entry.
	runEvent, runCall int64
}

// fields is the cursor as the tail's hidden inputs (the names parseCursor reads).
func (cur timelineCursor) fields() []views.Field {
	f := []views.Field{{Name: "event", Value: strconv.FormatInt(cur.event, 10)}, {Name: "call", Value: strconv.FormatInt(cur.call, 10)}}
	if cur.runEvent > 0 || cur.runCall > 0 {
		f = append(f, views.Field{Name: "run_event", Value: strconv.FormatInt(cur.runEvent, 10)},
			views.Field{Name: "run_call", Value: strconv.FormatInt(cur.runCall, 10)})
	}
	return f
}

// callsFrom is the ID after which a poll reads calls: those it has not
// shown, and those of the trailing group it rebuilds.
func (cur timelineCursor) callsFrom() int64 {
	if cur.runCall > 0 {
		return min(cur.call, cur.runCall-1)
	}
	return cur.call
}

// parseCursor reads the cursor of a tail's poll; a malformed one is a 400.
func parseCursor(c echo.Context) (timelineCursor, error) {
	var cur timelineCursor
	for name, dst := range map[string]*int64{"event": &cur.event, "call": &cur.call, "run_event": &cur.runEvent, "run_call": &cur.runCall} {
		s := c.QueryParam(name)
		if s == "" {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return timelineCursor{}, badRequest("badRequest")
		}
		*dst = n
	}
	return cur, nil
}

// timelineEntries merges the events and calls newer than after into one list in
// time order (a state change before a call of the same millisecond: it
// announces it), with a heading where a fetch generation begins, and returns
// the cursor that names everything loaded.
//
// Flinks' 202 answers and the pending states they cause come by the dozen
// while a scrape runs: each unbroken run of them is one entry that counts
// them and gives their time span (see pollGroup), so the panel stays small
// however long Flinks takes. The run shown last is rebuilt by the next poll
// (after.runEvent, after.runCall) and replaces itself in the page.
func timelineEntries(linkID string, events []store.Event, calls []store.Call, after timelineCursor, lang string) ([]views.TimelineEntry, timelineCursor) {
	var items []timelineItem
	cur := timelineCursor{event: after.event, call: after.call}
	// The fetch of the last entry already shown, to know whether the new ones
	// begin a fetch generation. The events tell it alone (calls may be loaded
	// only after the cursor): every fetch opens with a state change, and fetch
	// numbers only grow.
	var lastShown struct {
		at    time.Time
		fetch int
	}
	shown := func(at time.Time, fetch int) {
		if lastShown.at.IsZero() || !at.Before(lastShown.at) {
			lastShown.at, lastShown.fetch = at, fetch
		}
	}
	inRun := func(id, runStart int64) bool { return runStart > 0 && id >= runStart }
	for _, e := range events {
		cur.event = max(cur.event, e.ID)
		if e.ID <= after.event && !inRun(e.ID, after.runEvent) {
			shown(e.At, e.Fetch)
			continue
		}
		items = append(items, timelineItem{at: e.At, order: 0, id: e.ID, fetch: e.Fetch, event: &e})
	}
	for _, cl := range calls {
		cur.call = max(cur.call, cl.ID)
		if cl.ID <= after.call && !inRun(cl.ID, after.runCall) {
			shown(cl.At, cl.Fetch)
			continue
		}
		items = append(items, timelineItem{at: cl.At, order: 1, id: cl.ID, fetch: cl.Fetch, call: &cl})
	}
	if !slices.ContainsFunc(items, func(it timelineItem) bool {
		return (it.event != nil && it.event.ID > after.event) || (it.call != nil && it.call.ID > after.call)
	}) {
		return nil, after // nothing new: the trailing run stays as shown
	}
	slices.SortStableFunc(items, func(a, b timelineItem) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.order, b.order), cmp.Compare(a.id, b.id))
	})
	tm := views.ForTimeline(lang)
	entries := make([]views.TimelineEntry, 0, len(items)+1)
	fetch := lastShown.fetch
	if after.runEvent > 0 || after.runCall > 0 {
		fetch = -1 // set by the rebuilt run's first item, which heads nothing
		if len(items) > 0 {
			fetch = items[0].fetch
		}
	}
	for i := 0; i < len(items); {
		it := items[i]
		if it.fetch != fetch {
			fetch = it.fetch
			heading := views.TimelineEntry{
				Kind:    views.EntryFetch,
				DOMID:   fmt.Sprintf("tl-fetch-%d", it.fetch),
				Fetch:   it.fetch,
				Heading: tm.FetchHeading(it.fetch),
			}
			setEntryTime(&heading, it.at, lang)
			entries = append(entries, heading)
		}
		if !it.isPoll() {
			if it.event != nil {
				entries = append(entries, eventEntry(*it.event, lang))
			} else {
				entries = append(entries, callEntry(linkID, *it.call, lang))
			}
			i++
			continue
		}
		j := i + 1
		for j < len(items) && items[j].isPoll() && items[j].fetch == it.fetch {
			j++
		}
		run := pollRun(items[i:j])
		g := pollGroup(linkID, run, lang)
		// The run that was shown last is replaced where it stands.
		g.OOB = i == 0 && (after.runEvent > 0 || after.runCall > 0)
		entries = append(entries, g)
		if j == len(items) {
			cur.runEvent, cur.runCall = run.first()
		}
		i = j
	}
	return entries, cur
}

// timelineItem is one event or one call, to be merged in time order.
type timelineItem struct {
	at    time.Time
	order int // 0 event, 1 call
	id    int64
	fetch int
	event *store.Event
	call  *store.Call
}

// isPoll reports whether the item belongs to a run of 202 polls: a 202
// answer, or the pending state it leads to.
func (it timelineItem) isPoll() bool {
	if it.event != nil {
		return it.event.State == store.StatePending
	}
	return it.call.StatusCode == http.StatusAccepted && it.call.Err == ""
}

type pollRun []timelineItem

// first is the run's first event and first call (0 when it has none).
func (r pollRun) first() (event, call int64) {
	for _, it := range r {
		switch {
		case it.event != nil && event == 0:
			event = it.event.ID
		case it.call != nil && call == 0:
			call = it.call.ID
		}
	}
	return event, call
}

// pollGroup is one entry for a run of 202 polls: how many answers, from
// when to when, the RequestId and code, and the last answer's body.
func pollGroup(linkID string, run pollRun, lang string) views.TimelineEntry {
	// Named after its first item, which later polls do not change.
	domID := fmt.Sprintf("tl-polls-c%d", run[0].id)
	if run[0].event != nil {
		domID = fmt.Sprintf("tl-polls-e%d", run[0].id)
	}
	g := views.TimelineEntry{
		Kind:  views.EntryPolls,
		DOMID: domID,
		Fetch: run[0].fetch,
	}
	setEntryTime(&g, run[0].at, lang)
	var last *store.Call
	for _, it := range run {
		switch {
		case it.call != nil:
			g.PollCount++
			last = it.call
			if it.call.RequestID != "" {
				g.RequestID = it.call.RequestID
			}
		case it.event.RequestID != "":
			g.RequestID = it.event.RequestID
		}
		if it.event != nil {
			g.PollLast = it.event.Polls
			if g.PollFirst == 0 {
				g.PollFirst = it.event.Polls
			}
		}
	}
	end := run[len(run)-1].at
	var until views.TimelineEntry
	setEntryTime(&until, end, lang)
	g.Until, g.UntilISO = until.Time, until.TimeISO
	g.Span = formatCallDuration(end.Sub(run[0].at), lang)
	if last != nil {
		c := callEntry(linkID, *last, lang)
		g.Method, g.Endpoint, g.StatusCode, g.Code = c.Method, c.Endpoint, c.StatusCode, c.Code
		g.Body, g.BodyJSON, g.BodySize, g.BodyTruncated, g.BodyClipped, g.BodyURL = c.Body, c.BodyJSON, c.BodySize, c.BodyTruncated, c.BodyClipped, c.BodyURL
		g.CallName = c.CallName
		g.BodyDOMID = c.DOMID
	}
	return g
}

// eventEntry is a state change of the timeline.
func eventEntry(e store.Event, lang string) views.TimelineEntry {
	label := views.For(lang).StateHeadline[string(e.State)]
	if label == "" {
		label = string(e.State)
	}
	v := views.TimelineEntry{
		Kind:         views.EntryEvent,
		DOMID:        fmt.Sprintf("tl-event-%d", e.ID),
		Fetch:        e.Fetch,
		State:        string(e.State),
		StateLabel:   label,
		Note:         noteText(e, lang),
		NoteLegacy:   e.Note.Kind == "",
		RequestID:    e.RequestID,
		ErrorMessage: e.ErrorMessage,
		Failed:       e.ErrorCode != "" || e.State == store.StateFailed || e.State == store.StateTimedOut,
	}
	setEntryTime(&v, e.At, lang)
	if e.ErrorCode != "" {
		v.Code = codeView(e.ErrorCode, true, lang)
	}
	return v
}

// callEntry is a Flinks call of the timeline, with its (masked) response body.
func callEntry(linkID string, c store.Call, lang string) views.TimelineEntry {
	v := views.TimelineEntry{
		Kind:       views.EntryCall,
		DOMID:      fmt.Sprintf("tl-call-%d", c.ID),
		Fetch:      c.Fetch,
		Method:     c.Method,
		Endpoint:   c.Endpoint,
		StatusCode: c.StatusCode,
		Duration:   formatCallDuration(c.Duration, lang),
		Attempt:    c.Attempt,
		RequestID:  c.RequestID,
		Err:        c.Err,
		Failed:     callFailed(c),
	}
	setEntryTime(&v, c.At, lang)
	if c.FlinksCode != "" {
		v.Code = codeView(c.FlinksCode, v.Failed, lang)
	}
	if len(c.Body) > 0 {
		body, isJSON := prettyBody(c.Body)
		if len(body) > inlineBodyLimit {
			// The page shows the start; the download has it all.
			cut := inlineBodyLimit
			for cut > 0 && !utf8.RuneStart(body[cut]) {
				cut--
			}
			body, v.BodyClipped = body[:cut], true
		}
		v.Body, v.BodyJSON = string(body), isJSON
		v.BodySize = len(c.Body)
		v.BodyTruncated = len(c.Body) >= bodyStoreLimit
		v.BodyURL = callBodyPath(linkID, c.ID)
	}
	v.CallName = c.Method + " " + c.Endpoint + " " + views.ForTimeline(lang).At + " " + v.Time
	return v
}

// callFailed reports whether a call is a failure worth explaining: no response,
// a transport or decoding error, or an HTTP error status.
func callFailed(c store.Call) bool {
	return c.StatusCode == 0 || c.StatusCode >= 400 || c.Err != ""
}

// codeView shows a code and, for failures, the catalogue's explanation in the
// page's language (the same words as the failure view).
func codeView(code string, explain bool, lang string) *views.CodeView {
	v := &views.CodeView{Code: code}
	if !explain {
		return v
	}
	info := describeCodeIn(code, lang)
	v.Explained = true
	v.Title, v.Message, v.Action, v.DocsURL = info.Title, info.Message, info.Action, info.Docs
	return v
}

// setEntryTime fills an entry's times: the time of day to the millisecond (the
// fetch's steps are often milliseconds apart), and the full date for the title.
func setEntryTime(v *views.TimelineEntry, at time.Time, lang string) {
	at = at.UTC()
	v.Time = at.Format("15:04:05.000")
	v.TimeISO = at.Format(time.RFC3339Nano)
	v.TimeFull = formatTimestamp(at, lang)
}

// formatCallDuration is a call's duration: "85 ms", "1.2 s" ("1,2 s" in French).
func formatCallDuration(d time.Duration, lang string) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	if d >= time.Minute {
		return formatDuration(d)
	}
	s := fmt.Sprintf("%.1f s", d.Seconds())
	if lang == views.French {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// inlineBodyLimit is how much of one response body a page shows inline.
const inlineBodyLimit = 32 << 10

// prettyBody indents a JSON body two spaces; anything else (an HTML error page
// from a proxy, a body cut at the store's limit) is returned as it was stored.
// A body nested deeper than Flinks ever nests, or one that indenting would
// more than double, is returned as stored too: the work stays bounded by its size.
func prettyBody(body []byte) ([]byte, bool) {
	if flinks.NestingDepth(body) > flinks.MaxNesting || !json.Valid(body) {
		return body, false
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, bytes.TrimSpace(body), "", "  "); err != nil || buf.Len() > 2*len(body)+1024 {
		return body, true
	}
	return buf.Bytes(), true
}

// handleCallBody downloads one call's response body (masked when stored): JSON
// as application/json, anything else as plain text, never as HTML.
func (h *Handler) handleCallBody(c echo.Context) error {
	link, err := h.ownedLink(c)
	if err != nil {
		return err
	}
	callID, err := strconv.ParseInt(c.Param("call"), 10, 64)
	if err != nil || callID <= 0 {
		return store.ErrNotFound
	}
	calls, err := h.store.Calls(c.Request().Context(), link.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(calls, func(cl store.Call) bool { return cl.ID == callID })
	if i < 0 || len(calls[i].Body) == 0 {
		return echo.ErrNotFound
	}
	cl := calls[i]
	body, isJSON := prettyBody(cl.Body)
	name := fmt.Sprintf("flinks-%s-call-%d-%s", link.ID, cl.ID, safeFileName(cl.Endpoint))
	if isJSON {
		return attachment(c, name+".json", echo.MIMEApplicationJSON, append(body, '\n'))
	}
	return attachment(c, name+".txt", echo.MIMETextPlainCharsetUTF8, body)
}

// handleTimelineDownload downloads the whole timeline as JSON: the shape of the
// JSON API's "timeline", with the link it belongs to.
func (h *Handler) handleTimelineDownload(c echo.Context) error {
	link, err := h.ownedLink(c)
	if err != nil {
		return err
	}
	events, calls, err := h.loadTimeline(c.Request().Context(), link.ID, timelineCursor{})
	if err != nil {
		return err
	}
	doc := struct {
		LinkID      string      `json:"link_id"`
		Institution string      `json:"institution"`
		State       string      `json:"state"`
		Terminal    bool        `json:"terminal"`
		Fetch       int         `json:"fetch"`
		GeneratedAt string      `json:"generated_at"`
		Timeline    apiTimeline `json:"timeline"`
	}{
		LinkID:      link.ID,
		Institution: link.Institution,
		State:       string(link.State),
		Terminal:    link.State.Terminal(),
		Fetch:       link.Fetch,
		GeneratedAt: rfc3339(h.now()),
		Timeline:    newAPITimeline(events, calls),
	}
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return attachment(c, "flinks-"+link.ID+"-timeline.json", echo.MIMEApplicationJSON, append(body, '\n'))
}

// attachment answers body as a download named name.
func attachment(c echo.Context, name, contentType string, body []byte) error {
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	hd.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, contentType, body)
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// safeFileName keeps a file name part to letters, digits, "_" and "-".
func safeFileName(s string) string {
	s = strings.Trim(unsafeFileChars.ReplaceAllString(s, "-"), "-")
	if s == "" {
		return "call"
	}
	return s
}

// callBodyPath is the download URL of a call's response body.
func callBodyPath(linkID string, callID int64) string {
	return linkPath(linkID) + "/calls/" + strconv.FormatInt(callID, 10) + "/body"
}
