//! `trustmark-registry`: `serve`, and the operator's commands (through the running server's
//! admin socket, or on the data directory when none runs). The only place that
//! prints a fatal error or picks an exit code.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use trustmark_core::claims::Action;
use trustmark_registry::admin::{self, AdminError, Op};
use trustmark_registry::storage::spec::{PgOptions, StoreUrlError};
use trustmark_registry::{start, Config, Limits, ServeError};

/// The data directory of `serve` and the operator commands.
const DATA: &str = "./trustmark-data";
/// The data directory of `serve --demo`: never the production one, so the example
/// auditor it accredits cannot end up in a registry that serves without `--demo`.
const DEMO_DATA: &str = "./trustmark-demo-data";

/// The TrustMark registry.
#[derive(Parser)]
#[command(name = "trustmark-registry", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Args, Clone)]
struct DataArg {
    /// Data directory: keys, journal, indexes (./trustmark-demo-data for a demo registry).
    #[arg(long, env = "TRUSTMARK_DATA", default_value = DATA)]
    data: PathBuf,
    /// Run against this PostgreSQL store instead of the data directory (see serve --store).
    #[arg(
        long,
        env = "TRUSTMARK_STORE",
        hide_env_values = true,
        value_name = "URL"
    )]
    store: Option<String>,
    /// PEM file of the CA that signed the database server's certificate.
    #[arg(long, env = "TRUSTMARK_STORE_CA", value_name = "FILE")]
    store_ca: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the registry.
    Serve {
        /// A TOML config file with any of: listen, data, public_url, demo. Flags and
        /// environment variables override it.
        #[arg(long, env = "TRUSTMARK_CONFIG", value_name = "FILE")]
        config: Option<PathBuf>,
        /// Address to listen on [default: 127.0.0.1:8700].
        #[arg(long, env = "TRUSTMARK_LISTEN")]
        listen: Option<SocketAddr>,
        /// Data directory: keys, journal, indexes [default: ./trustmark-data, or
        /// ./trustmark-demo-data with --demo].
        #[arg(long, env = "TRUSTMARK_DATA")]
        data: Option<PathBuf>,
        /// Issuer URL (default http://<listen>). Every process sharing one PostgreSQL
        /// store must be given the same one.
        #[arg(long, env = "TRUSTMARK_PUBLIC_URL")]
        public_url: Option<String>,
        /// Keep the registry's state in PostgreSQL instead of --data, so several
        /// registry processes can share it: postgres://user:password@host:port/database,
        /// with ?sslmode=require for TLS (the password is never logged).
        #[arg(
            long,
            env = "TRUSTMARK_STORE",
            hide_env_values = true,
            value_name = "URL"
        )]
        store: Option<String>,
        /// PEM file of the CA that signed the database server's certificate (default:
        /// the bundled web roots), for sslmode=require.
        #[arg(long, env = "TRUSTMARK_STORE_CA", value_name = "FILE")]
        store_ca: Option<PathBuf>,
        /// Demo mode: the example auditor and a live badge for this registry's own
        /// origin, in its own data directory. Never for production: anyone can sign as
        /// the example auditor.
        #[arg(long)]
        demo: bool,
    },
    /// Manage accredited auditors.
    #[command(subcommand)]
    Auditor(AuditorCmd),
    /// Manage badges.
    #[command(subcommand)]
    Badge(BadgeCmd),
    /// Manage the registry's signing keys.
    #[command(subcommand)]
    Key(KeyCmd),
}

