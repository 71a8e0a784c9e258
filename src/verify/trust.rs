//! Whether a signer is trusted: a chain from its certificate to one of the configured roots,
//! valid at the validation time (the earliest trusted time-stamp over the signature, else
//! now), and not revoked at that time by a CRL or OCSP response that speaks for it.
//!
//! Revocation data speaks for a time `t` when its issuer signed it (the certificate's issuer,
//! or for OCSP a responder the issuer authorised with id-kp-OCSPSigning), it was not issued in
//! the future (thisUpdate ≤ now + grace), and it covers `t`: it was current then
//! (thisUpdate ≤ t ≤ nextUpdate, each side widened by the grace), or it was issued after `t`,
//! when it knows every revocation up to its issue and their dates (what a DSS added after
//! signing holds). Data that does not speak for `t` is stale, and named. A signer certificate
//! whose status nothing speaks for is INDETERMINATE, not trusted.

use std::cmp::Ordering;
use std::path::Path;

use openssl::hash::MessageDigest;
use openssl::ocsp::{
    OcspBasicResponse, OcspCertId, OcspCertStatus, OcspFlag, OcspResponse, OcspResponseStatus,
};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{CrlStatus, X509, X509Crl, X509StoreContext};
use serde::{Deserialize, Serialize};

/// The roots an auditor trusts, and whether revocation a document lacks may be fetched.
#[derive(Clone, Default)]
pub struct Roots {
    certificates: Vec<X509>,
    /// The SHA-256 of the roots' DER, one after the other: which roots a cached chain was
    /// built to.
    id: [u8; 32],
    fetch_revocation: bool,
    /// How far revocation data's times may be off and still count (clocks disagree).
    grace: chrono::Duration,
}

/// The default grace on revocation data's times: five minutes of clock difference.
pub const REVOCATION_GRACE: chrono::Duration = chrono::Duration::minutes(5);

impl Roots {
    /// Reads PEM files, each holding one or more certificates.
    pub fn from_pem_files(paths: &[impl AsRef<Path>]) -> Result<Roots, String> {
        let mut certificates = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let found =
                X509::stack_from_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))?;
            if found.is_empty() {
                return Err(format!("{}: no certificate", path.display()));
            }
            certificates.extend(found);
        }
        Roots::of(certificates)
    }

    /// The roots of one PEM text, as [`Roots::to_pem`] writes it (none when it is empty).
    pub fn from_pem_bytes(pem: &[u8]) -> Result<Roots, String> {
        if pem.is_empty() {
            return Ok(Roots::default());
        }
        Roots::of(X509::stack_from_pem(pem).map_err(|e| e.to_string())?)
    }

    fn of(certificates: Vec<X509>) -> Result<Roots, String> {
        let mut hasher = openssl::sha::Sha256::new();
        for cert in &certificates {
            hasher.update(&cert.to_der().map_err(|e| e.to_string())?);
        }
        Ok(Roots {
            certificates,
            id: hasher.finish(),
            fetch_revocation: false,
            grace: REVOCATION_GRACE,
        })
    }

    /// Every root as PEM, one after the other.
    pub fn to_pem(&self) -> Result<Vec<u8>, String> {
        let mut pem = Vec::new();
        for cert in &self.certificates {
            pem.extend(cert.to_pem().map_err(|e| e.to_string())?);
        }
        Ok(pem)
    }

    pub fn fetches_revocation(&self) -> bool {
        self.fetch_revocation
    }

    /// The same roots, fetching revocation information a document does not carry from the
    /// certificate authorities (`fetch.rs`) when `fetch` is set.
    pub fn fetching_revocation(self, fetch: bool) -> Roots {
        Roots {
            fetch_revocation: fetch,
            ..self
        }
    }

    /// The same roots, with `grace` on revocation data's times.
    pub fn with_revocation_grace(self, grace: chrono::Duration) -> Roots {
        Roots { grace, ..self }
    }

    pub fn revocation_grace(&self) -> chrono::Duration {
        self.grace
    }

    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }
}

/// The trust verdict of one certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Trust {
    Trusted,
    Untrusted,
    Expired,
    Revoked,
    /// Trust cannot be decided: revocation unknown or stale, the chain incomplete, or an
    /// algorithm the policy no longer accepts at the validation time.
    Indeterminate,
}

/// What a document carries to show whether certificates were revoked: its DSS's CRLs and
/// OCSP responses.
#[derive(Default)]
pub struct Revocation {
    pub crls: Vec<X509Crl>,
    pub ocsps: Vec<OcspBasicResponse>,
}

