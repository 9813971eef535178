package handlers

import (
	"regexp"
	"strings"

	"flinkslink/views"
)

// frenchNotes translates the timeline notes the fetcher and store write (in
// English: they are a log, kept as written) for a French page. Each pattern
// matches the start of a note; $1 carries the part that is data (a number, a
// code, Flinks' own message). A note no pattern knows is shown as written.
var frenchNotes = []struct {
	re *regexp.Regexp
	fr string
}{
	{regexp.MustCompile(`^Attached to the fetch already running for this bank connection\. ?`), "Rattachée à la récupération déjà en cours pour cette connexion bancaire. "},
	{regexp.MustCompile(`^Received the bank connection from Flinks Connect$`), "Connexion bancaire reçue de Flinks Connect"},
	{regexp.MustCompile(`^Started fetch (\d+)$`), "Récupération $1 commencée"},
	{regexp.MustCompile(`^Started fetch (\d+): a refresh from the bank$`), "Récupération $1 commencée : une actualisation auprès de la banque"},
	{regexp.MustCompile(`^Asking Flinks to refresh from the bank \(Authorize, MostRecentCached false\)$`), "Demande à Flinks d'actualiser auprès de la banque (Authorize, MostRecentCached false)"},
	{regexp.MustCompile(`^Opening a cached session with Flinks \(Authorize, MostRecentCached\)$`), "Ouverture d'une session en mode cache avec Flinks (Authorize, MostRecentCached)"},
	{regexp.MustCompile(`^Requesting account details \(GetAccountsDetail\)$`), "Demande du détail des comptes (GetAccountsDetail)"},
	{regexp.MustCompile(`^Flinks is still collecting the data \(202, answer (\d+)\)$`), "Flinks recueille encore les données (202, réponse $1)"},
	{regexp.MustCompile(`^Temporary problem, retrying: (.*)$`), "Problème temporaire, nouvel essai : $1"},
	{regexp.MustCompile(`^Stopped: (\S+)$`), "Arrêt : $1"},
	{regexp.MustCompile(`^Failed: (\S+)$`), "Échec : $1"},
	{regexp.MustCompile(`^Account data received: (\d+) accounts$`), "Données des comptes reçues : $1 comptes"},
	{regexp.MustCompile(`^Account data received from Flinks' webhook: (\d+) accounts$`), "Données des comptes reçues par le webhook de Flinks : $1 comptes"},
}

// localNote returns a stored timeline note in the page's language.
func localNote(note, lang string) string {
	if lang != views.French || note == "" {
		return note
	}
	var out strings.Builder
	rest := note
	// The "attached" prefix can precede another note.
	for i := 0; i < 2 && rest != ""; i++ {
		matched := false
		for _, n := range frenchNotes {
			loc := n.re.FindStringSubmatchIndex(rest)
			if loc == nil {
				continue
			}
			out.Write(n.re.ExpandString(nil, n.fr, rest, loc))
			rest = rest[loc[1]:]
			matched = true
			break
		}
		if !matched {
			break
		}
	}
	return out.String() + rest
}