#[derive(Subcommand)]
enum KeyCmd {
    /// Replace the badge and status list keys; the old ones stay published with their
    /// validity window closed, so every badge they signed still verifies.
    Rotate {
        #[command(flatten)]
        data: DataArg,
    },
    /// Withdraw a compromised key (see "Key compromise" in docs/registry.md): it leaves
    /// the published key set at once, so verifiers answer unknown_key for anything it
    /// signed, and every current badge it signed is re-signed under the current key
    /// with the same id and status index. A current key is rotated out first.
    Withdraw {
        /// The key id (kid) to withdraw, as listed in /.well-known/jwks.json.
        kid: String,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum AuditorCmd {
    /// Accredit an auditor with its public key (a JWK file, e.g. from `trustmark keygen`).
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_name = "JWK_FILE")]
        key: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
    /// Suspend an auditor: it can no longer issue or change badges.
    Suspend {
        id: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// List auditors.
    List {
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
enum BadgeCmd {
    /// Revoke a badge (final).
    Revoke(ChangeArgs),
    /// Suspend a badge.
    Suspend(ChangeArgs),
    /// Reinstate a suspended badge.
    Reinstate(ChangeArgs),
    /// List badges.
    List {
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Args)]
struct ChangeArgs {
    id: String,
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    data: DataArg,
}

/// Why the command failed; the one place errors become an `error:` and a `hint:` line.
#[derive(Debug, thiserror::Error)]
enum MainError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Config {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("{} is not a usable public key: {source}", path.display())]
    Key {
        path: PathBuf,
        source: trustmark_core::KeyError,
    },
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Store(#[from] StoreUrlError),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot listen for SIGTERM: {0}")]
    Signals(std::io::Error),
}

impl MainError {
    fn hint(&self) -> Option<String> {
        match self {
            MainError::Serve(e) => e.hint(),
            MainError::Admin(e) => e.hint(),
            MainError::Key { .. } => {
                Some("pass the public JWK that `trustmark keygen` printed".into())
            }
            _ => None,
        }
    }
}

fn operator(data: &DataArg, op: Op) -> Result<(), MainError> {
    let lines = match &data.store {
        Some(url) => admin::run_postgres(&PgOptions::parse(url, data.store_ca.clone())?, op)?,
        None => admin::run(&data.data, op)?,
    };
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

/// The config file's shape (every member optional).
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data: Option<PathBuf>,
    public_url: Option<String>,
    demo: Option<bool>,
    /// A PostgreSQL URL (see `serve --store`).
    store: Option<String>,
    /// The database server's CA file.
    store_ca: Option<PathBuf>,
}

/// What `serve` was given on the command line and in the environment.
struct ServeArgs {
    file: Option<PathBuf>,
    listen: Option<SocketAddr>,
    data: Option<PathBuf>,
    public_url: Option<String>,
    demo: bool,
    store: Option<String>,
    store_ca: Option<PathBuf>,
}

/// Flags and environment (already merged by clap) over the config file over defaults.
fn resolve(args: ServeArgs) -> Result<Config, MainError> {
    let ServeArgs {
        file,
        listen,
        data,
        public_url,
        demo,
        store,
        store_ca,
    } = args;
    let from_file = match &file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| MainError::Read {
                path: path.clone(),
                source,
            })?;
            toml::from_str::<FileConfig>(&text).map_err(|source| MainError::Config {
                path: path.clone(),
                source: Box::new(source),
            })?
        }
        None => FileConfig::default(),
    };
    let demo = demo || from_file.demo.unwrap_or(false);
    let store = store
        .or(from_file.store)
        .map(|url| PgOptions::parse(&url, store_ca.or(from_file.store_ca)))
        .transpose()?;
    Ok(Config {
        store,
        listen: listen
            .or(from_file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8700))),
        data: data
            .or(from_file.data)
            .unwrap_or_else(|| PathBuf::from(if demo { DEMO_DATA } else { DATA })),
        public_url: public_url.or(from_file.public_url),
        demo,
        limits: Limits::default(),
    })
}

