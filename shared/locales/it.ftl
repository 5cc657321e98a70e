## Problems: a title and a detail per stable code.
problem-validation_failed-title = Dati non validi
problem-validation_failed-detail = Alcuni campi mancano o non sono validi; vedi gli errori dei campi.
problem-malformed_body-title = Corpo della richiesta non valido
problem-malformed_body-detail = Il corpo della richiesta non è JSON valido (riga { $line }, colonna { $column }).
problem-device_required-title = ID dispositivo obbligatorio
problem-device_required-detail = Invia l’intestazione X-Device-ID (1–128 caratteri visibili) che identifica questo dispositivo; accessi, rinnovi e disconnessioni sono legati a esso.
problem-unsupported_media_type-title = Tipo di contenuto non supportato
problem-unsupported_media_type-detail = Invia il corpo come application/json.
problem-payload_too_large-title = Corpo della richiesta troppo grande
problem-payload_too_large-detail = Il corpo della richiesta può avere al massimo { $max } byte.
problem-unauthorized-title = Non autorizzato
problem-unauthorized-detail = È necessaria una chiave API valida nell'intestazione X-API-Key.
problem-not_found-title = Non trovato
problem-not_found-detail = Non c'è niente a questo indirizzo.
problem-method_not_allowed-title = Metodo non consentito
problem-method_not_allowed-detail = Questo indirizzo non accetta questo metodo.
problem-registration_not_found-title = Registrazione non trovata
problem-registration_not_found-detail = La registrazione non esiste o è scaduta. Ricomincia.
problem-step_out_of_order-title = Passo fuori sequenza
problem-step_out_of_order-detail = { $next ->
    [done] Questa registrazione è già completata; accedi.
   *[other] Questo passo non è possibile ora. Il prossimo passo è { $next }.
}
problem-invalid_code-title = Codice non valido
problem-invalid_code-detail = Il codice è errato, scaduto o esaurito (dopo alcuni tentativi errati non vale più). Controllalo o richiedine uno nuovo.
problem-rate_limited-title = Troppe richieste
problem-rate_limited-detail = Attendi { $retry_after } secondi prima di riprovare.
problem-send_limit_reached-title = Limite di invio raggiunto
problem-send_limit_reached-detail = Non è possibile inviare altri codici per questa registrazione. Ricomincia più tardi.
problem-email_taken-title = Indirizzo e-mail già registrato
problem-email_taken-detail = Esiste già un account con questo indirizzo e-mail.
problem-conflict-title = Conflitto
problem-conflict-detail = La risorsa è stata modificata contemporaneamente. Riprova.
problem-unavailable-title = Servizio temporaneamente non disponibile
problem-unavailable-detail = Un servizio da cui dipendiamo non ha risposto. Non è andato perso nulla; riprova.
problem-internal-title = Errore interno
problem-internal-detail = Qualcosa è andato storto da parte nostra.

