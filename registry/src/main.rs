//! `trustmark-registry`: `serve`, and the operator's local commands. The only place that
//! prints a fatal error or picks an exit code.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use trustmark_core::claims::Action;
use trustmark_registry::engine::{Command, Done, Engine};
use trustmark_registry::event::Actor;
use trustmark_registry::{start, Config};

/// The TrustMark registry.
#[derive(Parser)]
#[command(name = "trustmark-registry", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Args, Clone)]
struct DataArg {
    /// Data directory: keys, journal, indexes.
    #[arg(long, env = "TRUSTMARK_DATA", default_value = "./trustmark-data")]
    data: PathBuf,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the registry.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "TRUSTMARK_LISTEN", default_value = "127.0.0.1:8700")]
        listen: SocketAddr,
        #[command(flatten)]
        data: DataArg,
        /// Issuer URL (default http://<listen>).
        #[arg(long, env = "TRUSTMARK_PUBLIC_URL")]
        public_url: Option<String>,
        /// Demo mode: example auditor and a live badge for this registry's own origin.
        #[arg(long)]
        demo: bool,
    },
    /// Manage accredited auditors.
    #[command(subcommand)]
    Auditor(AuditorCmd),
    /// Manage badges.
    #[command(subcommand)]
    Badge(BadgeCmd),
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

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn open(data: &std::path::Path) -> Result<Engine, String> {
    let issuer = Engine::stored_issuer(data).ok_or_else(|| {
        format!(
            "no registry in {}\nhint: start it once with `trustmark-registry serve --data {}`",
            data.display(),
            data.display()
        )
    })?;
    Engine::open(data, &issuer, now(), true).map_err(|e| {
        let text = e.to_string();
        if text.contains("lock") || text.contains("WouldBlock") || text.contains("temporarily unavailable") {
            format!("the registry in {} is running and holds its store\nhint: stop it, run the command, start it again", data.display())
        } else {
            text
        }
    })
}

fn run_one(data: &std::path::Path, command: Command) -> Result<Done, String> {
    let mut engine = open(data)?;
    let result = engine
        .execute(vec![command], now())
        .pop()
        .ok_or("no result")?;
    engine.flush();
    result.map_err(|e| e.to_string())
}

fn change(args: ChangeArgs, action: Action) -> Result<(), String> {
    let command = Command::ChangeStatus {
        badge: args.id.clone(),
        action,
        reason: args.reason,
        by: Actor::Operator,
        request_jti: None,
    };
    match run_one(&args.data.data, command)? {
        Done::StatusChanged { status } => {
            println!("{} is now {}", args.id, status.as_str());
            Ok(())
        }
        _ => Err("unexpected result".into()),
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let running = start(config).await.map_err(|e| e.to_string())?;
    eprintln!(
        "trustmark-registry listening on http://{} (issuer {})",
        running.addr, running.issuer
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| e.to_string())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down: draining requests, flushing the store");
    running.stop().await.map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Serve {
            listen,
            data,
            public_url,
            demo,
        } => tokio::runtime::Runtime::new()
            .map_err(|e| e.to_string())
            .and_then(|rt| {
                rt.block_on(serve(Config {
                    listen,
                    data: data.data,
                    public_url,
                    demo,
                }))
            }),
        Cmd::Auditor(AuditorCmd::Add {
            id,
            name,
            key,
            data,
        }) => (|| {
            let text =
                std::fs::read(&key).map_err(|e| format!("cannot read {}: {e}", key.display()))?;
            let public = trustmark_core::PublicKey::from_jwk_json(&text)
                .map_err(|e| format!("{}: {e}", key.display()))?;
            let jwk = public
                .with_use(trustmark_core::KeyUse::Audit)
                .to_jwk_value();
            run_one(
                &data.data,
                Command::AddAuditor {
                    id: id.clone(),
                    name,
                    jwk,
                },
            )?;
            println!("auditor {id} accredited");
            Ok(())
        })(),
        Cmd::Auditor(AuditorCmd::Suspend { id, data }) => {
            run_one(&data.data, Command::SuspendAuditor { id: id.clone() })
                .map(|_| println!("auditor {id} suspended"))
        }
        Cmd::Auditor(AuditorCmd::List { data }) => open(&data.data).and_then(|e| {
            for a in e.store().auditors().map_err(|e| e.to_string())? {
                println!(
                    "{}\t{}\t{}\t{}",
                    a.id,
                    if a.active { "active" } else { "suspended" },
                    a.jwk["kid"].as_str().unwrap_or(""),
                    a.name
                );
            }
            Ok(())
        }),
        Cmd::Badge(BadgeCmd::List { data }) => open(&data.data).and_then(|e| {
            for b in e.store().badges().map_err(|e| e.to_string())? {
                println!(
                    "{}\t{}\t{}\t{}",
                    b.id,
                    b.status.as_str(),
                    b.auditor,
                    b.origins.join(",")
                );
            }
            Ok(())
        }),
        Cmd::Badge(BadgeCmd::Revoke(a)) => change(a, Action::Revoke),
        Cmd::Badge(BadgeCmd::Suspend(a)) => change(a, Action::Suspend),
        Cmd::Badge(BadgeCmd::Reinstate(a)) => change(a, Action::Reinstate),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut lines = e.lines();
            eprintln!("error: {}", lines.next().unwrap_or_default());
            for l in lines {
                eprintln!("{l}");
            }
            ExitCode::from(2)
        }
    }
}
