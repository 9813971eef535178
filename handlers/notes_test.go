package handlers

import "testing"

func TestLocalNote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Flinks is still collecting the data (202, answer 7)", "Flinks recueille encore les données (202, réponse 7)"},
		{"Stopped: DISABLED_LOGIN", "Arrêt : DISABLED_LOGIN"},
		{"Attached to the fetch already running for this bank connection. Requesting account details (GetAccountsDetail)",
			"Rattachée à la récupération déjà en cours pour cette connexion bancaire. Demande du détail des comptes (GetAccountsDetail)"},
		{"Account data received: 5 accounts", "Données des comptes reçues : 5 comptes"},
		{"Account data received from Flinks' webhook: 3 accounts", "Données des comptes reçues par le webhook de Flinks : 3 comptes"},
		{"Something new the fetcher says", "Something new the fetcher says"},
	} {
		if got := localNote(tc.in, "fr"); got != tc.want {
			t.Errorf("localNote(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := localNote(tc.in, "en"); got != tc.in {
			t.Errorf("English note changed: %q", got)
		}
	}
}
