//! Helpers shared by the end-to-end tests that run the built binaries.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether this run is the PostgreSQL pass (`TRUSTMARK_TEST_STORE=postgres`, set by
/// `scripts/test-all` with the cluster in `TRUSTMARK_TEST_PG`): every registry the
/// helpers start, and every operator command they run, then use a database standing in
/// for the test's data directory instead of the directory itself.
pub fn on_postgres() -> bool {
    std::env::var("TRUSTMARK_TEST_STORE").is_ok_and(|s| s == "postgres")
}

/// The throwaway cluster's URL (`postgres://user@127.0.0.1:port/postgres`).
pub fn pg_cluster() -> String {
    std::env::var("TRUSTMARK_TEST_PG").expect(
        "the PostgreSQL pass needs TRUSTMARK_TEST_PG (scripts/pg-test-cluster start DIR prints it)",
    )
}

/// The cluster URL with another database name.
pub fn pg_database_url(name: &str) -> String {
    let cluster = pg_cluster();
    let base = cluster
        .rsplit_once('/')
        .map_or(cluster.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

/// Runs `f` on a runtime of its own, on a thread of its own: usable from sync helpers
/// called inside a test's runtime.
pub fn block_on<T: Send>(f: impl std::future::Future<Output = T> + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(f)
        })
        .join()
        .unwrap()
    })
}

/// Creates (dropping any leftover of that name) an empty database `name` on the cluster.
pub fn create_database(name: &str) {
    block_on(async {
        let (client, conn) = tokio_postgres::connect(&pg_cluster(), tokio_postgres::NoTls)
            .await
            .expect("cannot connect to the test cluster (TRUSTMARK_TEST_PG)");
        tokio::spawn(conn);
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
    });
}

/// The PostgreSQL URL standing in for data directory `data` in the PostgreSQL pass: a
/// database named after the path, created empty the first time this process asks.
pub fn pg_url(data: &Path) -> String {
    use std::hash::{Hash, Hasher};
    static CREATED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut h);
    let name = format!("tm_{:016x}", h.finish());
    let mut created = CREATED.lock().unwrap_or_else(|e| e.into_inner());
    if !created.contains(&name) {
        create_database(&name);
        created.push(name.clone());
    }
    pg_database_url(&name)
}

/// The store for data directory `data` in this pass: `None` (embedded) or PostgreSQL.
pub fn store_for(data: &Path) -> Option<trustmark_registry::storage::spec::PgOptions> {
    on_postgres()
        .then(|| trustmark_registry::storage::spec::PgOptions::parse(&pg_url(data), None).unwrap())
}

/// Runs `commands` as one batch dated `at` with the registry's state for `data` opened
/// directly (no server running), in this pass's store; `issuer` is what a later `serve`
/// replaces with its own.
pub fn execute_offline(
    data: &Path,
    issuer: &str,
    commands: Vec<trustmark_registry::engine::Command>,
    at: i64,
) -> Vec<Result<trustmark_registry::engine::Done, trustmark_registry::engine::CommandError>> {
    match store_for(data) {
        None => {
            let mut engine =
                trustmark_registry::engine::Engine::open(data, issuer, now(), false).unwrap();
            let out = engine.execute(commands, at);
            engine.flush();
            out
        }
        Some(options) => block_on(async {
            use trustmark_registry::storage::Storage;
            let storage = trustmark_registry::storage::pg::PgStorage::open(&options, issuer)
                .await
                .unwrap();
            let out = storage.execute_at(commands, at).await;
            storage.shutdown().await;
            out
        }),
    }
}

/// Runs an operator command on `data`'s state in this pass's store, as
/// `trustmark-registry … --data DIR` (or `--store URL`) would.
pub fn operator(
    data: &Path,
    op: trustmark_registry::admin::Op,
) -> Result<Vec<String>, trustmark_registry::admin::AdminError> {
    match store_for(data) {
        None => trustmark_registry::admin::run(data, op),
        Some(options) => trustmark_registry::admin::run_postgres(&options, op),
    }
}

