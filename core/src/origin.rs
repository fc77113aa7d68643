//! Canonical web origins (RFC 6454) as badges name them.
//!
//! A canonical origin is `https://` + host + optional `:port`, nothing else: the host in
//! lowercase ASCII with internationalised labels in punycode (UTS 46 via the `idna`
//! crate), the default port dropped, no path, query, fragment or userinfo. `http://` is
//! allowed only for loopback hosts, so local development works without weakening the
//! real web. Badges must carry origins already in this form; user input is normalised
//! into it with [`canonicalize`].

use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a string is not (or cannot become) a canonical origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OriginError {
    /// The scheme is not `https` (or `http` for loopback).
    #[error("the scheme must be https (http only for loopback hosts)")]
    Scheme,
    /// `http` was used for a host that is not loopback.
    #[error("http is allowed only for loopback hosts; use https")]
    InsecureHttp,
    /// The host is empty, not a valid domain name or IP literal.
    #[error("the host is not a valid domain name or IP address")]
    Host,
    /// The port is not a number from 1 to 65535.
    #[error("the port is not a number from 1 to 65535")]
    Port,
    /// Userinfo (`user@`) is present.
    #[error("an origin cannot carry a user name or password")]
    Userinfo,
    /// A path, query or fragment is present where only an origin is allowed.
    #[error("an origin has no path, query or fragment")]
    Path,
    /// Valid, but not written in canonical form.
    #[error("the origin is not in canonical form (expected {0})")]
    NotCanonical(&'static str),
}

struct Parts<'a> {
    scheme: &'a str,
    host: &'a str,
    port: Option<&'a str>,
    rest: &'a str,
}

fn split(input: &str) -> Result<Parts<'_>, OriginError> {
    // Byte scans rather than pattern searchers: this runs several times per badge.
    let sep = input
        .as_bytes()
        .windows(3)
        .position(|w| w == b"://")
        .ok_or(OriginError::Scheme)?;
    let (scheme, after) = (
        input.get(..sep).unwrap_or(""),
        input.get(sep + 3..).unwrap_or(""),
    );
    let end = after
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    if authority.bytes().any(|b| b == b'@') {
        return Err(OriginError::Userinfo);
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']').ok_or(OriginError::Host)?;
        let (inside, tail) = v6.split_at(close);
        let tail = tail.get(1..).unwrap_or("");
        let host = authority.get(..inside.len() + 2).ok_or(OriginError::Host)?;
        match tail {
            "" => (host, None),
            t => (host, Some(t.strip_prefix(':').ok_or(OriginError::Host)?)),
        }
    } else {
        match authority.bytes().rposition(|b| b == b':') {
            Some(i) => (authority.get(..i).unwrap_or(""), authority.get(i + 1..)),
            None => (authority, None),
        }
    };
    Ok(Parts {
        scheme,
        host,
        port,
        rest,
    })
}

fn is_ldh_lower(label: &str) -> bool {
    is_ldh_lower_bytes(label.as_bytes())
}

fn is_ldh_lower_bytes(label: &[u8]) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label.first() != Some(&b'-')
        && label.last() != Some(&b'-')
        && label
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// Whether `host` (already canonical) is a loopback host.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        || host == "[::1]"
}

/// Canonical form of a host, or an error. ASCII lowercase LDH names take a fast path;
/// anything else (upper case, Unicode, punycode labels) goes through UTS 46 so that
/// `xn--` labels are validated, not merely copied.
fn canonical_host(host: &str) -> Result<String, OriginError> {
    if host.is_empty() {
        return Err(OriginError::Host);
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip: Ipv6Addr = inner.parse().map_err(|_| OriginError::Host)?;
        return Ok(format!("[{ip}]"));
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let ip: Ipv4Addr = host.parse().map_err(|_| OriginError::Host)?;
        return Ok(ip.to_string());
    }
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    if trimmed
        .split('.')
        .all(|l| is_ldh_lower(l) && !l.starts_with("xn--"))
    {
        return Ok(trimmed.to_owned());
    }
    let ascii = idna::domain_to_ascii_strict(trimmed).map_err(|_| OriginError::Host)?;
    if ascii.is_empty() || !ascii.split('.').all(is_ldh_lower) {
        return Err(OriginError::Host);
    }
    Ok(ascii)
}

fn build(scheme: &str, host: &str, port: Option<u16>) -> Result<String, OriginError> {
    let default = match scheme {
        "https" => 443,
        "http" => 80,
        _ => return Err(OriginError::Scheme),
    };
    if scheme == "http" && !is_loopback(host) {
        return Err(OriginError::InsecureHttp);
    }
    Ok(match port {
        Some(p) if p != default => format!("{scheme}://{host}:{p}"),
        _ => format!("{scheme}://{host}"),
    })
}

