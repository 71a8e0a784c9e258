//! Electronic signatures (TTE) on letters, per the PAdES baseline profile of DESIGN.md: each
//! signature is an incremental update that never rewrites an earlier byte, with a detached CMS
//! whose signed attributes are content-type, message-digest and signing-certificate-v2.
//!
//! - `key.rs`: an official's key and chain, unlocked from PKCS#12 for one signing.
//! - `cms.rs`: the SignedData, built with RustCrypto's ASN.1 types and signed by OpenSSL.
//! - `pdf.rs`: the incremental update: field, widget, signature dictionary, byte ranges.
//! - `tsa.rs`: RFC 3161 time-stamps: the client, and the demo authority.
//! - `ltv.rs`: B-LT and B-LTA: the DSS revision and the document time-stamp.
//! - `pki.rs`: the demo PKI.

pub mod cms;
pub mod key;
pub mod ltv;
pub mod pdf;
pub mod pki;
pub mod tsa;

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
    #[error(transparent)]
    TimeStamp(#[from] tsa::TsaError),
    #[error("level {0} memerlukan layanan cap waktu (TSA)")]
    NoTimeStamper(Level),
}

/// The PAdES baseline level of a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The signature alone.
    BB,
    /// With an RFC 3161 time-stamp over the signature value.
    BT,
    /// B-T, then a revision with the certificates and CRLs to validate it later (the DSS).
    BLT,
    /// B-LT, then a document time-stamp over it all.
    BLTA,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::BB => "B-B",
            Level::BT => "B-T",
            Level::BLT => "B-LT",
            Level::BLTA => "B-LTA",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Level {
    type Err = String;

    fn from_str(text: &str) -> Result<Level, String> {
        [Level::BB, Level::BT, Level::BLT, Level::BLTA]
            .into_iter()
            .find(|level| level.name() == text)
            .ok_or_else(|| format!("unknown PAdES level '{text}' (B-B, B-T, B-LT or B-LTA)"))
    }
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
/// Bytes kept for a time-stamp token: its TSTInfo, signature and the authority's certificates
/// (the demo's take about 5,000).
const TOKEN_ROOM: usize = 16 * 1024;

/// Signs `input` with `key` at `level` and returns the signed file: `input` followed by the
/// signature's incremental update and, for B-LT and B-LTA, the updates that add validation
/// data (`validation`, with the certificates of the time-stamp) and the document time-stamp.
pub fn sign(
    input: &[u8],
    key: &SigningKey,
    options: &Options<'_>,
    level: Level,
    time_stamper: Option<&tsa::TimeStamper>,
    validation: &ltv::ValidationData,
) -> Result<Vec<u8>, SigningError> {
    key.check_usable(options.signed_at, &validation.crls)?;
    let stamper = match (level, time_stamper) {
        (Level::BB, _) => None,
        (_, Some(stamper)) => Some(stamper),
        (level, None) => return Err(SigningError::NoTimeStamper(level)),
    };
    let mut room = key.max_signature_len() + CMS_OVERHEAD;
    for cert in std::iter::once(&key.certificate).chain(&key.chain) {
        room += cert.to_der().map_err(cms::CmsError::from)?.len();
    }
    if stamper.is_some() {
        room += TOKEN_ROOM;
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
    let digest = prepared.digest();
    let mut token = None;
    let der = cms::sign(
        cms::Content::Detached { digest: &digest },
        key,
        |signature| {
            let Some(stamper) = stamper else {
                return Ok(None);
            };
            let stamped = stamper.stamp(signature);
            let result = match &stamped {
                Ok(stamp) => Ok(Some(stamp.clone())),
                Err(error) => Err(cms::CmsError::TimeStamp(error.to_string())),
            };
            token = Some(stamped);
            result
        },
    );
    let token = match token {
        Some(Err(error)) => return Err(error.into()),
        Some(Ok(token)) => Some(token),
        None => None,
    };
    let signed = prepared.finish(&der?)?;
    if level < Level::BLT {
        return Ok(signed);
    }
    let mut data = validation.clone();
    data.add_signer(key)?;
    if let Some(token) = &token {
        data.add_cms_certificates(token)
            .map_err(|e| tsa::TsaError::BadResponse(e.to_string()))?;
    }
    let with_dss = ltv::add_dss(&signed, &data)?;
    match (level, stamper) {
        (Level::BLTA, Some(stamper)) => Ok(ltv::add_document_time_stamp(&with_dss, stamper)?),
        _ => Ok(with_dss),
    }
}
