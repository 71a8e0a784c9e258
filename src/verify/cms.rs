//! Checking a CMS signature the way a relying party must: the signed attributes' message
//! digest against the digest of what was signed, the signature value against the signer's
//! public key, and a time-stamp token's imprint against what it stamps. A CMS in BER is read
//! through [`super::ber`]; the signature over the signed attributes is checked on their DER,
//! as RFC 5652 has it, in the order the signer wrote them.

use cms::content_info::ContentInfo;
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier, SignerInfo};
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
/// Adobe's adbe-revocationInfoArchival signed attribute.
const ID_ADBE_REVOCATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113583.1.1.8");
/// id-ri-ocsp-response (RFC 5940): an OCSP response among a SignedData's CRLs.
const ID_RI_OCSP_RESPONSE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.16.2");

/// A parsed SignedData and its signer.
pub struct Parsed {
    /// What it encapsulates (a time-stamp token's TSTInfo; nothing for a PDF signature).
    pub content: EncapsulatedContentInfo,
    pub signer: SignerInfo,
    /// The signed attributes as the signer encoded them, tagged as the SET they are signed
    /// as; `None` when the signature is over the content itself.
    signed_attributes: Option<Vec<u8>>,
    /// The signer's certificate, when the CMS carries it.
    pub certificate: Option<X509>,
    /// Every certificate the CMS carries.
    pub certificates: Vec<X509>,
    /// The CRLs and OCSP responses it carries (DER): in its own `crls` field, or in Adobe's
    /// revocation-information attribute, where Acrobat and iText put them.
    pub crls: Vec<Vec<u8>>,
    pub ocsps: Vec<Vec<u8>>,
}

/// Reads a ContentInfo holding a SignedData with one signer (more are refused: a PDF signature
/// has one), in DER or else in BER; what follows the ContentInfo (a `/Contents`' padding) is
/// left alone.
pub fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let der = crate::signing::cms::der_prefix(bytes);
    match parse_der(der) {
        Ok(parsed) => Ok(parsed),
        Err(strict) => {
            let normalised =
                super::ber::to_der(bytes).map_err(|e| format!("CMS tidak terbaca: {e}"))?;
            if normalised == der {
                return Err(strict);
            }
            parse_der(&normalised)
        }
    }
}

/// [`parse`] on DER. The SignedData is read field by field so that its certificates are
/// taken as the bytes they are, for OpenSSL (and its cache) to read, not decoded into
/// structures first.
fn parse_der(der: &[u8]) -> Result<Parsed, String> {
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
    let mut crls = Vec::new();
    let mut ocsps = Vec::new();
    if reader.peek_tag().map_err(unreadable)? == tagged(TagNumber::N1) {
        let set: AnyRef<'_> = reader.decode().map_err(unreadable)?;
        revocation_choices(set.value(), &mut crls, &mut ocsps).map_err(unreadable)?;
    }
    let signer_infos: AnyRef<'_> = reader.decode().map_err(unreadable)?;
    reader.finish(()).map_err(unreadable)?;
    if signer_infos.tag() != Tag::Set {
        return Err("SignedData tidak sesuai bentuknya".into());
    }
    let mut signers = SliceReader::new(signer_infos.value()).map_err(unreadable)?;
    if signers.is_finished() {
        return Err("CMS tanpa penanda tangan".into());
    }
    let first: AnyRef<'_> = signers.decode().map_err(unreadable)?;
    if !signers.is_finished() {
        return Err("CMS dengan lebih dari satu penanda tangan".into());
    }
    let signer = SignerInfo::from_der(&first.to_der().map_err(unreadable)?).map_err(unreadable)?;
    let signed_attributes = signed_attributes(first.value()).map_err(unreadable)?;
    if let Some(archival) = attribute(&signer, ID_ADBE_REVOCATION) {
        adobe_revocation(archival, &mut crls, &mut ocsps).map_err(unreadable)?;
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
        signed_attributes,
        certificate,
        certificates,
        crls,
        ocsps,
    })
}

/// The first value of a signed attribute.
fn attribute(signer: &SignerInfo, oid: ObjectIdentifier) -> Option<&der::Any> {
    signer
        .signed_attrs
        .as_ref()?
        .iter()
        .find(|a| a.oid == oid)?
        .values
        .iter()
        .next()
}

