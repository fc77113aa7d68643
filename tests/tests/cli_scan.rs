//! `trustmark scan` end to end over real loopback sockets: the test site of
//! `testdata/sites/supplier/` served on three origins (the site, its Vietnamese version,
//! and the certification body and payment provider), over HTTP and over HTTPS with a
//! test CA made here; every measured value against the defects built in, the evidence,
//! robots.txt (its group for us, an excluded page never requested), the page cap, a
//! redirect loop, a 20 MB page, a site that never answers, robots.txt that forbids
//! everything, and the audit draft round trip through `audit sign`. Every wait is bounded.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_rustls::rustls;

mod common;
use common::{bin, root, temp_dir, wait_bounded};

const UA: &str = concat!("TrustMark-Scan/", env!("CARGO_PKG_VERSION"));
/// No scan in these tests may take longer than this.
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// Requests an origin received: (path, user agent).
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A finished `trustmark` run.
struct Run {
    args: Vec<String>,
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Run {
    fn context(&self) -> String {
        format!(
            "args: {:?}\nexit: {} after {:?}\nstdout:\n{}\nstderr:\n{}",
            self.args, self.code, self.took, self.stdout, self.stderr
        )
    }
    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "\n{}", self.context());
        self
    }
    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("{e}\n{}", self.context()))
    }
}

/// Runs `trustmark` with `args` on a blocking thread (the test's servers keep serving),
/// killed if it runs past [`RUN_LIMIT`]; output goes through files so nothing can block.
async fn trustmark(args: &[&str], dir: &Path) -> Run {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let (out_path, err_path) = (dir.join(format!("out-{n}")), dir.join(format!("err-{n}")));
        let started = Instant::now();
        let mut child = Command::new(bin("trustmark"))
            .args(&args)
            .env("TRUSTMARK_CONFIG", dir.join("no-config.toml"))
            .env("TRUSTMARK_CACHE_DIR", dir.join("cache"))
            .env_remove("TRUSTMARK_REGISTRY")
            .env("NO_COLOR", "1")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("all_proxy")
            .env_remove("ALL_PROXY")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap())
            .spawn()
            .unwrap();
        let status = wait_bounded(&mut child, RUN_LIMIT);
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let run = Run {
            args,
            code: status.and_then(|s| s.code()).unwrap_or(-1),
            stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
            took: started.elapsed(),
        };
        assert!(
            status.is_some(),
            "trustmark ran past {RUN_LIMIT:?}\n{}",
            run.context()
        );
        run
    })
    .await
    .unwrap()
}

/// The files of one folder of the test site, with the origins filled in.
#[derive(Clone)]
struct Files {
    dir: PathBuf,
    vars: Arc<Vec<(&'static str, String)>>,
}

impl Files {
    fn answer(&self, path: &str) -> Response {
        if path.contains("..") {
            return StatusCode::NOT_FOUND.into_response();
        }
        let rel = path.trim_start_matches('/');
        let candidates = if rel.is_empty() || rel.ends_with('/') {
            vec![format!("{rel}index.html")]
        } else {
            vec![format!("{rel}.html"), rel.to_owned()]
        };
        for c in candidates {
            let file = self.dir.join(&c);
            if let Ok(mut text) = std::fs::read_to_string(&file) {
                for (name, value) in self.vars.iter() {
                    text = text.replace(name, value);
                }
                let ct = if c.ends_with(".html") {
                    "text/html; charset=utf-8"
                } else {
                    "text/plain; charset=utf-8"
                };
                return ([(header::CONTENT_TYPE, ct)], text).into_response();
            }
        }
        StatusCode::NOT_FOUND.into_response()
    }

    fn router(self) -> Router {
        Router::new().fallback(move |uri: Uri| {
            let files = self.clone();
            async move { files.answer(uri.path()) }
        })
    }
}

/// Records every request's path and user agent.
fn recorded(router: Router, seen: Seen) -> Router {
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let seen = seen.clone();
            async move {
                let ua = req
                    .headers()
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                seen.lock().unwrap().push((req.uri().path().to_owned(), ua));
                next.run(req).await
            }
        },
    ))
}

/// Serving over HTTPS: the server config and the CA's PEM (for `--ca-file`).
struct Tls {
    config: Arc<rustls::ServerConfig>,
    ca_pem: String,
}

/// A test CA and a certificate for 127.0.0.1 and localhost signed by it.
fn test_tls() -> Tls {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "TrustMark scan test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    Tls {
        config: Arc::new(config),
        ca_pem: ca_cert.pem(),
    }
}

