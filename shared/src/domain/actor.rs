//! Who calls a privileged route: the tenant's machine token or a signed-in
//! user (its rules, what it may manage and grant, live with the back office
//! in `users`).

use super::values::UserType;

/// Who is calling a privileged route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A machine token of the tenant: may do anything within it.
    Admin { token_id: String },
    /// A signed-in user.
    User { user_id: String, user_type: UserType, company_id: Option<String> },
}
