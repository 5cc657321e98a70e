//! Lambda function `complete-password-challenge`: serves its one route from `shared`'s route table.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run("complete-password-challenge").await
}
