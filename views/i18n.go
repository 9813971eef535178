package views

import (
	"context"
	"fmt"
)

// Languages the app speaks; Flinks Connect speaks the same two.
const (
	English = "en"
	French  = "fr"
)

// Messages is every piece of copy the app shows, in one language. It is a
// struct rather than a map so that a missing translation is a compile error
// (and an empty one a test failure: see TestMessagesComplete).
type Messages struct {
	Lang, OtherLang, OtherLangName, SwitchLanguage string

	AppName, SkipToContent, NavLinkAccount, NavLinks, MainNav, Footer string

	// Landing page.
	HomeTitle, HomeHeading, HomeIntro                       string
	HomeStep1, HomeStep2, HomeStep3                         string
	ConnectFrameTitle, ConnectTrouble, ReloadPage           string
	ConnectErrorTitle, ConnectErrorToken, ConnectErrorRetry string
	// ConnectSteps words Flinks Connect's progress events under the frame
	// (only these; other steps show nothing new); ConnectStates are the
	// ends of a Connect session that leave nothing linked.
	ConnectSteps                                              map[string]string
	ConnectStates                                             map[string]ConnectStateText
	SandboxUsers, SandboxIntro1, SandboxIntro2, SandboxIntro3 string
	SandboxMFA                                                func(answers string) string

	// Link page and status.
	Elapsed, FlinksPending, NextCheck, StartedAt string
	Progress, StepDone, StepCurrent, StepFailed  string
	StepTodo                                     string
	Steps                                        [5]string
	StateHeadline, StateDetail                   map[string]string
	// RetryingAfter heads a retried fetch when Flinks answered with a code;
	// RetryingOurs when the failure was ours to name (no answer, unreadable
	// answer), with the catalogue's title. RetryingOnOurOwn ends its detail.
	RetryingAfter, RetryingOurs                     func(string) string
	RetryingOnOurOwn                                string
	StateBadge                                      map[string]string
	WhatYouCanDo, FlinksCode, AboutCode, FlinksSaid string
	OurCode                                         string // the label of a code that is this app's, not Flinks'

	TryAgain, LinkAnother           string
	ContinueInConnect, Reconnecting string
	ShowingEarlierData              func(when string) string

	// Summary.
	Institution, AccountHolder, LastRefreshed, NoAccounts      string
	Totals, Currency, Accounts, InDeposit, OwedOnCredit        string
	CurrentBalance, Available, Limit, NoTransactions, RecentTx string
	Date, Description, Debit, Credit, Balance                  string
	OlderNotShown                                              func(n int) string
	// Listing every transaction of an account, a page at a time.
	ShowAllTransactions, NewerTransactions, OlderTransactions, RecentOnly string
	TransactionsRange                                                     func(from, to, total int) string
	// A summary whose data may be old (the cached Authorize replayed a failed
	// refresh), and rows Flinks sent that could not be read.
	StaleTitle, Reconnect string
	StaleBody             func(when string) string
	UnreadableRows        func(n int) string
	// Paging the account cards.
	AccountsRange              func(from, to, total int) string
	PrevAccounts, NextAccounts string

	// Links list.
	LinksTitle, LinksEmpty, Status, Created, Updated string

	// Errors.
	ErrorTitle, BackToStart, BreakoutTitle, BreakoutText, BreakoutContinue string
	// Errors is every error page's text by key; "%s" in a Message is replaced
	// by the error's argument (a parameter name, never the raw input).
	Errors map[string]ErrorText
}

// ConnectStateText is what the page says when Connect ends without a link.
type ConnectStateText struct{ Heading, Message, Action string }

// ErrorText is one error's heading, explanation and hints.
type ErrorText struct {
	Heading, Message string
	Hints            []string
}

