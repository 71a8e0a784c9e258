//! Electronic signatures (TTE) on letters, per the PAdES baseline profile of DESIGN.md: each
//! signature is an incremental update that never rewrites an earlier byte, with a detached CMS
//! whose signed attributes are content-type, message-digest and signing-certificate-v2.
//!
//! - `key.rs`: an official's key and chain, unlocked from PKCS#12 for one signing.
//! - `cms.rs`: the SignedData, built with RustCrypto's ASN.1 types and signed by OpenSSL.
//! - `pdf.rs`: the incremental update: field, widget, signature dictionary, byte ranges.
//! - `pki.rs`: the demo PKI.

pub mod cms;
pub mod key;
pub mod pdf;
pub mod pki;

use chrono::{DateTime, Utc};

pub use key::{KeyError, SigningKey};
pub use pdf::{PdfError, Rect, Reserved};

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("CMS: {0}")]
    Cms(#[from] cms::CmsError),
}

/// How one signature is made.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    /// 1-based.
    pub page: u32,
    /// The widget over the letter's signature block; `None` for an invisible signature.
    pub rect: Option<Rect>,
    /// Make this the certification signature (DocMDP P=2); only the first may be.
    pub certify: bool,
    pub reason: Option<&'a str>,
    pub location: Option<&'a str>,
    /// The field name; by default the next free `SignatureN`.
    pub field_name: Option<String>,
    pub signed_at: DateTime<Utc>,
    /// Empty signature fields for later signers (see [`pdf::Field::reserve`]).
    pub reserve: Vec<Reserved>,
}

/// Bytes kept in `/Contents` beyond the certificates and the signature value: the CMS
/// structure and signed attributes take well under this.
const CMS_OVERHEAD: usize = 2048;

/// Signs `input` with `key` at level B-B and returns the signed file: `input` followed by one
/// incremental update.
pub fn sign(
    input: &[u8],
    key: &SigningKey,
    options: &Options<'_>,
) -> Result<Vec<u8>, SigningError> {
    let mut room = key.max_signature_len() + CMS_OVERHEAD;
    for cert in std::iter::once(&key.certificate).chain(&key.chain) {
        room += cert.to_der().map_err(cms::CmsError::from)?.len();
    }
    let field = pdf::Field {
        name: options.field_name.clone(),
        kind: pdf::Kind::Signature {
            certify: options.certify,
        },
        page: options.page,
        rect: options.rect,
        reason: options.reason,
        location: options.location,
        signed_at: options.signed_at,
        room,
        reserve: options.reserve.clone(),
    };
    let prepared = pdf::prepare(input, &field)?;
    let der = cms::sign(&prepared.digest(), key, |_| Ok(None))?;
    Ok(prepared.finish(&der)?)
}
