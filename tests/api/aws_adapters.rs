//! The SES v2, SNS and DynamoDB adapters through the real AWS SDK against
//! moto's server; what was sent is read back from moto's recorded state.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::adapters::ses::SesMailer;
use shared::adapters::sns::SnsTexter;
use shared::domain::tenant::Policy;
use shared::ports::{Email, Mailer, Sms, Texter};
use shared::testing::{TestOptions, spawn_app};

use crate::common;

async fn verified_sender(domain: &str) -> aws_sdk_sesv2::Client {
    let client = aws_sdk_sesv2::Client::new(&common::moto_sdk());
    client.create_email_identity().email_identity(domain).send().await.expect("SES identity on moto");
    client
}

/// Sent e-mails to `to`, as moto recorded them.
async fn ses_messages_to(to: &str) -> Vec<Value> {
    let state = common::moto_state().await;
    let messages = state["ses"]["Message"].as_array().cloned().unwrap_or_default();
    messages.into_iter().filter(|m| m.to_string().contains(to)).collect()
}

/// Sent SMS to `phone`, as moto recorded them.
async fn sms_to(phone: &str) -> Vec<Value> {
    let state = common::moto_state().await;
    let messages = state["sns"]["SMS"].as_array().cloned().unwrap_or_default();
    messages.into_iter().filter(|m| m.to_string().contains(phone)).collect()
}

#[tokio::test]
async fn ses_sends_the_text_email() {
    let domain = format!("{}.example", common::unique("ses"));
    let mailer = SesMailer::new(verified_sender(&domain).await, format!("no-reply@{domain}"));
    let to = format!("reader@{domain}");
    let email = Email {
        to: to.clone(),
        subject: "Ihr Code: 424242".into(),
        text: "Hallo, 424242".into(),
        language: "de".into(),
    };
    mailer.send_email(&email).await.expect("sent");
    let sent = ses_messages_to(&to).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["subject"], "Ihr Code: 424242");
    assert!(sent[0]["body"].to_string().contains("424242"), "{}", sent[0]);
}

#[tokio::test]
async fn ses_refuses_an_unverified_sender_as_a_send_error() {
    let client = aws_sdk_sesv2::Client::new(&common::moto_sdk());
    let mailer = SesMailer::new(client, format!("x@{}.example", common::unique("unverified")));
    let email = Email { to: "a@example.com".into(), subject: "s".into(), text: "t".into(), language: "en".into() };
    assert!(mailer.send_email(&email).await.is_err());
}

#[tokio::test]
async fn sns_publishes_a_transactional_sms() {
    let texter = SnsTexter::new(aws_sdk_sns::Client::new(&common::moto_sdk()), None);
    let phone = unique_phone();
    let sms = Sms { to: phone.clone(), text: "Code 135790".into(), language: "en".into() };
    texter.send_sms(&sms).await.expect("published");
    let sent = sms_to(&phone).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].to_string().contains("Code 135790"), "{}", sent[0]);
}

fn unique_phone() -> String {
    // A valid Swiss mobile number that no parallel test shares.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("+4179{:07}", nanos % 10_000_000)
}

/// The whole sign-up over HTTP with DynamoDB, SES and SNS on moto.
#[tokio::test]
async fn sign_up_on_dynamodb_ses_and_sns() {
    let domain = format!("{}.example", common::unique("flow"));
    let sdk = common::moto_sdk();
    let ses = SesMailer::new(verified_sender(&domain).await, format!("no-reply@{domain}"));
    let sns = SnsTexter::new(aws_sdk_sns::Client::new(&sdk), None);
    let clock = Arc::new(shared::adapters::system::ManualClock::at_test_start());
    let store = common::dynamo_store(clock.clone()).await;
    let app = spawn_app(TestOptions {
        policy: Policy::default(),
        store: Some(store),
        senders: Some((Arc::new(ses), Arc::new(sns))),
        clock: Some(clock),
        ..TestOptions::default()
    })
    .await;

    let email = format!("anna@{domain}");
    let http = reqwest::Client::new();
    let post =
        |path: String, body: Value| http.post(app.url(&path)).header("X-API-Key", &app.api_key).json(&body).send();
    let started = post(
        "/v1/registrations".into(),
        json!({
            "email": email, "password": "Str0ng!Pass", "first_name": "Anna", "last_name": "Muster",
            "terms_accepted": true, "privacy_policy_accepted": true,
        }),
    )
    .await
    .unwrap();
    assert_eq!(started.status(), StatusCode::ACCEPTED);
    let id = started.json::<Value>().await.unwrap()["registration_id"].as_str().unwrap().to_owned();
    let mail = ses_messages_to(&email).await;
    assert_eq!(mail.len(), 1);
    let code = six_digits(&mail[0]["subject"].to_string());

    let verified = post(format!("/v1/registrations/{id}/email/verify"), json!({ "code": code })).await.unwrap();
    assert_eq!(verified.status(), StatusCode::OK);
    let phone = unique_phone();
    let added = post(format!("/v1/registrations/{id}/phone"), json!({ "phone": phone })).await.unwrap();
    assert_eq!(added.status(), StatusCode::ACCEPTED);
    let sms = sms_to(&phone).await;
    assert_eq!(sms.len(), 1);
    let sms_code = six_digits(&sms[0].to_string());
    let done = post(format!("/v1/registrations/{id}/phone/verify"), json!({ "code": sms_code })).await.unwrap();
    assert_eq!(done.status(), StatusCode::CREATED);
    let tokens: Value = done.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert!(
        app.app.keys.current().verify_at(access, "http://registrar.test", "registrar", app.clock.now_secs()).is_some()
    );

    // The same address again: same answer, the owner gets a notice, no code.
    let again = post(
        "/v1/registrations".into(),
        json!({
            "email": email, "password": "Str0ng!Pass", "first_name": "Anna", "last_name": "Muster",
            "terms_accepted": true, "privacy_policy_accepted": true,
        }),
    )
    .await
    .unwrap();
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    let mail = ses_messages_to(&email).await;
    assert_eq!(mail.len(), 2);
    assert_eq!(mail[1]["subject"], "You already have an account");
}

