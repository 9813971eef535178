package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"flinkslink/flinks"
	"flinkslink/views"
)

// codeText is the French wording of one catalogue entry; whether to retry and
// the documentation link come from the English entry, the one table of record.
type codeText struct{ Title, Message, Action string }

// codeCatalogueFR is codeCatalogue in French, key for key (TestCatalogueFrenchComplete).
var codeCatalogueFR = map[string]codeText{
	"OPERATION_PENDING":                  {"Traitement en cours, rien à suivre", "Flinks a dit recueillir encore les données de votre banque, sans donner de requête à suivre.", "Réessayez dans une minute."},
	"OPERATION_DISPATCHED":               {"Traitement en cours, rien à suivre", "Flinks a confié cette longue requête à une tâche en arrière-plan, sans donner de requête à suivre.", "Réessayez dans une minute."},
	"SESSION_NONEXISTENT":                {"Session Flinks expirée", "La session Flinks de cette requête a expiré avant que les données soient prêtes.", "Réessayez : une nouvelle session sera ouverte."},
	"SESSION_EXPIRED":                    {"Session Flinks expirée", "La session Flinks de cette requête a expiré.", "Réessayez : une nouvelle session sera ouverte."},
	"CARD_IN_USE":                        {"Votre connexion est occupée", "Flinks traite encore cette connexion bancaire.", "Attendez une minute, puis réessayez."},
	"CONCURRENT_SESSION":                 {"Une autre requête est en cours", "Flinks a déjà une session ouverte pour cette connexion bancaire.", "Attendez une minute, puis réessayez."},
	"ACCESS_DENIED":                      {"Flinks a refusé nos identifiants", "Flinks n'a pas accepté les clés de cette application et n'a pas pu ouvrir de session.", "C'est un problème de configuration de notre côté; prévenez les responsables de l'application."},
	"UNAUTHORIZED":                       {"Non autorisé", "Flinks ou votre banque n'a pas autorisé l'accès à cette connexion.", "Liez de nouveau le compte depuis le début; si cela se répète, prévenez les responsables de l'application."},
	"INVALID_LOGIN":                      {"Connexion non reconnue", "Flinks ne reconnaît plus cette connexion bancaire, ou les identifiants ont été refusés.", "Liez de nouveau le compte depuis le début."},
	"INVALID_REQUEST":                    {"Requête refusée par Flinks", "Flinks a rejeté la requête comme incomplète.", "C'est un problème de notre côté; prévenez les responsables de l'application."},
	"INVALID_USERNAME":                   {"Nom d'utilisateur refusé", "Votre banque n'a pas accepté le nom d'utilisateur.", "Liez de nouveau le compte en vérifiant le nom d'utilisateur."},
	"INVALID_PASSWORD":                   {"Mot de passe refusé", "Votre banque n'a pas accepté le mot de passe.", "Liez de nouveau le compte en vérifiant le mot de passe."},
	"INVALID_SECURITY_RESPONSE":          {"Réponse de sécurité refusée", "Votre banque n'a pas accepté la réponse à sa question de sécurité.", "Liez de nouveau le compte et répondez attentivement à la question."},
	"INVALID_SECURITY_RESPONSE_NO_RETRY": {"Réponse de sécurité refusée", "Votre banque n'a pas accepté la réponse et ne permet pas de nouvel essai pour l'instant.", "Attendez, puis liez de nouveau le compte."},
	"QUESTION_NOT_FOUND":                 {"Nouvelle question de sécurité", "Votre banque a posé une question de sécurité dont Flinks n'a pas la réponse.", "Liez de nouveau le compte pour y répondre."},
	"UNKNOWN_CHALLENGE_KEY":              {"Réponse de sécurité inattendue", "Une réponse a été envoyée pour une question que la banque n'a pas posée.", "Liez de nouveau le compte."},
	"SECURITYRESPONSES_INCOMPLETE":       {"Questions de sécurité sans réponse", "Toutes les questions de sécurité de votre banque n'ont pas reçu de réponse.", "Liez de nouveau le compte et répondez à chaque question."},
	"RETRY_LATER":                        {"Votre banque ne répond pas", "Flinks n'a pas pu ouvrir de connexion avec votre banque pour l'instant.", "Réessayez dans quelques minutes."},
	"TOO_MANY_REQUESTS":                  {"Trop de requêtes", "Flinks nous a demandé de ralentir.", "Réessayez dans quelques minutes."},
	"NEW_ACCOUNT":                        {"Action requise à votre banque", "Votre banque vous demande d'abord une action dans les services en ligne, comme accepter de nouvelles conditions.", "Connectez-vous au site de votre banque, faites ce qu'elle demande, puis liez de nouveau le compte."},
	"DISABLED_LOGIN":                     {"Vos services bancaires en ligne sont désactivés", "Votre banque a désactivé ou verrouillé cet accès en ligne.", "Communiquez avec votre banque pour le débloquer, puis liez de nouveau le compte."},
	"DISABLED_INSTITUTION":               {"Banque indisponible", "Flinks ne peut pas joindre cette banque pour le moment.", "Réessayez plus tard, ou liez un compte d'une autre banque."},
	"AGGREGATION_ERROR":                  {"Flinks a eu un problème", "Flinks a rencontré une erreur inattendue en recueillant vos données.", "Réessayez; si l'échec persiste, réessayez plus tard."},
	"ALREADY_AUTHORIZED":                 {"Déjà autorisé", "Flinks indique que cette session était déjà autorisée.", "Réessayez."},
	"NO_TRANSACTION":                     {"Aucune transaction", "Flinks n'a trouvé aucune transaction (ou trop peu) pour cette connexion.", "Liez un compte qui a une activité récente."},
	"METHOD_NOT_AVAILABLE":               {"Fonction non activée", "Cette fonction de Flinks n'est pas activée pour cette application.", "Prévenez les responsables de l'application."},
	flinks.CodeTimedOut:                  {"Flinks a mis trop de temps", "Flinks recueillait encore vos données quand notre délai a expiré. Les comptes qui ont beaucoup de transactions peuvent être longs.", "Réessayez : Flinks a peut-être terminé depuis."},
	flinks.CodeNetwork:                   {"Flinks injoignable", "Nous n'avons pas pu joindre Flinks, ou ses réponses se sont interrompues ou ne sont pas arrivées à temps, plusieurs fois de suite.", "Réessayez dans quelques minutes."},
	flinks.CodeForeignData:               {"Données d'une autre connexion", "Flinks a répondu avec les données d'une autre connexion bancaire : nous n'en avons rien gardé ni affiché.", "Réessayez; si cela se répète, prévenez les responsables de l'application."},
	flinks.CodeMalformed:                 {"Réponse illisible de Flinks", "Flinks a répondu avec des données illisibles, même après de nouveaux essais.", "Réessayez; si cela se répète, prévenez les responsables de l'application."},
	flinks.CodeMFARequired:               {"Votre banque pose une question de sécurité", "Votre banque veut une réponse à une question de sécurité avant que Flinks puisse relire vos comptes, et cela ne se fait que dans la fenêtre Flinks.", "Continuez dans Flinks Connect et répondez-y là."},
	flinks.CodeCancelled:                 {"Arrêtée", "Vous avez arrêté cette récupération : nous n'avons plus fait d'appel à Flinks pour elle, et n'en avons gardé aucune donnée.", "Réessayez pour récupérer les données, ou supprimez la liaison."},
	flinks.CodeUnexpected:                {"Un problème est survenu", "La requête à Flinks a échoué de façon inattendue.", "Réessayez; si cela se répète, prévenez les responsables de l'application."},
}