var english = Messages{
	Lang: English, OtherLang: French, OtherLangName: "Français", SwitchLanguage: "Afficher en français",

	AppName: "Flinks Link", SkipToContent: "Skip to content", NavLinkAccount: "Link an account", NavLinks: "Your links",
	MainNav: "Main", Footer: "Account data is read through Flinks in cached mode. Nothing here moves money.",

	HomeTitle: "Link an account", HomeHeading: "Link your bank account",
	HomeIntro:         "Sign in to your bank inside the Flinks window below. When you finish, we read your accounts through Flinks and show a summary here. Your bank password goes to Flinks only; this app never sees it.",
	HomeStep1:         "Choose your bank and sign in.",
	HomeStep2:         "Flinks collects your account data; this can take from a few seconds to a few minutes.",
	HomeStep3:         "Your account summary appears on the next page, on its own.",
	ConnectFrameTitle: "Flinks Connect: sign in to your bank", ConnectTrouble: "Trouble with the window above?", ReloadPage: "Reload the page",
	ConnectErrorTitle: "Flinks Connect could not be opened.",
	ConnectSteps: map[string]string{
		"COMPONENT_LOAD_CONSENT":              "Review what you agree to share.",
		"COMPONENT_LOAD_INSTITUTION_SELECTOR": "Choose your bank.",
		"COMPONENT_LOAD_CREDENTIAL":           "Sign in with your online banking username and password.",
		"COMPONENT_LOAD_CREDENTIAL_RETRY":     "Your bank did not accept the sign-in. Check it and try again.",
		"SUBMIT_CREDENTIAL":                   "Checking your sign-in with your bank…",
		"COMPONENT_LOAD_MFA":                  "Your bank asks a security question.",
		"COMPONENT_LOAD_MFA_RETRY":            "Your bank did not accept the answer. Try again.",
		"SUBMIT_MFA":                          "Checking your answer with your bank…",
		"COMPONENT_LOAD_ACCOUNT_SELECTION":    "Choose the accounts to share.",
		"REDIRECT":                            "Connected. Opening your summary…",
	},
	ConnectStates: map[string]ConnectStateText{
		"denied":   {"You chose not to share your data", "Nothing was shared with this app, and nothing was linked.", "Start again"},
		"closed":   {"You closed the Flinks window", "Nothing was linked.", "Open Flinks Connect again"},
		"maxretry": {"Too many sign-in attempts", "Your bank refused the sign-in several times, so Flinks stopped to protect your account. Check your username and password on your bank's website, then start again.", "Start again"},
		"expired":  {"The Flinks window expired", "It was open too long without being used. A new one opens in a moment; if it does not, open it again.", "Open Flinks Connect again"},
	},
	ConnectErrorToken: "We could not get a one-time authorization from Flinks. This is usually temporary.",
	ConnectErrorRetry: "to try again.",
	SandboxUsers:      "Sandbox users", SandboxIntro1: "This is a demo: Flinks is simulated by the app's built-in sandbox. In Connect choose",
	SandboxIntro2: "Flinks Capital", SandboxIntro3: "and sign in as one of these users.",
	SandboxMFA: func(a string) string { return "Security question: answer " + a + " (whichever fits the question)." },

	Elapsed: "Elapsed", FlinksPending: `Flinks "still processing" answers`, NextCheck: "Next check with Flinks", StartedAt: "Started",
	Progress: "Progress", StepDone: "Done: ", StepCurrent: "In progress: ", StepFailed: "Failed: ", StepTodo: "Not started: ",
	Steps: [5]string{
		"Connected to your bank through Flinks Connect",
		"Session opened with Flinks",
		"Account data requested",
		"Flinks collects your data from your bank",
		"Summary ready",
	},
	StateHeadline: map[string]string{
		"received":    "Connection received",
		"authorizing": "Opening a session with Flinks",
		"fetching":    "Requesting your account data",
		"pending":     "Flinks is still collecting your data",
		"retrying":    "Flinks did not answer; trying again",
		"ready":       "Your account summary is ready",
		"failed":      "We could not get your account data",
		"timed_out":   "Flinks took too long",
	},
	StateDetail: map[string]string{
		"received":    "Your bank is connected. We are about to ask Flinks for your account data.",
		"authorizing": "We are asking Flinks for access to the data it collected from your bank.",
		"fetching":    "Flinks is preparing your accounts, balances and recent transactions.",
		"pending":     "Right after you connect, Flinks reads your accounts from your bank in the background. We check with Flinks every few seconds; this page updates on its own.",
		"retrying":    "A temporary problem between us and Flinks. We will retry shortly.",
	},
	RetryingAfter:    func(code string) string { return "Flinks answered " + code + "; trying again" },
	RetryingOurs:     func(title string) string { return title + "; trying again" },
	RetryingOnOurOwn: "We try again on our own, at the pace Flinks asks for; there is nothing you need to do.",
	StateBadge:       map[string]string{"ready": "Ready", "failed": "Failed", "timed_out": "Timed out", "": "Pending"},
	WhatYouCanDo:     "What you can do:", FlinksCode: "Flinks code:", AboutCode: "About this code", FlinksSaid: "Flinks said:",
	OurCode:  "This app's code:",
	TryAgain: "Try again", LinkAnother: "Link another account",
	ContinueInConnect:  "Continue in Flinks Connect",
	Reconnecting:       "Your bank asks a security question before Flinks can refresh your data. Answer it below; your summary updates once it is done.",
	ShowingEarlierData: func(when string) string { return "Showing the data received " + when + "." },

	Institution: "Institution", AccountHolder: "Account holder", LastRefreshed: "Last refreshed by Flinks",
	NoAccounts: "Flinks returned no accounts for this connection.",
	Totals:     "Totals", Currency: "Currency", Accounts: "Accounts", InDeposit: "In deposit accounts", OwedOnCredit: "Owed on credit",
	CurrentBalance: "Current balance", Available: "Available", Limit: "Limit",
	NoTransactions: "No transactions in the period Flinks returned.", RecentTx: "Most recent transactions",
	Date: "Date", Description: "Description", Debit: "Debit", Credit: "Credit", Balance: "Balance",
	OlderNotShown:       func(n int) string { return fmt.Sprintf("%d older transactions not shown.", n) },
	ShowAllTransactions: "Show all transactions",
	NewerTransactions:   "Newer", OlderTransactions: "Older", RecentOnly: "Only the most recent",
	TransactionsRange: func(from, to, total int) string {
		return fmt.Sprintf("Transactions %d–%d of %d", from, to, total)
	},
	StaleTitle: "This is your bank's last saved data",
	StaleBody: func(when string) string {
		return "Your bank now asks a security question Flinks has no answer for, so Flinks could not refresh your accounts. What you see is as of " + when + "."
	},
	Reconnect: "Link the account again to refresh it",
	AccountsRange: func(from, to, total int) string {
		return fmt.Sprintf("Accounts %d–%d of %d", from, to, total)
	},
	PrevAccounts: "Previous accounts", NextAccounts: "Next accounts",
	UnreadableRows: func(n int) string {
		if n == 1 {
			return "1 transaction sent by Flinks could not be read and is not shown."
		}
		return fmt.Sprintf("%d transactions sent by Flinks could not be read and are not shown.", n)
	},

	LinksTitle: "Your links", LinksEmpty: "You have not linked an account in this browser yet.",
	Status: "Status", Created: "Created", Updated: "Updated",

	ErrorTitle: "Error", BackToStart: "Back to the start",
	BreakoutTitle: "Connected", BreakoutText: "Your bank is connected.", BreakoutContinue: "Continue to your account summary",

	Errors: map[string]ErrorText{
		"missingLoginID":  {"Invalid link from Flinks", "The address is missing the loginId that Flinks Connect adds when a connection succeeds.", []string{"Start again from the home page and finish signing in to your bank in the Flinks window."}},
		"badLoginID":      {"Invalid link from Flinks", "The loginId in the address is not a valid Flinks identifier.", nil},
		"duplicateParam":  {"Invalid link from Flinks", "The address has more than one %s parameter.", nil},
		"missingInst":     {"Invalid link from Flinks", "The address is missing the institution parameter.", nil},
		"badInst":         {"Invalid link from Flinks", "The institution parameter is not a valid Flinks institution code.", nil},
		"badAccountID":    {"Invalid link from Flinks", "An accountId in the address is not a valid Flinks identifier.", nil},
		"tooManyAccounts": {"Invalid link from Flinks", "The address lists too many accounts.", nil},
		"badTag": {"This connection was not started here", "The address does not carry the code we gave the Flinks window opened in this browser, so we did not accept it.", []string{
			"Start from the home page in the same browser, and keep cookies enabled for this site.",
			"If you opened the link in another browser or a private window, go back to the original one.",
		}},
		"csrf":         {"Request refused", "This form was not sent from this app's own page, so it was refused. Reload the page and try again.", nil},
		"tooMany":      {"Too many requests", "You did this too often in a short time. Please wait a minute and try again.", nil},
		"badLanguage":  {"Unknown language", "Only English and French are available.", nil},
		"linkNotFound": {"Link not found", "There is no link at this address for this browser. Links are only visible in the browser that created them.", nil},
		"linkDeleted":  {"This link was deleted", "You deleted this link from this browser: Flinks and this app no longer keep its connection or its data.", nil},
		"pageNotFound": {"Page not found", "There is nothing at this address.", nil},
		"busy":         {"Already running", "A fetch for this link is already running; its progress is shown on the link's page.", nil},
		"method":       {"Method not allowed", "This address does not accept that kind of request.", nil},
		"tooLarge":     {"Request too large", "The request was too large.", nil},
		"badRequest":   {"Bad request", "The request could not be understood.", nil},
		"internal":     {"Something went wrong", "The app could not complete this request. Nothing was lost; please try again in a moment.", nil},
		"unavailable":  {"Temporarily unavailable", "The app's database is not answering. Please try again in a moment.", nil},
	},
}

