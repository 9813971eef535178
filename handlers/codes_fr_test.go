package handlers

import (
	"strings"
	"testing"
)

// TestCatalogueFrenchComplete keeps the French catalogue key for key with the
// English one, and checks the HTTP_nnn wording exists in French too.
func TestCatalogueFrenchComplete(t *testing.T) {
	for code := range codeCatalogue {
		fr, ok := codeCatalogueFR[code]
		if !ok || fr.Title == "" || fr.Message == "" || fr.Action == "" {
			t.Errorf("%s has no complete French entry", code)
		}
	}
	if len(codeCatalogueFR) != len(codeCatalogue) {
		t.Errorf("%d French entries for %d English", len(codeCatalogueFR), len(codeCatalogue))
	}
	for _, code := range []string{"HTTP_302", "HTTP_401", "HTTP_404", "HTTP_408", "HTTP_429", "HTTP_418", "HTTP_503"} {
		en, fr := describeCodeIn(code, "en"), describeCodeIn(code, "fr")
		if fr.Title == en.Title || fr.Message == en.Message || fr.Retry != en.Retry {
			t.Errorf("%s: French %+v vs English %+v", code, fr, en)
		}
	}
	if got := describeCodeIn("DISABLED_LOGIN", "fr"); !strings.Contains(got.Message, "banque") || got.Retry {
		t.Errorf("DISABLED_LOGIN in French: %+v", got)
	}
}
