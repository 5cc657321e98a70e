//! Every function's IAM policy, exactly as `template.yaml` declares it, proven
//! under enforcement: for each function the harness makes a role holding that
//! function's statements, assumes it, and builds the function's app with
//! those credentials and the environment the template gives it (as Lambda
//! does), against a moto that enforces IAM (`REGISTRAR_TEST_MOTO_IAM_URL`,
//! started by the test command). A server then answers each route with the
//! app of its own function, and the flows below run through every function:
//! happy paths and the failure paths that write (tries, lockout, counters,
//! revocation) and send (SES, SNS).
//!
//! moto checks actions, not resources (`../shared/LOCAL-AWS.md`), so each
//! statement's `Resource` becomes `"*"` here and the Deny statements that
//! only narrow a resource are left out; `tests/deploy/template.rs` checks the
//! resources. moto also names a transaction's action `TransactWriteItems`,
//! while AWS authorizes each item of it by its own action (PutItem,
//! DeleteItem, ConditionCheckItem): every role may send the transaction, and
//! the harness checks each item against the function's actions itself.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use serde_norway::Value as Yaml;
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::system::ManualClock;
use shared::app::App;
use shared::config::Config;
use shared::domain::keys::SigningKeys;
use shared::domain::tenant::{ApiKeyGrant, Policy, Tenant, save_api_key, save_tenant};
use shared::http::server::Responder;
use shared::http::{Route, handle_route};
use shared::ports::{
    Condition, Email, Item, Key, Mailer, Page, SendError, Sms, Store, StoreError, Tally, Texter, Write,
};

use crate::common::{self, Answer, CODE, Flows, PASSWORD};

const PASSKEY_ORIGIN: &str = "http://localhost:3000";
const ORIGIN: &str = "https://app.example.com";
const LEGACY_ORIGIN: &str = "https://legacy.example.com";
/// The stack tenant's `refresh.idle_timeout_secs`.
const IDLE_SECS: i64 = 24 * 3600;

/// The IAM-enforcing moto's URL; the test fails loudly without it.
fn iam_moto_url() -> String {
    std::env::var("REGISTRAR_TEST_MOTO_IAM_URL").unwrap_or_else(|_| {
        panic!(
            "REGISTRAR_TEST_MOTO_IAM_URL is not set: this test needs a moto server that enforces IAM \
             (INITIAL_NO_AUTH_ACTION_COUNT=3). Run `make test`, which starts one."
        )
    })
}

fn sdk(credentials: Credentials) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-central-1"))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .endpoint_url(iam_moto_url())
        .build()
}

/// An administrator's access key, made with the enforcing moto's three
/// unchecked requests (once per test process; every later request is
/// checked, the administrator's against its allow-all policy). moto's
/// `reset-auth` grants those three again, so a second run against the same
/// server works too.
async fn admin_sdk() -> (SdkConfig, String) {
    static ADMIN: tokio::sync::OnceCell<(String, String, String)> = tokio::sync::OnceCell::const_new();
    let (id, secret, arn) = ADMIN
        .get_or_init(|| async {
            let reset = reqwest::Client::new().post(format!("{}/moto-api/reset-auth", iam_moto_url())).body("3");
            let reset = reset.send().await.expect("the IAM-enforcing moto answers");
            assert!(reset.status().is_success(), "moto's reset-auth: {}", reset.status());
            let iam = aws_sdk_iam::Client::new(&sdk(Credentials::new("bootstrap", "bootstrap", None, None, "test")));
            let name = &common::unique("admin");
            let hint = "the administrator is made with moto's 3 unchecked requests";
            let user = iam.create_user().user_name(name).send().await.expect(hint);
            let arn = user.user().expect("a user").arn().to_owned();
            let everything = json!({
                "Version": "2012-10-17",
                "Statement": [{ "Effect": "Allow", "Action": "*", "Resource": "*" }],
            });
            iam.put_user_policy()
                .user_name(name)
                .policy_name("everything")
                .policy_document(everything.to_string())
                .send()
                .await
                .expect(hint);
            let key = iam.create_access_key().user_name(name).send().await.expect(hint);
            let key = key.access_key().expect("an access key");
            (key.access_key_id().to_owned(), key.secret_access_key().to_owned(), arn)
        })
        .await
        .clone();
    (sdk(Credentials::new(id, secret, None, None, "admin")), arn)
}

fn template() -> Yaml {
    let path = format!("{}/template.yaml", env!("CARGO_MANIFEST_DIR"));
    serde_norway::from_str(&std::fs::read_to_string(path).expect("template.yaml")).expect("valid YAML")
}

/// A function as the template declares it.
#[derive(Clone, Debug)]
struct Function {
    binary: String,
    /// The policy statements, each `Resource` rewritten to `"*"`.
    statements: Vec<Value>,
    /// The allowed actions.
    actions: BTreeSet<String>,
    /// Globals' variables, then the function's own, still unresolved.
    environment: BTreeMap<String, Yaml>,
}

fn strings(value: &Yaml) -> Vec<String> {
    match value {
        Yaml::String(one) => vec![one.clone()],
        Yaml::Sequence(many) => many.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        other => panic!("expected a string or a list of strings, found {other:?}"),
    }
}

fn functions(template: &Yaml) -> Vec<Function> {
    let globals = template["Globals"]["Function"]["Environment"]["Variables"].as_mapping().cloned().unwrap_or_default();
    let mut found = Vec::new();
    for (_, resource) in template["Resources"].as_mapping().expect("Resources") {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().expect("Binary").to_owned();
        let mut statements = Vec::new();
        let mut actions = BTreeSet::new();
        for policy in resource["Properties"]["Policies"].as_sequence().into_iter().flatten() {
            // A policy the template grants on a condition (`!If`), as
            // CloudFormation resolves it with the parameters' values.
            let Some(policy) = granted(template, policy) else { continue };
            for statement in policy["Statement"].as_sequence().expect("inline statements only") {
                // A Deny narrows an Allow by resource (SNS topics beside SMS),
                // which moto cannot tell apart; tests/deploy/template.rs checks it.
                if statement["Effect"] == "Deny" {
                    continue;
                }
                let allowed = strings(&statement["Action"]);
                assert_eq!(statement["Effect"], "Allow", "{binary}: Allow or Deny");
                if allowed.is_empty() {
                    continue; // emptied by a negative control
                }
                actions.extend(allowed.iter().cloned());
                // Lambda's Invoke is authorized by resource, as AWS does
                // (scripts/moto-server.py): its statements keep theirs.
                let resource = if allowed.iter().all(|a| a.starts_with("lambda:")) {
                    json!(parameter_list(template, &statement["Resource"]))
                } else {
                    json!("*")
                };
                statements.push(json!({ "Effect": "Allow", "Action": allowed, "Resource": resource }));
            }
        }
        let mut environment = BTreeMap::new();
        let own = resource["Properties"]["Environment"]["Variables"].as_mapping().cloned().unwrap_or_default();
        for (name, value) in globals.iter().chain(own.iter()) {
            environment.insert(name.as_str().expect("variable name").to_owned(), value.clone());
        }
        found.push(Function { binary, statements, actions, environment });
    }
    found
}

/// `policy` as the stack holds it: itself, or the branch of an
/// `!If [condition, policy, !Ref AWS::NoValue]` its condition picks (`None`
/// for no policy).
fn granted<'a>(template: &Yaml, policy: &'a Yaml) -> Option<&'a Yaml> {
    let Yaml::Tagged(tagged) = policy else { return Some(policy) };
    assert_eq!(tagged.tag, "If", "a policy is inline or an !If");
    let [condition, then, otherwise] = tagged.value.as_sequence().expect("!If [c, a, b]").as_slice() else {
        panic!("!If takes three values")
    };
    let name = condition.as_str().expect("a condition's name");
    let chosen = if holds(template, &template["Conditions"][name]) { then } else { otherwise };
    match chosen {
        Yaml::Tagged(none) if none.tag == "Ref" && none.value == "AWS::NoValue" => None,
        policy => Some(policy),
    }
}

/// Whether a condition of the template holds with its parameters' values
/// (their defaults): `!Not`, `!Equals`, `!Join` and `!Ref` of a parameter.
fn holds(template: &Yaml, condition: &Yaml) -> bool {
    let Yaml::Tagged(tagged) = condition else { panic!("a condition is a function: {condition:?}") };
    let operands = tagged.value.as_sequence().expect("a condition's operands");
    if tagged.tag == "Not" {
        !holds(template, &operands[0])
    } else if tagged.tag == "Equals" {
        value(template, &operands[0]) == value(template, &operands[1])
    } else {
        panic!("the harness cannot evaluate the condition {}", tagged.tag)
    }
}

/// A condition's operand as a string (a list joined by its `!Join`).
fn value(template: &Yaml, operand: &Yaml) -> String {
    match operand {
        Yaml::String(text) => text.clone(),
        Yaml::Tagged(tagged) if tagged.tag == "Ref" => {
            let name = tagged.value.as_str().expect("!Ref of a parameter");
            template["Parameters"][name]["Default"].as_str().unwrap_or_default().to_owned()
        }
        Yaml::Tagged(tagged) if tagged.tag == "Join" => {
            let [separator, list] = tagged.value.as_sequence().expect("!Join [s, list]").as_slice() else {
                panic!("!Join takes two values")
            };
            parameter_list(template, list).join(separator.as_str().expect("a separator"))
        }
        other => panic!("the harness cannot evaluate {other:?}"),
    }
}

/// A `CommaDelimitedList` parameter's items (`!Ref` of it), as
/// CloudFormation splits its value.
fn parameter_list(template: &Yaml, reference: &Yaml) -> Vec<String> {
    let Yaml::Tagged(tagged) = reference else { panic!("a list parameter's !Ref: {reference:?}") };
    assert_eq!(tagged.tag, "Ref", "a list parameter's !Ref");
    let name = tagged.value.as_str().expect("a parameter's name");
    let parameter = &template["Parameters"][name];
    assert_eq!(parameter["Type"], "CommaDelimitedList", "{name}");
    let text = parameter["Default"].as_str().unwrap_or_default();
    if text.is_empty() { Vec::new() } else { text.split(',').map(|item| item.trim().to_owned()).collect() }
}

/// `template` as deployed with `parameter` set to `value`.
fn with_parameter(template: &Yaml, parameter: &str, value: &str) -> Yaml {
    let mut template = template.clone();
    template["Parameters"][parameter]["Default"] = Yaml::String(value.to_owned());
    template
}

/// Resolves a variable's value: a plain string, or `!Ref` of a name the
/// harness knows (parameters and resources).
fn resolve(binary: &str, name: &str, value: &Yaml, refs: &HashMap<&str, String>) -> String {
    match value {
        Yaml::String(text) => text.clone(),
        Yaml::Bool(flag) => flag.to_string(),
        Yaml::Number(number) => number.to_string(),
        Yaml::Tagged(tagged) if tagged.tag == "Ref" || tagged.tag == "GetAtt" => {
            let target = tagged.value.as_str().expect("!Ref of a name");
            refs.get(target).cloned().unwrap_or_else(|| panic!("{binary}: {name} refers to {target}, unknown here"))
        }
        other => panic!("{binary}: {name} has a value the harness cannot resolve: {other:?}"),
    }
}

/// What the functions were refused, as `(function, action)`; other AWS
/// failures as `(function, message)` (to explain a failed step).
type Denials = Arc<Mutex<BTreeSet<(String, String)>>>;

/// What each function did with success, as `(function, action)` in IAM's
/// names: a policy must allow no more than this (least privilege).
type Used = Arc<Mutex<BTreeSet<(String, String)>>>;

/// Records an AWS refusal found in an error message.
fn note_denial(denials: &Denials, function: &str, message: &str) {
    let Some((_, rest)) = message.split_once("not authorized to perform: ") else {
        denials.lock().unwrap().insert((function.to_owned(), format!("(not a refusal) {message}")));
        return;
    };
    {
        let action: String =
            rest.chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '*')).collect();
        denials.lock().unwrap().insert((function.to_owned(), action));
    }
}

/// A function's store: records what AWS refused it, and checks each item of
/// a transaction against the function's actions as AWS does.
struct Watched {
    inner: Arc<dyn Store>,
    function: String,
    actions: BTreeSet<String>,
    denials: Denials,
    used: Used,
}

impl Watched {
    /// Notes a refusal, or the action as used. A failed condition was
    /// allowed, and so used.
    fn seen<T>(&self, action: &str, result: Result<T, StoreError>) -> Result<T, StoreError> {
        match &result {
            Err(StoreError::Unavailable(message)) => note_denial(&self.denials, &self.function, message),
            _ => {
                self.used.lock().unwrap().insert((self.function.clone(), action.to_owned()));
            }
        }
        result
    }
}

