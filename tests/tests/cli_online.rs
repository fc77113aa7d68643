//! `trustmark` online: a real registry binary on a socket, and static supplier sites
//! served by the test itself, carrying badges in every discovery form of SPEC 5; the
//! site limits (timeout, size cap); the on-disk cache; bundles whose lists expire; and
//! `status inspect URL`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, MethodRouter};
use axum::Router;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use trustmark_core::claims::Action;
use trustmark_core::sign::SigningKey;

mod common;
use common::{
    bind_loopback, issue_badge_for, metric, registry_process, root, serve_router, temp_dir,
    trustmark_cli, CliRun,
};

const LISTS_OK: &str = "trustmark_requests_total{route=\"status_list\",status=\"2xx\"}";
const LISTS_NOT_MODIFIED: &str = "trustmark_requests_total{route=\"status_list\",status=\"3xx\"}";

/// A GET answering `body` as `content_type`.
fn fixed(content_type: &'static str, body: String) -> MethodRouter {
    get(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, content_type)], body).into_response() }
    })
}

/// A GET answering an HTML page with `body` inside.
fn page(body: &str) -> MethodRouter {
    fixed(
        "text/html; charset=utf-8",
        format!(
            "<!doctype html><html><head><title>Supplier</title></head><body>{body}</body></html>"
        ),
    )
}

fn token_of(issued: &Value) -> String {
    issued["token"].as_str().unwrap().to_owned()
}

/// Checks every JSON object printed against the closed output schema.
fn assert_schema_valid(run: &CliRun) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/verify-output.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    for line in run.json_lines() {
        let errors: Vec<String> = validator
            .iter_errors(&line)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{}", run.context());
    }
}

