//! Every endpoint, declared once: its name, method and path, what the
//! caller must present, its Lambda function, its handler, what the function
//! sends, and what it answers. Each consumer expands the one table with its
//! own macro (`routes.rs`: the `Endpoint` enum and the route table, with
//! each route's statuses; `endpoints.rs`: one handler type per endpoint,
//! the local API's dispatch, and each endpoint's answer schemas, from its
//! handler's answer type), so adding an endpoint is one row here (and its
//! handler, function binary, template entry, event and the request side of
//! its OpenAPI operation, which tests check against this table).
//!
//! A row reads
//! `Name: METHOD "path", auth, "function" => handler, needs, ok, [problems];`:
//! `auth` is a variant of `routes::Auth`; `handler` a function of
//! `handlers`, `async fn(&Ctx) -> Result<Reply<T>, Problem>`, whose `T` is
//! the documented success body; `needs` one of `NOTHING`, `EMAIL`, `SMS`,
//! `BOTH`; `ok` the success status (or several, `200 | 201`: the reply's
//! status must be one of them, which debug builds check); `problems` the
//! problem statuses besides 401 and 503 (added for authenticated routes)
//! and 400 (for routes that need `X-Device-ID`). The OpenID Provider's
//! protocol routes (`/oauth2/…`) list OAuth 2.0's error answers (JSON
//! `{error, error_description}`, 400 and 401) among their `ok` statuses:
//! they are typed answers of the handler (`handlers::oauth::OAuth`), not
//! problems.