#[async_trait]
impl Store for Watched {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.seen("dynamodb:GetItem", self.inner.get(key).await)
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.seen("dynamodb:BatchGetItem", self.inner.get_many(keys).await)
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.seen("dynamodb:PutItem", self.inner.put(item, condition).await)
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.seen("dynamodb:DeleteItem", self.inner.delete(key, condition).await)
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let actions: BTreeSet<&str> = writes
            .iter()
            .map(|write| match write {
                Write::Put { .. } => "dynamodb:PutItem",
                Write::Delete { .. } => "dynamodb:DeleteItem",
                Write::Check { .. } => "dynamodb:ConditionCheckItem",
                Write::Count { .. } => "dynamodb:UpdateItem",
            })
            .collect();
        for action in &actions {
            if !self.actions.contains(*action) {
                let message = format!("in a transaction: not authorized to perform: {action}");
                note_denial(&self.denials, &self.function, &message);
                return Err(StoreError::Unavailable(message));
            }
        }
        let result = self.inner.transact(writes).await;
        for action in actions {
            self.seen(action, result.clone())?;
        }
        result
    }

    async fn increment(&self, key: &Key, expires_at: i64) -> Result<u64, StoreError> {
        self.seen("dynamodb:UpdateItem", self.inner.increment(key, expires_at).await)
    }

    async fn increment_below(&self, key: &Key, max: u64, expires_at: i64) -> Result<Option<u64>, StoreError> {
        self.seen("dynamodb:UpdateItem", self.inner.increment_below(key, max, expires_at).await)
    }

    async fn tally(&self, key: &Key, expires_at: i64) -> Result<Tally, StoreError> {
        self.seen("dynamodb:UpdateItem", self.inner.tally(key, expires_at).await)
    }

    async fn query(
        &self,
        pk: &str,
        sk_prefix: &str,
        descending: bool,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        self.seen("dynamodb:Query", self.inner.query(pk, sk_prefix, descending, start_after, limit).await)
    }
}

/// A function's senders: record what AWS refused them.
struct WatchedSenders {
    mailer: Arc<dyn Mailer>,
    texter: Arc<dyn Texter>,
    function: String,
    denials: Denials,
    used: Used,
    /// Set by a flow: the next message fails before it reaches AWS, so the
    /// function's clean-up after a failed send runs under its policy.
    fail_next: Arc<AtomicBool>,
    /// The texts that reached AWS, in order: deployed, codes are random (a
    /// tenant's fixed sandbox code is honoured only with the outbox), so the
    /// flows read them from what was sent, as a user would.
    sent: Sent,
}

type Sent = Arc<Mutex<Vec<String>>>;

impl WatchedSenders {
    fn injected(&self) -> Result<(), SendError> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(SendError("the provider refused the message (injected)".into()));
        }
        Ok(())
    }

    fn seen(&self, action: &str, result: Result<(), SendError>) -> Result<(), SendError> {
        match &result {
            Err(err) => note_denial(&self.denials, &self.function, &err.0),
            Ok(()) => {
                self.used.lock().unwrap().insert((self.function.clone(), action.to_owned()));
            }
        }
        result
    }
}

#[async_trait]
impl Mailer for WatchedSenders {
    async fn send_email(&self, email: &Email) -> Result<(), SendError> {
        self.injected()?;
        let result = self.seen("ses:SendEmail", self.mailer.send_email(email).await);
        if result.is_ok() {
            self.sent.lock().unwrap().push(email.text.clone());
        }
        result
    }
}

#[async_trait]
impl Texter for WatchedSenders {
    async fn send_sms(&self, sms: &Sms) -> Result<(), SendError> {
        self.injected()?;
        let result = self.seen("sns:Publish", self.texter.send_sms(sms).await);
        if result.is_ok() {
            self.sent.lock().unwrap().push(sms.text.clone());
        }
        result
    }
}

/// The route of a function of the template.
fn route_for(function: &str) -> &'static Route {
    shared::http::route_for_function(function).unwrap_or_else(|| panic!("{function} is not in the route table"))
}

/// The deployed shape: each route answered by its own function's app.
struct Deployed {
    apps: HashMap<String, Arc<App>>,
    served: Mutex<BTreeSet<String>>,
}

#[async_trait]
impl Responder for Deployed {
    fn app(&self) -> &App {
        self.apps.values().next().expect("an app")
    }

    async fn respond(&self, request: lambda_http::Request) -> lambda_http::Response<lambda_http::Body> {
        let path = request.uri().path().to_owned();
        let route: &'static Route = shared::http::routes::find(request.method(), &path)
            .map(|(route, _)| route)
            .unwrap_or_else(|| panic!("no function serves {} {path}", request.method()));
        self.served.lock().unwrap().insert(route.function.to_owned());
        let app = self.apps.get(route.function).unwrap_or_else(|| panic!("{} did not start", route.function));
        handle_route(app, route, request).await
    }
}

/// The stack stood up on the enforcing moto.
struct Stack {
    base: String,
    api_key: String,
    /// The API key of the tenant whose sign-up starts with the phone.
    phone_api_key: String,
    admin_token: String,
    domain: String,
    clock: Arc<ManualClock>,
    deployed: Arc<Deployed>,
    denials: Denials,
    used: Used,
    fail_next_send: Arc<AtomicBool>,
    sent: Sent,
    tenant_id: String,
    /// The tenant whose sign-up starts with the phone.
    phone_tenant_id: String,
    /// The operator's access to the table (set-up and back-office edits).
    admin_store: DynamoStore,
    table: String,
    /// publish-events: the app its role built, and its role's AWS access.
    publisher: Option<(Arc<App>, SdkConfig)>,
    /// The stack's bus and the queue its test rule sends every event to.
    bus: String,
    observer_queue: String,
    dead_letter_queue: String,
    http: reqwest::Client,
    /// The tenant's identity provider (a stand-in on 127.0.0.1: `acme`).
    idp: common::idp::Idp,
    _server: tokio::task::JoinHandle<()>,
}

/// Makes the role of `function` with its statements (plus the transaction
/// name moto wants) and returns the role's temporary credentials.
async fn role_credentials(admin: &SdkConfig, admin_arn: &str, function: &Function) -> Credentials {
    let iam = aws_sdk_iam::Client::new(admin);
    let name = common::unique(&function.binary.chars().take(30).collect::<String>());
    // moto checks the trust policy against the caller: the harness's
    // administrator assumes the role, as the Lambda service would.
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": admin_arn },
            "Action": "sts:AssumeRole",
        }],
    });
    let role = iam
        .create_role()
        .role_name(&name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("create role");
    let mut statements = function.statements.clone();
    statements.push(json!({ "Effect": "Allow", "Action": ["dynamodb:TransactWriteItems"], "Resource": "*" }));
    let document = json!({ "Version": "2012-10-17", "Statement": statements });
    iam.put_role_policy()
        .role_name(&name)
        .policy_name("function")
        .policy_document(document.to_string())
        .send()
        .await
        .expect("put role policy");
    let arn = role.role().expect("role").arn().to_owned();
    let assumed = aws_sdk_sts::Client::new(admin)
        .assume_role()
        .role_arn(arn)
        .role_session_name(&function.binary)
        .send()
        .await
        .expect("assume role");
    let c = assumed.credentials().expect("credentials");
    Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_owned()), None, "assumed-role")
}

