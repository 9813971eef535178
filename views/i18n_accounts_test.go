package views

import "testing"

// TestAccountWordsInFrench fails when an account type or category known in
// English has no French word, or keeps the English one.
func TestAccountWordsInFrench(t *testing.T) {
	same := map[string]bool{"": true} // words French spells like English
	for _, k := range AccountTypeKeys() {
		en, fr := AccountType(English, k), AccountType(French, k)
		if _, ok := accountTypes[French][k]; !ok || (en == fr && !same[k]) {
			t.Errorf("type %q: French %q, English %q", k, fr, en)
		}
	}
	for _, k := range AccountCategoryKeys() {
		en, fr := AccountCategory(English, k), AccountCategory(French, k)
		if _, ok := accountCategories[French][k]; !ok || en == fr {
			t.Errorf("category %q: French %q, English %q", k, fr, en)
		}
	}
	for in, want := range map[string]string{"LineOfCredit": "Marge de crédit", "CREDITCARD": "Carte de crédit", "TFSA": "CELI", "BrokerageCash": "Brokerage cash"} {
		if got := AccountType(French, in); got != want {
			t.Errorf("AccountType(fr, %q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"FlinksCapital": "Flinks Capital", "RBC": "RBC", "Banque Nationale": "Banque Nationale", "BMOBank": "BMOBank"} {
		if got := InstitutionName(in); got != want {
			t.Errorf("InstitutionName(%q) = %q, want %q", in, got, want)
		}
	}
}
