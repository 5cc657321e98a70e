//! Lambda function `create-user`: serves `Endpoint::CreateUser` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::CreateUser).await
}