impl Stack {
    /// Stands the stack up from `template` (parsed from `template.yaml`, or
    /// altered by a negative control).
    async fn up(template: &Yaml) -> Self {
        let (admin, admin_arn) = admin_sdk().await;
        let clock = Arc::new(ManualClock::at_test_start());
        let table = common::unique("registrar");
        let admin_store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&admin), table.clone(), clock.clone());
        admin_store.create_table().await.expect("create table");
        let domain = format!("{}.example", common::unique("iam"));
        aws_sdk_sesv2::Client::new(&admin)
            .create_email_identity()
            .email_identity(&domain)
            .send()
            .await
            .expect("SES identity");
        // The stack's secrets, as the template and `registrar-admin` make them.
        let mut keys = SigningKeys::default();
        keys.add(&shared::domain::tokens::generate_pem().expect("RSA key"), clock.now_dt()).expect("a key");
        let secrets = aws_sdk_secretsmanager::Client::new(&admin);
        let secret_arn = |name: &str, text: String| {
            let secrets = secrets.clone();
            let name = format!("{table}/{name}");
            async move {
                let made = secrets.create_secret().name(name).secret_string(text).send().await.expect("secret");
                made.arn().expect("an ARN").to_owned()
            }
        };
        let code_key = secret_arn("code-key", "a code key of at least thirty-two characters".into()).await;
        let signing_keys = secret_arn("signing-keys", keys.to_json()).await;
        let public_keys = secret_arn("public-keys", keys.public_jwks().expect("JWKS").to_string()).await;
        // As CloudFormation generates it: 64 letters and digits (base64).
        let webhook = secret_arn("webhook-secret", "Ab3".repeat(21) + "x").await;
        // The tenant's identity provider's client secret, as the operator
        // keeps it, named in the stack's IdentityProviderSecrets.
        let idp_secret = secret_arn("idp-acme", common::idp::CLIENT_SECRET.to_owned()).await;
        let template = &with_parameter(template, "IdentityProviderSecrets", &idp_secret);
        // The stack's bus, a rule of the test's sending every event to a
        // queue it reads, and the dead-letter queue.
        let events = aws_sdk_eventbridge::Client::new(&admin);
        let bus = format!("{table}-events");
        let made = events.create_event_bus().name(&bus).send().await.expect("bus");
        let bus_arn = made.event_bus_arn().expect("an ARN").to_owned();
        let sqs = aws_sdk_sqs::Client::new(&admin);
        let new_queue = |name: String| {
            let sqs = sqs.clone();
            async move { sqs.create_queue().queue_name(name).send().await.expect("queue").queue_url().unwrap().to_owned() }
        };
        let observer_queue = new_queue(format!("{table}-seen")).await;
        let dead_letter_queue = new_queue(format!("{table}-events-dlq")).await;
        let observer_arn = sqs
            .get_queue_attributes()
            .queue_url(&observer_queue)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue ARN")
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn).cloned())
            .unwrap();
        let pattern = json!({ "source": [shared::adapters::eventbridge::SOURCE] }).to_string();
        events.put_rule().name("all").event_bus_name(&bus).event_pattern(pattern).send().await.expect("rule");
        let target = aws_sdk_eventbridge::types::Target::builder().id("seen").arn(observer_arn).build().unwrap();
        events.put_targets().rule("all").event_bus_name(&bus).targets(target).send().await.expect("target");

        let refs: HashMap<&str, String> = HashMap::from([
            ("Table", table.clone()),
            ("CodeKeySecret", code_key),
            ("SigningKeysSecret", signing_keys),
            ("PublicKeysSecret", public_keys),
            ("WebhookSecret", webhook),
            ("EventBus.Arn", bus_arn),
            ("EmailFrom", format!("no-reply@{domain}")),
            ("SmsSenderId", String::new()),
            ("SecretsRevision", "1".to_owned()),
            ("Issuer", "https://registrar.example".to_owned()),
            ("Audience", "registrar".to_owned()),
        ]);
        let denials = Denials::default();
        let used = Used::default();
        let fail_next_send = Arc::new(AtomicBool::new(false));
        let sent = Sent::default();
        let mut apps = HashMap::new();
        let mut publisher = None;
        for function in functions(template) {
            let env: HashMap<String, String> = function
                .environment
                .iter()
                .map(|(name, value)| (name.clone(), resolve(&function.binary, name, value, &refs)))
                .collect();
            let config = Config::from_lookup(true, |name| env.get(name).cloned())
                .unwrap_or_else(|e| panic!("{}: {e}", function.binary));
            let credentials = role_credentials(&admin, &admin_arn, &function).await;
            // Built as the function's binary builds it: only the senders its
            // endpoint declares (a send it did not declare fails the flow).
            // publish-events, which no route serves, sends nothing.
            let senders = match function.binary.as_str() {
                "publish-events" => shared::config::Senders::NONE,
                binary => {
                    let needs = shared::http::endpoints::needs(route_for(binary).endpoint);
                    shared::config::Senders {
                        mailer: needs.email.then_some(shared::config::ses_mailer as shared::config::MailerFactory),
                        texter: needs.sms.then_some(shared::config::sns_texter as shared::config::TexterFactory),
                    }
                }
            };
            // The SDK configured as a deployed function configures it: from
            // what Lambda puts in its environment (region, the role's keys).
            let lambda: HashMap<&str, String> = HashMap::from([
                ("AWS_REGION", "eu-central-1".to_owned()),
                ("AWS_ACCESS_KEY_ID", credentials.access_key_id().to_owned()),
                ("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key().to_owned()),
                ("AWS_SESSION_TOKEN", credentials.session_token().expect("a session token").to_owned()),
                ("AWS_ENDPOINT_URL", iam_moto_url()),
            ]);
            let sdk = shared::config::lambda_sdk_config_from(move |name| lambda.get(name).cloned())
                .expect("the lean configuration from Lambda's environment");
            let role_sdk = sdk.clone();
            let mut app = match config.build_app_for(Some(&sdk), clock.clone(), senders).await {
                Ok(app) => app,
                // A cold start that fails: the function answers nothing.
                Err(err) => {
                    note_denial(&denials, &function.binary, &err.0);
                    continue;
                }
            };
            // It read the secrets it was given as it started: two or more in
            // one batch (moto checks the batch's action, AWS also each
            // secret's GetSecretValue).
            let secrets = env.keys().filter(|name| name.ends_with("_SECRET")).count();
            let read = [(secrets >= 1, "GetSecretValue"), (secrets >= 2, "BatchGetSecretValue")];
            for (_, action) in read.iter().filter(|(read, _)| *read) {
                used.lock().unwrap().insert((function.binary.clone(), format!("secretsmanager:{action}")));
            }
            app.store = Arc::new(Watched {
                inner: app.store.clone(),
                function: function.binary.clone(),
                actions: function.actions.clone(),
                denials: denials.clone(),
                used: used.clone(),
            });
            let senders = Arc::new(WatchedSenders {
                mailer: app.mailer.clone(),
                texter: app.texter.clone(),
                function: function.binary.clone(),
                denials: denials.clone(),
                used: used.clone(),
                fail_next: fail_next_send.clone(),
                sent: sent.clone(),
            });
            app.mailer = senders.clone();
            app.texter = senders;
            if function.binary == "publish-events" {
                publisher = Some((Arc::new(app), role_sdk));
                continue;
            }
            apps.insert(function.binary.clone(), Arc::new(app));
        }

        // The operator's set-up (registrar-admin's part), with admin rights.
        let idp = common::idp::Idp::start().await;
        let tenant = Tenant {
            id: common::unique("t"),
            name: "IAM".into(),
            // A fixed sandbox code, which the deployed functions must ignore.
            policy: Policy {
                sandbox_code: Some(CODE.into()),
                cors_origins: vec![ORIGIN.into()],
                usernames: shared::domain::tenant::Usernames::Optional,
                // A day, so the session flows reach it well within the
                // refresh tokens' 14 days.
                refresh: shared::domain::policy::RefreshPolicy { idle_timeout_secs: IDLE_SECS },
                passkeys: shared::domain::policy::PasskeyPolicy {
                    rp_id: Some("localhost".into()),
                    origins: vec![PASSKEY_ORIGIN.into()],
                },
                sign_in_methods: shared::domain::policy::SignInMethod::ALL.to_vec(),
                identity_providers: vec![shared::domain::policy::IdentityProvider {
                    client_secret: None,
                    client_secret_name: Some(idp_secret.clone()),
                    ..idp.provider("acme")
                }],
                ..Policy::default()
            },
        };
        save_tenant(&admin_store, &tenant).await.expect("tenant");
        // A tenant listed before the list carried origins (an older stack).
        let legacy = Tenant {
            id: common::unique("legacy"),
            name: "Legacy".into(),
            policy: Policy { cors_origins: vec![LEGACY_ORIGIN.into()], ..Policy::default() },
        };
        save_tenant(&admin_store, &legacy).await.expect("legacy tenant");
        let entry = Item::new(Key::new("TENANTS", format!("TENANT#{}", legacy.id)), json!({ "id": legacy.id }), None);
        admin_store.put(entry, Condition::Always).await.expect("legacy list entry");
        let api_key = format!("sk_iam_{}", common::unique("k"));
        let grant = ApiKeyGrant { tenant_id: tenant.id.clone(), partner_id: None, revoked: false };
        save_api_key(&admin_store, &api_key, &grant).await.expect("API key");
        // A tenant whose sign-up starts with the phone.
        let phone_first = Tenant {
            id: common::unique("phone"),
            name: "Phone first".into(),
            policy: Policy {
                sign_up_starts_with: shared::domain::tenant::SignUpStart::Phone,
                email_required: false,
                ..Policy::default()
            },
        };
        save_tenant(&admin_store, &phone_first).await.expect("phone-first tenant");
        let phone_api_key = format!("sk_iam_{}", common::unique("p"));
        let grant = ApiKeyGrant { tenant_id: phone_first.id.clone(), partner_id: None, revoked: false };
        save_api_key(&admin_store, &phone_api_key, &grant).await.expect("API key");
        let admin_token = format!("adm_iam_{}", common::unique("a").replace('-', ""));
        shared::domain::tenant::issue_admin_token_value(
            &admin_store,
            clock.now_dt(),
            &tenant.id,
            1,
            "iam",
            &admin_token,
        )
        .await
        .expect("admin token");

        let deployed = Arc::new(Deployed { apps, served: Mutex::default() });
        let (addr, server) =
            shared::http::server::spawn(deployed.clone(), "127.0.0.1:0".parse().unwrap()).await.expect("bind");
        Stack {
            base: format!("http://{addr}"),
            api_key,
            phone_api_key,
            admin_token,
            domain,
            clock,
            deployed,
            denials,
            used,
            fail_next_send,
            sent,
            tenant_id: tenant.id.clone(),
            phone_tenant_id: phone_first.id.clone(),
            admin_store,
            table,
            publisher,
            bus,
            observer_queue,
            dead_letter_queue,
            http: reqwest::Client::new(),
            idp,
            _server: server,
        }
    }

    /// A POST with the phone-first tenant's API key.
    async fn post_phone_first(&self, path: &str, body: Value) -> Answer {
        let request = self.http.post(format!("{}{path}", self.base)).header("X-API-Key", &self.phone_api_key);
        Answer::read(request.header("X-Device-ID", "p1").json(&body).send().await.expect("request sent")).await
    }

    /// `post`, expecting `status`.
    async fn expect(&self, status: StatusCode, path: &str, body: Value, headers: &[(&str, &str)]) -> Value {
        let answer = self.post(path, body, headers).await;
        assert_eq!(answer.status, status, "POST {path}: {}; refused so far: {:?}", answer.body, self.denials());
        answer.body
    }

    fn email(&self, name: &str) -> String {
        format!("{name}@{}", self.domain)
    }

    /// The code of the last message that carried one.
    fn code(&self) -> String {
        let sent = self.sent.lock().unwrap();
        sent.iter()
            .rev()
            .find_map(|text| text.split(|c: char| !c.is_ascii_digit()).find(|run| run.len() == 6).map(str::to_owned))
            .expect("a code was sent")
    }

    /// The next message any function sends fails.
    fn fail_next_send(&self) {
        self.fail_next_send.store(true, Ordering::SeqCst);
    }

    /// Marks a user "reset required", as the back office does.
    async fn require_reset(&self, email: &str) {
        self.edit_user(email, |body| body["reset_required"] = json!(true)).await;
    }

    /// Leaves the user's terms pending (as a back-office creation without
    /// them does).
    async fn require_terms(&self, email: &str) {
        self.edit_user(email, |body| body["terms"] = Value::Null).await;
    }

    async fn edit_user(&self, email: &str, edit: impl FnOnce(&mut Value)) {
        self.edit_user_by_lock(shared::table::email_lock_key(&self.tenant_id, email), edit).await;
    }

    async fn edit_user_by_lock(&self, lock: Key, edit: impl FnOnce(&mut Value)) {
        let lock = self.admin_store.get(&lock).await.unwrap().expect("the user's lock");
        let key = shared::table::user_key(
            &shared::domain::ids::UserId::parse(lock.body["user_id"].as_str().expect("a user id")).unwrap(),
        );
        let user = self.admin_store.get(&key).await.unwrap().expect("the user");
        let mut body = user.body.clone();
        edit(&mut body);
        self.admin_store.put(Item::new(key, body, None), Condition::Version(user.version)).await.unwrap();
    }

    fn denials(&self) -> BTreeSet<(String, String)> {
        self.denials.lock().unwrap().clone()
    }

    /// Logs in, with the second factor when the user has one; the tokens.
    async fn signed_in(&self, username: &str, password: &str, device: &str) -> Value {
        self.advance(61); // past the 2FA send cooldown
        let answer = self.login(username, password, device).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        if answer.body["mfa_required"] != true {
            return answer.body;
        }
        let body = json!({ "challenge_id": answer.body["challenge_id"], "code": self.code() });
        self.expect(StatusCode::OK, "/v1/auth/mfa", body, &[("X-Device-ID", device)]).await
    }

    /// A user made by the back office (create-user), e-mail only.
    async fn admin_user(&self, name: &str, extra: Value) -> (String, String) {
        let email = self.email(name);
        let mut body = json!({
            "email": email, "first_name": "Ida", "last_name": "Am", "user_type": "consumer", "password": PASSWORD,
            "terms_accepted": true, "privacy_policy_accepted": true,
        });
        let fields = body.as_object_mut().unwrap();
        fields.extend(extra.as_object().cloned().unwrap_or_default());
        fields.retain(|_, value| !value.is_null());
        let admin = format!("Bearer {}", self.admin_token);
        let created = self.expect(StatusCode::CREATED, "/v1/users", body, &[("Authorization", &admin)]).await;
        (created["user_id"].as_str().or(created["id"].as_str()).expect("user id").to_owned(), email)
    }
}

impl Flows for Stack {
    async fn send(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base)).header("X-API-Key", &self.api_key);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Answer::read(request.send().await.expect("request sent")).await
    }

    fn clock(&self) -> &ManualClock {
        &self.clock
    }
}

/// The registration functions, login with a second factor, refresh with
/// reuse detection, and a password reset.
async fn self_service_flows(stack: &Stack) {
    assert_eq!(stack.send(Method::GET, "/v1/health", None, &[]).await.status, StatusCode::OK);
    let jwks = stack.send(Method::GET, "/.well-known/jwks.json", None, &[]).await;
    assert!(!jwks.body["keys"].as_array().expect("keys").is_empty(), "{}", jwks.body);
    let discovery = stack.send(Method::GET, "/.well-known/openid-configuration", None, &[]).await;
    assert_eq!(discovery.body["issuer"], "https://registrar.example", "{}", discovery.body);
    let preflight = stack
        .send(
            Method::OPTIONS,
            "/v1/registrations",
            None,
            &[("Origin", ORIGIN), ("Access-Control-Request-Method", "POST")],
        )
        .await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(preflight.headers["access-control-allow-origin"], ORIGIN);
    let legacy = stack
        .send(
            Method::OPTIONS,
            "/v1/auth/login",
            None,
            &[("Origin", LEGACY_ORIGIN), ("Access-Control-Request-Method", "POST")],
        )
        .await;
    assert_eq!(legacy.headers["access-control-allow-origin"], LEGACY_ORIGIN, "{:?}", stack.denials());

    let email = stack.email("anna");
    let phone = format!("+4179{:07}", rand_digits());
    let started = stack
        .expect(
            StatusCode::ACCEPTED,
            "/v1/registrations",
            json!({ "email": email, "password": PASSWORD, "first_name": "Anna", "last_name": "Muster",
                    "terms_accepted": true, "privacy_policy_accepted": true }),
            &[],
        )
        .await;
    let id = started["registration_id"].as_str().unwrap().to_owned();
    stack.advance(61);
    stack
        .expect(StatusCode::ACCEPTED, &format!("/v1/registrations/{id}/resend"), json!({ "channel": "email" }), &[])
        .await;
    let status = stack.send(Method::GET, &format!("/v1/registrations/{id}"), None, &[]).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    let wrong = stack.post(&format!("/v1/registrations/{id}/email/verify"), json!({ "code": "000000" }), &[]).await;
    assert_eq!(wrong.code(), "invalid_code", "{}", wrong.body);
    assert_ne!(stack.code(), CODE, "deployed, the tenant's fixed sandbox code is ignored");
    stack
        .expect(StatusCode::OK, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": stack.code() }), &[])
        .await;
    stack.expect(StatusCode::ACCEPTED, &format!("/v1/registrations/{id}/phone"), json!({ "phone": phone }), &[]).await;
    stack.advance(61);
    stack
        .expect(StatusCode::ACCEPTED, &format!("/v1/registrations/{id}/resend"), json!({ "channel": "sms" }), &[])
        .await;
    let wrong = stack.post(&format!("/v1/registrations/{id}/phone/verify"), json!({ "code": "000000" }), &[]).await;
    assert_eq!(wrong.code(), "invalid_code", "{}", wrong.body);
    stack
        .expect(
            StatusCode::CREATED,
            &format!("/v1/registrations/{id}/phone/verify"),
            json!({ "code": stack.code() }),
            &[],
        )
        .await;

    // Login with the second factor (an SMS from the login function); the
    // first SMS fails, and the login function cleans up after it.
    stack.advance(61);
    stack.fail_next_send();
    let failed = stack.login(&email, PASSWORD, "d1").await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.body);
    let challenge = stack.login(&email, PASSWORD, "d1").await;
    assert_eq!(challenge.body["mfa_required"], true, "{}", challenge.body);
    let challenge_id = challenge.body["challenge_id"].as_str().unwrap().to_owned();
    let device = [("X-Device-ID", "d1")];
    // Signed in again at once: the pending challenge, no new SMS. Its code
    // sent again past the cooldown (the first resend fails and its function
    // cleans up after it).
    let again = stack.login(&email, PASSWORD, "d1").await;
    assert_eq!(again.body["challenge_id"], challenge_id.as_str(), "{}", again.body);
    stack.advance(61);
    stack.fail_next_send();
    let resend = json!({ "challenge_id": challenge_id });
    let failed = stack.post("/v1/auth/mfa/send", resend.clone(), &device).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.body);
    stack.expect(StatusCode::ACCEPTED, "/v1/auth/mfa/send", resend, &device).await;
    let wrong = stack.post("/v1/auth/mfa", json!({ "challenge_id": challenge_id, "code": "000000" }), &device).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.body);
    let tokens = stack
        .expect(StatusCode::OK, "/v1/auth/mfa", json!({ "challenge_id": challenge_id, "code": stack.code() }), &device)
        .await;

    // Refresh, then reuse of the old token after the grace window: the
    // family is revoked.
    let old = tokens["refresh_token"].as_str().unwrap().to_owned();
    stack.expect(StatusCode::OK, "/v1/auth/refresh", json!({ "refresh_token": old }), &device).await;
    stack.advance(11);
    let reused = stack.post("/v1/auth/refresh", json!({ "refresh_token": old }), &device).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED, "{}", reused.body);

    // Forgot (the first e-mail fails and is cleaned up) and reset (a wrong
    // code first).
    stack.fail_next_send();
    let failed = stack.post("/v1/auth/password/forgot", json!({ "email": email }), &[]).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.body);
    stack.expect(StatusCode::ACCEPTED, "/v1/auth/password/forgot", json!({ "email": email }), &[]).await;
    let reset = |code: &str| json!({ "email": email, "code": code, "new_password": "N3w!Secret" });
    let wrong = stack.post("/v1/auth/password/reset", reset("000000"), &[]).await;
    assert_eq!(wrong.code(), "invalid_code", "{}", wrong.body);
    stack.expect(StatusCode::OK, "/v1/auth/password/reset", reset(&stack.code()), &[]).await;

    // Reset required by the back office, for a user with a second factor: the
    // second factor first (the order of sign-in steps), then the new password,
    // announced by e-mail from the password challenge's function.
    stack.require_reset(&email).await;
    stack.advance(61);
    let mfa = stack.login(&email, "N3w!Secret", "d2").await;
    assert_eq!(mfa.body["mfa_required"], true, "{}", mfa.body);
    let answer = json!({ "challenge_id": mfa.body["challenge_id"], "code": stack.code() });
    let challenge = stack.expect(StatusCode::OK, "/v1/auth/mfa", answer, &[("X-Device-ID", "d2")]).await;
    assert_eq!(challenge["password_change_required"], true, "{challenge}");
    let body = json!({ "challenge_id": challenge["challenge_id"], "new_password": "An0ther!Secret" });
    let tokens = stack.expect(StatusCode::OK, "/v1/auth/password/challenge", body, &[("X-Device-ID", "d2")]).await;
    assert!(tokens["access_token"].is_string(), "{tokens}");

    // Signing in with the phone: the second factor goes by e-mail.
    stack.advance(61);
    let by_phone = stack.login(&phone, "An0ther!Secret", "d3").await;
    let answer = (by_phone.body["mfa_required"].clone(), by_phone.body["channel"].clone());
    assert_eq!(answer, (json!(true), json!("email")), "{}", by_phone.body);
    stack.advance(61);
    let resend = json!({ "challenge_id": by_phone.body["challenge_id"] });
    stack.expect(StatusCode::ACCEPTED, "/v1/auth/mfa/send", resend, &[("X-Device-ID", "d3")]).await;
    let body = json!({ "challenge_id": by_phone.body["challenge_id"], "code": stack.code() });
    stack.expect(StatusCode::OK, "/v1/auth/mfa", body, &[("X-Device-ID", "d3")]).await;
    stack.require_reset(&email).await;
    stack.advance(61);
    let mfa = stack.login(&phone, "An0ther!Secret", "d4").await;
    assert_eq!((mfa.body["mfa_required"].clone(), mfa.body["channel"].clone()), (json!(true), json!("email")));
    let answer = json!({ "challenge_id": mfa.body["challenge_id"], "code": stack.code() });
    let challenge = stack.expect(StatusCode::OK, "/v1/auth/mfa", answer, &[("X-Device-ID", "d4")]).await;
    assert_eq!(challenge["password_change_required"], true, "{challenge}");
    let body = json!({ "challenge_id": challenge["challenge_id"], "new_password": "Thr33!Secret" });
    stack.expect(StatusCode::OK, "/v1/auth/password/challenge", body, &[("X-Device-ID", "d4")]).await;

    // Terms left pending: after the second factor, the login asks for them.
    stack.require_terms(&email).await;
    // Past the hour's allowance of codes to this user.
    stack.advance(3601);
    let challenge = stack.login(&email, "Thr33!Secret", "d5").await;
    assert_eq!(challenge.body["mfa_required"], true, "{}", challenge.body);
    let body = json!({ "challenge_id": challenge.body["challenge_id"], "code": stack.code() });
    let legal = stack.expect(StatusCode::OK, "/v1/auth/mfa", body, &[("X-Device-ID", "d5")]).await;
    assert_eq!(legal["legal_acceptance_required"], true, "{legal}");
    let body = json!({ "challenge_id": legal["challenge_id"], "terms_accepted": true });
    let tokens = stack.expect(StatusCode::OK, "/v1/auth/legal/accept", body, &[("X-Device-ID", "d5")]).await;
    assert!(tokens["access_token"].is_string(), "{tokens}");
}

