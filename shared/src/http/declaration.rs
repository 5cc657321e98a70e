//! Every endpoint, declared once: its name, method and path, what the
//! caller must present, its Lambda function, its handler and what the
//! function sends. Each consumer expands the one table with its own macro
//! (`routes.rs`: the `Endpoint` enum and the route table; `endpoints.rs`:
//! one handler type per endpoint and the local API's dispatch), so adding an
//! endpoint is one line here (and its handler, function binary, template
//! entry, event and OpenAPI operation, which tests check against this
//! table).
//!
//! A row reads `Name: METHOD "path", auth, "function" => handler, needs;`:
//! `auth` is a variant of `routes::Auth`, `handler` a function of
//! `handlers`, `needs` one of `NOTHING`, `EMAIL`, `SMS`, `BOTH`.

/// Calls `$consumer!` with every row of the table.
macro_rules! endpoint_table {
    ($consumer:ident) => {
        $consumer! {
            Health: GET "/v1/health", None, "health" => meta::health, NOTHING;
            Jwks: GET "/.well-known/jwks.json", None, "jwks" => meta::jwks, NOTHING;
            OpenidConfiguration: GET "/.well-known/openid-configuration", None, "openid-configuration" => meta::openid_configuration, NOTHING;
            Preflight: OPTIONS "/{proxy+}", None, "preflight" => meta::preflight, NOTHING;
            StartRegistration: POST "/v1/registrations", ApiKey, "start-registration" => registration::start_registration, BOTH;
            GetRegistration: GET "/v1/registrations/{id}", ApiKey, "get-registration" => registration::get_registration, NOTHING;
            VerifyRegistrationEmail: POST "/v1/registrations/{id}/email/verify", ApiKey, "verify-registration-email" => registration::verify_registration_email, NOTHING;
            AddRegistrationPhone: POST "/v1/registrations/{id}/phone", ApiKey, "add-registration-phone" => registration::add_registration_phone, SMS;
            VerifyRegistrationPhone: POST "/v1/registrations/{id}/phone/verify", ApiKey, "verify-registration-phone" => registration::verify_registration_phone, EMAIL;
            ResendRegistrationCode: POST "/v1/registrations/{id}/resend", ApiKey, "resend-registration-code" => registration::resend_registration_code, BOTH;
            Login: POST "/v1/auth/login", ApiKey, "login" => auth::login, BOTH;
            VerifyMfa: POST "/v1/auth/mfa", ApiKey, "verify-mfa" => auth::verify_mfa, EMAIL;
            SendMfaCode: POST "/v1/auth/mfa/send", ApiKey, "send-mfa-code" => auth::send_mfa_code, BOTH;
            SendSignInCode: POST "/v1/auth/code/send", ApiKey, "send-sign-in-code" => auth::send_sign_in_code, BOTH;
            SignInWithCode: POST "/v1/auth/code", ApiKey, "sign-in-with-code" => auth::sign_in_with_code, BOTH;
            CompletePasswordChallenge: POST "/v1/auth/password/challenge", ApiKey, "complete-password-challenge" => auth::complete_password_challenge, BOTH;
            AcceptLegalDocuments: POST "/v1/auth/legal/accept", ApiKey, "accept-legal-documents" => auth::accept_legal_documents, NOTHING;
            Refresh: POST "/v1/auth/refresh", ApiKey, "refresh" => auth::refresh, NOTHING;
            Logout: POST "/v1/auth/logout", Bearer, "logout" => auth::logout, NOTHING;
            LogoutAll: POST "/v1/auth/logout-all", Bearer, "logout-all" => auth::logout_all, NOTHING;
            ForgotPassword: POST "/v1/auth/password/forgot", ApiKey, "forgot-password" => auth::forgot_password, EMAIL;
            ResetPassword: POST "/v1/auth/password/reset", ApiKey, "reset-password" => auth::reset_password, EMAIL;
            GetMe: GET "/v1/me", Bearer, "get-me" => me::get_me, NOTHING;
            UpdateMe: PATCH "/v1/me", Bearer, "update-me" => me::update_me, NOTHING;
            CloseMe: DELETE "/v1/me", Bearer, "close-me" => me::close_me, NOTHING;
            AddCredential: POST "/v1/me/credentials", Bearer, "add-credential" => me::add_credential, BOTH;
            VerifyCredential: POST "/v1/me/credentials/verify", Bearer, "verify-credential" => me::verify_credential, BOTH;
            ChangePassword: POST "/v1/me/password", Bearer, "change-password" => me::change_password, BOTH;
            ListSessions: GET "/v1/me/sessions", Bearer, "list-sessions" => me::list_sessions, NOTHING;
            DeleteSession: DELETE "/v1/me/sessions/{id}", Bearer, "delete-session" => me::delete_session, NOTHING;
            GetFactors: GET "/v1/me/factors", Bearer, "get-factors" => factors::get_factors, NOTHING;
            EnrollTotp: POST "/v1/me/factors/totp", Bearer, "enroll-totp" => factors::enroll_totp, NOTHING;
            ConfirmTotp: POST "/v1/me/factors/totp/confirm", Bearer, "confirm-totp" => factors::confirm_totp, EMAIL;
            RemoveTotp: DELETE "/v1/me/factors/totp", Bearer, "remove-totp" => factors::remove_totp, EMAIL;
            RegenerateRecoveryCodes: POST "/v1/me/factors/recovery-codes", Bearer, "regenerate-recovery-codes" => factors::regenerate_recovery_codes, EMAIL;
            BeginPasskeyRegistration: POST "/v1/me/passkeys/options", Bearer, "begin-passkey-registration" => factors::begin_passkey_registration, NOTHING;
            FinishPasskeyRegistration: POST "/v1/me/passkeys", Bearer, "finish-passkey-registration" => factors::finish_passkey_registration, EMAIL;
            DeletePasskey: DELETE "/v1/me/passkeys/{id}", Bearer, "delete-passkey" => factors::delete_passkey, EMAIL;
            PasskeySignInOptions: POST "/v1/auth/passkey/options", ApiKey, "passkey-sign-in-options" => factors::passkey_sign_in_options, NOTHING;
            PasskeySignIn: POST "/v1/auth/passkey", ApiKey, "passkey-sign-in" => factors::passkey_sign_in, NOTHING;
            CreateUser: POST "/v1/users", Admin, "create-user" => users::create_user, EMAIL;
            ImportUsers: POST "/v1/users/import", Admin, "import-users" => users::import_users, NOTHING;
            ListUsers: GET "/v1/users", Admin, "list-users" => users::list_users, NOTHING;
            GetUser: GET "/v1/users/{id}", Admin, "get-user" => users::get_user, NOTHING;
            ChangeUserStatus: POST "/v1/users/{id}/status", Admin, "change-user-status" => users::change_user_status, NOTHING;
            UpdateUser: PATCH "/v1/users/{id}", Admin, "update-user" => users::update_user, NOTHING;
            UnlockUser: POST "/v1/users/{id}/unlock", Admin, "unlock-user" => users::unlock_user, NOTHING;
            ResetUserPassword: POST "/v1/users/{id}/password-reset", Admin, "reset-user-password" => users::reset_user_password, EMAIL;
            RevokeUserSessions: POST "/v1/users/{id}/sessions/revoke", Admin, "revoke-user-sessions" => users::revoke_user_sessions, NOTHING;
            GetUserAudit: GET "/v1/users/{id}/audit", Admin, "get-user-audit" => users::get_user_audit, NOTHING;
            ListReference: GET "/v1/reference/{kind}", ApiKey, "list-reference" => reference::list_reference, NOTHING;
            GetReference: GET "/v1/reference/{kind}/{code}", ApiKey, "get-reference" => reference::get_reference, NOTHING;
            PutReference: PUT "/v1/reference/{kind}/{code}", Admin, "put-reference" => reference::put_reference, NOTHING;
            DeleteReference: DELETE "/v1/reference/{kind}/{code}", Admin, "delete-reference" => reference::delete_reference, NOTHING;
        }
    };
}

pub(crate) use endpoint_table;