## Field errors.
field-required = Questo campo è obbligatorio.
field-wrong_type = Questo campo ha il tipo sbagliato; previsto: { $expected }.
field-unknown_field = Questo campo non è noto.
field-too_long = Questo valore è troppo lungo.
field-invalid_format = Questo valore non ha il formato previsto.
field-read_only_kind = Questo elenco di riferimento è integrato e non può essere modificato.
field-invalid_kind = Il nome di un elenco ha da 2 a 40 lettere minuscole, cifre o trattini.
field-invalid_names = Questi nomi non rispettano le regole del tenant.
field-invalid_entry_code = Un codice ha da 1 a 64 lettere, cifre, punti, trattini bassi o trattini.
field-no_email = Questo utente non ha un indirizzo e-mail a cui inviare.
field-unknown_reference = Questa voce non esiste in questo elenco di riferimento.
field-too_short = Questo valore è troppo corto.
field-invalid_username = Un nome utente ha da 3 a 32 lettere, cifre, punti, trattini bassi o trattini e inizia con una lettera.
field-invalid_email = Questo non è un indirizzo e-mail valido.
field-invalid_phone = Questo non è un numero di telefono valido in formato internazionale (+41…).
field-invalid_phone_prefix = Questo non è un prefisso internazionale valido.
field-conflicting_fields = Indica il numero di telefono oppure prefisso e numero, non entrambi.
field-invalid_characters = Questo valore contiene caratteri non consentiti.
field-invalid_choice = Questo valore non è tra le scelte consentite.
field-filter_required = Indicare almeno uno tra email, phone, status o company_id.
field-invalid_date = Questa non è una data valida (AAAA-MM-GG).
field-invalid_datetime = Questo non è un orario valido (RFC 3339, ad es. 2026-11-20T09:30:00Z).
field-out_of_range = Questo valore è fuori dall'intervallo consentito.
field-invalid_cursor = Questo non è un cursore fornito da questo elenco (il suo `next`).
field-invalid_language = Questo non è un codice di lingua valido.
field-unsupported_language = Questa lingua non è supportata.
field-invalid_time_zone = Questo non è un fuso orario noto.
field-must_accept = Questo deve essere accettato.
field-invalid_code_format = Il codice deve essere composto da { $length } cifre.
field-password_too_short = La password deve avere almeno { $min } caratteri.
field-password_too_long = La password può avere al massimo { $max } caratteri.
field-password_needs_lowercase = La password deve contenere una lettera minuscola.
field-password_needs_uppercase = La password deve contenere una lettera maiuscola.
field-password_needs_digit = La password deve contenere una cifra.
field-password_needs_symbol = La password deve contenere un simbolo.
field-password_contains_email = La password non deve contenere il tuo indirizzo e-mail.
field-password_too_common = Questa password è troppo comune.
field-password_mismatch = Le password non corrispondono.

## Success messages.
message-registration_started = Abbiamo inviato un codice al tuo indirizzo e-mail.
message-registration_started_phone = Abbiamo inviato un codice al tuo telefono.
message-email_verified = Il tuo indirizzo e-mail è confermato.
message-phone_added = Abbiamo inviato un codice al tuo telefono.
message-reference_removed = La voce è stata rimossa.
message-phone_verified = Il suo numero di telefono è confermato. Le abbiamo inviato un codice per e-mail.
message-code_resent = Abbiamo inviato un nuovo codice.
message-sign_in_code_sent = Se corrisponde un account con indirizzo o telefono verificato, gli abbiamo inviato un codice di accesso.
message-registration_complete = Benvenuto! Il tuo account è pronto.

## E-mail and SMS texts.
email-code-subject = Il tuo codice di conferma: { $code }
email-code-text =
    Ciao { $name },

    il tuo codice di conferma è { $code }. È valido per { $minutes } minuti.

    Se non l'hai richiesto, ignora questa e-mail.
email-taken-subject = Hai già un account
email-taken-text =
    Ciao,

    qualcuno ha provato a creare un account con questo indirizzo e-mail, ma ne hai già uno. Accedi, oppure reimposta la password se l'hai dimenticata.

    Se non sei stato tu, ignora questa e-mail; non è stato modificato nulla.
sms-code-text = Il tuo codice di conferma è { $code }. È valido per { $minutes } minuti.
sms-taken-text = Qualcuno ha tentato di registrarsi con questo numero, che ha già un account. Se è stato lei, acceda; altrimenti ignori questo messaggio.

