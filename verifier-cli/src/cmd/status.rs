//! `trustmark status inspect`: decode a status list token (a file or its URL), check its
//! signature, and print its facts.

use crate::cache::Cache;
use crate::cli::InspectArgs;
use crate::error::CliError;
use crate::fetch::Fetcher;
use crate::online::Online;
use crate::trust::{self, load_jwks, MAX_LIST};
use crate::{input, time, Status};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use trustmark_core::jws::{self, TokenType};
use trustmark_core::verify::verify_status_list;
use trustmark_core::{Jwks, StatusList, StatusListClaims};

fn value_name(v: u8) -> &'static str {
    match v {
        0 => "valid",
        1 => "revoked",
        2 => "suspended",
        _ => "unassigned",
    }
}

/// Whose keys checked the signature.
enum KeysFrom {
    /// `--jwks` with `--issuer`.
    Files(String),
    /// The trusted registry (`--registry`, the environment or the config file).
    Registry(String),
    /// Nothing named a registry: the keys the list's own issuer publishes. This shows
    /// the list is intact and really from that issuer, not that the issuer is trusted.
    ListIssuer(String),
}

impl KeysFrom {
    fn json(&self) -> serde_json::Value {
        let (from, issuer) = match self {
            KeysFrom::Files(i) => ("jwks_file", i),
            KeysFrom::Registry(i) => ("registry", i),
            KeysFrom::ListIssuer(i) => ("list_issuer", i),
        };
        json!({"from": from, "issuer": issuer})
    }

    fn human(&self) -> String {
        match self {
            KeysFrom::Files(i) => format!("from the --jwks file, issuer {i}"),
            KeysFrom::Registry(i) => format!("of the trusted registry {i}"),
            KeysFrom::ListIssuer(i) => format!(
                "published by the list's own issuer {i} (no registry given: this shows the list is intact, not that {i} is trusted)"
            ),
        }
    }
}

fn is_url(arg: &str) -> bool {
    arg.starts_with("https://") || arg.starts_with("http://")
}

