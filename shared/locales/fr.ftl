## Problems: a title and a detail per stable code.
problem-validation_failed-title = Saisie invalide
problem-validation_failed-detail = Certains champs manquent ou sont invalides ; voir les erreurs de champ.
problem-malformed_body-title = Corps de requête mal formé
problem-malformed_body-detail = Le corps de la requête n'est pas du JSON valide (ligne { $line }, colonne { $column }).
problem-device_required-title = Identifiant d’appareil requis
problem-device_required-detail = Envoyez l’en-tête X-Device-ID (1 à 128 caractères visibles) qui nomme cet appareil ; connexions, renouvellements et déconnexions y sont liés.
problem-unsupported_media_type-title = Type de média non pris en charge
problem-unsupported_media_type-detail = Envoyez le corps en application/json.
problem-payload_too_large-title = Corps de requête trop volumineux
problem-payload_too_large-detail = Le corps de la requête ne doit pas dépasser { $max } octets.
problem-unauthorized-title = Non autorisé
problem-unauthorized-detail = Une clé d'API valide est requise dans l'en-tête X-API-Key.
problem-not_found-title = Introuvable
problem-not_found-detail = Il n'y a rien à cette adresse.
problem-method_not_allowed-title = Méthode non autorisée
problem-method_not_allowed-detail = Cette adresse n'accepte pas cette méthode.
problem-registration_not_found-title = Inscription introuvable
problem-registration_not_found-detail = L'inscription n'existe pas ou a expiré. Recommencez.
problem-step_out_of_order-title = Étape hors séquence
problem-step_out_of_order-detail = { $next ->
    [done] Cette inscription est déjà terminée ; connectez-vous.
   *[other] Cette étape n'est pas possible maintenant. L'étape suivante est { $next }.
}
problem-invalid_code-title = Code invalide
problem-invalid_code-detail = Le code est faux, a expiré ou n'est plus valable (il cesse de fonctionner après quelques essais erronés). Vérifiez-le ou demandez-en un nouveau.
problem-rate_limited-title = Trop de requêtes
problem-rate_limited-detail = Veuillez attendre { $retry_after } secondes avant de réessayer.
problem-send_limit_reached-title = Limite d'envoi atteinte
problem-send_limit_reached-detail = Plus aucun code ne peut être envoyé pour cette inscription. Recommencez plus tard.
problem-email_taken-title = Adresse e-mail déjà enregistrée
problem-email_taken-detail = Un compte existe déjà avec cette adresse e-mail.
problem-conflict-title = Conflit
problem-conflict-detail = La ressource a été modifiée en même temps. Veuillez réessayer.
problem-unavailable-title = Service temporairement indisponible
problem-unavailable-detail = Un service dont nous dépendons n'a pas répondu. Rien n'a été perdu ; veuillez réessayer.
problem-internal-title = Erreur interne
problem-internal-detail = Un problème est survenu de notre côté.

