//! Lambda function `forgot-password`: serves its one route from `shared`'s route table.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::http::lambda::run("forgot-password").await
}
