//! Lambda function `sign-in-with-code`: serves `Endpoint::SignInWithCode` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::SignInWithCode).await
}