fn parse_port(port: Option<&str>) -> Result<Option<u16>, OriginError> {
    match port {
        None => Ok(None),
        Some(p) if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) => Err(OriginError::Port),
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => Err(OriginError::Port),
            Ok(n) => Ok(Some(n)),
        },
    }
}

/// Normalises user input into a canonical origin: a scheme-less input is taken as
/// `https://`, scheme and host are lowercased and punycoded, a default port is dropped,
/// and a path, query or fragment is removed (so a pasted page URL names its site).
pub fn canonicalize(input: &str) -> Result<String, OriginError> {
    let input = input.trim();
    let owned;
    let input = if input.contains("://") {
        input
    } else {
        owned = format!("https://{input}");
        &owned
    };
    let parts = split(input)?;
    let scheme = parts.scheme.to_ascii_lowercase();
    let host = canonical_host(parts.host)?;
    build(&scheme, &host, parse_port(parts.port)?)
}

/// Checks that `origin` is exactly canonical, as a badge or audit statement must carry it.
/// Allocation-free for the common case (an ASCII host without punycode labels), since
/// it runs several times per verified badge.
pub fn check_canonical(origin: &str) -> Result<(), OriginError> {
    if is_plain_https_origin(origin) {
        return Ok(());
    }
    check_canonical_in_full(origin)
}

/// [`check_canonical`] without the one-pass shortcut for the common case.
fn check_canonical_in_full(origin: &str) -> Result<(), OriginError> {
    let parts = split(origin)?;
    if !parts.rest.is_empty() {
        return Err(OriginError::Path);
    }
    let default = match parts.scheme {
        "https" => 443,
        "http" => 80,
        _ => return Err(OriginError::Scheme),
    };
    let host = parts.host;
    let host_ok = if host.starts_with('[') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        canonical_host(host)? == host
    } else {
        let (mut ldh, mut punycode) = (true, false);
        for label in host.as_bytes().split(|b| *b == b'.') {
            ldh &= is_ldh_lower_bytes(label);
            punycode |= label.starts_with(b"xn--");
        }
        ldh && (!punycode || canonical_host(host)? == host)
    };
    if !host_ok {
        return Err(OriginError::NotCanonical(
            "lowercase ASCII host, punycode for IDN",
        ));
    }
    if parts.scheme == "http" && !is_loopback(host) {
        return Err(OriginError::InsecureHttp);
    }
    if let Some(text) = parts.port {
        let port = parse_port(Some(text))?;
        if text.starts_with('0') {
            return Err(OriginError::NotCanonical("a port without leading zeros"));
        }
        if port == Some(default) {
            return Err(OriginError::NotCanonical("no default port"));
        }
    }
    Ok(())
}

/// The common case of [`check_canonical`], in one pass: `https://`, a host of at most
/// 63 bytes of lowercase letters, digits, dots and dashes, with a letter or dash (not an
/// IPv4 literal), no dot or dash at either end and no two side by side (so every label
/// is non-empty, no label starts or ends with a dash, and none is punycode, which has
/// `--`), and an optional port without leading zeros, other than 443. `true` only where
/// the full check passes; anything else (punycode, IP literals, long hosts, `http`,
/// every error) goes through the full check.
fn is_plain_https_origin(origin: &str) -> bool {
    let Some(authority) = origin.strip_prefix("https://") else {
        return false;
    };
    let bytes = authority.as_bytes();
    // `after_separator` starts true so that a leading dot or dash (or an empty host) fails.
    let (mut after_separator, mut not_ipv4, mut host_len) = (true, false, 0);
    for &b in bytes {
        match b {
            b'a'..=b'z' => (after_separator, not_ipv4) = (false, true),
            b'0'..=b'9' => after_separator = false,
            b'.' | b'-' if !after_separator => {
                after_separator = true;
                not_ipv4 |= b == b'-';
            }
            b':' => break,
            _ => return false,
        }
        host_len += 1;
    }
    if after_separator || !not_ipv4 || host_len > 63 {
        return false;
    }
    match bytes.get(host_len..) {
        Some([]) => true,
        Some([b':', port @ ..]) => is_plain_port(port),
        _ => false,
    }
}

