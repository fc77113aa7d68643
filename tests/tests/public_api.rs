//! The registry's operational and discovery surface over a real socket: `/metrics`, the
//! registry metadata and the URLs it names, the OpenAPI document against the router and
//! against the problem types the handlers answer, and 405 problem documents.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use trustmark_core::claims::Action;
use trustmark_core::sign::{self, SigningKey};

mod common;

/// The value of the sample `name` (with labels, exactly as written) in a Prometheus text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(base: &str) -> String {
    let r = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ct, "text/plain; version=0.0.4", "Prometheus text format");
    r.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_issuances_status_changes_and_requests() {
    let key = SigningKey::from_seed(&[21; 32]);
    let (running, data, base) = common::registry_with("api-metrics", &[("lab", "Lab", &key)]).await;
    let before = scrape(&base).await;
    for name in [
        "trustmark_issuances_total",
        "trustmark_status_changes_total",
    ] {
        assert_eq!(sample(&before, name), Some(0.0), "{name}");
        assert!(before.contains(&format!("# TYPE {name} counter")), "{name}");
    }
    let issue_ok = r#"trustmark_requests_total{route="issue",status="2xx"}"#;
    let issue_bad = r#"trustmark_requests_total{route="issue",status="4xx"}"#;
    let change_ok = r#"trustmark_requests_total{route="status_change",status="2xx"}"#;
    let other_ok = r#"trustmark_requests_total{route="other",status="2xx"}"#;
    assert_eq!(sample(&before, issue_ok), Some(0.0));

    let claims = common::audit_claims("lab", "m-1", |i| i.best);
    let (status, issued) =
        common::post_statement(&base, sign::sign_audit_statement(&claims, &key).unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let id = issued["id"].as_str().unwrap();
    let request = common::status_change("lab", &key, "m-2", id, Action::Suspend);
    let (status, body) = common::post_status_change(&base, id, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Refusals are requests but neither an issuance nor a status change.
    let (status, _) = common::post_statement(&base, "not a token".into()).await;
    assert!(status.is_client_error());
    let again = common::status_change("lab", &key, "m-3", id, Action::Suspend);
    let (status, _) = common::post_status_change(&base, id, again).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let after = scrape(&base).await;
    assert_eq!(sample(&after, "trustmark_issuances_total"), Some(1.0));
    assert_eq!(sample(&after, "trustmark_status_changes_total"), Some(1.0));
    assert_eq!(sample(&after, issue_ok), Some(1.0));
    assert_eq!(sample(&after, issue_bad), Some(1.0));
    assert_eq!(sample(&after, change_ok), Some(1.0));
    assert!(
        sample(&after, other_ok) >= Some(1.0),
        "the first scrape is counted"
    );
    assert_eq!(
        sample(
            &after,
            r#"trustmark_request_duration_seconds_count{route="issue"}"#
        ),
        Some(2.0)
    );
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_metadata_names_urls_that_answer() {
    let (running, data, base) = common::registry_with("api-meta", &[]).await;
    let issuer = running.issuer.clone();
    let r = reqwest::get(format!("{base}/.well-known/trustmark-registry"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let meta: Value = r.json().await.unwrap();
    assert_eq!(meta["issuer"], issuer.as_str());
    assert_eq!(
        meta["jwks_uri"],
        format!("{issuer}/.well-known/jwks.json").as_str()
    );
    assert_eq!(
        meta["status_lists"],
        format!("{issuer}/statuslists").as_str()
    );
    assert_eq!(
        meta["schemes"],
        serde_json::json!([format!("{issuer}/schemes/rcep-b2b-web/1")])
    );

    let jwks = reqwest::get(meta["jwks_uri"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(jwks.status(), StatusCode::OK);
    assert_eq!(jwks.headers()["content-type"], "application/jwk-set+json");
    let jwks: Value = jwks.json().await.unwrap();
    let uses: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["trustmark_use"].as_str())
        .collect();
    assert!(
        uses.contains(&"badge") && uses.contains(&"status"),
        "{jwks}"
    );

    let lists = common::get_json(meta["status_lists"].as_str().unwrap()).await;
    let lists = lists["status_lists"].as_array().unwrap();
    assert!(!lists.is_empty());
    for url in lists {
        let url = url.as_str().unwrap();
        assert!(url.starts_with(&format!("{issuer}/statuslists/")), "{url}");
        let r = reqwest::get(url).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{url}");
        assert_eq!(r.headers()["content-type"], "application/statuslist+jwt");
    }
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&data);
}

/// `(method, path)` of every `.route(...)` in the router's source, so a route added there
/// without a description fails here.
fn served_routes() -> Vec<(String, String)> {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../registry/src/http/mod.rs"),
    )
    .unwrap();
    let mut routes = Vec::new();
    for chunk in source.split(".route(").skip(1) {
        let chunk = chunk.split(".fallback(").next().unwrap();
        // OpenAPI has no wildcard segments: `{*rest}` is described as `{rest}`.
        let path = chunk.split('"').nth(1).unwrap().replace("{*", "{");
        for method in ["get", "post", "put", "patch", "delete"] {
            let call = format!("{method}(");
            let named = chunk.match_indices(&call).any(|(i, _)| {
                i == 0 || !chunk[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            if named {
                routes.push((method.to_owned(), path.clone()));
            }
        }
    }
    routes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_describes_every_route_the_router_serves() {
    let (running, data, base) = common::registry_with("api-openapi", &[]).await;
    let r = reqwest::get(format!("{base}/api/v1/openapi.json"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    let doc: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();

    let routes = served_routes();
    assert!(routes.len() >= 16, "route table not found: {routes:?}");
    for (method, path) in &routes {
        assert!(
            paths.get(path).is_some_and(|p| p.get(method).is_some()),
            "{} {path} is served but not in the OpenAPI document",
            method.to_uppercase()
        );
    }
    // And the other way: every described path reaches a handler, not the fallback.
    for path in paths.keys() {
        let url = format!("{base}{}", path.replace(['{', '}'], ""));
        let r = reqwest::get(&url).await.unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(
            !(status == StatusCode::NOT_FOUND && body.contains("no such resource")),
            "{path} is described but not served"
        );
    }
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_method_is_a_405_problem_with_allow() {
    let (running, data, base) = common::registry_with("api-405", &[]).await;
    let http = reqwest::Client::new();
    let cases = [
        (Method::GET, "/api/v1/badges", "POST"),
        (Method::DELETE, "/api/v1/badges/b_x", "GET"),
        (Method::PUT, "/api/v1/badges/b_x/status", "POST"),
        (Method::GET, "/api/v1/verify", "POST"),
        (Method::POST, "/statuslists/1", "GET"),
        (Method::PATCH, "/.well-known/jwks.json", "GET"),
        (Method::POST, "/b/b_x", "GET"),
        (Method::DELETE, "/b/b_x/badge.svg", "GET"),
        (Method::POST, "/metrics", "GET"),
    ];
    for (method, path, allowed) in cases {
        let r = http
            .request(method.clone(), format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        let what = format!("{method} {path}");
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{what}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{what}"
        );
        let allow = r.headers()["allow"].to_str().unwrap().to_owned();
        assert!(
            allow.split(',').any(|m| m.trim() == allowed),
            "{what}: Allow {allow}"
        );
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/method-not-allowed", "{what}");
        assert_eq!(problem["status"], 405, "{what}");
    }
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&data);
}

/// `(status, kind)` of every `Problem::new(...)` in the HTTP handlers' source (status
/// `None` where it is a variable), plus `Problem::internal`.
fn problem_kinds() -> Vec<(Option<u16>, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../registry/src/http");
    let mut kinds = vec![(Some(500), "internal".to_owned())];
    for entry in std::fs::read_dir(dir).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for chunk in source.split("Problem::new(").skip(1) {
            let mut args = chunk.split(',').map(str::trim);
            let status = args.next().unwrap();
            // `Problem::new(status, kind, ...)` with variables (the 4xx rewriter): its
            // kinds are documented once for every route, and checked below by name.
            let Some(kind) = args.next().unwrap().strip_prefix('"') else {
                continue;
            };
            let kind = kind.trim_end_matches('"').to_owned();
            let status = match status.strip_prefix("StatusCode::") {
                None => None,
                Some("BAD_REQUEST") => Some(400),
                Some("FORBIDDEN") => Some(403),
                Some("NOT_FOUND") => Some(404),
                Some("CONFLICT") => Some(409),
                Some("PAYLOAD_TOO_LARGE") => Some(413),
                Some("UNSUPPORTED_MEDIA_TYPE") => Some(415),
                Some("UNPROCESSABLE_ENTITY") => Some(422),
                Some("INTERNAL_SERVER_ERROR") => Some(500),
                Some("SERVICE_UNAVAILABLE") => Some(503),
                Some(other) => panic!("add StatusCode::{other} to this test's table"),
            };
            kinds.push((status, kind));
        }
    }
    kinds
}

#[test]
fn openapi_lists_every_problem_type_the_handlers_answer() {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../registry/openapi.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // Which problem types each documented status of each operation lists.
    let mut listed: Vec<(u16, String)> = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for (status, response) in op["responses"].as_object().unwrap() {
                let schema = &response["content"]["application/problem+json"]["schema"];
                for t in schema["properties"]["type"]["enum"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    listed.push((status.parse().unwrap(), t.as_str().unwrap().to_owned()));
                }
            }
        }
    }
    let global = doc["info"]["description"].as_str().unwrap();
    for kind in ["method-not-allowed", "timeout", "not-found", "client-error"] {
        assert!(
            global.contains(&format!("`/problems/{kind}`")),
            "/problems/{kind} (any route) is not in the document's description"
        );
    }
    let kinds = problem_kinds();
    assert!(kinds.len() >= 30, "problem table not found: {kinds:?}");
    for (status, kind) in kinds {
        // Refused only for the operator's `auditor add`, which no HTTP route runs.
        if kind == "auditor-exists" {
            continue;
        }
        let t = format!("/problems/{kind}");
        let found = listed
            .iter()
            .any(|(s, k)| *k == t && status.is_none_or(|status| status == *s));
        assert!(
            found,
            "{t} ({status:?}) is answered but listed in no response of the OpenAPI document"
        );
    }
}
