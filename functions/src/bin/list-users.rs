//! Lambda function `list-users`: serves `Endpoint::ListUsers` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::ListUsers).await
}
