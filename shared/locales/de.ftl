## Problems: a title and a detail per stable code.
problem-validation_failed-title = Ungültige Eingabe
problem-validation_failed-detail = Einige Felder fehlen oder sind ungültig; siehe die Feldfehler.
problem-malformed_body-title = Fehlerhafter Anfrageinhalt
problem-malformed_body-detail = Der Anfrageinhalt ist kein gültiges JSON (Zeile { $line }, Spalte { $column }).
problem-device_required-title = Geräte-ID fehlt
problem-device_required-detail = Senden Sie den Header X-Device-ID (1–128 sichtbare Zeichen), der dieses Gerät benennt; Anmeldungen, Erneuerungen und Abmeldungen sind daran gebunden.
problem-unsupported_media_type-title = Nicht unterstützter Medientyp
problem-unsupported_media_type-detail = Senden Sie den Inhalt als application/json.
problem-payload_too_large-title = Anfrageinhalt zu groß
problem-payload_too_large-detail = Der Anfrageinhalt darf höchstens { $max } Bytes groß sein.
problem-unauthorized-title = Nicht berechtigt
problem-unauthorized-detail = Im Header X-API-Key wird ein gültiger API-Schlüssel benötigt.
problem-not_found-title = Nicht gefunden
problem-not_found-detail = Unter dieser Adresse gibt es nichts.
problem-method_not_allowed-title = Methode nicht erlaubt
problem-method_not_allowed-detail = Diese Adresse akzeptiert diese Methode nicht.
problem-registration_not_found-title = Registrierung nicht gefunden
problem-registration_not_found-detail = Die Registrierung existiert nicht oder ist abgelaufen. Beginnen Sie neu.
problem-step_out_of_order-title = Schritt nicht in der richtigen Reihenfolge
problem-step_out_of_order-detail = { $next ->
    [done] Diese Registrierung ist bereits abgeschlossen; melden Sie sich an.
   *[other] Dieser Schritt ist jetzt nicht möglich. Der nächste Schritt ist { $next }.
}
problem-invalid_code-title = Ungültiger Code
problem-invalid_code-detail = Der Code ist falsch, abgelaufen oder aufgebraucht (nach einigen Fehlversuchen gilt er nicht mehr). Prüfen Sie ihn oder fordern Sie einen neuen an.
problem-rate_limited-title = Zu viele Anfragen
problem-rate_limited-detail = Bitte warten Sie { $retry_after } Sekunden, bevor Sie es erneut versuchen.
problem-send_limit_reached-title = Versandlimit erreicht
problem-send_limit_reached-detail = Für diese Registrierung können keine Codes mehr gesendet werden. Beginnen Sie später neu.
problem-email_taken-title = E-Mail-Adresse bereits registriert
problem-email_taken-detail = Es gibt bereits ein Konto mit dieser E-Mail-Adresse.
problem-conflict-title = Konflikt
problem-conflict-detail = Die Ressource wurde gleichzeitig geändert. Bitte versuchen Sie es erneut.
problem-unavailable-title = Dienst vorübergehend nicht verfügbar
problem-unavailable-detail = Ein Dienst, von dem wir abhängen, hat nicht geantwortet. Es ging nichts verloren; bitte versuchen Sie es erneut.
problem-internal-title = Interner Fehler
problem-internal-detail = Bei uns ist etwas schiefgelaufen.

