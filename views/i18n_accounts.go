package views

import "strings"

// accountTypes words Flinks' account Type (docs §5.4: Chequing, Savings,
// CreditCard, LineOfCredit, LoanPersonal, RRSP, TFSA, Mortgage, Loan,
// "unknown", plus the few others banks report), keyed in lower case.
var accountTypes = map[string]map[string]string{
	English: {
		"chequing": "Chequing", "savings": "Savings", "creditcard": "Credit card", "lineofcredit": "Line of credit",
		"loanpersonal": "Personal loan", "loan": "Loan", "mortgage": "Mortgage", "rrsp": "RRSP", "tfsa": "TFSA",
		"resp": "RESP", "rrif": "RRIF", "fhsa": "FHSA", "investment": "Investment", "prepaid": "Prepaid card",
		"unknown": "Account", "": "Account",
	},
	French: {
		"chequing": "Chèques", "savings": "Épargne", "creditcard": "Carte de crédit", "lineofcredit": "Marge de crédit",
		"loanpersonal": "Prêt personnel", "loan": "Prêt", "mortgage": "Prêt hypothécaire", "rrsp": "REER", "tfsa": "CELI",
		"resp": "REEE", "rrif": "FERR", "fhsa": "CELIAPP", "investment": "Placement", "prepaid": "Carte prépayée",
		"unknown": "Compte", "": "Compte",
	},
}

// accountCategories words Flinks' account Category (docs §5.4: Operations,
// Credits, Products, Others; "Other" in one guide), keyed in lower case.
var accountCategories = map[string]map[string]string{
	English: {"operations": "Day-to-day banking", "credits": "Credit", "products": "Savings and investments",
		"others": "Other", "other": "Other"},
	French: {"operations": "Opérations courantes", "credits": "Crédit", "products": "Épargne et placements",
		"others": "Autre", "other": "Autre"},
}

// AccountTypeKeys and AccountCategoryKeys list the words known in English, for
// the tests that check French has each one.
func AccountTypeKeys() []string     { return keys(accountTypes[English]) }
func AccountCategoryKeys() []string { return keys(accountCategories[English]) }

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// AccountType words a Flinks account Type in lang. A type no bank reported
// before shows as Flinks spells it, split into words: "BrokerageCash" →
// "Brokerage cash".
func AccountType(lang, t string) string {
	if w, ok := byLang(accountTypes, lang)[strings.ToLower(strings.TrimSpace(t))]; ok {
		return w
	}
	return splitWords(t)
}

// AccountCategory words a Flinks account Category in lang; an unknown one
// shows as Flinks spells it.
func AccountCategory(lang, c string) string {
	if w, ok := byLang(accountCategories, lang)[strings.ToLower(strings.TrimSpace(c))]; ok {
		return w
	}
	return splitWords(c)
}

func byLang(m map[string]map[string]string, lang string) map[string]string {
	if w, ok := m[lang]; ok {
		return w
	}
	return m[English]
}

// splitWords turns an identifier into words: "LineOfCredit" → "Line of
// credit", "FlinksCapital" → "Flinks capital" (see InstitutionName for names).
func splitWords(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' && !(s[i-1] >= 'A' && s[i-1] <= 'Z') {
			b.WriteByte(' ')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// InstitutionName writes an institution identifier as a name, the way Flinks
// writes it in its own pages: "FlinksCapital" → "Flinks Capital". Acronyms
// stay whole ("RBC", "BMO"), and a name that already has spaces is kept.
func InstitutionName(s string) string {
	if strings.ContainsAny(s, " _-") {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' && s[i-1] >= 'a' && s[i-1] <= 'z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
