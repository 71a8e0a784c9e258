//! The signers of the interop matrix: each outside tool making its file as it does (its
//! script in `tests/signers`), and the openssl-made ones built here, with the helpers they
//! share to place a value into a prepared field.

use std::path::Path;
use std::process::Command;

use naskah::signing::{self, pki};

use crate::common::tool;
use crate::signing::pki as demo_pki;

/// An official's key and certificate chain as PEM files.
pub(super) struct Pems {
    pub(super) key: String,
    pub(super) cert: String,
    pub(super) chain: String,
}

/// The demo official's key and certificate chain as PEM files in `dir`, named after them.
pub(super) fn pem_files(dir: &Path, username: &str) -> Pems {
    let parsed = demo_p12(&pki::official_p12(username));
    let chain: Vec<openssl::x509::X509> = parsed.ca.into_iter().flatten().collect();
    write_pems(
        dir,
        username,
        &parsed.pkey.expect("key"),
        &parsed.cert.expect("cert"),
        &chain,
    )
}

/// A PKCS#12 file of the demo PKI, opened with its passphrase from the PKI's list.
fn demo_p12(file: &str) -> openssl::pkcs12::ParsedPkcs12_2 {
    let der = std::fs::read(demo_pki().dir.join(file)).expect("p12");
    let passphrase = pki::passphrase_of(&demo_pki().dir, file).expect("passphrase");
    openssl::pkcs12::Pkcs12::from_der(&der)
        .and_then(|p| p.parse2(&passphrase))
        .expect("opens")
}

/// `key`, `cert` and `chain` as the PEM files NAME.key.pem, NAME.cert.pem and NAME.chain.pem
/// in `dir`.
fn write_pems(
    dir: &Path,
    name: &str,
    key: &openssl::pkey::PKeyRef<openssl::pkey::Private>,
    cert: &openssl::x509::X509Ref,
    chain: &[openssl::x509::X509],
) -> Pems {
    let at = |what: &str| {
        dir.join(format!("{name}.{what}.pem"))
            .to_string_lossy()
            .into_owned()
    };
    let pems = Pems {
        key: at("key"),
        cert: at("cert"),
        chain: at("chain"),
    };
    std::fs::write(&pems.key, key.private_key_to_pem_pkcs8().expect("pem")).expect("key");
    std::fs::write(&pems.cert, cert.to_pem().expect("pem")).expect("cert");
    let chain: Vec<u8> = chain
        .iter()
        .flat_map(|ca| ca.to_pem().expect("pem"))
        .collect();
    std::fs::write(&pems.chain, chain).expect("chain");
    pems
}

/// A signature field prepared by naskah with its `/Contents` still zero, and the two byte
/// ranges it leaves: the file, and where the hex digits are.
pub(super) fn placeholder(pdf: &[u8], room: usize) -> (Vec<u8>, std::ops::Range<usize>) {
    let field = signing::pdf::Field {
        name: None,
        kind: signing::pdf::Kind::Signature { certify: false },
        page: 1,
        rect: None,
        reason: None,
        location: None,
        signed_at: chrono::Utc::now(),
        room,
        reserve: Vec::new(),
    };
    let prepared = signing::pdf::prepare(pdf, &field).expect("prepares");
    let bytes = prepared.finish(&[]).expect("placeholder");
    let range = byte_range(&bytes);
    (bytes, range[1] + 1..range[2] - 1)
}

/// The last `/ByteRange [a b c d]` of `pdf`.
pub(super) fn byte_range(pdf: &[u8]) -> [usize; 4] {
    let key = b"/ByteRange";
    let at = pdf
        .windows(key.len())
        .rposition(|w| w == key)
        .expect("a byte range");
    let text = String::from_utf8_lossy(&pdf[at + key.len()..at + key.len() + 80]).into_owned();
    let inside = text
        .split_once('[')
        .and_then(|(_, rest)| rest.split_once(']'))
        .expect("brackets")
        .0
        .to_owned();
    let numbers: Vec<usize> = inside
        .split_whitespace()
        .map(|n| n.parse().expect("number"))
        .collect();
    [numbers[0], numbers[1], numbers[2], numbers[3]]
}

