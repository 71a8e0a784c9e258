//! RFC 3161 time-stamps: the client that asks a time-stamp authority for a token over a
//! signature value (B-T) or a document revision (B-LTA), and the demo authority that answers
//! on loopback with the demo PKI's TSA certificate, so that everything works offline.

use std::time::{Duration, SystemTime};

use cmpv2::status::{PkiStatus, PkiStatusInfo};
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::asn1::{GeneralizedTime, Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use x509_cert::spki::AlgorithmIdentifier;
use x509_tsp::{Accuracy, MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

use super::cms::{CmsError, Content, ID_SHA256};
use super::key::SigningKey;

/// id-ct-TSTInfo.
pub const ID_CT_TST_INFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// The demo authority's policy: under 1.3.6.1.4.1.32473, the enterprise number IANA keeps
/// for documentation (RFC 5612).
const DEMO_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.1");
/// The largest response read from an authority.
const MAX_RESPONSE: u64 = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum TsaError {
    #[error("layanan cap waktu (TSA) {url} tidak dapat dihubungi: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("layanan cap waktu (TSA) menolak: {0}")]
    Refused(String),
    #[error("jawaban layanan cap waktu (TSA) tidak sah: {0}")]
    BadResponse(String),
    #[error(transparent)]
    Cms(#[from] CmsError),
}

fn sha256_imprint(digest: &[u8; 32]) -> Result<MessageImprint, der::Error> {
    Ok(MessageImprint {
        hash_algorithm: AlgorithmIdentifier {
            oid: ID_SHA256,
            parameters: None,
        },
        hashed_message: OctetString::new(digest.to_vec())?,
    })
}

/// A positive INTEGER of `bytes` random bytes.
fn random_int(bytes: usize) -> Result<Int, CmsError> {
    let mut random = vec![0u8; bytes];
    openssl::rand::rand_bytes(&mut random)?;
    random[0] &= 0x7f;
    random[0] |= 0x01;
    Ok(Int::new(&random)?)
}

/// A configured authority, asked over HTTP.
#[derive(Clone, Debug)]
pub struct TimeStamper {
    pub url: String,
    pub timeout: Duration,
}

impl TimeStamper {
    pub fn new(url: &str) -> TimeStamper {
        TimeStamper {
            url: url.to_owned(),
            timeout: Duration::from_secs(15),
        }
    }

    /// A token over `data` (its SHA-256), checked to answer this request: the imprint and the
    /// nonce must be ours. Returns the token's DER (a ContentInfo).
    pub fn stamp(&self, data: &[u8]) -> Result<Vec<u8>, TsaError> {
        self.stamp_digest(&openssl::sha::sha256(data))
    }

    /// [`stamp`](Self::stamp) for data whose SHA-256 is `digest`.
    pub fn stamp_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, TsaError> {
        let bad = |e: &dyn std::fmt::Display| TsaError::BadResponse(e.to_string());
        let imprint = sha256_imprint(digest).map_err(|e| bad(&e))?;
        let nonce = random_int(8)?;
        let request = TimeStampReq {
            version: TspVersion::V1,
            message_imprint: imprint.clone(),
            req_policy: None,
            nonce: Some(nonce.clone()),
            cert_req: true,
            extensions: None,
        }
        .to_der()
        .map_err(|e| bad(&e))?;
        let unreachable = |reason: String| TsaError::Unreachable {
            url: self.url.clone(),
            reason,
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent
            .post(&self.url)
            .header("Content-Type", "application/timestamp-query")
            .send(&request[..])
            .map_err(|e| unreachable(e.to_string()))?;
        if response.status() != 200 {
            return Err(unreachable(format!("HTTP {}", response.status())));
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| unreachable(e.to_string()))?;
        let answer = TimeStampResp::from_der(&body).map_err(|e| bad(&e))?;
        if !matches!(
            answer.status.status,
            PkiStatus::Accepted | PkiStatus::GrantedWithMods
        ) {
            return Err(TsaError::Refused(format!("{:?}", answer.status.status)));
        }
        let token = answer
            .time_stamp_token
            .ok_or_else(|| TsaError::BadResponse("tanpa token".into()))?;
        let info = token_info(&token).map_err(|e| bad(&e))?;
        if info.message_imprint != imprint {
            return Err(TsaError::BadResponse("cap waktu untuk data lain".into()));
        }
        if info.nonce != Some(nonce) {
            return Err(TsaError::BadResponse("nonce tidak sesuai".into()));
        }
        token.to_der().map_err(|e| bad(&e))
    }
}

/// The TSTInfo inside a token.
pub fn token_info(token: &ContentInfo) -> Result<TstInfo, der::Error> {
    let signed = SignedData::from_der(&token.content.to_der()?)?;
    let content = signed
        .encap_content_info
        .econtent
        .ok_or_else(|| der::Tag::OctetString.value_error())?;
    let octets = OctetString::from_der(&content.to_der()?)?;
    TstInfo::from_der(octets.as_bytes())
}

/// The demo authority: answers time-stamp requests with its key.
pub struct Authority {
    key: SigningKey,
}

impl Authority {
    pub fn new(key: SigningKey) -> Authority {
        Authority { key }
    }

    /// The DER of a TimeStampResp to `request`: a token, or a rejection of a request it
    /// cannot read or of a hash other than SHA-256.
    pub fn respond(&self, request: &[u8]) -> Vec<u8> {
        let answer = match self.token(request) {
            Ok(token) => TimeStampResp {
                status: status(PkiStatus::Accepted),
                time_stamp_token: Some(token),
            },
            Err(error) => {
                tracing::warn!(%error, "time-stamp request refused");
                TimeStampResp {
                    status: status(PkiStatus::Rejection),
                    time_stamp_token: None,
                }
            }
        };
        // A response of these types always encodes; an empty body is what a client would
        // report as unreadable should it not.
        answer.to_der().unwrap_or_default()
    }

    fn token(&self, request: &[u8]) -> Result<ContentInfo, CmsError> {
        let request = TimeStampReq::from_der(request)?;
        if request.message_imprint.hash_algorithm.oid != ID_SHA256
            || request.message_imprint.hashed_message.as_bytes().len() != 32
        {
            return Err(CmsError::TimeStamp("only SHA-256 imprints".into()));
        }
        let info = TstInfo {
            version: TspVersion::V1,
            policy: DEMO_POLICY,
            message_imprint: request.message_imprint,
            serial_number: random_int(16)?,
            gen_time: GeneralizedTime::from_system_time(SystemTime::now())?,
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce: request.nonce,
            tsa: None,
            extensions: None,
        }
        .to_der()?;
        let token = super::cms::sign(
            Content::Encapsulated {
                content_type: ID_CT_TST_INFO,
                der: &info,
            },
            &self.key,
            |_| Ok(None),
        )?;
        Ok(ContentInfo::from_der(&token)?)
    }
}

fn status(status: PkiStatus) -> PkiStatusInfo<'static> {
    PkiStatusInfo {
        status,
        status_string: None,
        fail_info: None,
    }
}
