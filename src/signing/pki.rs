//! The demo PKI (`naskah certs init-demo --out DIR`): a root and an intermediate CA, a
//! time-stamp authority, and one encrypted PKCS#12 per demo official, so that letters are
//! signed, time-stamped and verified offline. The profiles are those of certs/README.md.
//!
//! Everything private stays in DIR: the CA and TSA keys and the officials' keys are in PKCS#12
//! files, each under its own random passphrase, listed in `passphrases.txt` (mode 0600). The
//! CA keys are kept so that CRLs can be issued again.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use openssl::asn1::{Asn1Integer, Asn1Object, Asn1OctetString, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::stack::Stack;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder, X509Crl, X509CrlBuilder, X509Extension, X509Name};

/// The file names in DIR.
pub const ROOT_CERT: &str = "root.pem";
pub const INTERMEDIATE_CERT: &str = "intermediate.pem";
pub const TSA_CERT: &str = "tsa.pem";
pub const ROOT_CRL: &str = "root.crl";
pub const INTERMEDIATE_CRL: &str = "intermediate.crl";
pub const PASSPHRASES: &str = "passphrases.txt";
pub const ROOT_P12: &str = "private/root.p12";
pub const INTERMEDIATE_P12: &str = "private/intermediate.p12";
pub const TSA_P12: &str = "private/tsa.p12";

/// How long the demo certificates hold, in days.
const CA_DAYS: u32 = 3650;
const END_ENTITY_DAYS: u32 = 730;
/// How often the demo CRLs are due to be issued again, in days.
pub const CRL_DAYS: u32 = 30;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{0} already holds a PKI ({ROOT_CERT}); choose an empty directory")]
    NotEmpty(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("openssl: {0}")]
    Openssl(#[from] openssl::error::ErrorStack),
    #[error("{0}: no demo PKI here (no passphrase for {1})")]
    NotDemo(PathBuf, &'static str),
    #[error("{0}: the key does not open ({1})")]
    Locked(PathBuf, openssl::error::ErrorStack),
}

type Result<T> = std::result::Result<T, PkiError>;

/// The key an official's certificate gets (RSA of two sizes or ECDSA P-256).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Rsa2048,
    Rsa3072,
    EcP256,
}

impl KeyKind {
    fn generate(self) -> Result<PKey<Private>> {
        Ok(match self {
            KeyKind::Rsa2048 => PKey::from_rsa(Rsa::generate(2048)?)?,
            KeyKind::Rsa3072 => PKey::from_rsa(Rsa::generate(3072)?)?,
            KeyKind::EcP256 => {
                let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
                PKey::from_ec_key(EcKey::generate(&group)?)?
            }
        })
    }
}

/// An official the demo PKI issues a certificate to: named by username (the PKCS#12 file's
/// name), with the subject's name, NIP, jabatan and office.
#[derive(Clone, Debug)]
pub struct Official<'a> {
    pub username: &'a str,
    pub full_name: &'a str,
    pub nip: &'a str,
    pub position: &'a str,
    pub office: &'a str,
    pub key: KeyKind,
}

/// What `init_demo` made.
#[derive(Debug)]
pub struct Made {
    /// The officials' PKCS#12 files, relative to DIR.
    pub officials: Vec<String>,
}

/// The relative path of an official's PKCS#12 file.
pub fn official_p12(username: &str) -> String {
    format!("officials/{username}.p12")
}

/// A CA: its key and certificate.
struct Authority {
    key: PKey<Private>,
    cert: X509,
}

