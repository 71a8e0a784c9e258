//! Checking a CMS signature the way a relying party must: the signed attributes' message
//! digest against the digest of what was signed, the signature value against the signer's
//! public key, and a time-stamp token's imprint against what it stamps.

use cms::content_info::ContentInfo;
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier, SignerInfo, SignerInfos};
use der::asn1::{AnyRef, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Public};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Verifier};
use openssl::x509::X509;

const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

/// A parsed SignedData and its signer.
pub struct Parsed {
    /// What it encapsulates (a time-stamp token's TSTInfo; nothing for a PDF signature).
    pub content: EncapsulatedContentInfo,
    pub signer: SignerInfo,
    /// The signer's certificate, when the CMS carries it.
    pub certificate: Option<X509>,
    /// Every certificate the CMS carries.
    pub certificates: Vec<X509>,
}

/// Reads a ContentInfo holding a SignedData with one signer (more are refused: a PDF signature
/// has one). The SignedData is read field by field so that its certificates are taken as the
/// bytes they are, for OpenSSL (and its cache) to read, not decoded into structures first.
pub fn parse(der: &[u8]) -> Result<Parsed, String> {
    let unreadable = |e: der::Error| format!("SignedData tidak terbaca: {e}");
    let info = ContentInfo::from_der(der).map_err(|e| format!("CMS tidak terbaca: {e}"))?;
    if info.content_type != crate::signing::cms::ID_SIGNED_DATA {
        return Err("CMS bukan SignedData".into());
    }
    if info.content.tag() != Tag::Sequence {
        return Err("SignedData bukan SEQUENCE".into());
    }
    // SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo,
    //   certificates [0] IMPLICIT SET OPTIONAL, crls [1] IMPLICIT SET OPTIONAL, signerInfos SET }
    let mut reader = SliceReader::new(info.content.value()).map_err(unreadable)?;
    let version: AnyRef<'_> = reader.decode().map_err(unreadable)?;
    let algorithms: AnyRef<'_> = reader.decode().map_err(unreadable)?;
    if version.tag() != Tag::Integer || algorithms.tag() != Tag::Set {
        return Err("SignedData tidak sesuai bentuknya".into());
    }
    let content: EncapsulatedContentInfo = reader.decode().map_err(unreadable)?;
    let tagged = |number| Tag::ContextSpecific {
        constructed: true,
        number,
    };
    let mut certificate_set: &[u8] = &[];
    if reader.peek_tag().map_err(unreadable)? == tagged(TagNumber::N0) {
        let set: AnyRef<'_> = reader.decode().map_err(unreadable)?;
        certificate_set = set.value();
    }
    if reader.peek_tag().map_err(unreadable)? == tagged(TagNumber::N1) {
        let _crls: AnyRef<'_> = reader.decode().map_err(unreadable)?;
    }
    let signer_infos: SignerInfos = reader.decode().map_err(unreadable)?;
    reader.finish(()).map_err(unreadable)?;
    let mut signers = signer_infos.0.into_vec().into_iter();
    let signer = signers.next().ok_or("CMS tanpa penanda tangan")?;
    if signers.next().is_some() {
        return Err("CMS dengan lebih dari satu penanda tangan".into());
    }

    let mut certificates = Vec::new();
    let mut certificate = None;
    let mut set = SliceReader::new(certificate_set).map_err(unreadable)?;
    while !set.is_finished() {
        let start = usize::try_from(u32::from(set.position())).unwrap_or(usize::MAX);
        let choice: AnyRef<'_> = set.decode().map_err(unreadable)?;
        let end = usize::try_from(u32::from(set.position())).unwrap_or(usize::MAX);
        // Other certificate choices (attribute certificates, …) are tagged: not ours.
        if choice.tag() != Tag::Sequence {
            continue;
        }
        let Some(x509) = certificate_set.get(start..end).and_then(self::certificate) else {
            continue;
        };
        if certificate.is_none() && identifies(&signer.sid, &x509) {
            certificate = Some(x509.clone());
        }
        certificates.push(x509);
    }
    Ok(Parsed {
        content,
        signer,
        certificate,
        certificates,
    })
}

/// Whether `sid` names `certificate`: by issuer and serial number, or by subject key id.
fn identifies(sid: &SignerIdentifier, certificate: &X509) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            let issuer = id.issuer.to_der().ok();
            let serial = certificate
                .serial_number()
                .to_bn()
                .map(|bn| bn.to_vec())
                .ok();
            let claimed = id.serial_number.as_bytes();
            let claimed = &claimed[claimed.iter().take_while(|b| **b == 0).count()..];
            issuer.is_some()
                && issuer == certificate.issuer_name().to_der().ok()
                && serial.as_deref() == Some(claimed)
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => certificate
            .subject_key_id()
            .is_some_and(|own| own.as_slice() == ski.0.as_bytes()),
    }
}

