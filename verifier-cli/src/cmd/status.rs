//! `trustmark status inspect`: decode a status list token and print its facts.

use crate::cli::InspectArgs;
use crate::error::CliError;
use crate::trust::load_jwks;
use crate::{input, time, Status};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use trustmark_core::jws::{self, TokenType};
use trustmark_core::verify::verify_status_list;
use trustmark_core::{StatusList, StatusListClaims};

fn value_name(v: u8) -> &'static str {
    match v {
        0 => "valid",
        1 => "revoked",
        2 => "suspended",
        _ => "unassigned",
    }
}

pub fn run(args: &InspectArgs, out: &mut impl Write) -> Result<Status, CliError> {
    let path = PathBuf::from(&args.file);
    let bad = |detail: String| CliError::StatusList {
        path: path.clone(),
        detail,
    };
    let bytes =
        input::read_file(&args.file, jws::MAX_STATUS_LIST_TOKEN_LEN + 1024)?.ok_or_else(|| {
            bad(format!(
                "larger than {} bytes",
                jws::MAX_STATUS_LIST_TOKEN_LEN
            ))
        })?;
    let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()))?;
    let token = text.trim();

    let compact = jws::parse_typed(token, TokenType::StatusList).map_err(|e| bad(e.to_string()))?;
    let claims: StatusListClaims = serde_json::from_slice(compact.payload())
        .map_err(|_| bad("the claims are not a status list's".into()))?;
    let list = StatusList::decode(&claims.status_list).map_err(|e| bad(e.to_string()))?;

    // Without keys the facts are shown but the signature is reported as not checked.
    let signature = match (&args.jwks, &args.issuer) {
        (Some(jwks), Some(issuer)) => match verify_status_list(token, &load_jwks(jwks)?, issuer) {
            Ok(_) => Ok("verified"),
            Err(problem) => Err(problem.to_string()),
        },
        _ => Ok("not checked"),
    };
    let counts = list.counts();
    let at_index = args
        .index
        .map(|i| usize::try_from(i).ok().and_then(|i| list.get(i)));

    let mut status = if signature.is_err() {
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
        });
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