## Authentication.
problem-phone_taken-title = Numero di telefono già registrato
problem-phone_taken-detail = Esiste già un account con questo numero di telefono.
problem-username_taken-title = Nome utente già in uso
problem-username_taken-detail = Un altro account usa già questo nome utente; sceglietene un altro.
problem-invalid_credentials-title = Credenziali non valide
problem-invalid_credentials-detail = Il nome utente o la password non sono corretti.
problem-account_inactive-title = Account non attivo
problem-account_inactive-detail = Questo account è sospeso, disattivato o chiuso.
problem-invalid_token-title = Token non valido
problem-invalid_token-detail = Il token manca, non è valido, è scaduto o è stato revocato. Accedi di nuovo.
problem-invalid_device-title = Dispositivo non valido
problem-invalid_device-detail = È necessaria un'intestazione X-Device-ID valida (1–128 caratteri visibili) del dispositivo di questa sessione.
problem-challenge_not_found-title = Passo di accesso non trovato
problem-challenge_not_found-detail = Il passo di accesso non esiste o è scaduto. Accedi di nuovo.
field-incorrect_password = La password non è corretta.
message-logged_out = Sei disconnesso.
message-logged_out_everywhere = Sei disconnesso su tutti i dispositivi.
message-session_ended = La sessione è terminata.
problem-session_not_found-title = Sessione non trovata
problem-session_not_found-detail = Non hai questa sessione (forse è già terminata).
problem-provider_not_found-title = Provider di identità non trovato
problem-provider_not_found-detail = Questo servizio non ha un provider di identità con questo nome.
problem-invalid_id_token-title = Accesso con il provider non riuscito
problem-invalid_id_token-detail = Non è stato possibile verificare la risposta del provider di identità (firma, emittente, destinatario, scadenza o nonce). Accedi di nuovo.
problem-identity_link_required-title = Accedi per collegare questo account
problem-identity_link_required-detail = Esiste già un account con questo indirizzo. Accedi una volta (con la sua password), poi collega l'account del provider.
problem-identity_taken-title = Identità già collegata
problem-identity_taken-detail = Questo account del provider è già collegato, a questo utente o a un altro.
problem-identity_not_found-title = Identità non trovata
problem-identity_not_found-detail = Non hai collegato nessun account di questo provider.
problem-last_sign_in_method-title = Ultimo modo di accedere
problem-last_sign_in_method-detail = Questo è il tuo ultimo modo di accedere. Imposta prima una password o aggiungi una passkey.
field-invalid_id = Questo non è un ID valido.
message-reset_requested = Se esiste un account per questo indirizzo, gli abbiamo inviato un codice.
message-password_reset = La tua password è stata cambiata. Accedi di nuovo.
message-password_changed = La tua password è stata cambiata. Le altre sessioni sono state chiuse.
message-profile_updated = Il tuo profilo è stato salvato.
message-credential_code_sent = Abbiamo inviato un codice di conferma.
message-credential_verified = Confermato.
message-account_closed = Il tuo account è chiuso.
sms-login-code-text = Il tuo codice di accesso è { $code }. È valido per { $minutes } minuti. Non condividerlo mai.
email-reset-subject = Reimposta la password
email-reset-text =
    Ciao { $name },

    il tuo codice per reimpostare la password è { $code }. È valido per { $minutes } minuti.

    Se non l'hai richiesto, ignora questa e-mail; la tua password resta invariata.
message-logged_in = Hai effettuato l'accesso.
message-token_refreshed = Sessione rinnovata.
email-login-code-subject = Il tuo codice di accesso: { $code }

## Privileged registration, lifecycle and reference data.
problem-forbidden-title = Vietato
problem-forbidden-detail = Non puoi farlo per questo utente.
problem-second_factor_required-title = Secondo fattore necessario
problem-second_factor_required-detail = Il back office richiede una sessione che abbia superato un secondo fattore. Accedi di nuovo con il tuo secondo fattore (app di autenticazione, passkey o codice).
problem-app_session-title = Non per le app
problem-app_session-detail = Il back office richiede una sessione aperta direttamente presso Registrar, non una che un'app ha ricevuto tramite OpenID Connect. Acceda tramite l'API.
problem-user_not_found-title = Utente non trovato
problem-user_not_found-detail = Questo utente non esiste.
problem-invalid_status_change-title = Cambio di stato non consentito
problem-invalid_status_change-detail = Un utente nello stato { $from } può passare solo a: { $allowed_list }.
problem-reference_not_found-title = Non trovato
problem-reference_not_found-detail = Questi dati di riferimento non esistono.
field-invalid_country = Questo non è un codice paese ISO 3166-1.
field-invalid_role = Un ruolo è composto da 1–64 caratteri tra A–Z, a–z, 0–9, «.», «_», «:» o «-».
field-unknown_role = Questo ruolo non è nel catalogo dei ruoli del tenant.
field-too_many = Ci sono troppe voci.
field-password_or_invite = Indica una password oppure «invite»: true.
gender-female = Femminile
gender-male = Maschile
gender-diverse = Diverso
gender-undisclosed = Non indicato
language-en = Inglese
language-de = Tedesco
language-fr = Francese
language-it = Italiano
legal-terms = Condizioni d'uso
legal-privacy = Informativa sulla privacy
message-user_created = L'utente è stato creato.
message-user_updated = L'utente è stato salvato.
message-status_changed = Lo stato è stato modificato.
message-user_unlocked = L'account è stato sbloccato.
message-user_sessions_revoked = Tutte le sessioni dell'utente sono state chiuse.
message-user_reset_code_sent = Abbiamo inviato all'utente un codice per impostare una nuova password.
message-user_reset_required = L'utente dovrà impostare una nuova password al prossimo accesso.
email-invite-subject = Sei stato invitato
email-invite-text =
    Ciao { $name },

    è stato creato un account per te. Per impostare la password, usa il codice { $code } (valido { $hours } ore) con «reimposta password» nell'app.