impl Revocation {
    /// Reads DER CRLs and OCSP responses; what does not read, or is not a successful OCSP
    /// answer, is left out (it can revoke nothing).
    pub fn from_der(crls: &[Vec<u8>], ocsps: &[Vec<u8>]) -> Revocation {
        Revocation {
            crls: crls
                .iter()
                .filter_map(|der| X509Crl::from_der(der).ok())
                .collect(),
            ocsps: ocsps
                .iter()
                .filter_map(|der| OcspResponse::from_der(der).ok())
                .filter(|r| r.status() == OcspResponseStatus::SUCCESSFUL)
                .filter_map(|r| r.basic().ok())
                .collect(),
        }
    }
}

/// Checks `certificate` against `roots` at `at`, with `intermediates` (from the signature and
/// the DSS) to build the chain and `revocation` (from the DSS and the signature). With
/// `require_revocation`, a certificate of the chain whose status nothing speaks for makes the
/// verdict INDETERMINATE; without (a time-stamp authority), it is only noted. Returns the
/// verdict and what the auditor should know: why it is not trusted, stale data, revocation
/// that could not be fetched.
pub fn check(
    roots: &Roots,
    certificate: &X509,
    intermediates: &[X509],
    revocation: &[&Revocation],
    at: chrono::DateTime<chrono::Utc>,
    require_revocation: bool,
) -> (Trust, Vec<String>) {
    match cached_chain(roots, certificate, intermediates, at) {
        Ok(chain) => {
            let mut notes = Vec::new();
            match revoked(roots, &chain, revocation, at, &mut notes) {
                Chain::Revoked(why) => (Trust::Revoked, vec![why]),
                Chain::Unknown(whose) if require_revocation => {
                    notes.insert(
                        0,
                        format!(
                            "status pencabutan tidak diketahui pada waktu validasi untuk {whose}"
                        ),
                    );
                    (Trust::Indeterminate, notes)
                }
                Chain::Unknown(whose) => {
                    notes.push(format!("status pencabutan tidak diketahui untuk {whose}"));
                    (Trust::Trusted, notes)
                }
                Chain::Standing => (Trust::Trusted, notes),
            }
        }
        Err((trust, why)) => (trust, vec![why]),
    }
}

/// Chains already built, by roots, leaf and the certificates offered to build it: the letters
/// of one office share their chain, and building one is the dearest step of checking trust.
type ChainCache = std::sync::Mutex<std::collections::HashMap<[u8; 32], Vec<X509>>>;
static CHAINS: std::sync::OnceLock<ChainCache> = std::sync::OnceLock::new();
/// Past this many the cache starts again.
const CACHED_CHAINS: usize = 1_024;

/// [`chain`], from the cache when the same chain was built before: then only its certificates'
/// validity at `at` is checked again (all that depends on the time; revocation is checked
/// apart).
fn cached_chain(
    roots: &Roots,
    certificate: &X509,
    intermediates: &[X509],
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<X509>, (Trust, String)> {
    let mut hasher = openssl::sha::Sha256::new();
    hasher.update(&roots.id);
    let mut offered: Vec<Vec<u8>> = std::iter::once(certificate)
        .chain(intermediates)
        .filter_map(|c| c.to_der().ok())
        .collect();
    offered[1..].sort();
    offered.iter().for_each(|der| hasher.update(der));
    let key = hasher.finish();
    let cache = CHAINS.get_or_init(Default::default);
    if let Some(chain) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        let when = openssl::asn1::Asn1Time::from_unix(at.timestamp())
            .map_err(|e| (Trust::Untrusted, e.to_string()))?;
        for cert in &chain {
            let started = cert
                .not_before()
                .compare(&when)
                .is_ok_and(|o| o != Ordering::Greater);
            let running = cert
                .not_after()
                .compare(&when)
                .is_ok_and(|o| o != Ordering::Less);
            if !started || !running {
                return Err((Trust::Expired, "certificate has expired".into()));
            }
        }
        return Ok(chain);
    }
    let chain = chain(roots, certificate, intermediates, at)?;
    if let Ok(mut cache) = cache.lock() {
        if cache.len() >= CACHED_CHAINS {
            cache.clear();
        }
        cache.insert(key, chain.clone());
    }
    Ok(chain)
}

