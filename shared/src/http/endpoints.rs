//! Every endpoint as a type: what it answers with ([`Handler::handle`]) and
//! what its function needs at start-up ([`Needs`]). A Lambda binary names
//! its endpoint's type, so the compiler links that handler alone (and the
//! SES or SNS client only where it sends); the local API dispatches on the
//! route table's [`Endpoint`] to all of them.

use std::future::Future;

use lambda_http::{Body, Response};

use super::context::Ctx;
use super::handlers::{auth, factors, me, meta, reference, registration, users};
use super::problem::Problem;
use super::routes::Endpoint;

/// What a function's app is built with, beyond the store and the keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    /// It sends e-mail (SES).
    pub email: bool,
    /// It sends SMS (SNS).
    pub sms: bool,
}

const NOTHING: Needs = Needs { email: false, sms: false };
const EMAIL: Needs = Needs { email: true, sms: false };
const SMS: Needs = Needs { email: false, sms: true };
const BOTH: Needs = Needs { email: true, sms: true };

/// An endpoint's handler.
pub trait Handler: Copy + Send + Sync + 'static {
    /// What the function's app needs (what the local API's app has: all).
    const NEEDS: Needs;
    /// The endpoint (its row of the route table).
    fn endpoint(self) -> Endpoint;
    /// The answer to one request.
    fn handle<'c>(self, ctx: &'c Ctx<'c>) -> impl Future<Output = Result<Response<Body>, Problem>> + Send + 'c;
}

/// Any endpoint, chosen at run time (the local API and the tests).
#[derive(Clone, Copy, Debug)]
pub struct Any(pub Endpoint);

macro_rules! endpoints {
    ($($name:ident => $handler:path, $needs:expr;)*) => {
        $(
            #[doc = concat!("`Endpoint::", stringify!($name), "`, answered by `", stringify!($handler), "`.")]
            #[derive(Clone, Copy, Debug)]
            pub struct $name;

            impl Handler for $name {
                const NEEDS: Needs = $needs;
                fn endpoint(self) -> Endpoint {
                    Endpoint::$name
                }
                fn handle<'c>(self, ctx: &'c Ctx<'c>) -> impl Future<Output = Result<Response<Body>, Problem>> + Send + 'c {
                    $handler(ctx)
                }
            }
        )*

        impl Handler for Any {
            const NEEDS: Needs = BOTH;
            fn endpoint(self) -> Endpoint {
                self.0
            }
            async fn handle<'c>(self, ctx: &'c Ctx<'c>) -> Result<Response<Body>, Problem> {
                match self.0 {
                    $(Endpoint::$name => $handler(ctx).await,)*
                }
            }
        }

        /// What an endpoint's function needs.
        pub fn needs(endpoint: Endpoint) -> Needs {
            match endpoint {
                $(Endpoint::$name => $needs,)*
            }
        }
    };
}

endpoints! {
    Health => meta::health, NOTHING;
    Jwks => meta::jwks, NOTHING;
    OpenidConfiguration => meta::openid_configuration, NOTHING;
    Preflight => meta::preflight, NOTHING;
    StartRegistration => registration::start_registration, BOTH;
    GetRegistration => registration::get_registration, NOTHING;
    VerifyRegistrationEmail => registration::verify_registration_email, NOTHING;
    AddRegistrationPhone => registration::add_registration_phone, SMS;
    VerifyRegistrationPhone => registration::verify_registration_phone, EMAIL;
    ResendRegistrationCode => registration::resend_registration_code, BOTH;
    Login => auth::login, BOTH;
    VerifyMfa => auth::verify_mfa, EMAIL;
    SendMfaCode => auth::send_mfa_code, BOTH;
    SendSignInCode => auth::send_sign_in_code, BOTH;
    SignInWithCode => auth::sign_in_with_code, BOTH;
    CompletePasswordChallenge => auth::complete_password_challenge, BOTH;
    AcceptLegalDocuments => auth::accept_legal_documents, NOTHING;
    Refresh => auth::refresh, NOTHING;
    Logout => auth::logout, NOTHING;
    LogoutAll => auth::logout_all, NOTHING;
    ForgotPassword => auth::forgot_password, EMAIL;
    ResetPassword => auth::reset_password, EMAIL;
    GetMe => me::get_me, NOTHING;
    UpdateMe => me::update_me, NOTHING;
    CloseMe => me::close_me, NOTHING;
    AddCredential => me::add_credential, BOTH;
    VerifyCredential => me::verify_credential, BOTH;
    ChangePassword => me::change_password, BOTH;
    ListSessions => me::list_sessions, NOTHING;
    DeleteSession => me::delete_session, NOTHING;
    GetFactors => factors::get_factors, NOTHING;
    EnrollTotp => factors::enroll_totp, NOTHING;
    ConfirmTotp => factors::confirm_totp, EMAIL;
    RemoveTotp => factors::remove_totp, EMAIL;
    RegenerateRecoveryCodes => factors::regenerate_recovery_codes, EMAIL;
    BeginPasskeyRegistration => factors::begin_passkey_registration, NOTHING;
    FinishPasskeyRegistration => factors::finish_passkey_registration, EMAIL;
    DeletePasskey => factors::delete_passkey, EMAIL;
    PasskeySignInOptions => factors::passkey_sign_in_options, NOTHING;
    PasskeySignIn => factors::passkey_sign_in, NOTHING;
    CreateUser => users::create_user, EMAIL;
    ListUsers => users::list_users, NOTHING;
    GetUser => users::get_user, NOTHING;
    UpdateUser => users::update_user, NOTHING;
    ChangeUserStatus => users::change_user_status, NOTHING;
    UnlockUser => users::unlock_user, NOTHING;
    ResetUserPassword => users::reset_user_password, EMAIL;
    RevokeUserSessions => users::revoke_user_sessions, NOTHING;
    GetUserAudit => users::get_user_audit, NOTHING;
    ListReference => reference::list_reference, NOTHING;
    GetReference => reference::get_reference, NOTHING;
    PutReference => reference::put_reference, NOTHING;
    DeleteReference => reference::delete_reference, NOTHING;
}
