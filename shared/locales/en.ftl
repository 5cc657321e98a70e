## Problems: a title and a detail per stable code.
problem-validation_failed-title = Invalid input
problem-validation_failed-detail = Some fields are missing or invalid; see the field errors.
problem-malformed_body-title = Malformed request body
problem-malformed_body-detail = The request body is not valid JSON (line { $line }, column { $column }).
problem-device_required-title = Device id required
problem-device_required-detail = Send the X-Device-ID header (1–128 visible characters) that names this device; sign-ins, refreshes and logouts are bound to it.
problem-unsupported_media_type-title = Unsupported media type
problem-unsupported_media_type-detail = Send the body as application/json.
problem-payload_too_large-title = Request body too large
problem-payload_too_large-detail = The request body may be at most { $max } bytes.
problem-unauthorized-title = Not authorized
problem-unauthorized-detail = A valid API key is required in the X-API-Key header.
problem-not_found-title = Not found
problem-not_found-detail = There is nothing at this address.
problem-method_not_allowed-title = Method not allowed
problem-method_not_allowed-detail = This address does not accept this method.
problem-registration_not_found-title = Registration not found
problem-registration_not_found-detail = The registration does not exist or has expired. Start again.
problem-step_out_of_order-title = Step out of order
problem-step_out_of_order-detail = { $next ->
    [done] This sign-up is already complete; sign in instead.
   *[other] This step is not possible now. The next step is { $next }.
}
problem-invalid_code-title = Invalid code
problem-invalid_code-detail = The code is wrong, has expired or was used up (a code stops working after a few wrong tries). Check it or request a new one.
problem-rate_limited-title = Too many requests
problem-rate_limited-detail = Please wait { $retry_after } seconds before trying again.
problem-send_limit_reached-title = Send limit reached
problem-send_limit_reached-detail = No more codes can be sent for this registration. Start again later.
problem-email_taken-title = E-mail address already registered
problem-email_taken-detail = An account with this e-mail address already exists.
problem-conflict-title = Conflict
problem-conflict-detail = The resource was changed at the same time. Please try again.
problem-unavailable-title = Service temporarily unavailable
problem-unavailable-detail = A service we depend on did not answer. Nothing was lost; please try again.
problem-internal-title = Internal error
problem-internal-detail = Something went wrong on our side.

## Field errors.
field-required = This field is required.
field-wrong_type = This field has the wrong type; expected { $expected }.
field-unknown_field = This field is not known.
field-too_long = This value is too long.
field-invalid_format = This value does not have the expected format.
field-read_only_kind = This reference kind is built in and cannot be changed.
field-invalid_kind = A kind's name has 2 to 40 lower-case letters, digits or hyphens.
field-invalid_names = These names do not fit the tenant's reference rules.
field-invalid_entry_code = A code has 1 to 64 letters, digits, dots, underscores or hyphens.
field-no_email = This user has no e-mail address to send to.
field-unknown_reference = There is no such entry of this reference kind.
field-too_short = This value is too short.
field-invalid_username = A username has 3 to 32 letters, digits, dots, underscores or hyphens, and starts with a letter.
field-invalid_email = This is not a valid e-mail address.
field-invalid_phone = This is not a valid phone number in international format (+41…).
field-invalid_phone_prefix = This is not a valid country calling code.
field-conflicting_fields = Give either the phone number or its prefix and number, not both.
field-invalid_characters = This value contains characters that are not allowed.
field-invalid_choice = This value is not one of the allowed choices.
field-filter_required = Give at least one of email, phone, status or company_id.
field-invalid_date = This is not a valid date (YYYY-MM-DD).
field-invalid_datetime = This is not a valid time (RFC 3339, e.g. 2026-11-20T09:30:00Z).
field-out_of_range = This value is out of range.
field-invalid_cursor = This is not a cursor this listing gave out (its `next`).
field-invalid_language = This is not a valid language tag.
field-unsupported_language = This language is not supported.
field-invalid_time_zone = This is not a known time zone.
field-must_accept = This must be accepted.
field-invalid_code_format = The code must consist of { $length } digits.
field-password_too_short = The password must have at least { $min } characters.
field-password_too_long = The password may have at most { $max } characters.
field-password_needs_lowercase = The password needs a lower-case letter.
field-password_needs_uppercase = The password needs an upper-case letter.
field-password_needs_digit = The password needs a digit.
field-password_needs_symbol = The password needs a symbol.
field-password_contains_email = The password must not contain your e-mail address.
field-password_too_common = This password is too common.
field-password_mismatch = The passwords do not match.