/// The registry's evidence log signing key, from its data directory or (PostgreSQL
/// pass) its database: for tests that forge what only the log key could sign.
pub fn registry_log_key(data: &Path) -> trustmark_core::sign::SigningKey {
    let text = if on_postgres() {
        let url = pg_url(data);
        block_on(async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            let row = client
                .query_one("SELECT private_jwk FROM keys WHERE use = 'log'", &[])
                .await
                .unwrap();
            row.get::<_, String>(0).into_bytes()
        })
    } else {
        std::fs::read(data.join("keys/log.jwk")).unwrap()
    };
    trustmark_core::sign::SigningKey::from_jwk_json(&text).unwrap()
}

/// Unix seconds now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A binary of this workspace build (`scripts/test-all` builds them before testing).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(
        bin.exists(),
        "{} missing: build the workspace binaries first (cargo build --workspace --bins)",
        bin.display()
    );
    bin
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `trustmark-registry serve` on `port` with `data` (in the PostgreSQL pass, with
/// the database standing in for it).
pub fn spawn_registry(data: &Path, port: u16) -> Child {
    let mut args: Vec<String> = [
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--data",
        data.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    if on_postgres() {
        args.extend(["--store".into(), pg_url(data)]);
    }
    Command::new(bin("trustmark-registry"))
        .args(&args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until `base/healthz` answers (20 s at most).
pub async fn wait_healthy(base: &str) {
    assert!(
        answers(base, Duration::from_secs(20)).await,
        "no registry answered at {base}"
    );
}

/// Whether `base/healthz` answers within `limit`.
pub async fn answers(base: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A statement from auditor `iss` for `https://supplier.example`, every indicator at the
/// value `value_of` picks (e.g. its best value), dated now; adjust fields as needed.
pub fn audit_claims(
    iss: &str,
    jti: &str,
    value_of: impl Fn(&trustmark_core::catalogue::Indicator) -> f64,
) -> trustmark_core::AuditStatementClaims {
    use trustmark_core::claims::{IndicatorValue, Org, SCHEME};
    let indicators = trustmark_core::Catalogue::rcep_b2b_web_1()
        .unwrap()
        .indicators
        .iter()
        .map(|i| (i.id.clone(), IndicatorValue { value: value_of(i) }))
        .collect();
    trustmark_core::AuditStatementClaims {
        iss: iss.into(),
        iat: now(),
        jti: jti.into(),
        sub: "https://supplier.example".into(),
        aliases: vec![],
        org: Org {
            name: "Example Co.".into(),
            country: "VN".into(),
            reg: None,
        },
        scheme: SCHEME.into(),
        audited_at: now(),
        valid_days: 30,
        indicators,
        report_uri: None,
        languages: None,
    }
}

/// POSTs a signed audit statement; returns the status and the JSON body.
pub async fn post_statement(
    base: &str,
    statement: String,
) -> (reqwest::StatusCode, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/badges"))
        .header("content-type", "application/trustmark-audit+jwt")
        .body(statement)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or_default())
}

/// Accredits auditors (id, name, key) and then suspends some, through the operator path
/// (the data directory opened directly, no server running). `issuer` is what a later
/// `serve` on this directory will replace with its own.
pub fn accredit(
    data: &Path,
    issuer: &str,
    auditors: &[(&str, &str, &trustmark_core::sign::SigningKey)],
    suspended: &[&str],
) {
    use trustmark_registry::engine::Command;
    let adds = auditors.iter().map(|(id, name, key)| Command::AddAuditor {
        id: (*id).into(),
        name: (*name).into(),
        jwk: key
            .public()
            .with_use(trustmark_core::KeyUse::Audit)
            .to_jwk_value(),
    });
    let suspensions = suspended
        .iter()
        .map(|id| Command::SuspendAuditor { id: (*id).into() });
    for result in execute_offline(data, issuer, adds.chain(suspensions).collect(), now()) {
        result.unwrap();
    }
}

/// GETs `url` and parses the JSON body.
pub async fn get_json(url: &str) -> serde_json::Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fresh, empty directory for test `name` under the system temp directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tm-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts the registry in-process on an ephemeral loopback port, over `data`, with
/// `limits`; the issuer is `public_url`, else the bound address.
pub async fn start_in_process(
    data: &Path,
    public_url: Option<&str>,
    limits: trustmark_registry::Limits,
) -> trustmark_registry::Running {
    trustmark_registry::start(trustmark_registry::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data: data.to_owned(),
        store: store_for(data),
        public_url: public_url.map(str::to_owned),
        demo: false,
        limits,
    })
    .await
    .unwrap()
}

/// Starts the registry in-process on an ephemeral loopback port with default limits.
pub async fn serve(data: &Path, demo: bool) -> trustmark_registry::Running {
    trustmark_registry::start(trustmark_registry::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data: data.to_path_buf(),
        // Demo mode runs on the embedded store only.
        store: if demo { None } else { store_for(data) },
        public_url: None,
        demo,
        limits: trustmark_registry::Limits::default(),
    })
    .await
    .unwrap()
}

/// Issues a badge for `https://supplier.example` (every indicator at its best value)
/// from accredited auditor `iss`; returns the badge token.
pub async fn issue_badge(
    base: &str,
    iss: &str,
    key: &trustmark_core::sign::SigningKey,
    jti: &str,
) -> String {
    issue_badge_for(base, iss, key, jti, "https://supplier.example").await["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Issues a badge for `origin` (every indicator at its best value) from accredited
/// auditor `iss`; returns the registry's answer (`id`, `token`, `status`, …).
pub async fn issue_badge_for(
    base: &str,
    iss: &str,
    key: &trustmark_core::sign::SigningKey,
    jti: &str,
    origin: &str,
) -> serde_json::Value {
    let mut claims = audit_claims(iss, jti, |i| i.best);
    claims.sub = origin.into();
    let statement = trustmark_core::sign::sign_audit_statement(&claims, key).unwrap();
    let (status, body) = post_statement(base, statement).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    body
}

/// The value of an unlabelled counter on `base/metrics`. Asks again while the registry
/// answers 408, for tests that run it with a tiny request timeout.
pub async fn metric(base: &str, name: &str) -> u64 {
    for _ in 0..100 {
        let r = reqwest::get(format!("{base}/metrics")).await.unwrap();
        if r.status() == reqwest::StatusCode::REQUEST_TIMEOUT {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let text = r.text().await.unwrap();
        return text
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
            .parse()
            .unwrap();
    }
    panic!("/metrics kept timing out");
}

/// Issues a badge through the engine with the clock at `at` (the data directory opened
/// directly, no server running), e.g. to make a badge that has already expired.
/// Returns the badge id.
pub fn issue_offline(
    data: &Path,
    issuer: &str,
    claims: &trustmark_core::AuditStatementClaims,
    key: &trustmark_core::sign::SigningKey,
    at: i64,
) -> String {
    use trustmark_registry::engine::{Command, Done};
    let evaluation = trustmark_core::Catalogue::rcep_b2b_web_1()
        .unwrap()
        .evaluate(&claims.values())
        .unwrap();
    let statement = trustmark_core::sign::sign_audit_statement(claims, key).unwrap();
    let command = Command::Issue {
        statement,
        claims: Box::new(claims.clone()),
        evaluation,
    };
    let done = execute_offline(data, issuer, vec![command], at)
        .pop()
        .unwrap()
        .unwrap();
    match done {
        Done::Issued { id, .. } => id,
        other => panic!("not an issuance: {other:?}"),
    }
}

/// Signs a status change request of auditor `iss` for `badge`.
pub fn status_change(
    iss: &str,
    key: &trustmark_core::sign::SigningKey,
    jti: &str,
    badge: &str,
    action: trustmark_core::claims::Action,
) -> String {
    let claims = trustmark_core::StatusChangeClaims {
        iss: iss.into(),
        iat: now(),
        jti: jti.into(),
        badge: badge.into(),
        action,
        reason: "e2e".into(),
    };
    trustmark_core::sign::sign_status_change(&claims, key).unwrap()
}

/// POSTs a signed status change request; returns the status and the JSON body.
pub async fn post_status_change(
    base: &str,
    badge: &str,
    request: String,
) -> (reqwest::StatusCode, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/badges/{badge}/status"))
        .header("content-type", "application/trustmark-status+jwt")
        .body(request)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or_default())
}

/// A response read whole: status, the headers tests look at, and the body as text.
pub struct Page {
    pub status: u16,
    pub content_type: String,
    pub language: String,
    pub body: String,
}

/// GETs `url`, optionally with an Accept-Language.
pub async fn get_page(url: &str, accept_language: Option<&str>) -> Page {
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

/// The text a browser shows for `html` (enough entity decoding for these checks).
pub fn html_text(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// A registry on a fresh data directory `name` with `auditors` (id, name, key) accredited,
/// serving on an ephemeral loopback port. Returns it, its data directory and base URL.
pub async fn registry_with(
    name: &str,
    auditors: &[(&str, &str, &trustmark_core::sign::SigningKey)],
) -> (trustmark_registry::Running, PathBuf, String) {
    let data = temp_dir(name);
    accredit(&data, "http://127.0.0.1:9", auditors, &[]);
    let running = serve(&data, false).await;
    let base = format!("http://{}", running.addr);
    (running, data, base)
}

/// Stops a registry process the way an init system does (SIGTERM) and waits for it,
/// 30 s at most: a registry that does not stop is killed and the test fails, rather
/// than the suite hanging.
pub fn stop(mut child: Child) {
    signal(child.id(), "TERM");
    if wait_bounded(&mut child, Duration::from_secs(30)).is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "the registry (pid {}) did not stop within 30 s of SIGTERM",
            child.id()
        );
    }
}

/// Sends signal `name` (e.g. `TERM`, `KILL`) to process `pid`.
pub fn signal(pid: u32, name: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("kill(1) must be installed (Debian package procps)");
    assert!(sent.success(), "kill -{name} {pid} failed");
}

/// Waits for `child` to exit, `limit` at most; `None` if it is still running.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// POSTs `body` as `media` to `base` + `path`; returns the status, the JSON body (null if
/// none) and the response's content type.
pub async fn post(
    base: &str,
    path: &str,
    media: &str,
    body: String,
) -> (reqwest::StatusCode, serde_json::Value, String) {
    let r = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", media)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        ct,
    )
}

/// The body of a GET that must answer 200.
pub async fn get_text(url: &str) -> String {
    let r = reqwest::get(url).await.unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    r.text().await.unwrap()
}

/// A finished run of one of the workspace's binaries.
pub struct Run {
    pub args: Vec<String>,
    pub out: std::process::Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    /// Everything needed to understand a failure without rerunning it.
    pub fn context(&self) -> String {
        format!(
            "args: {:?}\nexit: {}\nstdout:\n{}\nstderr:\n{}",
            self.args,
            self.code(),
            self.stdout(),
            self.stderr()
        )
    }
    /// Asserts the exit code, showing the whole run when it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), code, "\n{}", self.context());
        self
    }
    /// Asserts that standard error holds `text`.
    pub fn expect_stderr(&self, text: &str) -> &Self {
        assert!(
            self.stderr().contains(text),
            "stderr lacks {text:?}\n{}",
            self.context()
        );
        self
    }
    /// Standard output parsed as one JSON value.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout().trim())
            .unwrap_or_else(|e| panic!("{e}\n{}", self.context()))
    }
}

/// Runs binary `name` of this workspace build with `args` (standard input empty). The
/// environment's default registry and config file are cleared so only the flags count.
/// In the PostgreSQL pass, a registry operator command given `--data DIR` also gets the
/// `--store` standing in for that directory.
pub fn run_bin(name: &str, args: &[&str]) -> Run {
    let mut argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let operator = name == "trustmark-registry" && args.first().is_some_and(|a| *a != "serve");
    if on_postgres() && operator {
        if let Some(i) = args.iter().position(|a| *a == "--data") {
            if let Some(dir) = args.get(i + 1) {
                argv.extend(["--store".into(), pg_url(Path::new(dir))]);
            }
        }
    }
    let out = Command::new(bin(name))
        .args(&argv)
        .env_remove("TRUSTMARK_REGISTRY")
        .env("TRUSTMARK_CONFIG", "/nonexistent/trustmark-config.toml")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        out,
    }
}