/// A digest algorithm a signer may use: SHA-256, -384 or -512 (SHA-1 is refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Digest {
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    fn message_digest(self) -> MessageDigest {
        match self {
            Digest::Sha256 => MessageDigest::sha256(),
            Digest::Sha384 => MessageDigest::sha384(),
            Digest::Sha512 => MessageDigest::sha512(),
        }
    }

    /// The digest of `parts`, one after the other (OpenSSL's SHA-2 functions directly: no
    /// algorithm lookup per call).
    pub fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        match self {
            Digest::Sha256 => {
                let mut hasher = openssl::sha::Sha256::new();
                parts.iter().for_each(|p| hasher.update(p));
                hasher.finish().to_vec()
            }
            Digest::Sha384 => {
                let mut hasher = openssl::sha::Sha384::new();
                parts.iter().for_each(|p| hasher.update(p));
                hasher.finish().to_vec()
            }
            Digest::Sha512 => {
                let mut hasher = openssl::sha::Sha512::new();
                parts.iter().for_each(|p| hasher.update(p));
                hasher.finish().to_vec()
            }
        }
    }
}

fn digest_for(oid: &ObjectIdentifier) -> Option<Digest> {
    match oid.to_string().as_str() {
        "2.16.840.1.101.3.4.2.1" => Some(Digest::Sha256),
        "2.16.840.1.101.3.4.2.2" => Some(Digest::Sha384),
        "2.16.840.1.101.3.4.2.3" => Some(Digest::Sha512),
        _ => None,
    }
}

/// The digest algorithm the signer used.
pub fn digest_algorithm(parsed: &Parsed) -> Result<Digest, String> {
    digest_for(&parsed.signer.digest_alg.oid).ok_or_else(|| {
        format!(
            "algoritma digest {} tidak diterima",
            parsed.signer.digest_alg.oid
        )
    })
}

