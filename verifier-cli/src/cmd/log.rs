//! `trustmark log verify` and `trustmark log monitor`: check a registry's evidence log
//! against the key pinned on first use and the last checkpoint this machine verified,
//! prove a badge's entries are in it, and list every event concerning a site.
//!
//! Exit codes: 0 verified; 1 a finding (wrong key, fork, rollback, tampered data, a
//! badge whose history the log does not account for); 2 could not check.

use crate::cli::{LogCommand, LogMonitorArgs, LogVerifyArgs};
use crate::error::CliError;
use crate::evidence::{self, Finding, LogInfo, Problem, Tiles};
use crate::fetch::Fetcher;
use crate::witness::{self, Seen, State, Watch};
use crate::{time, trust, Status};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use std::io::Write;
use trustmark_core::evidence::{By, Entry, Event, Status as EntryStatus};
use trustmark_core::jws::TokenType;
use trustmark_core::log::checkpoint::Checkpoint;
use trustmark_core::log::compact::CompactRange;
use trustmark_core::log::merkle::{self, Hash};
use trustmark_core::log::note::VerifierKey;

pub fn run(
    command: &LogCommand,
    timeout: u64,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Status, CliError> {
    let fetcher = Fetcher::new(std::time::Duration::from_secs(timeout))?;
    let rt = crate::cmd::verify::runtime()?;
    match command {
        LogCommand::Verify(args) => rt.block_on(verify(args, &fetcher, out, err)),
        LogCommand::Monitor(args) => rt.block_on(monitor(args, &fetcher, out, err)),
    }
}

fn b64(h: &Hash) -> String {
    base64::engine::general_purpose::STANDARD.encode(h)
}

fn unb64(s: &str) -> Option<Hash> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .ok()?
        .try_into()
        .ok()
}

/// The registry's checked issuer URL, from the flag or the defaults.
fn registry(given: &Option<String>) -> Result<String, CliError> {
    let registry = given
        .clone()
        .or(crate::config::default_registry()?)
        .ok_or(CliError::NoRegistry)?;
    trust::registry_url(&registry)
}

/// A verified checkpoint, consistent with the last one this machine verified.
struct Verified {
    state: State,
    key: VerifierKey,
    info: LogInfo,
    note: String,
    checkpoint: Checkpoint,
    previous: Option<Checkpoint>,
    pinned_now: bool,
}

/// Pins the key (flag, state, else the metadata's on first use), fetches and opens the
/// checkpoint, and checks it extends the last one verified here.
async fn verified(
    fetcher: &Fetcher,
    issuer: &str,
    log_key: Option<&str>,
    tiles: &mut Tiles<'_>,
) -> Result<Verified, Problem> {
    let mut state = witness::load(issuer).map_err(CliError::State)?;
    let info = evidence::log_info(fetcher, issuer).await?;
    let (pinned, pinned_now) = match (log_key, &state.vkey) {
        (Some(k), _) => (k.to_owned(), state.vkey.as_deref() != Some(k)),
        (None, Some(k)) => (k.clone(), false),
        (None, None) => (info.vkey.clone(), true),
    };
    let key = VerifierKey::parse(&pinned).map_err(|_| CliError::LogKey(pinned.clone()))?;
    if info.vkey != pinned {
        return Err(Finding::KeyChanged {
            pinned,
            named: info.vkey,
        }
        .into());
    }
    let note = evidence::fetch_note(fetcher, issuer).await?;
    let checkpoint = evidence::open(&note, &key)?;
    tiles.reset(checkpoint.size);
    let previous = match &state.checkpoint {
        Some(old) => {
            // What was verified before with this key; a state written under another
            // key (an explicit re-pin) is not held against the new one.
            match evidence::open(old, &key) {
                Ok(old) => {
                    tiles.check_consistency(&old, &checkpoint).await?;
                    Some(old)
                }
                Err(_) if pinned_now => None,
                Err(e) => return Err(e.into()),
            }
        }
        None => None,
    };
    state.vkey = Some(pinned);
    Ok(Verified {
        state,
        key,
        info,
        note,
        checkpoint,
        previous,
        pinned_now,
    })
}

/// The badge's record at the registry, as far as the log check needs it.
#[derive(Deserialize)]
struct BadgeRecord {
    id: String,
    token: String,
    status: String,
    history: Vec<HistoryEntry>,
    log: Vec<LogRef>,
}