/// A sign-up that starts with the phone: the start texts the code, the
/// phone's verification e-mails the address's.
async fn phone_first_flows(stack: &Stack) {
    let phone = format!("+4179{:07}", rand_digits());
    let body = json!({
        "phone": phone, "email": stack.email("pia"), "password": PASSWORD, "first_name": "Pia", "last_name": "Hone",
        "terms_accepted": true, "privacy_policy_accepted": true,
    });
    let started = stack.post_phone_first("/v1/registrations", body).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    let id = started.body["registration_id"].as_str().unwrap().to_owned();
    let path = |step: &str| format!("/v1/registrations/{id}/{step}");
    let next = stack.post_phone_first(&path("phone/verify"), json!({ "code": stack.code() })).await;
    assert_eq!(next.body["next"], "verify_email", "{}", next.body);
    let done = stack.post_phone_first(&path("email/verify"), json!({ "code": stack.code() })).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);

    // A user without an address (this tenant asks for none): a changed
    // password is announced by SMS (change-password's sns:Publish).
    let phone = format!("+4176{:07}", rand_digits());
    let body = json!({
        "phone": phone, "password": PASSWORD, "first_name": "Pho", "last_name": "Only",
        "terms_accepted": true, "privacy_policy_accepted": true,
    });
    let started = stack.post_phone_first("/v1/registrations", body).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    let id = started.body["registration_id"].as_str().unwrap().to_owned();
    let done =
        stack.post_phone_first(&format!("/v1/registrations/{id}/phone/verify"), json!({ "code": stack.code() })).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    let bearer = format!("Bearer {}", done.body["access_token"].as_str().unwrap());
    let request = stack.http.post(format!("{}/v1/me/password", stack.base)).header("X-API-Key", &stack.phone_api_key);
    let change = json!({ "current_password": PASSWORD, "new_password": "N3w!Secret" });
    let changed = Answer::read(request.header("Authorization", &bearer).json(&change).send().await.unwrap()).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let told = |stack: &Stack| stack.sent.lock().unwrap().last().is_some_and(|text| text.contains("password"));
    assert!(told(stack), "the notice went out");
    // A new password the back office required: set at the next sign-in,
    // and announced by SMS from the password challenge's function.
    let lock = shared::table::phone_lock_key(&stack.phone_tenant_id, &phone);
    stack.edit_user_by_lock(lock, |body| body["reset_required"] = json!(true)).await;
    let login = json!({ "username": phone, "password": "N3w!Secret" });
    let challenge = stack.post_phone_first("/v1/auth/login", login).await;
    assert_eq!(challenge.body["password_change_required"], true, "{}", challenge.body);
    let body = json!({ "challenge_id": challenge.body["challenge_id"], "new_password": "An0ther!Secret" });
    stack.sent.lock().unwrap().clear();
    let tokens = stack.post_phone_first("/v1/auth/password/challenge", body).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    assert!(told(stack), "the notice went out");
}

/// The session functions and the refresh's idle timeout: a list, another
/// device's session ended (and again: 404), the caller's own ended, and a
/// refresh past the idle timeout, which ends its session. It moves the
/// clock by a day: run it last.
async fn session_flows(stack: &Stack) {
    let (_, email) = stack.admin_user("sia", json!({})).await;
    let first = stack.signed_in(&email, PASSWORD, "s1").await;
    let second = stack.signed_in(&email, PASSWORD, "s2").await;
    let session_of = |tokens: &Value| tokens["refresh_token"].as_str().unwrap().split('.').nth(1).unwrap().to_owned();
    let bearer = |tokens: &Value| format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let auth = bearer(&first);
    let auth = [("Authorization", auth.as_str())];
    let listed = stack.send(Method::GET, "/v1/me/sessions", None, &auth).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["sessions"].as_array().map(Vec::len), Some(2), "{}", listed.body);
    let path = format!("/v1/me/sessions/{}", session_of(&second));
    let ended = stack.send(Method::DELETE, &path, None, &auth).await;
    assert_eq!(ended.status, StatusCode::OK, "{}; refused so far: {:?}", ended.body, stack.denials());
    let again = stack.send(Method::DELETE, &path, None, &auth).await;
    assert_eq!((again.status, again.code()), (StatusCode::NOT_FOUND, "session_not_found"), "{}", again.body);
    let refresh = |tokens: &Value, device: &'static str| {
        let body = json!({ "refresh_token": tokens["refresh_token"] });
        async move { stack.post("/v1/auth/refresh", body, &[("X-Device-ID", device)]).await }
    };
    assert_eq!(refresh(&second, "s2").await.code(), "invalid_token", "ended");
    // Used within the timeout: refreshes; idle past it: refused and ended.
    stack.advance(IDLE_SECS - 600);
    let used = refresh(&first, "s1").await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.body);
    stack.advance(IDLE_SECS + 1);
    let idle = refresh(&used.body, "s1").await;
    assert_eq!((idle.status, idle.code()), (StatusCode::UNAUTHORIZED, "invalid_token"), "{}", idle.body);
    // A new sign-in ends its own session.
    let fresh = stack.signed_in(&email, PASSWORD, "s3").await;
    let auth = bearer(&fresh);
    let path = format!("/v1/me/sessions/{}", session_of(&fresh));
    let ended = stack.send(Method::DELETE, &path, None, &[("Authorization", auth.as_str())]).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
}

/// A public client of the stack's tenant, registered with the operator's
/// access (as `registrar-admin client create` does), and an app on the
/// stack's table with that access (what issues codes in the harness).
async fn oauth_client(stack: &Stack, redirect: &str) -> (shared::app::App, shared::domain::oauth::Client) {
    let (admin, _) = admin_sdk().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&admin), stack.table.clone(), stack.clock.clone());
    let options = shared::testing::TestOptions {
        store: Some(Arc::new(store)),
        clock: Some(stack.clock.clone()),
        ..shared::testing::TestOptions::default()
    };
    let harness = shared::testing::build_app(options).await.app;
    let draft = shared::domain::oauth::ClientDraft {
        client_id: None,
        tenant_id: stack.tenant_id.clone(),
        name: "IAM app".into(),
        redirect_uris: vec![redirect.into()],
        post_logout_redirect_uris: vec!["https://app.example.com/bye".into()],
        public: true,
    };
    let (client, _) = shared::domain::oauth::clients::register(
        harness.store.as_ref(),
        harness.random.as_ref(),
        harness.clock.now(),
        draft,
    )
    .await
    .expect("client");
    ((*harness).clone(), client)
}

