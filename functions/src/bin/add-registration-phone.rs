//! Lambda function `add-registration-phone`: serves `Endpoint::AddRegistrationPhone` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::AddRegistrationPhone).await
}
