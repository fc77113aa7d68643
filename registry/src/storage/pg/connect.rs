//! Connections: TLS (rustls, for `sslmode=require`), deadlines, the read pool, and how a
//! driver error is classified (the database away, or a real refusal).

use super::PgOpenError;
use crate::storage::spec::PgOptions;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::Client;
use tokio_postgres_rustls::MakeRustlsConnect;

/// A connection attempt gives up after this long: a request waits at most this for a
/// database that does not answer, well inside the request timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Every read or batch of writes gives up after this long (also set server-side as the
/// session's `statement_timeout`).
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The TLS connector: the CA file if given, else the bundled web roots. With the
/// default `sslmode=prefer` a server without TLS is spoken to in plain text; with
/// `sslmode=require` the server's certificate is verified against these roots.
pub fn tls(options: &PgOptions) -> Result<MakeRustlsConnect, PgOpenError> {
    let mut roots = rustls::RootCertStore::empty();
    match &options.ca {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|_| PgOpenError::CaFile(path.clone()))?;
            for cert in certs {
                let cert = cert.map_err(|_| PgOpenError::CaFile(path.clone()))?;
                roots
                    .add(cert)
                    .map_err(|_| PgOpenError::CaFile(path.clone()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    if roots.is_empty() {
        // A CA file without a certificate would make every TLS connection fail later.
        return Err(PgOpenError::CaFile(options.ca.clone().unwrap_or_default()));
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|_| PgOpenError::Tls)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// The driver configuration with the registry's session settings: commits wait for the
/// WAL flush (`synchronous_commit=on`, whatever the server's default), statements and
/// idle transactions are bounded, and the server sees which program connects.
pub fn config(options: &PgOptions) -> Result<tokio_postgres::Config, PgOpenError> {
    let mut config = options.config().map_err(PgOpenError::Url)?;
    config
        .connect_timeout(CONNECT_TIMEOUT)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(10))
        .application_name("trustmark-registry")
        .options(format!(
            "-c synchronous_commit=on -c statement_timeout={} -c idle_in_transaction_session_timeout={}",
            QUERY_TIMEOUT.as_millis(),
            QUERY_TIMEOUT.as_millis() * 2
        ));
    Ok(config)
}

/// Opens one connection and drives it in the background. The connection's messages
/// (notifications) go to `notices` when given.
pub async fn connect(
    config: &tokio_postgres::Config,
    tls: &MakeRustlsConnect,
    notices: Option<tokio::sync::mpsc::UnboundedSender<()>>,
) -> Result<Client, tokio_postgres::Error> {
    let (client, mut connection) = config.connect(tls.clone()).await?;
    tokio::spawn(async move {
        let messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        futures_util::pin_mut!(messages);
        while let Some(message) = futures_util::StreamExt::next(&mut messages).await {
            match message {
                Ok(tokio_postgres::AsyncMessage::Notification(_)) => {
                    if let Some(n) = &notices {
                        let _ = n.send(());
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    Ok(client)
}

/// The pool the readers use.
pub fn pool(
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    size: usize,
) -> Result<deadpool_postgres::Pool, PgOpenError> {
    let manager = deadpool_postgres::Manager::from_config(
        config,
        tls,
        deadpool_postgres::ManagerConfig {
            recycling_method: deadpool_postgres::RecyclingMethod::Fast,
        },
    );
    deadpool_postgres::Pool::builder(manager)
        .max_size(size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(CONNECT_TIMEOUT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .map_err(|_| PgOpenError::Pool)
}

/// Whether a driver error means the database is away or going away (connection lost or
/// refused, server shutting down or starting, out of resources): retrying later can
/// succeed, so clients get 503. Anything else is a real refusal.
pub fn is_unavailable(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        None => true,
        Some(code) => {
            let class = code.code().get(..2).unwrap_or_default();
            matches!(class, "08" | "53" | "57" | "58" | "40")
        }
    }
}

#[cfg(test)]
mod tests {
    // A CA file must hold a certificate; the bundled roots serve without one; the session
    // settings carry synchronous_commit=on whatever the URL says.
    use super::*;

    #[test]
    fn ca_files_and_session_settings() {
        let url = "postgres://tm:pw@127.0.0.1:5432/tm?sslmode=require";
        assert!(tls(&PgOptions::parse(url, None).unwrap()).is_ok());
        let missing = PgOptions::parse(url, Some("/nonexistent/ca.pem".into())).unwrap();
        assert!(matches!(tls(&missing), Err(PgOpenError::CaFile(_))));
        let empty = std::env::temp_dir().join(format!("tm-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let empty_ca = PgOptions::parse(url, Some(empty.clone())).unwrap();
        assert!(matches!(tls(&empty_ca), Err(PgOpenError::CaFile(_))));
        let _ = std::fs::remove_file(&empty);
        let c = config(&PgOptions::parse(url, None).unwrap()).unwrap();
        assert!(c
            .get_options()
            .is_some_and(|o| o.contains("synchronous_commit=on")));
        assert_eq!(c.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
    }
}