## Field errors.
field-required = Ce champ est obligatoire.
field-wrong_type = Ce champ a le mauvais type ; attendu : { $expected }.
field-unknown_field = Ce champ est inconnu.
field-too_long = Cette valeur est trop longue.
field-invalid_format = Cette valeur n'a pas le format attendu.
field-read_only_kind = Cette liste de référence est intégrée et ne peut pas être modifiée.
field-invalid_kind = Le nom d'une liste compte 2 à 40 minuscules, chiffres ou tirets.
field-invalid_names = Ces noms ne respectent pas les règles du locataire.
field-invalid_entry_code = Un code compte 1 à 64 lettres, chiffres, points, traits de soulignement ou tirets.
field-no_email = Cet utilisateur n'a pas d'adresse e-mail à laquelle envoyer.
field-unknown_reference = Cette liste de référence n'a pas cette entrée.
field-too_short = Cette valeur est trop courte.
field-invalid_username = Un nom d'utilisateur compte 3 à 32 lettres, chiffres, points, traits de soulignement ou tirets et commence par une lettre.
field-invalid_email = Ce n'est pas une adresse e-mail valide.
field-invalid_phone = Ce n'est pas un numéro de téléphone valide au format international (+41…).
field-invalid_phone_prefix = Ce n'est pas un indicatif de pays valide.
field-conflicting_fields = Indiquez soit le numéro de téléphone, soit l'indicatif et le numéro, pas les deux.
field-invalid_characters = Cette valeur contient des caractères non autorisés.
field-invalid_choice = Cette valeur ne fait pas partie des choix autorisés.
field-filter_required = Indiquez au moins l'un de email, phone, status ou company_id.
field-invalid_date = Ce n'est pas une date valide (AAAA-MM-JJ).
field-invalid_datetime = Ce n'est pas une heure valide (RFC 3339, p. ex. 2026-11-20T09:30:00Z).
field-out_of_range = Cette valeur est hors de la plage autorisée.
field-invalid_cursor = Ce n'est pas un curseur donné par cette liste (son `next`).
field-invalid_language = Ce n'est pas une étiquette de langue valide.
field-unsupported_language = Cette langue n'est pas prise en charge.
field-invalid_time_zone = Ce n'est pas un fuseau horaire connu.
field-must_accept = Ceci doit être accepté.
field-invalid_code_format = Le code doit comporter { $length } chiffres.
field-password_too_short = Le mot de passe doit comporter au moins { $min } caractères.
field-password_too_long = Le mot de passe peut comporter au plus { $max } caractères.
field-password_needs_lowercase = Le mot de passe doit contenir une minuscule.
field-password_needs_uppercase = Le mot de passe doit contenir une majuscule.
field-password_needs_digit = Le mot de passe doit contenir un chiffre.
field-password_needs_symbol = Le mot de passe doit contenir un symbole.
field-password_contains_email = Le mot de passe ne doit pas contenir votre adresse e-mail.
field-password_too_common = Ce mot de passe est trop courant.
field-password_mismatch = Les mots de passe ne correspondent pas.

## Success messages.
message-registration_started = Nous avons envoyé un code à votre adresse e-mail.
message-registration_started_phone = Nous avons envoyé un code à votre téléphone.
message-email_verified = Votre adresse e-mail est confirmée.
message-phone_added = Nous avons envoyé un code à votre téléphone.
message-reference_removed = L'entrée a été supprimée.
message-phone_verified = Votre numéro de téléphone est confirmé. Nous vous avons envoyé un code par e-mail.
message-code_resent = Nous avons envoyé un nouveau code.
message-sign_in_code_sent = Si un compte avec une adresse ou un téléphone vérifié correspond, nous lui avons envoyé un code de connexion.
message-registration_complete = Bienvenue ! Votre compte est prêt.

## E-mail and SMS texts.
email-code-subject = Votre code de confirmation : { $code }
email-code-text =
    Bonjour { $name },

    votre code de confirmation est { $code }. Il est valable { $minutes } minutes.

    Si vous ne l'avez pas demandé, ignorez cet e-mail.
email-taken-subject = Vous avez déjà un compte
email-taken-text =
    Bonjour,

    quelqu'un a essayé de créer un compte avec cette adresse e-mail, mais vous en avez déjà un. Connectez-vous, ou réinitialisez votre mot de passe si vous l'avez oublié.

    Si ce n'était pas vous, ignorez cet e-mail ; rien n'a été modifié.
sms-code-text = Votre code de confirmation est { $code }. Il est valable { $minutes } minutes.
sms-taken-text = Quelqu'un a tenté de s'inscrire avec ce numéro, qui a déjà un compte. Si c'était vous, connectez-vous ; sinon, ignorez ce message.