/// The hosted pages' functions, as a browser uses them: a user with an SMS
/// second factor whose password the back office wants changed opens the
/// sign-in page (authorize), gives the password (hosted-sign-in sends the
/// SMS), the code, a new password (announced by e-mail), and is sent back
/// with a code; a second authorization signs in with the hosted session.
/// Then the forgotten password on the pages, a sign-up on them, and a
/// sign-in by a code and one by a passkey.
async fn hosted_flows(stack: &Stack) {
    use base64::Engine as _;
    use sha2::Digest as _;
    let redirect = "https://app.example.com/pages";
    let (_, client) = oauth_client(stack, redirect).await;
    let (_, email) = stack.admin_user("hana", json!({})).await;
    let tokens = stack.signed_in(&email, PASSWORD, "h1").await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let auth = [("Authorization", bearer.as_str())];
    let phone = format!("+4179{:07}", rand_digits());
    stack.expect(StatusCode::ACCEPTED, "/v1/me/credentials", json!({ "type": "phone", "value": phone }), &auth).await;
    let verify = json!({ "type": "phone", "code": stack.code() });
    stack.expect(StatusCode::OK, "/v1/me/credentials/verify", verify, &auth).await;
    stack.require_reset(&email).await;
    stack.advance(61); // past the SMS cooldown

    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest("hosted-verifier"));
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client.client_id.as_str()),
            ("redirect_uri", redirect),
            ("scope", "openid email"),
            ("state", "s1"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let mut browser = common::hosted::Browser::at(&stack.base);
    let page = browser.get(&query).await;
    assert_eq!(page.status, StatusCode::OK, "{}; refused so far: {:?}", page.html, stack.denials());
    let mfa = browser.submit(&page, &[("username", &email), ("password", PASSWORD)]).await;
    assert!(mfa.input("challenge_id").is_some(), "the second factor's page: {}; {:?}", mfa.html, stack.denials());
    let code = stack.code();
    let renew = browser.submit(&mfa, &[("code", code.as_str())]).await;
    assert!(renew.html.contains("new-password"), "the new password's page: {}; {:?}", renew.html, stack.denials());
    let new_secret = "H0sted!Pages";
    let done = browser.submit(&renew, &[("new_password", new_secret), ("confirm_password", new_secret)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}; refused so far: {:?}", done.html, stack.denials());
    assert!(done.location().starts_with(redirect) && done.location().contains("code="), "{}", done.location());
    // The hosted session: no page, the code at once.
    let stolen = browser.cookies.clone();
    let again = browser.get(&query).await;
    assert_eq!(again.status, StatusCode::FOUND, "{}; refused so far: {:?}", again.html, stack.denials());
    assert!(again.location().contains("code="), "{}", again.location());
    // Its replaced token presented again past the grace: reuse detection
    // ends the hosted session, for the thief and the browser alike.
    stack.advance(11);
    let mut thief = common::hosted::Browser::at(&stack.base);
    thief.cookies = stolen;
    let refused = thief.get(&query).await;
    assert_eq!(refused.status, StatusCode::OK, "the sign-in page again; refused so far: {:?}", stack.denials());
    let ended = browser.get(&query).await;
    assert_eq!(ended.status, StatusCode::OK, "the browser's session ended too: {}", ended.location());
    // The forgotten password on the pages: hosted-sign-in sends the code,
    // then resets (and sweeps the user's ended sessions).
    let (_, forgetful) = stack.admin_user("hugo", json!({})).await;
    let mut browser = common::hosted::Browser::at(&stack.base);
    let page = browser.get(&query).await;
    let forgot = browser.follow(&page.link("screen=forgot").expect("the forgot screen's link")).await;
    let reset = browser.submit(&forgot, &[("email", &forgetful)]).await;
    assert!(reset.html.contains("one-time-code"), "the reset page: {}; {:?}", reset.html, stack.denials());
    let code = stack.code();
    let fields = [("code", code.as_str()), ("new_password", new_secret), ("confirm_password", new_secret)];
    let back = browser.submit(&reset, &fields).await;
    assert!(back.html.contains("role=\"status\""), "signed out, reset: {}; {:?}", back.html, stack.denials());
    // The sign-up on the pages: hosted-sign-in starts the registration
    // (the e-mailed code), verifies it, adds the phone (the SMS), verifies
    // that and completes the sign-up in one transaction, then the code.
    let newcomer = stack.email("hedi");
    let mut browser = common::hosted::Browser::at(&stack.base);
    let page = browser.get(&query).await;
    let form = browser.follow(&page.link("screen=signup").expect("the sign-up's link")).await;
    let fields = [
        ("email", newcomer.as_str()),
        ("first_name", "Hedi"),
        ("last_name", "Neu"),
        ("password", PASSWORD),
        ("confirm_password", PASSWORD),
        ("terms_accepted", "true"),
        ("privacy_policy_accepted", "true"),
    ];
    let email_code = browser.submit(&form, &fields).await;
    assert!(
        email_code.input("registration_id").is_some(),
        "the code's page: {}; {:?}",
        email_code.html,
        stack.denials()
    );
    let code = stack.code();
    let phone_page = browser.submit(&email_code, &[("code", code.as_str())]).await;
    assert_eq!(phone_page.input("step").as_deref(), Some("signup_phone"), "{}; {:?}", phone_page.html, stack.denials());
    let phone = format!("+4179{:07}", rand_digits());
    let sms_code = browser.submit(&phone_page, &[("phone", phone.as_str())]).await;
    assert_eq!(sms_code.input("step").as_deref(), Some("signup_sms"), "{}; {:?}", sms_code.html, stack.denials());
    let code = stack.code();
    let done = browser.submit(&sms_code, &[("code", code.as_str())]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}; refused so far: {:?}", done.html, stack.denials());
    assert!(done.location().starts_with(redirect) && done.location().contains("code="), "{}", done.location());
    // A code instead of the password: hosted-sign-in sends it (by e-mail),
    // signs in with it, and texts the second factor (the phone of
    // code_sign_in_flows' user).
    stack.advance(61);
    let coded = stack.email("cody");
    let mut browser = common::hosted::Browser::at(&stack.base);
    let page = browser.get(&query).await;
    let ask = browser.follow(&page.link("screen=code").expect("the code screen's link")).await;
    let entry = browser.submit(&ask, &[("username", &coded), ("channel", "email")]).await;
    assert_eq!(entry.input("step").as_deref(), Some("code"), "{}; {:?}", entry.html, stack.denials());
    let code = stack.code();
    let mfa = browser.submit(&entry, &[("code", code.as_str())]).await;
    assert!(mfa.input("challenge_id").is_some(), "the second factor's page: {}; {:?}", mfa.html, stack.denials());
    let code = stack.code();
    let done = browser.submit(&mfa, &[("code", code.as_str())]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}; refused so far: {:?}", done.html, stack.denials());
    assert!(done.location().contains("code="), "{}", done.location());
    // A passkey: authorize starts the ceremony its page embeds,
    // hosted-sign-in takes the assertion.
    use shared::soft_authenticator::SoftAuthenticator;
    let (_, keyed) = stack.admin_user("hank", json!({})).await;
    let tokens = stack.signed_in(&keyed, PASSWORD, "h2").await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let auth = [("Authorization", bearer.as_str())];
    let options =
        stack.expect(StatusCode::OK, "/v1/me/passkeys/options", json!({ "current_password": PASSWORD }), &auth).await;
    let mut key = SoftAuthenticator::new(&keyed, "localhost");
    let credential = key.create(&options["publicKey"], PASSKEY_ORIGIN);
    let body = json!({ "ceremony_id": options["ceremony_id"], "credential": credential });
    stack.expect(StatusCode::CREATED, "/v1/me/passkeys", body, &auth).await;
    let mut browser = common::hosted::Browser::at(&stack.base);
    let page = browser.get(&query).await;
    let passkey = browser.follow(&page.link("screen=passkey").expect("the passkey screen's link")).await;
    assert_eq!(passkey.input("step").as_deref(), Some("passkey"), "{}; {:?}", passkey.html, stack.denials());
    let at = passkey.html.find("data-options=\"").expect("the options") + "data-options=\"".len();
    let raw = &passkey.html[at..at + passkey.html[at..].find('"').unwrap()];
    let options: Value = serde_json::from_str(&raw.replace("&quot;", "\"").replace("&amp;", "&")).unwrap();
    let mut fields = passkey.hidden();
    fields.retain(|(name, _)| name != "credential");
    fields.push(("credential".into(), key.get(&options, PASSKEY_ORIGIN).to_string()));
    let done = browser.post(&fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}; refused so far: {:?}", done.html, stack.denials());
    assert!(done.location().contains("code="), "{}", done.location());
}

/// The OpenID Provider's functions: a code issued as the hosted sign-in
/// issues it (by the harness, on the table, with the operator's access),
/// then redeemed, refreshed, userinfo, revoked and logged out through the
/// functions, each under its own role.
async fn oauth_flows(stack: &Stack) {
    use base64::Engine as _;
    use sha2::Digest as _;
    let redirect = "https://app.example.com/callback";
    let (harness, client) = oauth_client(stack, redirect).await;
    let (_, email) = stack.admin_user("oia", json!({})).await;
    let signed_in = stack.signed_in(&email, PASSWORD, "o1").await;
    let text = |name: &str| signed_in[name].as_str().unwrap().to_owned();
    let tokens = shared::domain::user::Tokens {
        user_id: text("user_id"),
        access_token: text("access_token"),
        token_type: "Bearer",
        expires_in: 900,
        refresh_token: text("refresh_token"),
        scope: String::new(),
        device_token: None,
        refresh_expires_in: 0,
    };
    let verifier = "iam-flow-verifier-0123456789abcdefghijklmnopqrstuv";
    let request = shared::domain::oauth::AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect.into(),
        scopes: vec!["openid".into(), "email".into()],
        state: None,
        nonce: Some("n".into()),
        code_challenge: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier)),
        prompt: None,
        login_hint: None,
        ui_locales: None,
    };
    let tenant = shared::domain::tenant::get_tenant(harness.store.as_ref(), &stack.tenant_id).await.unwrap().unwrap();
    let code = shared::domain::oauth::issue_code(&harness, &tenant, &client, &request, &tokens).await.expect("code");
    let form = |path: &str, pairs: &[(&str, &str)]| {
        let request = stack.http.post(format!("{}{path}", stack.base)).form(pairs);
        async move { Answer::read(request.send().await.expect("request sent")).await }
    };
    let id = client.client_id.as_str();
    let issued = form(
        "/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
            ("client_id", id),
        ],
    )
    .await;
    assert_eq!(issued.status, StatusCode::OK, "{}; refused so far: {:?}", issued.body, stack.denials());
    let replayed = form(
        "/oauth2/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
            ("client_id", id),
        ],
    )
    .await;
    assert_eq!(replayed.body["error"], "invalid_grant", "{}", replayed.body);
    // The replay revoked the first session: a new code, a new session.
    let code = shared::domain::oauth::issue_code(&harness, &tenant, &client, &request, &tokens).await.expect("code");
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", verifier),
        ("client_id", id),
    ];
    let issued = form("/oauth2/token", &pairs).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    let refresh = issued.body["refresh_token"].as_str().unwrap().to_owned();
    let refreshed =
        form("/oauth2/token", &[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("client_id", id)]).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    let access = refreshed.body["access_token"].as_str().unwrap().to_owned();
    let info = stack.http.get(format!("{}/oauth2/userinfo", stack.base)).bearer_auth(&access).send().await.unwrap();
    let info = Answer::read(info).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    assert_eq!(info.body["email"], email.as_str());
    let next = refreshed.body["refresh_token"].as_str().unwrap().to_owned();
    let revoked = form("/oauth2/revoke", &[("token", &next), ("client_id", id)]).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    let code = shared::domain::oauth::issue_code(&harness, &tenant, &client, &request, &tokens).await.expect("code");
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", verifier),
        ("client_id", id),
    ];
    let issued = form("/oauth2/token", &pairs).await;
    let hint = issued.body["id_token"].as_str().expect("an ID token").to_owned();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let query = [("id_token_hint", hint.as_str()), ("post_logout_redirect_uri", "https://app.example.com/bye")];
    let out = browser.get(format!("{}/oauth2/logout", stack.base)).query(&query).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::FOUND);
    assert_eq!(out.headers()["location"], "https://app.example.com/bye");
}

/// The signed-in user's functions, on a back-office user.
async fn signed_in_flows(stack: &Stack) {
    let (_, email) = stack.admin_user("mia", json!({})).await;
    let one = stack.login(&email, PASSWORD, "m1").await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    let two = stack.login(&email, PASSWORD, "m2").await.body;
    let bearer = format!("Bearer {}", one.body["access_token"].as_str().unwrap());
    let auth = [("Authorization", bearer.as_str())];
    assert_eq!(stack.send(Method::GET, "/v1/me", None, &auth).await.status, StatusCode::OK);
    let patched = stack.send(Method::PATCH, "/v1/me", Some(json!({ "first_name": "Mila" })), &auth).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    // A username after a step-up (a wrong password counts), then another.
    let name = format!("Mila{}", rand_digits());
    let wrong = json!({ "username": name, "current_password": "Wr0ng!Pass" });
    let refused = stack.send(Method::PATCH, "/v1/me", Some(wrong), &auth).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let named = json!({ "username": name, "current_password": PASSWORD });
    let named = stack.send(Method::PATCH, "/v1/me", Some(named), &auth).await;
    assert_eq!(named.body["username"], name.as_str(), "{}", named.body);
    let renamed = json!({ "username": format!("{name}b") });
    let renamed = stack.send(Method::PATCH, "/v1/me", Some(renamed), &auth).await;
    assert_eq!(renamed.status, StatusCode::OK, "the old name's lock deleted: {}", renamed.body);
    let phone = format!("+4178{:07}", rand_digits());
    stack.expect(StatusCode::ACCEPTED, "/v1/me/credentials", json!({ "type": "phone", "value": phone }), &auth).await;
    let wrong = stack.post("/v1/me/credentials/verify", json!({ "type": "phone", "code": "000000" }), &auth).await;
    assert_eq!(wrong.code(), "invalid_code", "{}", wrong.body);
    stack
        .expect(StatusCode::OK, "/v1/me/credentials/verify", json!({ "type": "phone", "code": stack.code() }), &auth)
        .await;
    let new_email = stack.email("mia.new");
    let add_email = json!({ "type": "email", "value": new_email });
    stack.fail_next_send();
    let failed = stack.post("/v1/me/credentials", add_email.clone(), &auth).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.body);
    stack.expect(StatusCode::ACCEPTED, "/v1/me/credentials", add_email, &auth).await;
    // Replacing the e-mail frees the old address.
    stack
        .expect(StatusCode::OK, "/v1/me/credentials/verify", json!({ "type": "email", "code": stack.code() }), &auth)
        .await;
    let email = new_email;
    // Replacing the phone (with the password as step-up) tells the old number.
    let new_phone = format!("+4178{:07}", rand_digits());
    let replace = json!({ "type": "phone", "value": new_phone, "current_password": PASSWORD });
    stack.expect(StatusCode::ACCEPTED, "/v1/me/credentials", replace, &auth).await;
    stack
        .expect(StatusCode::OK, "/v1/me/credentials/verify", json!({ "type": "phone", "code": stack.code() }), &auth)
        .await;
    let wrong_password = json!({ "current_password": "Wr0ng!Pass", "new_password": "N3w!Secret" });
    assert_eq!(stack.post("/v1/me/password", wrong_password, &auth).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let change = json!({ "current_password": PASSWORD, "new_password": "N3w!Secret" });
    stack.expect(StatusCode::OK, "/v1/me/password", change, &auth).await;
    let other = format!("Bearer {}", two["access_token"].as_str().unwrap());
    assert_eq!(
        stack.send(Method::GET, "/v1/me", None, &[("Authorization", &other)]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let out = stack.send(Method::POST, "/v1/auth/logout", None, &[auth[0], ("X-Device-ID", "m1")]).await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);

    let three = stack.signed_in(&email, "N3w!Secret", "m3").await;
    let bearer = format!("Bearer {}", three["access_token"].as_str().unwrap());
    let all = stack.send(Method::POST, "/v1/auth/logout-all", None, &[("Authorization", &bearer)]).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);

    let four = stack.signed_in(&email, "N3w!Secret", "m4").await;
    let bearer = format!("Bearer {}", four["access_token"].as_str().unwrap());
    let auth = [("Authorization", bearer.as_str())];
    let wrong = stack.send(Method::DELETE, "/v1/me", Some(json!({ "password": "Wr0ng!Pass" })), &auth).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.body);
    let closed = stack.send(Method::DELETE, "/v1/me", Some(json!({ "password": "N3w!Secret" })), &auth).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
}

