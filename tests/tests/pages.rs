//! The public verification page over a real socket: content, languages, the `?from=`
//! warning and its display rule, escaping, the expired state, the QR code (decoded), the
//! badge image in every state and the 404 page.

use serde_json::Value;
use std::path::PathBuf;
use trustmark_core::claims::Org;
use trustmark_core::sign::{self, SigningKey};
use trustmark_registry::{start, Config, Limits, Running};

mod common;
use common::{get_page as get, html_text as text, now};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_page_for_buyers() {
    let key = SigningKey::from_seed(&[7; 32]);
    let (running, data, base) =
        common::registry_with("pages", &[("lab", "Lab <Asia> & Co", &key)]).await;

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
    let data = common::temp_dir("demo");
    let running = common::serve(&data, true).await;
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
        store: None,
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

/// A registry with auditor `lab` and one badge for `https://www.supplier.example` (alias
/// `https://supplier.example`) issued through the API; returns the issuance response.
async fn with_badge(name: &str) -> (Running, PathBuf, String, Value) {
    let key = SigningKey::from_seed(&[8; 32]);
    let (running, data, base) = common::registry_with(name, &[("lab", "Lab", &key)]).await;
    let mut claims = common::audit_claims("lab", "p-1", |i| i.best);
    claims.sub = "https://www.supplier.example".into();
    claims.aliases = vec!["https://supplier.example".into()];
    let (status, issued) =
        common::post_statement(&base, sign::sign_audit_statement(&claims, &key).unwrap()).await;
    assert_eq!(status, 201, "{issued}");
    (running, data, base, issued)
}

/// The text of the page's alert, if it has one.
fn alert(html: &str) -> Option<String> {
    let start = html.find(r#"role="alert""#)?;
    let end = html[start..].find("</section>")? + start;
    Some(text(&html[start..end]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_is_echoed_only_when_it_is_a_canonical_origin() {
    let (running, data, base, issued) = with_badge("pages-from").await;
    let id = issued["id"].as_str().unwrap();
    let page = |from: String| {
        let url = format!("{base}/b/{id}?from={from}");
        async move { get(&url, None).await }
    };
    const FIXED: &str = "You arrived from an address that is not a website origin.";

    // A canonical origin the badge does not cover is named.
    let named = page("https%3A%2F%2Fcopycat.example".into()).await;
    let warning = alert(&named.body).expect("a warning");
    assert!(warning.contains("You arrived from https://copycat.example."));

    // Anything else is replaced by the fixed phrase: a non-canonical spelling, free text,
    // a value carrying a placeholder name (substituted once, never re-expanded).
    for raw in [
        "https%3A%2F%2FCOPYCAT.example%2Fpath",
        "Call%20%2B1%20555%200100%20to%20confirm",
        "https%3A%2F%2Fcopycat.example%2F%7Borigins%7D",
        "%7Borigins%7D",
    ] {
        let p = page(raw.into()).await;
        let warning = alert(&p.body).unwrap_or_else(|| panic!("no warning for {raw}"));
        assert!(warning.contains(FIXED), "{raw}: {warning}");
        for leaked in ["COPYCAT", "555", "{origins}", "copycat"] {
            assert!(!warning.contains(leaked), "{raw} shown: {warning}");
        }
        assert_eq!(
            warning.matches("https://www.supplier.example").count(),
            1,
            "{raw}: origins listed once: {warning}"
        );
    }

    // Coverage is decided on the canonicalised value: a pasted page URL of the site is fine.
    let covered = page("https%3A%2F%2FWWW.Supplier.example%2Fen%2F".into()).await;
    assert_eq!(covered.status, 200);
    assert!(alert(&covered.body).is_none());

    // The language links carry a short value as it came, so the switched page warns alike.
    let short = page("javascript%3Aalert(1)".into()).await;
    assert_eq!(
        text(&short.body)
            .matches("&from=javascript%3Aalert%281%29\"")
            .count(),
        14
    );
    let switched = get(
        &format!("{base}/b/{id}?lang=ja&from=https%3A//copycat.example"),
        None,
    )
    .await;
    assert!(alert(&switched.body).is_some_and(|w| w.contains("https://copycat.example")));

    // A value longer than any origin is neither echoed nor carried; the links carry the
    // origin it names instead.
    let long = format!("https%3A%2F%2Fcopycat.example%2F{}", "a".repeat(5000));
    let p = page(long).await;
    assert!(alert(&p.body).is_some_and(|w| w.contains(FIXED)));
    assert!(!p.body.contains(&"a".repeat(100)), "long from echoed");
    assert_eq!(
        text(&p.body)
            .matches("&from=https%3A//copycat.example\"")
            .count(),
        14
    );
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&data);
}

/// A registry with auditor `lab` and a badge issued two days ago for one day: expired,
/// although its status list entry is still 0. Returns the badge id too.
async fn with_expired_badge(name: &str) -> (Running, PathBuf, String, SigningKey, String) {
    let key = SigningKey::from_seed(&[9; 32]);
    let data = common::temp_dir(name);
    common::accredit(&data, "http://127.0.0.1:9", &[("lab", "Lab", &key)], &[]);
    let at = now() - 2 * 86_400;
    let mut claims = common::audit_claims("lab", "old-1", |i| i.best);
    claims.iat = at;
    claims.audited_at = at;
    claims.valid_days = 1;
    let expired = common::issue_offline(&data, "http://127.0.0.1:9", &claims, &key, at);
    let running = common::serve(&data, false).await;
    let base = format!("http://{}", running.addr);
    (running, data, base, key, expired)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_shows_expired_although_the_list_entry_is_valid() {
    let (running, data, base, _, id) = with_expired_badge("pages-expired").await;
    let record = common::get_json(&format!("{base}/api/v1/badges/{id}")).await;
    assert_eq!(record["status"], "valid", "the list entry is untouched");
    let uri = record["status_list"]["uri"].as_str().unwrap();
    let n = uri.rsplit('/').next().unwrap();
    let list = reqwest::get(format!("{base}/statuslists/{n}"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let compact =
        trustmark_core::jws::Compact::parse(&list, trustmark_core::jws::MAX_TOKEN_LEN).unwrap();
    let claims: trustmark_core::StatusListClaims =
        serde_json::from_slice(compact.payload()).unwrap();
    let entries = trustmark_core::StatusList::decode(&claims.status_list).unwrap();
    let idx = record["status_list"]["idx"].as_u64().unwrap() as usize;
    assert_eq!(entries.get(idx), Some(0));

    let page = get(&format!("{base}/b/{id}"), None).await;
    assert_eq!(page.status, 200);
    // The status word, not the history (whose only entry is the issuance, VALID).
    assert!(
        page.body.contains(
            r#"<section class="status expired" aria-labelledby="status-word">
<strong id="status-word">EXPIRED</strong>"#
        ),
        "{}",
        page.body
    );
    assert!(text(&page.body).contains("This trust mark has expired."));
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badge_image_in_every_state() {
    use trustmark_core::claims::Action;
    let (running, data, base, key, expired) = with_expired_badge("pages-svg").await;
    let mut ids = Vec::new();
    for jti in ["s-1", "s-2", "s-3"] {
        let claims = common::audit_claims("lab", jti, |i| i.best);
        let (status, issued) =
            common::post_statement(&base, sign::sign_audit_statement(&claims, &key).unwrap()).await;
        assert_eq!(status, 201, "{issued}");
        ids.push(issued["id"].as_str().unwrap().to_owned());
    }
    for (id, jti, action) in [
        (&ids[1], "c-1", Action::Suspend),
        (&ids[2], "c-2", Action::Revoke),
    ] {
        let request = common::status_change("lab", &key, jti, id, action);
        let (status, body) = common::post_status_change(&base, id, request).await;
        assert_eq!(status, 200, "{body}");
    }
    let cases = [
        (ids[0].as_str(), 200, "#0b6b2f", "TrustMark verified"),
        (ids[1].as_str(), 200, "#8a4b00", "TrustMark suspended"),
        (ids[2].as_str(), 200, "#a4161a", "TrustMark revoked"),
        (expired.as_str(), 200, "#a4161a", "TrustMark expired"),
        ("b_doesnotexist", 404, "#595959", "TrustMark not found"),
    ];
    for (id, status, colour, label) in cases {
        let svg = get(&format!("{base}/b/{id}/badge.svg"), None).await;
        assert_eq!(
            (svg.status, svg.content_type.as_str()),
            (status, "image/svg+xml"),
            "{label}"
        );
        assert!(svg.body.starts_with("<svg "), "{label}: {}", svg.body);
        assert!(
            svg.body.contains(&format!(r#"fill="{colour}""#)),
            "{label}: {}",
            svg.body
        );
        assert!(
            svg.body.contains(&format!("<title>{label}</title>"))
                && svg.body.contains(&format!(">{label}</text>")),
            "{label}: {}",
            svg.body
        );
    }
    // Labels follow Accept-Language, the not-found one included.
    let ja = get(&format!("{base}/b/b_doesnotexist/badge.svg"), Some("ja")).await;
    assert_eq!(ja.status, 404);
    assert!(ja.body.contains("<title>TrustMark 見つかりません</title>"));
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&data);
}

/// Renders an SVG to greyscale pixels and decodes the one QR code in it.
fn decode_qr(svg: &str) -> String {
    use resvg::{tiny_skia, usvg};
    let tree = usvg::Tree::from_str(svg, &usvg::Options::default()).unwrap();
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
    let pixels = pixmap.pixels();
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x].red());
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().unwrap().1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_code_decodes_to_the_badge_ref() {
    let (running, data, base, issued) = with_badge("pages-qr").await;
    let id = issued["id"].as_str().unwrap();
    let qr = get(&format!("{base}/b/{id}/qr.svg"), None).await;
    assert_eq!(
        (qr.status, qr.content_type.as_str()),
        (200, "image/svg+xml")
    );
    let decoded = decode_qr(&qr.body);
    let record = common::get_json(&format!("{base}/api/v1/badges/{id}")).await;
    assert_eq!(decoded, record["claims"]["ref"].as_str().unwrap());
    assert_eq!(decoded, issued["ref"].as_str().unwrap());
    assert_eq!(decoded, format!("{base}/b/{id}"));
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&data);
}