/// Puts `value` as hex into the zeroed contents at `digits`.
pub(super) fn place(pdf: &mut [u8], digits: &std::ops::Range<usize>, value: &[u8]) {
    let hex = naskah::digest::hex(value);
    assert!(hex.len() <= digits.len(), "the value fits");
    pdf[digits.start..digits.start + hex.len()].copy_from_slice(hex.as_bytes());
}

/// Hex digits decoded (the zeros after a value decode as zeros).
pub(super) fn hex_value(digits: &[u8]) -> Vec<u8> {
    digits
        .chunks_exact(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex"))
        .collect()
}

/// What was signed: the file but the contents with their delimiters.
pub(super) fn signed_bytes(pdf: &[u8], digits: &std::ops::Range<usize>) -> Vec<u8> {
    [&pdf[..digits.start - 1], &pdf[digits.end + 1..]].concat()
}

/// A letter signed by `openssl cms -sign -stream`: a detached CMS in BER.
pub(super) fn openssl_ber(dir: &Path, unsigned: &[u8]) -> Vec<u8> {
    let (mut pdf, digits) = placeholder(unsigned, 16 * 1024);
    let cms = detach(&openssl_cms(dir, &signed_bytes(&pdf, &digits), true));
    // BER indeed: the outer SEQUENCE's length is indefinite.
    assert_eq!(&cms[..2], &[0x30, 0x80], "openssl writes BER with -stream");
    place(&mut pdf, &digits, &cms);
    pdf
}

/// `openssl cms -sign -stream` embeds the content it signs, streamed: in the encapsulated
/// content info, `[0] { OCTET STRING in segments }`, each with an indefinite length. A PDF
/// signature is detached: the content is cut out, which leaves the signature (over the
/// signed attributes, which hold the content's digest) as it was.
pub(super) fn detach(ber: &[u8]) -> Vec<u8> {
    let id_data = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
    ];
    let start = ber
        .windows(id_data.len())
        .position(|w| w == id_data)
        .expect("id-data")
        + id_data.len();
    assert_eq!(
        &ber[start..start + 4],
        &[0xa0, 0x80, 0x24, 0x80],
        "streamed"
    );
    let mut at = start + 4;
    while ber[at] == 0x04 {
        let (length, header) = match ber[at + 1] {
            short @ 0..=0x7f => (usize::from(short), 2),
            long => {
                let octets = usize::from(long & 0x7f);
                let digits = &ber[at + 2..at + 2 + octets];
                (
                    digits.iter().fold(0, |n, d| (n << 8) | usize::from(*d)),
                    2 + octets,
                )
            }
        };
        at += header + length;
    }
    // The end of the OCTET STRING and of [0].
    assert_eq!(&ber[at..at + 4], &[0, 0, 0, 0], "segments end");
    [&ber[..start], &ber[at + 4..]].concat()
}