async fn serve(config: Config) -> Result<(), MainError> {
    let running = start(config).await?;
    eprintln!(
        "trustmark-registry listening on http://{} (issuer {})",
        running.addr, running.issuer
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(MainError::Signals)?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down: draining requests, flushing the store");
    Ok(running.stop().await?)
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colour only on a terminal, and never when NO_COLOR is set.
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none(),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Serve {
            config,
            listen,
            data,
            public_url,
            demo,
            store,
            store_ca,
        } => resolve(ServeArgs {
            file: config,
            listen,
            data,
            public_url,
            demo,
            store,
            store_ca,
        })
        .and_then(|config| {
            tokio::runtime::Runtime::new()
                .map_err(MainError::Runtime)
                .and_then(|rt| rt.block_on(serve(config)))
        }),
        Cmd::Auditor(AuditorCmd::Add {
            id,
            name,
            key,
            data,
        }) => std::fs::read(&key)
            .map_err(|source| MainError::Read {
                path: key.clone(),
                source,
            })
            .and_then(|text| {
                trustmark_core::PublicKey::from_jwk_json(&text).map_err(|source| MainError::Key {
                    path: key.clone(),
                    source,
                })
            })
            .and_then(|public| {
                let jwk = public
                    .with_use(trustmark_core::KeyUse::Audit)
                    .to_jwk_value();
                operator(&data, Op::AuditorAdd { id, name, jwk })
            }),
        Cmd::Auditor(AuditorCmd::Suspend { id, data }) => {
            operator(&data, Op::AuditorSuspend { id })
        }
        Cmd::Auditor(AuditorCmd::List { data }) => operator(&data, Op::AuditorList),
        Cmd::Badge(BadgeCmd::List { data }) => operator(&data, Op::BadgeList),
        Cmd::Key(KeyCmd::Rotate { data }) => operator(&data, Op::KeyRotate),
        Cmd::Key(KeyCmd::Withdraw { kid, data }) => operator(&data, Op::KeyWithdraw { kid }),
        Cmd::Badge(BadgeCmd::Revoke(a)) => operator(
            &a.data,
            Op::BadgeChange {
                id: a.id,
                action: Action::Revoke,
                reason: a.reason,
            },
        ),
        Cmd::Badge(BadgeCmd::Suspend(a)) => operator(
            &a.data,
            Op::BadgeChange {
                id: a.id,
                action: Action::Suspend,
                reason: a.reason,
            },
        ),
        Cmd::Badge(BadgeCmd::Reinstate(a)) => operator(
            &a.data,
            Op::BadgeChange {
                id: a.id,
                action: Action::Reinstate,
                reason: a.reason,
            },
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    // Precedence: flags and environment over the config file over defaults; the store
    // URL from the file, and its errors never showing the password.
    use super::*;

    fn args(file: Option<PathBuf>, listen: Option<SocketAddr>, demo: bool) -> ServeArgs {
        ServeArgs {
            file,
            listen,
            data: None,
            public_url: None,
            demo,
            store: None,
            store_ca: None,
        }
    }

    #[test]
    fn config_file_defaults_and_overrides() {
        let path = std::env::temp_dir().join(format!("tm-config-{}.toml", std::process::id()));
        std::fs::write(&path, "listen = \"127.0.0.1:9900\"\ndata = \"/srv/tm\"\npublic_url = \"https://registry.example\"\ndemo = true\n").unwrap();
        let c = resolve(args(Some(path.clone()), None, false)).unwrap();
        assert_eq!(
            (c.listen.port(), c.data, c.public_url.as_deref(), c.demo),
            (
                9900,
                PathBuf::from("/srv/tm"),
                Some("https://registry.example"),
                true
            )
        );
        let c = resolve(args(
            Some(path.clone()),
            Some("127.0.0.1:1234".parse().unwrap()),
            false,
        ))
        .unwrap();
        assert_eq!(c.listen.port(), 1234);
        let c = resolve(args(None, None, false)).unwrap();
        assert_eq!(
            (c.listen.port(), c.data, c.demo),
            (8700, PathBuf::from("./trustmark-data"), false)
        );
        // A demo registry never defaults to the production data directory.
        let c = resolve(args(None, None, true)).unwrap();
        assert_eq!(c.data, PathBuf::from("./trustmark-demo-data"));
        std::fs::write(&path, "demo = true\n").unwrap();
        let c = resolve(args(Some(path.clone()), None, false)).unwrap();
        assert_eq!(
            (c.demo, c.data),
            (true, PathBuf::from("./trustmark-demo-data"))
        );
        std::fs::write(&path, "listen = \"127.0.0.1:9900\"\nlisten_typo = 1\n").unwrap();
        assert!(resolve(args(Some(path.clone()), None, false))
            .unwrap_err()
            .to_string()
            .contains("listen_typo"));
        std::fs::write(
            &path,
            "store = \"postgres://tm:s3cret@db.example:5432/tm?sslmode=require\"\n",
        )
        .unwrap();
        let c = resolve(args(Some(path.clone()), None, false)).unwrap();
        let store = c.store.unwrap();
        assert_eq!(
            store.redacted(),
            "postgres://tm:***@db.example:5432/tm?sslmode=require"
        );
        std::fs::write(&path, "store = \"mysql://tm:s3cret@db/tm\"\n").unwrap();
        let e = resolve(args(Some(path.clone()), None, false)).unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let _ = std::fs::remove_file(&path);
    }
}