/// Sleeps into the next wall-clock second, so a request signed now is strictly newer
/// than a change made before the call (status changes compare whole seconds).
pub async fn next_second() {
    let ms = chrono::Utc::now().timestamp_subsec_millis();
    tokio::time::sleep(Duration::from_millis(u64::from(1000 - ms.min(999)) + 20)).await;
}

/// Verifies `token` for `origin` with the `trustmark` binary, offline, against what the
/// registry at `base` serves right now (its JWKS and every status list, fetched over
/// HTTP into `dir`). Returns the run; its `--json` object says the verdict.
pub async fn verify_with_served(base: &str, token: &str, origin: &str, dir: &Path) -> Run {
    let jwks = dir.join("served-jwks.json");
    std::fs::write(
        &jwks,
        get_text(&format!("{base}/.well-known/jwks.json")).await,
    )
    .unwrap();
    let badge = dir.join("served-badge.jwt");
    std::fs::write(&badge, token).unwrap();
    let badge_arg = format!("@{}", badge.display());
    let mut args: Vec<String> = [
        "verify",
        &badge_arg,
        "--jwks",
        jwks.to_str().unwrap(),
        "--issuer",
        base,
        "--origin",
        origin,
        "--json",
    ]
    .map(String::from)
    .to_vec();
    let lists = get_json(&format!("{base}/statuslists")).await;
    for (i, url) in lists["status_lists"].as_array().unwrap().iter().enumerate() {
        let file = dir.join(format!("served-list-{i}.jwt"));
        std::fs::write(&file, get_text(url.as_str().unwrap()).await).unwrap();
        args.extend(["--status-list".into(), file.to_str().unwrap().into()]);
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    run_bin("trustmark", &argv)
}

/// A `trustmark-registry serve` process on a loopback port, stopped (SIGTERM) when
/// dropped, so a failing test does not leave it running.
pub struct RegistryProcess {
    child: Option<Child>,
    /// Its base URL, which is also its issuer.
    pub base: String,
    /// Its data directory.
    pub data: PathBuf,
}

impl Drop for RegistryProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            stop(child);
        }
    }
}