/// A letter signed the oldest way, `adbe.x509.rsa_sha1`: made by hand, the signature value
/// from `openssl dgst -sha1 -sign`, the certificate in `/Cert`.
pub(super) fn legacy_rsa_sha1(dir: &Path, unsigned: &[u8]) -> Vec<u8> {
    let pems = pem_files(dir, "banggai.kadis");
    let cert = openssl::x509::X509::from_pem(&std::fs::read(&pems.cert).expect("pem"))
        .expect("cert")
        .to_der()
        .expect("der");
    let document = lopdf::Document::load_mem(unsigned).expect("loads");
    let mut update = lopdf::IncrementalDocument::create_from(unsigned.to_vec(), document);
    let prev = update.get_prev_documents();
    let catalog_id = prev
        .trailer
        .get(b"Root")
        .and_then(|r| r.as_reference())
        .expect("root");
    let page_id = *prev.get_pages().get(&1).expect("page 1");
    let mut catalog = prev.get_dictionary(catalog_id).expect("catalog").clone();
    let mut page = prev.get_dictionary(page_id).expect("page").clone();
    const DIGITS: usize = 1024;
    const { assert!(DIGITS >= 2 * 256 + 16, "room for a 2048-bit value") };
    let mut signature = lopdf::Dictionary::new();
    signature.set("Type", lopdf::Object::Name(b"Sig".to_vec()));
    signature.set("Filter", lopdf::Object::Name(b"Adobe.PPKLite".to_vec()));
    signature.set(
        "SubFilter",
        lopdf::Object::Name(b"adbe.x509.rsa_sha1".to_vec()),
    );
    // The signer's certificate first, then its issuer's.
    let chain = openssl::x509::X509::stack_from_pem(&std::fs::read(&pems.chain).expect("chain"))
        .expect("chain");
    let certificates: Vec<lopdf::Object> = std::iter::once(cert)
        .chain(chain.iter().map(|c| c.to_der().expect("der")))
        .map(|der| lopdf::Object::String(der, lopdf::StringFormat::Hexadecimal))
        .collect();
    signature.set("Cert", certificates);
    signature.set(
        "ByteRange",
        vec![0, 1_111_111_111, 1_111_111_111, 1_111_111_111]
            .into_iter()
            .map(lopdf::Object::Integer)
            .collect::<Vec<_>>(),
    );
    signature.set(
        "Contents",
        lopdf::Object::String(vec![0; DIGITS / 2], lopdf::StringFormat::Hexadecimal),
    );
    let signature_id = update.new_document.add_object(signature);
    let mut widget = lopdf::Dictionary::new();
    widget.set("Type", lopdf::Object::Name(b"Annot".to_vec()));
    widget.set("Subtype", lopdf::Object::Name(b"Widget".to_vec()));
    widget.set("FT", lopdf::Object::Name(b"Sig".to_vec()));
    widget.set("T", lopdf::Object::string_literal("Legacy1"));
    widget.set("F", 132);
    widget.set(
        "Rect",
        vec![0, 0, 0, 0]
            .into_iter()
            .map(lopdf::Object::Integer)
            .collect::<Vec<_>>(),
    );
    widget.set("P", page_id);
    widget.set("V", signature_id);
    let widget_id = update.new_document.add_object(widget);
    let mut annots = match page.get(b"Annots") {
        Ok(lopdf::Object::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    annots.push(widget_id.into());
    page.set("Annots", annots);
    let mut form = lopdf::Dictionary::new();
    form.set("Fields", vec![lopdf::Object::Reference(widget_id)]);
    form.set("SigFlags", 3);
    catalog.set("AcroForm", form);
    update
        .new_document
        .objects
        .insert(catalog_id, lopdf::Object::Dictionary(catalog));
    update
        .new_document
        .objects
        .insert(page_id, lopdf::Object::Dictionary(page));
    let mut bytes = Vec::new();
    update.save_to(&mut bytes).expect("saves");

    let digits = close_byte_range(&mut bytes, DIGITS);
    std::fs::write(dir.join("legacy.bin"), signed_bytes(&bytes, &digits)).expect("data");
    let at_dir = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let output = tool(
        "openssl",
        &[
            "dgst",
            "-sha1",
            "-sign",
            &pems.key,
            "-out",
            &at_dir("legacy.sig"),
            &at_dir("legacy.bin"),
        ],
    );
    assert!(output.status.success(), "openssl dgst: {output:?}");
    let value = std::fs::read(at_dir("legacy.sig")).expect("signature");
    let octets =
        der::Encode::to_der(&der::asn1::OctetString::new(value).expect("octets")).expect("der");
    place(&mut bytes, &digits, &octets);
    bytes
}

/// The byte range of the update just saved (its `/Contents` of `digits` hex digits the last in
/// the file, its `/ByteRange` the placeholder `[0 1111111111 1111111111 1111111111]`), written
/// over the placeholder at the same width; where the digits are.
pub(super) fn close_byte_range(bytes: &mut [u8], digits: usize) -> std::ops::Range<usize> {
    let contents_key = b"/Contents<";
    let key_at = bytes
        .windows(contents_key.len())
        .rposition(|w| w == contents_key)
        .unwrap_or_else(|| {
            let spaced = b"/Contents <";
            bytes
                .windows(spaced.len())
                .rposition(|w| w == spaced)
                .expect("the contents")
                + 1
        });
    let open = key_at + b"/Contents".len();
    let close = open + 1 + digits;
    assert_eq!(bytes[close], b'>');
    let ranges = format!("[0 {} {} {}]", open, close + 1, bytes.len() - close - 1);
    let placeholder = b"[0 1111111111 1111111111 1111111111]";
    let at = bytes
        .windows(placeholder.len())
        .rposition(|w| w == placeholder)
        .expect("the byte range placeholder");
    let padded = format!("{ranges:<width$}", width = placeholder.len());
    bytes[at..at + placeholder.len()].copy_from_slice(padded.as_bytes());
    open + 1..close
}

/// A CMS over `data` from `openssl cms -sign` with the demo official's key: DER and
/// detached (eContent absent), or with `stream` BER, the content embedded in segments.
pub(super) fn openssl_cms(dir: &Path, data: &[u8], stream: bool) -> Vec<u8> {
    openssl_cms_by(
        dir,
        &pem_files(dir, "banggai.kadis"),
        "sha256",
        data,
        stream,
    )
}

/// The same with `pems`' key and digest `md`.
pub(super) fn openssl_cms_by(
    dir: &Path,
    pems: &Pems,
    md: &str,
    data: &[u8],
    stream: bool,
) -> Vec<u8> {
    std::fs::write(dir.join("cms.bin"), data).expect("data");
    let at = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let (input, output) = (at("cms.bin"), at("cms.der"));
    let mut args = vec!["cms", "-sign", "-binary", "-outform", "DER", "-md", md];
    args.push(if stream { "-stream" } else { "-nosmimecap" });
    args.extend(["-in", &input, "-signer", &pems.cert, "-inkey", &pems.key]);
    args.extend(["-certfile", &pems.chain, "-out", &output]);
    let made = tool("openssl", &args);
    assert!(made.status.success(), "openssl cms: {made:?}");
    std::fs::read(output).expect("cms")
}

/// A signer of the demo's intermediate CA with a key of `kind` (`p384`, `p521`, `ed25519`)
/// the demo does not hand out: its key, certificate and chain as PEM files in `dir`.
pub(super) fn official_with(dir: &Path, kind: &str) -> Pems {
    use openssl::asn1::Asn1Time;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};
    let key = match kind {
        "p384" => PKey::from_ec_key(
            EcKey::generate(&EcGroup::from_curve_name(Nid::SECP384R1).expect("curve"))
                .expect("key"),
        ),
        "p521" => PKey::from_ec_key(
            EcKey::generate(&EcGroup::from_curve_name(Nid::SECP521R1).expect("curve"))
                .expect("key"),
        ),
        "ed25519" => PKey::generate_ed25519(),
        other => panic!("{other}"),
    }
    .expect("key");
    let ca = demo_p12(pki::INTERMEDIATE_P12);
    let (ca_key, ca_cert) = (ca.pkey.expect("key"), ca.cert.expect("cert"));
    let mut name = openssl::x509::X509NameBuilder::new().expect("name");
    name.append_entry_by_nid(Nid::COMMONNAME, &format!("Penguji {kind}"))
        .expect("cn");
    name.append_entry_by_nid(Nid::ORGANIZATIONNAME, "naskah demo")
        .expect("o");
    let name = name.build();
    let mut builder = openssl::x509::X509Builder::new().expect("builder");
    builder.set_version(2).expect("v3");
    let serial = openssl::bn::BigNum::from_u32(rand_serial()).expect("serial");
    builder
        .set_serial_number(&serial.to_asn1_integer().expect("serial"))
        .expect("serial");
    builder.set_subject_name(&name).expect("subject");
    builder
        .set_issuer_name(ca_cert.subject_name())
        .expect("issuer");
    builder.set_pubkey(&key).expect("key");
    let now = chrono::Utc::now().timestamp();
    builder
        .set_not_before(&Asn1Time::from_unix(now - 3600).expect("time"))
        .expect("nb");
    builder
        .set_not_after(&Asn1Time::days_from_now(365).expect("time"))
        .expect("na");
    builder
        .append_extension(BasicConstraints::new().critical().build().expect("bc"))
        .expect("bc");
    builder
        .append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .non_repudiation()
                .build()
                .expect("ku"),
        )
        .expect("ku");
    let ski = SubjectKeyIdentifier::new()
        .build(&builder.x509v3_context(Some(&ca_cert), None))
        .expect("ski");
    builder.append_extension(ski).expect("ski");
    let aki = openssl::x509::extension::AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&builder.x509v3_context(Some(&ca_cert), None))
        .expect("aki");
    builder.append_extension(aki).expect("aki");
    builder
        .sign(&ca_key, openssl::hash::MessageDigest::sha256())
        .expect("signs");
    let cert = builder.build();
    let root = openssl::x509::X509::from_pem(
        &std::fs::read(demo_pki().dir.join(pki::ROOT_CERT)).expect("root"),
    )
    .expect("root");
    write_pems(dir, kind, &key, &cert, &[ca_cert, root])
}