## Field errors.
field-required = Dieses Feld ist erforderlich.
field-wrong_type = Dieses Feld hat den falschen Typ; erwartet wird { $expected }.
field-unknown_field = Dieses Feld ist nicht bekannt.
field-too_long = Dieser Wert ist zu lang.
field-invalid_format = Dieser Wert hat nicht das erwartete Format.
field-read_only_kind = Diese Referenzliste ist eingebaut und kann nicht geändert werden.
field-invalid_kind = Der Name einer Liste hat 2 bis 40 Kleinbuchstaben, Ziffern oder Bindestriche.
field-invalid_names = Diese Namen passen nicht zu den Regeln des Mandanten.
field-invalid_entry_code = Ein Code hat 1 bis 64 Buchstaben, Ziffern, Punkte, Unterstriche oder Bindestriche.
field-no_email = Diese Person hat keine E-Mail-Adresse, an die wir senden könnten.
field-unknown_reference = Diesen Eintrag gibt es in dieser Referenzliste nicht.
field-too_short = Dieser Wert ist zu kurz.
field-invalid_username = Ein Benutzername hat 3 bis 32 Buchstaben, Ziffern, Punkte, Unterstriche oder Bindestriche und beginnt mit einem Buchstaben.
field-invalid_email = Das ist keine gültige E-Mail-Adresse.
field-invalid_phone = Das ist keine gültige Telefonnummer im internationalen Format (+41…).
field-invalid_phone_prefix = Das ist keine gültige Ländervorwahl.
field-conflicting_fields = Geben Sie entweder die Telefonnummer oder Vorwahl und Nummer an, nicht beides.
field-invalid_characters = Dieser Wert enthält unzulässige Zeichen.
field-invalid_choice = Dieser Wert ist keine der erlaubten Möglichkeiten.
field-filter_required = Geben Sie mindestens eines von email, phone, status oder company_id an.
field-invalid_date = Das ist kein gültiges Datum (JJJJ-MM-TT).
field-invalid_datetime = Dies ist keine gültige Zeitangabe (RFC 3339, z. B. 2026-11-20T09:30:00Z).
field-out_of_range = Dieser Wert liegt außerhalb des erlaubten Bereichs.
field-invalid_cursor = Dies ist kein Cursor, den diese Liste ausgegeben hat (ihr `next`).
field-invalid_language = Das ist kein gültiges Sprachkürzel.
field-unsupported_language = Diese Sprache wird nicht unterstützt.
field-invalid_time_zone = Das ist keine bekannte Zeitzone.
field-must_accept = Dies muss akzeptiert werden.
field-invalid_code_format = Der Code muss aus { $length } Ziffern bestehen.
field-password_too_short = Das Passwort muss mindestens { $min } Zeichen haben.
field-password_too_long = Das Passwort darf höchstens { $max } Zeichen haben.
field-password_needs_lowercase = Das Passwort braucht einen Kleinbuchstaben.
field-password_needs_uppercase = Das Passwort braucht einen Großbuchstaben.
field-password_needs_digit = Das Passwort braucht eine Ziffer.
field-password_needs_symbol = Das Passwort braucht ein Sonderzeichen.
field-password_contains_email = Das Passwort darf Ihre E-Mail-Adresse nicht enthalten.
field-password_too_common = Dieses Passwort ist zu verbreitet.
field-password_mismatch = Die Passwörter stimmen nicht überein.

## Success messages.
message-registration_started = Wir haben einen Code an Ihre E-Mail-Adresse gesendet.
message-registration_started_phone = Wir haben einen Code an Ihre Telefonnummer gesendet.
message-email_verified = Ihre E-Mail-Adresse ist bestätigt.
message-phone_added = Wir haben einen Code an Ihr Telefon gesendet.
message-reference_removed = Der Eintrag wurde entfernt.
message-phone_verified = Ihre Telefonnummer ist bestätigt. Wir haben Ihnen einen Code per E-Mail gesendet.
message-code_resent = Wir haben einen neuen Code gesendet.
message-sign_in_code_sent = Falls ein Konto mit bestätigter Adresse oder Telefonnummer passt, haben wir ihm einen Anmeldecode gesendet.
message-registration_complete = Willkommen! Ihr Konto ist bereit.

## E-mail and SMS texts.
email-code-subject = Ihr Bestätigungscode: { $code }
email-code-text =
    Hallo { $name },

    Ihr Bestätigungscode lautet { $code }. Er ist { $minutes } Minuten gültig.

    Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese E-Mail.
email-taken-subject = Sie haben bereits ein Konto
email-taken-text =
    Hallo,

    jemand hat versucht, mit dieser E-Mail-Adresse ein Konto anzulegen, aber Sie haben bereits eines. Melden Sie sich an oder setzen Sie Ihr Passwort zurück, falls Sie es vergessen haben.

    Wenn Sie das nicht waren, ignorieren Sie diese E-Mail; es wurde nichts geändert.
sms-code-text = Ihr Bestätigungscode lautet { $code }. Er ist { $minutes } Minuten gültig.
sms-taken-text = Jemand wollte sich mit dieser Telefonnummer registrieren, zu der es bereits ein Konto gibt. Waren Sie es, melden Sie sich bitte an; sonst ignorieren Sie diese Nachricht.