#[derive(Deserialize)]
struct HistoryEntry {
    status: String,
}

#[derive(Deserialize)]
struct LogRef {
    index: u64,
}

/// Proves every log entry of a badge is in the signed tree and that together they
/// account for its issuance, its current token and its whole status history.
async fn check_badge(
    fetcher: &Fetcher,
    issuer: &str,
    badge: &str,
    tiles: &mut Tiles<'_>,
    checkpoint: &Checkpoint,
    out: &mut impl Write,
) -> Result<Vec<serde_json::Value>, Problem> {
    let (id, given_token) = if badge.contains('.') {
        let id = trustmark_core::jws::unverified_string_claim(badge, TokenType::Badge, "jti")
            .ok_or(CliError::Usage(
                "--badge is neither a badge id nor a badge token",
            ))?;
        (id, Some(badge.trim().to_owned()))
    } else {
        (badge.to_owned(), None)
    };
    let url = format!("{issuer}/api/v1/badges/{id}");
    let body = evidence::get_ok(fetcher, &url, 1024 * 1024).await?;
    let record: BadgeRecord = serde_json::from_slice(&body)
        .map_err(|_| CliError::RegistryDocument("a badge record without its log entries"))?;
    let wrong = |why: String| Finding::Badge {
        badge: id.clone(),
        why,
    };
    if record.id != id {
        return Err(wrong("the registry answered for another badge".into()).into());
    }
    let mut tokens = Vec::new();
    let mut statuses = Vec::new();
    let mut reported = Vec::new();
    for r in &record.log {
        if r.index >= checkpoint.size {
            return Err(wrong(format!(
                "entry {} is beyond the signed tree of size {}",
                r.index, checkpoint.size
            ))
            .into());
        }
        let (bytes, entry) = evidence::fetch_entry(fetcher, issuer, r.index).await?;
        tiles
            .check_inclusion(r.index, &bytes, &checkpoint.root)
            .await?;
        if entry.badge() != Some(id.as_str()) {
            return Err(wrong(format!("entry {} is about another badge", r.index)).into());
        }
        let detail = match &entry.event {
            Event::Issued { token, origins, .. } => {
                if !tokens.is_empty() {
                    return Err(wrong("issued twice".into()).into());
                }
                tokens.push(token.clone());
                format!("issued for {}", origins.join(", "))
            }
            Event::Reissued { token, .. } => {
                tokens.push(token.clone());
                REISSUED.into()
            }
            Event::StatusChanged { status, by, .. } => {
                statuses.push(status.as_str().to_owned());
                status_change(*status, by)
            }
            _ => String::new(),
        };
        crate::print_line(
            out,
            &format!(
                "  entry {:>7}  {}  {detail}: included",
                r.index,
                time::rfc3339(entry.at)
            ),
        )?;
        reported.push(
            json!({"index": r.index, "type": entry.kind(), "at": entry.at, "included": true}),
        );
    }
    if tokens.is_empty() {
        return Err(wrong("the log has no issuance entry for it".into()).into());
    }
    if tokens.last() != Some(&record.token) {
        return Err(wrong("its current token is not the one the log recorded".into()).into());
    }
    if let Some(given) = given_token {
        if !tokens.contains(&given) {
            return Err(wrong("this token was never recorded in the log".into()).into());
        }
    }
    let history: Vec<&str> = record
        .history
        .iter()
        .skip(1)
        .map(|h| h.status.as_str())
        .collect();
    if history != statuses.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err(wrong(format!(
            "its status history ({}) is not the one the log recorded ({})",
            history.join(" → "),
            statuses.join(" → ")
        ))
        .into());
    }
    let current = statuses.last().map_or("valid", String::as_str);
    if record.status != current {
        return Err(wrong(format!(
            "the registry says {}, the log says {current}",
            record.status
        ))
        .into());
    }
    Ok(reported)
}

fn report_problem(
    problem: Problem,
    json_out: bool,
    out: &mut impl Write,
) -> Result<Status, CliError> {
    match problem {
        Problem::Failed(e) => Err(e),
        Problem::Finding(f) => {
            if json_out {
                crate::print_line(
                    out,
                    &json!({"verdict": "invalid", "problem": f.to_string()}).to_string(),
                )?;
            } else {
                crate::print_line(out, &format!("NOT VALID: {f}"))?;
            }
            Ok(Status::Invalid)
        }
    }
}

