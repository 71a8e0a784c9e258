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
        for (key, items) in [(&b"Certs"[..], &data.certs), (b"CRLs", &data.crls)] {
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