## Step-up and changed credentials.
problem-step_up_required-title = Conferma che sei tu
problem-step_up_required-detail = Invia la password attuale (current_password), oppure accedi di nuovo e riprova entro pochi minuti.
email-credential-changed-subject = I tuoi dati di accesso sono stati modificati
email-credential-changed-text =
    Ciao { $name },

    l'indirizzo e-mail o il numero di telefono del tuo account è appena stato sostituito; questo indirizzo non consente più di accedere.

    Se non sei stato tu, contatta subito l'assistenza.
sms-credential-changed-text = Il numero di telefono del tuo account è appena stato sostituito; questo numero non consente più di accedere. Se non sei stato tu, contatta subito l'assistenza.

## SMS spend guard.
problem-sms_budget_spent-title = Invio di SMS sospeso
problem-sms_budget_spent-detail = Questo servizio ha inviato per ora tutti gli SMS consentiti. Riprova più tardi o accedi in un altro modo.
problem-sms_country_not_allowed-title = Paese non servito
problem-sms_country_not_allowed-detail = Non si inviano SMS ai numeri di questo paese.
field-country_not_allowed = I numeri di questo paese non sono accettati qui.

# Second factors
problem-totp_already_enabled-title = App di autenticazione già attiva
problem-totp_already_enabled-detail = Per questo account è già attiva un'app di autenticazione. Rimuovila prima di registrarne un'altra.
problem-totp_not_enrolled-title = Nessuna app di autenticazione
problem-totp_not_enrolled-detail = Per questo account non è registrata alcuna app di autenticazione.
problem-no_strong_factor-title = Nessuna app di autenticazione né passkey
problem-no_strong_factor-detail = I codici di recupero accompagnano un'app di autenticazione o una passkey. Registrane prima una.
problem-passkey_not_offered-title = Nessuna passkey per questo accesso
problem-passkey_not_offered-detail = Questo account non ha una passkey per il secondo fattore. Usa uno dei fattori offerti (un codice o un’app di autenticazione).
problem-factor_not_allowed-title = Fattore non consentito
problem-factor_not_allowed-detail = Questo servizio non consente questo tipo di secondo fattore.
problem-sign_in_method_disabled-title = Metodo di accesso non attivo
problem-sign_in_method_disabled-detail = Questo servizio non consente di accedere in questo modo. Usa uno dei modi che offre.
problem-sign_up_denied-title = Registrazione non accettata
problem-sign_up_denied-detail = Questo servizio non ha accettato la registrazione.
problem-mfa_unavailable-title = Nessun secondo fattore disponibile
problem-mfa_unavailable-detail = Questo servizio richiede un secondo fattore e questo account non ne ha uno consentito. Contatta l'assistenza.
message-totp_enrolled = Scansiona il codice QR con la tua app di autenticazione, poi conferma con il primo codice.
message-totp_enabled = La tua app di autenticazione è attiva.
message-totp_removed = La tua app di autenticazione è stata rimossa.
message-recovery_codes_created = Conserva questi codici di recupero in un posto sicuro. Ognuno vale una volta e vengono mostrati solo ora.
email-recovery-code-used-subject = È stato usato un codice di recupero per accedere
email-recovery-code-used-text = È appena stato usato un codice di recupero per accedere al tuo account. Restano { $left } codici di recupero. Se non sei stato tu, cambia subito la password e contatta l'assistenza.
email-totp_enabled-subject = Al tuo account è stata aggiunta un'app di autenticazione
email-totp_enabled-text = Un'app di autenticazione è ora il secondo fattore del tuo account. Se non sei stato tu, cambia subito la password e contatta l'assistenza.
email-totp_removed-subject = L'app di autenticazione è stata rimossa dal tuo account
email-totp_removed-text = L'app di autenticazione è stata rimossa dal tuo account. Se non sei stato tu, cambia subito la password e contatta l'assistenza.
email-recovery_codes_regenerated-subject = Nuovi codici di recupero per il tuo account
email-recovery_codes_regenerated-text = Sono stati creati nuovi codici di recupero per il tuo account; quelli vecchi non valgono più. Se non sei stato tu, cambia subito la password e contatta l'assistenza.
problem-passkeys_not_configured-title = Passkey non configurate
problem-passkeys_not_configured-detail = Questo servizio non ha configurato le passkey (nessuna relying party).
problem-passkey_limit-title = Troppe passkey
problem-passkey_limit-detail = Questo account ha il numero massimo di passkey. Rimuovine prima una.
problem-passkey_not_found-title = Passkey non trovata
problem-passkey_not_found-detail = Questo account non ha questa passkey.
field-invalid_credential = La risposta della passkey non è valida per questa richiesta.
field-credential_registered = Questa passkey è già registrata.
message-passkey_added = La tua passkey è stata aggiunta.
message-passkey_removed = La tua passkey è stata rimossa.
message-identity_unlinked = L'account del provider di identità è stato scollegato.
email-passkey_added-subject = Al tuo account è stata aggiunta una passkey
email-passkey_added-text = Una passkey può ora accedere al tuo account. Se non sei stato tu, cambia subito la password e contatta l'assistenza.
email-passkey_removed-subject = Una passkey è stata rimossa dal tuo account
email-passkey_removed-text = Una passkey è stata rimossa dal tuo account. Se non sei stato tu, cambia subito la password e contatta l'assistenza.

