//! Long-term validation: B-LT adds, in a revision after the signature, the document security
//! store (`/DSS`) with the certificates and CRLs a validator needs to check the signature and
//! its time-stamp years later, offline; B-LTA adds a document time-stamp over that revision,
//! renewed before the time-stamp's certificate expires (`naskah ltv refresh`).

use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::{Decode, Encode};
use lopdf::{Dictionary, Object, Stream};

use super::pdf::{self, PdfError, resolve, unreadable};
use super::tsa::TimeStamper;
use super::{SigningError, SigningKey, cms as naskah_cms};

/// Certificates and CRLs, DER, to put in the DSS.
#[derive(Clone, Debug, Default)]
pub struct ValidationData {
    pub certs: Vec<Vec<u8>>,
    pub crls: Vec<Vec<u8>>,
    /// OCSP responses (DER `OCSPResponse`), for authorities that answer by OCSP.
    pub ocsps: Vec<Vec<u8>>,
}

impl ValidationData {
    fn add_cert(&mut self, der: Vec<u8>) {
        if !self.certs.contains(&der) {
            self.certs.push(der);
        }
    }

    /// The signer's certificate and the chain above it.
    pub fn add_signer(&mut self, key: &SigningKey) -> Result<(), SigningError> {
        for cert in std::iter::once(&key.certificate).chain(&key.chain) {
            self.add_cert(cert.to_der().map_err(naskah_cms::CmsError::from)?);
        }
        Ok(())
    }

    /// The certificates a CMS carries (a time-stamp token's authority and its chain).
    pub fn add_cms_certificates(&mut self, content_info: &[u8]) -> Result<(), der::Error> {
        let info = ContentInfo::from_der(content_info)?;
        let signed = SignedData::from_der(&info.content.to_der()?)?;
        for choice in signed.certificates.iter().flat_map(|set| set.0.iter()) {
            if let CertificateChoices::Certificate(cert) = choice {
                self.add_cert(cert.to_der()?);
            }
        }
        Ok(())
    }
}

fn stream(der: &[u8]) -> Stream {
    Stream::new(Dictionary::new(), der.to_vec())
}

/// Adds `data` to the document's DSS (made when missing) in a new revision. What the DSS
/// already holds is kept and not added twice.
pub fn add_dss(input: &[u8], data: &ValidationData) -> Result<Vec<u8>, SigningError> {
    let output = pdf::update_catalog(input, |update, catalog| {
        let prev = update.get_prev_documents();
        let mut dss = match catalog.get(b"DSS") {
            Ok(entry) => resolve(prev, entry)?.as_dict().map_err(unreadable)?.clone(),
            Err(_) => Dictionary::new(),
        };
        let mut lists = Vec::new();
        for (key, items) in [
            (&b"Certs"[..], &data.certs),
            (b"CRLs", &data.crls),
            (b"OCSPs", &data.ocsps),
        ] {
            let list: Vec<Object> = match dss.get(key) {
                Ok(entry) => resolve(prev, entry)?
                    .as_array()
                    .map_err(unreadable)?
                    .clone(),
                Err(_) => Vec::new(),
            };
            let held: Vec<Vec<u8>> = list
                .iter()
                .filter_map(|o| resolve(prev, o).ok()?.as_stream().ok())
                .filter_map(|s| s.get_plain_content().ok())
                .collect();
            let new: Vec<&Vec<u8>> = items.iter().filter(|der| !held.contains(der)).collect();
            lists.push((key, list, new));
        }
        for (key, mut list, new) in lists {
            for der in new {
                list.push(Object::Reference(
                    update.new_document.add_object(stream(der)),
                ));
            }
            dss.set(key.to_vec(), list);
        }
        dss.set("Type", Object::Name(b"DSS".to_vec()));
        let dss_id = update.new_document.add_object(dss);
        catalog.set("DSS", Object::Reference(dss_id));
        Ok::<_, PdfError>(())
    })?;
    Ok(output)
}

/// Bytes kept for a document time-stamp token.
const DOCUMENT_TOKEN_ROOM: usize = 16 * 1024;

/// Adds a document time-stamp (`/ETSI.RFC3161`) over the whole of `input`, in a new revision.
pub fn add_document_time_stamp(
    input: &[u8],
    stamper: &TimeStamper,
) -> Result<Vec<u8>, SigningError> {
    let field = pdf::Field {
        name: None,
        kind: pdf::Kind::DocTimeStamp,
        page: 1,
        rect: None,
        reason: None,
        location: None,
        signed_at: chrono::Utc::now(),
        room: DOCUMENT_TOKEN_ROOM,
        reserve: Vec::new(),
    };
    let prepared = pdf::prepare(input, &field)?;
    let token = stamper.stamp_digest(&prepared.digest())?;
    Ok(prepared.finish(&token)?)
}