## Success messages.
message-registration_started = We sent a code to your e-mail address.
message-registration_started_phone = We sent a code to your phone.
message-email_verified = Your e-mail address is confirmed.
message-phone_added = We sent a code to your phone.
message-reference_removed = The entry was removed.
message-phone_verified = Your phone number is confirmed. We sent a code to your e-mail address.
message-code_resent = We sent a new code.
message-sign_in_code_sent = If an account with a verified address or phone matches, we sent it a sign-in code.
message-registration_complete = Welcome! Your account is ready.

## E-mail and SMS texts.
email-code-subject = Your confirmation code: { $code }
email-code-text =
    Hello { $name },

    your confirmation code is { $code }. It is valid for { $minutes } minutes.

    If you did not ask for it, ignore this e-mail.
email-taken-subject = You already have an account
email-taken-text =
    Hello,

    someone tried to create an account with this e-mail address, but you already have one. Sign in, or reset your password if you forgot it.

    If this was not you, ignore this e-mail; nothing was changed.
sms-code-text = Your confirmation code is { $code }. It is valid for { $minutes } minutes.
sms-taken-text = Someone tried to sign up with this phone number, which already has an account. If it was you, sign in instead; if not, ignore this message.

## Authentication.
problem-phone_taken-title = Phone number already registered
problem-phone_taken-detail = An account with this phone number already exists.
problem-username_taken-title = Username already taken
problem-username_taken-detail = Another account already uses this username; choose another one.
problem-invalid_credentials-title = Invalid credentials
problem-invalid_credentials-detail = The username or password is not correct.
problem-account_inactive-title = Account not active
problem-account_inactive-detail = This account is suspended, disabled or closed.
problem-invalid_token-title = Invalid token
problem-invalid_token-detail = The token is missing, invalid, expired or revoked. Sign in again.
problem-invalid_device-title = Invalid device
problem-invalid_device-detail = A valid X-Device-ID header (1–128 visible characters) of the device that holds this session is required.
problem-challenge_not_found-title = Challenge not found
problem-challenge_not_found-detail = The login step does not exist or has expired. Sign in again.
field-incorrect_password = The password is not correct.
message-logged_out = You are signed out.
message-logged_out_everywhere = You are signed out on all devices.
message-session_ended = The session is ended.
problem-session_not_found-title = Session not found
problem-session_not_found-detail = You have no such session (it may have ended already).
problem-provider_not_found-title = Identity provider not found
problem-provider_not_found-detail = This service has no identity provider by that name.
problem-invalid_id_token-title = Sign-in with the provider failed
problem-invalid_id_token-detail = The identity provider's answer could not be verified (signature, issuer, audience, expiry or nonce). Please sign in again.
problem-identity_link_required-title = Sign in to link this account
problem-identity_link_required-detail = An account with this address exists already. Sign in to it once (with its password), then link the provider's account to it.
problem-identity_taken-title = Identity already linked
problem-identity_taken-detail = This provider account is linked already, to this user or another one.
problem-identity_not_found-title = Identity not found
problem-identity_not_found-detail = You have no account of this provider linked.
problem-last_sign_in_method-title = Last way to sign in
problem-last_sign_in_method-detail = This is your last way to sign in. Set a password or add a passkey first.
field-invalid_id = This is not a valid id.
message-reset_requested = If an account exists for this address, we sent it a code.
message-password_reset = Your password was changed. Please sign in again.
message-password_changed = Your password was changed. Your other sessions were signed out.
message-profile_updated = Your profile was saved.
message-credential_code_sent = We sent a code to confirm it.
message-credential_verified = Confirmed.
message-account_closed = Your account is closed.
sms-login-code-text = Your sign-in code is { $code }. It is valid for { $minutes } minutes. Never share it.
email-reset-subject = Reset your password
email-reset-text =
    Hello { $name },

    your code to reset your password is { $code }. It is valid for { $minutes } minutes.

    If you did not ask for it, ignore this e-mail; your password stays as it is.