/// Starts the registry binary on a fresh data directory `name` with `auditors` (id,
/// name, key) accredited, and waits until it answers.
pub async fn registry_process(
    name: &str,
    auditors: &[(&str, &str, &trustmark_core::sign::SigningKey)],
) -> RegistryProcess {
    let data = temp_dir(name).join("data");
    std::fs::create_dir_all(&data).unwrap();
    accredit(&data, "http://127.0.0.1:9", auditors, &[]);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let process = RegistryProcess {
        child: Some(spawn_registry(&data, port)),
        base,
        data,
    };
    wait_healthy(&process.base).await;
    process
}

/// A finished run of the `trustmark` binary, with everything needed to understand a
/// failure without rerunning it.
pub struct CliRun {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    /// Args, exit code and both streams, for assertion messages.
    pub fn context(&self) -> String {
        format!(
            "args: {:?}\nexit: {}\nstdout:\n{}\nstderr:\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    /// Asserts the exit code.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "\n{}", self.context());
        self
    }

    /// Standard output as one JSON value per line.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{}", self.context()))
            })
            .collect()
    }
}

/// Runs `trustmark` with `args` in a hermetic environment: cache in `cache` (the log
/// state in `cache/state`), no
/// default registry from the environment or a config file, no proxy. Runs on a
/// blocking thread so servers in the test's runtime keep answering meanwhile.
pub async fn trustmark_cli(args: &[&str], cache: &Path, env: &[(&str, &str)]) -> CliRun {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let cache = cache.to_owned();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(bin("trustmark"));
        command
            .args(&args)
            .env("TRUSTMARK_CACHE_DIR", &cache)
            .env("TRUSTMARK_STATE_DIR", cache.join("state"))
            .env(
                "TRUSTMARK_CONFIG",
                std::env::temp_dir()
                    .join(format!("tm-e2e-no-config-{}", std::process::id()))
                    .join("config.toml"),
            )
            .env_remove("TRUSTMARK_REGISTRY")
            .env("NO_COLOR", "1");
        for var in [
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
        ] {
            command.env_remove(var);
        }
        for (k, v) in env {
            command.env(k, v);
        }
        let out = command.output().unwrap();
        CliRun {
            args,
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}

/// A listener on an ephemeral loopback port and the origin it serves.
pub async fn bind_loopback() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    (listener, origin)
}

