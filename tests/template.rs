//! The code's route table and `template.yaml` agree: every route is one
//! function with its binary, method and path, and nothing else is routed.

use std::collections::BTreeSet;

use serde_yaml::Value;
use shared::http::ROUTES;

fn template() -> Value {
    let path = format!("{}/template.yaml", env!("CARGO_MANIFEST_DIR"));
    serde_yaml::from_str(&std::fs::read_to_string(path).expect("template.yaml")).expect("valid YAML")
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
        for (_, event) in resource["Properties"]["Events"].as_mapping().expect("Events") {
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

#[test]
fn functions_get_only_the_actions_the_route_table_names() {
    let template = template();
    for (name, resource) in functions(&template) {
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        let route = ROUTES.iter().find(|r| r.function == binary).expect("a route per function");
        let mut allowed = BTreeSet::new();
        if let Some(policies) = resource["Properties"]["Policies"].as_sequence() {
            for policy in policies {
                for statement in policy["Statement"].as_sequence().expect("inline statements only") {
                    if statement["Effect"] != "Allow" {
                        continue;
                    }
                    for action in statement["Action"].as_sequence().unwrap() {
                        allowed.insert(action.as_str().unwrap());
                    }
                    if statement["Resource"] == "*" {
                        // Only SMS publishing has no resource ARN.
                        let actions = statement["Action"].as_sequence().unwrap();
                        assert!(actions.iter().all(|a| a == "sns:Publish"), "{name}: wildcard resource");
                    }
                }
            }
        }
        let wanted: BTreeSet<&str> = route.actions.iter().copied().collect();
        assert_eq!(allowed, wanted, "{name}");
    }
}
