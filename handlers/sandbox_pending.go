package handlers

import (
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"flinkslink/views"
)

// pendingPath is the POST target of the scenario card's pending-duration
// control. It is not under SandboxPrefix: the app's CSRF protection applies.
const pendingPath = "/settings/sandbox-pending"

// PendingOverrider is the embedded sandbox's QA control (*sandbox.Server):
// every scrape started afterwards lasts exactly *d of the sandbox's clock, not
// multiplied by its TimeScale; a negative *d never ends; nil restores each
// scenario's own timing.
type PendingOverrider interface {
	SetPendingOverride(d *time.Duration)
}

// pendingChoice is one option of the control.
type pendingChoice struct {
	value string         // form value, also the key of its label in views.LinksMessages.PendingOptions
	d     *time.Duration // nil: each scenario's own timing
}

func dur(d time.Duration) *time.Duration { return &d }

// pendingChoices are the options offered, in display order.
var pendingChoices = []pendingChoice{
	{"default", nil},
	{"0s", dur(0)},
	{"5s", dur(5 * time.Second)},
	{"30s", dur(30 * time.Second)},
	{"2m", dur(2 * time.Minute)},
	{"never", dur(-1)},
}

// pendingSetting remembers the choice in effect: the sandbox has no getter, and
// this app is the only one that sets it.
type pendingSetting struct {
	mu    sync.Mutex
	value string // "" means "default"
}

func (p *pendingSetting) get() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.value == "" {
		return "default"
	}
	return p.value
}

// set applies ch to the sandbox and records it, under one lock so that the
// value shown is always the one in effect.
func (p *pendingSetting) set(ch pendingChoice, sb PendingOverrider) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var d *time.Duration
	if ch.d != nil {
		v := *ch.d
		d = &v
	}
	sb.SetPendingOverride(d)
	p.value = ch.value
}

// pendingView is the control's view model; nil when there is no sandbox to control.
func (h *Handler) pendingView(c echo.Context, saved bool) *views.PendingControlView {
	if !h.cfg.Sandbox || h.cfg.SandboxPending == nil {
		return nil
	}
	v := &views.PendingControlView{Action: pendingPath, CSRFToken: csrfToken(c), Current: h.pending.get(), Saved: saved}
	for _, ch := range pendingChoices {
		v.Options = append(v.Options, ch.value)
	}
	return v
}

// handleSandboxPending sets the sandbox's pending duration. With htmx it answers
// the control itself; otherwise it returns to the landing page.
func (h *Handler) handleSandboxPending(c echo.Context) error {
	value := c.FormValue("pending")
	var choice *pendingChoice
	for i := range pendingChoices {
		if pendingChoices[i].value == value {
			choice = &pendingChoices[i]
		}
	}
	if choice == nil {
		return &userError{status: http.StatusBadRequest, key: "badPending"}
	}
	h.pending.set(*choice, h.cfg.SandboxPending)
	h.log.Info("sandbox pending duration set", "value", choice.value)
	if isFragment(c) {
		return h.render(c, http.StatusOK, views.PendingControl(*h.pendingView(c, true)))
	}
	return c.Redirect(http.StatusSeeOther, "/#pending-control")
}