pub fn run(
    args: &InspectArgs,
    timeout: u64,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Status, CliError> {
    let from_url = is_url(&args.file);
    // A fetched list is checked by default; a file only when asked.
    let registry = match (&args.registry, &args.jwks) {
        (Some(r), _) => Some(trust::registry_url(r)?),
        (None, None) if from_url => crate::config::default_registry()?
            .map(|r| trust::registry_url(&r))
            .transpose()?,
        _ => None,
    };
    if from_url || registry.is_some() {
        let fetcher = Fetcher::new(std::time::Duration::from_secs(timeout))?;
        crate::cmd::verify::runtime()?.block_on(inspect_online(args, &fetcher, registry, out, err))
    } else {
        let text = read_list(&args.file)?;
        let keys = match (&args.jwks, &args.issuer) {
            (Some(jwks), Some(issuer)) => Some((load_jwks(jwks)?, KeysFrom::Files(issuer.clone()))),
            _ => None,
        };
        report(args, &text, keys, false, out)
    }
}

fn bad(file: &str, detail: String) -> CliError {
    CliError::StatusList {
        path: PathBuf::from(file),
        detail,
    }
}

fn read_list(file: &str) -> Result<String, CliError> {
    let bytes =
        input::read_file(file, jws::MAX_STATUS_LIST_TOKEN_LEN + 1024)?.ok_or_else(|| {
            bad(
                file,
                format!("larger than {} bytes", jws::MAX_STATUS_LIST_TOKEN_LEN),
            )
        })?;
    String::from_utf8(bytes).map_err(|_| bad(file, "not UTF-8 text".into()))
}

async fn inspect_online(
    args: &InspectArgs,
    fetcher: &Fetcher,
    registry: Option<String>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Status, CliError> {
    let text = if is_url(&args.file) {
        let answer = fetcher.get(&args.file, MAX_LIST, None).await?;
        if !answer.ok() {
            return Err(CliError::RegistryAnswer {
                url: answer.url,
                status: answer.status,
            });
        }
        String::from_utf8(answer.body).map_err(|_| bad(&args.file, "not UTF-8 text".into()))?
    } else {
        read_list(&args.file)?
    };
    let keys = match (&args.jwks, &args.issuer, registry) {
        (Some(jwks), Some(issuer), _) => (load_jwks(jwks)?, KeysFrom::Files(issuer.clone())),
        (_, _, Some(registry)) => {
            let online = Online::connect(fetcher, &registry, Cache::from_env(), err).await?;
            (online.jwks().clone(), KeysFrom::Registry(registry))
        }
        _ => {
            let iss = jws::unverified_string_claim(text.trim(), TokenType::StatusList, "iss")
                .ok_or_else(|| bad(&args.file, "the list names no issuer".into()))?;
            let issuer = trust::registry_url(&iss)?;
            let online = Online::connect(fetcher, &issuer, Cache::from_env(), err).await?;
            (online.jwks().clone(), KeysFrom::ListIssuer(issuer))
        }
    };
    report(args, &text, Some(keys), is_url(&args.file), out)
}

/// Decodes the list, checks it with `keys` if any, and prints the facts. `fetched`:
/// the list came from the URL `args.file`, which its `sub` must name.
fn report(
    args: &InspectArgs,
    text: &str,
    keys: Option<(Jwks, KeysFrom)>,
    fetched: bool,
    out: &mut impl Write,
) -> Result<Status, CliError> {
    let bad = |detail: String| bad(&args.file, detail);
    let token = text.trim();

    let compact = jws::parse_typed(token, TokenType::StatusList).map_err(|e| bad(e.to_string()))?;
    let claims: StatusListClaims = serde_json::from_slice(compact.payload())
        .map_err(|_| bad("the claims are not a status list's".into()))?;
    let list = StatusList::decode(&claims.status_list).map_err(|e| bad(e.to_string()))?;

    // Without keys the facts are shown but the signature is reported as not checked.
    let signature = match &keys {
        Some((jwks, from)) => {
            let issuer = match from {
                KeysFrom::Files(i) | KeysFrom::Registry(i) | KeysFrom::ListIssuer(i) => i,
            };
            match verify_status_list(token, jwks, issuer) {
                Ok(_) => Ok("verified"),
                Err(problem) => Err(problem.to_string()),
            }
        }
        None => Ok("not checked"),
    };
    // A list served at one URL but naming another is not the list badges point to.
    let sub_mismatch = fetched && claims.sub != args.file;
    let counts = list.counts();
    let at_index = args
        .index
        .map(|i| usize::try_from(i).ok().and_then(|i| list.get(i)));

    let mut status = if signature.is_err() || sub_mismatch {
        Status::Invalid
    } else {
        Status::Valid
    };
    if let Some(None) = at_index {
        status = Status::Invalid;
    }
    let text = if args.json {
        let mut v = json!({
            "iss": claims.iss, "sub": claims.sub, "iat": claims.iat, "exp": claims.exp, "ttl": claims.ttl,
            "bits": list.bits(), "size": list.len(), "bytes": list.as_bytes().len(),
            "counts": counts.iter().enumerate().map(|(v, n)| (v.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "signature": match &signature { Ok(s) => (*s).to_owned(), Err(e) => format!("invalid: {e}") },
            "keys": keys.as_ref().map(|(_, from)| from.json()),
        });
        if fetched {
            v["url"] = json!(args.file);
            v["sub_matches_url"] = json!(!sub_mismatch);
        }
        if let (Some(i), Some(value)) = (args.index, at_index) {
            v["index"] = json!(i);
            v["value"] = json!(value);
            v["value_name"] = json!(value.map(value_name));
        }
        v.to_string()
    } else {
        let mut s = format!(
            "status list {}\n  issuer:    {}\n  issued:    {} (iat {})\n  expires:   {} (exp {})\n  ttl:       {} s\n  bits:      {}\n  size:      {} entries ({} bytes)",
            claims.sub,
            claims.iss,
            time::rfc3339(claims.iat),
            claims.iat,
            time::rfc3339(claims.exp),
            claims.exp,
            claims.ttl,
            list.bits(),
            list.len(),
            list.as_bytes().len()
        );
        for (v, n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
            let name = if list.bits() >= 2 {
                value_name(v as u8)
            } else if v == 0 {
                "valid"
            } else {
                "invalid"
            };
            s.push_str(&format!("\n  value {v}:   {n} ({name})"));
        }
        match &signature {
            Ok(word) => s.push_str(&format!("\n  signature: {word}")),
            Err(e) => s.push_str(&format!("\n  signature: INVALID: {e}")),
        }
        if let Some((_, from)) = &keys {
            s.push_str(&format!("\n  keys:      {}", from.human()));
        }
        if sub_mismatch {
            s.push_str(&format!(
                "\n  url:       MISMATCH: fetched from {}, but the list names itself {}",
                args.file, claims.sub
            ));
        }
        match (args.index, at_index) {
            (Some(i), Some(Some(v))) => {
                s.push_str(&format!("\n  index {i}: {v} ({})", value_name(v)))
            }
            (Some(i), Some(None)) => s.push_str(&format!(
                "\n  index {i}: out of range (the list has {} entries)",
                list.len()
            )),
            _ => {}
        }
        s
    };
    crate::print_line(out, &text)?;
    Ok(status)
}
