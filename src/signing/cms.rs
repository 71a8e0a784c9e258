//! The CMS SignedData of a PAdES signature (ETSI EN 319 122-1 as PAdES baseline profiles it):
//! detached over the PDF's byte ranges, with the signed attributes content-type, message-digest
//! and ESS signing-certificate-v2, and no signing-time (the time is the signature dictionary's
//! `/M`). Built with RustCrypto's ASN.1 types, since OpenSSL's CMS builder always adds
//! signing-time; the signature value itself is OpenSSL's.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::key::{Algorithm, KeyError, SigningKey};

pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// id-aa-signatureTimeStampToken: an RFC 3161 token over the signature value (B-T).
pub const ID_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
pub const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ID_ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

#[derive(Debug, thiserror::Error)]
pub enum CmsError {
    #[error("ASN.1: {0}")]
    Der(#[from] der::Error),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("openssl: {0}")]
    Openssl(#[from] openssl::error::ErrorStack),
    #[error("{0}")]
    TimeStamp(String),
}

/// ESS SigningCertificateV2 (RFC 5035): binds the signature to the signer's certificate.
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// ESSCertIDv2 with the default hash algorithm, SHA-256, which DER leaves out.
#[derive(Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

#[derive(Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

pub fn sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ID_SHA256,
        parameters: None,
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, CmsError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// The DER value at the start of `bytes` without what follows it (a signature's /Contents is
/// zero-padded to its reserved size): the value's own length says where it ends.
pub fn der_prefix(bytes: &[u8]) -> &[u8] {
    let header =
        der::SliceReader::new(bytes).and_then(|mut reader| der::Header::decode(&mut reader));
    let Ok(header) = header else { return bytes };
    let header_len = header
        .encoded_len()
        .ok()
        .and_then(|l| usize::try_from(l).ok());
    let body_len = usize::try_from(header.length).ok();
    match (header_len, body_len) {
        (Some(h), Some(b)) if h + b <= bytes.len() => &bytes[..h + b],
        _ => bytes,
    }
}

/// A certificate from OpenSSL in RustCrypto's types.
pub fn certificate(x509: &openssl::x509::X509Ref) -> Result<Certificate, CmsError> {
    Ok(Certificate::from_der(&x509.to_der()?)?)
}

/// The signed attributes over `digest`, the SHA-256 of the content.
fn signed_attributes(
    content_type: ObjectIdentifier,
    digest: &[u8],
    signer: &Certificate,
) -> Result<SetOfVec<Attribute>, CmsError> {
    let signer_der = signer.to_der()?;
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(openssl::sha::sha256(&signer_der).to_vec())?,
            issuer_serial: IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    signer.tbs_certificate.issuer.clone(),
                )],
                serial_number: signer.tbs_certificate.serial_number.clone(),
            },
        }],
    };
    Ok(SetOfVec::try_from(vec![
        attribute(ID_CONTENT_TYPE, Any::encode_from(&content_type)?)?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest)?)?,
        )?,
        attribute(ID_SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
    ])?)
}

/// What a SignedData signs.
pub enum Content<'a> {
    /// Detached data (the PDF's signed byte ranges) of which this is the SHA-256.
    Detached { digest: &'a [u8] },
    /// Content carried inside, of the given type (a time-stamp's TSTInfo).
    Encapsulated {
        content_type: ObjectIdentifier,
        der: &'a [u8],
    },
}

/// Signs `content` with `key` and returns the DER of the CMS ContentInfo. `time_stamp` is
/// given the signature value and returns an RFC 3161 token (a ContentInfo) over it, for B-T,
/// or nothing.
pub fn sign(
    content: Content<'_>,
    key: &SigningKey,
    time_stamp: impl FnOnce(&[u8]) -> Result<Option<Vec<u8>>, CmsError>,
) -> Result<Vec<u8>, CmsError> {
    let signer = certificate(&key.certificate)?;
    let (content_type, digest, econtent) = match content {
        Content::Detached { digest } => (ID_DATA, digest.to_vec(), None),
        Content::Encapsulated { content_type, der } => (
            content_type,
            openssl::sha::sha256(der).to_vec(),
            Some(Any::encode_from(&OctetString::new(der)?)?),
        ),
    };
    let signed_attrs = signed_attributes(content_type, &digest, &signer)?;
    // The signature covers the attributes' DER as a SET OF (RFC 5652 §5.4), not the [0]
    // IMPLICIT form they take inside SignerInfo.
    let signature = key.sign(&signed_attrs.to_der()?)?;
    let unsigned_attrs = match time_stamp(&signature)? {
        Some(token) => Some(SetOfVec::try_from(vec![attribute(
            ID_SIGNATURE_TIME_STAMP_TOKEN,
            Any::from_der(&token)?,
        )?])?),
        None => None,
    };
    let signature_algorithm = match key.algorithm {
        Algorithm::RsaSha256 => AlgorithmIdentifierOwned {
            oid: ID_RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        Algorithm::EcdsaP256Sha256 => AlgorithmIdentifierOwned {
            oid: ID_ECDSA_WITH_SHA256,
            parameters: None,
        },
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer.tbs_certificate.issuer.clone(),
            serial_number: signer.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_algorithm(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm,
        signature: OctetString::new(signature)?,
        unsigned_attrs,
    };
    let mut certificates = vec![CertificateChoices::Certificate(signer)];
    for above in &key.chain {
        certificates.push(CertificateChoices::Certificate(certificate(above)?));
    }
    let signed_data = SignedData {
        // RFC 5652 §5.1: version 3 when the content is other than id-data.
        version: if content_type == ID_DATA {
            CmsVersion::V1
        } else {
            CmsVersion::V3
        },
        digest_algorithms: SetOfVec::try_from(vec![sha256_algorithm()])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: content_type,
            econtent,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certificates)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    let content_info = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data)?,
    };
    Ok(content_info.to_der()?)
}
