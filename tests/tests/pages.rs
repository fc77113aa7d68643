//! The public verification page over a real socket: content, languages, the `?from=`
//! warning, escaping, QR code, badge image and the 404 page.

use serde_json::Value;
use trustmark_core::claims::Org;
use trustmark_core::sign::{self, SigningKey};
use trustmark_registry::{start, Config, Limits};

mod common;
use common::now;

/// The text a browser shows for `html` (enough entity decoding for these checks).
fn text(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

struct Page {
    status: u16,
    content_type: String,
    language: String,
    body: String,
}

async fn get(url: &str, accept_language: Option<&str>) -> Page {
    let mut req = reqwest::Client::new().get(url);
    if let Some(l) = accept_language {
        req = req.header("accept-language", l);
    }
    let r = req.send().await.unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (status, content_type, language) = (
        r.status().as_u16(),
        header("content-type"),
        header("content-language"),
    );
    Page {
        status,
        content_type,
        language,
        body: r.text().await.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_page_for_buyers() {
    let data = std::env::temp_dir().join(format!("tm-e2e-pages-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let key = SigningKey::from_seed(&[7; 32]);
    common::accredit(
        &data,
        "http://127.0.0.1:9",
        &[("lab", "Lab <Asia> & Co", &key)],
        &[],
    );
    let running = start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data: data.clone(),
        public_url: None,
        demo: false,
        limits: Limits::default(),
    })
    .await
    .unwrap();
    let base = format!("http://{}", running.addr);

    let mut claims = common::audit_claims("lab", "p-1", |i| i.threshold);
    claims.sub = "https://www.supplier.example".into();
    claims.aliases = vec!["https://supplier.example".into()];
    // A name that must be escaped, not interpreted.
    claims.org = Org {
        name: "Acme <script>alert(1)</script> & Sons".into(),
        country: "TH".into(),
        reg: Some("0105551234567".into()),
    };
    claims.audited_at = now() - 3600;
    claims.valid_days = 200;
    let statement = sign::sign_audit_statement(&claims, &key).unwrap();
    let (_, issued) = common::post_statement(&base, statement).await;
    let id = issued["id"].as_str().unwrap();

    let en = get(&format!("{base}/b/{id}"), None).await;
    assert_eq!(en.status, 200);
    assert!(en.content_type.starts_with("text/html"));
    assert_eq!(en.language, "en");
    // The organisation's name is shown as text, never interpreted as markup.
    assert!(en.body.contains("Acme &lt;script&gt;alert(1)&lt;"));
    let shown = text(&en.body);
    for needle in [
        r#"<html lang="en">"#,
        "Acme <script>alert(1)</script> & Sons",
        "https://www.supplier.example",
        "https://supplier.example",
        ">VALID<",
        "0105551234567",
        &format!("{} out of 100", issued["score"]),
        "Lab <Asia> & Co (lab)",
        "Product parameters that differ between language versions",
        "≤ 2 %",
        "= 100 %",
        &format!(r#"src="/b/{id}/qr.svg" alt="QR code"#),
        "<main>",
    ] {
        assert!(shown.contains(needle), "page lacks {needle:?}");
    }
    assert!(
        !en.body.contains("<script>"),
        "unescaped markup on the page"
    );
    assert_eq!(
        en.body.matches(">Pass<").count(),
        12,
        "each indicator at its threshold passes"
    );
    assert!(
        !en.body.contains("role=\"alert\""),
        "no warning without ?from="
    );

    // Languages: query wins over the header; the header is honoured; unknown falls back.
    let ja = get(&format!("{base}/b/{id}?lang=ja"), Some("ko")).await;
    assert_eq!(ja.language, "ja");
    assert!(ja.body.contains(r#"<html lang="ja">"#));
    let ko = get(&format!("{base}/b/{id}"), Some("ko-KR,ko;q=0.9,en;q=0.5")).await;
    assert_eq!(ko.language, "ko");
    let zh = get(&format!("{base}/b/{id}"), Some("zh-TW")).await;
    assert_eq!(zh.language, "zh-Hant");
    assert!(
        !ja.body.contains(">VALID<") && !ko.body.contains(">VALID<"),
        "status word not translated"
    );
    assert_ne!(ko.body, ja.body);

    // ?from= for a covered origin: no warning; for another site: a loud one, in any language.
    let ok = get(
        &format!("{base}/b/{id}?from=https%3A%2F%2Fsupplier.example"),
        None,
    )
    .await;
    assert!(!ok.body.contains("role=\"alert\""));
    let bad = get(
        &format!("{base}/b/{id}?from=https%3A%2F%2Fcopycat.example"),
        None,
    )
    .await;
    assert!(
        bad.body.contains("role=\"alert\"") && text(&bad.body).contains("https://copycat.example")
    );
    let bad_vi = get(
        &format!("{base}/b/{id}?from=https%3A%2F%2Fcopycat.example&lang=vi"),
        None,
    )
    .await;
    assert!(bad_vi.body.contains("role=\"alert\"") && bad_vi.body.contains(r#"<html lang="vi">"#));

    // QR code and badge image.
    let qr = get(&format!("{base}/b/{id}/qr.svg"), None).await;
    assert_eq!(
        (qr.status, qr.content_type.as_str()),
        (200, "image/svg+xml")
    );
    assert!(qr.body.starts_with("<?xml") || qr.body.contains("<svg"));
    let svg = get(&format!("{base}/b/{id}/badge.svg"), None).await;
    assert!(svg.body.contains("TrustMark verified") && svg.body.contains("<title>"));

    // Unknown id: a real 404 page.
    let missing = get(&format!("{base}/b/b_doesnotexist"), None).await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.content_type.starts_with("text/html") && missing.body.contains("Badge not found")
    );
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_serves_a_page_carrying_a_live_badge() {
    let data = std::env::temp_dir().join(format!("tm-e2e-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let running = start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data: data.clone(),
        public_url: None,
        demo: true,
        limits: Limits::default(),
    })
    .await
    .unwrap();
    let base = format!("http://{}", running.addr);
    let demo = get(&format!("{base}/demo"), None).await;
    assert_eq!(demo.status, 200);
    let body = text(&demo.body);
    let start_at = body.find("/b/").expect("a link to the verification page");
    let id: String = body[start_at + 3..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert!(
        body.contains(&format!("/b/{id}?from=")),
        "the badge links to its page with ?from="
    );
    assert!(
        body.contains(&format!("/b/{id}/badge.svg")),
        "no-JS fallback image"
    );
    // The page it links to confirms the badge for the demo origin, without a warning.
    let origin = running.issuer.clone();
    let page = get(
        &format!(
            "{base}/b/{id}?from={}",
            origin.replace(':', "%3A").replace('/', "%2F")
        ),
        None,
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(">VALID<") && !page.body.contains("role=\"alert\""));
    // A second start keeps the same badge (no duplicate demo badges).
    running.stop().await.unwrap();
    let again = start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data: data.clone(),
        public_url: Some(origin.clone()),
        demo: true,
        limits: Limits::default(),
    })
    .await
    .unwrap();
    let r: Value = reqwest::get(format!(
        "http://{}/api/v1/origins/{}",
        again.addr,
        origin.replace(':', "%3A").replace('/', "%2F")
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(r["badges"].as_array().unwrap().len(), 1);
    again.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&data);
}