// describeCodeIn is describeCode in the given language.
func describeCodeIn(code, lang string) codeInfo {
	info := describeCode(code)
	if lang != views.French {
		return info
	}
	key := strings.ToUpper(strings.TrimSpace(code))
	if fr, ok := codeCatalogueFR[key]; ok {
		info.Title, info.Message, info.Action = fr.Title, fr.Message, fr.Action
		return info
	}
	if rest, ok := strings.CutPrefix(key, "HTTP_"); ok {
		if status, err := strconv.Atoi(rest); err == nil {
			if fr, ok := describeStatusFR(status); ok {
				info.Title, info.Message, info.Action = fr.Title, fr.Message, fr.Action
				return info
			}
		}
	}
	fr := codeCatalogueFR[flinks.CodeUnexpected]
	info.Title, info.Message, info.Action = fr.Title, fr.Message, fr.Action
	return info
}

// describeStatusFR is describeStatus's wording in French.
func describeStatusFR(status int) (codeText, bool) {
	const operators = "C'est un problème de notre côté; prévenez les responsables de l'application."
	switch {
	case status >= 300 && status <= 399:
		return codeText{"Flinks a répondu d'ailleurs",
			fmt.Sprintf("Flinks a répondu par une redirection (HTTP %d) au lieu des données. Par prudence, nous ne suivons pas de redirection avec les clés de l'application; l'adresse de Flinks configurée est probablement erronée.", status),
			operators}, true
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return codeText{codeCatalogueFR["ACCESS_DENIED"].Title,
			fmt.Sprintf("Flinks a refusé les clés de cette application (HTTP %d) et n'a pas pu ouvrir de session.", status),
			codeCatalogueFR["ACCESS_DENIED"].Action}, true
	case status == http.StatusNotFound, status == http.StatusMethodNotAllowed:
		return codeText{"Adresse Flinks introuvable",
			fmt.Sprintf("Flinks n'a pas reconnu l'adresse appelée (HTTP %d); l'adresse ou le numéro de client Flinks configuré est probablement erroné.", status),
			operators}, true
	case status == http.StatusRequestTimeout:
		return codeText{"Flinks n'a pas répondu à temps", "Flinks a cessé d'attendre notre requête (HTTP 408), plusieurs fois de suite.", "Réessayez dans quelques minutes."}, true
	case status == http.StatusTooManyRequests:
		return codeText{codeCatalogueFR["TOO_MANY_REQUESTS"].Title, "Flinks nous a demandé de ralentir (HTTP 429), et encore après notre attente.", codeCatalogueFR["TOO_MANY_REQUESTS"].Action}, true
	case status >= 400 && status <= 499:
		return codeText{"Requête refusée par Flinks", fmt.Sprintf("Flinks a refusé notre requête (HTTP %d) sans dire pourquoi.", status), operators}, true
	case status >= 500 && status <= 599:
		return codeText{"Flinks éprouve des difficultés", fmt.Sprintf("Flinks a répondu par une erreur de serveur (HTTP %d) plusieurs fois de suite; le problème est du côté de Flinks.", status), "Réessayez dans quelques minutes."}, true
	}
	return codeText{}, false
}