/// Creates the demo PKI in `dir` (made when missing; refused when it already holds one), with a
/// certificate and PKCS#12 for each of `officials`.
pub fn init_demo(dir: &Path, officials: &[Official<'_>]) -> Result<Made> {
    if dir.join(ROOT_CERT).exists() {
        return Err(PkiError::NotEmpty(dir.to_owned()));
    }
    for sub in ["private", "officials"] {
        create_dir(&dir.join(sub))?;
    }
    let mut passphrases = Vec::new();

    let root = demo_authority(
        "naskah Demo Root CA",
        KeyKind::Rsa3072,
        None,
        CA_DAYS,
        Profile::Ca { path_length: None },
    )?;
    let intermediate = demo_authority(
        "naskah Demo Intermediate CA",
        KeyKind::Rsa3072,
        Some(&root),
        CA_DAYS,
        Profile::Ca {
            path_length: Some(0),
        },
    )?;
    let tsa = demo_authority(
        "naskah Demo Time-Stamp Authority",
        KeyKind::Rsa2048,
        Some(&intermediate),
        END_ENTITY_DAYS,
        Profile::TimeStamping,
    )?;

    write(&dir.join(ROOT_CERT), &root.cert.to_pem()?)?;
    write(&dir.join(INTERMEDIATE_CERT), &intermediate.cert.to_pem()?)?;
    write(&dir.join(TSA_CERT), &tsa.cert.to_pem()?)?;
    write(&dir.join(ROOT_CRL), &crl(&root, 1)?.to_der()?)?;
    write(
        &dir.join(INTERMEDIATE_CRL),
        &crl(&intermediate, 1)?.to_der()?,
    )?;

    let chain = [&intermediate.cert, &root.cert];
    for (file, friendly, key, cert) in [
        (ROOT_P12, "root", &root.key, &root.cert),
        (
            INTERMEDIATE_P12,
            "intermediate",
            &intermediate.key,
            &intermediate.cert,
        ),
        (TSA_P12, "tsa", &tsa.key, &tsa.cert),
    ] {
        let passphrase = new_passphrase()?;
        write_private(
            &dir.join(file),
            &pkcs12(friendly, key, cert, &chain, &passphrase)?,
        )?;
        passphrases.push(format!("{file} {passphrase}"));
    }

    let mut made = Vec::new();
    for official in officials {
        let key = official.key.generate()?;
        let subject = official_name(official)?;
        let cert = certificate(
            &subject,
            &key,
            Some(&intermediate),
            END_ENTITY_DAYS,
            Profile::Signer,
        )?;
        let file = official_p12(official.username);
        let passphrase = new_passphrase()?;
        write_private(
            &dir.join(&file),
            &pkcs12(official.username, &key, &cert, &chain, &passphrase)?,
        )?;
        passphrases.push(format!("{file} {passphrase}"));
        made.push(file);
    }
    passphrases.push(String::new());
    write_private(&dir.join(PASSPHRASES), passphrases.join("\n").as_bytes())?;
    Ok(Made { officials: made })
}

/// One of the demo's own authorities: a new key and its certificate, issued by `issuer` (or
/// by itself), named `common_name` of the organisation "naskah demo".
fn demo_authority(
    common_name: &str,
    kind: KeyKind,
    issuer: Option<&Authority>,
    days: u32,
    profile: Profile,
) -> Result<Authority> {
    let key = kind.generate()?;
    let subject = name(&[
        (Nid::COMMONNAME, common_name),
        (Nid::ORGANIZATIONNAME, "naskah demo"),
        (Nid::COUNTRYNAME, "ID"),
    ])?;
    let cert = certificate(&subject, &key, issuer, days, profile)?;
    Ok(Authority { key, cert })
}

/// The subject of an official's certificate: name, NIP as serialNumber, jabatan as title,
/// office as organization.
fn official_name(official: &Official<'_>) -> Result<X509Name> {
    let nip: String = official.nip.chars().filter(char::is_ascii_digit).collect();
    name(&[
        (Nid::COMMONNAME, official.full_name),
        (Nid::SERIALNUMBER, &nip),
        (Nid::TITLE, official.position),
        (Nid::ORGANIZATIONNAME, official.office),
        (Nid::COUNTRYNAME, "ID"),
    ])
}

fn name(parts: &[(Nid, &str)]) -> Result<X509Name> {
    let mut builder = X509Name::builder()?;
    for (nid, value) in parts {
        builder.append_entry_by_nid(*nid, value)?;
    }
    Ok(builder.build())
}

/// What a certificate is for.
enum Profile {
    Ca {
        path_length: Option<u32>,
    },
    /// An official: digitalSignature and nonRepudiation, no extended key usage (NSS, behind
    /// pdfsig, refuses signer certificates whose EKU lacks emailProtection).
    Signer,
    /// RFC 3161 §2.3: the only extended key usage is timeStamping, and it is critical.
    TimeStamping,
}

fn certificate(
    subject: &X509Name,
    key: &PKey<Private>,
    issuer: Option<&Authority>,
    days: u32,
    profile: Profile,
) -> Result<X509> {
    let mut builder = X509Builder::new()?;
    builder.set_version(2)?;
    let serial = serial()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(subject)?;
    builder.set_issuer_name(issuer.map_or(subject, |i| i.cert.subject_name()))?;
    builder.set_pubkey(key)?;
    // A minute in the past, so that a certificate made now already holds for a signature
    // made now on a machine whose clocks differ by a little.
    let not_before = Asn1Time::from_unix(unix_now() - 60)?;
    builder.set_not_before(&not_before)?;
    let not_after = Asn1Time::days_from_now(days)?;
    builder.set_not_after(&not_after)?;
    match profile {
        Profile::Ca { path_length } => {
            let mut constraints = BasicConstraints::new();
            constraints.critical().ca();
            if let Some(length) = path_length {
                constraints.pathlen(length);
            }
            builder.append_extension(constraints.build()?)?;
            builder.append_extension(
                KeyUsage::new()
                    .critical()
                    .key_cert_sign()
                    .crl_sign()
                    .build()?,
            )?;
        }
        Profile::Signer | Profile::TimeStamping => {
            builder.append_extension(BasicConstraints::new().critical().build()?)?;
            builder.append_extension(
                KeyUsage::new()
                    .critical()
                    .digital_signature()
                    .non_repudiation()
                    .build()?,
            )?;
            if matches!(profile, Profile::TimeStamping) {
                builder.append_extension(
                    ExtendedKeyUsage::new().critical().time_stamping().build()?,
                )?;
            }
        }
    }
    let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(None, None))?;
    builder.append_extension(ski)?;
    if let Some(issuer) = issuer {
        let aki = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&builder.x509v3_context(Some(&issuer.cert), None))?;
        builder.append_extension(aki)?;
        builder.sign(&issuer.key, MessageDigest::sha256())?;
    } else {
        builder.sign(key, MessageDigest::sha256())?;
    }
    Ok(builder.build())
}