/// One to five digits without a leading zero, at most 65535, not the default port.
fn is_plain_port(port: &[u8]) -> bool {
    let Some(&first) = port.first() else {
        return false;
    };
    let mut value = 0u32;
    for &b in port {
        if !b.is_ascii_digit() {
            return false;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    first != b'0' && port.len() <= 5 && value <= 65_535 && value != 443
}

#[cfg(test)]
mod tests {
    // Canonical-origin rules: each case is one way two spellings could name one site.
    use super::*;

    #[test]
    fn canonicalizes_user_input() {
        let cases = [
            ("Supplier.Example", "https://supplier.example"),
            (
                "https://WWW.Supplier.example:443/products?x#y",
                "https://www.supplier.example",
            ),
            (
                "https://supplier.example:8443",
                "https://supplier.example:8443",
            ),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
            ("https://例え.jp", "https://xn--r8jz45g.jp"),
            ("http://localhost:8700", "http://localhost:8700"),
            ("http://127.0.0.1:80", "http://127.0.0.1"),
            ("http://[::1]:8700", "http://[::1]:8700"),
            ("https://supplier.example.", "https://supplier.example"),
        ];
        for (input, want) in cases {
            assert_eq!(canonicalize(input).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn refuses_what_cannot_be_an_origin() {
        assert_eq!(
            canonicalize("http://supplier.example"),
            Err(OriginError::InsecureHttp)
        );
        assert_eq!(
            canonicalize("ftp://supplier.example"),
            Err(OriginError::Scheme)
        );
        assert_eq!(
            canonicalize("https://user@supplier.example"),
            Err(OriginError::Userinfo)
        );
        assert_eq!(
            canonicalize("https://supplier.example:0"),
            Err(OriginError::Port)
        );
        assert_eq!(
            canonicalize("https://supplier.example:99999"),
            Err(OriginError::Port)
        );
        assert_eq!(canonicalize("https://"), Err(OriginError::Host));
        assert_eq!(canonicalize("https://a_b.example"), Err(OriginError::Host));
    }

    #[test]
    fn canonical_check_is_exact() {
        for ok in [
            "https://supplier.example",
            "https://xn--bcher-kva.example",
            "https://a.example:8443",
            "http://localhost",
            "http://127.0.0.1:8700",
            "http://[::1]",
        ] {
            assert_eq!(check_canonical(ok), Ok(()), "{ok}");
        }
        for bad in [
            "https://Supplier.example",
            "https://supplier.example:443",
            "https://supplier.example/",
            "https://supplier.example:08443",
            "https://bücher.example",
            "https://xn--a.example",
            "http://supplier.example",
            "HTTPS://supplier.example",
            "https://[0:0::1]",
        ] {
            assert!(check_canonical(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shortcut_accepts_only_what_the_full_check_accepts() {
        // Every string of up to five characters after `https://` over an alphabet with
        // each kind of edge (dash placement, digits-only hosts, ports, leading zeros, the
        // default port, stray separators), then of six and seven over a smaller one that
        // reaches punycode labels in second position, plus long labels and ports.
        let strings = |alphabet: &[char], lengths: std::ops::RangeInclusive<usize>| {
            let mut out = Vec::new();
            let mut frontier = vec![String::new()];
            for len in 1..=*lengths.end() {
                frontier = frontier
                    .iter()
                    .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                    .collect();
                if lengths.contains(&len) {
                    out.extend(frontier.iter().cloned());
                }
            }
            out
        };
        let mut suffixes = vec![String::new()];
        suffixes.extend(strings(
            &['a', 'x', 'n', '-', '.', '0', '4', '3', ':', '/', 'A', '@'],
            1..=5,
        ));
        suffixes.extend(strings(&['a', 'x', 'n', '-', '.', '4'], 6..=7));
        for label in [62, 63, 64] {
            let l = "a".repeat(label);
            suffixes.extend([l.clone(), format!("{l}.example"), format!("x.{l}:8443")]);
        }
        for port in [
            "1", "443", "444", "65535", "65536", "99999", "100000", "0443",
        ] {
            suffixes.push(format!("a.example:{port}"));
        }
        let (mut shortcut, mut full) = (0, 0);
        for suffix in &suffixes {
            let origin = format!("https://{suffix}");
            let ok = check_canonical_in_full(&origin).is_ok();
            if is_plain_https_origin(&origin) {
                assert!(
                    ok,
                    "{origin}: the shortcut accepts what the full check refuses"
                );
                shortcut += 1;
            }
            full += usize::from(ok);
        }
        // The shortcut must carry the common case, not merely be safe.
        assert!(
            shortcut > 10_000 && shortcut * 10 > full * 8,
            "{shortcut} of {full}"
        );
        for origin in ["https://www.supplier.example", "https://a.example:8443"] {
            assert!(is_plain_https_origin(origin), "{origin}");
        }
    }
}