fn six_digits(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a six-digit code").to_owned()
}

/// A deployed function builds its SDK configuration from the environment
/// Lambda gives it (region, the role's credentials), without aws-config's
/// chain; the SDK's endpoint variables still apply, per service first.
#[tokio::test]
async fn a_function_reaches_aws_with_the_environment_lambda_gives_it() {
    let moto = common::moto_url();
    let name = format!("registrar-test/lean-{}", std::process::id());
    aws_sdk_secretsmanager::Client::new(&common::moto_sdk())
        .create_secret()
        .name(&name)
        .secret_string("a secret of the function")
        .send()
        .await
        .expect("secret on moto");
    // A port nothing listens on (bound, then released).
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let env = move |var: &str| -> Option<String> {
        match var {
            "AWS_REGION" => Some("eu-central-1".into()),
            "AWS_ACCESS_KEY_ID" => Some("AKIDLAMBDA".into()),
            "AWS_SECRET_ACCESS_KEY" => Some("lambda-secret".into()),
            "AWS_SESSION_TOKEN" => Some("lambda-session".into()),
            // A generic endpoint that goes nowhere: the service's own wins.
            "AWS_ENDPOINT_URL" => Some(format!("http://{nowhere}")),
            "AWS_ENDPOINT_URL_SECRETS_MANAGER" => Some(moto.clone()),
            _ => None,
        }
    };
    let sdk = shared::config::lambda_sdk_config_from(env.clone()).expect("a configuration from the environment");
    assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-central-1"));
    let secrets = shared::adapters::secrets::SecretsManager::new(aws_sdk_secretsmanager::Client::new(&sdk));
    assert_eq!(secrets.read(&name).await.expect("read through moto"), "a secret of the function");

    // Without credentials in the environment, or with another SDK setting in
    // it (which aws-config's chain honours), there is no lean configuration.
    let region_only = |var: &str| (var == "AWS_REGION").then(|| "eu-central-1".to_owned());
    assert!(shared::config::lambda_sdk_config_from(region_only).is_none());
    for setting in shared::config::SDK_SETTINGS {
        let with = env.clone();
        let with = move |var: &str| if var == setting { Some("true".to_owned()) } else { with(var) };
        assert!(shared::config::lambda_sdk_config_from(with).is_none(), "{setting}");
    }
}

/// A cold start's secrets in one batch: each text in the order asked,
/// whether named by name or by ARN; a secret missing from the batch fails
/// the read naming that secret (the function does not start half-keyed).
#[tokio::test]
async fn secrets_are_read_in_one_batch_by_name_or_arn() {
    let client = aws_sdk_secretsmanager::Client::new(&common::moto_sdk());
    let prefix = format!("registrar-test/batch-{}", std::process::id());
    let mut arns = Vec::new();
    for (name, text) in [("keys", "the keys"), ("code", "the code key")] {
        let made = client.create_secret().name(format!("{prefix}/{name}")).secret_string(text).send().await;
        arns.push(made.expect("secret on moto").arn().expect("an ARN").to_owned());
    }
    let secrets = shared::adapters::secrets::SecretsManager::new(client);
    let by_arn = secrets.read_all(&[&arns[1], &arns[0]]).await.expect("both by ARN");
    assert_eq!(by_arn, ["the code key", "the keys"]);
    let code = format!("{prefix}/code");
    let by_name = secrets.read_all(&[&arns[0], &code]).await.expect("an ARN and a name");
    assert_eq!(by_name, ["the keys", "the code key"]);
    let missing = format!("{prefix}/missing");
    let err = secrets.read_all(&[&arns[0], &missing]).await.expect_err("a missing secret");
    assert_eq!(err.id, missing);
}
