package views

import (
	"context"
	"fmt"
	"strings"
)

// TimelineMessages is the copy of a link's Details panel (its timeline of state
// changes and Flinks calls, with the response bodies and their copy and
// download buttons), in one language. It lives apart from Messages so that the
// panel can grow without touching the main catalogue; like Messages it is a
// struct, so a missing text is a compile error (and an empty one a test
// failure: see TestTimelineMessagesComplete).
type TimelineMessages struct {
	// The panel.
	Details, DetailsHint, Intro, TimesUTC string
	// TimesLocal replaces TimesUTC once app.js shows times in the viewer's
	// zone; {zone} is the zone's name.
	TimesLocal                string
	DownloadTimeline, APILink string
	Live                      string
	// Ended closes the timeline once the fetch has ended, in state (a label).
	Ended func(state string) string
	// FetchHeading starts each fetch generation: "Fetch 2, started", then its time.
	FetchHeading func(n int) string

	// A run of 202 polls: its kind, what it counts ("Flinks answered 202,
	// still processing: 12 times"), and when (from, to, how long).
	PollsKind, PollsWhen, PollsAnswers string
	PollsSummary                       func(n int) string
	PollsSpan                          func(from, to, length string) string

	// Notes renders what each kind of timeline entry says (store.NoteKind).
	Notes noteSet

	// An entry.
	StateChange, FlinksCall                              string
	HTTPStatus, FlinksCode, Duration, Attempt, RequestID string
	Note, ErrorCode, Error, FlinksSaid, NoResponse       string
	WhatYouCanDo, AboutCode                              string

	// A call's response body.
	ResponseBody, NoBody, NotJSON, Truncated string
	Clipped                                  string // only the start of a long body is on the page
	// BodySize says how big a body is: "1.2 KB", "1,2 ko".
	BodySize                           func(bytes int) string
	Copy, Copied, CopyFailed, Download string
	// CopyLabel and DownloadLabel are the accessible names of a call's buttons;
	// call names the call: "POST Authorize at 17:40:54".
	CopyLabel, DownloadLabel func(call string) string
	// At joins a call's name and its time for those labels.
	At string
}

var englishTimeline = TimelineMessages{
	Details:     "Details",
	DetailsHint: "every step and every call to Flinks",
	Intro: "Everything that happened while fetching this connection's data: each state change, and each call " +
		"we made to Flinks with its answer. Account numbers, the Flinks LoginId and contact details are masked.",
	TimesUTC:         "Times are UTC.",
	TimesLocal:       "Times are in your time zone ({zone}).",
	DownloadTimeline: "Download timeline",
	APILink:          "Same as JSON (API)",
	Live:             "Updating live: new entries appear here while the fetch runs.",
	Ended:            func(state string) string { return "The fetch ended: " + state },
	FetchHeading:     func(n int) string { return fmt.Sprintf("Fetch %d, started", n) },

	Notes:        englishNotes,
	PollsKind:    "Flinks still processing",
	PollsWhen:    "When",
	PollsAnswers: "Answers counted",
	PollsSummary: func(n int) string {
		if n == 1 {
			return "202, still collecting: 1 answer"
		}
		return fmt.Sprintf("202, still collecting: %d answers", n)
	},
	PollsSpan: func(from, to, length string) string {
		return fmt.Sprintf("from %s to %s (%s)", from, to, length)
	},
	StateChange: "State change", FlinksCall: "Flinks call",
	HTTPStatus: "HTTP status", FlinksCode: "FlinksCode", Duration: "Duration", Attempt: "Attempt", RequestID: "RequestId",
	Note: "Note", ErrorCode: "Error code", Error: "Error", FlinksSaid: "Flinks said", NoResponse: "no response",
	WhatYouCanDo: "What you can do:", AboutCode: "About this code at Flinks",

	ResponseBody: "Response body",
	NoBody:       "No response body.",
	NotJSON:      "Not JSON: shown as received.",
	Truncated:    "Cut to the first 256 KB when stored.",
	Clipped:      "Only the first 32 KB are shown here; Download has the whole answer.",
	BodySize:     func(n int) string { return formatBytes(n, ".", "bytes", "KB", "MB") },
	Copy:         "Copy", Copied: "Copied", CopyFailed: "Could not copy: the text is selected, copy it with your keyboard.",
	Download:      "Download",
	CopyLabel:     func(call string) string { return "Copy the response body of " + call },
	DownloadLabel: func(call string) string { return "Download the response body of " + call },
	At:            "at",
}