/// The second factors: an authenticator app enrolled, confirmed (the
/// user's export shows it, without its secret), answering
/// a login, recovery codes (one used: e-mailed) and their regeneration, and
/// the app removed, each step-up with a wrong password first.
async fn factor_flows(stack: &Stack) {
    let (_, email) = stack.admin_user("otto", json!({})).await;
    let tokens = stack.signed_in(&email, PASSWORD, "o1").await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let auth = [("Authorization", bearer.as_str())];
    let view = stack.send(Method::GET, "/v1/me/factors", None, &auth).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    let wrong = json!({ "current_password": "Wr0ng!Pass" });
    let right = json!({ "current_password": PASSWORD });
    let refused = stack.post("/v1/me/factors/totp", wrong.clone(), &auth).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let enrolled = stack.expect(StatusCode::CREATED, "/v1/me/factors/totp", right.clone(), &auth).await;
    let secret = common::base32(enrolled["secret"].as_str().unwrap());
    let now = || stack.now().timestamp();
    let bad = stack.post("/v1/me/factors/totp/confirm", json!({ "code": "000000" }), &auth).await;
    assert_eq!(bad.code(), "invalid_code", "{}", bad.body);
    let confirm = json!({ "code": common::totp_at(&secret, now(), 6) });
    let confirmed = stack.expect(StatusCode::OK, "/v1/me/factors/totp/confirm", confirm, &auth).await;
    let codes = confirmed["recovery_codes"].as_array().unwrap().clone();
    let export = stack.send(Method::GET, "/v1/me/export", None, &auth).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    assert_eq!(export.body["factors"]["totp"]["confirmed"], true, "{}", export.body);
    let secret_text = enrolled["secret"].as_str().unwrap();
    assert!(!export.body.to_string().contains(secret_text), "the TOTP secret in the export: {}", export.body);
    stack.advance(30);
    let device = [("X-Device-ID", "o2")];
    let login = stack.login(&email, PASSWORD, "o2").await;
    let by_app = json!({ "challenge_id": login.body["challenge_id"], "factor": "totp", "code": common::totp_at(&secret, now(), 6) });
    stack.expect(StatusCode::OK, "/v1/auth/mfa", by_app, &device).await;
    let login = stack.login(&email, PASSWORD, "o2").await;
    let by_code = json!({ "challenge_id": login.body["challenge_id"], "factor": "recovery_code", "code": codes[0] });
    stack.expect(StatusCode::OK, "/v1/auth/mfa", by_code, &device).await;
    let refused = stack.post("/v1/me/factors/recovery-codes", wrong.clone(), &auth).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    stack.expect(StatusCode::OK, "/v1/me/factors/recovery-codes", right.clone(), &auth).await;
    let refused = stack.send(Method::DELETE, "/v1/me/factors/totp", Some(wrong), &auth).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let removed = stack.send(Method::DELETE, "/v1/me/factors/totp", Some(right), &auth).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
}

/// Passkeys: one registered (a wrong password first), used to sign in
/// alone and as the second factor after the password, then removed.
async fn passkey_flows(stack: &Stack) {
    use shared::soft_authenticator::SoftAuthenticator;
    let (_, email) = stack.admin_user("pia", json!({})).await;
    let tokens = stack.signed_in(&email, PASSWORD, "k1").await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let auth = [("Authorization", bearer.as_str())];
    let wrong = stack.post("/v1/me/passkeys/options", json!({ "current_password": "Wr0ng!Pass" }), &auth).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.body);
    let options =
        stack.expect(StatusCode::OK, "/v1/me/passkeys/options", json!({ "current_password": PASSWORD }), &auth).await;
    let mut key = SoftAuthenticator::new(&email, "localhost");
    let credential = key.create(&options["publicKey"], PASSKEY_ORIGIN);
    let body = json!({ "ceremony_id": options["ceremony_id"], "credential": credential });
    let added = stack.expect(StatusCode::CREATED, "/v1/me/passkeys", body, &auth).await;
    let view = stack.send(Method::GET, "/v1/me/factors", None, &auth).await;
    assert_eq!(view.body["passkeys"][0]["id"], added["passkey"]["id"], "{}", view.body);
    let device = [("X-Device-ID", "k2")];
    let options = stack.expect(StatusCode::OK, "/v1/auth/passkey/options", json!({}), &device).await;
    let body =
        json!({ "ceremony_id": options["ceremony_id"], "credential": key.get(&options["publicKey"], PASSKEY_ORIGIN) });
    stack.expect(StatusCode::OK, "/v1/auth/passkey", body, &device).await;
    let login = stack.login(&email, PASSWORD, "k2").await;
    let challenge = json!({ "challenge_id": login.body["challenge_id"] });
    let options = stack.expect(StatusCode::OK, "/v1/auth/passkey/options", challenge, &device).await;
    let body =
        json!({ "ceremony_id": options["ceremony_id"], "credential": key.get(&options["publicKey"], PASSKEY_ORIGIN) });
    stack.expect(StatusCode::OK, "/v1/auth/passkey", body, &device).await;
    let path = format!("/v1/me/passkeys/{}", added["passkey"]["id"].as_str().unwrap());
    let refused = stack.send(Method::DELETE, &path, Some(json!({ "current_password": "Wr0ng!Pass" })), &auth).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let removed = stack.send(Method::DELETE, &path, Some(json!({ "current_password": PASSWORD })), &auth).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
}

/// Sign-in with the tenant's identity provider (a stand-in): a new
/// identity's first sign-in (legal documents), its return, the identities
/// listed, one linked to a password user after a step-up (a wrong password
/// first), the last way to sign in kept, an unlink, and an existing
/// account's address refused until it links.
async fn federation_flows(stack: &Stack) {
    let now = stack.clock.now_dt().timestamp();
    let token = |subject: &str, email: &str| stack.idp.sign(&stack.idp.claims(subject, email, now));
    let exchange = |id_token: String, device: &'static str| {
        let body = json!({ "provider": "acme", "id_token": id_token });
        async move { stack.post("/v1/auth/federated/token", body, &[("X-Device-ID", device)]).await }
    };
    let fed_email = stack.email("fred");
    let first = exchange(token("emp-fred", &fed_email), "f1").await;
    assert_eq!(first.body["legal_acceptance_required"], true, "{}", first.body);
    let accept =
        json!({ "challenge_id": first.body["challenge_id"], "terms_accepted": true, "privacy_policy_accepted": true });
    let tokens = stack.expect(StatusCode::OK, "/v1/auth/legal/accept", accept, &[("X-Device-ID", "f1")]).await;
    let again = exchange(token("emp-fred", &fed_email), "f2").await;
    assert_eq!(again.body["user_id"], tokens["user_id"], "{}", again.body);
    let fred = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    let listed = stack.send(Method::GET, "/v1/me/identities", None, &[("Authorization", &fred)]).await;
    assert_eq!(listed.body["identities"][0]["provider"], "acme", "{}", listed.body);
    // Signing in by an e-mailed code (the tenant allows it) is a way left.
    let unlinked = stack.send(Method::DELETE, "/v1/me/identities/acme", None, &[("Authorization", &fred)]).await;
    assert_eq!(unlinked.status, StatusCode::OK, "{}", unlinked.body);

    let (_, email) = stack.admin_user("lena", json!({})).await;
    let refused = exchange(token("emp-lena", &email), "f3").await;
    assert_eq!(refused.code(), "identity_link_required", "{}", refused.body);
    let signed_in = stack.signed_in(&email, PASSWORD, "f4").await;
    let lena = format!("Bearer {}", signed_in["access_token"].as_str().unwrap());
    let auth = [("Authorization", lena.as_str())];
    let wrong = json!({ "id_token": token("emp-lena", &email), "current_password": "Wr0ng!Pass" });
    assert_eq!(stack.post("/v1/me/identities/acme", wrong, &auth).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let link = json!({ "id_token": token("emp-lena", &email), "current_password": PASSWORD });
    stack.expect(StatusCode::CREATED, "/v1/me/identities/acme", link, &auth).await;
    let back = exchange(token("emp-lena", &email), "f5").await;
    assert_eq!(back.body["user_id"], signed_in["user_id"], "{}", back.body);
    // With 2FA on (a verified phone), the provider's sign-in asks for the
    // second factor: a text.
    let phone = format!("+4178{:07}", rand_digits());
    stack.expect(StatusCode::ACCEPTED, "/v1/me/credentials", json!({ "type": "phone", "value": phone }), &auth).await;
    let verify = json!({ "type": "phone", "code": stack.code() });
    stack.expect(StatusCode::OK, "/v1/me/credentials/verify", verify, &auth).await;
    let second = exchange(token("emp-lena", &email), "f6").await;
    assert_eq!(second.body["factors"], json!(["sms"]), "{}", second.body);

    // The hosted pages: identity_provider=acme sends the browser to the
    // provider (authorize keeps the state); its answer comes back as a GET
    // (idp-response: the code exchanged with the client secret from
    // Secrets Manager) or as a form posted again from here
    // (idp-response-post); a new user accepts the documents, Lena's 2FA
    // texts a code, an existing account links after its password.
    use base64::Engine as _;
    use sha2::Digest as _;
    let redirect = "https://app.example.com/federated";
    let (_, client) = oauth_client(stack, redirect).await;
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest("federated-verifier"));
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client.client_id.as_str()),
            ("redirect_uri", redirect),
            ("scope", "openid email"),
            ("state", "s2"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("identity_provider", "acme"),
        ])
        .finish();
    let mut browser = common::hosted::Browser::at(&stack.base);
    let (code, state) = provider_answer(stack, &mut browser, &query, "emp-nina", &stack.email("nina")).await;
    let legal = browser.visit(&format!("/oauth2/idpresponse?code={code}&state={state}")).await;
    assert!(legal.html.contains("terms_accepted"), "{}; refused so far: {:?}", legal.html, stack.denials());
    let done = browser.submit(&legal, &[("terms_accepted", "true"), ("privacy_policy_accepted", "true")]).await;
    assert!(done.location().starts_with(redirect), "{}; refused so far: {:?}", done.html, stack.denials());
    stack.advance(61); // past Lena's SMS cooldown
    let mut browser = common::hosted::Browser::at(&stack.base);
    let (code, state) = provider_answer(stack, &mut browser, &query, "emp-lena", &email).await;
    let posted = [("code", code), ("state", state)];
    let interstitial =
        stack.http.post(format!("{}/oauth2/idpresponse", stack.base)).form(&posted).send().await.unwrap();
    let page = common::hosted::Page {
        status: interstitial.status(),
        headers: Default::default(),
        html: interstitial.text().await.unwrap(),
    };
    let mfa = browser.post_to("/oauth2/idpresponse", &page.hidden()).await;
    assert!(mfa.input("challenge_id").is_some(), "the second factor's page: {}; {:?}", mfa.html, stack.denials());
    stack.advance(61);
    let mut browser = common::hosted::Browser::at(&stack.base);
    let (code, state) = provider_answer(stack, &mut browser, &query, "emp-lena", &email).await;
    let mfa = browser.visit(&format!("/oauth2/idpresponse?code={code}&state={state}")).await;
    assert!(mfa.input("challenge_id").is_some(), "the second factor's page: {}; {:?}", mfa.html, stack.denials());
    let (_, lia) = stack.admin_user("lia", json!({})).await;
    let mut browser = common::hosted::Browser::at(&stack.base);
    let (code, state) = provider_answer(stack, &mut browser, &query, "emp-lia", &lia).await;
    let link = browser.visit(&format!("/oauth2/idpresponse?code={code}&state={state}")).await;
    assert!(link.html.contains("current-password"), "the link page: {}; {:?}", link.html, stack.denials());
    let linked = browser.submit(&link, &[("password", PASSWORD)]).await;
    assert!(linked.location().starts_with(redirect), "{}; refused so far: {:?}", linked.html, stack.denials());
    let wrong = json!({ "current_password": "Wr0ng!Pass" });
    let refused = stack.send(Method::DELETE, "/v1/me/identities/acme", Some(wrong), &auth).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let unlinked = stack
        .send(Method::DELETE, "/v1/me/identities/acme", Some(json!({ "current_password": PASSWORD })), &auth)
        .await;
    assert_eq!(unlinked.status, StatusCode::OK, "{}", unlinked.body);
}

/// A browser's way to the tenant's provider (`query` names it) and the
/// provider's answer for `subject` with `email`: its code and the state.
async fn provider_answer(
    stack: &Stack,
    browser: &mut common::hosted::Browser,
    query: &str,
    subject: &str,
    email: &str,
) -> (String, String) {
    let sent = browser.get(query).await;
    assert_eq!(sent.status, StatusCode::FOUND, "{}; refused so far: {:?}", sent.html, stack.denials());
    let location = sent.location();
    let asked: HashMap<String, String> =
        form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes()).into_owned().collect();
    let mut claims = stack.idp.claims(subject, email, stack.clock.now_dt().timestamp());
    claims["nonce"] = json!(asked["nonce"]);
    (stack.idp.issue_code(&claims, &asked["code_challenge"]), asked["state"].clone())
}

