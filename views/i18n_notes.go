package views

import (
	"strconv"
	"strings"
)

// NoteFunc renders a timeline note of one kind (store.NoteKind) from its
// arguments. Arguments come from the database: a missing one renders as "?".
type NoteFunc func(args []string) string

func arg(args []string, i int) string {
	if i < len(args) && args[i] != "" {
		return args[i]
	}
	return "?"
}

// count renders "1 account" / "3 accounts" from a decimal argument.
func count(args []string, one, many string) string {
	a := arg(args, 0)
	if n, err := strconv.Atoi(a); err == nil && n == 1 {
		return "1 " + one
	}
	return a + " " + many
}

var englishNotes = noteSet{
	"received":         func([]string) string { return "Received the bank connection from Flinks Connect" },
	"fetch_started":    func(a []string) string { return "Started fetch " + arg(a, 0) },
	"refresh_started":  func(a []string) string { return "Started fetch " + arg(a, 0) + ": a refresh from the bank" },
	"authorize_cached": func([]string) string { return "Opening a cached session with Flinks (Authorize, MostRecentCached)" },
	"authorize_live": func([]string) string {
		return "Asking Flinks to refresh from the bank (Authorize, MostRecentCached false)"
	},
	"request_details": func([]string) string { return "Requesting account details (GetAccountsDetail)" },
	"pending":         func(a []string) string { return "Flinks is still collecting the data (202, answer " + arg(a, 0) + ")" },
	"retrying":        func([]string) string { return "A temporary failure: trying again after a wait" },
	"stopped":         func([]string) string { return "The fetch stopped" },
	"cancelled":       func([]string) string { return "Stopped by you: no more calls to Flinks for this fetch" },
	"data_received":   func(a []string) string { return "Account data received: " + count(a, "account", "accounts") },
	"webhook_received": func(a []string) string {
		return "Account data received from Flinks' webhook: " + count(a, "account", "accounts")
	},
	// attached prefixes the note it wraps (see noteSet.Note).
	"attached": func([]string) string { return "Attached to the fetch already running for this bank connection. " },
}

var frenchNotes = noteSet{
	"received":      func([]string) string { return "Connexion bancaire reçue de Flinks Connect" },
	"fetch_started": func(a []string) string { return "Récupération " + arg(a, 0) + " commencée" },
	"refresh_started": func(a []string) string {
		return "Récupération " + arg(a, 0) + " commencée : une actualisation auprès de la banque"
	},
	"authorize_cached": func([]string) string {
		return "Ouverture d'une session en mode cache avec Flinks (Authorize, MostRecentCached)"
	},
	"authorize_live": func([]string) string {
		return "Demande à Flinks d'actualiser auprès de la banque (Authorize, MostRecentCached false)"
	},
	"request_details": func([]string) string { return "Demande du détail des comptes (GetAccountsDetail)" },
	"pending": func(a []string) string {
		return "Flinks recueille encore les données (202, réponse " + arg(a, 0) + ")"
	},
	"retrying": func([]string) string { return "Échec temporaire : nouvel essai après une attente" },
	"stopped":  func([]string) string { return "La récupération s'est arrêtée" },
	"cancelled": func([]string) string {
		return "Arrêtée par vous : plus aucun appel à Flinks pour cette récupération"
	},
	"data_received": func(a []string) string { return "Données des comptes reçues : " + count(a, "compte", "comptes") },
	"webhook_received": func(a []string) string {
		return "Données des comptes reçues par le webhook de Flinks : " + count(a, "compte", "comptes")
	},
	"attached": func([]string) string {
		return "Rattachée à la récupération déjà en cours pour cette connexion bancaire. "
	},
}

// noteSet is one language's renderings, by kind.
type noteSet map[string]NoteFunc

// Note renders a note of kind; an unknown kind (written by a newer version)
// shows as its name and arguments rather than nothing.
func (s noteSet) Note(kind string, args []string) string {
	f, ok := s[kind]
	switch {
	case ok && kind == "attached" && len(args) > 0 && args[0] != "attached":
		return f(nil) + s.Note(args[0], args[1:]) // args[0] is the wrapped note's kind
	case ok:
		return f(args)
	}
	return strings.TrimSpace(kind + " " + strings.Join(args, " "))
}