## Authentication.
problem-phone_taken-title = Telefonnummer bereits registriert
problem-phone_taken-detail = Es gibt bereits ein Konto mit dieser Telefonnummer.
problem-username_taken-title = Benutzername bereits vergeben
problem-username_taken-detail = Ein anderes Konto verwendet diesen Benutzernamen bereits; bitte wählen Sie einen anderen.
problem-invalid_credentials-title = Ungültige Anmeldedaten
problem-invalid_credentials-detail = Benutzername oder Passwort ist nicht korrekt.
problem-account_inactive-title = Konto nicht aktiv
problem-account_inactive-detail = Dieses Konto ist gesperrt, deaktiviert oder geschlossen.
problem-invalid_token-title = Ungültiges Token
problem-invalid_token-detail = Das Token fehlt, ist ungültig, abgelaufen oder widerrufen. Melden Sie sich erneut an.
problem-invalid_device-title = Ungültiges Gerät
problem-invalid_device-detail = Ein gültiger X-Device-ID-Header (1–128 sichtbare Zeichen) des Geräts dieser Sitzung ist erforderlich.
problem-challenge_not_found-title = Anmeldeschritt nicht gefunden
problem-challenge_not_found-detail = Der Anmeldeschritt existiert nicht oder ist abgelaufen. Melden Sie sich erneut an.
field-incorrect_password = Das Passwort ist nicht korrekt.
message-logged_out = Sie sind abgemeldet.
message-logged_out_everywhere = Sie sind auf allen Geräten abgemeldet.
message-session_ended = Die Sitzung ist beendet.
problem-session_not_found-title = Sitzung nicht gefunden
problem-session_not_found-detail = Sie haben keine solche Sitzung (vielleicht ist sie schon beendet).
problem-provider_not_found-title = Identitätsanbieter nicht gefunden
problem-provider_not_found-detail = Dieser Dienst hat keinen Identitätsanbieter dieses Namens.
problem-invalid_id_token-title = Anmeldung beim Anbieter fehlgeschlagen
problem-invalid_id_token-detail = Die Antwort des Identitätsanbieters ließ sich nicht prüfen (Signatur, Aussteller, Empfänger, Ablauf oder Nonce). Bitte melden Sie sich erneut an.
problem-identity_link_required-title = Anmelden, um dieses Konto zu verknüpfen
problem-identity_link_required-detail = Ein Konto mit dieser Adresse besteht bereits. Melden Sie sich einmal damit an (mit seinem Passwort) und verknüpfen Sie dann das Konto des Anbieters.
problem-identity_taken-title = Identität bereits verknüpft
problem-identity_taken-detail = Dieses Konto des Anbieters ist bereits verknüpft, mit diesem oder einem anderen Benutzer.
problem-identity_not_found-title = Identität nicht gefunden
problem-identity_not_found-detail = Sie haben kein Konto dieses Anbieters verknüpft.
problem-last_sign_in_method-title = Letzte Anmeldemöglichkeit
problem-last_sign_in_method-detail = Dies ist Ihre letzte Möglichkeit, sich anzumelden. Legen Sie zuerst ein Passwort fest oder fügen Sie einen Passkey hinzu.
field-invalid_id = Dies ist keine gültige ID.
message-reset_requested = Falls es für diese Adresse ein Konto gibt, haben wir ihm einen Code gesendet.
message-password_reset = Ihr Passwort wurde geändert. Bitte melden Sie sich erneut an.
message-password_changed = Ihr Passwort wurde geändert. Ihre anderen Sitzungen wurden abgemeldet.
message-profile_updated = Ihr Profil wurde gespeichert.
message-credential_code_sent = Wir haben einen Code zur Bestätigung gesendet.
message-credential_verified = Bestätigt.
message-account_closed = Ihr Konto ist geschlossen.
sms-login-code-text = Ihr Anmeldecode lautet { $code }. Er ist { $minutes } Minuten gültig. Geben Sie ihn nie weiter.
email-reset-subject = Passwort zurücksetzen
email-reset-text =
    Hallo { $name },

    Ihr Code zum Zurücksetzen des Passworts lautet { $code }. Er ist { $minutes } Minuten gültig.

    Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese E-Mail; Ihr Passwort bleibt unverändert.
message-logged_in = Sie sind angemeldet.
message-token_refreshed = Sitzung erneuert.
email-login-code-subject = Ihr Anmeldecode: { $code }