/// A time-stamp found in a document: when it was made, and when its authority's certificate
/// expires (after which it proves nothing new, and must be covered by a newer one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeStampSeen {
    pub made: chrono::DateTime<chrono::Utc>,
    pub authority_expires: chrono::DateTime<chrono::Utc>,
}

/// The newest time-stamp of `pdf`: document time-stamps, and the signature time-stamps inside
/// the signatures' CMS. `None` for a document without any (B-B).
pub fn newest_time_stamp(pdf: &[u8]) -> Result<Option<TimeStampSeen>, SigningError> {
    let mut newest: Option<TimeStampSeen> = None;
    for token in time_stamp_tokens(pdf)? {
        let Ok(seen) = time_stamp_seen(&token) else {
            continue;
        };
        if newest.as_ref().is_none_or(|n| seen.made > n.made) {
            newest = Some(seen);
        }
    }
    Ok(newest)
}

/// Every time-stamp token of `pdf`, document and signature time-stamps alike.
fn time_stamp_tokens(pdf: &[u8]) -> Result<Vec<Vec<u8>>, SigningError> {
    let document = pdf::load(pdf)?;
    let mut tokens: Vec<Vec<u8>> = Vec::new();
    for (_, object) in document.objects.iter() {
        let Ok(dict) = object.as_dict() else { continue };
        let Ok(contents) = dict.get(b"Contents").and_then(Object::as_str) else {
            continue;
        };
        match dict.get(b"SubFilter").and_then(Object::as_name) {
            Ok(b"ETSI.RFC3161") => tokens.push(naskah_cms::der_prefix(contents).to_vec()),
            Ok(b"ETSI.CAdES.detached") | Ok(b"adbe.pkcs7.detached") => {
                tokens.extend(signature_time_stamps(naskah_cms::der_prefix(contents)));
            }
            _ => {}
        }
    }
    Ok(tokens)
}

/// The signature time-stamp tokens in a signature's CMS.
fn signature_time_stamps(content_info: &[u8]) -> Vec<Vec<u8>> {
    let Ok(info) = ContentInfo::from_der(content_info) else {
        return Vec::new();
    };
    let Ok(signed) = info.content.to_der().and_then(|d| SignedData::from_der(&d)) else {
        return Vec::new();
    };
    signed
        .signer_infos
        .0
        .iter()
        .filter_map(|signer| signer.unsigned_attrs.as_ref())
        .flat_map(|attrs| attrs.iter())
        .filter(|attr| attr.oid == naskah_cms::ID_SIGNATURE_TIME_STAMP_TOKEN)
        .flat_map(|attr| attr.values.iter())
        .filter_map(|value| value.to_der().ok())
        .collect()
}

/// When `token` was made, and until when its signer's certificate holds.
fn time_stamp_seen(token: &[u8]) -> Result<TimeStampSeen, der::Error> {
    let info = ContentInfo::from_der(token)?;
    let tst = super::tsa::token_info(&info)?;
    let signed = SignedData::from_der(&info.content.to_der()?)?;
    let signer = signed.signer_infos.0.iter().next().map(|s| s.sid.clone());
    let mut expires = None;
    for choice in signed.certificates.iter().flat_map(|set| set.0.iter()) {
        let CertificateChoices::Certificate(cert) = choice else {
            continue;
        };
        let tbs = &cert.tbs_certificate;
        let is_signer = match &signer {
            Some(cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(id)) => {
                id.issuer == tbs.issuer && id.serial_number == tbs.serial_number
            }
            _ => true,
        };
        if is_signer {
            expires = Some(tbs.validity.not_after.to_unix_duration());
        }
    }
    let expires = expires.ok_or_else(|| der::Tag::Sequence.value_error())?;
    let at = |d: std::time::Duration| {
        chrono::DateTime::from_timestamp(d.as_secs() as i64, 0).unwrap_or_default()
    };
    Ok(TimeStampSeen {
        made: at(tst.gen_time.to_unix_duration()),
        authority_expires: at(expires),
    })
}

/// Renews the long-term proof of `pdf`: the DSS gains the certificates of its time-stamp
/// authorities and `crls`, and a new document time-stamp covers it all.
pub fn refresh(
    pdf: &[u8],
    stamper: &TimeStamper,
    crls: &[Vec<u8>],
) -> Result<Vec<u8>, SigningError> {
    let mut validation = ValidationData {
        crls: crls.to_vec(),
        ..ValidationData::default()
    };
    for token in time_stamp_tokens(pdf)? {
        validation
            .add_cms_certificates(&token)
            .map_err(|e| super::tsa::TsaError::BadResponse(e.to_string()))?;
    }
    let with_dss = add_dss(pdf, &validation)?;
    add_document_time_stamp(&with_dss, stamper)
}
