package handlers

import (
	"cmp"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"flinkslink/views"
)

// pendingPath is the POST target of the scenario card's QA controls. It is
// not under SandboxPrefix: the app's CSRF protection applies.
const pendingPath = "/settings/sandbox-pending"

// PendingOverrider is the embedded sandbox's QA control (*sandbox.Server):
// every scrape started afterwards from Connect with tag lasts exactly *d of
// the sandbox's clock, not multiplied by its TimeScale; a negative *d never
// ends; nil restores each scenario's own timing. The app passes one tag per
// browser session, so the choice is that browser's alone.
type PendingOverrider interface {
	SetPendingOverrideFor(tag string, d *time.Duration)
}

// The QA choices live in the browser's session: they apply to the
// connections that browser makes, not to other testers'.
const (
	keyQAPending = "qa_pending" // one of pendingChoices' values
	keyQALimit   = "qa_limit"   // one of limitChoices' values
)

// qaChoice is one option of a QA control.
type qaChoice struct {
	value string         // form value, also the key of its label in views.LinksMessages
	d     *time.Duration // nil: the default (the scenario's timing, the server's limit)
}

func dur(d time.Duration) *time.Duration { return &d }

// defaultFetchTimeout is the fetch time limit when none is configured (the
// Flinks client's default).
const defaultFetchTimeout = 30 * time.Minute

// pendingChoices are the pending durations offered, in display order.
var pendingChoices = []qaChoice{
	{"default", nil},
	{"0s", dur(0)},
	{"5s", dur(5 * time.Second)},
	{"30s", dur(30 * time.Second)},
	{"2m", dur(2 * time.Minute)},
	{"never", dur(-1)},
}

// limitChoices are the fetch time limits offered: the server's, or one short
// enough to see TIMED_OUT (with a pending that never ends) in half a minute.
var limitChoices = []qaChoice{
	{"default", nil},
	{"30s", dur(30 * time.Second)},
}

func findChoice(choices []qaChoice, value string) (qaChoice, bool) {
	if value == "" {
		value = "default"
	}
	for _, ch := range choices {
		if ch.value == value {
			return ch, true
		}
	}
	return qaChoice{}, false
}

// qaValue is the session's choice for key, "default" when none.
func (h *Handler) qaValue(c echo.Context, key string) string {
	if v := h.session(c).get(key); v != "" {
		return v
	}
	return "default"
}

// qaTimeLimit is the fetch time limit this browser chose for its new links;
// 0 outside the sandbox or by default (the server's FLINKS_POLL_TIMEOUT).
func (h *Handler) qaTimeLimit(c echo.Context) time.Duration {
	if !h.cfg.Sandbox || h.cfg.SandboxPending == nil {
		return 0
	}
	if ch, ok := findChoice(limitChoices, h.qaValue(c, keyQALimit)); ok && ch.d != nil {
		return *ch.d
	}
	return 0
}

// applyPending tells the sandbox this browser's pending choice for its
// Connect tag (a new tag after the session id changed gets it too).
func (h *Handler) applyPending(c echo.Context, tag string) {
	if !h.cfg.Sandbox || h.cfg.SandboxPending == nil || tag == "" {
		return
	}
	ch, _ := findChoice(pendingChoices, h.qaValue(c, keyQAPending))
	var d *time.Duration
	if ch.d != nil {
		v := *ch.d
		d = &v
	}
	h.cfg.SandboxPending.SetPendingOverrideFor(tag, d)
}

// pendingView is the controls' view model; nil when there is no sandbox to control.
func (h *Handler) pendingView(c echo.Context, saved bool) *views.PendingControlView {
	if !h.cfg.Sandbox || h.cfg.SandboxPending == nil {
		return nil
	}
	v := &views.PendingControlView{
		Action: pendingPath, CSRFToken: csrfToken(c), Saved: saved,
		Current: h.qaValue(c, keyQAPending), LimitCurrent: h.qaValue(c, keyQALimit),
		ServerLimit: formatDuration(cmp.Or(h.cfg.FetchTimeout, defaultFetchTimeout)),
	}
	for _, ch := range pendingChoices {
		v.Options = append(v.Options, ch.value)
	}
	for _, ch := range limitChoices {
		v.LimitOptions = append(v.LimitOptions, ch.value)
	}
	return v
}

// handleSandboxPending sets this browser's QA choices: how long the sandbox
// keeps its new connections pending, and the time limit of its new links.
// With htmx it answers the controls themselves; otherwise it returns to the
// landing page.
func (h *Handler) handleSandboxPending(c echo.Context) error {
	pending, ok := findChoice(pendingChoices, c.FormValue("pending"))
	if !ok || c.FormValue("pending") == "" {
		return &userError{status: http.StatusBadRequest, key: "badPending"}
	}
	limit, ok := findChoice(limitChoices, c.FormValue("limit"))
	if !ok {
		return &userError{status: http.StatusBadRequest, key: "badPending"}
	}
	sess := h.session(c)
	tag, _, err := sess.ensure(keyTag)
	if err != nil {
		return err
	}
	sess.set(keyQAPending, pending.value)
	sess.set(keyQALimit, limit.value)
	if err := sess.save(c); err != nil {
		return err
	}
	h.applyPending(c, tag)
	h.log.Info("sandbox QA controls set for a browser", "pending", pending.value, "limit", limit.value)
	if isFragment(c) {
		return h.render(c, http.StatusOK, views.PendingControl(*h.pendingView(c, true)))
	}
	return c.Redirect(http.StatusSeeOther, "/#pending-control")
}