/// Calls `$consumer!` with every row of the table.
macro_rules! endpoint_table {
    ($consumer:ident) => {
        $consumer! {
            Health: GET "/v1/health", None, "health" => meta::health, NOTHING,
                200, [];
            Jwks: GET "/.well-known/jwks.json", None, "jwks" => meta::jwks, NOTHING,
                200, [];
            OpenidConfiguration: GET "/.well-known/openid-configuration", None, "openid-configuration" => meta::openid_configuration, NOTHING,
                200, [];
            Authorize: GET "/oauth2/authorize", Client, "authorize" => pages::authorize, NOTHING,
                200 | 302 | 400 | 429 | 503, [];
            HostedSignIn: POST "/oauth2/authorize", Client, "hosted-sign-in" => pages::hosted_sign_in, BOTH,
                200 | 303 | 400 | 403 | 429 | 503, [413, 415, 422];
            IdpResponse: GET "/oauth2/idpresponse", Client, "idp-response" => pages::idp_response, SMS,
                200 | 302 | 400 | 401 | 429 | 503, [];
            IdpResponsePost: POST "/oauth2/idpresponse", Client, "idp-response-post" => pages::idp_response_post, SMS,
                200 | 303 | 400 | 401 | 429 | 503, [413, 415, 422];
            Preflight: OPTIONS "/{proxy+}", None, "preflight" => meta::preflight, NOTHING,
                204, [];
            StartRegistration: POST "/v1/registrations", ApiKey, "start-registration" => registration::start_registration, BOTH,
                202, [400, 403, 409, 413, 415, 422, 429];
            GetRegistration: GET "/v1/registrations/{id}", ApiKey, "get-registration" => registration::get_registration, NOTHING,
                200, [404];
            VerifyRegistrationEmail: POST "/v1/registrations/{id}/email/verify", ApiKey, "verify-registration-email" => registration::verify_registration_email, NOTHING,
                200 | 201, [400, 404, 409, 413, 415, 422, 429];
            AddRegistrationPhone: POST "/v1/registrations/{id}/phone", ApiKey, "add-registration-phone" => registration::add_registration_phone, SMS,
                202, [400, 404, 409, 413, 415, 422, 429];
            VerifyRegistrationPhone: POST "/v1/registrations/{id}/phone/verify", ApiKey, "verify-registration-phone" => registration::verify_registration_phone, EMAIL,
                200 | 201, [400, 404, 409, 413, 415, 422, 429];
            ResendRegistrationCode: POST "/v1/registrations/{id}/resend", ApiKey, "resend-registration-code" => registration::resend_registration_code, BOTH,
                202, [400, 404, 409, 413, 415, 422, 429];
            Login: POST "/v1/auth/login", ApiKey, "login" => auth::login, BOTH,
                200, [400, 403, 413, 415, 422, 429];
            VerifyMfa: POST "/v1/auth/mfa", ApiKey, "verify-mfa" => auth::verify_mfa, EMAIL,
                200, [400, 403, 404, 413, 415, 422, 429];
            SendMfaCode: POST "/v1/auth/mfa/send", ApiKey, "send-mfa-code" => auth::send_mfa_code, BOTH,
                202, [400, 403, 404, 413, 415, 422, 429];
            SendSignInCode: POST "/v1/auth/code/send", ApiKey, "send-sign-in-code" => auth::send_sign_in_code, BOTH,
                202, [400, 403, 413, 415, 422, 429];
            SignInWithCode: POST "/v1/auth/code", ApiKey, "sign-in-with-code" => auth::sign_in_with_code, BOTH,
                200, [400, 403, 413, 415, 422, 429];
            CompletePasswordChallenge: POST "/v1/auth/password/challenge", ApiKey, "complete-password-challenge" => auth::complete_password_challenge, BOTH,
                200, [400, 403, 404, 413, 415, 422, 429];
            AcceptLegalDocuments: POST "/v1/auth/legal/accept", ApiKey, "accept-legal-documents" => auth::accept_legal_documents, NOTHING,
                200, [400, 403, 404, 413, 415, 422, 429];
            Refresh: POST "/v1/auth/refresh", ApiKey, "refresh" => auth::refresh, NOTHING,
                200, [400, 409, 413, 415, 422];
            Logout: POST "/v1/auth/logout", Bearer, "logout" => auth::logout, NOTHING,
                200, [];
            LogoutAll: POST "/v1/auth/logout-all", Bearer, "logout-all" => auth::logout_all, NOTHING,
                200, [];
            ForgotPassword: POST "/v1/auth/password/forgot", ApiKey, "forgot-password" => auth::forgot_password, EMAIL,
                202, [400, 413, 415, 422, 429];
            ResetPassword: POST "/v1/auth/password/reset", ApiKey, "reset-password" => auth::reset_password, EMAIL,
                200, [400, 409, 413, 415, 422, 429];
            GetMe: GET "/v1/me", Bearer, "get-me" => me::get_me, NOTHING,
                200, [];
            UpdateMe: PATCH "/v1/me", Bearer, "update-me" => me::update_me, NOTHING,
                200, [400, 403, 409, 413, 415, 422];
            CloseMe: DELETE "/v1/me", Bearer, "close-me" => me::close_me, NOTHING,
                200, [400, 409, 413, 415, 422];
            AddCredential: POST "/v1/me/credentials", Bearer, "add-credential" => me::add_credential, BOTH,
                202, [400, 403, 409, 413, 415, 422, 429];
            VerifyCredential: POST "/v1/me/credentials/verify", Bearer, "verify-credential" => me::verify_credential, BOTH,
                200, [400, 409, 413, 415, 422, 429];
            ChangePassword: POST "/v1/me/password", Bearer, "change-password" => me::change_password, BOTH,
                200, [400, 409, 413, 415, 422];
            ListSessions: GET "/v1/me/sessions", Bearer, "list-sessions" => me::list_sessions, NOTHING,
                200, [];
            ExportMe: GET "/v1/me/export", Bearer, "export-me" => me::export_me, NOTHING,
                200, [422];
            DeleteSession: DELETE "/v1/me/sessions/{id}", Bearer, "delete-session" => me::delete_session, NOTHING,
                200, [404, 422];
            GetFactors: GET "/v1/me/factors", Bearer, "get-factors" => factors::get_factors, NOTHING,
                200, [];
            EnrollTotp: POST "/v1/me/factors/totp", Bearer, "enroll-totp" => factors::enroll_totp, NOTHING,
                201, [400, 403, 409, 413, 415, 422, 429];
            ConfirmTotp: POST "/v1/me/factors/totp/confirm", Bearer, "confirm-totp" => factors::confirm_totp, EMAIL,
                200, [400, 409, 413, 415, 422, 429];
            RemoveTotp: DELETE "/v1/me/factors/totp", Bearer, "remove-totp" => factors::remove_totp, EMAIL,
                200, [400, 409, 413, 415, 422];
            RegenerateRecoveryCodes: POST "/v1/me/factors/recovery-codes", Bearer, "regenerate-recovery-codes" => factors::regenerate_recovery_codes, EMAIL,
                200, [400, 409, 413, 415, 422];
            BeginPasskeyRegistration: POST "/v1/me/passkeys/options", Bearer, "begin-passkey-registration" => factors::begin_passkey_registration, NOTHING,
                200, [400, 403, 409, 413, 415, 422];
            FinishPasskeyRegistration: POST "/v1/me/passkeys", Bearer, "finish-passkey-registration" => factors::finish_passkey_registration, EMAIL,
                201, [400, 403, 404, 409, 413, 415, 422];
            DeletePasskey: DELETE "/v1/me/passkeys/{id}", Bearer, "delete-passkey" => factors::delete_passkey, EMAIL,
                200, [400, 404, 413, 415, 422];
            PasskeySignInOptions: POST "/v1/auth/passkey/options", ApiKey, "passkey-sign-in-options" => factors::passkey_sign_in_options, NOTHING,
                200, [400, 403, 404, 409, 413, 415, 422, 429];
            PasskeySignIn: POST "/v1/auth/passkey", ApiKey, "passkey-sign-in" => factors::passkey_sign_in, NOTHING,
                200, [400, 401, 403, 404, 409, 413, 415, 422, 429];
            FederatedToken: POST "/v1/auth/federated/token", ApiKey, "federated-token" => federation::federated_token, SMS,
                200, [400, 401, 403, 404, 409, 413, 415, 422, 429];
            ListIdentities: GET "/v1/me/identities", Bearer, "list-identities" => federation::list_identities, NOTHING,
                200, [];
            LinkIdentity: POST "/v1/me/identities/{provider}", Bearer, "link-identity" => federation::link_identity, NOTHING,
                201, [400, 403, 404, 409, 413, 415, 422];
            UnlinkIdentity: DELETE "/v1/me/identities/{provider}", Bearer, "unlink-identity" => federation::unlink_identity, NOTHING,
                200, [400, 403, 404, 409, 413, 415, 422];
            CreateUser: POST "/v1/users", Admin, "create-user" => users::create_user, EMAIL,
                201, [400, 403, 409, 413, 415, 422];
            ImportUsers: POST "/v1/users/import", Admin, "import-users" => users::import_users, NOTHING,
                200, [400, 403, 413, 415, 422];
            ListUsers: GET "/v1/users", Admin, "list-users" => users::list_users, NOTHING,
                200, [403, 422];
            GetUser: GET "/v1/users/{id}", Admin, "get-user" => users::get_user, NOTHING,
                200, [403, 404];
            ChangeUserStatus: POST "/v1/users/{id}/status", Admin, "change-user-status" => users::change_user_status, NOTHING,
                200, [400, 403, 404, 409, 413, 415, 422];
            UpdateUser: PATCH "/v1/users/{id}", Admin, "update-user" => users::update_user, NOTHING,
                200, [400, 403, 404, 409, 413, 415, 422];
            UnlockUser: POST "/v1/users/{id}/unlock", Admin, "unlock-user" => users::unlock_user, NOTHING,
                200, [400, 403, 404, 413, 415, 422];
            ResetUserPassword: POST "/v1/users/{id}/password-reset", Admin, "reset-user-password" => users::reset_user_password, EMAIL,
                200, [400, 403, 404, 413, 415, 422, 429];
            RevokeUserSessions: POST "/v1/users/{id}/sessions/revoke", Admin, "revoke-user-sessions" => users::revoke_user_sessions, NOTHING,
                200, [400, 403, 404, 413, 415, 422];
            GetUserAudit: GET "/v1/users/{id}/audit", Admin, "get-user-audit" => users::get_user_audit, NOTHING,
                200, [403, 404, 422];
            ListReference: GET "/v1/reference/{kind}", ApiKey, "list-reference" => reference::list_reference, NOTHING,
                200, [404];
            GetReference: GET "/v1/reference/{kind}/{code}", ApiKey, "get-reference" => reference::get_reference, NOTHING,
                200, [404];
            PutReference: PUT "/v1/reference/{kind}/{code}", Admin, "put-reference" => reference::put_reference, NOTHING,
                200 | 201, [400, 403, 409, 413, 415, 422];
            DeleteReference: DELETE "/v1/reference/{kind}/{code}", Admin, "delete-reference" => reference::delete_reference, NOTHING,
                200, [403, 404, 409, 422];
            OauthToken: POST "/oauth2/token", Client, "oauth-token" => oauth::oauth_token, NOTHING,
                200 | 400 | 401, [413, 415];
            OauthUserinfo: GET "/oauth2/userinfo", Client, "oauth-userinfo" => oauth::oauth_userinfo, NOTHING,
                200 | 401, [];
            OauthRevoke: POST "/oauth2/revoke", Client, "oauth-revoke" => oauth::oauth_revoke, NOTHING,
                200 | 400 | 401, [413, 415];
            OauthLogout: GET "/oauth2/logout", Client, "oauth-logout" => oauth::oauth_logout, NOTHING,
                200 | 302 | 400, [];
        }
    };
}

pub(crate) use endpoint_table;