/// Every back-office function as a signed-in service owner (its bearer is
/// checked against its session and user, read in one batch), not only as
/// an admin token.
async fn service_owner_flows(stack: &Stack) {
    let (_, owner_email) = stack.admin_user("sol", json!({ "user_type": "service_owner" })).await;
    // The back office needs a session that passed a second factor (policy
    // `back_office_mfa`): the owner adds a phone, then signs in with it.
    let first = stack.signed_in(&owner_email, PASSWORD, "so").await;
    let bearer = format!("Bearer {}", first["access_token"].as_str().unwrap_or_else(|| panic!("{first}")));
    let auth = [("Authorization", bearer.as_str())];
    let refused = stack.send(Method::GET, "/v1/users?status=active", None, &auth).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "password alone: {}", refused.body);
    let phone = format!("+4177{:07}", rand_digits());
    stack.expect(StatusCode::ACCEPTED, "/v1/me/credentials", json!({ "type": "phone", "value": phone }), &auth).await;
    let verify = json!({ "type": "phone", "code": stack.code() });
    stack.expect(StatusCode::OK, "/v1/me/credentials/verify", verify, &auth).await;
    let login = stack.signed_in(&owner_email, PASSWORD, "so").await;
    let bearer = format!("Bearer {}", login["access_token"].as_str().unwrap_or_else(|| panic!("{login}")));
    let owner = [("Authorization", bearer.as_str())];
    let email = stack.email("cora");
    let body = json!({
        "email": email, "first_name": "Cora", "last_name": "Owned", "user_type": "company_user", "company_id": "iam-co",
        "password": PASSWORD,
    });
    let created = stack.expect(StatusCode::CREATED, "/v1/users", body, &owner).await;
    // Importing is for admin tokens alone: the owner's bearer is read
    // (import-users' BatchGetItem), then refused.
    let import = json!({ "users": [] });
    let refused = stack.send(Method::POST, "/v1/users/import", Some(import), &owner).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let id = created["user_id"].as_str().unwrap().to_owned();
    let user = format!("/v1/users/{id}");
    let call = |method: Method, path: String, body: Option<Value>| async move {
        let answer = stack.send(method.clone(), &path, body, &owner).await;
        assert!(answer.status.is_success(), "{method} {path} as a service owner: {}", answer.body);
    };
    call(Method::GET, format!("/v1/users?email={email}"), None).await;
    call(Method::GET, user.clone(), None).await;
    call(Method::PATCH, user.clone(), Some(json!({ "last_name": "Edited" }))).await;
    let reason = json!({ "reason": "IAM check" });
    call(Method::POST, format!("{user}/unlock"), Some(reason.clone())).await;
    call(Method::POST, format!("{user}/sessions/revoke"), Some(reason.clone())).await;
    let required = json!({ "method": "required", "reason": "IAM check" });
    call(Method::POST, format!("{user}/password-reset"), Some(required)).await;
    call(Method::POST, format!("{user}/status"), Some(json!({ "status": "suspended", "reason": "IAM check" }))).await;
    call(Method::GET, format!("{user}/audit"), None).await;
    let entry = "/v1/reference/tax-liabilities/CH".to_owned();
    call(Method::PUT, entry.clone(), Some(json!({ "names": { "en": "Switzerland" } }))).await;
    call(Method::DELETE, entry, None).await;
}

/// Passwordless sign-in: codes by e-mail and SMS (a failed send cleaned up),
/// a name that gets none, a wrong code, and the second factor each code
/// leads to (the other channel, sent by the sign-in function; a failed
/// text leaves the code standing).
async fn code_sign_in_flows(stack: &Stack) {
    let email = stack.email("cody");
    let phone = format!("+4178{:07}", rand_digits());
    let started = stack.expect(StatusCode::ACCEPTED, "/v1/registrations", sign_up(&email), &[]).await;
    let id = started["registration_id"].as_str().unwrap().to_owned();
    let step = |path: &str| format!("/v1/registrations/{id}/{path}");
    stack.expect(StatusCode::OK, &step("email/verify"), json!({ "code": stack.code() }), &[]).await;
    stack.expect(StatusCode::ACCEPTED, &step("phone"), json!({ "phone": phone }), &[]).await;
    stack.expect(StatusCode::CREATED, &step("phone/verify"), json!({ "code": stack.code() }), &[]).await;

    let device = [("X-Device-ID", "c1")];
    let send = |username: &str, channel: &str| json!({ "username": username, "channel": channel });
    stack.fail_next_send();
    let failed = stack.post("/v1/auth/code/send", send(&email, "email"), &device).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.body);
    stack.expect(StatusCode::ACCEPTED, "/v1/auth/code/send", send(&email, "email"), &device).await;
    let code = stack.code();
    stack.expect(StatusCode::ACCEPTED, "/v1/auth/code/send", send(&stack.email("nobody"), "email"), &device).await;
    let wrong = stack.post("/v1/auth/code", json!({ "username": email, "code": "000000" }), &device).await;
    assert_eq!(wrong.code(), "invalid_code", "{}", wrong.body);
    stack.fail_next_send();
    let right = json!({ "username": email, "code": code });
    let failed = stack.post("/v1/auth/code", right, &device).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.body);
    // The spent code is not restored; a new one may be asked for at once.
    stack.advance(61); // past the 2FA text's cooldown the failed text left
    stack.expect(StatusCode::ACCEPTED, "/v1/auth/code/send", send(&email, "email"), &device).await;
    let right = json!({ "username": email, "code": stack.code() });
    let challenge = stack.expect(StatusCode::OK, "/v1/auth/code", right, &device).await;
    assert_eq!(challenge["factors"], json!(["sms"]), "{challenge}");
    let answer = json!({ "challenge_id": challenge["challenge_id"], "code": stack.code() });
    let tokens = stack.expect(StatusCode::OK, "/v1/auth/mfa", answer, &device).await;
    assert!(tokens["access_token"].is_string(), "{tokens}");

    stack.advance(61);
    stack.expect(StatusCode::ACCEPTED, "/v1/auth/code/send", send(&phone, "sms"), &device).await;
    let by_text = json!({ "username": phone, "code": stack.code() });
    let challenge = stack.expect(StatusCode::OK, "/v1/auth/code", by_text, &device).await;
    assert_eq!(challenge["factors"], json!(["email"]), "{challenge}");
}

/// The back office, the reset-required challenge, lockout and reference data.
/// `Str0ng!Pass` hashed by Python's `bcrypt` at cost 4.
const BCRYPT_OF_PASSWORD: &str = "$2b$04$OAk6KaqA1MsSo/r3Gjx5N.CIulskYvbHeDcbnRJPpw7DCPtW0RGwu";

async fn back_office_flows(stack: &Stack) {
    let admin = format!("Bearer {}", stack.admin_token);
    let admin = [("Authorization", admin.as_str())];
    let (user_id, email) = stack.admin_user("lou", json!({})).await;
    let got = stack.send(Method::GET, &format!("/v1/users/{user_id}"), None, &admin).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    let moved = json!({ "company_id": "iam-co", "last_name": "Moved" });
    let edited = stack.send(Method::PATCH, &format!("/v1/users/{user_id}"), Some(moved), &admin).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    let moved = json!({ "company_id": "iam-co-2" });
    let edited = stack.send(Method::PATCH, &format!("/v1/users/{user_id}"), Some(moved), &admin).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    let found = stack.send(Method::GET, "/v1/users?status=active&limit=5", None, &admin).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert!(!found.body["users"].as_array().expect("users").is_empty(), "{}", found.body);

    // An import (import-users): a bcrypt user, and one whose address is taken;
    // the imported user signs in with its old password (login rehashes it).
    let imported_email = stack.email("imp");
    let users = json!({ "users": [
        { "email": imported_email, "first_name": "Imp", "last_name": "Orted", "user_type": "consumer",
          "password_hash": BCRYPT_OF_PASSWORD, "email_verified": true,
          "terms_accepted": true, "privacy_policy_accepted": true },
        { "email": email, "first_name": "Lou", "last_name": "Again", "user_type": "consumer",
          "password_hash": BCRYPT_OF_PASSWORD },
    ] });
    let imported = stack.expect(StatusCode::OK, "/v1/users/import", users, &admin).await;
    assert_eq!(imported["imported"], 1, "{imported}");
    assert_eq!(imported["results"][1]["error"]["code"], "email_taken", "{imported}");
    let first = stack.login(&imported_email, PASSWORD, "i1").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    stack.advance(61); // the address's sign-ins per minute start over

    // Lockout: failures are written, the sixth locks.
    let mut locked = false;
    for _ in 0..7 {
        let answer = stack.login(&email, "Wr0ng!Pass", "l1").await;
        assert_eq!(answer.code(), "invalid_credentials", "{}", answer.body);
        locked |= answer.headers.contains_key("retry-after");
    }
    assert!(locked, "the account locks");
    // The back office unlocks it, ends its sessions, requires a new password
    // and e-mails a reset code (the first e-mail fails and is cleaned up).
    let user = |action: &str| format!("/v1/users/{user_id}/{action}");
    let reason = json!({ "reason": "IAM check" });
    stack.expect(StatusCode::OK, &user("unlock"), reason.clone(), &admin).await;
    let session = stack.login(&email, PASSWORD, "l2").await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.body);
    let (max_id, max_email) = stack.admin_user("max", json!({})).await;
    assert_eq!(stack.login(&max_email, PASSWORD, "x1").await.status, StatusCode::OK);
    let path = format!("/v1/users/{max_id}/sessions/revoke");
    let revoked = stack.expect(StatusCode::OK, &path, reason, &admin).await;
    assert_eq!(revoked["sessions_revoked"], 1, "{revoked}");
    stack.fail_next_send();
    let by_mail = json!({ "method": "email", "reason": "IAM check" });
    let failed = stack.post(&user("password-reset"), by_mail.clone(), &admin).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.body);
    stack.expect(StatusCode::OK, &user("password-reset"), by_mail, &admin).await;
    let required = json!({ "method": "required", "reason": "IAM check" });
    stack.expect(StatusCode::OK, &user("password-reset"), required, &admin).await;
    let session = stack.login(&email, PASSWORD, "l2").await;
    assert_eq!(session.body["password_change_required"], true, "{}", session.body);

    let suspend = json!({ "status": "suspended", "reason": "IAM check" });
    stack.expect(StatusCode::OK, &format!("/v1/users/{user_id}/status"), suspend, &admin).await;
    let audit = stack.send(Method::GET, &format!("/v1/users/{user_id}/audit"), None, &admin).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);

    let (_, _) = stack.admin_user("ivy", json!({ "invite": true, "password": null })).await;
    let (_, reset_email) = stack.admin_user("rex", json!({ "reset_required": true })).await;
    let challenge = stack.login(&reset_email, PASSWORD, "r1").await;
    assert_eq!(challenge.body["password_change_required"], true, "{}", challenge.body);
    let body = json!({ "challenge_id": challenge.body["challenge_id"], "new_password": "N3w!Secret" });
    stack.expect(StatusCode::OK, "/v1/auth/password/challenge", body, &[("X-Device-ID", "r1")]).await;

    // The tenant's own reference kinds, edited by the back office.
    let entry = "/v1/reference/civil-statuses/SINGLE";
    let names = json!({ "names": { "en": "Single", "de": "Ledig" } });
    let put = stack.send(Method::PUT, entry, Some(names), &admin).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    let removed = stack.send(Method::DELETE, entry, None, &admin).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);

    let list = stack.send(Method::GET, "/v1/reference/countries", None, &[]).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let one = stack.send(Method::GET, "/v1/reference/countries/CH", None, &[]).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
}

/// publish-events under its role: as Lambda's poller (with the function's
/// role) it reads the table's stream, where the flows before left their
/// events; its handler puts them on the bus (the test's rule hands them to
/// a queue) and reads each tenant for its webhook; and as the event source
/// mapping's OnFailure destination, a batch's place goes to the dead-letter
/// queue.
async fn event_flows(stack: &Stack) -> shared::stream::Outcome {
    let binary = "publish-events";
    let Some((app, sdk)) = &stack.publisher else {
        panic!("publish-events did not start; refused: {:?}", stack.denials());
    };
    let use_of = |action: &str| stack.used.lock().unwrap().insert((binary.to_owned(), action.to_owned()));
    let streams = aws_sdk_dynamodbstreams::Client::new(sdk);
    let listed = match streams.list_streams().table_name(&stack.table).send().await {
        Ok(listed) => listed,
        Err(err) => {
            let message = aws_sdk_dynamodbstreams::error::DisplayErrorContext(err).to_string();
            note_denial(&stack.denials, binary, &message);
            return Default::default();
        }
    };
    use_of("dynamodb:ListStreams");
    let stream_arn = listed.streams().first().and_then(|s| s.stream_arn()).expect("the table's stream").to_owned();
    let records = match poll(&streams, &stream_arn).await {
        Ok(records) => records,
        Err((action, message)) => {
            note_denial(&stack.denials, binary, &message);
            panic!("{action}: {message}");
        }
    };
    for action in ["DescribeStream", "GetShardIterator", "GetRecords"] {
        use_of(&format!("dynamodb:{action}"));
    }
    let bus = shared::adapters::eventbridge::EventBus::new(aws_sdk_eventbridge::Client::new(sdk), &stack.bus);
    let outcome = shared::stream::handle(app, Some(&bus), &records).await;
    for reason in &outcome.reasons {
        note_denial(&stack.denials, binary, reason);
    }
    if outcome.failed.is_empty() {
        use_of("events:PutEvents");
    }
    stack.deployed.served.lock().unwrap().insert(binary.to_owned());

    let place = json!({ "DDBStreamBatchInfo": { "streamArn": stream_arn, "shardId": "shardId-1",
                        "startSequenceNumber": "1", "endSequenceNumber": "2", "batchSize": 2 } });
    let sent = aws_sdk_sqs::Client::new(sdk)
        .send_message()
        .queue_url(&stack.dead_letter_queue)
        .message_body(place.to_string())
        .send()
        .await;
    match sent {
        Ok(_) => {
            use_of("sqs:SendMessage");
        }
        Err(err) => note_denial(&stack.denials, binary, &aws_sdk_sqs::error::DisplayErrorContext(err).to_string()),
    }
    outcome
}