async fn verify(
    args: &LogVerifyArgs,
    fetcher: &Fetcher,
    out: &mut impl Write,
    _err: &mut impl Write,
) -> Result<Status, CliError> {
    let issuer = registry(&args.registry)?;
    let mut tiles = Tiles::new(fetcher, &issuer, 0);
    let mut quiet = Vec::new();
    let text_out: &mut dyn Write = if args.json { &mut quiet } else { out };
    let result = verify_inner(args, fetcher, &issuer, &mut tiles, text_out).await;
    match result {
        Ok((v, badge, bundle)) => {
            if args.json {
                crate::print_line(
                    out,
                    &json!({
                        "verdict": "valid",
                        "log": v.info.origin,
                        "vkey": v.key.to_string(),
                        "pinned_now": v.pinned_now,
                        "checkpoint": {"size": v.checkpoint.size, "root": b64(&v.checkpoint.root)},
                        "previous": v.previous.as_ref().map(|p| json!({"size": p.size, "root": b64(&p.root)})),
                        "bundle": bundle.map(|b| json!({"size": b.size, "root": b64(&b.root)})),
                        "badge": badge,
                    })
                    .to_string(),
                )?;
            } else {
                crate::print_line(
                    out,
                    "VALID: the log is consistent with everything seen before",
                )?;
            }
            Ok(Status::Valid)
        }
        Err(p) => report_problem(p, args.json, out),
    }
}

type VerifyOutcome = (Verified, Option<serde_json::Value>, Option<Checkpoint>);

async fn verify_inner(
    args: &LogVerifyArgs,
    fetcher: &Fetcher,
    issuer: &str,
    tiles: &mut Tiles<'_>,
    out: &mut dyn Write,
) -> Result<VerifyOutcome, Problem> {
    let mut v = verified(fetcher, issuer, args.log_key.as_deref(), tiles).await?;
    let mut w = WriteAdapter(out);
    crate::print_line(
        &mut w,
        &format!(
            "log {}: checkpoint of size {} verified with {}{}",
            v.info.origin,
            v.checkpoint.size,
            v.key,
            if v.pinned_now { " (pinned now)" } else { "" }
        ),
    )?;
    match &v.previous {
        Some(p) => crate::print_line(
            &mut w,
            &format!(
                "  consistent with the checkpoint of size {} verified before",
                p.size
            ),
        )?,
        None => crate::print_line(
            &mut w,
            "  first check on this machine: later checks are held to this checkpoint",
        )?,
    }
    let bundle = match &args.bundle {
        Some(path) => {
            let b = trust::read_bundle(path)?;
            let note = b.checkpoint.ok_or_else(|| CliError::Bundle {
                path: path.clone(),
                detail: "the bundle carries no log checkpoint".into(),
            })?;
            let old = evidence::open(&note, &v.key)?;
            tiles.check_consistency(&old, &v.checkpoint).await?;
            crate::print_line(
                &mut w,
                &format!(
                    "  consistent with the bundle's checkpoint of size {}",
                    old.size
                ),
            )?;
            Some(old)
        }
        None => None,
    };
    let badge = match &args.badge {
        Some(b) => {
            let entries = check_badge(fetcher, issuer, b, tiles, &v.checkpoint, &mut w).await?;
            Some(json!({"entries": entries}))
        }
        None => None,
    };
    v.state.checkpoint = Some(v.note.clone());
    witness::save(&v.state).map_err(CliError::State)?;
    Ok((v, badge, bundle))
}

/// `print_line` wants `impl Write`; this lends a `dyn Write` to it.
struct WriteAdapter<'a>(&'a mut dyn Write);
impl Write for WriteAdapter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// How both commands describe a `reissued` entry.
const REISSUED: &str = "signed again under a new registry key";

/// How both commands describe a `status_changed` entry.
fn status_change(status: EntryStatus, by: &By) -> String {
    match by {
        By::Operator => format!("status {}, by the registry operator", status.as_str()),
        By::Auditor(a) => format!("status {}, by auditor {a}", status.as_str()),
    }
}

