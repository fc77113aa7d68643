//! The embeddable badge script as the registry serves it: `/badge.js` and the versioned,
//! immutable files, their headers (type, cache, CORS and CORP for cross-origin SRI), bytes
//! equal to the committed build in `badge-js/dist/`, the metadata naming it and the demo
//! page embedding it with its SRI value.

use reqwest::StatusCode;
use serde_json::Value;

mod common;

fn dist(file: &str) -> Vec<u8> {
    std::fs::read(common::root().join("badge-js/dist").join(file)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_script_files_are_served_with_their_headers_and_committed_bytes() {
    let data = common::temp_dir("badge-script");
    let running = common::serve(&data, true).await;
    let base = format!("http://{}", running.addr);
    let version = String::from_utf8(dist("VERSION"))
        .unwrap()
        .trim()
        .to_owned();
    let integrity: Value = serde_json::from_slice(&dist("integrity.json")).unwrap();
    let js = "application/javascript; charset=utf-8";
    let immutable = "public, max-age=31536000, immutable";
    let files = [
        (
            "/badge.js".to_owned(),
            "badge.js",
            js,
            "public, max-age=300",
        ),
        (format!("/badge-{version}.js"), "badge.js", js, immutable),
        (
            format!("/badge-fallback-{version}.js"),
            "badge-fallback.js",
            js,
            immutable,
        ),
        (
            format!("/badge-i18n-{version}.json"),
            "badge-i18n.json",
            "application/json",
            immutable,
        ),
    ];
    for (path, file, content_type, cache) in files {
        let r = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let h = r.headers().clone();
        assert_eq!(h["content-type"], content_type, "{path}");
        assert_eq!(h["cache-control"], cache, "{path}");
        assert_eq!(h["access-control-allow-origin"], "*", "{path}");
        assert_eq!(h["cross-origin-resource-policy"], "cross-origin", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(
            r.bytes().await.unwrap() == dist(file),
            "{path} is not dist/{file}"
        );
    }
    // Another version is not served under an immutable name.
    for path in ["/badge-0.0.0-other.js", "/badge-fallback.js", "/badge-.js"] {
        let r = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }

    // The metadata names the versioned script and its SRI value.
    let meta = common::get_json(&format!("{base}/.well-known/trustmark-registry")).await;
    let issuer = running.issuer.clone();
    assert_eq!(
        meta["badge_script"],
        format!("{issuer}/badge-{version}.js").as_str()
    );
    assert_eq!(meta["badge_script_integrity"], integrity["badge.js"]);
    assert!(integrity["badge.js"]
        .as_str()
        .unwrap()
        .starts_with("sha384-"));

    // The demo page embeds the element around the no-JS fallback, and the script with SRI,
    // under a CSP that lets the script and its requests reach this registry only.
    let r = reqwest::get(format!("{base}/demo")).await.unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    let body = r.text().await.unwrap().replace("&#x2f;", "/");
    assert!(body.contains("<trustmark-badge token=\"eyJ"), "{body}");
    assert!(
        body.contains(&format!(
            "<script async src=\"/badge-{version}.js\" integrity=\"{}\" crossorigin=\"anonymous\"></script>",
            integrity["badge.js"].as_str().unwrap()
        )),
        "{body}"
    );
    let element =
        &body[body.find("<trustmark-badge").unwrap()..body.find("</trustmark-badge>").unwrap()];
    assert!(
        element.contains("<img src=\"/b/") && element.contains("/badge.svg\""),
        "the no-JS fallback sits inside the element: {element}"
    );
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&data);
}
