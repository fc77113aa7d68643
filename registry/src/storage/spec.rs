//! Which store a registry uses (`--store`), and the database URL kept out of every log
//! line and error message: only its redacted form is ever shown.

use std::path::PathBuf;

/// Where the registry's state lives.
#[derive(Clone, Debug)]
pub enum StoreSpec {
    /// The journal and sled indexes in this data directory (the default).
    Embedded(PathBuf),
    /// A PostgreSQL database, shared by any number of registry processes.
    Postgres(PgOptions),
}

/// A PostgreSQL connection: the URL (which may hold a password) and an optional CA file.
#[derive(Clone)]
pub struct PgOptions {
    url: String,
    /// PEM file of the CA that signed the server's certificate (else the bundled web
    /// roots), for `sslmode=require`.
    pub ca: Option<PathBuf>,
}

impl std::fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOptions")
            .field("url", &redact(&self.url))
            .field("ca", &self.ca)
            .finish()
    }
}

/// Why `--store` was refused. Never carries the URL: it may hold a password.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreUrlError {
    /// Not a `postgres://` or `postgresql://` URL.
    #[error("--store takes a postgres://user:password@host:port/database URL")]
    Scheme,
    /// A URL the driver cannot use.
    #[error(
        "--store is not a usable PostgreSQL URL (check its host, port, database and parameters)"
    )]
    Invalid,
}

impl PgOptions {
    /// Parses a `postgres://` URL.
    pub fn parse(url: &str, ca: Option<PathBuf>) -> Result<PgOptions, StoreUrlError> {
        let lower = url.get(..13).unwrap_or(url).to_ascii_lowercase();
        if !(lower.starts_with("postgres://") || lower.starts_with("postgresql://")) {
            return Err(StoreUrlError::Scheme);
        }
        url.parse::<tokio_postgres::Config>()
            .map_err(|_| StoreUrlError::Invalid)?;
        Ok(PgOptions {
            url: url.to_owned(),
            ca,
        })
    }

    /// The URL with its password replaced, fit for logs.
    pub fn redacted(&self) -> String {
        redact(&self.url)
    }

    /// The driver's configuration (holds the password; never print it).
    pub(crate) fn config(&self) -> Result<tokio_postgres::Config, StoreUrlError> {
        self.url.parse().map_err(|_| StoreUrlError::Invalid)
    }
}

/// `url` with any password (in the authority or a `password` parameter) replaced by
/// `***`. Anything that does not parse as a URL is hidden whole: it might be all secret.
pub fn redact(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "<unparsable store URL>".into();
    };
    if parsed.password().is_some() && parsed.set_password(Some("***")).is_err() {
        return "<store URL>".into();
    }
    let has_secret = parsed
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("password"));
    if has_secret {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("password") {
                    "***".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    // The password never survives redaction, wherever the URL carries it.
    use super::*;

    #[test]
    fn redaction_hides_passwords() {
        assert_eq!(
            redact("postgres://tm:s3cret@db.example:5432/trustmark?sslmode=require"),
            "postgres://tm:***@db.example:5432/trustmark?sslmode=require"
        );
        assert_eq!(
            redact("postgres://tm@127.0.0.1:5433/tm"),
            "postgres://tm@127.0.0.1:5433/tm"
        );
        let q = redact("postgresql://tm@h/db?password=s3cret&sslmode=disable");
        assert!(!q.contains("s3cret") && q.contains("password=***"), "{q}");
        assert!(!redact("host=h password=s3cret").contains("s3cret"));
        let o = PgOptions::parse("postgres://tm:s3cret@h:1/db", None).unwrap();
        assert!(!format!("{o:?}").contains("s3cret"));
        assert_eq!(
            PgOptions::parse("mysql://tm:s3cret@h/db", None).unwrap_err(),
            StoreUrlError::Scheme
        );
        assert!(!StoreUrlError::Invalid.to_string().contains("s3cret"));
    }
}