/// Serves `router` on `listener` in the background, for as long as the test runs.
pub fn serve_router(listener: tokio::net::TcpListener, router: axum::Router) {
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}

/// A fresh, empty database `name` on the test cluster (the PostgreSQL tests need
/// `TRUSTMARK_TEST_PG`, which `scripts/test-all` sets); returns its URL.
pub fn pg_fresh(name: &str) -> String {
    let name = format!("tm_{}_{}", name.replace('-', "_"), std::process::id());
    create_database(&name);
    pg_database_url(&name)
}

/// Opens the PostgreSQL store at `url` as issuer `issuer` and accredits `auditors`.
pub fn pg_accredit(
    url: &str,
    issuer: &str,
    auditors: &[(&str, &str, &trustmark_core::sign::SigningKey)],
) {
    use trustmark_registry::engine::Command;
    use trustmark_registry::storage::Storage;
    let options = trustmark_registry::storage::spec::PgOptions::parse(url, None).unwrap();
    let commands: Vec<Command> = auditors
        .iter()
        .map(|(id, name, key)| Command::AddAuditor {
            id: (*id).into(),
            name: (*name).into(),
            jwk: key
                .public()
                .with_use(trustmark_core::KeyUse::Audit)
                .to_jwk_value(),
        })
        .collect();
    block_on(async {
        let storage = trustmark_registry::storage::pg::PgStorage::open(&options, issuer)
            .await
            .unwrap();
        for r in storage.execute_at(commands, now()).await {
            r.unwrap();
        }
        storage.shutdown().await;
    });
}