/// A SignedData's RevocationInfoChoices: CRLs (SEQUENCEs) and OCSP responses
/// (`[1] { id-ri-ocsp-response, OCSPResponse }`); other formats are left out.
fn revocation_choices(
    set: &[u8],
    crls: &mut Vec<Vec<u8>>,
    ocsps: &mut Vec<Vec<u8>>,
) -> der::Result<()> {
    let mut reader = SliceReader::new(set)?;
    while !reader.is_finished() {
        let choice: AnyRef<'_> = reader.decode()?;
        if choice.tag() == Tag::Sequence {
            crls.push(choice.to_der()?);
            continue;
        }
        let mut other = SliceReader::new(choice.value())?;
        let format: ObjectIdentifier = other.decode()?;
        let info: AnyRef<'_> = other.decode()?;
        if format == ID_RI_OCSP_RESPONSE {
            ocsps.push(info.to_der()?);
        }
    }
    Ok(())
}

/// Adobe's RevocationInfoArchival: `SEQUENCE { crl [0] EXPLICIT SEQUENCE OF CRL OPTIONAL,
/// ocsp [1] EXPLICIT SEQUENCE OF OCSPResponse OPTIONAL, otherRevInfo [2] … OPTIONAL }`.
fn adobe_revocation(
    value: &der::Any,
    crls: &mut Vec<Vec<u8>>,
    ocsps: &mut Vec<Vec<u8>>,
) -> der::Result<()> {
    let mut reader = SliceReader::new(value.value())?;
    while !reader.is_finished() {
        let field: AnyRef<'_> = reader.decode()?;
        let into = match field.tag() {
            Tag::ContextSpecific {
                number: TagNumber::N0,
                ..
            } => &mut *crls,
            Tag::ContextSpecific {
                number: TagNumber::N1,
                ..
            } => &mut *ocsps,
            _ => continue,
        };
        let list: AnyRef<'_> = SliceReader::new(field.value())?.decode()?;
        let mut items = SliceReader::new(list.value())?;
        while !items.is_finished() {
            let item: AnyRef<'_> = items.decode()?;
            into.push(item.to_der()?);
        }
    }
    Ok(())
}

/// The signed attributes of a SignerInfo (its content, `value`) as the SET they are signed
/// as: `[0] IMPLICIT` retagged, their order and encoding as they stand.
fn signed_attributes(value: &[u8]) -> der::Result<Option<Vec<u8>>> {
    // SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, signedAttrs [0] IMPLICIT
    //   OPTIONAL, … }
    let mut reader = SliceReader::new(value)?;
    for _ in 0..3 {
        let _: AnyRef<'_> = reader.decode()?;
    }
    let attributes = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::N0,
    };
    if reader.peek_tag()? != attributes {
        return Ok(None);
    }
    let tagged: AnyRef<'_> = reader.decode()?;
    Ok(Some(AnyRef::new(Tag::Set, tagged.value())?.to_der()?))
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

/// A digest algorithm a signer may use: SHA-1 (weak: [`super::policy`]), SHA-224, -256, -384
/// or -512. MD5 and what else is broken are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Digest {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    fn message_digest(self) -> MessageDigest {
        match self {
            Digest::Sha1 => MessageDigest::sha1(),
            Digest::Sha224 => MessageDigest::sha224(),
            Digest::Sha256 => MessageDigest::sha256(),
            Digest::Sha384 => MessageDigest::sha384(),
            Digest::Sha512 => MessageDigest::sha512(),
        }
    }

    /// Its name, as an auditor reads it.
    pub fn name(self) -> &'static str {
        match self {
            Digest::Sha1 => "SHA-1",
            Digest::Sha224 => "SHA-224",
            Digest::Sha256 => "SHA-256",
            Digest::Sha384 => "SHA-384",
            Digest::Sha512 => "SHA-512",
        }
    }

    /// The digest of `parts`, one after the other (OpenSSL's SHA-2 functions directly for
    /// the common ones: no algorithm lookup per call).
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
            Digest::Sha1 | Digest::Sha224 => {
                let digest = || -> Result<Vec<u8>, openssl::error::ErrorStack> {
                    let mut hasher = openssl::hash::Hasher::new(self.message_digest())?;
                    for part in parts {
                        hasher.update(part)?;
                    }
                    Ok(hasher.finish()?.to_vec())
                };
                // Only an allocation failure stops OpenSSL here; an empty digest then
                // matches nothing.
                digest().unwrap_or_default()
            }
        }
    }
}