## Authentication.
problem-phone_taken-title = Numéro de téléphone déjà enregistré
problem-phone_taken-detail = Un compte existe déjà avec ce numéro de téléphone.
problem-username_taken-title = Nom d'utilisateur déjà pris
problem-username_taken-detail = Un autre compte utilise déjà ce nom d'utilisateur ; choisissez-en un autre.
problem-invalid_credentials-title = Identifiants invalides
problem-invalid_credentials-detail = Le nom d'utilisateur ou le mot de passe n'est pas correct.
problem-account_inactive-title = Compte inactif
problem-account_inactive-detail = Ce compte est suspendu, désactivé ou fermé.
problem-invalid_token-title = Jeton invalide
problem-invalid_token-detail = Le jeton est absent, invalide, expiré ou révoqué. Reconnectez-vous.
problem-invalid_device-title = Appareil invalide
problem-invalid_device-detail = Un en-tête X-Device-ID valide (1 à 128 caractères visibles) de l'appareil de cette session est requis.
problem-challenge_not_found-title = Étape de connexion introuvable
problem-challenge_not_found-detail = L'étape de connexion n'existe pas ou a expiré. Reconnectez-vous.
field-incorrect_password = Le mot de passe n'est pas correct.
message-logged_out = Vous êtes déconnecté.
message-logged_out_everywhere = Vous êtes déconnecté sur tous les appareils.
message-session_ended = La session est terminée.
problem-session_not_found-title = Session introuvable
problem-session_not_found-detail = Vous n'avez pas cette session (elle est peut-être déjà terminée).
problem-provider_not_found-title = Fournisseur d'identité introuvable
problem-provider_not_found-detail = Ce service n'a pas de fournisseur d'identité de ce nom.
problem-invalid_id_token-title = La connexion auprès du fournisseur a échoué
problem-invalid_id_token-detail = La réponse du fournisseur d'identité n'a pas pu être vérifiée (signature, émetteur, destinataire, expiration ou nonce). Veuillez vous reconnecter.
problem-identity_link_required-title = Connectez-vous pour lier ce compte
problem-identity_link_required-detail = Un compte avec cette adresse existe déjà. Connectez-vous-y une fois (avec son mot de passe), puis liez-y le compte du fournisseur.
problem-identity_taken-title = Identité déjà liée
problem-identity_taken-detail = Ce compte du fournisseur est déjà lié, à cet utilisateur ou à un autre.
problem-identity_not_found-title = Identité introuvable
problem-identity_not_found-detail = Vous n'avez lié aucun compte de ce fournisseur.
problem-last_sign_in_method-title = Dernier moyen de connexion
problem-last_sign_in_method-detail = C'est votre dernier moyen de vous connecter. Définissez d'abord un mot de passe ou ajoutez une clé d'accès.
field-invalid_id = Cet identifiant n'est pas valide.
message-reset_requested = Si un compte existe pour cette adresse, nous lui avons envoyé un code.
message-password_reset = Votre mot de passe a été modifié. Veuillez vous reconnecter.
message-password_changed = Votre mot de passe a été modifié. Vos autres sessions ont été fermées.
message-profile_updated = Votre profil a été enregistré.
message-credential_code_sent = Nous avons envoyé un code de confirmation.
message-credential_verified = Confirmé.
message-account_closed = Votre compte est fermé.
sms-login-code-text = Votre code de connexion est { $code }. Il est valable { $minutes } minutes. Ne le partagez jamais.
email-reset-subject = Réinitialiser votre mot de passe
email-reset-text =
    Bonjour { $name },

    votre code pour réinitialiser votre mot de passe est { $code }. Il est valable { $minutes } minutes.

    Si vous ne l'avez pas demandé, ignorez cet e-mail ; votre mot de passe reste inchangé.
message-logged_in = Vous êtes connecté.
message-token_refreshed = Session renouvelée.
email-login-code-subject = Votre code de connexion : { $code }

