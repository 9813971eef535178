package views

import (
	"context"
	"strconv"
	"strings"
)

// LinksMessages is the copy of the links list, the per-link actions (Refresh
// data, Delete, Start over), the "longer than usual" note and the sandbox
// scenario card, in one language. It lives apart from Messages so that those
// features can grow without touching the main catalogue; like Messages it is a
// struct, so a missing text is a compile error (and an empty one a test failure:
// see TestLinksMessagesComplete).
type LinksMessages struct {
	// Links list.
	LinksIntro, LinksCaption, Actions, Open  string
	RefreshData, RefreshHint, RefreshRunning string
	RefreshBank, RefreshBankHint             string
	Delete, DeleteRunningHint                string
	// Stop ends a running fetch; StopHint says what it does.
	Stop, StopHint                            string
	StartOver, StartOverHint, LinkAnotherLink string
	// The Start over confirmation page.
	StartOverTitle, StartOverHeading, StartOverWhat string
	StartOverDelete, StartOverDeleteHint            string
	StartOverKeep, StartOverKeepHint                string
	// RowAccounts and RowDeposits describe a ready link in the list: "3
	// accounts", "$4,120.50 in deposit accounts", so rows can be told apart.
	RowAccounts func(n int) string
	RowDeposits func(amount string) string
	// Notices shown on the list after an action, by the ?done= value.
	Notices map[string]string

	// Delete confirmation page.
	DeleteTitle, DeleteHeading, DeleteWhat, DeleteShared string
	DeleteIrreversible, DeleteConfirm, Cancel            string
	DeleteBlocked                                        string
	LinkFacts                                            string

	// Longer than usual.
	SlowTitle, SlowText string

	// Sandbox scenario card.
	Username, Password, CommonPassword, MFAAnswers, MFAAnswersHint string
	Copy, Copied, CopyFailed                                       string
	CopyLabel                                                      func(what, value string) string
	PendingTitle, PendingIntro, PendingLabel, PendingApply         string
	// PendingCurrent says both choices in effect: the pending duration's
	// label and the time limit's.
	PendingCurrent func(pending, limit string) string
	// The time-limit control: its label, a hint, the default's label (with
	// the server's limit) and the other choices' labels.
	LimitLabel, LimitHint string
	LimitDefault          func(serverLimit string) string
	LimitOptions          map[string]string
	PendingSaved          string
	// PendingOptions labels each choice of the pending-duration control by its
	// form value (see handlers' pendingChoices).
	PendingOptions map[string]string
	// ScenarioSummaries translates the sandbox's own (English) scenario
	// summaries, by lower-case username; nil means the sandbox's text is used.
	ScenarioSummaries map[string]string

	// Errors are this feature's error pages, by key; "%s" in a Message is
	// replaced by the error's argument (a FlinksCode, never raw input).
	Errors map[string]ErrorText
}

