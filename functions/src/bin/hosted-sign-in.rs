//! Lambda function `hosted-sign-in`: serves `Endpoint::HostedSignIn` alone.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run(shared::http::endpoints::HostedSignIn).await
}