## Privileged registration, lifecycle and reference data.
problem-forbidden-title = Interdit
problem-forbidden-detail = Vous ne pouvez pas faire cela pour cet utilisateur.
problem-second_factor_required-title = Second facteur requis
problem-second_factor_required-detail = Le back-office demande une session validée par un second facteur. Reconnectez-vous avec votre second facteur (application d’authentification, passkey ou code).
problem-app_session-title = Pas pour les applications
problem-app_session-detail = Le back-office exige une session ouverte directement auprès de Registrar, pas une session qu'une application a reçue par OpenID Connect. Connectez-vous par l'API.
problem-user_not_found-title = Utilisateur introuvable
problem-user_not_found-detail = Cet utilisateur n'existe pas.
problem-invalid_status_change-title = Changement de statut non autorisé
problem-invalid_status_change-detail = Un utilisateur au statut { $from } ne peut passer qu'à : { $allowed_list }.
problem-reference_not_found-title = Introuvable
problem-reference_not_found-detail = Ces données de référence n'existent pas.
field-invalid_country = Ce n'est pas un code de pays ISO 3166-1.
field-invalid_role = Un rôle comporte de 1 à 64 caractères parmi A–Z, a–z, 0–9, « . », « _ », « : » ou « - ».
field-unknown_role = Ce rôle ne figure pas dans le catalogue des rôles du locataire.
field-too_many = Il y a trop d'entrées.
field-password_or_invite = Indiquez soit un mot de passe, soit « invite » : true.
gender-female = Féminin
gender-male = Masculin
gender-diverse = Divers
gender-undisclosed = Non précisé
language-en = Anglais
language-de = Allemand
language-fr = Français
language-it = Italien
legal-terms = Conditions d'utilisation
legal-privacy = Politique de confidentialité
message-user_created = L'utilisateur a été créé.
message-user_updated = L'utilisateur a été enregistré.
message-status_changed = Le statut a été modifié.
message-user_unlocked = Le compte a été débloqué.
message-user_sessions_revoked = Toutes les sessions de l'utilisateur ont été fermées.
message-user_reset_code_sent = Nous avons envoyé à l'utilisateur un code pour définir un nouveau mot de passe.
message-user_reset_required = L'utilisateur devra définir un nouveau mot de passe à la prochaine connexion.
email-invite-subject = Vous êtes invité
email-invite-text =
    Bonjour { $name },

    un compte a été créé pour vous. Pour définir votre mot de passe, utilisez le code { $code } (valable { $hours } heures) avec « réinitialiser le mot de passe » dans l'application.

## Step-up and changed credentials.
problem-step_up_required-title = Confirmez que c'est bien vous
problem-step_up_required-detail = Envoyez votre mot de passe actuel (current_password), ou reconnectez-vous et réessayez dans les minutes qui suivent.
email-credential-changed-subject = Vos données de connexion ont été modifiées
email-credential-changed-text =
    Bonjour { $name },

    l'adresse e-mail ou le numéro de téléphone de votre compte vient d'être remplacé ; cette adresse ne permet plus de vous connecter.

    Si ce n'était pas vous, contactez immédiatement le support.
sms-credential-changed-text = Le numéro de téléphone de votre compte vient d'être remplacé ; ce numéro ne permet plus de vous connecter. Si ce n'était pas vous, contactez immédiatement le support.

## SMS spend guard.
problem-sms_budget_spent-title = Envoi de SMS suspendu
problem-sms_budget_spent-detail = Ce service a envoyé autant de SMS qu'il le peut pour l'instant. Réessayez plus tard ou connectez-vous autrement.
problem-sms_country_not_allowed-title = Pays non desservi
problem-sms_country_not_allowed-detail = Aucun SMS n'est envoyé aux numéros de ce pays.
field-country_not_allowed = Les numéros de ce pays ne sont pas acceptés ici.

