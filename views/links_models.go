package views

// PendingControlView is the sandbox's pending-duration control on the
// scenario card.
type PendingControlView struct {
	Action    string   // POST target
	CSRFToken string   // for the form without JavaScript
	Current   string   // the value in effect, one of Options
	Options   []string // form values in display order; labels are in LinksMessages.PendingOptions
	Saved     bool     // rendered in answer to a change: say it was saved
	// The time-limit control: its value in effect, its values (labels in
	// LinksMessages.LimitOptions) and the server's limit, formatted.
	LimitCurrent string
	LimitOptions []string
	ServerLimit  string
}

// DeleteView is the confirmation page of "Delete".
type DeleteView struct {
	Page
	Institution string
	State       string // the link's state, for its badge
	StateLabel  string
	Created     string // exact creation time, formatted
	LinkURL     string // back to the link ("Cancel")
	DeleteURL   string // POST target
	Running     bool   // a fetch runs: deleting is refused, the button is disabled
	CancelURL   string // POST "Stop" while Running, back to this page
}

// StartOverView is the confirmation page of "Start over": the links the
// session leaves behind, and the two ways on (delete them first, or keep them).
type StartOverView struct {
	Page
	Action string    // POST target
	Links  []LinkRow // the session's links
}