/// Starts `trustmark-registry serve --store URL` on `port` with issuer `public_url`
/// (every process of one deployment shares it), logging to `log`.
pub fn spawn_pg_registry(url: &str, port: u16, public_url: &str, log: &Path) -> Child {
    let data = log.with_extension("data");
    Command::new(bin("trustmark-registry"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data",
            data.to_str().unwrap(),
            "--public-url",
            public_url,
        ])
        .env("TRUSTMARK_STORE", url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// A registry process killed (SIGKILL) when dropped, so a failing test leaves none.
pub struct Killed(pub Option<Child>);

impl Drop for Killed {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A signed statement for `https://load-<n>.example` from auditor `iss`, jti `jti`.
pub fn load_statement(iss: &str, key: &trustmark_core::sign::SigningKey, jti: &str) -> String {
    let mut claims = audit_claims(iss, jti, |i| i.best);
    claims.sub = format!("https://{jti}.example");
    trustmark_core::sign::sign_audit_statement(&claims, key).unwrap()
}

/// The size and root of a checkpoint note, checked against the log's verifier key.
pub fn open_checkpoint(note: &str, vkey: &str) -> (u64, [u8; 32]) {
    let key = trustmark_core::log::note::VerifierKey::parse(vkey).unwrap();
    let c = trustmark_core::log::checkpoint::open_checkpoint(note.as_bytes(), &key).unwrap();
    (c.size, c.root)
}

/// Checks that the checkpoint `old` is a prefix of `new` with the consistency proof the
/// registry at `base` serves.
pub async fn assert_consistent(base: &str, old: (u64, [u8; 32]), new: (u64, [u8; 32])) {
    use base64::Engine as _;
    if old.0 == 0 || old == new {
        assert!(old.0 <= new.0);
        return;
    }
    let proof = get_json(&format!(
        "{base}/log/proof/consistency?old={}&new={}",
        old.0, new.0
    ))
    .await;
    let hashes: Vec<[u8; 32]> = proof["proof"]
        .as_array()
        .unwrap_or_else(|| panic!("no proof: {proof}"))
        .iter()
        .map(|h| {
            base64::engine::general_purpose::STANDARD
                .decode(h.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect();
    trustmark_core::log::merkle::verify_consistency(old.0, new.0, &old.1, &new.1, &hashes)
        .unwrap_or_else(|e| panic!("checkpoint {} is not a prefix of {}: {e:?}", old.0, new.0));
}
