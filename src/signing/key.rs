//! An official's signing key: a private key and its certificate chain, unlocked from an
//! encrypted PKCS#12 with the official's passphrase for one signing and dropped after. The
//! passphrase is never kept.

use openssl::hash::MessageDigest;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{Id, PKey, Private};
use openssl::sign::Signer;
use openssl::x509::X509;

/// What went wrong with a key; the messages are what the official reads.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("passphrase salah")]
    WrongPassphrase,
    #[error("berkas sertifikat (PKCS#12) tidak dapat dibaca: {0}")]
    Unreadable(String),
    #[error("berkas sertifikat (PKCS#12) tidak memuat kunci privat dan sertifikatnya")]
    Incomplete,
    #[error(
        "jenis kunci tidak didukung: {0} (yang didukung: RSA 2048 bit atau lebih, ECDSA P-256)"
    )]
    Unsupported(String),
    #[error("tanda tangan tidak dapat dibuat: {0}")]
    Sign(#[from] openssl::error::ErrorStack),
    /// The certificate may not make this signature, and why.
    #[error("sertifikat tidak dapat dipakai untuk menandatangani: {0}")]
    Unusable(String),
}

/// The signature algorithm a key makes, always over SHA-256.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 (rsaEncryption), which every PDF validator accepts.
    RsaSha256,
    /// ECDSA with SHA-256 on P-256.
    EcdsaP256Sha256,
}

pub struct SigningKey {
    key: PKey<Private>,
    pub certificate: X509,
    /// The certificates above the signer's, as the PKCS#12 file carries them.
    pub chain: Vec<X509>,
    pub algorithm: Algorithm,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("subject", &self.certificate.subject_name())
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Refuses a certificate that may not make a signature at `at`: a certificate authority's,
    /// one whose key usage lacks digitalSignature or nonRepudiation, one outside its validity
    /// period, or one that `crls` (DER or PEM, naskah's own revocation data) revoke.
    pub fn check_usable(
        &self,
        at: chrono::DateTime<chrono::Utc>,
        crls: &[Vec<u8>],
    ) -> Result<(), KeyError> {
        use der::Decode;
        use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
        let unusable = |why: &str| Err(KeyError::Unusable(why.to_owned()));
        let der = self.certificate.to_der()?;
        let parsed = x509_cert::Certificate::from_der(&der)
            .map_err(|e| KeyError::Unreadable(e.to_string()))?;
        let tbs = &parsed.tbs_certificate;
        let unreadable = |e: der::Error| KeyError::Unreadable(e.to_string());
        if tbs
            .get::<BasicConstraints>()
            .map_err(unreadable)?
            .is_some_and(|(_, constraints)| constraints.ca)
        {
            return unusable("sertifikat ini milik otoritas sertifikat (CA), bukan pejabat");
        }
        match tbs.get::<KeyUsage>().map_err(unreadable)? {
            Some((_, usage)) if usage.digital_signature() && usage.non_repudiation() => {}
            _ => {
                return unusable(
                    "penggunaan kuncinya (keyUsage) tidak mencakup digitalSignature dan \
                     nonRepudiation",
                );
            }
        }
        let now = openssl::asn1::Asn1Time::from_unix(at.timestamp())?;
        if self.certificate.not_before() > now {
            return unusable(&format!(
                "belum berlaku (berlaku mulai {})",
                self.certificate.not_before()
            ));
        }
        if self.certificate.not_after() < now {
            return unusable(&format!(
                "sudah kedaluwarsa (berlaku sampai {})",
                self.certificate.not_after()
            ));
        }
        for crl in crls {
            let Ok(crl) = openssl::x509::X509Crl::from_der(crl)
                .or_else(|_| openssl::x509::X509Crl::from_pem(crl))
            else {
                continue;
            };
            let same_issuer = crl
                .issuer_name()
                .try_cmp(self.certificate.issuer_name())
                .is_ok_and(|o| o == std::cmp::Ordering::Equal);
            if same_issuer
                && matches!(
                    crl.get_by_cert(&self.certificate),
                    openssl::x509::CrlStatus::Revoked(_)
                )
            {
                return unusable("sudah dicabut menurut daftar pencabutan (CRL) penerbitnya");
            }
        }
        Ok(())
    }

    /// Unlocks a PKCS#12 file. A wrong passphrase is told apart from a damaged file, since
    /// only the former counts towards locking an official's signing.
    pub fn from_pkcs12(der: &[u8], passphrase: &str) -> Result<SigningKey, KeyError> {
        let pkcs12 = Pkcs12::from_der(der).map_err(|e| KeyError::Unreadable(e.to_string()))?;
        let parsed = pkcs12.parse2(passphrase).map_err(|e| {
            let wrong = e
                .errors()
                .iter()
                .any(|e| e.reason().is_some_and(|r| r.contains("mac verify failure")));
            if wrong {
                KeyError::WrongPassphrase
            } else {
                KeyError::Unreadable(e.to_string())
            }
        })?;
        let (Some(key), Some(certificate)) = (parsed.pkey, parsed.cert) else {
            return Err(KeyError::Incomplete);
        };
        let chain = parsed
            .ca
            .map(|stack| stack.into_iter().collect())
            .unwrap_or_default();
        SigningKey::new(key, certificate, chain)
    }

    pub fn new(
        key: PKey<Private>,
        certificate: X509,
        chain: Vec<X509>,
    ) -> Result<SigningKey, KeyError> {
        let algorithm = match key.id() {
            Id::RSA if key.bits() >= 2048 => Algorithm::RsaSha256,
            Id::RSA => return Err(KeyError::Unsupported(format!("RSA {} bit", key.bits()))),
            Id::EC => {
                let curve = key.ec_key()?.group().curve_name();
                if curve != Some(openssl::nid::Nid::X9_62_PRIME256V1) {
                    return Err(KeyError::Unsupported(format!("EC {curve:?}")));
                }
                Algorithm::EcdsaP256Sha256
            }
            other => return Err(KeyError::Unsupported(format!("{other:?}"))),
        };
        let matches = certificate
            .public_key()
            .map(|public| public.public_eq(&key))
            .unwrap_or(false);
        if !matches {
            return Err(KeyError::Incomplete);
        }
        Ok(SigningKey {
            key,
            certificate,
            chain,
            algorithm,
        })
    }

    /// Signs `data` (the DER of the signed attributes) with SHA-256.
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key)?;
        signer.update(data)?;
        Ok(signer.sign_to_vec()?)
    }

    /// The longest signature this key makes, in bytes.
    pub fn max_signature_len(&self) -> usize {
        self.key.size()
    }
}