# Avvisi sulla password.
email-password_changed-subject = La tua password è stata modificata
email-password_changed-text = La password del tuo account è appena stata modificata e le altre sessioni sono state chiuse. Se non sei stato tu, reimposta subito la password e contatta l’assistenza.
sms-password_changed-text = La password del tuo account è appena stata modificata. Se non sei stato tu, reimpostala subito e contatta l’assistenza.
email-password_reset-subject = La tua password è stata reimpostata
email-password_reset-text = La password del tuo account è appena stata reimpostata con un codice e tutte le sessioni sono state chiuse. Se non sei stato tu, reimpostala di nuovo e contatta l’assistenza.
sms-password_reset-text = La password del tuo account è appena stata reimpostata. Se non sei stato tu, reimpostala di nuovo e contatta l’assistenza.

# OpenID Connect: the page of RP-initiated logout (/oauth2/logout).
page-signed-out-title = Disconnesso
page-signed-out-body = Sei disconnesso. Puoi chiudere questa pagina.
page-signed-out-invalid = Questo link di disconnessione non è valido. Se volevi disconnetterti, disconnettiti di nuovo nell'app.
page-signed-out-unregistered = Sei disconnesso. L'indirizzo di ritorno dell'app non è registrato, quindi rimani su questa pagina.

## The hosted sign-in pages (docs/hosted-pages.md).
page-default-name = Accesso
page-sign-in-title = Accedi
page-username = Indirizzo e-mail o telefono
page-password = Password
page-submit-sign-in = Accedi
page-mfa-title = Verifica in due passaggi
page-mfa-sent-sms = Ti abbiamo inviato un codice via SMS.
page-mfa-sent-email = Ti abbiamo inviato un codice via e-mail.
page-mfa-intro = Conferma la tua identità con il secondo fattore.
page-factor = Metodo
page-factor-totp = App di autenticazione
page-factor-sms = Codice via SMS
page-factor-email = Codice via e-mail
page-factor-recovery_code = Codice di recupero
page-code = Codice
page-submit-verify = Verifica
page-new-password-title = Scegli una nuova password
page-new-password = Nuova password
page-confirm-password = Ripeti la nuova password
page-submit-save = Salva
page-legal-title = Condizioni e privacy
page-accept-terms = Accetto le condizioni d’uso (versione { $version }).
page-accept-privacy = Accetto l’informativa sulla privacy (versione { $version }).
page-submit-continue = Continua
page-forgot-link = Password dimenticata?
page-forgot-title = Reimposta la password
page-forgot-intro = Inserisci l’indirizzo e-mail del tuo account. Gli invieremo un codice per scegliere una nuova password.
page-email = Indirizzo e-mail
page-submit-send-code = Invia il codice
page-reset-title = Scegli una nuova password
page-reset-sent = Se esiste un account per { $email }, gli abbiamo inviato un codice. Inseriscilo con la tua nuova password.
page-reset-done = La tua password è stata cambiata. Accedi con la nuova password.
page-error-title = Accesso non possibile
page-error-unknown_client = L’applicazione che ti ha inviato qui non è conosciuta.
page-error-invalid_redirect_uri = L’applicazione chiede di tornare a un indirizzo che non ha registrato.
page-error-csrf = Questo modulo non è stato inviato da questa pagina o è scaduto. Torna all’applicazione e ricomincia.
page-error-step = Questo passaggio non è conosciuto. Torna all’applicazione e ricomincia.

