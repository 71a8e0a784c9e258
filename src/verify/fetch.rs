//! Revocation fetched from the certificate authority when the document carries none for a
//! certificate and the auditor allows it (`naskah verify --fetch-revocation`, the setting
//! `fetch_revocation`): the OCSP responder its Authority Information Access names, else the
//! CRL at its distribution point. Plain `http://` only, as responders and CRLs are served
//! (what they send is signed, and checked like what a document carries); each request has a
//! time limit and a size limit, and each answer is kept for a while in the process, so that a
//! stack of letters of one office asks once.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use openssl::hash::MessageDigest;
use openssl::ocsp::{OcspCertId, OcspRequest};
use openssl::x509::X509;

use super::trust::Revocation;

/// How long one request may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read: CRLs of national authorities run to a few megabytes.
const MAX_BODY: u64 = 16 << 20;
/// How long an answer is kept.
const KEEP: Duration = Duration::from_secs(600);
/// Past this many kept answers the store starts again.
const KEPT: usize = 1_024;

/// What was fetched for one certificate, and what could not be.
#[derive(Default)]
pub struct Fetched {
    pub revocation: Revocation,
    pub problems: Vec<String>,
}

type Store = Mutex<HashMap<String, (Instant, Vec<u8>)>>;
static KEPT_ANSWERS: OnceLock<Store> = OnceLock::new();

/// Revocation information for `cert`, issued by `issuer`: an OCSP answer when a responder
/// gives one, else the CRLs of its distribution points.
pub fn revocation_for(cert: &X509, issuer: &X509) -> Fetched {
    let mut fetched = Fetched::default();
    let responders: Vec<String> = cert
        .ocsp_responders()
        .map(|list| list.iter().map(|u| u.to_string()).collect())
        .unwrap_or_default();
    for url in &responders {
        match ocsp(url, cert, issuer) {
            Ok(der) => {
                let answer = Revocation::from_der(&[], &[der]);
                if !answer.ocsps.is_empty() {
                    fetched.revocation.ocsps.extend(answer.ocsps);
                    return fetched;
                }
                fetched
                    .problems
                    .push(format!("jawaban OCSP {url} tidak dapat dipakai"));
            }
            Err(why) => fetched.problems.push(format!("OCSP {url}: {why}")),
        }
    }
    let points: Vec<String> = cert
        .crl_distribution_points()
        .map(|points| {
            points
                .iter()
                .filter_map(|p| p.distpoint()?.fullname())
                .flat_map(|names| names.iter().filter_map(|n| n.uri().map(str::to_owned)))
                .collect()
        })
        .unwrap_or_default();
    for url in &points {
        match get(url) {
            Ok(bytes) => {
                let crl = openssl::x509::X509Crl::from_der(&bytes)
                    .or_else(|_| openssl::x509::X509Crl::from_pem(&bytes));
                match crl {
                    Ok(crl) => {
                        fetched.revocation.crls.push(crl);
                        fetched.problems.clear();
                        return fetched;
                    }
                    Err(_) => fetched.problems.push(format!("CRL {url} tidak terbaca")),
                }
            }
            Err(why) => fetched.problems.push(format!("CRL {url}: {why}")),
        }
    }
    if responders.is_empty() && points.is_empty() {
        fetched
            .problems
            .push("sertifikat tidak menyebut layanan OCSP atau CRL".into());
    }
    fetched
}

/// Asks the responder at `url` about `cert`.
fn ocsp(url: &str, cert: &X509, issuer: &X509) -> Result<Vec<u8>, String> {
    let request = || -> Result<Vec<u8>, openssl::error::ErrorStack> {
        let mut request = OcspRequest::new()?;
        request.add_id(OcspCertId::from_cert(MessageDigest::sha1(), cert, issuer)?)?;
        request.to_der()
    };
    let body = request().map_err(|e| e.to_string())?;
    let key = format!("{url} {}", crate::digest::sha256_hex(&body));
    kept_or(&key, || {
        agent(url)?
            .post(url)
            .header("Content-Type", "application/ocsp-request")
            .send(&body[..])
            .and_then(|mut r| r.body_mut().with_config().limit(MAX_BODY).read_to_vec())
            .map_err(|e| e.to_string())
    })
}

/// The document at `url`.
fn get(url: &str) -> Result<Vec<u8>, String> {
    kept_or(url, || {
        agent(url)?
            .get(url)
            .call()
            .and_then(|mut r| r.body_mut().with_config().limit(MAX_BODY).read_to_vec())
            .map_err(|e| e.to_string())
    })
}

fn agent(url: &str) -> Result<ureq::Agent, String> {
    if !url.starts_with("http://") {
        return Err("hanya alamat http:// yang diambil".into());
    }
    Ok(ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .build()
        .into())
}

/// The answer kept under `key`, else `fetch`'s, kept when it came.
fn kept_or(key: &str, fetch: impl FnOnce() -> Result<Vec<u8>, String>) -> Result<Vec<u8>, String> {
    let store = KEPT_ANSWERS.get_or_init(Default::default);
    if let Some((when, bytes)) = store.lock().ok().and_then(|s| s.get(key).cloned())
        && when.elapsed() < KEEP
    {
        return Ok(bytes);
    }
    let bytes = fetch()?;
    if let Ok(mut store) = store.lock() {
        if store.len() >= KEPT {
            store.clear();
        }
        store.insert(key.to_owned(), (Instant::now(), bytes.clone()));
    }
    Ok(bytes)
}