## Privileged registration, lifecycle and reference data.
problem-forbidden-title = Verboten
problem-forbidden-detail = Sie dürfen dies für diesen Benutzer nicht tun.
problem-second_factor_required-title = Zweiter Faktor nötig
problem-second_factor_required-detail = Das Backoffice verlangt eine Sitzung mit zweitem Faktor. Melden Sie sich erneut mit Ihrem zweiten Faktor an (Authenticator-App, Passkey oder Code).
problem-app_session-title = Nicht für Apps
problem-app_session-detail = Das Backoffice verlangt eine Sitzung, die direkt bei Registrar angemeldet ist, nicht eine, die eine App über OpenID Connect erhalten hat. Melden Sie sich über die API an.
problem-user_not_found-title = Benutzer nicht gefunden
problem-user_not_found-detail = Diesen Benutzer gibt es nicht.
problem-invalid_status_change-title = Statuswechsel nicht erlaubt
problem-invalid_status_change-detail = Ein Benutzer im Status { $from } kann nur wechseln zu: { $allowed_list }.
problem-reference_not_found-title = Nicht gefunden
problem-reference_not_found-detail = Diese Referenzdaten gibt es nicht.
field-invalid_country = Das ist kein Ländercode nach ISO 3166-1.
field-invalid_role = Eine Rolle besteht aus 1–64 Zeichen aus A–Z, a–z, 0–9, „.“, „_“, „:“ oder „-“.
field-unknown_role = Diese Rolle steht nicht im Rollenkatalog des Mandanten.
field-too_many = Es sind zu viele Einträge.
field-password_or_invite = Geben Sie entweder ein Passwort oder „invite“: true an.
gender-female = Weiblich
gender-male = Männlich
gender-diverse = Divers
gender-undisclosed = Keine Angabe
language-en = Englisch
language-de = Deutsch
language-fr = Französisch
language-it = Italienisch
legal-terms = Nutzungsbedingungen
legal-privacy = Datenschutzerklärung
message-user_created = Der Benutzer wurde angelegt.
message-user_updated = Der Benutzer wurde gespeichert.
message-status_changed = Der Status wurde geändert.
message-user_unlocked = Das Konto wurde entsperrt.
message-user_sessions_revoked = Alle Sitzungen des Benutzers wurden beendet.
message-user_reset_code_sent = Wir haben dem Benutzer einen Code für ein neues Passwort gesendet.
message-user_reset_required = Der Benutzer muss bei der nächsten Anmeldung ein neues Passwort festlegen.
email-invite-subject = Sie sind eingeladen
email-invite-text =
    Hallo { $name },

    für Sie wurde ein Konto angelegt. Um Ihr Passwort festzulegen, verwenden Sie den Code { $code } ({ $hours } Stunden gültig) mit „Passwort zurücksetzen“ in der App.

## Step-up and changed credentials.
problem-step_up_required-title = Bestätigen Sie, dass Sie es sind
problem-step_up_required-detail = Senden Sie Ihr aktuelles Passwort (current_password), oder melden Sie sich neu an und versuchen Sie es innert weniger Minuten erneut.
email-credential-changed-subject = Ihre Anmeldedaten wurden geändert
email-credential-changed-text =
    Hallo { $name },

    die E-Mail-Adresse oder Telefonnummer Ihres Kontos wurde soeben ersetzt; mit dieser Adresse ist keine Anmeldung mehr möglich.

    Falls Sie das nicht waren, kontaktieren Sie sofort den Support.
sms-credential-changed-text = Die Telefonnummer Ihres Kontos wurde soeben ersetzt; mit dieser Nummer ist keine Anmeldung mehr möglich. Falls Sie das nicht waren, kontaktieren Sie sofort den Support.

## SMS spend guard.
problem-sms_budget_spent-title = SMS-Versand pausiert
problem-sms_budget_spent-detail = Dieser Dienst hat vorerst so viele SMS versandt wie erlaubt. Versuchen Sie es später erneut oder melden Sie sich anders an.
problem-sms_country_not_allowed-title = Land nicht bedient
problem-sms_country_not_allowed-detail = An Nummern dieses Landes werden keine SMS versandt.
field-country_not_allowed = Nummern dieses Landes werden hier nicht angenommen.