/// The verified chain, leaf first.
fn chain(
    roots: &Roots,
    certificate: &X509,
    intermediates: &[X509],
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<X509>, (Trust, String)> {
    let fail = |e: openssl::error::ErrorStack| (Trust::Untrusted, e.to_string());
    let mut store = X509StoreBuilder::new().map_err(fail)?;
    for root in &roots.certificates {
        store.add_cert(root.clone()).map_err(fail)?;
    }
    let mut param = X509VerifyParam::new().map_err(fail)?;
    param.set_time(at.timestamp());
    store.set_param(&param).map_err(fail)?;
    let store = store.build();
    let mut stack = Stack::new().map_err(fail)?;
    for cert in intermediates {
        stack.push(cert.clone()).map_err(fail)?;
    }
    let mut context = X509StoreContext::new().map_err(fail)?;
    context
        .init(&store, certificate, &stack, |context| {
            let valid = context.verify_cert()?;
            let error = context.error();
            let chain: Vec<X509> = context
                .chain()
                .map(|chain| chain.iter().map(|c| c.to_owned()).collect())
                .unwrap_or_default();
            Ok((valid, error, chain))
        })
        .map_err(fail)
        .and_then(|(valid, error, chain)| {
            if valid {
                return Ok(chain);
            }
            // X509_V_ERR_CERT_NOT_YET_VALID (9), X509_V_ERR_CERT_HAS_EXPIRED (10); an issuer
            // found nowhere, the chain incomplete: X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT (2),
            // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY (20), which a root the auditor does
            // not trust (18, 19) is not.
            match error.as_raw() {
                9 | 10 => Err((Trust::Expired, error.error_string().to_owned())),
                2 | 20 => Err((
                    Trust::Indeterminate,
                    format!(
                        "rantai sertifikat tidak lengkap: penerbit {} tidak ditemukan",
                        issuer_of(chain.last().unwrap_or(certificate))
                    ),
                )),
                _ => Err((Trust::Untrusted, error.error_string().to_owned())),
            }
        })
}

/// The common name of `certificate`'s issuer, for a finding.
fn issuer_of(certificate: &X509) -> String {
    certificate
        .issuer_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok())
        .unwrap_or_else(|| "(tanpa nama)".into())
}

/// What revocation information says of one certificate at a time.
enum Status {
    Revoked(String),
    /// Someone entitled to say so answered, and did not revoke it by then.
    Standing,
    /// Nobody answered.
    Unknown,
}

/// What revocation information says of a chain.
enum Chain {
    Revoked(String),
    Standing,
    /// The status of these certificates (named) is unknown.
    Unknown(String),
}

/// Whether a certificate of the chain was revoked at `at`: by a CRL signed by its issuer, or
/// an OCSP response signed by the issuer or a responder it authorised, either speaking for
/// `at`; for a certificate the data says nothing of, by what its authority answers when
/// fetching is allowed (what could not be fetched, and stale data, go into `notes`).
fn revoked(
    roots: &Roots,
    chain: &[X509],
    revocation: &[&Revocation],
    at: chrono::DateTime<chrono::Utc>,
    notes: &mut Vec<String>,
) -> Chain {
    let mut unknown = Vec::new();
    for pair in chain.windows(2) {
        let (cert, issuer) = (&pair[0], &pair[1]);
        match status(roots, chain, cert, issuer, revocation, at, notes) {
            Status::Revoked(why) => return Chain::Revoked(why),
            Status::Standing => {}
            Status::Unknown if roots.fetch_revocation => {
                let fetched = super::fetch::revocation_for(cert, issuer);
                notes.extend(fetched.problems);
                match status(
                    roots,
                    chain,
                    cert,
                    issuer,
                    &[&fetched.revocation],
                    at,
                    notes,
                ) {
                    Status::Revoked(why) => return Chain::Revoked(why),
                    Status::Standing => {}
                    Status::Unknown => unknown.push(super::cms::subject(cert).0),
                }
            }
            Status::Unknown => unknown.push(super::cms::subject(cert).0),
        }
    }
    if unknown.is_empty() {
        Chain::Standing
    } else {
        Chain::Unknown(unknown.join(", "))
    }
}

/// Whether data issued at `this_update`, current until `next_update`, speaks for `at` (the
/// module's rule); `now` bounds it from the future.
fn speaks_for(
    this_update: chrono::DateTime<chrono::Utc>,
    next_update: Option<chrono::DateTime<chrono::Utc>>,
    at: chrono::DateTime<chrono::Utc>,
    grace: chrono::Duration,
) -> bool {
    let now = chrono::Utc::now();
    if this_update > now + grace {
        return false;
    }
    if this_update + grace >= at {
        return true;
    }
    next_update.is_some_and(|next| at <= next + grace)
}

/// An ASN.1 time as a moment.
fn moment(time: &openssl::asn1::Asn1TimeRef) -> Option<chrono::DateTime<chrono::Utc>> {
    let epoch = openssl::asn1::Asn1Time::from_unix(0).ok()?;
    let diff = epoch.diff(time).ok()?;
    chrono::DateTime::from_timestamp(i64::from(diff.days) * 86_400 + i64::from(diff.secs), 0)
}