/// A certificate serial number nobody else holds.
fn rand_serial() -> u32 {
    let mut bytes = [0u8; 4];
    openssl::rand::rand_bytes(&mut bytes).expect("random");
    u32::from_be_bytes(bytes) >> 1
}

/// The signers of the matrix: each makes a signed file from an unsigned one, as its own
/// tool does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Signer {
    /// `openssl cms -sign -stream`: BER, placed into naskah's signature field.
    OpensslBer,
    /// `adbe.x509.rsa_sha1`, the value from `openssl dgst`.
    RsaSha1,
    /// pyHanko, RSA PKCS#1 v1.5, B-B.
    PyHankoRsa,
    /// pyHanko, ECDSA P-256 (the demo's Tarakan kadis), B-T with the demo time-stamp
    /// authority.
    PyHankoEcdsa,
    /// pyHanko, RSASSA-PSS, B-B.
    PyHankoPss,
    /// pyHanko, B-LTA: the DSS (indirect arrays, CRL streams) and a document time-stamp.
    PyHankoLta,
    /// endesive: its own incremental writer and CMS.
    Endesive,
    /// PDFBox with BouncyCastle (a BER CMS).
    PdfBox,
    /// PDFBox, then a DSS with indirect arrays and a VRI entry in an update of its own, as
    /// Java tools write one.
    PdfBoxDss,
    /// @signpdf: placeholder-plain and node-forge.
    SignPdf,
}