# Second factors
problem-totp_already_enabled-title = Application d'authentification déjà activée
problem-totp_already_enabled-detail = Une application d'authentification est déjà activée pour ce compte. Retirez-la d'abord pour en enregistrer une autre.
problem-totp_not_enrolled-title = Aucune application d'authentification
problem-totp_not_enrolled-detail = Aucune application d'authentification n'est enregistrée pour ce compte.
problem-no_strong_factor-title = Ni application d'authentification ni clé d'accès
problem-no_strong_factor-detail = Les codes de récupération accompagnent une application d'authentification ou une clé d'accès. Enregistrez-en une d'abord.
problem-passkey_not_offered-title = Pas de passkey pour cette connexion
problem-passkey_not_offered-detail = Ce compte n’a pas de passkey pour le second facteur. Utilisez l’un des facteurs proposés (un code ou une application d’authentification).
problem-factor_not_allowed-title = Facteur non autorisé
problem-factor_not_allowed-detail = Ce service n'autorise pas ce type de second facteur.
problem-sign_in_method_disabled-title = Méthode de connexion non activée
problem-sign_in_method_disabled-detail = Ce service ne permet pas de se connecter de cette façon. Utilisez l’une de celles qu’il propose.
problem-sign_up_denied-title = Inscription refusée
problem-sign_up_denied-detail = Ce service n’a pas accepté l’inscription.
problem-mfa_unavailable-title = Aucun second facteur disponible
problem-mfa_unavailable-detail = Ce service exige un second facteur, et ce compte n'en a aucun qui soit autorisé. Veuillez contacter le support.
message-totp_enrolled = Scannez le code QR avec votre application d'authentification, puis confirmez avec son premier code.
message-totp_enabled = Votre application d'authentification est activée.
message-totp_removed = Votre application d'authentification a été retirée.
message-recovery_codes_created = Gardez ces codes de récupération en lieu sûr. Chacun sert une fois, et ils ne sont affichés que maintenant.
email-recovery-code-used-subject = Un code de récupération a servi à vous connecter
email-recovery-code-used-text = Un code de récupération vient de servir à vous connecter à votre compte. Il reste { $left } codes de récupération. Si ce n'était pas vous, changez votre mot de passe et contactez le support sans attendre.
email-totp_enabled-subject = Une application d'authentification a été ajoutée à votre compte
email-totp_enabled-text = Une application d'authentification sert désormais de second facteur pour votre compte. Si ce n'était pas vous, changez votre mot de passe et contactez le support sans attendre.
email-totp_removed-subject = L'application d'authentification a été retirée de votre compte
email-totp_removed-text = L'application d'authentification a été retirée de votre compte. Si ce n'était pas vous, changez votre mot de passe et contactez le support sans attendre.
email-recovery_codes_regenerated-subject = Nouveaux codes de récupération pour votre compte
email-recovery_codes_regenerated-text = De nouveaux codes de récupération ont été créés pour votre compte ; les anciens ne fonctionnent plus. Si ce n'était pas vous, changez votre mot de passe et contactez le support sans attendre.
problem-passkeys_not_configured-title = Clés d'accès non configurées
problem-passkeys_not_configured-detail = Ce service n'a pas configuré de clés d'accès (pas de partie de confiance).
problem-passkey_limit-title = Trop de clés d'accès
problem-passkey_limit-detail = Ce compte a le nombre maximal de clés d'accès. Retirez-en une d'abord.
problem-passkey_not_found-title = Clé d'accès introuvable
problem-passkey_not_found-detail = Ce compte n'a pas cette clé d'accès.
field-invalid_credential = La réponse de la clé d'accès n'est pas valable pour cette demande.
field-credential_registered = Cette clé d'accès est déjà enregistrée.
message-passkey_added = Votre clé d'accès a été ajoutée.
message-passkey_removed = Votre clé d'accès a été retirée.
message-identity_unlinked = Le compte du fournisseur d'identité a été délié.
email-passkey_added-subject = Une clé d'accès a été ajoutée à votre compte
email-passkey_added-text = Une clé d'accès peut désormais se connecter à votre compte. Si ce n'était pas vous, changez votre mot de passe et contactez le support sans attendre.
email-passkey_removed-subject = Une clé d'accès a été retirée de votre compte
email-passkey_removed-text = Une clé d'accès a été retirée de votre compte. Si ce n'était pas vous, changez votre mot de passe et contactez le support sans attendre.