## The hosted sign-up pages (pages/signup.rs).
page-signup-link = Crea un account
page-signup-title = Crea un account
page-phone = Telefono cellulare (internazionale, p. es. +41791234567)
page-email-optional = Indirizzo e-mail (facoltativo)
page-signup-username = Nome utente
page-first-name = Nome
page-last-name = Cognome
page-birth-date = Data di nascita (facoltativa)
page-signup-confirm-password = Ripeti la password
page-signup-terms = Condizioni d’uso
page-signup-privacy = Informativa sulla privacy
page-submit-sign-up = Crea l’account
page-signup-email-title = Conferma il tuo indirizzo e-mail
page-signup-email-sent = Abbiamo inviato un codice al tuo indirizzo e-mail. Inseriscilo qui.
page-signup-sms-title = Conferma il tuo telefono
page-signup-sms-sent = Ti abbiamo inviato un codice via SMS. Inseriscilo qui.
page-signup-resend = Invia un nuovo codice
page-signup-resent = Ti abbiamo inviato un nuovo codice.
page-signup-phone-title = Aggiungi il tuo telefono cellulare
page-signup-phone-intro = Invieremo un codice via SMS per confermarlo.
page-signup-done = Il tuo account è pronto. Accedi.

## Sign-in with other identity providers (hosted pages).
page-idp-continue = Continua con { $provider }
page-idp-continue-title = Continua
page-idp-unavailable = Il provider di identità non è raggiungibile al momento. Riprova tra poco, o accedi in un altro modo.
page-error-idp_state = Questo accesso con il provider di identità è scaduto o è già stato usato. Ricomincia dall'app.
page-error-idp_browser = Questo accesso con il provider di identità è stato iniziato in un altro browser. Ricomincia dall'app.
page-idp-cancelled = L'accesso con il provider di identità è stato annullato. Accedi in un altro modo, o riprova.
page-idp-failed = Non è stato possibile verificare la risposta del provider di identità. Riprova.
page-idp-link-title = Collega il tuo account
page-idp-link-intro = Esiste già un account con { $email }. Inserisci una volta la sua password per collegarvi il tuo account { $provider }; da allora { $provider } ti fa accedere.
page-idp-link-submit = Collega e accedi

## Hosted pages: the passwordless code and the passkey (pages/passwordless.rs)
page-code-link = Accedi invece con un codice
page-code-title = Accedi con un codice
page-code-intro = Inserisci il tuo indirizzo e-mail o il tuo telefono. Ti invieremo un codice per accedere.
page-channel = Invia il codice via
page-channel-email = E-mail
page-channel-sms = SMS
page-code-sent = Se esiste un account per { $username }, gli abbiamo inviato un codice. Inseriscilo per accedere.
page-password-link = Accedi invece con la password
page-passkey-link = Accedi con una passkey
page-passkey-title = Accedi con una passkey
page-passkey-intro = Usa la passkey salvata su questo dispositivo, una chiave di sicurezza o il tuo telefono.
page-passkey-button = Usa una passkey
page-passkey-noscript = Una passkey ha bisogno di JavaScript, che è disattivato. Accedi invece con la password o con un codice.
page-passkey-failed = Nessuna passkey è stata usata. Riprova, oppure accedi in un altro modo.
page-mfa-passkey-link = Usa invece la tua passkey