/// The event types the bus's rule delivered to the observer's queue.
async fn seen_on_the_bus(stack: &Stack) -> BTreeSet<String> {
    let (admin, _) = admin_sdk().await;
    let sqs = aws_sdk_sqs::Client::new(&admin);
    let mut types = BTreeSet::new();
    loop {
        let seen = (sqs.receive_message().queue_url(&stack.observer_queue).max_number_of_messages(10).send().await)
            .expect("the observer's queue");
        if seen.messages().is_empty() {
            return types;
        }
        for message in seen.messages() {
            let event: Value = serde_json::from_str(message.body().unwrap_or("null")).expect("JSON");
            types.insert(event["detail-type"].as_str().unwrap_or_default().to_owned());
        }
    }
}

/// Every record of the stream `stream_arn`, as Lambda hands them over.
async fn poll(
    streams: &aws_sdk_dynamodbstreams::Client,
    stream_arn: &str,
) -> Result<Vec<aws_lambda_events::event::dynamodb::EventRecord>, (&'static str, String)> {
    use aws_sdk_dynamodbstreams::error::DisplayErrorContext;
    let fail = |action| move |e: String| (action, e);
    let described = (streams.describe_stream().stream_arn(stream_arn).send().await)
        .map_err(|e| fail("DescribeStream")(DisplayErrorContext(e).to_string()))?;
    let mut records = Vec::new();
    for shard in described.stream_description().map(|d| d.shards().to_vec()).unwrap_or_default() {
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(stream_arn)
            .shard_id(shard.shard_id().unwrap_or_default())
            .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
            .send()
            .await
            .map_err(|e| fail("GetShardIterator")(DisplayErrorContext(e).to_string()))?;
        let mut next = iterator.shard_iterator().map(str::to_owned);
        while let Some(position) = next.take() {
            let page = (streams.get_records().shard_iterator(position).send().await)
                .map_err(|e| fail("GetRecords")(DisplayErrorContext(e).to_string()))?;
            if page.records().is_empty() {
                break;
            }
            records.extend(page.records().iter().map(|r| registrar::redrive::lambda_record(r, stream_arn)));
            next = page.next_shard_iterator().map(str::to_owned);
        }
    }
    Ok(records)
}

fn rand_digits() -> u32 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    nanos % 10_000_000
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_runs_its_flows_under_its_own_policy() {
    let template = template();
    let stack = Stack::up(&template).await;
    self_service_flows(&stack).await;
    phone_first_flows(&stack).await;
    signed_in_flows(&stack).await;
    factor_flows(&stack).await;
    passkey_flows(&stack).await;
    code_sign_in_flows(&stack).await;
    back_office_flows(&stack).await;
    service_owner_flows(&stack).await;
    oauth_flows(&stack).await;
    hosted_flows(&stack).await;
    federation_flows(&stack).await;
    // Last: it moves the clock by a day.
    session_flows(&stack).await;
    // After every other: their events are in the stream.
    let published = event_flows(&stack).await;
    assert!(published.published >= 20 && published.failed.is_empty(), "the flows' events: {published:?}");
    let types = seen_on_the_bus(&stack).await;
    // One per line: scripts/scan-logs.py takes the literals of a test line
    // that mentions a password for test passwords.
    let arriving = [
        "user.created",
        "user.signed_in",
        // (its own line)
        "password.changed",
        "sessions.revoked",
    ];
    for expected in arriving {
        assert!(types.contains(expected), "{expected} on the bus: {types:?}");
    }
    assert_eq!(stack.denials(), BTreeSet::new(), "AWS refused these (function, action) pairs");

    // Least privilege: every action a policy allows was used by its flows.
    let used = stack.used.lock().unwrap().clone();
    let unused: Vec<(String, String)> = functions(&template)
        .into_iter()
        .flat_map(|f| f.actions.into_iter().map(move |a| (f.binary.clone(), a)))
        .filter(|pair| !used.contains(pair))
        .collect();
    assert!(unused.is_empty(), "allowed but never used by the function's flows: {unused:?}");

    let declared: BTreeSet<String> = functions(&template).into_iter().map(|f| f.binary).collect();
    let served = stack.deployed.served.lock().unwrap().clone();
    let missed: Vec<&String> = declared.difference(&served).collect();
    assert!(missed.is_empty(), "functions no flow ran: {missed:?}");

    // SES and SNS really sent, under the functions' roles.
    let state: Value =
        reqwest::get(format!("{}/moto-api/data.json", iam_moto_url())).await.unwrap().json().await.unwrap();
    let mails = state["ses"]["Message"].as_array().cloned().unwrap_or_default();
    assert!(mails.iter().any(|m| m.to_string().contains(&stack.domain)), "e-mails went out through SES");
    let sms = state["sns"]["SMS"].as_array().cloned().unwrap_or_default();
    assert!(sms.len() >= 3, "SMS went out through SNS");
}

/// The session functions (and the refresh, whose writes they changed) alone:
/// their flows pass under exactly their template actions, and use each one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_functions_run_their_flows_under_their_own_policy() {
    let template = template();
    let stack = Stack::up(&template).await;
    session_flows(&stack).await;
    assert_eq!(stack.denials(), BTreeSet::new(), "AWS refused these (function, action) pairs");
    let used = stack.used.lock().unwrap().clone();
    let checked = ["list-sessions", "delete-session", "refresh"];
    let unused: Vec<(String, String)> = functions(&template)
        .into_iter()
        .filter(|f| checked.contains(&f.binary.as_str()))
        .flat_map(|f| f.actions.into_iter().map(move |a| (f.binary.clone(), a)))
        .filter(|pair| !used.contains(pair))
        .collect();
    assert!(unused.is_empty(), "allowed but never used by the function's flows: {unused:?}");
    let served = stack.deployed.served.lock().unwrap().clone();
    assert!(checked.iter().all(|f| served.contains(*f)), "{served:?}");
}

/// Removes `action` from `binary`'s statements in `template`.
fn without(template: &Yaml, binary: &str, action: &str) -> Yaml {
    let mut template = template.clone();
    for (_, resource) in template["Resources"].as_mapping_mut().unwrap().iter_mut() {
        if resource["Metadata"]["BuildProperties"]["Binary"].as_str() != Some(binary) {
            continue;
        }
        for policy in resource["Properties"]["Policies"].as_sequence_mut().unwrap() {
            // A conditional policy (`!If`) grants no action taken away here.
            let Some(statements) = policy.get_mut("Statement").and_then(Yaml::as_sequence_mut) else { continue };
            for statement in statements {
                if let Yaml::Sequence(actions) = &mut statement["Action"] {
                    actions.retain(|a| a.as_str() != Some(action));
                }
            }
        }
    }
    template
}

/// The negative controls: the same harness, with one action taken away from
/// a policy, names the function and the action (DynamoDB, SES, the secrets
/// that a function cannot start without).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_action_is_reported_with_its_function() {
    let template = without(&template(), "start-registration", "dynamodb:UpdateItem");
    let template = without(&template, "forgot-password", "ses:SendEmail");
    // A function reading two secrets reads them in one batch; one reading
    // one secret reads it alone.
    let template = without(&template, "login", "secretsmanager:BatchGetSecretValue");
    let template = without(&template, "logout", "secretsmanager:GetSecretValue");
    let stack = Stack::up(&template).await;
    let started = stack.post("/v1/registrations", sign_up(&stack.email("neg")), &[]).await;
    assert_eq!(started.status, StatusCode::SERVICE_UNAVAILABLE, "{}", started.body);
    let (_, email) = stack.admin_user("neg.mail", json!({})).await;
    let forgot = stack.post("/v1/auth/password/forgot", json!({ "email": email }), &[]).await;
    assert_eq!(forgot.status, StatusCode::SERVICE_UNAVAILABLE, "{}", forgot.body);
    let expected = BTreeSet::from([
        ("start-registration".to_owned(), "dynamodb:UpdateItem".to_owned()),
        ("forgot-password".to_owned(), "ses:SendEmail".to_owned()),
        ("login".to_owned(), "secretsmanager:BatchGetSecretValue".to_owned()),
        ("logout".to_owned(), "secretsmanager:GetSecretValue".to_owned()),
    ]);
    assert_eq!(stack.denials(), expected);
}

/// The same for SNS, and for an item of a transaction, which AWS authorizes
/// by the item's own action (moto would let the whole transaction pass).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_action_inside_a_transaction_or_for_sms_is_reported() {
    let template = without(&template(), "create-user", "dynamodb:PutItem");
    let template = without(&template, "add-registration-phone", "sns:Publish");
    let stack = Stack::up(&template).await;
    let started = stack.expect(StatusCode::ACCEPTED, "/v1/registrations", sign_up(&stack.email("neg.sms")), &[]).await;
    let id = started["registration_id"].as_str().unwrap().to_owned();
    stack
        .expect(StatusCode::OK, &format!("/v1/registrations/{id}/email/verify"), json!({ "code": stack.code() }), &[])
        .await;
    let phone = json!({ "phone": format!("+4177{:07}", rand_digits()) });
    let added = stack.post(&format!("/v1/registrations/{id}/phone"), phone, &[]).await;
    assert_eq!(added.status, StatusCode::SERVICE_UNAVAILABLE, "{}", added.body);
    let admin = format!("Bearer {}", stack.admin_token);
    let body = json!({ "email": stack.email("neg.tx"), "first_name": "N", "last_name": "T", "user_type": "consumer",
                       "password": PASSWORD });
    let created = stack.post("/v1/users", body, &[("Authorization", &admin)]).await;
    assert_eq!(created.status, StatusCode::SERVICE_UNAVAILABLE, "{}", created.body);
    let expected = BTreeSet::from([
        ("add-registration-phone".to_owned(), "sns:Publish".to_owned()),
        ("create-user".to_owned(), "dynamodb:PutItem".to_owned()),
    ]);
    assert_eq!(stack.denials(), expected);
}

fn sign_up(email: &str) -> Value {
    json!({ "email": email, "password": PASSWORD, "first_name": "Neg", "last_name": "Ative",
            "terms_accepted": true, "privacy_policy_accepted": true })
}

/// publish-events' actions are enforced too: without PutEvents the bus
/// refuses its events (each reported failed, for the stream to retry),
/// without SendMessage no batch's place reaches the dead-letter queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_events_is_refused_what_its_policy_does_not_allow() {
    let template = without(&template(), "publish-events", "events:PutEvents");
    let template = without(&template, "publish-events", "sqs:SendMessage");
    let stack = Stack::up(&template).await;
    stack.admin_user("ev.neg", json!({})).await;
    let outcome = event_flows(&stack).await;
    assert_eq!((outcome.published, outcome.failed.len()), (0, 1), "{outcome:?}");
    let expected = BTreeSet::from([
        ("publish-events".to_owned(), "events:PutEvents".to_owned()),
        ("publish-events".to_owned(), "sqs:SendMessage".to_owned()),
    ]);
    assert_eq!(stack.denials(), expected);
}

/// The functions that call blocking hooks, as the template gives them the
/// webhook secret (publish-events has it to sign event deliveries only).
fn hook_callers(template: &Yaml) -> BTreeSet<String> {
    functions(template)
        .into_iter()
        .filter(|f| f.environment.contains_key("REGISTRAR_WEBHOOK_KEY_SECRET") && f.binary != "publish-events")
        .map(|f| f.binary)
        .collect()
}

/// Tenants' hooks deployed as Lambda functions reach exactly the functions
/// the stack names in `HookFunctionArns`. Each function's app is built as
/// deployed, under a role holding its template statements (resources kept:
/// the enforcing moto authorizes Lambda's Invoke as AWS does,
/// `lambda:InvokeFunction` on the function's ARN, see
/// scripts/moto-server.py), and calls a hook through its own Lambda client.
/// With the parameter set to X: X is allowed (moto then answers
/// ResourceNotFoundException, as no such function runs there) and Y is
/// refused; without the parameter, both are refused; a function that calls
/// no hook is refused even X.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_functions_may_invoke_the_configured_functions_and_no_other() {
    let x = "arn:aws:lambda:eu-central-1:123456789012:function:registrar-hook-x";
    let y = "arn:aws:lambda:eu-central-1:123456789012:function:registrar-hook-y";
    let another = "arn:aws:lambda:eu-central-1:123456789012:function:registrar-hook-z";
    let configured = with_parameter(&template(), "HookFunctionArns", &format!("{x},{another}"));
    let callers = hook_callers(&configured);
    assert!(callers.len() >= 10 && callers.contains("login") && callers.contains("refresh"), "{callers:?}");
    for (template, allowed) in [(configured, Some(x)), (template(), None)] {
        let stack = Stack::up(&template).await;
        for (binary, app) in &stack.deployed.apps {
            let calls_hooks = callers.contains(binary);
            // Every other function too, in the configured stack: none of them
            // may invoke anything.
            for target in [x, y] {
                let payload = json!({ "type": "pre_token", "tenant_id": stack.tenant_id });
                let answer = app
                    .hooks
                    .call(
                        shared::ports::HookTarget::Lambda(target),
                        "msg_iam",
                        &payload,
                        std::time::Duration::from_secs(5),
                    )
                    .await;
                let said = answer.expect_err("no function runs on moto").0;
                if calls_hooks && allowed == Some(target) {
                    assert!(said.contains("ResourceNotFoundException"), "{binary} may invoke {target}: {said}");
                } else {
                    assert!(
                        said.contains("HTTP 403") && said.contains("not authorized to perform: lambda:InvokeFunction"),
                        "{binary} must not invoke {target} (HookFunctionArns {allowed:?}): {said}"
                    );
                }
            }
        }
        assert_eq!(stack.deployed.apps.len() + 1, functions(&template).len(), "every function but publish-events");
    }
}