# Avis sur le mot de passe.
email-password_changed-subject = Votre mot de passe a été modifié
email-password_changed-text = Le mot de passe de votre compte vient d’être modifié, et vos autres sessions ont été fermées. Si ce n’était pas vous, réinitialisez votre mot de passe et contactez le support immédiatement.
sms-password_changed-text = Le mot de passe de votre compte vient d’être modifié. Si ce n’était pas vous, réinitialisez-le et contactez le support immédiatement.
email-password_reset-subject = Votre mot de passe a été réinitialisé
email-password_reset-text = Le mot de passe de votre compte vient d’être réinitialisé avec un code, et toutes les sessions ont été fermées. Si ce n’était pas vous, réinitialisez-le à nouveau et contactez le support immédiatement.
sms-password_reset-text = Le mot de passe de votre compte vient d’être réinitialisé. Si ce n’était pas vous, réinitialisez-le à nouveau et contactez le support immédiatement.

# OpenID Connect: the page of RP-initiated logout (/oauth2/logout).
page-signed-out-title = Déconnecté
page-signed-out-body = Vous êtes déconnecté. Vous pouvez fermer cette page.
page-signed-out-invalid = Ce lien de déconnexion n'est pas valide. Si vous vouliez vous déconnecter, déconnectez-vous à nouveau dans l'application.
page-signed-out-unregistered = Vous êtes déconnecté. L'adresse de retour de l'application n'est pas enregistrée ; vous restez donc sur cette page.

## The hosted sign-in pages (docs/hosted-pages.md).
page-default-name = Connexion
page-sign-in-title = Se connecter
page-username = Adresse e-mail ou téléphone
page-password = Mot de passe
page-submit-sign-in = Se connecter
page-mfa-title = Vérification en deux étapes
page-mfa-sent-sms = Nous vous avons envoyé un code par SMS.
page-mfa-sent-email = Nous vous avons envoyé un code par e-mail.
page-mfa-intro = Confirmez votre identité avec votre second facteur.
page-factor = Méthode
page-factor-totp = Application d’authentification
page-factor-sms = Code par SMS
page-factor-email = Code par e-mail
page-factor-recovery_code = Code de récupération
page-code = Code
page-submit-verify = Vérifier
page-new-password-title = Choisissez un nouveau mot de passe
page-new-password = Nouveau mot de passe
page-confirm-password = Nouveau mot de passe, à nouveau
page-submit-save = Enregistrer
page-legal-title = Conditions et confidentialité
page-accept-terms = J’accepte les conditions d’utilisation (version { $version }).
page-accept-privacy = J’accepte la politique de confidentialité (version { $version }).
page-submit-continue = Continuer
page-forgot-link = Mot de passe oublié ?
page-forgot-title = Réinitialiser votre mot de passe
page-forgot-intro = Saisissez l’adresse e-mail de votre compte. Nous lui enverrons un code pour choisir un nouveau mot de passe.
page-email = Adresse e-mail
page-submit-send-code = Envoyer le code
page-reset-title = Choisir un nouveau mot de passe
page-reset-sent = Si un compte existe pour { $email }, nous lui avons envoyé un code. Saisissez-le avec votre nouveau mot de passe.
page-reset-done = Votre mot de passe a été modifié. Connectez-vous avec votre nouveau mot de passe.
page-error-title = Connexion impossible
page-error-unknown_client = L’application qui vous a envoyé ici n’est pas connue.
page-error-invalid_redirect_uri = L’application demande à revenir à une adresse qu’elle n’a pas enregistrée.
page-error-csrf = Ce formulaire n’a pas été envoyé depuis cette page, ou il a expiré. Retournez à l’application et recommencez.
page-error-step = Cette étape n’est pas connue. Retournez à l’application et recommencez.