# Second factors
problem-totp_already_enabled-title = Authenticator-App bereits aktiv
problem-totp_already_enabled-detail = Für dieses Konto ist bereits eine Authenticator-App aktiv. Entfernen Sie sie zuerst, um eine andere einzurichten.
problem-totp_not_enrolled-title = Keine Authenticator-App
problem-totp_not_enrolled-detail = Für dieses Konto ist keine Authenticator-App eingerichtet.
problem-no_strong_factor-title = Keine Authenticator-App und kein Passkey
problem-no_strong_factor-detail = Wiederherstellungscodes gibt es zu einer Authenticator-App oder einem Passkey. Richten Sie zuerst einen davon ein.
problem-passkey_not_offered-title = Kein Passkey für diese Anmeldung
problem-passkey_not_offered-detail = Dieses Konto hat keinen Passkey für den zweiten Faktor. Verwenden Sie einen der angebotenen Faktoren (einen Code oder eine Authenticator-App).
problem-factor_not_allowed-title = Faktor nicht erlaubt
problem-factor_not_allowed-detail = Dieser Dienst erlaubt diese Art von zweitem Faktor nicht.
problem-sign_in_method_disabled-title = Anmeldeverfahren nicht aktiviert
problem-sign_in_method_disabled-detail = Dieser Dienst erlaubt diese Art der Anmeldung nicht. Verwenden Sie eine der angebotenen.
problem-sign_up_denied-title = Registrierung nicht angenommen
problem-sign_up_denied-detail = Dieser Dienst hat die Registrierung nicht angenommen.
problem-mfa_unavailable-title = Kein zweiter Faktor verfügbar
problem-mfa_unavailable-detail = Dieser Dienst verlangt einen zweiten Faktor, und dieses Konto hat keinen erlaubten. Bitte wenden Sie sich an den Support.
message-totp_enrolled = Scannen Sie den QR-Code mit Ihrer Authenticator-App und bestätigen Sie mit dem ersten Code.
message-totp_enabled = Ihre Authenticator-App ist aktiv.
message-totp_removed = Ihre Authenticator-App wurde entfernt.
message-recovery_codes_created = Bewahren Sie diese Wiederherstellungscodes sicher auf. Jeder gilt einmal, und sie werden nur jetzt angezeigt.
email-recovery-code-used-subject = Mit einem Wiederherstellungscode angemeldet
email-recovery-code-used-text = Soeben wurde ein Wiederherstellungscode verwendet, um sich bei Ihrem Konto anzumelden. Es bleiben { $left } Wiederherstellungscodes. Wenn Sie das nicht waren, ändern Sie sofort Ihr Passwort und wenden Sie sich an den Support.
email-totp_enabled-subject = Ihrem Konto wurde eine Authenticator-App hinzugefügt
email-totp_enabled-text = Eine Authenticator-App dient jetzt als zweiter Faktor für Ihr Konto. Wenn Sie das nicht waren, ändern Sie sofort Ihr Passwort und wenden Sie sich an den Support.
email-totp_removed-subject = Die Authenticator-App wurde von Ihrem Konto entfernt
email-totp_removed-text = Die Authenticator-App wurde von Ihrem Konto entfernt. Wenn Sie das nicht waren, ändern Sie sofort Ihr Passwort und wenden Sie sich an den Support.
email-recovery_codes_regenerated-subject = Neue Wiederherstellungscodes für Ihr Konto
email-recovery_codes_regenerated-text = Für Ihr Konto wurden neue Wiederherstellungscodes erstellt; die alten gelten nicht mehr. Wenn Sie das nicht waren, ändern Sie sofort Ihr Passwort und wenden Sie sich an den Support.
problem-passkeys_not_configured-title = Passkeys nicht eingerichtet
problem-passkeys_not_configured-detail = Dieser Dienst hat Passkeys nicht eingerichtet (keine Relying Party).
problem-passkey_limit-title = Zu viele Passkeys
problem-passkey_limit-detail = Dieses Konto hat die höchste Zahl an Passkeys. Entfernen Sie zuerst einen.
problem-passkey_not_found-title = Passkey nicht gefunden
problem-passkey_not_found-detail = Dieses Konto hat keinen solchen Passkey.
field-invalid_credential = Die Passkey-Antwort ist für diese Anfrage nicht gültig.
field-credential_registered = Dieser Passkey ist bereits registriert.
message-passkey_added = Ihr Passkey wurde hinzugefügt.
message-passkey_removed = Ihr Passkey wurde entfernt.
message-identity_unlinked = Das Konto des Identitätsanbieters wurde getrennt.
email-passkey_added-subject = Ihrem Konto wurde ein Passkey hinzugefügt
email-passkey_added-text = Ein Passkey kann sich jetzt bei Ihrem Konto anmelden. Wenn Sie das nicht waren, ändern Sie sofort Ihr Passwort und wenden Sie sich an den Support.
email-passkey_removed-subject = Ein Passkey wurde von Ihrem Konto entfernt
email-passkey_removed-text = Ein Passkey wurde von Ihrem Konto entfernt. Wenn Sie das nicht waren, ändern Sie sofort Ihr Passwort und wenden Sie sich an den Support.