message-logged_in = You are signed in.
message-token_refreshed = Session renewed.
email-login-code-subject = Your sign-in code: { $code }

## Privileged registration, lifecycle and reference data.
problem-forbidden-title = Forbidden
problem-forbidden-detail = You may not do this for this user.
problem-second_factor_required-title = Second factor required
problem-second_factor_required-detail = The back office needs a session that passed a second factor. Sign in again with your second factor (an authenticator app, a passkey or a code).
problem-app_session-title = Not for apps
problem-app_session-detail = The back office takes a session signed in to Registrar itself, not one an app was given through OpenID Connect. Sign in with the API.
problem-user_not_found-title = User not found
problem-user_not_found-detail = There is no such user.
problem-invalid_status_change-title = Status change not allowed
problem-invalid_status_change-detail = A user in status { $from } can only move to: { $allowed_list }.
problem-reference_not_found-title = Not found
problem-reference_not_found-detail = There is no such reference data.
field-invalid_country = This is not an ISO 3166-1 country code.
field-invalid_role = A role is 1–64 characters of A–Z, a–z, 0–9, ".", "_", ":" or "-".
field-unknown_role = This role is not in the tenant's role catalogue.
field-too_many = There are too many entries.
field-password_or_invite = Give either a password or "invite": true.
gender-female = Female
gender-male = Male
gender-diverse = Diverse
gender-undisclosed = Not disclosed
language-en = English
language-de = German
language-fr = French
language-it = Italian
legal-terms = Terms of use
legal-privacy = Privacy policy
message-user_created = The user was created.
message-user_updated = The user was saved.
message-status_changed = The status was changed.
message-user_unlocked = The account was unlocked.
message-user_sessions_revoked = Every session of the user was ended.
message-user_reset_code_sent = We sent the user a code to set a new password.
message-user_reset_required = The user must set a new password at the next sign-in.
email-invite-subject = You are invited
email-invite-text =
    Hello { $name },

    an account was created for you. To set your password, use the code { $code } (valid for { $hours } hours) with "reset password" in the app.

## Step-up and changed credentials.
problem-step_up_required-title = Confirm it is you
problem-step_up_required-detail = Send your current password (current_password), or sign in again and retry within a few minutes.
email-credential-changed-subject = Your sign-in details were changed
email-credential-changed-text =
    Hello { $name },

    the e-mail address or phone number of your account was just replaced, and this address no longer signs in to it.

    If this was not you, contact support at once.
sms-credential-changed-text = The phone number of your account was just replaced; this number no longer signs in to it. If this was not you, contact support at once.

## SMS spend guard.
problem-sms_budget_spent-title = Text messages paused
problem-sms_budget_spent-detail = This service has sent as many text messages as it may for now. Try again later, or use another way to sign in.
problem-sms_country_not_allowed-title = Country not served
problem-sms_country_not_allowed-detail = Text messages are not sent to numbers of this country.
field-country_not_allowed = Numbers of this country are not accepted here.

