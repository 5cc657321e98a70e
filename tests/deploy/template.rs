//! The code's route table and `template.yaml` agree: every route is one
//! function with its binary, method and path, and nothing else is routed.

use std::collections::BTreeSet;

use serde_norway::Value;
use shared::http::ROUTES;

fn template() -> Value {
    let path = format!("{}/template.yaml", env!("CARGO_MANIFEST_DIR"));
    serde_norway::from_str(&std::fs::read_to_string(path).expect("template.yaml")).expect("valid YAML")
}

/// A function's policies, a conditional one (`!If [condition, policy,
/// !Ref AWS::NoValue]`) as the policy it grants when its condition holds.
fn policies(resource: &Value) -> Vec<&Value> {
    let mut found = Vec::new();
    for policy in resource["Properties"]["Policies"].as_sequence().into_iter().flatten() {
        match policy {
            Value::Tagged(tagged) if tagged.tag == "If" => {
                let branches = tagged.value.as_sequence().expect("!If [condition, policy, otherwise]");
                assert_eq!(serde_norway::to_string(&branches[2]).unwrap().trim(), "!Ref AWS::NoValue");
                found.push(&branches[1]);
            }
            policy => found.push(policy),
        }
    }
    found
}

fn functions(template: &Value) -> Vec<(String, &Value)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(name, r)| (name.as_str().unwrap().to_owned(), r))
        .collect()
}

