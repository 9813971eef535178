package sandbox

// texts holds every user-visible string of the Connect pages. A struct
// rather than a map, so a template naming a missing string fails in tests
// instead of printing nothing.
type texts struct {
	Header, SandboxBadge, Close                              string
	ConsentTitle, ConsentBody, ConsentData, ConsentAccept    string
	ConsentDeny, DefaultCustomer                             string
	DeniedTitle, DeniedBody, Review                          string
	InstitutionsTitle, Unavailable, DemoHint, Search         string
	CredentialTitle, Username, Password, Submit, Back        string
	InvalidLogin, MFATitle, MFAIntro, Answer, InvalidAnswer  string
	EmptyAnswer, AccountsTitle, AccountsTitleMultiple        string
	SelectOne, SelectOnlyOne, SuccessTitle, Continue, JSDone string
	Redirecting, ErrorTitle, TokenInvalid, BadRedirect       string
	ResumeGone                                               string
	SessionGone, MaxRetry, DisabledInstitution, WrongStep    string
	UsersTitle, UsersIntro, UsersAnswers, Required           string
}

var textsEN = texts{
	Header:                "Connect your bank account",
	SandboxBadge:          "Sandbox: test data only, no real bank is contacted",
	Close:                 "Close",
	ConsentTitle:          "%s uses Flinks to connect your bank account",
	ConsentBody:           "Flinks will securely access your account information and share it with %s.",
	ConsentData:           "Data shared: account numbers, balances, transactions and account holder details.",
	ConsentAccept:         "Accept",
	ConsentDeny:           "Deny",
	DefaultCustomer:       "This application",
	DeniedTitle:           "Connection cancelled",
	DeniedBody:            "You declined to share your banking data. No information was collected.",
	Review:                "Review the consent again",
	InstitutionsTitle:     "Select your financial institution",
	Unavailable:           "not available in the sandbox",
	DemoHint:              "Add demo=true to the Connect URL to show the Flinks Capital test institution.",
	Search:                "Search institutions",
	CredentialTitle:       "Sign in to Flinks Capital",
	Username:              "Username or card number",
	Password:              "Password",
	Submit:                "Continue",
	Back:                  "Back",
	InvalidLogin:          "Invalid username or password. Please try again.",
	MFATitle:              "Security question",
	MFAIntro:              "Your institution needs to confirm it is you.",
	Answer:                "Answer",
	InvalidAnswer:         "Incorrect answer. Please try again.",
	EmptyAnswer:           "Please enter an answer.",
	AccountsTitle:         "Select the account to share",
	AccountsTitleMultiple: "Select the accounts to share",
	SelectOne:             "Please select an account.",
	SelectOnlyOne:         "Please select only one account.",
	SuccessTitle:          "Your account is connected",
	Continue:              "Continue",
	JSDone:                "You can close this window.",
	Redirecting:           "Redirecting…",
	ErrorTitle:            "Something went wrong",
	TokenInvalid:          "This connection link has expired or was already used. Please start again from the application.",
	ResumeGone:            "This security question can no longer be answered here. Please start again from the application.",
	BadRedirect:           "The redirectUrl parameter must be an absolute http or https URL.",
	SessionGone:           "This session has expired. Please reload Flinks Connect.",
	MaxRetry:              "Too many failed attempts. Please start again later.",
	DisabledInstitution:   "This institution is not available in the sandbox.",
	WrongStep:             "This step is no longer available. Please reload Flinks Connect.",
	UsersTitle:            "Sandbox users",
	UsersIntro:            "Password for every user: Everyday",
	UsersAnswers:          "Security answers: Montreal, Canada or Triangle",
	Required:              "required",
}

var textsFR = texts{
	Header:                "Connectez votre compte bancaire",
	SandboxBadge:          "Bac à sable : données de test seulement, aucune banque réelle n'est contactée",
	Close:                 "Fermer",
	ConsentTitle:          "%s utilise Flinks pour connecter votre compte bancaire",
	ConsentBody:           "Flinks accédera de façon sécurisée aux informations de votre compte et les partagera avec %s.",
	ConsentData:           "Données partagées : numéros de compte, soldes, transactions et renseignements sur le titulaire.",
	ConsentAccept:         "Accepter",
	ConsentDeny:           "Refuser",
	DefaultCustomer:       "Cette application",
	DeniedTitle:           "Connexion annulée",
	DeniedBody:            "Vous avez refusé de partager vos données bancaires. Aucune information n'a été recueillie.",
	Review:                "Revoir le consentement",
	InstitutionsTitle:     "Sélectionnez votre institution financière",
	Unavailable:           "non disponible dans le bac à sable",
	DemoHint:              "Ajoutez demo=true à l'URL de Connect pour afficher l'institution de test Flinks Capital.",
	Search:                "Rechercher une institution",
	CredentialTitle:       "Connectez-vous à Flinks Capital",
	Username:              "Nom d'utilisateur ou numéro de carte",
	Password:              "Mot de passe",
	Submit:                "Continuer",
	Back:                  "Retour",
	InvalidLogin:          "Nom d'utilisateur ou mot de passe invalide. Veuillez réessayer.",
	MFATitle:              "Question de sécurité",
	MFAIntro:              "Votre institution doit confirmer votre identité.",
	Answer:                "Réponse",
	InvalidAnswer:         "Réponse incorrecte. Veuillez réessayer.",
	EmptyAnswer:           "Veuillez entrer une réponse.",
	AccountsTitle:         "Sélectionnez le compte à partager",
	AccountsTitleMultiple: "Sélectionnez les comptes à partager",
	SelectOne:             "Veuillez sélectionner un compte.",
	SelectOnlyOne:         "Veuillez sélectionner un seul compte.",
	SuccessTitle:          "Votre compte est connecté",
	Continue:              "Continuer",
	JSDone:                "Vous pouvez fermer cette fenêtre.",
	Redirecting:           "Redirection…",
	ErrorTitle:            "Une erreur est survenue",
	TokenInvalid:          "Ce lien de connexion a expiré ou a déjà été utilisé. Veuillez recommencer à partir de l'application.",
	ResumeGone:            "Cette question de sécurité ne peut plus recevoir de réponse ici. Veuillez recommencer à partir de l'application.",
	BadRedirect:           "Le paramètre redirectUrl doit être une URL http ou https absolue.",
	SessionGone:           "Cette session a expiré. Veuillez recharger Flinks Connect.",
	MaxRetry:              "Trop de tentatives infructueuses. Veuillez recommencer plus tard.",
	DisabledInstitution:   "Cette institution n'est pas disponible dans le bac à sable.",
	WrongStep:             "Cette étape n'est plus disponible. Veuillez recharger Flinks Connect.",
	UsersTitle:            "Utilisateurs du bac à sable",
	UsersIntro:            "Mot de passe pour tous les utilisateurs : Everyday",
	UsersAnswers:          "Réponses de sécurité : Montreal, Canada ou Triangle",
	Required:              "obligatoire",
}

func textsFor(lang string) *texts {
	if lang == "fr" {
		return &textsFR
	}
	return &textsEN
}
