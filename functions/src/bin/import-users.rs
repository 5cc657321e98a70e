//! Lambda function `import-users`: serves `Endpoint::ImportUsers` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::ImportUsers).await
}