/// Issues the demo CRLs of DIR again, each due in [`CRL_DAYS`]: a letter signed at B-LT
/// carries them, and past their next update they no longer speak for the time it is judged
/// at (the letter turns INDETERMINATE). Their number is the time of issue, so that each one
/// is greater than the last; each file is replaced whole, never left half written.
pub fn renew_crls(dir: &Path) -> Result<()> {
    let number = u64::try_from(unix_now()).unwrap_or(1);
    for (p12, file) in [(ROOT_P12, ROOT_CRL), (INTERMEDIATE_P12, INTERMEDIATE_CRL)] {
        let passphrase =
            passphrase_of(dir, p12).ok_or_else(|| PkiError::NotDemo(dir.to_owned(), p12))?;
        let path = dir.join(p12);
        let der = fs::read(&path).map_err(|source| PkiError::Io {
            path: path.clone(),
            source,
        })?;
        let parsed = Pkcs12::from_der(&der)
            .and_then(|p| p.parse2(&passphrase))
            .map_err(|e| PkiError::Locked(path.clone(), e))?;
        let (Some(key), Some(cert)) = (parsed.pkey, parsed.cert) else {
            return Err(PkiError::NotDemo(dir.to_owned(), p12));
        };
        let crl = crl(&Authority { key, cert }, number)?.to_der()?;
        let target = dir.join(file);
        let partial = dir.join(format!("{file}.new"));
        write(&partial, &crl)?;
        fs::rename(&partial, &target).map_err(|source| PkiError::Io {
            path: target,
            source,
        })?;
    }
    Ok(())
}