var frenchTimeline = TimelineMessages{
	Details:     "Détails",
	DetailsHint: "chaque étape et chaque appel à Flinks",
	Intro: "Tout ce qui s'est passé pendant la récupération des données de cette connexion : chaque changement " +
		"d'état, et chaque appel fait à Flinks avec sa réponse. Les numéros de compte, le LoginId Flinks et les " +
		"coordonnées sont masqués.",
	TimesUTC:         "Heures en UTC.",
	TimesLocal:       "Heures dans votre fuseau horaire ({zone}).",
	DownloadTimeline: "Télécharger la chronologie",
	APILink:          "La même en JSON (API)",
	Live:             "Mise à jour en direct : les nouvelles entrées s'ajoutent ici pendant la récupération.",
	Ended:            func(state string) string { return "La récupération est terminée : " + state },
	FetchHeading:     func(n int) string { return fmt.Sprintf("Récupération %d, commencée le", n) },

	Notes:        frenchNotes,
	PollsKind:    "Flinks encore en traitement",
	PollsWhen:    "Quand",
	PollsAnswers: "Réponses comptées",
	PollsSummary: func(n int) string {
		if n <= 1 {
			return fmt.Sprintf("202, collecte en cours : %d réponse", n)
		}
		return fmt.Sprintf("202, collecte en cours : %d réponses", n)
	},
	PollsSpan: func(from, to, length string) string {
		return fmt.Sprintf("de %s à %s (%s)", from, to, length)
	},
	StateChange: "Changement d'état", FlinksCall: "Appel à Flinks",
	HTTPStatus: "Statut HTTP", FlinksCode: "FlinksCode", Duration: "Durée", Attempt: "Tentative", RequestID: "RequestId",
	Note: "Note", ErrorCode: "Code d'erreur", Error: "Erreur", FlinksSaid: "Message de Flinks", NoResponse: "aucune réponse",
	WhatYouCanDo: "Ce que vous pouvez faire :", AboutCode: "Ce code chez Flinks",

	ResponseBody: "Corps de la réponse",
	NoBody:       "Aucun corps de réponse.",
	NotJSON:      "Pas du JSON : affiché tel que reçu.",
	Truncated:    "Coupé aux premiers 256 ko à l'enregistrement.",
	Clipped:      "Seuls les 32 premiers ko sont affichés ici; Télécharger donne la réponse entière.",
	BodySize:     func(n int) string { return formatBytes(n, ",", "octets", "ko", "Mo") },
	Copy:         "Copier", Copied: "Copié", CopyFailed: "Copie impossible : le texte est sélectionné, copiez-le au clavier.",
	Download:      "Télécharger",
	CopyLabel:     func(call string) string { return "Copier le corps de la réponse de " + call },
	DownloadLabel: func(call string) string { return "Télécharger le corps de la réponse de " + call },
	At:            "à",
}

// ForTimeline returns the timeline copy of lang, English when lang is not French.
func ForTimeline(lang string) *TimelineMessages {
	if lang == French {
		return &frenchTimeline
	}
	return &englishTimeline
}

// tm returns the timeline copy for the language in ctx.
func tm(ctx context.Context) *TimelineMessages {
	lang, _ := ctx.Value(langKey{}).(string)
	return ForTimeline(lang)
}

// formatBytes writes a size with one decimal: "812 bytes", "1.2 KB", "3,4 Mo".
func formatBytes(n int, decimal, bytes, kb, mb string) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d %s", n, bytes)
	case n < 1024*1024:
		return strings.Replace(fmt.Sprintf("%.1f %s", float64(n)/1024, kb), ".", decimal, 1)
	default:
		return strings.Replace(fmt.Sprintf("%.1f %s", float64(n)/(1024*1024), mb), ".", decimal, 1)
	}
}