var englishLinks = LinksMessages{
	LinksIntro:   "The bank connections made in this browser, newest first. Open one to see its status and account summary.",
	LinksCaption: "Links made in this browser",
	Actions:      "Actions", Open: "Open",
	RefreshData: "Re-read saved data", RefreshHint: "Reads again the data Flinks last collected from your bank. It does not contact your bank.",
	RefreshBank: "Refresh from the bank", RefreshBankHint: "Asks Flinks to sign in to your bank now and collect fresh data. Your bank may ask a security question.",
	RefreshRunning: "A fetch is running; wait until it ends",
	Delete:         "Delete", DeleteRunningHint: "A fetch is running: it can be deleted once it ends",
	Stop: "Stop", StopHint: "Stops fetching: no more calls to Flinks for this link. You can then delete it or try again.",
	StartOver:           "Start over",
	StartOverHint:       "Begin a new session in this browser: the links above will no longer be shown here (they are not deleted, at Flinks or here).",
	StartOverTitle:      "Start over",
	StartOverHeading:    "Start over in this browser?",
	StartOverWhat:       "You begin a new session here: the links below will no longer be shown in this browser, and no page of this app will reach them again.",
	StartOverDelete:     "Delete these links, then start over",
	StartOverDeleteHint: "Stops their fetches and asks Flinks to delete each connection and its data (DeleteCard), then removes them here. If Flinks refuses one, nothing is started over.",
	StartOverKeep:       "Start over and keep them",
	StartOverKeepHint:   "The connections stay at Flinks; only this browser forgets them.",
	LinkAnotherLink:     "Link another account",
	RowAccounts: func(n int) string {
		if n == 1 {
			return "1 account"
		}
		return strconv.Itoa(n) + " accounts"
	},
	RowDeposits: func(amount string) string { return amount + " in deposit accounts" },
	Notices: map[string]string{
		"deleted":       "The link was deleted: Flinks removed the connection and its data, and so did this app.",
		"deleted_local": "Flinks no longer knew this connection (it had already been deleted there), so it was removed here too.",
	},

	DeleteTitle: "Delete a link", DeleteHeading: "Delete this link?",
	DeleteWhat:         "Deleting asks Flinks to delete this bank connection (DeleteCard): Flinks permanently removes the connection and all the data it holds for it. Then this app removes its own copy: the account summary, the status history and the log of Flinks calls.",
	DeleteShared:       "If the same bank connection was also linked from another browser or session, it stops working there too: Flinks deletes the connection itself, not only this link.",
	DeleteIrreversible: "This cannot be undone. To see these accounts again, link them again from the start.",
	DeleteConfirm:      "Delete at Flinks and here", Cancel: "Cancel",
	DeleteBlocked: "A fetch is running for this link. Flinks does not allow deleting a connection while it is working on it; wait until the fetch ends, then delete.",
	LinkFacts:     "Link",

	SlowTitle: "This is taking longer than usual",
	SlowText:  "Flinks is still collecting your data from your bank. Accounts with many transactions, or a bank that answers slowly, take longer. We keep checking: this page updates on its own, and you can come back to it later from Your links.",

	Username: "Username", Password: "Password", CommonPassword: "Password (every user)",
	MFAAnswers: "Security question answers", MFAAnswersHint: "answer whichever fits the question asked",
	Copy: "Copy", Copied: "Copied", CopyFailed: "Could not copy: select the text and copy it",
	CopyLabel:    func(what, value string) string { return "Copy " + strings.ToLower(what) + " " + value },
	PendingTitle: "QA controls",
	PendingIntro: "For the connections made from this browser from now on; other browsers keep their own. Times are exact, not multiplied by SANDBOX_TIME_SCALE.",
	PendingLabel: "Flinks keeps new connections pending (202) for", PendingApply: "Apply",
	PendingCurrent: func(pending, limit string) string {
		return "In effect for this browser: pending " + pending + "; time limit " + limit + "."
	},
	PendingSaved: "Saved.",
	PendingOptions: map[string]string{
		"default": "each user's own time (default)",
		"0s":      "0 s: every user's data is ready at once",
		"5s":      "5 s, for every user (test_never too)",
		"30s":     "30 s, for every user (test_never too)",
		"2m":      "2 min, for every user (test_never too)",
		"never":   "never: every user stays pending until the time limit",
	},
	LimitLabel:        "Then this app gives up (TIMED_OUT) after",
	LimitHint:         "Counted from Flinks' first 202. To see TIMED_OUT in half a minute: 30 s here, then sign in as test_never.",
	LimitDefault:      func(server string) string { return server + ", as configured (FLINKS_POLL_TIMEOUT)" },
	LimitOptions:      map[string]string{"30s": "30 s (QA)"},
	ScenarioSummaries: nil,

	Errors: map[string]ErrorText{
		"startOverKept":  {"Nothing was started over", "%s of your links could not be deleted (Flinks did not confirm), so this browser keeps its session and every link: none is left where no page can reach it.", []string{"Open the links list to see them, then try again, or start over and keep them."}},
		"deleteRunning":  {"Cannot delete yet", "A fetch is running for this link. Flinks does not allow deleting a connection while it is working on it, so nothing was deleted.", []string{"Wait until the fetch ends (the link's page updates on its own), then delete it."}},
		"deleteInUse":    {"Flinks is still busy with this connection", "Flinks answered that it is still processing this bank connection (CARD_IN_USE), so it could not delete it. Nothing was deleted here: your link and its data are kept.", []string{"Wait a minute, then try deleting again."}},
		"deleteFailed":   {"Flinks did not delete the connection", "Flinks did not confirm the deletion (%s). So that nothing stays at Flinks without you knowing, nothing was deleted here: your link and its data are kept.", []string{"Try again in a few minutes; if it keeps failing, tell the app's operators."}},
		"deleteNoFlinks": {"Deleting is not available", "This app is not set up to delete connections at Flinks, so nothing was deleted.", []string{"Tell the app's operators."}},
		"badPending":     {"Unknown pending duration", "Choose one of the durations offered in the list.", nil},
	},
}