var french = Messages{
	Lang: French, OtherLang: English, OtherLangName: "English", SwitchLanguage: "Show in English",

	AppName: "Flinks Link", SkipToContent: "Aller au contenu", NavLinkAccount: "Lier un compte", NavLinks: "Vos comptes liés",
	MainNav: "Principal", Footer: "Les données des comptes sont lues par Flinks en mode cache. Rien ici ne déplace d'argent.",

	HomeTitle: "Lier un compte", HomeHeading: "Liez votre compte bancaire",
	HomeIntro:         "Connectez-vous à votre banque dans la fenêtre Flinks ci-dessous. Ensuite, nous lisons vos comptes par Flinks et en affichons un résumé ici. Votre mot de passe bancaire va à Flinks seulement; cette application ne le voit jamais.",
	HomeStep1:         "Choisissez votre banque et connectez-vous.",
	HomeStep2:         "Flinks recueille les données de vos comptes; cela peut prendre de quelques secondes à quelques minutes.",
	HomeStep3:         "Le résumé de vos comptes s'affiche ensuite de lui-même.",
	ConnectFrameTitle: "Flinks Connect : connexion à votre banque", ConnectTrouble: "Un problème avec la fenêtre ci-dessus?", ReloadPage: "Rechargez la page",
	ConnectErrorTitle: "Impossible d'ouvrir Flinks Connect.",
	ConnectSteps: map[string]string{
		"COMPONENT_LOAD_CONSENT":              "Vérifiez ce que vous acceptez de partager.",
		"COMPONENT_LOAD_INSTITUTION_SELECTOR": "Choisissez votre banque.",
		"COMPONENT_LOAD_CREDENTIAL":           "Connectez-vous avec le nom d'utilisateur et le mot de passe de vos services bancaires en ligne.",
		"COMPONENT_LOAD_CREDENTIAL_RETRY":     "Votre banque n'a pas accepté la connexion. Vérifiez-la et réessayez.",
		"SUBMIT_CREDENTIAL":                   "Vérification de votre connexion auprès de votre banque…",
		"COMPONENT_LOAD_MFA":                  "Votre banque pose une question de sécurité.",
		"COMPONENT_LOAD_MFA_RETRY":            "Votre banque n'a pas accepté la réponse. Réessayez.",
		"SUBMIT_MFA":                          "Vérification de votre réponse auprès de votre banque…",
		"COMPONENT_LOAD_ACCOUNT_SELECTION":    "Choisissez les comptes à partager.",
		"REDIRECT":                            "Connexion réussie. Ouverture de votre résumé…",
	},
	ConnectStates: map[string]ConnectStateText{
		"denied":   {"Vous avez choisi de ne pas partager vos données", "Rien n'a été partagé avec cette application, et aucun compte n'a été lié.", "Recommencer"},
		"closed":   {"Vous avez fermé la fenêtre Flinks", "Aucun compte n'a été lié.", "Rouvrir Flinks Connect"},
		"maxretry": {"Trop de tentatives de connexion", "Votre banque a refusé la connexion plusieurs fois; Flinks s'est donc arrêté pour protéger votre compte. Vérifiez votre nom d'utilisateur et votre mot de passe sur le site de votre banque, puis recommencez.", "Recommencer"},
		"expired":  {"La fenêtre Flinks a expiré", "Elle est restée ouverte trop longtemps sans être utilisée. Une nouvelle s'ouvre dans un instant; sinon, rouvrez-la.", "Rouvrir Flinks Connect"},
	},
	ConnectErrorToken: "Nous n'avons pas pu obtenir d'autorisation à usage unique de Flinks. C'est généralement temporaire.",
	ConnectErrorRetry: "pour réessayer.",
	SandboxUsers:      "Utilisateurs du bac à sable", SandboxIntro1: "Ceci est une démo : Flinks est simulé par le bac à sable intégré. Dans Connect, choisissez",
	SandboxIntro2: "Flinks Capital", SandboxIntro3: "et connectez-vous avec l'un de ces utilisateurs.",
	SandboxMFA: func(a string) string { return "Question de sécurité : répondez " + a + " (selon la question)." },

	Elapsed: "Écoulé", FlinksPending: "Réponses « toujours en traitement » de Flinks", NextCheck: "Prochaine vérification auprès de Flinks", StartedAt: "Commencé",
	Progress: "Progression", StepDone: "Terminé : ", StepCurrent: "En cours : ", StepFailed: "Échec : ", StepTodo: "À venir : ",
	Steps: [5]string{
		"Banque connectée par Flinks Connect",
		"Session ouverte avec Flinks",
		"Données des comptes demandées",
		"Flinks recueille vos données auprès de votre banque",
		"Résumé prêt",
	},
	StateHeadline: map[string]string{
		"received":    "Connexion reçue",
		"authorizing": "Ouverture d'une session avec Flinks",
		"fetching":    "Demande des données de vos comptes",
		"pending":     "Flinks recueille encore vos données",
		"retrying":    "Flinks n'a pas répondu; nouvel essai",
		"ready":       "Le résumé de vos comptes est prêt",
		"failed":      "Nous n'avons pas pu obtenir les données de vos comptes",
		"timed_out":   "Flinks a mis trop de temps",
	},
	StateDetail: map[string]string{
		"received":    "Votre banque est connectée. Nous allons demander vos données à Flinks.",
		"authorizing": "Nous demandons à Flinks l'accès aux données recueillies auprès de votre banque.",
		"fetching":    "Flinks prépare vos comptes, soldes et transactions récentes.",
		"pending":     "Juste après la connexion, Flinks lit vos comptes auprès de votre banque en arrière-plan. Nous vérifions auprès de Flinks toutes les quelques secondes; cette page se met à jour d'elle-même.",
		"retrying":    "Un problème temporaire entre nous et Flinks. Nous réessaierons sous peu.",
	},
	RetryingAfter:    func(code string) string { return "Flinks a répondu " + code + "; nouvel essai" },
	RetryingOurs:     func(title string) string { return title + "; nouvel essai" },
	RetryingOnOurOwn: "Nous réessayons de nous-mêmes, au rythme que Flinks demande; vous n'avez rien à faire.",
	StateBadge:       map[string]string{"ready": "Prêt", "failed": "Échec", "timed_out": "Délai dépassé", "": "En cours"},
	WhatYouCanDo:     "Ce que vous pouvez faire :", FlinksCode: "Code Flinks :", AboutCode: "À propos de ce code", FlinksSaid: "Message de Flinks :",
	OurCode:  "Code de cette application :",
	TryAgain: "Réessayer", LinkAnother: "Lier un autre compte",
	ContinueInConnect:  "Continuer dans Flinks Connect",
	Reconnecting:       "Votre banque pose une question de sécurité avant que Flinks puisse actualiser vos données. Répondez-y ci-dessous; votre résumé se met à jour ensuite.",
	ShowingEarlierData: func(when string) string { return "Données reçues le " + when + "." },

	Institution: "Institution", AccountHolder: "Titulaire", LastRefreshed: "Dernière mise à jour par Flinks",
	NoAccounts: "Flinks n'a renvoyé aucun compte pour cette connexion.",
	Totals:     "Totaux", Currency: "Devise", Accounts: "Comptes", InDeposit: "Dans les comptes de dépôt", OwedOnCredit: "Montant dû sur les crédits",
	CurrentBalance: "Solde actuel", Available: "Disponible", Limit: "Limite",
	NoTransactions: "Aucune transaction dans la période renvoyée par Flinks.", RecentTx: "Transactions les plus récentes",
	Date: "Date", Description: "Description", Debit: "Débit", Credit: "Crédit", Balance: "Solde",
	OlderNotShown:       func(n int) string { return fmt.Sprintf("%d transactions plus anciennes non affichées.", n) },
	ShowAllTransactions: "Afficher toutes les transactions",
	NewerTransactions:   "Plus récentes", OlderTransactions: "Plus anciennes", RecentOnly: "Seulement les plus récentes",
	TransactionsRange: func(from, to, total int) string {
		return fmt.Sprintf("Transactions %d à %d sur %d", from, to, total)
	},
	StaleTitle: "Voici les dernières données enregistrées de votre banque",
	StaleBody: func(when string) string {
		return "Votre banque pose maintenant une question de sécurité à laquelle Flinks n'a pas de réponse; Flinks n'a donc pas pu actualiser vos comptes. Les données affichées datent du " + when + "."
	},
	Reconnect: "Lier le compte de nouveau pour l'actualiser",
	AccountsRange: func(from, to, total int) string {
		return fmt.Sprintf("Comptes %d à %d sur %d", from, to, total)
	},
	PrevAccounts: "Comptes précédents", NextAccounts: "Comptes suivants",
	UnreadableRows: func(n int) string {
		if n == 1 {
			return "1 transaction envoyée par Flinks était illisible et n'est pas affichée."
		}
		return fmt.Sprintf("%d transactions envoyées par Flinks étaient illisibles et ne sont pas affichées.", n)
	},

	LinksTitle: "Vos comptes liés", LinksEmpty: "Vous n'avez encore lié aucun compte dans ce navigateur.",
	Status: "État", Created: "Créée", Updated: "Mise à jour",

	ErrorTitle: "Erreur", BackToStart: "Retour au début",
	BreakoutTitle: "Connecté", BreakoutText: "Votre banque est connectée.", BreakoutContinue: "Continuer vers le résumé de vos comptes",
	Errors: map[string]ErrorText{
		"missingLoginID":  {"Lien invalide de Flinks", "L'adresse ne contient pas le loginId que Flinks Connect ajoute quand la connexion réussit.", []string{"Recommencez depuis la page d'accueil et terminez la connexion à votre banque dans la fenêtre Flinks."}},
		"badLoginID":      {"Lien invalide de Flinks", "Le loginId de l'adresse n'est pas un identifiant Flinks valide.", nil},
		"duplicateParam":  {"Lien invalide de Flinks", "L'adresse contient plus d'un paramètre %s.", nil},
		"missingInst":     {"Lien invalide de Flinks", "L'adresse ne contient pas le paramètre institution.", nil},
		"badInst":         {"Lien invalide de Flinks", "Le paramètre institution n'est pas un code d'institution Flinks valide.", nil},
		"badAccountID":    {"Lien invalide de Flinks", "Un accountId de l'adresse n'est pas un identifiant Flinks valide.", nil},
		"tooManyAccounts": {"Lien invalide de Flinks", "L'adresse énumère trop de comptes.", nil},
		"badTag": {"Cette connexion n'a pas été commencée ici", "L'adresse ne porte pas le code que nous avons donné à la fenêtre Flinks ouverte dans ce navigateur; nous ne l'avons donc pas acceptée.", []string{
			"Recommencez depuis la page d'accueil dans le même navigateur, en gardant les témoins (cookies) activés pour ce site.",
			"Si vous avez ouvert le lien dans un autre navigateur ou une fenêtre privée, revenez à l'original.",
		}},
		"csrf":         {"Requête refusée", "Ce formulaire n'a pas été envoyé depuis une page de l'application; il a donc été refusé. Rechargez la page et réessayez.", nil},
		"tooMany":      {"Trop de requêtes", "Vous avez fait cela trop souvent en peu de temps. Attendez une minute, puis réessayez.", nil},
		"badLanguage":  {"Langue inconnue", "Seuls l'anglais et le français sont offerts.", nil},
		"linkNotFound": {"Liaison introuvable", "Aucune liaison à cette adresse pour ce navigateur. Les liaisons ne sont visibles que dans le navigateur qui les a créées.", nil},
		"linkDeleted":  {"Cette liaison a été supprimée", "Vous avez supprimé cette liaison depuis ce navigateur : Flinks et cette application n'en gardent plus la connexion ni les données.", nil},
		"pageNotFound": {"Page introuvable", "Il n'y a rien à cette adresse.", nil},
		"busy":         {"Déjà en cours", "Une récupération est déjà en cours pour cette liaison; sa progression s'affiche sur la page de la liaison.", nil},
		"method":       {"Méthode non permise", "Cette adresse n'accepte pas ce type de requête.", nil},
		"tooLarge":     {"Requête trop grande", "La requête était trop grande.", nil},
		"badRequest":   {"Requête invalide", "La requête n'a pas pu être comprise.", nil},
		"internal":     {"Un problème est survenu", "L'application n'a pas pu traiter cette requête. Rien n'a été perdu; réessayez dans un moment.", nil},
		"unavailable":  {"Temporairement indisponible", "La base de données de l'application ne répond pas. Réessayez dans un moment.", nil},
	},
}

// ErrorTextFor returns the text of the error page under key, from the app's
// catalogue or a feature's (LinksMessages.Errors), in lang.
func ErrorTextFor(lang, key string) ErrorText {
	if text, ok := For(lang).Errors[key]; ok {
		return text
	}
	return ForLinks(lang).Errors[key]
}

// For returns the messages of lang, English when lang is not French.
func For(lang string) *Messages {
	if lang == French {
		return &french
	}
	return &english
}

type langKey struct{}

// WithLang returns a context whose components render in lang.
func WithLang(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, langKey{}, lang)
}

// t returns the messages for the language in ctx.
func t(ctx context.Context) *Messages {
	lang, _ := ctx.Value(langKey{}).(string)
	return For(lang)
}
