package handlers

import (
	"strings"
	"testing"

	"flinkslink/store"
	"flinkslink/views"
)

// TestEveryNoteKindRenders fails when a kind the store or the fetcher writes
// has no sentence in a language: it would show as its bare name.
func TestEveryNoteKindRenders(t *testing.T) {
	for _, kind := range store.NoteKinds() {
		note := store.NoteOf(kind, 2)
		if kind == store.NoteAttached {
			note = store.NoteOf(store.NotePending, 7).Attached()
		}
		en := noteText(store.Event{Note: note}, views.English)
		fr := noteText(store.Event{Note: note}, views.French)
		if en == "" || fr == "" || strings.HasPrefix(en, string(kind)) || strings.HasPrefix(fr, string(kind)) {
			t.Errorf("%s renders as %q / %q", kind, en, fr)
		}
		if en == fr {
			t.Errorf("%s is not translated: %q", kind, fr)
		}
	}
	for _, tc := range []struct {
		note   store.Note
		en, fr string
	}{
		{store.NoteOf(store.NotePending, 7), "Flinks is still collecting the data (202, answer 7)", "Flinks recueille encore les données (202, réponse 7)"},
		{store.NoteOf(store.NoteRequestDetails).Attached(),
			"Attached to the fetch already running for this bank connection. Requesting account details (GetAccountsDetail)",
			"Rattachée à la récupération déjà en cours pour cette connexion bancaire. Demande du détail des comptes (GetAccountsDetail)"},
		{store.NoteOf(store.NoteDataReceived, 1), "Account data received: 1 account", "Données des comptes reçues : 1 compte"},
		{store.NoteOf(store.NoteWebhookReceived, 3), "Account data received from Flinks' webhook: 3 accounts",
			"Données des comptes reçues par le webhook de Flinks : 3 comptes"},
		// A kind from a newer version shows as data rather than nothing.
		{store.Note{Kind: "later_kind", Args: []string{"x"}}, "later_kind x", "later_kind x"},
	} {
		if got := noteText(store.Event{Note: tc.note}, views.English); got != tc.en {
			t.Errorf("English %v = %q, want %q", tc.note, got, tc.en)
		}
		if got := noteText(store.Event{Note: tc.note}, views.French); got != tc.fr {
			t.Errorf("French %v = %q, want %q", tc.note, got, tc.fr)
		}
	}
	// An entry written before kinds existed keeps its sentence.
	if got := noteText(store.Event{Text: "Started fetch 1"}, views.French); got != "Started fetch 1" {
		t.Errorf("legacy note = %q", got)
	}
}