/// What an entry means for the watched `origin`, given the badges issued for it so far.
fn concerns(entry: &Entry, origin: &str, badges: &mut Vec<String>) -> Option<String> {
    match &entry.event {
        Event::Issued {
            badge,
            origins,
            auditor,
            ..
        } if origins.iter().any(|o| o == origin) => {
            badges.push(badge.clone());
            Some(format!(
                "issued for {} by auditor {auditor}",
                origins.join(", ")
            ))
        }
        Event::StatusChanged {
            badge, status, by, ..
        } if badges.contains(badge) => Some(status_change(*status, by)),
        Event::Reissued { badge, .. } if badges.contains(badge) => Some(REISSUED.into()),
        _ => None,
    }
}

async fn monitor(
    args: &LogMonitorArgs,
    fetcher: &Fetcher,
    out: &mut impl Write,
    _err: &mut impl Write,
) -> Result<Status, CliError> {
    let issuer = registry(&args.registry)?;
    let origin = trustmark_core::origin::canonicalize(&args.origin).map_err(CliError::Origin)?;
    let mut tiles = Tiles::new(fetcher, &issuer, 0);
    match monitor_inner(args, fetcher, &issuer, &origin, &mut tiles).await {
        Ok((watch, new, size)) => {
            if args.json {
                crate::print_line(
                    out,
                    &json!({
                        "verdict": "valid",
                        "origin": origin,
                        "log_size": size,
                        "badges": watch.badges,
                        "events": watch.events,
                        "new_events": new,
                    })
                    .to_string(),
                )?;
            } else {
                crate::print_line(
                    out,
                    &format!(
                        "{origin}: {} event(s) in {size} log entries, {new} new since the last run",
                        watch.events.len()
                    ),
                )?;
                let first_new = watch.events.len() - new;
                for (i, e) in watch.events.iter().enumerate() {
                    crate::print_line(
                        out,
                        &format!(
                            "{} entry {:>7}  {}  {}  {}",
                            if i >= first_new { "new" } else { "   " },
                            e.index,
                            time::rfc3339(e.at),
                            e.badge,
                            e.detail
                        ),
                    )?;
                }
            }
            Ok(Status::Valid)
        }
        Err(p) => report_problem(p, args.json, out),
    }
}

async fn monitor_inner(
    args: &LogMonitorArgs,
    fetcher: &Fetcher,
    issuer: &str,
    origin: &str,
    tiles: &mut Tiles<'_>,
) -> Result<(Watch, usize, u64), Problem> {
    let mut v = verified(fetcher, issuer, args.log_key.as_deref(), tiles).await?;
    let size = v.checkpoint.size;
    let mut watch = if args.from_start {
        Watch::default()
    } else {
        v.state.watches.get(origin).cloned().unwrap_or_default()
    };
    if watch.size > size {
        return Err(Finding::Rollback {
            size,
            seen: watch.size,
        }
        .into());
    }
    let hashes: Option<Vec<Hash>> = watch.range.iter().map(|h| unb64(h)).collect();
    let mut range = match hashes.and_then(|h| CompactRange::from_parts(watch.size, h)) {
        Some(range) => range,
        None => {
            // A damaged range cannot be extended: scan from the start.
            watch = Watch::default();
            CompactRange::new()
        }
    };
    let before = watch.events.len();
    let mut index = watch.size;
    while index < size {
        let n = index / 256;
        let entries = evidence::fetch_bundle(fetcher, issuer, n, size).await?;
        let skip = (index - n * 256) as usize;
        for bytes in entries.iter().skip(skip) {
            let entry = Entry::parse(bytes).map_err(|e| Finding::Entry {
                index,
                why: e.to_string(),
            })?;
            range.push(merkle::leaf_hash(bytes));
            if let Some(detail) = concerns(&entry, origin, &mut watch.badges) {
                watch.events.push(Seen {
                    index,
                    at: entry.at,
                    kind: entry.kind().into(),
                    badge: entry.badge().unwrap_or_default().into(),
                    detail,
                });
            }
            index += 1;
        }
    }
    if range.root() != v.checkpoint.root {
        return Err(Finding::Tiles.into());
    }
    watch.size = size;
    watch.range = range.hashes().iter().map(b64).collect();
    v.state.watches.insert(origin.to_owned(), watch.clone());
    v.state.checkpoint = Some(v.note.clone());
    witness::save(&v.state).map_err(CliError::State)?;
    let new = watch.events.len() - before;
    Ok((watch, new, size))
}