/// The digest an object identifier names, as CMS and a PKCS#1 DigestInfo name them.
pub fn digest_for(oid: &ObjectIdentifier) -> Option<Digest> {
    match oid.to_string().as_str() {
        "1.3.14.3.2.26" => Some(Digest::Sha1),
        "2.16.840.1.101.3.4.2.4" => Some(Digest::Sha224),
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
    let declared = attribute(signer, ID_CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .ok_or("atribut content-type tidak ada")?;
    if declared != content_type {
        return Err(format!("content-type {declared}, bukan {content_type}"));
    }
    let digest = attribute(signer, ID_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or("atribut message-digest tidak ada")?;
    Ok(digest.as_bytes().to_vec())
}

/// The signing-time attribute, when a signer added one (PAdES signers do not).
pub fn signing_time(signer: &SignerInfo) -> Option<chrono::DateTime<chrono::Utc>> {
    let value = attribute(signer, ID_SIGNING_TIME)?;
    let time = x509_cert::time::Time::from_der(&value.to_der().ok()?).ok()?;
    chrono::DateTime::from_timestamp(time.to_unix_duration().as_secs() as i64, 0)
}

/// What a signature is over: the content, in parts, and its digest with the signer's digest
/// algorithm (computed by the caller, who may know it already).
pub struct Content<'a> {
    pub parts: &'a [&'a [u8]],
    pub digest: Vec<u8>,
}

/// Checks that the signature is the signer's over `content` of type `content_type`: through
/// the signed attributes, which must name the content's digest and type, or, when there are
/// none (older signers), over the content itself.
pub fn check(
    parsed: &Parsed,
    content: &Content<'_>,
    content_type: ObjectIdentifier,
) -> Result<(), String> {
    let certificate = parsed
        .certificate
        .as_ref()
        .ok_or("sertifikat penanda tangan tidak disertakan")?;
    let key = certificate
        .public_key()
        .map_err(|e| format!("kunci publik tidak terbaca: {e}"))?;
    let digest = digest_algorithm(parsed)?;
    let signed: Vec<&[u8]> = match &parsed.signed_attributes {
        Some(attributes) => {
            let claimed = message_digest(&parsed.signer, content_type)?;
            if claimed != content.digest {
                return Err("digest dokumen tidak sama dengan yang ditandatangani".into());
            }
            vec![attributes]
        }
        None if content_type == crate::signing::cms::ID_DATA => content.parts.to_vec(),
        None => return Err("CMS tanpa atribut bertanda tangan".into()),
    };
    let valid = verify_value(
        &key,
        &parsed.signer,
        digest,
        &signed,
        parsed.signer.signature.as_bytes(),
    )
    .map_err(|e| format!("tanda tangan tidak dapat diperiksa: {e}"))?;
    if valid {
        Ok(())
    } else {
        Err("nilai tanda tangan tidak cocok dengan sertifikat".into())
    }
}

/// Whether `signature` is `key`'s over `data` (in parts): RSA PKCS#1 v1.5 or PSS, ECDSA, or
/// EdDSA (which signs the data itself, not a digest).
fn verify_value(
    key: &PKey<Public>,
    signer: &SignerInfo,
    digest: Digest,
    data: &[&[u8]],
    signature: &[u8],
) -> Result<bool, openssl::error::ErrorStack> {
    if matches!(key.id(), Id::ED25519 | Id::ED448) {
        let mut verifier = Verifier::new_without_digest(key)?;
        return verifier.verify_oneshot(signature, &data.concat());
    }
    let digest = digest.message_digest();
    let mut verifier = Verifier::new(digest, key)?;
    if key.id() == Id::RSA && signer.signature_algorithm.oid == ID_RSASSA_PSS {
        verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
        verifier.set_rsa_mgf1_md(digest)?;
        // -2: the salt length is read from the signature.
        verifier.set_rsa_pss_saltlen(RsaPssSaltlen::custom(-2))?;
    }
    for part in data {
        verifier.update(part)?;
    }
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
    let parts = [octets.as_bytes()];
    let content = Content {
        parts: &parts,
        digest: digest.hash(&parts),
    };
    check(&parsed, &content, crate::signing::tsa::ID_CT_TST_INFO)?;
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