async fn serve_connection<I>(io: I, router: Router)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper_util::service::TowerToHyperService::new(router);
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(io), service)
        .await;
}

/// Serves `router` on `listener`: plain HTTP, or with `tls` TLS on the same port, where a
/// connection that does not start a TLS handshake is answered in plain HTTP with a
/// redirect to https (a site's port 80 and 443 on one test port), and every TLS answer
/// carries a year of HSTS.
fn serve(listener: TcpListener, router: Router, tls: Option<Arc<rustls::ServerConfig>>) {
    let Some(config) = tls else {
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        return;
    };
    let router = router.layer(axum::middleware::map_response(
        |mut r: Response| async move {
            r.headers_mut().insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            );
            r
        },
    ));
    let upgrade = Router::new().fallback(|headers: HeaderMap, uri: Uri| async move {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("")
            .to_owned();
        Redirect::permanent(&format!("https://{host}{uri}"))
    });
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (router, upgrade, acceptor) = (router.clone(), upgrade.clone(), acceptor.clone());
            tokio::spawn(async move {
                let mut first = [0u8; 1];
                if !matches!(stream.peek(&mut first).await, Ok(1)) {
                    return;
                }
                if first[0] == 0x16 {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        serve_connection(tls, router).await;
                    }
                } else {
                    serve_connection(stream, upgrade).await;
                }
            });
        }
    });
}

/// The three origins of the test site, served; what each received.
struct Site {
    site: String,
    vi: String,
    prov: String,
    seen_site: Seen,
    seen_vi: Seen,
    seen_prov: Seen,
}

/// Never answers.
async fn stall() -> Response {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    StatusCode::OK.into_response()
}

async fn start_site(tls: Option<&Tls>) -> Site {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let bind = || async { TcpListener::bind("127.0.0.1:0").await.unwrap() };
    let (l_site, l_vi, l_prov) = (bind().await, bind().await, bind().await);
    let origin = |l: &TcpListener| format!("{scheme}://{}", l.local_addr().unwrap());
    let (site, vi, prov) = (origin(&l_site), origin(&l_vi), origin(&l_prov));
    let prov_port = l_prov.local_addr().unwrap().port();
    let vars = Arc::new(vec![
        ("{{SITE}}", site.clone()),
        ("{{VI}}", vi.clone()),
        ("{{PROV}}", prov.clone()),
    ]);
    let dir = root().join("testdata/sites/supplier");
    let files = |sub: &str| Files {
        dir: dir.join(sub),
        vars: vars.clone(),
    };

    // The site: a 20 MB catalogue streamed without a length, and a redirect loop.
    let site_router = Router::new()
        .route(
            "/catalogue-full",
            get(|| async {
                let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
                let body = futures_util::stream::iter(
                    (0..320).map(move |_| Ok::<_, std::convert::Infallible>(chunk.clone())),
                );
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    Body::from_stream(body),
                )
            }),
        )
        .route(
            "/old-catalogue",
            get(|| async { Redirect::temporary("/old-catalogue-2") }),
        )
        .route(
            "/old-catalogue-2",
            get(|| async { Redirect::temporary("/old-catalogue") }),
        )
        .merge(files("site").router());

    // The certification body and the payment provider.
    let flaky = Arc::new(AtomicUsize::new(0));
    let prov_files = files("providers");
    let slow_files = prov_files.clone();
    let prov_router = Router::new()
        .route("/certs/iso14001", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/certs/rohs",
            get(move || async move {
                Redirect::temporary(&format!(
                    "{scheme}://localhost:{prov_port}/certs/rohs-register"
                ))
            }),
        )
        .route(
            "/certs/ce-slow",
            get(move || {
                let files = slow_files.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    files.answer("/certs/ce")
                }
            }),
        )
        .route("/pay/ok", get(|| async { Redirect::to("/pay/done") }))
        .route(
            "/pay/fail",
            get(|| async { StatusCode::SERVICE_UNAVAILABLE }),
        )
        .route("/pay/stall", get(stall))
        .route(
            "/pay/flaky",
            get(move || {
                let n = flaky.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n.is_multiple_of(2) {
                        stall().await
                    } else {
                        Redirect::to("/pay/done").into_response()
                    }
                }
            }),
        )
        .merge(prov_files.router());

    let seen = || Arc::new(Mutex::new(Vec::new()));
    let (seen_site, seen_vi, seen_prov): (Seen, Seen, Seen) = (seen(), seen(), seen());
    let config = tls.map(|t| t.config.clone());
    serve(
        l_site,
        recorded(site_router, seen_site.clone()),
        config.clone(),
    );
    serve(
        l_vi,
        recorded(files("vi").router(), seen_vi.clone()),
        config.clone(),
    );
    serve(l_prov, recorded(prov_router, seen_prov.clone()), config);
    Site {
        site,
        vi,
        prov,
        seen_site,
        seen_vi,
        seen_prov,
    }
}