impl Signer {
    pub(super) const ALL: [Signer; 10] = [
        Signer::OpensslBer,
        Signer::RsaSha1,
        Signer::PyHankoRsa,
        Signer::PyHankoEcdsa,
        Signer::PyHankoPss,
        Signer::PyHankoLta,
        Signer::Endesive,
        Signer::PdfBox,
        Signer::PdfBoxDss,
        Signer::SignPdf,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Signer::OpensslBer => "openssl-ber",
            Signer::RsaSha1 => "rsa-sha1",
            Signer::PyHankoRsa => "pyhanko-rsa",
            Signer::PyHankoEcdsa => "pyhanko-ecdsa-t",
            Signer::PyHankoPss => "pyhanko-pss",
            Signer::PyHankoLta => "pyhanko-lta",
            Signer::Endesive => "endesive",
            Signer::PdfBox => "pdfbox",
            Signer::PdfBoxDss => "pdfbox-dss",
            Signer::SignPdf => "signpdf",
        }
    }

    /// `unsigned` signed by this signer, in `dir` (its own: the signers run side by side).
    pub(super) fn sign(self, dir: &Path, tsa: &str, unsigned: &[u8]) -> Vec<u8> {
        match self {
            Signer::OpensslBer => openssl_ber(dir, unsigned),
            Signer::RsaSha1 => legacy_rsa_sha1(dir, unsigned),
            Signer::PyHankoRsa => pyhanko(dir, unsigned, "banggai.kadis", &[]),
            Signer::PyHankoEcdsa => pyhanko(dir, unsigned, "tarakan.kadis", &["--tsa", tsa]),
            Signer::PyHankoPss => pyhanko(dir, unsigned, "banggai.kadis", &["--pss"]),
            Signer::PyHankoLta => {
                let at = |file: &str| demo_pki().dir.join(file).to_string_lossy().into_owned();
                let (root, intermediate_crl, root_crl) = (
                    at(pki::ROOT_CERT),
                    at(pki::INTERMEDIATE_CRL),
                    at(pki::ROOT_CRL),
                );
                pyhanko(
                    dir,
                    unsigned,
                    "banggai.kadis",
                    &[
                        "--tsa",
                        tsa,
                        "--lta",
                        "--root",
                        &root,
                        "--crl",
                        &intermediate_crl,
                        "--crl",
                        &root_crl,
                    ],
                )
            }
            Signer::Endesive => {
                let pems = pem_files(dir, "banggai.kadis");
                let (input, output) = in_out(dir, unsigned);
                run(Command::new("python3")
                    .arg(signers("endesive_sign.py"))
                    .args([&input, &output])
                    .args(["--key", &pems.key, "--cert", &pems.cert])
                    .args(["--chain", &pems.chain]));
                std::fs::read(output).expect("signed")
            }
            Signer::PdfBox | Signer::PdfBoxDss => {
                let (input, output) = in_out(dir, unsigned);
                let crls: &[&str] = match self {
                    Signer::PdfBoxDss => &[pki::INTERMEDIATE_CRL, pki::ROOT_CRL],
                    _ => &[],
                };
                let classpath = [
                    "pdfbox2",
                    "fontbox2",
                    "commons-logging",
                    "bcprov",
                    "bcpkix",
                    "bcutil",
                ]
                .map(|jar| format!("/usr/share/java/{jar}.jar"))
                .join(":");
                run(Command::new("java")
                    .args(["-cp", &classpath])
                    .arg(signers("PdfBoxSign.java"))
                    .args([&input, &output])
                    .arg(crate::signing::p12("banggai.kadis"))
                    .args(crls.iter().map(|crl| demo_pki().dir.join(crl)))
                    .env(
                        "NASKAH_SIGNER_PASSPHRASE",
                        crate::signing::passphrase("banggai.kadis"),
                    ));
                std::fs::read(output).expect("signed")
            }
            Signer::SignPdf => {
                let (input, output) = in_out(dir, unsigned);
                run(Command::new("node")
                    .arg(signers("signpdf/sign.mjs"))
                    .args([&input, &output])
                    .arg(crate::signing::p12("banggai.kadis"))
                    .env(
                        "NASKAH_SIGNER_PASSPHRASE",
                        crate::signing::passphrase("banggai.kadis"),
                    ));
                std::fs::read(output).expect("signed")
            }
        }
    }
}