var frenchLinks = LinksMessages{
	LinksIntro:   "Les connexions bancaires faites dans ce navigateur, les plus récentes d'abord. Ouvrez-en une pour voir son état et le résumé des comptes.",
	LinksCaption: "Liaisons faites dans ce navigateur",
	Actions:      "Actions", Open: "Ouvrir",
	RefreshData: "Relire les données enregistrées", RefreshHint: "Relit les données que Flinks a recueillies en dernier auprès de votre banque, sans contacter votre banque.",
	RefreshBank: "Actualiser auprès de la banque", RefreshBankHint: "Demande à Flinks de se connecter à votre banque maintenant et de recueillir des données à jour. Votre banque peut poser une question de sécurité.",
	RefreshRunning: "Une récupération est en cours; attendez qu'elle se termine",
	Delete:         "Supprimer", DeleteRunningHint: "Une récupération est en cours : la suppression sera possible quand elle sera terminée",
	Stop: "Arrêter", StopHint: "Arrête la récupération : plus aucun appel à Flinks pour cette liaison. Vous pourrez ensuite la supprimer ou réessayer.",
	StartOver:           "Recommencer",
	StartOverHint:       "Commencer une nouvelle session dans ce navigateur : les liaisons ci-dessus n'y seront plus affichées (elles ne sont pas supprimées, ni chez Flinks ni ici).",
	StartOverTitle:      "Recommencer",
	StartOverHeading:    "Recommencer dans ce navigateur?",
	StartOverWhat:       "Vous commencez une nouvelle session ici : les liaisons ci-dessous ne seront plus affichées dans ce navigateur, et aucune page de cette application ne les retrouvera.",
	StartOverDelete:     "Supprimer ces liaisons, puis recommencer",
	StartOverDeleteHint: "Arrête leurs récupérations et demande à Flinks de supprimer chaque connexion et ses données (DeleteCard), puis les retire ici. Si Flinks en refuse une, rien n'est recommencé.",
	StartOverKeep:       "Recommencer en les gardant",
	StartOverKeepHint:   "Les connexions restent chez Flinks; seul ce navigateur les oublie.",
	LinkAnotherLink:     "Lier un autre compte",
	RowAccounts: func(n int) string {
		if n <= 1 {
			return strconv.Itoa(n) + " compte"
		}
		return strconv.Itoa(n) + " comptes"
	},
	RowDeposits: func(amount string) string { return amount + " en comptes de dépôt" },
	Notices: map[string]string{
		"deleted":       "La liaison a été supprimée : Flinks a supprimé la connexion et ses données, et cette application aussi.",
		"deleted_local": "Flinks ne connaissait plus cette connexion (elle y avait déjà été supprimée); elle a donc aussi été supprimée ici.",
	},

	DeleteTitle: "Supprimer une liaison", DeleteHeading: "Supprimer cette liaison?",
	DeleteWhat:         "La suppression demande à Flinks de supprimer cette connexion bancaire (DeleteCard) : Flinks efface définitivement la connexion et toutes les données qu'il conserve pour elle. Ensuite, cette application efface sa propre copie : le résumé des comptes, l'historique des états et le journal des appels à Flinks.",
	DeleteShared:       "Si la même connexion bancaire a aussi été liée depuis un autre navigateur ou une autre session, elle cessera aussi d'y fonctionner : Flinks supprime la connexion elle-même, pas seulement cette liaison.",
	DeleteIrreversible: "Cette action est irréversible. Pour revoir ces comptes, il faudra les lier de nouveau depuis le début.",
	DeleteConfirm:      "Supprimer chez Flinks et ici", Cancel: "Annuler",
	DeleteBlocked: "Une récupération est en cours pour cette liaison. Flinks ne permet pas de supprimer une connexion pendant qu'il la traite; attendez la fin de la récupération, puis supprimez.",
	LinkFacts:     "Liaison",

	SlowTitle: "Cela prend plus de temps que d'habitude",
	SlowText:  "Flinks recueille encore vos données auprès de votre banque. Les comptes qui ont beaucoup de transactions, ou une banque qui répond lentement, demandent plus de temps. Nous continuons de vérifier : cette page se met à jour d'elle-même, et vous pouvez y revenir plus tard depuis Vos comptes liés.",

	Username: "Nom d'utilisateur", Password: "Mot de passe", CommonPassword: "Mot de passe (tous les utilisateurs)",
	MFAAnswers: "Réponses aux questions de sécurité", MFAAnswersHint: "répondez celle qui correspond à la question posée",
	Copy: "Copier", Copied: "Copié", CopyFailed: "Impossible de copier : sélectionnez le texte et copiez-le",
	CopyLabel:    func(what, value string) string { return "Copier " + strings.ToLower(what) + " " + value },
	PendingTitle: "Réglages d'essai",
	PendingIntro: "Pour les connexions faites depuis ce navigateur à partir de maintenant; les autres navigateurs gardent les leurs. Les durées sont exactes, non multipliées par SANDBOX_TIME_SCALE.",
	PendingLabel: "Flinks garde les nouvelles connexions en attente (202) pendant", PendingApply: "Appliquer",
	PendingCurrent: func(pending, limit string) string {
		return "En vigueur pour ce navigateur : attente " + pending + "; délai " + limit + "."
	},
	PendingSaved: "Enregistré.",
	PendingOptions: map[string]string{
		"default": "la durée propre à chaque utilisateur (par défaut)",
		"0s":      "0 s : données prêtes tout de suite, pour tous",
		"5s":      "5 s, pour tous (test_never aussi)",
		"30s":     "30 s, pour tous (test_never aussi)",
		"2m":      "2 min, pour tous (test_never aussi)",
		"never":   "jamais : tous restent en attente jusqu'au délai",
	},
	LimitLabel:   "Puis l'application abandonne (TIMED_OUT) après",
	LimitHint:    "Compté depuis le premier 202 de Flinks. Pour voir TIMED_OUT en une demi-minute : 30 s ici, puis connectez-vous comme test_never.",
	LimitDefault: func(server string) string { return server + ", comme configuré (FLINKS_POLL_TIMEOUT)" },
	LimitOptions: map[string]string{"30s": "30 s (essai)"},
	ScenarioSummaries: map[string]string{
		"greatday":                 "Question de sécurité d'abord (Montreal / Canada / Triangle), puis données en attente ~10 s (202 OPERATION_PENDING, puis 200)",
		"greatday_nomfa":           "Sans question de sécurité; données en attente ~10 s (202 OPERATION_PENDING, puis 200)",
		"test_ready":               "Sans question de sécurité; données prêtes tout de suite (200 dès le premier appel de données)",
		"test_slow":                "Données en attente ~60 s; 8 comptes et un an de transactions nombreuses (demandez Days365 pour les obtenir toutes)",
		"test_dispatched":          "Chaque appel de données répond 202 OPERATION_DISPATCHED; l'appel Async reste « dispatched » ~10 s, puis 200",
		"test_disabled_account":    "Authorize répond 401 DISABLED_LOGIN; Connect se termine quand même et émet un LoginId, dont l'Authorize en cache renvoie ensuite cette erreur",
		"test_service_unavailable": "Authorize répond 401 RETRY_LATER; Connect se termine quand même et émet un LoginId, dont l'Authorize en cache renvoie ensuite cette erreur",
		"test_never":               "La collecte ne se termine jamais : l'appel Async répond 202 OPERATION_PENDING indéfiniment, jusqu'à ce que le délai de l'application termine la récupération en TIMED_OUT (30 s avec le délai d'essai)",
		"test_flaky":               "Données en attente ~10 s; les 3 premiers appels Async de chaque RequestId échouent (500 AGGREGATION_ERROR, 503 HTML, 502 HTML), puis réponses normales",
		"test_expired":             "Données en attente ~60 s; le 4e appel Async du premier RequestId répond 400 SESSION_NONEXISTENT; un nouvel Authorize en cache fonctionne ensuite",
		"test_no_transactions":     "Comptes sans aucune transaction (Transactions: []); données en attente ~10 s",
		"test_refresh_mfa":         "Pas de MFA au départ; une actualisation auprès de la banque pose une question de sécurité (203) : continuez dans Connect (son requestId), répondez Montreal / Canada / Triangle, et les données sont actualisées (~10 s)",
		"test_question_not_found":  "L'Authorize en cache répond 401 QUESTION_NOT_FOUND (échec d'une actualisation nocturne rejoué), mais son RequestId lit encore les données en cache : un résumé daté qui invite à reconnecter",
		"test_authorize_pending":   "L'Authorize en cache répond lui-même 202 OPERATION_PENDING pendant la collecte (~10 s); l'app interroge ensuite l'Async de ce RequestId jusqu'au 200",
	},

	Errors: map[string]ErrorText{
		"startOverKept":  {"Rien n'a été recommencé", "%s de vos liaisons n'ont pas pu être supprimées (Flinks n'a pas confirmé) : ce navigateur garde donc sa session et toutes ses liaisons, pour qu'aucune ne reste hors d'atteinte.", []string{"Ouvrez la liste des liaisons pour les voir, puis réessayez, ou recommencez en les gardant."}},
		"deleteRunning":  {"Suppression impossible pour l'instant", "Une récupération est en cours pour cette liaison. Flinks ne permet pas de supprimer une connexion pendant qu'il la traite; rien n'a donc été supprimé.", []string{"Attendez la fin de la récupération (la page de la liaison se met à jour d'elle-même), puis supprimez-la."}},
		"deleteInUse":    {"Flinks travaille encore sur cette connexion", "Flinks a répondu qu'il traite encore cette connexion bancaire (CARD_IN_USE) et n'a donc pas pu la supprimer. Rien n'a été supprimé ici : votre liaison et ses données sont conservées.", []string{"Attendez une minute, puis réessayez de supprimer."}},
		"deleteFailed":   {"Flinks n'a pas supprimé la connexion", "Flinks n'a pas confirmé la suppression (%s). Pour que rien ne reste chez Flinks à votre insu, rien n'a été supprimé ici : votre liaison et ses données sont conservées.", []string{"Réessayez dans quelques minutes; si l'échec persiste, avisez les responsables de l'application."}},
		"deleteNoFlinks": {"Suppression non offerte", "Cette application n'est pas configurée pour supprimer des connexions chez Flinks; rien n'a donc été supprimé.", []string{"Avisez les responsables de l'application."}},
		"badPending":     {"Durée d'attente inconnue", "Choisissez l'une des durées proposées dans la liste.", nil},
	},
}

// ForLinks returns the links copy of lang, English when lang is not French.
func ForLinks(lang string) *LinksMessages {
	if lang == French {
		return &frenchLinks
	}
	return &englishLinks
}

// tl returns the links copy for the language in ctx.
func tl(ctx context.Context) *LinksMessages {
	lang, _ := ctx.Value(langKey{}).(string)
	return ForLinks(lang)
}

// ScenarioSummary is a sandbox scenario's summary in lang: the translation kept
// here when there is one, else the sandbox's own (English) text.
func ScenarioSummary(lang string, sc ScenarioView) string {
	text := sc.Summary
	if s := ForLinks(lang).ScenarioSummaries[strings.ToLower(sc.Username)]; s != "" {
		text = s
	}
	if sc.PendingRef != "" {
		shown := sc.PendingShown
		if lang == French {
			shown = strings.Replace(shown, ".", ",", 1)
		}
		text = strings.ReplaceAll(text, sc.PendingRef, shown)
	}
	return text
}