/// What the signer claims to have signed: the content digest in its message-digest attribute,
/// and whether the content type is the one expected.
fn message_digest(signer: &SignerInfo, content_type: ObjectIdentifier) -> Result<Vec<u8>, String> {
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or("CMS tanpa atribut bertanda tangan")?;
    let value = |oid| {
        attrs
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
    };
    let declared = value(ID_CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .ok_or("atribut content-type tidak ada")?;
    if declared != content_type {
        return Err(format!("content-type {declared}, bukan {content_type}"));
    }
    let digest = value(ID_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or("atribut message-digest tidak ada")?;
    Ok(digest.as_bytes().to_vec())
}

/// The signing-time attribute, when a signer added one (PAdES signers do not).
pub fn signing_time(signer: &SignerInfo) -> Option<chrono::DateTime<chrono::Utc>> {
    let attrs = signer.signed_attrs.as_ref()?;
    let value = attrs
        .iter()
        .find(|a| a.oid == ID_SIGNING_TIME)?
        .values
        .iter()
        .next()?;
    let time = x509_cert::time::Time::from_der(&value.to_der().ok()?).ok()?;
    chrono::DateTime::from_timestamp(time.to_unix_duration().as_secs() as i64, 0)
}

/// Checks that the signature over the signed attributes is the signer's, and that those
/// attributes name `content_digest` (computed by the caller over what was signed with the
/// signer's digest algorithm) and `content_type`.
pub fn check(
    parsed: &Parsed,
    content_digest: &[u8],
    content_type: ObjectIdentifier,
) -> Result<(), String> {
    let claimed = message_digest(&parsed.signer, content_type)?;
    if claimed != content_digest {
        return Err("digest dokumen tidak sama dengan yang ditandatangani".into());
    }
    let certificate = parsed
        .certificate
        .as_ref()
        .ok_or("sertifikat penanda tangan tidak disertakan")?;
    let key = certificate
        .public_key()
        .map_err(|e| format!("kunci publik tidak terbaca: {e}"))?;
    let attrs = parsed
        .signer
        .signed_attrs
        .as_ref()
        .ok_or("CMS tanpa atribut bertanda tangan")?
        .to_der()
        .map_err(|e| e.to_string())?;
    let digest = digest_algorithm(parsed)?;
    let valid = verify_value(
        &key,
        &parsed.signer,
        digest.message_digest(),
        &attrs,
        parsed.signer.signature.as_bytes(),
    )
    .map_err(|e| format!("tanda tangan tidak dapat diperiksa: {e}"))?;
    if valid {
        Ok(())
    } else {
        Err("nilai tanda tangan tidak cocok dengan sertifikat".into())
    }
}

fn verify_value(
    key: &PKey<Public>,
    signer: &SignerInfo,
    digest: MessageDigest,
    data: &[u8],
    signature: &[u8],
) -> Result<bool, openssl::error::ErrorStack> {
    let mut verifier = Verifier::new(digest, key)?;
    if key.id() == Id::RSA && signer.signature_algorithm.oid == ID_RSASSA_PSS {
        verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
        verifier.set_rsa_mgf1_md(digest)?;
        // -2: the salt length is read from the signature.
        verifier.set_rsa_pss_saltlen(RsaPssSaltlen::custom(-2))?;
    }
    verifier.update(data)?;
    verifier.verify(signature)
}

/// The certificates already read, by their DER's SHA-256: the letters of one office carry the
/// same few certificates, and reading one is among the dearest steps of OpenSSL 3.
type CertificateCache = std::sync::Mutex<std::collections::HashMap<[u8; 32], X509>>;
static CERTIFICATES: std::sync::OnceLock<CertificateCache> = std::sync::OnceLock::new();
/// Past this many the cache starts again, so that a stream of strangers cannot grow it.
const CACHED_CERTIFICATES: usize = 4_096;

/// `der` read as a certificate, from the cache when it was read before.
pub fn certificate(der: &[u8]) -> Option<X509> {
    let key = openssl::sha::sha256(der);
    let cache = CERTIFICATES.get_or_init(Default::default);
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Some(found);
    }
    let read = X509::from_der(der).ok()?;
    if let Ok(mut cache) = cache.lock() {
        if cache.len() >= CACHED_CERTIFICATES {
            cache.clear();
        }
        cache.insert(key, read.clone());
    }
    Some(read)
}

/// A certificate's subject as an auditor reads it: name, NIP (serialNumber), jabatan (title).
pub fn subject(certificate: &X509) -> (String, Option<String>, Option<String>) {
    let entry = |nid| {
        certificate
            .subject_name()
            .entries_by_nid(nid)
            .next()
            .and_then(|e| e.data().to_string().ok())
    };
    (
        entry(Nid::COMMONNAME).unwrap_or_else(|| "(tanpa nama)".into()),
        entry(Nid::SERIALNUMBER),
        entry(Nid::TITLE),
    )
}

/// A checked time-stamp token: when it says the data existed.
pub struct TimeStamp {
    pub at: chrono::DateTime<chrono::Utc>,
    pub parsed: Parsed,
}

/// Checks a time-stamp token over `data`: its own signature, and that its imprint is the
/// digest of `data`.
pub fn check_time_stamp(token: &[u8], data: &[&[u8]]) -> Result<TimeStamp, String> {
    let parsed = parse(token)?;
    let econtent = parsed
        .content
        .econtent
        .as_ref()
        .ok_or("token tanpa TSTInfo")?;
    let octets = econtent
        .decode_as::<OctetString>()
        .map_err(|e| format!("TSTInfo tidak terbaca: {e}"))?;
    let info = x509_tsp::TstInfo::from_der(octets.as_bytes())
        .map_err(|e| format!("TSTInfo tidak terbaca: {e}"))?;
    let digest = digest_algorithm(&parsed)?;
    let content_digest = digest.hash(&[octets.as_bytes()]);
    check(
        &parsed,
        &content_digest,
        crate::signing::tsa::ID_CT_TST_INFO,
    )?;
    let imprint_digest = digest_for(&info.message_imprint.hash_algorithm.oid)
        .ok_or("algoritma imprint tidak diterima")?;
    let expected = imprint_digest.hash(data);
    if info.message_imprint.hashed_message.as_bytes() != &expected[..] {
        return Err("cap waktu untuk data lain".into());
    }
    let at = chrono::DateTime::from_timestamp(info.gen_time.to_unix_duration().as_secs() as i64, 0)
        .ok_or("waktu cap waktu tidak terbaca")?;
    Ok(TimeStamp { at, parsed })
}

/// The signature time-stamp token in the signer's unsigned attributes (B-T), if any.
pub fn signature_time_stamp_token(signer: &SignerInfo) -> Option<Vec<u8>> {
    signer
        .unsigned_attrs
        .as_ref()?
        .iter()
        .find(|a| a.oid == crate::signing::cms::ID_SIGNATURE_TIME_STAMP_TOKEN)?
        .values
        .iter()
        .next()?
        .to_der()
        .ok()
}