/// A file of the signers' folder, `tests/signers`.
pub(super) fn signers(file: &str) -> String {
    format!("{}/tests/signers/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// `unsigned` written to `dir` for a signer, and where the signer is to write its file.
pub(super) fn in_out(dir: &Path, unsigned: &[u8]) -> (String, String) {
    let input = dir.join("unsigned.pdf");
    std::fs::write(&input, unsigned).expect("write");
    let output = dir.join("signed.pdf");
    let _ = std::fs::remove_file(&output);
    (
        input.to_string_lossy().into_owned(),
        output.to_string_lossy().into_owned(),
    )
}

/// Runs a signer; its standard error explains a failure.
pub(super) fn run(command: &mut Command) {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command.output().unwrap_or_else(|e| {
        panic!("{program} is needed by this test (installed by scripts/test.sh): {e}")
    });
    assert!(
        output.status.success(),
        "{program}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// pyHanko's own signer (tests/signers/pyhanko_sign.py) with `username`'s key.
pub(super) fn pyhanko(dir: &Path, unsigned: &[u8], username: &str, extra: &[&str]) -> Vec<u8> {
    pyhanko_with(dir, unsigned, &pem_files(dir, username), extra)
}

/// pyHanko's own signer with the key and chain of `pems`.
pub(super) fn pyhanko_with(dir: &Path, unsigned: &[u8], pems: &Pems, extra: &[&str]) -> Vec<u8> {
    let (input, output) = in_out(dir, unsigned);
    run(Command::new("python3")
        .arg(signers("pyhanko_sign.py"))
        .args([&input, &output])
        .args(["--key", &pems.key, "--cert", &pems.cert])
        .args(["--chain", &pems.chain])
        .args(extra));
    std::fs::read(output).expect("signed")
}
