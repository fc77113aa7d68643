//! A generated supplier site for the scan benchmark (bench/scan.sh), served on loopback.
//!
//! `scan-site --pages 2000` prints its start URL on standard output, then serves until
//! standard input closes. The site: `--pages` HTML pages in two language versions (en
//! under `/en/`, vi under `/vi/`), each with a title, description, `<html lang>`,
//! reciprocal `hreflang` alternates, a JSON-LD `Product` with four `additionalProperty`
//! parameters, about 9 KiB of text and links to the next pages of its language; the
//! home page also lists two certificates and a payment link served here. Every page is
//! reachable from the start page `/en/p/0` (the English home, which links to the
//! Vietnamese one). `/stats`
//! answers the GET and HEAD counts since the last `/stats` (and resets them).

use axum::extract::{Path, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use clap::Parser;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Parser)]
struct Args {
    /// Pages in all (half per language).
    #[arg(long, default_value_t = 2000)]
    pages: usize,
}

struct Site {
    origin: String,
    per_language: usize,
    filler: String,
    gets: AtomicU64,
    heads: AtomicU64,
}

fn page(site: &Site, lang: &str, i: usize) -> String {
    let o = &site.origin;
    let other = if lang == "en" { "vi" } else { "en" };
    let n = site.per_language;
    let links: String = (1..=6)
        .map(|k| {
            let j = (i + k) % n;
            format!("<li><a href=\"/{lang}/p/{j}\">Product {j}</a></li>")
        })
        .collect();
    let home_extra = if i == 0 {
        format!(
            r#"<a href="/{other}/p/0">{other}</a> <a rel="payment" href="/pay">Pay</a> <a rel="privacy-policy" href="/{lang}/privacy">Privacy</a>
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"Organization","legalName":"Bench Solar Co., Ltd.","address":{{"addressCountry":"VN"}},
"hasCertification":[{{"@type":"Certification","name":"ISO 9001","certificationIdentification":"Q-1","url":"{o}/cert/Q-1","issuedBy":{{"@type":"Organization","url":"{o}/"}}}},
{{"@type":"Certification","name":"RoHS","certificationIdentification":"R-2","url":"{o}/cert/R-2","issuedBy":{{"@type":"Organization","url":"{o}/"}}}}]}}</script>"#
        )
    } else {
        String::new()
    };
    format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Product {i} ({lang})</title>
<meta name="description" content="Datasheet of product {i}.">
<link rel="alternate" hreflang="{lang}" href="{o}/{lang}/p/{i}">
<link rel="alternate" hreflang="{other}" href="{o}/{other}/p/{i}">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"Product","sku":"P-{i}","name":"Product {i}","additionalProperty":[
{{"@type":"PropertyValue","propertyID":"thickness","value":{t},"unitCode":"4H"}},
{{"@type":"PropertyValue","propertyID":"power","value":400,"unitCode":"WTT"}},
{{"@type":"PropertyValue","propertyID":"weight","value":21.5,"unitCode":"KGM"}},
{{"@type":"PropertyValue","propertyID":"warranty","value":10,"unitCode":"ANN"}}]}}</script>
</head><body><h1>Product {i}</h1>{home_extra}<ul>{links}</ul><p>{filler}</p></body></html>
"#,
        t = 18 + i % 3,
        filler = site.filler,
    )
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

async fn count(State(site): State<Arc<Site>>, method: Method) -> Response {
    if method == Method::HEAD {
        site.heads.fetch_add(1, Ordering::Relaxed);
    } else {
        site.gets.fetch_add(1, Ordering::Relaxed);
    }
    StatusCode::NOT_FOUND.into_response()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let site = Arc::new(Site {
        origin: origin.clone(),
        per_language: (args.pages / 2).max(1),
        filler: "Monocrystalline cells, tempered glass, anodised frame. ".repeat(160),
        gets: AtomicU64::new(0),
        heads: AtomicU64::new(0),
    });
    let counted = |site: &Arc<Site>, method: &Method| {
        if method == Method::HEAD {
            site.heads.fetch_add(1, Ordering::Relaxed);
        } else {
            site.gets.fetch_add(1, Ordering::Relaxed);
        }
    };
    let app = Router::new()
        .route(
            "/{lang}/p/{i}",
            get(
                move |State(site): State<Arc<Site>>,
                      method: Method,
                      Path((lang, i)): Path<(String, usize)>| async move {
                    counted(&site, &method);
                    if !(lang == "en" || lang == "vi") || i >= site.per_language {
                        return StatusCode::NOT_FOUND.into_response();
                    }
                    html(page(&site, &lang, i))
                },
            ),
        )
        .route(
            "/{lang}/privacy",
            get(|| async { html("<html><title>Privacy</title></html>".to_owned()) }),
        )
        .route(
            "/cert/{id}",
            get(|Path(id): Path<String>| async move {
                html(format!(
                    "<html><title>Register</title><body>Certificate {id}: valid</body></html>"
                ))
            }),
        )
        .route(
            "/pay",
            get(|| async { html("<html><title>Pay</title></html>".to_owned()) }),
        )
        .route(
            "/robots.txt",
            get(|| async { "User-agent: *\nDisallow: /private/\n" }),
        )
        .route(
            "/stats",
            get(|State(site): State<Arc<Site>>| async move {
                let gets = site.gets.swap(0, Ordering::Relaxed);
                let heads = site.heads.swap(0, Ordering::Relaxed);
                format!("{gets} {heads}\n")
            }),
        )
        .fallback(count)
        .with_state(site);
    println!("{origin}/en/p/0");
    // Serve until standard input closes (the script's coprocess ends).
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    });
    tokio::select! {
        _ = axum::serve(listener, app) => {}
        _ = stdin_closed => {}
    }
}