#[test]
fn route_table_and_template_agree() {
    let template = template();
    let mut declared = BTreeSet::new();
    for (name, resource) in functions(&template) {
        assert_eq!(resource["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().expect("Binary").to_owned();
        let events = resource["Properties"]["Events"].as_mapping();
        // The one function no route serves: the table's stream invokes it.
        assert_eq!(events.is_none(), binary == "publish-events", "{name}: its events");
        for (_, event) in events.into_iter().flatten() {
            assert_eq!(event["Type"], "HttpApi", "{name}");
            let method = event["Properties"]["Method"].as_str().unwrap().to_uppercase();
            let path = event["Properties"]["Path"].as_str().unwrap().to_owned();
            declared.insert((binary.clone(), method, path));
        }
    }
    let coded: BTreeSet<_> =
        ROUTES.iter().map(|r| (r.function.to_owned(), r.method.to_string(), r.path.to_owned())).collect();
    assert_eq!(coded, declared);
}

#[test]
fn functions_are_arm64_al2023_with_a_binary_each() {
    let template = template();
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"][0], "arm64");
    for route in ROUTES {
        let bin = format!("{}/functions/src/bin/{}.rs", env!("CARGO_MANIFEST_DIR"), route.function);
        assert!(std::path::Path::new(&bin).exists(), "{bin} is missing");
    }
}

#[test]
fn the_table_has_ttl_on_expires_at() {
    let template = template();
    let table = &template["Resources"]["Table"]["Properties"];
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"], "expires_at");
    assert_eq!(table["TimeToLiveSpecification"]["Enabled"], true);
    assert_eq!(table["KeySchema"][0]["AttributeName"], "pk");
    assert_eq!(table["KeySchema"][1]["AttributeName"], "sk");
}

/// Every statement names its resources: the table, the SES identity, or a
/// secret; `*` only for SMS, which has no ARN (publishing to any topic is
/// denied beside it). (tests/deploy/iam.rs proves the
/// actions under enforcement, where moto ignores resources.)
#[test]
fn every_statement_is_scoped_to_its_resource() {
    let template = template();
    for (name, resource) in functions(&template) {
        for policy in policies(resource) {
            for statement in policy["Statement"].as_sequence().expect("inline statements only") {
                let actions: Vec<&str> =
                    statement["Action"].as_sequence().expect("a list").iter().map(|a| a.as_str().unwrap()).collect();
                let target = serde_norway::to_string(&statement["Resource"]).unwrap();
                let allow = statement["Effect"] == "Allow";
                for action in &actions {
                    let expected = match (allow, action.split_once(':').map(|(service, _)| service)) {
                        // Lambda's poller reads the stream with the function's role.
                        (true, _)
                            if ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
                                .contains(action) =>
                        {
                            "!GetAtt Table.StreamArn"
                        }
                        (true, _) if *action == "dynamodb:ListStreams" => "'*'",
                        (true, Some("dynamodb")) => "!GetAtt Table.Arn",
                        (true, Some("events")) => "!GetAtt EventBus.Arn",
                        (true, Some("sqs")) => "!GetAtt EventsDeadLetterQueue.Arn",
                        (true, Some("ses")) => ":identity/*",
                        // A batch read has no resource-level permission;
                        // each secret in it needs its GetSecretValue.
                        (true, _) if *action == "secretsmanager:BatchGetSecretValue" => "'*'",
                        (true, Some("secretsmanager")) => "Secret",
                        // SMS to a number has no ARN; publishing to topics is denied.
                        (true, Some("sns")) => "'*'",
                        // The tenants' hook functions the stack names.
                        (true, _) if *action == "lambda:InvokeFunction" => "!Ref HookFunctionArns",
                        (false, Some("sns")) => "arn:${AWS::Partition}:sns:*:*:*",
                        _ => panic!("{name}: unexpected statement for {action}"),
                    };
                    assert!(target.contains(expected), "{name}: {action} on {target}");
                    if action.starts_with("ses:") {
                        // Any identity of the account (the SES sandbox checks
                        // each recipient's too), but only as the stack's
                        // sender: least privilege by condition.
                        let condition = serde_norway::to_string(&statement["Condition"]).unwrap();
                        assert_eq!(
                            condition.trim(),
                            "StringEquals:\n  ses:FromAddress: !Ref EmailFrom",
                            "{name}: {action} pinned to the sender"
                        );
                    }
                }
            }
        }
    }
}

/// Browsers can call every route when deployed: one preflight route answers
/// `OPTIONS` for every path the table serves.
#[test]
fn every_routes_path_has_a_preflight() {
    let preflight = ROUTES.iter().find(|r| r.method == "OPTIONS").expect("a preflight route");
    assert_eq!(preflight.path, "/{proxy+}");
    for route in ROUTES {
        let concrete = route.path.replace('{', "x").replace('}', "");
        let found = shared::http::routes::find(&lambda_http::http::Method::OPTIONS, &concrete).map(|(r, _)| r.function);
        assert_eq!(found, Some(preflight.function), "{} has no preflight", route.path);
    }
}

/// The stack keeps its data and its logs: the table survives the stack, and
/// each function logs into a group of the stack with a retention.
#[test]
fn the_table_is_retained_and_every_function_has_its_log_group() {
    let template = template();
    let table = &template["Resources"]["Table"];
    assert_eq!(table["DeletionPolicy"], "Retain");
    assert_eq!(table["UpdateReplacePolicy"], "Retain");
    assert_eq!(table["Properties"]["DeletionProtectionEnabled"], true);
    for (name, resource) in functions(&template) {
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        let group = &template["Resources"][format!("{name}Logs").as_str()];
        assert_eq!(group["Type"], "AWS::Logs::LogGroup", "{name}");
        let group_name = serde_norway::to_string(&group["Properties"]["LogGroupName"]).unwrap();
        assert!(
            group_name.trim().ends_with(&format!("/aws/lambda/${{AWS::StackName}}-{binary}")),
            "{name}: {group_name}"
        );
        let function_name = serde_norway::to_string(&resource["Properties"]["FunctionName"]).unwrap();
        assert!(function_name.trim().ends_with(&format!("${{AWS::StackName}}-{binary}")), "{name}: {function_name}");
        let retention = &group["Properties"]["RetentionInDays"];
        assert!(matches!(retention, Value::Tagged(_)) || retention.is_number(), "{name}: no retention");
        let logging = serde_norway::to_string(&resource["Properties"]["LoggingConfig"]["LogGroup"]).unwrap();
        assert!(logging.contains(&format!("{name}Logs")), "{name} logs elsewhere: {logging}");
        for alarm in ["ErrorsAlarm", "ThrottlesAlarm"] {
            assert_eq!(template["Resources"][format!("{name}{alarm}").as_str()]["Type"], "AWS::CloudWatch::Alarm");
        }
    }
}

/// No secret in any function's environment (anyone allowed to read a
/// function's configuration reads it): functions name the secrets they read,
/// and the secrets are the ones `registrar-admin --stack` manages.
#[test]
fn secrets_live_in_secrets_manager_not_in_the_environment() {
    let template = template();
    let names = shared::domain::keys::SecretNames::of_stack("${AWS::StackName}");
    for (resource, name) in [
        ("CodeKeySecret", &names.code_key),
        ("SigningKeysSecret", &names.signing_keys),
        ("PublicKeysSecret", &names.public_keys),
        ("WebhookSecret", &names.webhook_secret),
    ] {
        let secret = &template["Resources"][resource];
        assert_eq!(secret["Type"], "AWS::SecretsManager::Secret", "{resource}");
        assert!(serde_norway::to_string(&secret["Properties"]["Name"]).unwrap().contains(name.as_str()), "{resource}");
    }
    let mut environments = vec![("Globals".to_owned(), &template["Globals"]["Function"]["Environment"])];
    environments.extend(functions(&template).into_iter().map(|(name, r)| (name, &r["Properties"]["Environment"])));
    for (name, environment) in environments {
        for (variable, value) in environment["Variables"].as_mapping().into_iter().flatten() {
            let variable = variable.as_str().unwrap();
            let value = serde_norway::to_string(value).unwrap();
            assert!(
                !["REGISTRAR_CODE_PEPPER", "REGISTRAR_SIGNING_KEYS", "REGISTRAR_WEBHOOK_SECRET"].contains(&variable),
                "{name}: {variable}"
            );
            if variable.ends_with("_SECRET") {
                assert!(value.contains("!Ref") && value.contains("Secret"), "{name}: {variable} names a secret");
            }
        }
    }
    for (parameter, declared) in template["Parameters"].as_mapping().unwrap() {
        assert_ne!(declared["NoEcho"], true, "{parameter:?}: a secret parameter would end up in an environment");
    }
}

/// Each function may read exactly the secrets its environment names, and
/// no function runs in development mode (which makes keys up).
#[test]
fn each_function_reads_the_secrets_it_names_and_none_runs_in_development_mode() {
    let template = template();
    assert!(!serde_norway::to_string(&template).unwrap().contains("REGISTRAR_DEV"), "REGISTRAR_DEV in the template");
    for (name, resource) in functions(&template) {
        let named: BTreeSet<String> = resource["Properties"]["Environment"]["Variables"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter(|(variable, _)| variable.as_str().is_some_and(|v| v.ends_with("_SECRET")))
            .map(|(_, value)| serde_norway::to_string(value).unwrap().trim().to_owned())
            .collect();
        let readable: BTreeSet<String> = resource["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
            .flat_map(|policy| policy["Statement"].as_sequence().cloned().unwrap_or_default())
            .filter(|statement| {
                statement["Action"]
                    .as_sequence()
                    .is_some_and(|a| a.iter().any(|a| a == "secretsmanager:GetSecretValue"))
            })
            .map(|statement| serde_norway::to_string(&statement["Resource"]).unwrap().trim().to_owned())
            .collect();
        assert_eq!(named, readable, "{name}: the secrets it names and may read");
        let batches = serde_norway::to_string(&resource["Properties"]["Policies"])
            .unwrap()
            .contains("secretsmanager:BatchGetSecretValue");
        assert_eq!(batches, named.len() >= 2, "{name}: reads its {} secrets in one batch", named.len());
    }
}

/// `samconfig.toml` names every parameter that has a default but the four
/// a deployment sets for itself (a later `sam deploy` must keep those), and
/// only those: docs/operations.md ("Deploying with SAM", "3. Deploy") tells
/// a non-guided deploy to add just the two without a default.
#[test]
fn samconfig_holds_every_parameter_with_a_default() {
    let template = template();
    let mut defaulted: Vec<String> = template["Parameters"]
        .as_mapping()
        .expect("Parameters")
        .iter()
        .filter(|(_, p)| !p["Default"].is_null())
        .map(|(name, _)| name.as_str().unwrap().to_owned())
        .filter(|name| {
            !["SmsSenderId", "AlarmTopicArn", "SecretsRevision", "HookFunctionArns", "IdentityProviderSecrets"]
                .contains(&name.as_str())
        })
        .collect();
    let config = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/samconfig.toml")).unwrap();
    let overrides = config.lines().find_map(|l| l.strip_prefix("parameter_overrides = ")).expect("parameter_overrides");
    let mut named: Vec<String> = overrides
        .trim_matches('"')
        .split_whitespace()
        .filter_map(|pair| pair.split_once('=').map(|(name, _)| name.to_owned()))
        .collect();
    defaulted.sort();
    named.sort();
    assert_eq!(named, defaulted);
    let required: Vec<&str> = template["Parameters"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, p)| p["Default"].is_null())
        .map(|(name, _)| name.as_str().unwrap())
        .collect();
    assert_eq!(required, ["EmailFrom", "Issuer"], "the non-guided deploy of docs/operations.md adds these two");
}

/// The outbox's deployed deliverer: the table's stream of new images, of
/// which only new event items reach publish-events; a record it reports
/// failed is retried (the batch split around it), then its position goes
/// to the dead-letter queue. Every function that calls hooks reads the
/// webhook secret.
#[test]
fn the_stream_feeds_publish_events_with_retries_and_a_dead_letter_queue() {
    let template = template();
    let resources = &template["Resources"];
    assert_eq!(resources["Table"]["Properties"]["StreamSpecification"]["StreamViewType"], "NEW_IMAGE");
    let mappings: Vec<&Value> =
        resources.as_mapping().unwrap().values().filter(|r| r["Type"] == "AWS::Lambda::EventSourceMapping").collect();
    assert_eq!(mappings.len(), 1, "one mapping: the stream's");
    let mapping = &mappings[0]["Properties"];
    let text = |value: &Value| serde_norway::to_string(value).unwrap().trim().to_owned();
    assert_eq!(text(&mapping["FunctionName"]), "!Ref PublishEventsFunction");
    assert_eq!(text(&mapping["EventSourceArn"]), "!GetAtt Table.StreamArn");
    assert_eq!(mapping["FunctionResponseTypes"][0], "ReportBatchItemFailures");
    assert_eq!(mapping["BisectBatchOnFunctionError"], true);
    assert!(mapping["MaximumRetryAttempts"].as_u64().is_some_and(|n| (1..=100).contains(&n)));
    assert_eq!(text(&mapping["DestinationConfig"]["OnFailure"]["Destination"]), "!GetAtt EventsDeadLetterQueue.Arn");
    let pattern: serde_json::Value =
        serde_json::from_str(mapping["FilterCriteria"]["Filters"][0]["Pattern"].as_str().unwrap()).unwrap();
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    assert_eq!(pattern["dynamodb"]["Keys"]["pk"]["S"][0]["prefix"], "EVENT#");
    assert_eq!(resources["EventBus"]["Type"], "AWS::Events::EventBus");
    assert_eq!(resources["EventsDeadLetterQueue"]["Type"], "AWS::SQS::Queue");
    let publisher = &resources["PublishEventsFunction"]["Properties"]["Environment"]["Variables"];
    assert_eq!(text(&publisher["REGISTRAR_EVENT_BUS"]), "!GetAtt EventBus.Arn");
    // Who calls hooks: pre_sign_up, user_migration, and every function that
    // issues tokens (pre_token); publish-events delivers events.
    const HOOK_CALLERS: [&str; 4] = [
        "start-registration",
        "create-user",
        // One name per line: scripts/scan-logs.py takes the literals of a
        // test line that mentions a password for test passwords.
        "forgot-password",
        "publish-events",
    ];
    for (name, resource) in functions(&template) {
        let variables = &resource["Properties"]["Environment"]["Variables"];
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        let calls_hooks = !variables["REGISTRAR_SIGNING_KEYS_SECRET"].is_null() || HOOK_CALLERS.contains(&binary);
        assert_eq!(
            !variables["REGISTRAR_WEBHOOK_KEY_SECRET"].is_null(),
            calls_hooks,
            "{name}: reads the webhook secret where it calls hooks or delivers events"
        );
        // Hooks deployed as Lambda functions: exactly the callers may invoke
        // them, and only when the stack names some (tests/deploy/iam.rs
        // proves which ARNs the statement reaches).
        let invokes: Vec<String> = resource["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|policy| serde_norway::to_string(policy).unwrap())
            .filter(|text| text.contains("lambda:"))
            .collect();
        let expected = "!If\n- HasHookFunctions\n- Version: 2012-10-17\n  Statement:\n  - Effect: Allow\n    Action:\n    \
                        - lambda:InvokeFunction\n    Resource: !Ref HookFunctionArns\n- !Ref AWS::NoValue\n";
        let wanted: Vec<String> =
            if calls_hooks && binary != "publish-events" { vec![expected.into()] } else { vec![] };
        assert_eq!(invokes, wanted, "{name}: invokes the hook functions where it calls hooks");
    }
    let condition = serde_norway::to_string(&template["Conditions"]["HasHookFunctions"]).unwrap();
    assert_eq!(condition.trim(), "!Not\n- !Equals\n  - !Join\n    - ''\n    - !Ref HookFunctionArns\n  - ''");
    assert_eq!(template["Parameters"]["HookFunctionArns"]["Type"], "CommaDelimitedList");
    assert_eq!(template["Parameters"]["HookFunctionArns"]["Default"], "");
}
