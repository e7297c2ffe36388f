//! infra/github-deploy-role.yaml, the role GitHub Actions deploys with, read
//! as an attacker holding it would: whom it trusts, whether it can make a role
//! stronger than the functions need, and which actions still take "*". And the
//! workflows that assume it run only actions pinned by commit.

use orderflow_definition::{Template, workspace_root};
use serde_norway::Value;

fn deploy_role() -> Template {
    Template::load(workspace_root().join("infra/github-deploy-role.yaml")).unwrap()
}

/// A scalar or a short-form tag's inner text (`!Sub x`, `!Ref x`), as text.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Tagged(tagged) => text(&tagged.value),
        other => format!("{other:?}"),
    }
}

fn list(value: &Value) -> Vec<String> {
    match value {
        Value::Sequence(items) => items.iter().map(text).collect(),
        Value::Null => Vec::new(),
        other => vec![text(other)],
    }
}

fn statements(template: &Template) -> Vec<Value> {
    let role = template.resource("DeployRole").unwrap();
    let policies = role["Properties"]["Policies"].as_sequence().unwrap();
    policies.iter().flat_map(|p| p["PolicyDocument"]["Statement"].as_sequence().unwrap().clone()).collect()
}

fn allowing<'a>(statements: &'a [Value], action: &str) -> Vec<&'a Value> {
    statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .filter(|s| {
            list(&s["Action"])
                .iter()
                .any(|a| a == action || (a.ends_with('*') && action.starts_with(&a[..a.len() - 1])))
        })
        .collect()
}

#[test]
fn only_the_dev_and_prod_environments_of_the_repository_are_trusted() {
    let template = deploy_role();
    let trust = &template.resource("DeployRole").unwrap()["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    let condition = &trust["Condition"];
    assert!(condition.get("StringLike").is_none(), "no wildcard subjects");
    let subjects = list(&condition["StringEquals"]["token.actions.githubusercontent.com:sub"]);
    assert_eq!(subjects, ["repo:${GitHubRepository}:environment:dev", "repo:${GitHubRepository}:environment:prod"]);
}

#[test]
fn every_role_write_requires_the_boundary_and_roles_go_only_to_lambda_and_step_functions() {
    let statements = statements(&deploy_role());
    for action in [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:PutRolePermissionsBoundary",
    ] {
        let grants = allowing(&statements, action);
        assert!(!grants.is_empty(), "{action} is needed by the deploy");
        for grant in grants {
            let boundary = &grant["Condition"]["StringEquals"]["iam:PermissionsBoundary"];
            assert_eq!(text(boundary), "FunctionBoundary", "{action} without the boundary: {grant:?}");
        }
    }
    for grant in allowing(&statements, "iam:AttachRolePolicy") {
        let allowed = list(&grant["Condition"]["ArnEquals"]["iam:PolicyARN"]);
        assert!(
            !allowed.is_empty() && allowed.iter().all(|p| !p.contains("Administrator") && !p.contains("FullAccess"))
        );
    }
    for grant in allowing(&statements, "iam:PassRole") {
        let services = list(&grant["Condition"]["StringEquals"]["iam:PassedToService"]);
        assert_eq!(services, ["lambda.amazonaws.com", "states.amazonaws.com"]);
    }
    let denied: Vec<String> =
        statements.iter().filter(|s| s["Effect"] == "Deny").flat_map(|s| list(&s["Action"])).collect();
    assert!(denied.contains(&"iam:DeleteRolePermissionsBoundary".to_owned()), "{denied:?}");
}

#[test]
fn key_policies_log_resource_policies_and_artifacts_are_the_projects_only() {
    let statements = statements(&deploy_role());
    for action in ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CreateKey"] {
        for grant in allowing(&statements, action) {
            let tag = grant["Condition"]["StringEquals"]
                .get("aws:ResourceTag/project")
                .or_else(|| grant["Condition"]["StringEquals"].get("aws:RequestTag/project"));
            assert_eq!(tag.map(text).as_deref(), Some("orderflow"), "{action}: {grant:?}");
        }
    }
    // logs:PutResourcePolicy acts on "*" only: the setup stack makes the one
    // policy the state machines' log delivery needs, so the deploy role has none.
    for grant in allowing(&statements, "logs:PutResourcePolicy") {
        assert!(!list(&grant["Resource"]).contains(&"*".to_owned()), "{grant:?}");
    }
    for grant in allowing(&statements, "s3:PutObject") {
        for resource in list(&grant["Resource"]) {
            assert!(resource.ends_with("/orderflow-*"), "{resource}");
        }
    }
    // The template's roles carry the boundary the deploy role insists on.
    let template = Template::load_default().unwrap();
    let samconfig = std::fs::read_to_string(workspace_root().join("infra/samconfig.toml")).unwrap();
    assert_eq!(samconfig.matches(r#"PermissionsBoundary=\"orderflow-function-boundary\""#).count(), 2);
    assert_eq!(samconfig.matches(r#"s3_prefix = "orderflow-"#).count(), 2);
    let state_machine = template.resource("OrderStateMachine").unwrap();
    assert!(state_machine["Properties"].get("PermissionsBoundary").is_some());
    let key = template.resource("NotificationKey").unwrap();
    assert_eq!(text(&key["Properties"]["Tags"][0]["Value"]), "orderflow");
}

#[test]
fn workflows_run_actions_pinned_by_commit() {
    for file in ["ci.yml", "deploy.yml"] {
        let text = std::fs::read_to_string(workspace_root().join(".github/workflows").join(file)).unwrap();
        for line in text.lines().filter(|l| l.trim_start().trim_start_matches("- ").starts_with("uses:")) {
            let reference = line.split("uses:").nth(1).unwrap().trim();
            let sha = reference.split('@').nth(1).unwrap_or_default().split_whitespace().next().unwrap_or_default();
            assert!(sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()), "{file}: {line}");
        }
    }
}