# Hinweise zum Passwort.
email-password_changed-subject = Ihr Passwort wurde geändert
email-password_changed-text = Das Passwort Ihres Kontos wurde soeben geändert, und Ihre anderen Sitzungen wurden abgemeldet. Wenn Sie das nicht waren, setzen Sie Ihr Passwort sofort zurück und wenden Sie sich an den Support.
sms-password_changed-text = Das Passwort Ihres Kontos wurde soeben geändert. Wenn Sie das nicht waren, setzen Sie es sofort zurück und wenden Sie sich an den Support.
email-password_reset-subject = Ihr Passwort wurde zurückgesetzt
email-password_reset-text = Das Passwort Ihres Kontos wurde soeben mit einem Code zurückgesetzt, und alle Sitzungen wurden abgemeldet. Wenn Sie das nicht waren, setzen Sie Ihr Passwort erneut zurück und wenden Sie sich an den Support.
sms-password_reset-text = Das Passwort Ihres Kontos wurde soeben zurückgesetzt. Wenn Sie das nicht waren, setzen Sie es erneut zurück und wenden Sie sich an den Support.

# OpenID Connect: the page of RP-initiated logout (/oauth2/logout).
page-signed-out-title = Abgemeldet
page-signed-out-body = Sie sind abgemeldet. Sie können diese Seite schliessen.
page-signed-out-invalid = Dieser Abmeldelink ist nicht gültig. Wenn Sie sich abmelden wollten, melden Sie sich in der App erneut ab.
page-signed-out-unregistered = Sie sind abgemeldet. Die Rücksprungadresse der App ist nicht registriert, darum bleiben Sie auf dieser Seite.

## The hosted sign-in pages (docs/hosted-pages.md).
page-default-name = Anmeldung
page-sign-in-title = Anmelden
page-username = E-Mail-Adresse oder Telefon
page-password = Passwort
page-submit-sign-in = Anmelden
page-mfa-title = Bestätigung in zwei Schritten
page-mfa-sent-sms = Wir haben Ihnen einen Code per SMS geschickt.
page-mfa-sent-email = Wir haben Ihnen einen Code per E-Mail geschickt.
page-mfa-intro = Bestätigen Sie mit Ihrem zweiten Faktor, dass Sie es sind.
page-factor = Methode
page-factor-totp = Authenticator-App
page-factor-sms = Code per SMS
page-factor-email = Code per E-Mail
page-factor-recovery_code = Wiederherstellungscode
page-code = Code
page-submit-verify = Bestätigen
page-new-password-title = Neues Passwort wählen
page-new-password = Neues Passwort
page-confirm-password = Neues Passwort wiederholen
page-submit-save = Speichern
page-legal-title = Nutzungsbedingungen und Datenschutz
page-accept-terms = Ich akzeptiere die Nutzungsbedingungen (Version { $version }).
page-accept-privacy = Ich akzeptiere die Datenschutzerklärung (Version { $version }).
page-submit-continue = Weiter
page-forgot-link = Passwort vergessen?
page-forgot-title = Passwort zurücksetzen
page-forgot-intro = Geben Sie die E-Mail-Adresse Ihres Kontos ein. Wir senden ihr einen Code, mit dem Sie ein neues Passwort wählen.
page-email = E-Mail-Adresse
page-submit-send-code = Code senden
page-reset-title = Neues Passwort wählen
page-reset-sent = Falls es für { $email } ein Konto gibt, haben wir ihm einen Code gesendet. Geben Sie ihn mit Ihrem neuen Passwort ein.
page-reset-done = Ihr Passwort wurde geändert. Melden Sie sich mit Ihrem neuen Passwort an.
page-error-title = Anmeldung nicht möglich
page-error-unknown_client = Die Anwendung, die Sie hierher geschickt hat, ist nicht bekannt.
page-error-invalid_redirect_uri = Die Anwendung möchte zu einer Adresse zurück, die sie nicht registriert hat.
page-error-csrf = Dieses Formular wurde nicht von dieser Seite gesendet oder ist abgelaufen. Kehren Sie zur Anwendung zurück und beginnen Sie erneut.
page-error-step = Dieser Schritt ist nicht bekannt. Kehren Sie zur Anwendung zurück und beginnen Sie erneut.