/// `(verdict, reason, origin, badge sub)` of each JSON line.
fn summary(run: &CliRun) -> Vec<(String, String, String, Option<String>)> {
    run.json_lines()
        .iter()
        .map(|v| {
            (
                v["verdict"].as_str().unwrap().to_owned(),
                v["reason"].as_str().unwrap().to_owned(),
                v["origin"].as_str().unwrap().to_owned(),
                v["badge"]["sub"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn row(
    verdict: &str,
    reason: &str,
    origin: &str,
    sub: Option<&str>,
) -> (String, String, String, Option<String>) {
    (
        verdict.into(),
        reason.into(),
        origin.into(),
        sub.map(str::to_owned),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_badges_in_every_discovery_form_checked_against_the_asked_origin() {
    let key = SigningKey::from_seed(&[61; 32]);
    let registry = registry_process("cli-online-sites", &[("lab", "Lab", &key)]).await;
    let base = registry.base.clone();
    let cache = temp_dir("cli-online-sites-cache");

    let (wk_l, wk) = bind_loopback().await;
    let (element_l, element) = bind_loopback().await;
    let (src_l, src) = bind_loopback().await;
    let (meta_l, meta) = bind_loopback().await;
    let (copy_l, copy) = bind_loopback().await;
    let (revoked_l, revoked) = bind_loopback().await;
    let (none_l, none) = bind_loopback().await;
    let (mixed_l, mixed) = bind_loopback().await;
    let (redirect_l, redirect) = bind_loopback().await;

    let t_wk = token_of(&issue_badge_for(&base, "lab", &key, "s-wk", &wk).await);
    let t_element = token_of(&issue_badge_for(&base, "lab", &key, "s-el", &element).await);
    let t_src = token_of(&issue_badge_for(&base, "lab", &key, "s-src", &src).await);
    let t_meta = token_of(&issue_badge_for(&base, "lab", &key, "s-meta", &meta).await);
    let t_mixed = token_of(&issue_badge_for(&base, "lab", &key, "s-mixed", &mixed).await);
    let issued = issue_badge_for(&base, "lab", &key, "s-rev", &revoked).await;
    let id = issued["id"].as_str().unwrap();
    let request = common::status_change("lab", &key, "s-rev-1", id, Action::Revoke);
    let (status, body) = common::post_status_change(&base, id, request).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let t_revoked = token_of(&issued);

    // Two badges in the well-known file: the site's own, and a copy of another's.
    serve_router(
        wk_l,
        Router::new().route(
            "/.well-known/trustmark.jwt",
            fixed("application/jwt", format!("{t_wk}\n\n{t_meta}\n")),
        ),
    );
    serve_router(
        element_l,
        Router::new().route(
            "/",
            page(&format!(
                "<trustmark-badge token=\"{t_element}\"></trustmark-badge>"
            )),
        ),
    );
    // The src is relative to the page the user names, which is not the site's root.
    serve_router(
        src_l,
        Router::new()
            .route(
                "/en/",
                page("<p>Products</p><trustmark-badge src=\"badge.jwt\"></trustmark-badge>"),
            )
            .route("/en/badge.jwt", fixed("application/jwt", t_src.clone()))
            .route("/", page("<p>no badge on the root page</p>")),
    );
    let meta_page = format!(
        "<!doctype html><html><head><meta name=\"trustmark\" content=\"{t_meta}\"></head><body></body></html>"
    );
    serve_router(
        meta_l,
        Router::new().route("/", fixed("text/html", meta_page.clone())),
    );
    serve_router(
        copy_l,
        Router::new().route(
            "/",
            page(&format!(
                "<trustmark-badge token=\"{t_wk}\"></trustmark-badge>"
            )),
        ),
    );
    serve_router(
        revoked_l,
        Router::new().route(
            "/",
            page(&format!(
                "<trustmark-badge token=\"{t_revoked}\"></trustmark-badge>"
            )),
        ),
    );
    serve_router(none_l, Router::new().route("/", page("<p>Welcome</p>")));
    // An app shell answering every path with the same HTML (also the well-known path),
    // carrying a copied badge in its head and its own in the body.
    let shell = format!(
        "<html><head><meta name=\"trustmark\" content=\"{t_wk}\"></head><body><trustmark-badge token=\"{t_mixed}\"></trustmark-badge></body></html>"
    );
    serve_router(mixed_l, Router::new().fallback(fixed("text/html", shell)));
    // Every path redirects to the meta site: its badge stays checked against this origin.
    let target = meta.clone();
    serve_router(
        redirect_l,
        Router::new().fallback(move |uri: axum::http::Uri| {
            let to = format!("{target}{}", uri.path());
            async move { Redirect::temporary(&to) }
        }),
    );

    let verify = |site: String, json: bool| {
        let base = base.clone();
        let cache = cache.clone();
        async move {
            let mut args = vec!["verify", site.as_str(), "--registry", base.as_str()];
            if json {
                args.push("--json");
            }
            trustmark_cli(&args, &cache, &[]).await
        }
    };

    // The well-known file: one line per badge, the exit code the best verdict's.
    let run = verify(wk.clone(), true).await;
    run.expect_code(0);
    assert_schema_valid(&run);
    assert_eq!(
        summary(&run),
        vec![
            row("valid", "valid", &wk, Some(&wk)),
            row("invalid", "origin_mismatch", &wk, Some(&meta)),
        ],
        "{}",
        run.context()
    );
    let run = verify(wk.clone(), false).await;
    run.expect_code(0);
    assert!(
        run.stdout.starts_with("VALID (valid)\n"),
        "{}",
        run.context()
    );
    assert!(
        run.stdout
            .contains(&format!("  found:    in {wk}/.well-known/trustmark.jwt\n")),
        "{}",
        run.context()
    );
    assert_eq!(
        run.stdout.matches("checked:  for ").count(),
        2,
        "{}",
        run.context()
    );

    // The element with a token, on `/` of the site.
    let run = verify(element.clone(), false).await;
    run.expect_code(0);
    assert!(
        run.stdout
            .contains(&format!("found:    <trustmark-badge token> on {element}/")),
        "{}",
        run.context()
    );

    // The element with src, on the page named, resolved against that page.
    let run = verify(format!("{src}/en/"), true).await;
    run.expect_code(0);
    assert_eq!(summary(&run), vec![row("valid", "valid", &src, Some(&src))]);
    let run = verify(format!("{src}/en/"), false).await;
    assert!(
        run.stdout.contains(&format!(
            "found:    <trustmark-badge src> on {src}/en/, token from {src}/en/badge.jwt"
        )),
        "{}",
        run.context()
    );
    // The root page of that site carries none.
    let run = verify(src.clone(), true).await;
    run.expect_code(1);
    assert_eq!(
        summary(&run),
        vec![row("invalid", "no_badge_found", &src, None)]
    );

    // The meta element.
    let run = verify(meta.clone(), false).await;
    run.expect_code(0);
    assert!(
        run.stdout
            .contains(&format!("found:    <meta name=\"trustmark\"> on {meta}/")),
        "{}",
        run.context()
    );

    // A badge copied onto another site.
    let run = verify(copy.clone(), true).await;
    run.expect_code(1);
    assert_schema_valid(&run);
    assert_eq!(
        summary(&run),
        vec![row("invalid", "origin_mismatch", &copy, Some(&wk))]
    );

    // A revoked badge on its own site.
    let run = verify(revoked.clone(), true).await;
    run.expect_code(1);
    assert_eq!(
        summary(&run),
        vec![row("invalid", "revoked", &revoked, Some(&revoked))]
    );

    // No badge at all.
    let run = verify(none.clone(), true).await;
    run.expect_code(1);
    assert_schema_valid(&run);
    let lines = run.json_lines();
    assert_eq!(
        lines,
        vec![
            serde_json::json!({"verdict": "invalid", "reason": "no_badge_found", "badge": null, "origin": none})
        ]
    );
    let run = verify(none.clone(), false).await;
    run.expect_code(1);
    assert!(
        run.stdout
            .starts_with("NOT VALID: no badge found (no_badge_found)"),
        "{}",
        run.context()
    );
    assert!(
        run.stdout.contains(&format!(
            "looked at {none}/.well-known/trustmark.jwt, {none}/"
        )),
        "{}",
        run.context()
    );

    // HTML at the well-known path is no well-known file; the page's badges are read in
    // document order, and one valid badge among copies makes the site valid.
    let run = verify(mixed.clone(), true).await;
    run.expect_code(0);
    assert_eq!(
        summary(&run),
        vec![
            row("invalid", "origin_mismatch", &mixed, Some(&wk)),
            row("valid", "valid", &mixed, Some(&mixed)),
        ]
    );

    // A redirect to another origin does not move the check.
    let run = verify(redirect.clone(), true).await;
    run.expect_code(1);
    assert_eq!(
        summary(&run),
        vec![row("invalid", "origin_mismatch", &redirect, Some(&meta))]
    );
    let run = verify(redirect.clone(), false).await;
    assert!(
        run.stdout.contains(&format!("checked:  for {redirect}")),
        "{}",
        run.context()
    );
    assert!(
        run.stdout
            .contains(&format!("found:    <meta name=\"trustmark\"> on {meta}/")),
        "{}",
        run.context()
    );

    // --origin makes no sense for a site, and is refused before anything is fetched.
    let run = trustmark_cli(
        &["verify", &meta, "--registry", &base, "--origin", &meta],
        &cache,
        &[],
    )
    .await;
    run.expect_code(2);
    assert!(
        run.stdout.is_empty() && run.stderr.starts_with("error:"),
        "{}",
        run.context()
    );
}

/// Serves one page of `size` bytes of HTML without a Content-Length (the body ends
/// when the connection closes), so the cap is met while reading, not from a header.
async fn serve_unannounced_page(listener: tokio::net::TcpListener, size: usize) {
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await;
                let path_is_page = request.starts_with(b"GET / ");
                if !path_is_page {
                    let _ = socket
                        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                    return;
                }
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body>")
                    .await;
                let chunk = vec![b'x'; 64 * 1024];
                let mut sent = 0;
                while sent < size {
                    if socket.write_all(&chunk).await.is_err() {
                        return;
                    }
                    sent += chunk.len();
                }
            });
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_huge_sites_fail_naming_the_limit() {
    let cache = temp_dir("cli-online-limits-cache");
    // Offline trust: the limits are the site's, whatever the trust source.
    let jwks = root().join("testdata/vectors/jwks/registry.json");
    let trust = [
        "--jwks",
        jwks.to_str().unwrap(),
        "--issuer",
        "https://registry.example",
    ];

    let (slow_l, slow) = bind_loopback().await;
    serve_router(
        slow_l,
        Router::new().fallback(|| async {
            tokio::time::sleep(Duration::from_secs(8)).await;
            StatusCode::NOT_FOUND
        }),
    );
    let started = Instant::now();
    let run = trustmark_cli(
        &[&["verify", slow.as_str(), "--timeout", "1"][..], &trust].concat(),
        &cache,
        &[],
    )
    .await;
    run.expect_code(2);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert!(run.stdout.is_empty(), "{}", run.context());
    assert!(
        run.stderr.contains("no answer within 1 s"),
        "{}",
        run.context()
    );
    assert!(run.stderr.contains("hint:"), "{}", run.context());

    // Announced: refused from the Content-Length.
    let (huge_l, huge) = bind_loopback().await;
    let big = format!("<html><body>{}</body></html>", "x".repeat(3 * 1024 * 1024));
    serve_router(huge_l, Router::new().route("/", fixed("text/html", big)));
    let run = trustmark_cli(
        &[&["verify", huge.as_str()][..], &trust].concat(),
        &cache,
        &[],
    )
    .await;
    run.expect_code(2);
    assert!(run.stdout.is_empty(), "{}", run.context());
    assert!(
        run.stderr.contains("larger than 2097152 bytes"),
        "{}",
        run.context()
    );

    // Unannounced: refused while reading, long before the 64 MiB it would send.
    let (endless_l, endless) = bind_loopback().await;
    serve_unannounced_page(endless_l, 64 * 1024 * 1024).await;
    let run = trustmark_cli(
        &[&["verify", endless.as_str()][..], &trust].concat(),
        &cache,
        &[],
    )
    .await;
    run.expect_code(2);
    assert!(
        run.stderr.contains("larger than 2097152 bytes"),
        "{}",
        run.context()
    );

    // A well-known file past its own cap.
    let (wk_l, wk) = bind_loopback().await;
    serve_router(
        wk_l,
        Router::new().route(
            "/.well-known/trustmark.jwt",
            fixed("application/jwt", "eyJ.x.y\n".repeat(10_000)),
        ),
    );
    let run = trustmark_cli(
        &[&["verify", wk.as_str()][..], &trust].concat(),
        &cache,
        &[],
    )
    .await;
    run.expect_code(2);
    assert!(
        run.stderr.contains("larger than 65536 bytes"),
        "{}",
        run.context()
    );
}

/// The cache entries of `kind` in `dir`.
fn entries(dir: &Path, kind: &str) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with(&format!("{kind}-")) && name.ends_with(".json")
        })
        .collect();
    found.sort();
    found
}

fn edit_entry(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut entry: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut entry);
    std::fs::write(path, serde_json::to_vec(&entry).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_spares_the_registry_revalidates_and_survives_damage() {
    let key = SigningKey::from_seed(&[62; 32]);
    let registry = registry_process("cli-online-cache", &[("lab", "Lab", &key)]).await;
    let base = registry.base.clone();
    let cache = temp_dir("cli-online-cache-dir");
    let site = "https://www.supplier.example";
    let token = token_of(&issue_badge_for(&base, "lab", &key, "c-1", site).await);
    let args = ["verify", token.as_str(), "--origin", site, "--json"];
    let counts = || async {
        (
            metric(&base, LISTS_OK).await,
            metric(&base, LISTS_NOT_MODIFIED).await,
        )
    };
    // The registry from the environment, as a platform's service would set it.
    let env = [("TRUSTMARK_REGISTRY", base.as_str())];

    let (ok0, nm0) = counts().await;
    let run = trustmark_cli(&args, &cache, &env).await;
    run.expect_code(0);
    assert_eq!(run.json_lines()[0]["reason"], "valid");
    assert_eq!(
        counts().await,
        (ok0 + 1, nm0),
        "the first run fetches the list"
    );
    let lists = entries(&cache, "statuslist");
    let keys = entries(&cache, "jwks");
    assert_eq!(
        (lists.len(), keys.len()),
        (1, 1),
        "{:?}",
        std::fs::read_dir(&cache).unwrap().collect::<Vec<_>>()
    );
    for path in lists.iter().chain(&keys) {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{}", path.display());
    }
    let list_entry: Value = serde_json::from_slice(&std::fs::read(&lists[0]).unwrap()).unwrap();
    assert_eq!(list_entry["url"], format!("{base}/statuslists/1"));
    assert!(list_entry["etag"].is_string() && list_entry["max_age"].as_u64().unwrap() > 0);
    // Dated back a little (still within its max-age), so a rewrite would show.
    edit_entry(&keys[0], |e| {
        e["fetched_at"] = (e["fetched_at"].as_i64().unwrap() - 10).into();
    });
    let keys_before = std::fs::read_to_string(&keys[0]).unwrap();

    // Second run: both from the cache, nothing asked (the JWKS entry is not rewritten).
    let run = trustmark_cli(&args, &cache, &env).await;
    run.expect_code(0);
    assert_eq!(
        counts().await,
        (ok0 + 1, nm0),
        "the second run asks nothing\n{}",
        run.context()
    );
    assert_eq!(std::fs::read_to_string(&keys[0]).unwrap(), keys_before);

    // max-age ran out but the list's own ttl has not: a conditional request, and the
    // 304 keeps the cached list.
    edit_entry(&lists[0], |e| {
        e["fetched_at"] = (e["fetched_at"].as_i64().unwrap() - 10_000).into();
    });
    let run = trustmark_cli(&args, &cache, &env).await;
    run.expect_code(0);
    assert_eq!(
        counts().await,
        (ok0 + 1, nm0 + 1),
        "revalidated with the ETag\n{}",
        run.context()
    );

    // A damaged entry is ignored and fetched again.
    std::fs::write(&lists[0], b"{\"format\":\"trustmark-cache/1\",").unwrap();
    let run = trustmark_cli(&args, &cache, &env).await;
    run.expect_code(0);
    assert_eq!(
        counts().await,
        (ok0 + 2, nm0 + 1),
        "refetched\n{}",
        run.context()
    );

    // A cached list whose body does not verify is not believed, even while "fresh".
    edit_entry(&lists[0], |e| {
        let body = e["body"].as_str().unwrap().to_owned();
        let (rest, sig) = body.rsplit_once('.').unwrap();
        let flipped = if sig.starts_with('A') { "B" } else { "A" };
        e["body"] = format!("{rest}.{flipped}{}", &sig[1..]).into();
        e["fetched_at"] = chrono::Utc::now().timestamp().into();
    });
    let run = trustmark_cli(&args, &cache, &env).await;
    run.expect_code(0);
    assert_eq!(
        counts().await,
        (ok0 + 3, nm0 + 1),
        "refetched\n{}",
        run.context()
    );

    // A cached key set that does not know the badge's key is asked again once, so a
    // key rotation does not make new badges unknown_key until the cache runs out.
    edit_entry(&keys[0], |e| {
        e["body"] = std::fs::read_to_string(root().join("testdata/vectors/jwks/registry.json"))
            .unwrap()
            .into();
        e["fetched_at"] = chrono::Utc::now().timestamp().into();
        e["max_age"] = 3000.into();
    });
    let run = trustmark_cli(&args, &cache, &env).await;
    run.expect_code(0);
    assert_eq!(run.json_lines()[0]["reason"], "valid", "{}", run.context());
    let refreshed: Value = serde_json::from_slice(&std::fs::read(&keys[0]).unwrap()).unwrap();
    let served = common::get_text(&format!("{base}/.well-known/jwks.json")).await;
    assert_eq!(refreshed["body"], served);

    // An unusable cache directory costs the cache, not the verdict.
    let blocked = cache.join("a-file");
    std::fs::write(&blocked, b"").unwrap();
    let run = trustmark_cli(&args, &blocked, &env).await;
    run.expect_code(0);
    assert!(
        run.stderr.contains("warning: cannot write the cache"),
        "{}",
        run.context()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundles_go_stale_with_their_lists_and_status_inspect_fetches_and_verifies() {
    let key = SigningKey::from_seed(&[63; 32]);
    let registry = registry_process("cli-online-bundle", &[("lab", "Lab", &key)]).await;
    let base = registry.base.clone();
    let dir = temp_dir("cli-online-bundle-files");
    let (site_l, site) = bind_loopback().await;
    let issued = issue_badge_for(&base, "lab", &key, "b-1", &site).await;
    let token = token_of(&issued);
    serve_router(
        site_l,
        Router::new().route(
            "/.well-known/trustmark.jwt",
            fixed("application/jwt", token.clone()),
        ),
    );
    let revoked = issue_badge_for(&base, "lab", &key, "b-2", "https://revoked.example").await;
    let revoked_id = revoked["id"].as_str().unwrap();
    let request = common::status_change("lab", &key, "b-2-r", revoked_id, Action::Revoke);
    assert_eq!(
        common::post_status_change(&base, revoked_id, request)
            .await
            .0,
        reqwest::StatusCode::OK
    );

    let bundle = dir.join("bundle.json");
    let run = trustmark_cli(
        &[
            "bundle",
            "fetch",
            "--registry",
            &base,
            "-o",
            bundle.to_str().unwrap(),
        ],
        &dir,
        &[],
    )
    .await;
    run.expect_code(0);
    assert_eq!(
        std::fs::metadata(&bundle).unwrap().permissions().mode() & 0o777,
        0o644
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let contents: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    let list = contents["status_lists"][0].as_str().unwrap();
    let claims = trustmark_core::jws::Compact::parse(list, 8 << 20).unwrap();
    let claims: Value = serde_json::from_slice(claims.payload()).unwrap();
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );

    let b = bundle.to_str().unwrap();
    let verify_at = |at: i64| {
        let (token, site, dir) = (token.clone(), site.clone(), dir.clone());
        async move {
            let at = at.to_string();
            trustmark_cli(
                &[
                    "verify", &token, "--bundle", b, "--origin", &site, "--at", &at, "--json",
                ],
                &dir,
                &[],
            )
            .await
        }
    };
    let run = verify_at(iat + 1).await;
    run.expect_code(0);
    assert_eq!(run.json_lines()[0]["reason"], "valid");
    // Past exp: could not check, never valid, exit 2 (and likewise past iat + ttl).
    for at in [exp, exp + 86_400, iat + claims["ttl"].as_i64().unwrap() + 1] {
        let run = verify_at(at).await;
        run.expect_code(2);
        assert_schema_valid(&run);
        let v = &run.json_lines()[0];
        assert_eq!(
            (v["verdict"].as_str(), v["reason"].as_str()),
            (Some("unknown"), Some("status_unavailable")),
            "at {at}"
        );
    }
    // A site checked against the bundle: only the site is fetched.
    let run = trustmark_cli(&["verify", &site, "--bundle", b, "--json"], &dir, &[]).await;
    run.expect_code(0);
    assert_eq!(
        summary(&run),
        vec![row("valid", "valid", &site, Some(&site))]
    );

    // status inspect URL against the registry's keys, with the revoked index.
    let list_url = revoked["status"]["uri"].as_str().unwrap().to_owned();
    let idx = revoked["status"]["idx"].as_u64().unwrap().to_string();
    let run = trustmark_cli(
        &[
            "status",
            "inspect",
            &list_url,
            "--registry",
            &base,
            "--index",
            &idx,
        ],
        &dir,
        &[],
    )
    .await;
    run.expect_code(0);
    for expected in [
        "signature: verified".to_owned(),
        format!("keys:      of the trusted registry {base}"),
        format!("index {idx}: 1 (revoked)"),
        format!("status list {list_url}"),
    ] {
        assert!(
            run.stdout.contains(&expected),
            "{expected}\n{}",
            run.context()
        );
    }
    // No registry named: the keys of the issuer the list names, and the output says so.
    let run = trustmark_cli(&["status", "inspect", &list_url, "--json"], &dir, &[]).await;
    run.expect_code(0);
    let v = &run.json_lines()[0];
    assert_eq!(v["signature"], "verified", "{}", run.context());
    assert_eq!(
        v["keys"],
        serde_json::json!({"from": "list_issuer", "issuer": base})
    );
    assert_eq!(v["sub_matches_url"], true);
    let run = trustmark_cli(&["status", "inspect", &list_url], &dir, &[]).await;
    assert!(run.stdout.contains("not that"), "{}", run.context());
    // A list file checked against the registry's published keys.
    let file = dir.join("list.jwt");
    std::fs::write(&file, list).unwrap();
    let run = trustmark_cli(
        &[
            "status",
            "inspect",
            file.to_str().unwrap(),
            "--registry",
            &base,
        ],
        &dir,
        &[],
    )
    .await;
    run.expect_code(0);
    assert!(
        run.stdout.contains("signature: verified"),
        "{}",
        run.context()
    );
    // Other keys: the signature does not verify, exit 1.
    let jwks = root().join("testdata/vectors/jwks/registry.json");
    let run = trustmark_cli(
        &[
            "status",
            "inspect",
            &list_url,
            "--jwks",
            jwks.to_str().unwrap(),
            "--issuer",
            &base,
        ],
        &dir,
        &[],
    )
    .await;
    run.expect_code(1);
    assert!(
        run.stdout.contains("signature: INVALID"),
        "{}",
        run.context()
    );
    // A list URL that is not there: could not check.
    let run = trustmark_cli(
        &[
            "status",
            "inspect",
            &format!("{base}/statuslists/99"),
            "--registry",
            &base,
        ],
        &dir,
        &[],
    )
    .await;
    run.expect_code(2);
    assert!(run.stderr.contains("answered 404"), "{}", run.context());
}