# Second factors
problem-totp_already_enabled-title = Authenticator app already on
problem-totp_already_enabled-detail = An authenticator app is already on for this account. Remove it first to enroll another.
problem-totp_not_enrolled-title = No authenticator app
problem-totp_not_enrolled-detail = There is no authenticator app enrollment for this account.
problem-no_strong_factor-title = No authenticator app or passkey
problem-no_strong_factor-detail = Recovery codes come with an authenticator app or a passkey. Enroll one first.
problem-passkey_not_offered-title = No passkey for this sign-in
problem-passkey_not_offered-detail = This account has no passkey to answer the second factor with. Use one of the factors the sign-in offered (a code, or an authenticator app).
problem-factor_not_allowed-title = Factor not allowed
problem-factor_not_allowed-detail = This service does not allow this kind of second factor.
problem-sign_in_method_disabled-title = Sign-in method not enabled
problem-sign_in_method_disabled-detail = This service does not let you sign in this way. Use one of the ways it offers.
problem-sign_up_denied-title = Sign-up not accepted
problem-sign_up_denied-detail = This service did not accept the sign-up.
problem-mfa_unavailable-title = No second factor available
problem-mfa_unavailable-detail = This service requires a second factor, and this account has none it allows. Please contact support.
message-totp_enrolled = Scan the QR code with your authenticator app, then confirm with its first code.
message-totp_enabled = Your authenticator app is on.
message-totp_removed = Your authenticator app was removed.
message-recovery_codes_created = Keep these recovery codes somewhere safe. Each works once, and they are shown only now.
email-recovery-code-used-subject = A recovery code was used to sign in
email-recovery-code-used-text = A recovery code was just used to sign in to your account. { $left } recovery codes are left. If this was not you, change your password and contact support at once.
email-totp_enabled-subject = An authenticator app was added to your account
email-totp_enabled-text = An authenticator app now signs in to your account as its second factor. If this was not you, change your password and contact support at once.
email-totp_removed-subject = The authenticator app was removed from your account
email-totp_removed-text = The authenticator app was removed from your account. If this was not you, change your password and contact support at once.
email-recovery_codes_regenerated-subject = New recovery codes for your account
email-recovery_codes_regenerated-text = New recovery codes were made for your account; the old ones no longer work. If this was not you, change your password and contact support at once.
problem-passkeys_not_configured-title = Passkeys not set up
problem-passkeys_not_configured-detail = This service has not set up passkeys (no relying party).
problem-passkey_limit-title = Too many passkeys
problem-passkey_limit-detail = This account has the most passkeys it can have. Remove one first.
problem-passkey_not_found-title = Passkey not found
problem-passkey_not_found-detail = There is no such passkey on this account.
field-invalid_credential = The passkey response is not valid for this request.
field-credential_registered = This passkey is already registered.
message-passkey_added = Your passkey was added.
message-passkey_removed = Your passkey was removed.
message-identity_unlinked = The account of the identity provider was unlinked.
email-passkey_added-subject = A passkey was added to your account
email-passkey_added-text = A passkey can now sign in to your account. If this was not you, change your password and contact support at once.
email-passkey_removed-subject = A passkey was removed from your account
email-passkey_removed-text = A passkey was removed from your account. If this was not you, change your password and contact support at once.

# Password notices: a changed or reset password is announced.
email-password_changed-subject = Your password was changed
email-password_changed-text = The password of your account was just changed, and your other sessions were signed out. If this was not you, reset your password and contact support at once.
sms-password_changed-text = The password of your account was just changed. If this was not you, reset your password and contact support at once.
email-password_reset-subject = Your password was reset
email-password_reset-text = The password of your account was just reset with a code, and every session was signed out. If this was not you, reset your password again and contact support at once.
sms-password_reset-text = The password of your account was just reset. If this was not you, reset it again and contact support at once.

# OpenID Connect: the page of RP-initiated logout (/oauth2/logout).
page-signed-out-title = Signed out
page-signed-out-body = You are signed out. You can close this page.
page-signed-out-invalid = This sign-out link is not valid. If you meant to sign out, sign out in the app again.
page-signed-out-unregistered = You are signed out. The app's return address is not registered, so you stay on this page.