## The hosted sign-up pages (pages/signup.rs).
page-signup-link = Créer un compte
page-signup-title = Créer un compte
page-phone = Téléphone mobile (international, p. ex. +41791234567)
page-email-optional = Adresse e-mail (facultative)
page-signup-username = Nom d’utilisateur
page-first-name = Prénom
page-last-name = Nom
page-birth-date = Date de naissance (facultative)
page-signup-confirm-password = Mot de passe à nouveau
page-signup-terms = Conditions d’utilisation
page-signup-privacy = Politique de confidentialité
page-submit-sign-up = Créer le compte
page-signup-email-title = Confirmez votre adresse e-mail
page-signup-email-sent = Nous avons envoyé un code à votre adresse e-mail. Saisissez-le ici.
page-signup-sms-title = Confirmez votre téléphone
page-signup-sms-sent = Nous vous avons envoyé un code par SMS. Saisissez-le ici.
page-signup-resend = Envoyer un nouveau code
page-signup-resent = Nous vous avons envoyé un nouveau code.
page-signup-phone-title = Ajoutez votre téléphone mobile
page-signup-phone-intro = Nous enverrons un code par SMS pour le confirmer.
page-signup-done = Votre compte est prêt. Connectez-vous.

## Sign-in with other identity providers (hosted pages).
page-idp-continue = Continuer avec { $provider }
page-idp-continue-title = Continuer
page-idp-unavailable = Le fournisseur d'identité est injoignable pour le moment. Veuillez réessayer dans un instant, ou vous connecter autrement.
page-error-idp_state = Cette connexion auprès du fournisseur d'identité a expiré ou a déjà été utilisée. Veuillez recommencer depuis l'application.
page-error-idp_browser = Cette connexion auprès du fournisseur d'identité a été commencée dans un autre navigateur. Veuillez recommencer depuis l'application.
page-idp-cancelled = La connexion auprès du fournisseur d'identité a été annulée. Connectez-vous autrement, ou réessayez.
page-idp-failed = La réponse du fournisseur d'identité n'a pas pu être vérifiée. Veuillez réessayer.
page-idp-link-title = Lier votre compte
page-idp-link-intro = Un compte avec { $email } existe déjà. Saisissez une fois son mot de passe pour y lier votre compte { $provider } ; ensuite, { $provider } vous connecte.
page-idp-link-submit = Lier et se connecter

## Hosted pages: the passwordless code and the passkey (pages/passwordless.rs)
page-code-link = Se connecter plutôt avec un code
page-code-title = Se connecter avec un code
page-code-intro = Saisissez votre adresse e-mail ou votre téléphone. Nous vous enverrons un code pour vous connecter.
page-channel = Envoyer le code par
page-channel-email = E-mail
page-channel-sms = SMS
page-code-sent = Si un compte existe pour { $username }, nous lui avons envoyé un code. Saisissez-le pour vous connecter.
page-password-link = Se connecter plutôt avec le mot de passe
page-passkey-link = Se connecter avec une clé d’accès
page-passkey-title = Se connecter avec une clé d’accès
page-passkey-intro = Utilisez la clé d’accès enregistrée sur cet appareil, une clé de sécurité ou votre téléphone.
page-passkey-button = Utiliser une clé d’accès
page-passkey-noscript = Une clé d’accès a besoin de JavaScript, qui est désactivé. Connectez-vous plutôt avec votre mot de passe ou un code.
page-passkey-failed = Aucune clé d’accès n’a été utilisée. Réessayez, ou connectez-vous autrement.
page-mfa-passkey-link = Utiliser plutôt votre clé d’accès