/// Checks the `--json` object against `schemas/scan-report.schema.json`.
fn assert_schema_valid(report: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/scan-report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{report:#}");
}

fn ev(url: &str, problem: &str) -> Value {
    json!({"url": url, "problem": problem})
}

/// The indicator entry of `report` for `id`.
fn entry<'a>(report: &'a Value, id: &str) -> &'a Value {
    &report["indicators"][id]
}

/// Asserts a measured entry: its value, pass and evidence exactly.
fn assert_measured(report: &Value, id: &str, value: f64, evidence: Value) {
    let e = entry(report, id);
    assert_eq!(e["measured"], true, "{id}: {e:#}");
    assert_eq!(e["value"].as_f64(), Some(value), "{id}: {e:#}");
    assert_eq!(e["evidence"], evidence, "{id}");
}

/// The values the site's defects give, which do not depend on the scheme.
fn assert_built_in_defects(r: &Value, site: &Site) {
    let (s, vi, p) = (&site.site, &site.vi, &site.prov);
    assert_eq!(r["origin"], json!(s));
    assert_eq!(r["pages"], 11, "{:#}", r["crawl"]);
    assert_eq!(r["languages"], json!(["en", "vi", "zh-Hans"]));
    assert_measured(
        r,
        "multilingual_parameter_deviation",
        28.57,
        json!([
            ev(
                &format!("{vi}/products/inverter"),
                "vi version: `power` 5 kW, en: 5000 W"
            ),
            ev(
                &format!("{vi}/products/panel"),
                "vi version: `thickness` 35 µm, en: 18 µm"
            ),
        ]),
    );
    assert_measured(
        r,
        "multilingual_metadata_consistency",
        81.82,
        json!([
            ev(&format!("{s}/about"), "no <meta name=\"description\">"),
            ev(
                &format!("{s}/zh/products/inverter"),
                "<html lang> \"zh\" but hreflang \"zh-Hans\""
            ),
        ]),
    );
    assert_measured(
        r,
        "certificate_chain_validity",
        40.0,
        json!([
            ev(
                &format!("{p}/certs/fda"),
                "certificate FDA: the verification page does not show FDA-777"
            ),
            ev(
                &format!("{p}/certs/iso14001"),
                "certificate ISO 14001 link answers 404"
            ),
            ev(
                &format!("{p}/certs/rohs"),
                "certificate RoHS link ends on localhost, not on the issuer's host 127.0.0.1"
            ),
        ]),
    );
    // The CE page answers after 1.5 s on every try: p95 is at least that.
    let time = entry(r, "certificate_link_response_time");
    let v = time["value"].as_f64().unwrap();
    assert!((1.5..5.0).contains(&v), "{time:#}");
    assert_eq!(time["pass"], false);
    let evidence = time["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 1, "{time:#}");
    assert_eq!(evidence[0]["url"], json!(format!("{p}/certs/ce-slow")));
    let problem = evidence[0]["problem"].as_str().unwrap();
    assert!(
        problem.starts_with("certificate CE link took 1.")
            && problem.ends_with(" s (slowest of 3 tries)"),
        "{problem}"
    );
    assert_measured(
        r,
        "local_payment_redirect_success",
        33.33,
        json!([
            ev(&format!("{p}/pay/fail"), "payment link answers 503"),
            ev(
                &format!("{p}/pay/flaky"),
                "payment link timed out 2 of 3 tries"
            ),
            ev(
                &format!("{p}/pay/stall"),
                "payment link timed out 3 of 3 tries"
            ),
        ]),
    );
    assert_measured(
        r,
        "local_payment_redirect_timeouts",
        416.7,
        json!([
            ev(
                &format!("{p}/pay/flaky"),
                "payment link timed out 2 of 3 tries"
            ),
            ev(
                &format!("{p}/pay/stall"),
                "payment link timed out 3 of 3 tries"
            ),
        ]),
    );
    assert_measured(
        r,
        "data_protection_notice",
        66.67,
        json!([ev(&format!("{vi}/"), "no rel=\"privacy-policy\" link")]),
    );
    for id in [
        "product_parameter_authenticity",
        "business_identity_match",
        "contact_reachability",
        "site_availability",
    ] {
        let e = entry(r, id);
        assert_eq!(e["measured"], false, "{id}");
        assert!(
            e["why"].as_str().unwrap().starts_with("needs "),
            "{id}: {e}"
        );
    }
    for (id, e) in r["indicators"].as_object().unwrap() {
        if e["measured"] == true {
            let threshold = trustmark_core::Catalogue::rcep_b2b_web_1()
                .unwrap()
                .indicators
                .into_iter()
                .find(|i| &i.id == id)
                .unwrap()
                .threshold;
            assert_eq!(e["threshold"].as_f64(), Some(threshold), "{id}");
        }
    }

    // The crawl: robots.txt first, the excluded page never asked for, the 20 MB page
    // refused, the loop caught; every request with our user agent.
    let crawl = &r["crawl"];
    assert_eq!(
        crawl["excluded_by_robots"],
        json!([format!("{s}/private/price-list")])
    );
    assert_eq!(
        crawl["failed"],
        json!([
            ev(
                &format!("{s}/catalogue-full"),
                "larger than 5 MiB; not read"
            ),
            ev(&format!("{s}/old-catalogue"), "redirect loop"),
        ])
    );
    assert_eq!(crawl["origins"], json!([s, vi]));
    assert_eq!(crawl["unvisited"], 0);
    let site_seen = site.seen_site.lock().unwrap().clone();
    assert_eq!(
        site_seen.first().map(|(p, _)| p.as_str()),
        Some("/robots.txt")
    );
    assert!(
        !site_seen.iter().any(|(p, _)| p.starts_with("/private/")),
        "{site_seen:?}"
    );
    let vi_seen = site.seen_vi.lock().unwrap().clone();
    assert_eq!(
        vi_seen.first().map(|(p, _)| p.as_str()),
        Some("/robots.txt")
    );
    for (path, ua) in site_seen
        .iter()
        .chain(&vi_seen)
        .chain(site.seen_prov.lock().unwrap().iter())
    {
        assert_eq!(ua, UA, "{path}");
    }
}

/// The summary: every measured indicator fails, and the projected score is the one the
/// core catalogue gives for these values.
fn assert_summary(r: &Value) {
    let catalogue = trustmark_core::Catalogue::rcep_b2b_web_1().unwrap();
    let values: BTreeMap<String, f64> = r["indicators"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, e)| e["measured"] == true)
        .map(|(id, e)| (id.clone(), e["value"].as_f64().unwrap()))
        .collect();
    let (low, high) = catalogue.projected(&values).unwrap();
    let failing: Vec<&str> = catalogue
        .indicators
        .iter()
        .filter(|i| values.get(&i.id).is_some_and(|v| !i.passes(*v)))
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(
        r["summary"],
        json!({"measured": 8, "failing": failing.len(), "failing_ids": failing, "score": {"low": low, "high": high}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_site_every_measured_value_and_the_audit_draft() {
    let dir = temp_dir("scan-http");
    let site = start_site(None).await;
    let draft = dir.join("draft.json");
    let start = format!("{}/", site.site);
    let run = trustmark(
        &[
            "scan",
            &start,
            "--tries",
            "3",
            "--timeout",
            "3",
            "--concurrency",
            "8",
            "--json",
            "--audit-draft",
            draft.to_str().unwrap(),
        ],
        &dir,
    )
    .await;
    run.expect_code(1);
    let r = run.json();
    assert_schema_valid(&r);
    assert_built_in_defects(&r, &site);
    assert_measured(
        &r,
        "tls_configuration",
        0.0,
        json!([ev(&start, "the site is served over http, not https")]),
    );
    assert_eq!(r["summary"]["failing"], 8);
    assert_summary(&r);

    // The draft: measured values filled in, the organisation from the site's JSON-LD,
    // null for what an auditor measures; `audit sign` refuses it naming each null.
    let text = std::fs::read_to_string(&draft).unwrap();
    let mut d: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(d["site"], json!(site.site));
    assert_eq!(
        d["organisation"],
        json!({"name": "Mekong Solar Manufacturing Co., Ltd.", "country": "VN", "registration": "0312345678"})
    );
    assert_eq!(d["languages"], json!(["en", "vi", "zh-Hans"]));
    for (id, e) in r["indicators"].as_object().unwrap() {
        let want = if e["measured"] == true {
            e["value"].clone()
        } else {
            Value::Null
        };
        assert_eq!(d["indicators"][id], want, "{id}");
    }
    let key = dir.join("auditor.jwk");
    run_ok(&["keygen", "-o", key.to_str().unwrap()], &dir).await;
    let sign = [
        "audit",
        "sign",
        "--key",
        key.to_str().unwrap(),
        "--auditor",
        "lab",
        draft.to_str().unwrap(),
    ];
    let refused = trustmark(&sign, &dir).await;
    refused.expect_code(2);
    assert_eq!(refused.stdout, "", "{}", refused.context());
    for id in [
        "product_parameter_authenticity",
        "business_identity_match",
        "contact_reachability",
        "site_availability",
    ] {
        assert!(
            refused.stderr.contains(&format!("/indicators/{id}:")),
            "{id}\n{}",
            refused.context()
        );
    }
    assert!(
        refused.stderr.contains("hint: fill in each value"),
        "{}",
        refused.context()
    );
    assert!(
        !refused.stderr.contains("/indicators/tls_configuration"),
        "{}",
        refused.context()
    );

    // Filled in, it signs (with a warning for each failing indicator).
    for (id, v) in [
        ("product_parameter_authenticity", 99.0),
        ("business_identity_match", 1.0),
        ("contact_reachability", 95.0),
        ("site_availability", 99.9),
    ] {
        d["indicators"][id] = json!(v);
    }
    std::fs::write(&draft, serde_json::to_string_pretty(&d).unwrap()).unwrap();
    let signed = trustmark(&sign, &dir).await;
    signed.expect_code(0);
    assert_eq!(
        signed.stdout.trim().split('.').count(),
        3,
        "{}",
        signed.context()
    );
    assert!(
        signed
            .stderr
            .contains("warning: the registry will refuse this audit"),
        "{}",
        signed.context()
    );
}

async fn run_ok(args: &[&str], dir: &Path) -> Run {
    let run = trustmark(args, dir).await;
    run.expect_code(0);
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_site_with_a_test_ca() {
    let dir = temp_dir("scan-https");
    let tls = test_tls();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &tls.ca_pem).unwrap();
    let site = start_site(Some(&tls)).await;
    let start = format!("{}/", site.site);

    // Without the test CA the certificate does not verify: nothing is scanned.
    let untrusted = trustmark(&["scan", &start, "--timeout", "3"], &dir).await;
    untrusted.expect_code(2);
    assert!(
        untrusted.stderr.contains("the certificate does not verify")
            && untrusted.stderr.contains("hint:"),
        "{}",
        untrusted.context()
    );

    let run = trustmark(
        &[
            "scan",
            &start,
            "--tries",
            "3",
            "--timeout",
            "3",
            "--ca-file",
            ca.to_str().unwrap(),
            "--json",
        ],
        &dir,
    )
    .await;
    run.expect_code(1);
    let r = run.json();
    assert_schema_valid(&r);
    assert_built_in_defects(&r, &site);
    // https everywhere, a year of HSTS on every page, http redirected to https.
    assert_measured(&r, "tls_configuration", 1.0, json!([]));
    assert_eq!(entry(&r, "tls_configuration")["pass"], true);
    assert_eq!(r["summary"]["failing"], 7);
    assert_summary(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_output_and_the_page_cap() {
    let dir = temp_dir("scan-cap");
    let site = start_site(None).await;
    let start = format!("{}/", site.site);
    // Three pages: the start page and its two language versions come first.
    let run = trustmark(
        &[
            "scan",
            &start,
            "--max-pages",
            "3",
            "--tries",
            "1",
            "--timeout",
            "1",
        ],
        &dir,
    )
    .await;
    run.expect_code(1);
    let out = &run.stdout;
    let first = out.lines().nth(1).unwrap();
    assert!(
        first.starts_with("3 pages read, 3 language versions (en, vi, zh-Hans); ")
            && first.contains("left unvisited by --max-pages"),
        "{}",
        run.context()
    );
    for line in [
        "indicator                                 value     threshold  result",
        "Multilingual metadata consistency         100 %        ≥ 95 %  PASS",
        "Product parameter authenticity                —        ≥ 98 %  not measured",
        "TLS configuration                             0           = 1  FAIL",
        "Data protection notice                  66.67 %       = 100 %  FAIL",
        "  Data protection notice (fails):",
        "Not measured",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "no line {line:?}\n{}",
            run.context()
        );
    }
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with("5 of 7 measured indicators fail; projected overall score "),
        "{}",
        run.context()
    );
    // Only the three pages were fetched from the site's origins (and robots.txt).
    let pages: Vec<String> = site
        .seen_site
        .lock()
        .unwrap()
        .iter()
        .chain(site.seen_vi.lock().unwrap().iter())
        .map(|(p, _)| p.clone())
        .filter(|p| p != "/robots.txt" && p != "/privacy")
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_never_answers_is_given_up_on_within_the_timeout() {
    let dir = temp_dir("scan-silent");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let start = format!("http://{}/", listener.local_addr().unwrap());
    // Accepts connections and keeps them open without a word.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let run = trustmark(&["scan", &start, "--timeout", "1"], &dir).await;
    run.expect_code(2);
    assert!(run.took < Duration::from_secs(10), "{}", run.context());
    assert!(
        run.stderr.contains("error: the site could not be reached:")
            && run.stderr.contains("robots.txt: no answer within 1 s"),
        "{}",
        run.context()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_txt_that_forbids_everything_or_fails_stops_the_scan() {
    let dir = temp_dir("scan-robots");
    for (robots, words) in [
        (Some("User-agent: *\nDisallow: /\n"), "robots.txt disallows"),
        (
            None,
            "answers 503, which RFC 9309 reads as \"disallow everything\"",
        ),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let start = format!("http://{}/", listener.local_addr().unwrap());
        let seen: Seen = Arc::new(Mutex::new(Vec::new()));
        let router = Router::new()
            .route(
                "/robots.txt",
                get(move || async move {
                    match robots {
                        Some(text) => text.into_response(),
                        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
                    }
                }),
            )
            .fallback(|| async { ([(header::CONTENT_TYPE, "text/html")], "<title>x</title>") });
        serve(listener, recorded(router, seen.clone()), None);
        let run = trustmark(&["scan", &start, "--timeout", "3"], &dir).await;
        run.expect_code(2);
        assert!(run.stderr.contains(words), "{}", run.context());
        let paths: Vec<String> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|(p, _)| p.clone())
            .collect();
        assert_eq!(paths, ["/robots.txt"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_redirects_are_followed_a_sixth_is_one_too_many_and_the_site_is_where_the_start_lands()
{
    let dir = temp_dir("scan-redirects");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    // /r/N redirects to /r/N-1; /r/0 is the page.
    let router = Router::new()
        .route(
            "/r/{n}",
            get(
                |axum::extract::Path(n): axum::extract::Path<u32>| async move {
                    if n == 0 {
                        (
                        [(header::CONTENT_TYPE, "text/html")],
                        "<html lang=en><title>Home</title><meta name=description content=d></html>",
                    )
                        .into_response()
                    } else {
                        Redirect::temporary(&format!("/r/{}", n - 1)).into_response()
                    }
                },
            ),
        )
        .route("/robots.txt", get(|| async { StatusCode::NOT_FOUND }));
    serve(listener, router, None);
    let five = trustmark(
        &["scan", &format!("{origin}/r/5"), "--timeout", "3", "--json"],
        &dir,
    )
    .await;
    five.expect_code(1);
    assert_eq!(five.json()["pages"], 1, "{}", five.context());
    // A start page that redirects to another origin (a bare domain to its www. site):
    // the site scanned is where it lands.
    let bare = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_origin = format!("http://{}", bare.local_addr().unwrap());
    let target = format!("{origin}/r/0");
    serve(
        bare,
        Router::new()
            .route(
                "/",
                get(move || async move { Redirect::permanent(&target) }),
            )
            .route("/robots.txt", get(|| async { StatusCode::NOT_FOUND })),
        None,
    );
    let moved = trustmark(&["scan", &bare_origin, "--timeout", "3", "--json"], &dir).await;
    moved.expect_code(1);
    let r = moved.json();
    assert_eq!(
        (r["origin"].as_str(), r["pages"].as_u64()),
        (Some(origin.as_str()), Some(1)),
        "{}",
        moved.context()
    );
    assert_eq!(r["crawl"]["start"], json!(format!("{origin}/r/0")));
    let six = trustmark(&["scan", &format!("{origin}/r/6"), "--timeout", "3"], &dir).await;
    six.expect_code(2);
    assert!(
        six.stderr.contains("too many redirects"),
        "{}",
        six.context()
    );
}