## The hosted sign-in pages (docs/hosted-pages.md).
page-default-name = Sign-in
page-sign-in-title = Sign in
page-username = E-mail address or phone
page-password = Password
page-submit-sign-in = Sign in
page-mfa-title = Two-step verification
page-mfa-sent-sms = We sent you a code by SMS.
page-mfa-sent-email = We sent you a code by e-mail.
page-mfa-intro = Confirm it is you with your second factor.
page-factor = Method
page-factor-totp = Authenticator app
page-factor-sms = Code by SMS
page-factor-email = Code by e-mail
page-factor-recovery_code = Recovery code
page-code = Code
page-submit-verify = Verify
page-new-password-title = Choose a new password
page-new-password = New password
page-confirm-password = New password again
page-submit-save = Save
page-legal-title = Terms and privacy
page-accept-terms = I accept the terms of use (version { $version }).
page-accept-privacy = I accept the privacy policy (version { $version }).
page-submit-continue = Continue
page-forgot-link = Forgot your password?
page-forgot-title = Reset your password
page-forgot-intro = Enter the e-mail address of your account. We will send it a code to choose a new password.
page-email = E-mail address
page-submit-send-code = Send code
page-reset-title = Choose a new password
page-reset-sent = If an account exists for { $email }, we sent it a code. Enter it with your new password.
page-reset-done = Your password was changed. Sign in with your new password.
page-error-title = Sign-in not possible
page-error-unknown_client = The application that sent you here is not known.
page-error-invalid_redirect_uri = The application asked to return to an address it has not registered.
page-error-csrf = This form was not sent from this page, or it has expired. Go back to the application and start again.
page-error-step = This step is not known. Go back to the application and start again.

## The hosted sign-up pages (pages/signup.rs).
page-signup-link = Create an account
page-signup-title = Create an account
page-phone = Mobile phone (international, e.g. +41791234567)
page-email-optional = E-mail address (optional)
page-signup-username = Username
page-first-name = First name
page-last-name = Last name
page-birth-date = Date of birth (optional)
page-signup-confirm-password = Password again
page-signup-terms = Terms of use
page-signup-privacy = Privacy policy
page-submit-sign-up = Create account
page-signup-email-title = Confirm your e-mail address
page-signup-email-sent = We sent a code to your e-mail address. Enter it here.
page-signup-sms-title = Confirm your phone
page-signup-sms-sent = We sent a code by SMS to your phone. Enter it here.
page-signup-resend = Send a new code
page-signup-resent = We sent you a new code.
page-signup-phone-title = Add your mobile phone
page-signup-phone-intro = We will send a code by SMS to confirm it.
page-signup-done = Your account is ready. Sign in.

## Sign-in with other identity providers (hosted pages).
page-idp-continue = Continue with { $provider }
page-idp-continue-title = Continue
page-idp-unavailable = The identity provider cannot be reached just now. Please try again in a moment, or sign in another way.
page-error-idp_state = This sign-in with the identity provider has expired or was used already. Please start again from the app.
page-error-idp_browser = This sign-in with the identity provider was started in another browser. Please start again from the app.
page-idp-cancelled = The sign-in with the identity provider was cancelled. Sign in another way, or try again.
page-idp-failed = The identity provider's answer could not be verified. Please try again.
page-idp-link-title = Link your account
page-idp-link-intro = An account with { $email } exists already. Enter its password once to link your { $provider } account to it; from then on { $provider } signs you in.
page-idp-link-submit = Link and sign in

## Hosted pages: the passwordless code and the passkey (pages/passwordless.rs)
page-code-link = Sign in with a code instead
page-code-title = Sign in with a code
page-code-intro = Enter your e-mail address or phone. We will send you a code to sign in with.
page-channel = Send the code by
page-channel-email = E-mail
page-channel-sms = SMS
page-code-sent = If an account exists for { $username }, we sent it a code. Enter it to sign in.
page-password-link = Sign in with your password instead
page-passkey-link = Sign in with a passkey
page-passkey-title = Sign in with a passkey
page-passkey-intro = Use the passkey saved on this device, a security key or your phone.
page-passkey-button = Use a passkey
page-passkey-noscript = A passkey needs JavaScript, which is off. Sign in with your password or a code instead.
page-passkey-failed = No passkey was used. Try again, or sign in another way.
page-mfa-passkey-link = Use your passkey instead