fn status(
    roots: &Roots,
    chain: &[X509],
    cert: &X509,
    issuer: &X509,
    revocation: &[&Revocation],
    at: chrono::DateTime<chrono::Utc>,
    notes: &mut Vec<String>,
) -> Status {
    let mut answered = false;
    if let (Ok(key), Ok(when)) = (
        issuer.public_key(),
        openssl::asn1::Asn1Time::from_unix(at.timestamp()),
    ) {
        for crl in revocation.iter().flat_map(|r| &r.crls) {
            let same_issuer =
                crl.issuer_name().try_cmp(cert.issuer_name()).ok() == Some(Ordering::Equal);
            if !same_issuer || !crl.verify(&key).unwrap_or(false) {
                continue;
            }
            let this_update = moment(crl.last_update());
            let next_update = crl.next_update().and_then(moment);
            if !this_update.is_some_and(|t| speaks_for(t, next_update, at, roots.grace)) {
                notes.push(format!(
                    "CRL dari {} tidak berlaku pada waktu validasi (terbit {}, berikutnya {})",
                    issuer_of(cert),
                    crl.last_update(),
                    crl.next_update()
                        .map_or_else(|| "-".to_owned(), |n| n.to_string())
                ));
                continue;
            }
            answered = true;
            if let CrlStatus::Revoked(entry) = crl.get_by_cert(cert) {
                // Revoked after the proven signing time, the signature still stands.
                if entry.revocation_date().compare(&when).ok() != Some(Ordering::Greater) {
                    return Status::Revoked(format!(
                        "sertifikat dicabut sejak {} (CRL)",
                        entry.revocation_date()
                    ));
                }
            }
        }
    }
    let ocsps: Vec<&OcspBasicResponse> = revocation.iter().flat_map(|r| &r.ocsps).collect();
    match ocsp_status(roots, chain, cert, issuer, &ocsps, at, notes) {
        Some(Some(since)) if since <= at => {
            return Status::Revoked(format!(
                "sertifikat dicabut sejak {} (OCSP)",
                since.format("%Y-%m-%d %H:%M:%S UTC")
            ));
        }
        Some(_) => answered = true,
        None => {}
    }
    if answered {
        Status::Standing
    } else {
        Status::Unknown
    }
}

/// What a verifying OCSP response of `responses` that speaks for `at` says of `cert`: `None`
/// when none does, `Some(Some(since))` when it was revoked, `Some(None)` when not.
fn ocsp_status(
    roots: &Roots,
    chain: &[X509],
    cert: &X509,
    issuer: &X509,
    responses: &[&OcspBasicResponse],
    at: chrono::DateTime<chrono::Utc>,
    notes: &mut Vec<String>,
) -> Option<Option<chrono::DateTime<chrono::Utc>>> {
    if responses.is_empty() {
        return None;
    }
    // Responders name a certificate by SHA-1 hashes, as RFC 6960 has it, or by SHA-256.
    let ids: Vec<OcspCertId> = [MessageDigest::sha1(), MessageDigest::sha256()]
        .into_iter()
        .filter_map(|digest| OcspCertId::from_cert(digest, cert, issuer).ok())
        .collect();
    for response in responses {
        let Some(status) = ids.iter().find_map(|id| response.find_status(id)) else {
            continue;
        };
        // A responder that does not know the certificate has said nothing.
        if status.status == OcspCertStatus::UNKNOWN || !ocsp_verifies(roots, chain, response) {
            continue;
        }
        let this_update = generalized_time(&status.this_update.to_string());
        let next_update = status
            .next_update()
            .and_then(|n| generalized_time(&n.to_string()));
        if !this_update.is_some_and(|t| speaks_for(t, next_update, at, roots.grace)) {
            notes.push(format!(
                "jawaban OCSP untuk {} tidak berlaku pada waktu validasi (terbit {})",
                super::cms::subject(cert).0,
                status.this_update
            ));
            continue;
        }
        if status.status != OcspCertStatus::REVOKED {
            return Some(None);
        }
        let since = status
            .revocation_time
            .and_then(|t| generalized_time(&t.to_string()))
            // A revocation without a time counts from the start.
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        return Some(Some(since));
    }
    None
}

/// Whether an OCSP response's signature verifies, its signer chaining to the roots and
/// authorised by the certificate's issuer (OpenSSL's `OCSP_basic_verify`).
fn ocsp_verifies(roots: &Roots, chain: &[X509], response: &OcspBasicResponse) -> bool {
    let verified = || -> Result<(), openssl::error::ErrorStack> {
        let mut store = X509StoreBuilder::new()?;
        for root in &roots.certificates {
            store.add_cert(root.clone())?;
        }
        let store = store.build();
        let mut certs = Stack::new()?;
        for cert in chain {
            certs.push(cert.clone())?;
        }
        response.verify(&certs, &store, OcspFlag::empty())
    };
    verified().is_ok()
}

/// `Nov 23 20:00:00 2026 GMT`, as OpenSSL prints an ASN.1 time.
fn generalized_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let text = text.strip_suffix(" GMT")?;
    chrono::NaiveDateTime::parse_from_str(text, "%b %e %H:%M:%S %Y")
        .ok()
        .map(|t| t.and_utc())
}
