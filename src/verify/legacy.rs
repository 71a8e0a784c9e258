//! `adbe.x509.rsa_sha1`, the oldest PDF signature: no CMS, the signer's certificates in the
//! signature dictionary's `/Cert` (one string, or an array with the signer's first), and in
//! `/Contents` a DER OCTET STRING holding a PKCS#1 v1.5 RSA signature whose DigestInfo names
//! the digest (SHA-1 by the name; SHA-256 and others are written too).

use der::Decode;
use der::asn1::OctetString;
use lopdf::{Dictionary, Document, Object};
use openssl::rsa::Padding;
use openssl::x509::X509;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::cms::{self, Digest};

/// PKCS#1's DigestInfo: the digest a signature value carries, with its algorithm.
#[derive(der::Sequence)]
struct DigestInfo {
    algorithm: AlgorithmIdentifierOwned,
    digest: OctetString,
}

/// What an `adbe.x509.rsa_sha1` signature was checked to be.
pub struct Checked {
    pub certificate: X509,
    pub certificates: Vec<X509>,
    pub digest: Digest,
}

/// Checks the signature in `contents` over `parts` (the byte range) with the certificate in
/// `signature`'s `/Cert`.
pub fn check(
    document: &Document,
    signature: &Dictionary,
    contents: &[u8],
    parts: &[&[u8]],
) -> Result<Checked, String> {
    let certificates = certificates(document, signature)?;
    let certificate = certificates
        .first()
        .cloned()
        .ok_or("sertifikat penanda tangan tidak disertakan (/Cert kosong)")?;
    let value = OctetString::from_der(crate::signing::cms::der_prefix(contents))
        .map_err(|e| format!("nilai tanda tangan adbe.x509.rsa_sha1 tidak terbaca: {e}"))?;
    let rsa = certificate
        .public_key()
        .and_then(|k| k.rsa())
        .map_err(|_| "kunci sertifikat adbe.x509.rsa_sha1 bukan RSA")?;
    let mut recovered = vec![0; rsa.size() as usize];
    let length = rsa
        .public_decrypt(value.as_bytes(), &mut recovered, Padding::PKCS1)
        .map_err(|_| "nilai tanda tangan tidak cocok dengan sertifikat")?;
    let info = DigestInfo::from_der(&recovered[..length])
        .map_err(|_| "nilai tanda tangan tidak berisi DigestInfo")?;
    let digest = cms::digest_for(&info.algorithm.oid)
        .ok_or_else(|| format!("algoritma digest {} tidak diterima", info.algorithm.oid))?;
    if info.digest.as_bytes() != digest.hash(parts) {
        return Err("digest dokumen tidak sama dengan yang ditandatangani".into());
    }
    Ok(Checked {
        certificate,
        certificates,
        digest,
    })
}

/// The certificates of `/Cert`: a string, or an array of strings (references followed once).
fn certificates(document: &Document, signature: &Dictionary) -> Result<Vec<X509>, String> {
    let missing = "sertifikat penanda tangan tidak disertakan (/Cert tidak ada)";
    let value = signature.get(b"Cert").map_err(|_| missing)?;
    let value = crate::signing::pdf::resolve(document, value).map_err(|_| missing)?;
    let strings: Vec<&[u8]> = match value {
        Object::String(bytes, _) => vec![bytes],
        Object::Array(items) => items
            .iter()
            .filter_map(|item| crate::signing::pdf::resolve(document, item).ok())
            .filter_map(|item| item.as_str().ok())
            .collect(),
        _ => return Err(missing.into()),
    };
    strings
        .into_iter()
        .map(|der| cms::certificate(der).ok_or_else(|| "sertifikat di /Cert tidak terbaca".into()))
        .collect()
}