## The hosted sign-up pages (pages/signup.rs).
page-signup-link = Konto erstellen
page-signup-title = Konto erstellen
page-phone = Mobiltelefon (international, z. B. +41791234567)
page-email-optional = E-Mail-Adresse (optional)
page-signup-username = Benutzername
page-first-name = Vorname
page-last-name = Nachname
page-birth-date = Geburtsdatum (optional)
page-signup-confirm-password = Passwort wiederholen
page-signup-terms = Nutzungsbedingungen
page-signup-privacy = Datenschutzerklärung
page-submit-sign-up = Konto erstellen
page-signup-email-title = E-Mail-Adresse bestätigen
page-signup-email-sent = Wir haben einen Code an Ihre E-Mail-Adresse gesendet. Geben Sie ihn hier ein.
page-signup-sms-title = Telefon bestätigen
page-signup-sms-sent = Wir haben Ihnen einen Code per SMS geschickt. Geben Sie ihn hier ein.
page-signup-resend = Neuen Code senden
page-signup-resent = Wir haben Ihnen einen neuen Code gesendet.
page-signup-phone-title = Mobiltelefon hinzufügen
page-signup-phone-intro = Wir senden einen Code per SMS, um es zu bestätigen.
page-signup-done = Ihr Konto ist bereit. Melden Sie sich an.

## Sign-in with other identity providers (hosted pages).
page-idp-continue = Weiter mit { $provider }
page-idp-continue-title = Weiter
page-idp-unavailable = Der Identitätsanbieter ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal oder melden Sie sich anders an.
page-error-idp_state = Diese Anmeldung beim Identitätsanbieter ist abgelaufen oder wurde schon verwendet. Bitte beginnen Sie in der App von vorn.
page-error-idp_browser = Diese Anmeldung beim Identitätsanbieter wurde in einem anderen Browser begonnen. Bitte beginnen Sie in der App von vorn.
page-idp-cancelled = Die Anmeldung beim Identitätsanbieter wurde abgebrochen. Melden Sie sich anders an oder versuchen Sie es erneut.
page-idp-failed = Die Antwort des Identitätsanbieters ließ sich nicht prüfen. Bitte versuchen Sie es erneut.
page-idp-link-title = Konto verknüpfen
page-idp-link-intro = Ein Konto mit { $email } besteht bereits. Geben Sie einmal sein Passwort ein, um Ihr { $provider }-Konto damit zu verknüpfen; danach meldet { $provider } Sie an.
page-idp-link-submit = Verknüpfen und anmelden

## Hosted pages: the passwordless code and the passkey (pages/passwordless.rs)
page-code-link = Stattdessen mit einem Code anmelden
page-code-title = Mit einem Code anmelden
page-code-intro = Geben Sie Ihre E-Mail-Adresse oder Telefonnummer ein. Wir senden Ihnen einen Code, mit dem Sie sich anmelden.
page-channel = Code senden per
page-channel-email = E-Mail
page-channel-sms = SMS
page-code-sent = Falls es für { $username } ein Konto gibt, haben wir ihm einen Code gesendet. Geben Sie ihn ein, um sich anzumelden.
page-password-link = Stattdessen mit dem Passwort anmelden
page-passkey-link = Mit einem Passkey anmelden
page-passkey-title = Mit einem Passkey anmelden
page-passkey-intro = Verwenden Sie den Passkey auf diesem Gerät, einen Sicherheitsschlüssel oder Ihr Telefon.
page-passkey-button = Passkey verwenden
page-passkey-noscript = Ein Passkey braucht JavaScript, das ausgeschaltet ist. Melden Sie sich stattdessen mit Ihrem Passwort oder einem Code an.
page-passkey-failed = Es wurde kein Passkey verwendet. Versuchen Sie es noch einmal oder melden Sie sich anders an.
page-mfa-passkey-link = Stattdessen Ihren Passkey verwenden