/// An empty CRL of `authority` (version 2, CRL number `number`), due again in
/// [`CRL_DAYS`].
fn crl(authority: &Authority, number: u64) -> Result<X509Crl> {
    let mut builder = X509CrlBuilder::new()?;
    builder.set_issuer_name(authority.cert.subject_name())?;
    let last_update = Asn1Time::from_unix(unix_now() - 60)?;
    builder.set_last_update(&last_update)?;
    let next_update = Asn1Time::days_from_now(CRL_DAYS)?;
    builder.set_next_update(&next_update)?;
    // cRLNumber (2.5.29.20): an INTEGER, its shortest big-endian form with a leading zero
    // when the top bit is set.
    let digits = number.to_be_bytes();
    let first = digits.iter().position(|b| *b != 0).unwrap_or(7);
    let mut integer = if digits[first] & 0x80 != 0 {
        vec![0]
    } else {
        Vec::new()
    };
    integer.extend_from_slice(&digits[first..]);
    let mut encoded = vec![0x02, integer.len() as u8];
    encoded.extend_from_slice(&integer);
    let number = Asn1OctetString::new_from_bytes(&encoded)?;
    let oid = Asn1Object::from_str("2.5.29.20")?;
    builder.append_extension(X509Extension::new_from_der(&oid, false, &number)?)?;
    // authorityKeyIdentifier (2.5.29.35): SEQUENCE { [0] IMPLICIT keyIdentifier }, the CA's
    // subject key identifier.
    let key_id = authority
        .cert
        .subject_key_id()
        .map(|id| id.as_slice().to_vec())
        .unwrap_or_default();
    let mut aki = vec![0x30, key_id.len() as u8 + 2, 0x80, key_id.len() as u8];
    aki.extend_from_slice(&key_id);
    let aki = Asn1OctetString::new_from_bytes(&aki)?;
    let oid = Asn1Object::from_str("2.5.29.35")?;
    builder.append_extension(X509Extension::new_from_der(&oid, false, &aki)?)?;
    builder.sign(&authority.key, MessageDigest::sha256())?;
    Ok(builder.build()?)
}

fn pkcs12(
    friendly: &str,
    key: &PKey<Private>,
    cert: &X509,
    chain: &[&X509],
    passphrase: &str,
) -> Result<Vec<u8>> {
    let mut ca = Stack::new()?;
    for c in chain {
        if c.subject_name().to_der()? != cert.subject_name().to_der()? {
            ca.push((*c).to_owned())?;
        }
    }
    let mut builder = Pkcs12::builder();
    builder.name(friendly).pkey(key).cert(cert).ca(ca);
    Ok(builder.build2(passphrase)?.to_der()?)
}

/// A random 64-bit positive serial number.
fn serial() -> Result<Asn1Integer> {
    let mut number = BigNum::new()?;
    number.rand(64, MsbOption::MAYBE_ZERO, false)?;
    Ok(number.to_asn1_integer()?)
}

/// 24 random characters from an alphabet without look-alikes.
fn new_passphrase() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut random = [0u8; 24];
    openssl::rand::rand_bytes(&mut random)?;
    Ok(random
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn create_dir(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|source| PkiError::Io {
        path: path.to_owned(),
        source,
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::write(path, bytes).map_err(|source| PkiError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes a file only its owner can read, created so from the start.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| PkiError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.write_all(bytes).map_err(io)
}

/// Reads `passphrases.txt`: the passphrase of the PKCS#12 file `file` (relative to DIR).
pub fn passphrase_of(dir: &Path, file: &str) -> Option<String> {
    let text = fs::read_to_string(dir.join(PASSPHRASES)).ok()?;
    text.lines()
        .filter_map(|line| line.split_once(' '))
        .find(|(name, _)| *name == file)
        .map(|(_, passphrase)| passphrase.to_owned())
}
