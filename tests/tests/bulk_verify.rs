//! `POST /api/v1/verify`: every item names its origin or says to ignore it, checks run in
//! SPEC 5 order (a bad origin never hides an earlier failure), results keep input order.

use reqwest::StatusCode;
use serde_json::{json, Value};
use trustmark_core::sign::SigningKey;
use trustmark_registry::Limits;

mod common;
use common::{accredit, issue_badge, start_in_process, temp_dir};

/// POSTs `body` as `content_type`; returns the status, the content type and the JSON body.
async fn post(base: &str, content_type: &str, body: String) -> (StatusCode, String, Value) {
    let (status, body, ct) = common::post(base, "/api/v1/verify", content_type, body).await;
    (status, ct, body)
}

async fn verify(base: &str, items: Value) -> (StatusCode, String, Value) {
    post(
        base,
        "application/json",
        json!({ "items": items }).to_string(),
    )
    .await
}

fn assert_problem(answer: &(StatusCode, String, Value), status: StatusCode, kind: &str) {
    let (got, ct, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(body["type"], format!("/problems/{kind}"), "{body}");
    assert_eq!(body["status"], status.as_u16());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origins_are_required_and_checked_in_spec_order() {
    let data = temp_dir("bulk-verify");
    let key = SigningKey::from_seed(&[43; 32]);
    accredit(&data, "http://127.0.0.1:9", &[("lab", "Lab", &key)], &[]);
    let running = start_in_process(
        &data,
        None,
        Limits {
            max_verify_body: 64 * 1024,
            ..Limits::default()
        },
    )
    .await;
    let base = format!("http://{}", running.addr);
    let token = issue_badge(&base, "lab", &key, "bulk-verify-1").await;
    let site = "https://supplier.example";

    // Neither origin nor ignore_origin (absent or null): the whole request is refused,
    // naming the item.
    let good = json!({"token": token, "origin": site});
    for missing in [
        json!({"token": token}),
        json!({"token": token, "origin": null}),
    ] {
        let answer = verify(&base, json!([good, good, good, missing])).await;
        assert_problem(&answer, StatusCode::BAD_REQUEST, "bad-request");
        assert_eq!(
            answer.2["detail"], "items[3]: give origin or ignore_origin: true",
            "{missing}"
        );
    }
    let answer = verify(&base, json!([{"token": token, "ignore_origin": false}])).await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "bad-request");
    assert!(answer.2["detail"]
        .as_str()
        .unwrap()
        .starts_with("items[0]:"));
    // Both is just as ambiguous.
    let answer = verify(
        &base,
        json!([good, {"token": token, "origin": site, "ignore_origin": true}]),
    )
    .await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "bad-request");
    assert_eq!(
        answer.2["detail"],
        "items[1]: give origin or ignore_origin: true, not both"
    );

    // One of each case, in an order the results must keep.
    let items = json!([
        {"token": token, "ignore_origin": true},
        {"token": "garbage", "origin": "not an origin"},
        {"token": token, "origin": "not an origin"},
        {"token": token, "origin": site},
        {"token": token, "origin": "https://other.example"},
        {"token": "garbage", "origin": site},
        {"token": token, "origin": "SUPPLIER.example", "ignore_origin": false},
    ]);
    let (status, _, body) = verify(&base, items).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().unwrap();
    let expected = [
        ("valid", "valid", Value::Null, true),
        ("invalid", "malformed", Value::Null, false),
        ("invalid", "origin_mismatch", Value::Null, true),
        ("valid", "valid", json!(site), true),
        (
            "invalid",
            "origin_mismatch",
            json!("https://other.example"),
            true,
        ),
        ("invalid", "malformed", json!(site), false),
        ("valid", "valid", json!(site), true),
    ];
    assert_eq!(results.len(), expected.len(), "{body}");
    for (i, (result, (verdict, reason, origin, has_badge))) in
        results.iter().zip(expected).enumerate()
    {
        assert_eq!(result["verdict"], verdict, "items[{i}]: {result}");
        assert_eq!(result["reason"], reason, "items[{i}]: {result}");
        assert_eq!(result["origin"], origin, "items[{i}]: {result}");
        assert_eq!(
            result["badge"].is_object(),
            has_badge,
            "items[{i}]: {result}"
        );
    }
    assert_eq!(results[0]["badge"]["sub"], site);

    // The documented refusals of the body itself.
    let answer = post(&base, "text/plain", json!({"items": []}).to_string()).await;
    assert_problem(&answer, StatusCode::UNSUPPORTED_MEDIA_TYPE, "media-type");
    let big = json!({"items": [{"token": "a".repeat(100_000), "ignore_origin": true}]});
    let answer = post(&base, "application/json", big.to_string()).await;
    assert_problem(&answer, StatusCode::PAYLOAD_TOO_LARGE, "too-large");
    let answer = post(&base, "application/json", "{\"items\":".into()).await;
    assert_problem(&answer, StatusCode::BAD_REQUEST, "bad-request");
    let many = vec![json!({"token": "t", "ignore_origin": true}); 1001];
    let answer = verify(&base, json!(many)).await;
    assert_problem(&answer, StatusCode::PAYLOAD_TOO_LARGE, "too-many-items");
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_request_schema_accepts_exactly_what_the_registry_accepts() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../registry/openapi.json");
    let openapi: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let schema =
        jsonschema::draft202012::new(&openapi["components"]["schemas"]["VerifyRequest"]).unwrap();
    let running = start_in_process(&temp_dir("bulk-verify-schema"), None, Limits::default()).await;
    let base = format!("http://{}", running.addr);
    let o = "https://supplier.example";
    let cases = [
        (json!({"token": "t", "origin": o}), true),
        (
            json!({"token": "t", "origin": o, "ignore_origin": false}),
            true,
        ),
        (json!({"token": "t", "ignore_origin": true}), true),
        (
            json!({"token": "t", "origin": null, "ignore_origin": true}),
            true,
        ),
        (json!({"token": "t"}), false),
        (json!({"token": "t", "origin": null}), false),
        (json!({"token": "t", "ignore_origin": false}), false),
        (
            json!({"token": "t", "origin": o, "ignore_origin": true}),
            false,
        ),
    ];
    for (item, accepted) in cases {
        let body = json!({ "items": [item] });
        assert_eq!(schema.is_valid(&body), accepted, "schema on {item}");
        let (status, _, answer) = verify(&base, json!([item])).await;
        let expected = if accepted {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(status, expected, "registry on {item}: {answer}");
    }
    running.stop().await.unwrap();
}
