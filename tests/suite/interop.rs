//! Signatures other signers made, verified by naskah, pyHanko and pdfsig alike: the interop
//! matrix of issue 18. Each signer's honest file and its tampered variants; a table of what
//! each validator says, asserted to agree per file.
//!
//! The signers are the tools themselves, installed by the test line: pyHanko's signer (RSA,
//! ECDSA, PSS; B-B, B-T, B-LTA), endesive, PDFBox with BouncyCastle, @signpdf (their scripts in
//! `tests/signers`), `openssl cms -sign -stream` (a CMS in BER placed into a field naskah
//! prepared), and a legacy `adbe.x509.rsa_sha1` value from `openssl dgst -sha1 -sign`, which
//! pyHanko and pdfsig do not read: openssl judges it.

use std::path::Path;
use std::process::Command;

use naskah::signing::{self, pki};
use naskah::verify::{self, ChangesAfter, Integrity, Verdict};

use crate::common::tool;
use crate::signing::pki as demo_pki;

/// An official's key and certificate chain as PEM files.
struct Pems {
    key: String,
    cert: String,
    chain: String,
}

/// The demo official's key and certificate chain as PEM files in `dir`, named after them.
fn pem_files(dir: &Path, username: &str) -> Pems {
    let p12 = std::fs::read(demo_pki().dir.join(pki::official_p12(username))).expect("p12");
    let passphrase =
        pki::passphrase_of(&demo_pki().dir, &pki::official_p12(username)).expect("passphrase");
    let parsed = openssl::pkcs12::Pkcs12::from_der(&p12)
        .and_then(|p| p.parse2(&passphrase))
        .expect("opens");
    let at = |what: &str| {
        dir.join(format!("{username}.{what}.pem"))
            .to_string_lossy()
            .into_owned()
    };
    let pems = Pems {
        key: at("key"),
        cert: at("cert"),
        chain: at("chain"),
    };
    let key = parsed.pkey.expect("key");
    let cert = parsed.cert.expect("cert");
    std::fs::write(&pems.key, key.private_key_to_pem_pkcs8().expect("pem")).expect("key");
    std::fs::write(&pems.cert, cert.to_pem().expect("pem")).expect("cert");
    let mut chain = Vec::new();
    for ca in parsed.ca.into_iter().flatten() {
        chain.extend(ca.to_pem().expect("pem"));
    }
    std::fs::write(&pems.chain, chain).expect("chain");
    pems
}

/// A signature field prepared by naskah with its `/Contents` still zero, and the two byte
/// ranges it leaves: the file, and where the hex digits are.
fn placeholder(pdf: &[u8], room: usize) -> (Vec<u8>, std::ops::Range<usize>) {
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
fn byte_range(pdf: &[u8]) -> [usize; 4] {
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
fn place(pdf: &mut [u8], digits: &std::ops::Range<usize>, value: &[u8]) {
    let hex = naskah::digest::hex(value);
    assert!(hex.len() <= digits.len(), "the value fits");
    pdf[digits.start..digits.start + hex.len()].copy_from_slice(hex.as_bytes());
}

/// Hex digits decoded (the zeros after a value decode as zeros).
fn hex_value(digits: &[u8]) -> Vec<u8> {
    digits
        .chunks_exact(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex"))
        .collect()
}

/// What was signed: the file but the contents with their delimiters.
fn signed_bytes(pdf: &[u8], digits: &std::ops::Range<usize>) -> Vec<u8> {
    [&pdf[..digits.start - 1], &pdf[digits.end + 1..]].concat()
}

/// A letter signed by `openssl cms -sign -stream`: a detached CMS in BER.
fn openssl_ber(dir: &Path, unsigned: &[u8]) -> Vec<u8> {
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
fn detach(ber: &[u8]) -> Vec<u8> {
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
fn legacy_rsa_sha1(dir: &Path, unsigned: &[u8]) -> Vec<u8> {
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
fn close_byte_range(bytes: &mut [u8], digits: usize) -> std::ops::Range<usize> {
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
fn openssl_cms(dir: &Path, data: &[u8], stream: bool) -> Vec<u8> {
    let pems = pem_files(dir, "banggai.kadis");
    std::fs::write(dir.join("cms.bin"), data).expect("data");
    let at = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let (input, output) = (at("cms.bin"), at("cms.der"));
    let mut args = vec![
        "cms", "-sign", "-binary", "-outform", "DER", "-md", "sha256",
    ];
    args.push(if stream { "-stream" } else { "-nosmimecap" });
    args.extend(["-in", &input, "-signer", &pems.cert, "-inkey", &pems.key]);
    args.extend(["-certfile", &pems.chain, "-out", &output]);
    let made = tool("openssl", &args);
    assert!(made.status.success(), "openssl cms: {made:?}");
    std::fs::read(output).expect("cms")
}

/// The signers of the matrix: each makes a signed file from an unsigned one, as its own
/// tool does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signer {
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
    const ALL: [Signer; 10] = [
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

    fn name(self) -> &'static str {
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
    fn sign(self, dir: &Path, tsa: &str, unsigned: &[u8]) -> Vec<u8> {
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
fn signers(file: &str) -> String {
    format!("{}/tests/signers/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// `unsigned` written to `dir` for a signer, and where the signer is to write its file.
fn in_out(dir: &Path, unsigned: &[u8]) -> (String, String) {
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
fn run(command: &mut Command) {
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
fn pyhanko(dir: &Path, unsigned: &[u8], username: &str, extra: &[&str]) -> Vec<u8> {
    let pems = pem_files(dir, username);
    let (input, output) = in_out(dir, unsigned);
    run(Command::new("python3")
        .arg(signers("pyhanko_sign.py"))
        .args([&input, &output])
        .args(["--key", &pems.key, "--cert", &pems.cert])
        .args(["--chain", &pems.chain])
        .args(extra));
    std::fs::read(output).expect("signed")
}

/// What an attacker does to a signed file (or, for the shadow hide, to the file before it is
/// signed, and then after).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Honest,
    /// A byte inside the signed range changed.
    ByteChanged,
    /// Content drawn on the page by a later incremental update.
    ContentChanged,
    PageAdded,
    AnnotationAdded,
    /// The signed revision holds a white box over a line; a later one takes it away.
    ShadowHide,
    /// A later revision redefines a font the signed page uses.
    ShadowReplace,
    /// A later revision takes the signature field out of the form and the page.
    SignatureRemoved,
    /// A later revision draws the signed widget anew (a new appearance stream, the
    /// rectangle kept): it could show another name. pyHanko's policy forbids it, and naskah's.
    AppearanceRefreshed,
    /// The same, but the new appearance is written over the page's content stream.
    AppearanceClobbers,
}

impl Variant {
    const ALL: [Variant; 10] = [
        Variant::Honest,
        Variant::ByteChanged,
        Variant::ContentChanged,
        Variant::PageAdded,
        Variant::AnnotationAdded,
        Variant::ShadowHide,
        Variant::ShadowReplace,
        Variant::SignatureRemoved,
        Variant::AppearanceRefreshed,
        Variant::AppearanceClobbers,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::Honest => "honest",
            Variant::ByteChanged => "byte-changed",
            Variant::ContentChanged => "content-changed",
            Variant::PageAdded => "page-added",
            Variant::AnnotationAdded => "annotation",
            Variant::ShadowHide => "shadow-hide",
            Variant::ShadowReplace => "shadow-replace",
            Variant::SignatureRemoved => "sig-removed",
            Variant::AppearanceRefreshed => "appearance",
            Variant::AppearanceClobbers => "appear-clobber",
        }
    }

    /// The file of this variant, from the honest `signed` one or by signing anew.
    fn apply(self, signed: &[u8], sign: impl FnOnce(&[u8]) -> Vec<u8>) -> Vec<u8> {
        match self {
            Variant::Honest => signed.to_vec(),
            Variant::ByteChanged => crate::common::flip_content_byte(signed),
            Variant::ContentChanged => crate::verify::draw_later(signed),
            Variant::PageAdded => crate::verify::add_page(signed),
            Variant::AnnotationAdded => crate::verify::annotate(signed),
            Variant::ShadowHide => crate::verify::shadow_hide(&crate::verify::letter(), sign),
            Variant::ShadowReplace => crate::verify::shadow_replace(signed),
            Variant::SignatureRemoved => remove_signature(signed),
            Variant::AppearanceRefreshed => refresh_appearance(signed, false),
            Variant::AppearanceClobbers => refresh_appearance(signed, true),
        }
    }

    /// naskah's verdict on the file: trust stays undecided without revocation data (all but
    /// B-LTA and the PDFBox file with its DSS) and for SHA-1 after 2009. A removed signature
    /// is a change naskah names, though the last revision's form no longer shows it.
    fn verdict(self, signer: Signer) -> Verdict {
        match self {
            Variant::Honest if matches!(signer, Signer::PyHankoLta | Signer::PdfBoxDss) => {
                Verdict::Valid
            }
            Variant::Honest => Verdict::Indeterminate,
            Variant::ByteChanged => Verdict::Invalid,
            _ => Verdict::Modified,
        }
    }
}

/// A later revision that takes every signature field out of the form and every widget of
/// one off the pages: the file then looks unsigned to a reader of its last revision.
fn remove_signature(pdf: &[u8]) -> Vec<u8> {
    use lopdf::Object;
    crate::verify::append(pdf, |update| {
        let prev = update.get_prev_documents();
        let is_signature = |object: &Object| {
            object
                .as_reference()
                .and_then(|id| prev.get_dictionary(id))
                .is_ok_and(|d| d.get(b"FT").and_then(Object::as_name).ok() == Some(b"Sig"))
        };
        let catalog = prev
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .expect("root");
        let mut root = prev.get_dictionary(catalog).expect("catalog").clone();
        let mut form = match root.get(b"AcroForm").expect("a form") {
            Object::Reference(id) => prev.get_dictionary(*id).expect("form").clone(),
            Object::Dictionary(form) => form.clone(),
            other => panic!("{other:?}"),
        };
        let fields = match form.get(b"Fields").expect("fields") {
            Object::Reference(id) => prev.get_object(*id).expect("fields").clone(),
            direct => direct.clone(),
        };
        let kept: Vec<Object> = fields
            .as_array()
            .expect("an array")
            .iter()
            .filter(|f| !is_signature(f))
            .cloned()
            .collect();
        form.set("Fields", kept);
        form.remove(b"SigFlags");
        root.set("AcroForm", form);
        let pages: Vec<lopdf::ObjectId> = prev.get_pages().into_values().collect();
        let mut edited = Vec::new();
        for page in pages {
            let mut dict = prev.get_dictionary(page).expect("page").clone();
            let annots = match dict.get(b"Annots") {
                Ok(Object::Reference(id)) => prev.get_object(*id).expect("annots").clone(),
                Ok(direct) => direct.clone(),
                Err(_) => continue,
            };
            let annots = annots.as_array().expect("an array");
            let kept: Vec<Object> = annots
                .iter()
                .filter(|a| !is_signature(a))
                .cloned()
                .collect();
            if kept.len() != annots.len() {
                dict.set("Annots", kept);
                edited.push((page, dict));
            }
        }
        update
            .new_document
            .objects
            .insert(catalog, Object::Dictionary(root));
        for (page, dict) in edited {
            update
                .new_document
                .objects
                .insert(page, Object::Dictionary(dict));
        }
    })
}

/// A later revision that gives the first signature's widget a new appearance: a new stream
/// of its own, or (`clobber`) one written over the first page's content stream.
fn refresh_appearance(pdf: &[u8], clobber: bool) -> Vec<u8> {
    use lopdf::Object;
    let value = crate::verify::signature_id(pdf);
    crate::verify::append(pdf, |update| {
        let prev = update.get_prev_documents();
        let (widget, mut dict) = prev
            .objects
            .iter()
            .find_map(|(id, o)| {
                let d = o.as_dict().ok()?;
                (d.get(b"V").and_then(Object::as_reference).ok() == Some(value))
                    .then(|| (*id, d.clone()))
            })
            .expect("the signature's widget");
        let page = *prev.get_pages().get(&1).expect("page 1");
        let content = match prev.get_dictionary(page).expect("page").get(b"Contents") {
            Ok(Object::Reference(id)) => *id,
            Ok(Object::Array(items)) => items[0].as_reference().expect("a stream"),
            other => panic!("{other:?}"),
        };
        let mut form = lopdf::Dictionary::new();
        form.set("Type", Object::Name(b"XObject".to_vec()));
        form.set("Subtype", Object::Name(b"Form".to_vec()));
        form.set("BBox", vec![0.into(), 0.into(), 220.into(), 110.into()]);
        let stream = lopdf::Stream::new(form, b"q 0 0 1 rg 0 0 220 110 re f Q".to_vec());
        let appearance = if clobber {
            update
                .new_document
                .objects
                .insert(content, Object::Stream(stream));
            content
        } else {
            update.new_document.add_object(stream)
        };
        let mut ap = lopdf::Dictionary::new();
        ap.set("N", Object::Reference(appearance));
        dict.set("AP", ap);
        update
            .new_document
            .objects
            .insert(widget, Object::Dictionary(dict));
    })
}

/// What an outside validator says of a signature's integrity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Judged {
    Intact,
    Broken,
    /// It does not read the format (pyHanko and pdfsig do not read `adbe.x509.rsa_sha1`).
    Unread,
    /// It finds no signature in the file.
    Absent,
}

/// What each validator says of one file's first signature.
#[derive(Debug)]
struct Said {
    /// Integrity, changes after the signature, and the document's verdict.
    naskah: (Option<Integrity>, ChangesAfter, Verdict),
    pyhanko: (Judged, Option<ChangesAfter>),
    /// Integrity, and whether the signature covers the whole file: all pdfsig says of
    /// later changes (it does not judge whether they are allowed).
    pdfsig: (Judged, Option<bool>),
    /// openssl's judgement, for the format the other two do not read.
    openssl: Option<Judged>,
    /// What naskah names: the changes after the first signature and its problems.
    named: Vec<String>,
}

/// Judges `pdf` (written to `dir` as NAME.pdf, and kept in `NASKAH_INTEROP_KEEP` when that
/// names a folder: to seed the fuzzer or to try another validator on the same files).
fn judged(dir: &Path, name: &str, pdf: &[u8], signer: Signer) -> Said {
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).expect("write");
    if let Some(keep) = std::env::var_os("NASKAH_INTEROP_KEEP") {
        std::fs::write(Path::new(&keep).join(format!("{name}.pdf")), pdf).expect("keep");
    }
    let path = path.to_string_lossy().into_owned();
    let roots =
        verify::Roots::from_pem_files(&[demo_pki().dir.join(pki::ROOT_CERT)]).expect("root");
    let report = verify::verify(pdf, &roots).expect("verifies");
    let first = report.signatures.first();
    let named = first
        .map(|s| s.changes.iter().chain(&s.problems).cloned().collect())
        .unwrap_or_default();
    let naskah = (
        first.map(|s| s.integrity),
        first.map_or(ChangesAfter::None, |s| s.changes_after),
        report.verdict,
    );
    let findings = crate::verify::pyhanko_findings(&path);
    let pyhanko = match findings.first() {
        Some((_, integrity, changes)) if integrity == "INTACT" => (Judged::Intact, *changes),
        Some((_, integrity, _)) if integrity == "INVALID" => (Judged::Broken, None),
        Some(other) => panic!("{name}: pyHanko says {other:?}"),
        None => {
            let root = demo_pki()
                .dir
                .join(pki::ROOT_CERT)
                .to_string_lossy()
                .into_owned();
            let output = crate::signing::pyhanko_output(&root, &path);
            let errors = String::from_utf8_lossy(&output.stderr).into_owned();
            if errors.contains("unsupported SubFilter") {
                (Judged::Unread, None)
            } else if output.status.success() && output.stdout.is_empty() {
                (Judged::Absent, None)
            } else {
                panic!("{name}: pyHanko says {errors}")
            }
        }
    };
    let output = tool("pdfsig", &["-nssdir", &demo_pki().nss, &path]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let first = text.split("Signature #2").next().unwrap_or_default();
    let mut whole = if first.contains("Total document signed") {
        Some(true)
    } else if first.contains("Not total document signed") {
        Some(false)
    } else {
        None
    };
    let integrity = if first.contains("Signature Validation: Signature is Valid.") {
        Judged::Intact
    } else if first.contains("Signature has not yet been verified") {
        whole = None;
        Judged::Unread
    } else if first.contains("Signature Validation:") {
        Judged::Broken
    } else if text.contains("does not contain any signatures") {
        Judged::Absent
    } else {
        panic!(
            "{name}: pdfsig says {text}{}",
            String::from_utf8_lossy(&output.stderr)
        )
    };
    let openssl = (signer == Signer::RsaSha1 && naskah.0.is_some())
        .then(|| openssl_judges_rsa_sha1(dir, pdf));
    Said {
        naskah,
        pyhanko,
        pdfsig: (integrity, whole),
        openssl,
        named,
    }
}

/// openssl's own judgement of an `adbe.x509.rsa_sha1` value over its byte range, for the
/// format the other two do not read.
fn openssl_judges_rsa_sha1(dir: &Path, pdf: &[u8]) -> Judged {
    let [_, first, second, length] = byte_range(pdf);
    let value = hex_value(&pdf[first + 1..second - 1]);
    let octets =
        <der::asn1::OctetString as der::Decode>::from_der(naskah::signing::cms::der_prefix(&value))
            .expect("an OCTET STRING");
    std::fs::write(dir.join("judged.sig"), octets.as_bytes()).expect("sig");
    std::fs::write(
        dir.join("judged.bin"),
        [&pdf[..first], &pdf[second..second + length]].concat(),
    )
    .expect("data");
    let cert = pem_files(dir, "banggai.kadis").cert;
    let public = openssl::x509::X509::from_pem(&std::fs::read(cert).expect("pem"))
        .and_then(|c| c.public_key())
        .and_then(|k| k.public_key_to_pem())
        .expect("public key");
    std::fs::write(dir.join("public.pem"), public).expect("public");
    let at = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let output = tool(
        "openssl",
        &[
            "dgst",
            "-sha1",
            "-verify",
            &at("public.pem"),
            "-signature",
            &at("judged.sig"),
            &at("judged.bin"),
        ],
    );
    if output.status.success() {
        Judged::Intact
    } else {
        Judged::Broken
    }
}

/// One file of the matrix and what was said of it.
struct Row {
    signer: Signer,
    variant: Variant,
    said: Said,
}

impl Row {
    fn line(&self) -> String {
        let Said {
            naskah: (integrity, changes, verdict),
            pyhanko,
            pdfsig,
            openssl,
            ..
        } = &self.said;
        let shown = |value: &dyn std::fmt::Debug| format!("{value:?}");
        format!(
            "{:15} {:15} {:7} {:10} {:13} {:7} {:10} {:7} {:5} {}",
            self.signer.name(),
            self.variant.name(),
            integrity.map_or("-".into(), |i| shown(&i)),
            shown(changes),
            shown(verdict),
            shown(&pyhanko.0),
            pyhanko.1.map_or("-".into(), |c| shown(&c)),
            shown(&pdfsig.0),
            pdfsig.1.map_or("-", |w| if w { "yes" } else { "no" }),
            openssl.map_or("-".into(), |o| shown(&o)),
        )
    }

    /// Where the validators disagree with naskah, or naskah with what the file is.
    fn disagreements(&self) -> Vec<String> {
        let name = format!("{}/{}", self.signer.name(), self.variant.name());
        let Said {
            naskah: (integrity, changes, verdict),
            pyhanko,
            pdfsig,
            openssl,
            named,
        } = &self.said;
        let mut wrong = Vec::new();
        let expected = self.variant.verdict(self.signer);
        if *verdict != expected {
            wrong.push(format!("{name}: naskah says {verdict:?}, not {expected:?}"));
        }
        let ours = match integrity {
            Some(Integrity::Intact) => Judged::Intact,
            Some(Integrity::Broken) => Judged::Broken,
            None => Judged::Absent,
        };
        // pyHanko and pdfsig read the signatures of the last revision's form: of a removed
        // signature they say there is none, which is true of that form.
        if self.variant == Variant::SignatureRemoved {
            if (pyhanko.0, pdfsig.0) != (Judged::Absent, Judged::Absent) {
                wrong.push(format!("{name}: pyHanko or pdfsig still see a signature"));
            }
            if ours != Judged::Intact || !named.iter().any(|n| n.contains("dihapus dari formulir"))
            {
                wrong.push(format!(
                    "{name}: naskah does not name the removed signature: {named:?}"
                ));
            }
            return wrong;
        }
        let outside = [("pyHanko", pyhanko.0), ("pdfsig", pdfsig.0)]
            .into_iter()
            .chain(openssl.map(|o| ("openssl", o)));
        let mut judges = 0;
        for (validator, theirs) in outside {
            if theirs == Judged::Unread {
                continue;
            }
            judges += 1;
            if theirs != ours {
                wrong.push(format!(
                    "{name}: {validator} says {theirs:?}, naskah {ours:?}"
                ));
            }
        }
        if judges == 0 {
            wrong.push(format!("{name}: no validator besides naskah reads it"));
        }
        if ours == Judged::Intact {
            if let Some(theirs) = pyhanko.1
                && theirs != *changes
            {
                wrong.push(format!(
                    "{name}: pyHanko finds {theirs:?}, naskah {changes:?}: {named:?}"
                ));
            }
            // pdfsig tells only whether the signature covers the whole file.
            if let Some(whole) = pdfsig.1
                && whole != (*changes == ChangesAfter::None)
            {
                wrong.push(format!(
                    "{name}: pdfsig says whole file {whole}, naskah {changes:?}"
                ));
            }
        }
        wrong
    }
}

/// Every signer's honest file and its tampered variants, each judged by naskah, pyHanko and
/// pdfsig (and openssl, where neither of those reads the format). The table is printed; per
/// file naskah gives the verdict the file deserves, and every validator that reads the file
/// agrees with naskah on integrity, pyHanko on what changed after the signature, and pdfsig
/// on whether the signature covers the whole file (all it says of later changes).
#[test]
fn foreign_signers_are_judged_as_pyhanko_and_pdfsig_judge_them() {
    let tsa = crate::signing::Tsa::start();
    let letter = crate::verify::letter();
    let mut rows = Vec::new();
    for signer in Signer::ALL {
        let dir = tempfile::tempdir().expect("tempdir");
        let honest = signer.sign(dir.path(), &tsa.url, &letter);
        for variant in Variant::ALL {
            let pdf = variant.apply(&honest, |covered| {
                signer.sign(dir.path(), &tsa.url, covered)
            });
            let name = format!("{}-{}", signer.name(), variant.name());
            let said = judged(dir.path(), &name, &pdf, signer);
            rows.push(Row {
                signer,
                variant,
                said,
            });
        }
    }
    let header = format!(
        "{:15} {:15} {:7} {:10} {:13} {:7} {:10} {:7} {:5} openssl\n{:15} {:15} {:7} {:10} {:13} {:7} {:10} {:7} {:5}",
        "signer",
        "variant",
        "naskah",
        "changes",
        "verdict",
        "pyHanko",
        "changes",
        "pdfsig",
        "whole",
        "",
        "",
        "integr.",
        "after",
        "",
        "integr.",
        "after",
        "integr.",
        "file"
    );
    let table: Vec<String> = rows.iter().map(Row::line).collect();
    println!("{header}\n{}", table.join("\n"));
    let wrong: Vec<String> = rows.iter().flat_map(Row::disagreements).collect();
    assert!(
        wrong.is_empty(),
        "{header}\n{}\n{wrong:#?}",
        table.join("\n")
    );
    assert_eq!(rows.len(), Signer::ALL.len() * Variant::ALL.len());
}

#[test]
fn a_sha1_signature_is_intact_and_names_its_weakness() {
    let dir = tempfile::tempdir().expect("tempdir");
    let legacy = legacy_rsa_sha1(dir.path(), &crate::verify::letter());
    let roots =
        verify::Roots::from_pem_files(&[demo_pki().dir.join(pki::ROOT_CERT)]).expect("root");
    let report = verify::verify(&legacy, &roots).expect("verifies");
    let signature = &report.signatures[0];
    assert_eq!(signature.integrity, Integrity::Intact, "{report:#?}");
    assert_eq!(signature.level.as_deref(), Some("adbe.x509.rsa_sha1"));
    assert_eq!(signature.trust, verify::Trust::Indeterminate);
    assert!(
        signature
            .problems
            .iter()
            .any(|p| p.starts_with("algoritma lemah: SHA-1")),
        "{:?}",
        signature.problems
    );
    assert!(
        signature
            .problems
            .iter()
            .any(|p| p.starts_with("algoritma tidak lagi diterima")),
        "{:?}",
        signature.problems
    );
}

/// A signature whose `/ByteRange` says `ranges` (written over naskah's at the same width),
/// with a CMS from `openssl cms -sign` over exactly those bytes: intact as far as the
/// cryptography goes, whatever the ranges leave out.
fn signed_over(dir: &Path, ranges: impl FnOnce([usize; 4]) -> [usize; 4]) -> Vec<u8> {
    let (mut pdf, digits) = placeholder(&crate::verify::letter(), 16 * 1024);
    let honest = byte_range(&pdf);
    let [start, first, second, length] = ranges(honest);
    let key = b"/ByteRange";
    let at = pdf
        .windows(key.len())
        .rposition(|w| w == key)
        .expect("a byte range")
        + key.len();
    let close = at + pdf[at..].iter().position(|b| *b == b']').expect("]");
    let open = at + pdf[at..].iter().position(|b| *b == b'[').expect("[");
    let text = format!("[{start} {first} {second} {length}");
    assert!(text.len() <= close - open, "the ranges fit");
    pdf[open..close].copy_from_slice(format!("{text:<width$}", width = close - open).as_bytes());
    let end = (second + length).min(pdf.len());
    let data = [
        &pdf[start..first.min(pdf.len())],
        &pdf[second.min(end)..end],
    ]
    .concat();
    let cms = openssl_cms(dir, &data, false);
    place(&mut pdf, &digits, &cms);
    pdf
}

/// Byte ranges that leave something out besides the signature's value, or reach past what
/// they should, under a CMS intact over what they say: never VALID, and what they leave out
/// named. Integrity as pyHanko and pdfsig judge it: intact over a gap or a short end (the
/// bytes left out are a change nobody signed: MODIFIED), broken when the ranges overlap or do
/// not start the file (INVALID). Data after the last end of file is a change naskah names;
/// pyHanko lets it pass as an acceptable modification, which naskah does not.
#[test]
fn byte_range_anomalies_are_named_and_never_valid() {
    use Judged::{Broken, Intact};
    let dir = tempfile::tempdir().expect("tempdir");
    let roots =
        verify::Roots::from_pem_files(&[demo_pki().dir.join(pki::ROOT_CERT)]).expect("root");
    let cases: Vec<(&str, Vec<u8>, Verdict, Judged)> = vec![
        (
            "gap after the value",
            signed_over(dir.path(), |[s, a, b, l]| [s, a, b + 4, l - 4]),
            Verdict::Modified,
            Intact,
        ),
        (
            "gap before the value",
            signed_over(dir.path(), |[s, a, b, l]| [s, a - 4, b, l]),
            Verdict::Modified,
            Intact,
        ),
        (
            "overlapping ranges",
            signed_over(dir.path(), |[s, a, b, l]| [s, a, a - 8, l + (b - a) + 8]),
            Verdict::Invalid,
            Broken,
        ),
        (
            "short of the revision's end",
            signed_over(dir.path(), |[s, a, b, l]| [s, a, b, l - 6]),
            Verdict::Modified,
            Intact,
        ),
        (
            "not from the start",
            signed_over(dir.path(), |[s, a, b, l]| [s + 2, a - 2, b, l]),
            Verdict::Invalid,
            Broken,
        ),
        (
            "trailing data",
            {
                let mut pdf = signed_over(dir.path(), |r| r);
                pdf.extend_from_slice(b"\n% appended after the last end of file\n");
                pdf
            },
            Verdict::Modified,
            Intact,
        ),
    ];
    let mut rows = Vec::new();
    for (name, pdf, verdict, integrity) in cases {
        let report = verify::verify(&pdf, &roots).expect("verifies");
        let said = judged(
            dir.path(),
            &name.replace(' ', "-"),
            &pdf,
            Signer::OpensslBer,
        );
        rows.push(format!(
            "{name:28} naskah {:?}/{:?} pyHanko {:?} pdfsig {:?}: {:?}",
            said.naskah.0, said.naskah.2, said.pyhanko, said.pdfsig, said.named
        ));
        assert_eq!(report.verdict, verdict, "{name}: {report:#?}");
        assert_eq!(
            (said.pyhanko.0, said.pdfsig.0),
            (integrity, integrity),
            "{name}"
        );
        let ours = match said.naskah.0 {
            Some(Integrity::Intact) => Intact,
            _ => Broken,
        };
        assert_eq!(ours, integrity, "{name}: {report:#?}");
        assert!(!said.named.is_empty(), "{name}: nothing named: {report:#?}");
    }
    println!("{}", rows.join("\n"));
}

/// A letter naskah signed as a paraf (certified, P=2) with an empty field `Pihak` reserved for
/// a later signer.
fn with_reserved_field() -> Vec<u8> {
    let mut paraf = crate::verify::options(true, None, Some("Paraf"));
    paraf.reserve = vec![naskah::signing::Reserved {
        name: "Pihak".into(),
        page: 1,
        rect: crate::verify::BLOCK,
    }];
    crate::verify::sign(
        &crate::verify::letter(),
        "banggai.kabid_egov",
        &paraf,
        naskah::signing::Level::BB,
        None,
    )
}

/// The reserved field `field` signed by a hand-made producer that draws the signed field by
/// rewriting its existing appearance stream under the same number (as some desktop signers
/// do); with `clobber`, the page's content stream rewritten alongside (a filling that changes
/// what the page shows).
fn fill_in_place(dir: &Path, pdf: &[u8], field: &str, clobber: bool) -> Vec<u8> {
    use lopdf::Object;
    let document = lopdf::Document::load_mem(pdf).expect("loads");
    let (widget, dict) = document
        .objects
        .iter()
        .find_map(|(id, o)| {
            let d = o.as_dict().ok()?;
            (d.get(b"T").and_then(Object::as_str).ok() == Some(field.as_bytes()))
                .then(|| (*id, d.clone()))
        })
        .expect("the reserved field");
    let stream = dict
        .get(b"AP")
        .and_then(Object::as_dict)
        .and_then(|ap| ap.get(b"N"))
        .and_then(Object::as_reference)
        .expect("an appearance stream");
    let page = *document.get_pages().get(&1).expect("page 1");
    let content = match document
        .get_dictionary(page)
        .expect("page")
        .get(b"Contents")
    {
        Ok(Object::Reference(id)) => *id,
        Ok(Object::Array(items)) => items[0].as_reference().expect("a stream"),
        other => panic!("{other:?}"),
    };
    let mut update = lopdf::IncrementalDocument::create_from(pdf.to_vec(), document);
    const DIGITS: usize = 16 * 1024;
    let mut signature = lopdf::Dictionary::new();
    signature.set("Type", Object::Name(b"Sig".to_vec()));
    signature.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    signature.set("SubFilter", Object::Name(b"adbe.pkcs7.detached".to_vec()));
    signature.set(
        "ByteRange",
        vec![0, 1_111_111_111, 1_111_111_111, 1_111_111_111]
            .into_iter()
            .map(Object::Integer)
            .collect::<Vec<_>>(),
    );
    signature.set(
        "Contents",
        Object::String(vec![0; DIGITS / 2], lopdf::StringFormat::Hexadecimal),
    );
    let value = update.new_document.add_object(signature);
    let mut filled = dict;
    filled.set("V", value);
    update
        .new_document
        .objects
        .insert(widget, Object::Dictionary(filled));
    let old = update
        .get_prev_documents()
        .get_object(stream)
        .and_then(Object::as_stream)
        .expect("a stream")
        .clone();
    let drawn = lopdf::Stream::new(old.dict.clone(), b"q 0 0 1 rg 0 0 220 110 re f Q".to_vec());
    update
        .new_document
        .objects
        .insert(stream, Object::Stream(drawn.clone()));
    if clobber {
        update
            .new_document
            .objects
            .insert(content, Object::Stream(drawn));
    }
    let mut bytes = Vec::new();
    update.save_to(&mut bytes).expect("saves");
    let digits = close_byte_range(&mut bytes, DIGITS);
    let cms = openssl_cms(dir, &signed_bytes(&bytes, &digits), false);
    place(&mut bytes, &digits, &cms);
    bytes
}

/// A field naskah reserved, signed later by another producer: pyHanko's signer (a new
/// appearance), and one that redraws the reserved appearance stream in place. Signing an
/// empty field is a change the certification permits (naskah and pyHanko alike); redrawing
/// the page's content alongside is not.
#[test]
fn a_reserved_field_signed_by_another_producer_is_a_permitted_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reserved = with_reserved_field();
    let cases = [
        (
            "pyhanko-fills",
            crate::signing::pyhanko_sign(dir.path(), &reserved, "Pihak"),
            ChangesAfter::Permitted,
        ),
        (
            "redrawn-in-place",
            fill_in_place(dir.path(), &reserved, "Pihak", false),
            ChangesAfter::Permitted,
        ),
        (
            "redrawn-over-the-page",
            fill_in_place(dir.path(), &reserved, "Pihak", true),
            ChangesAfter::Disallowed,
        ),
    ];
    for (name, pdf, changes) in cases {
        let said = judged(dir.path(), name, &pdf, Signer::OpensslBer);
        let path = dir.path().join(format!("{name}.pdf"));
        let findings = crate::verify::pyhanko_findings(&path.to_string_lossy());
        assert_eq!(findings.len(), 2, "{name}: {findings:?}");
        assert_eq!(
            (findings[0].1.as_str(), findings[0].2),
            ("INTACT", Some(changes)),
            "{name}: pyHanko on the paraf"
        );
        assert_eq!(
            findings[1].1, "INTACT",
            "{name}: pyHanko on the filled field"
        );
        assert_eq!(
            (said.naskah.0, said.naskah.1),
            (Some(Integrity::Intact), changes),
            "{name}: naskah on the paraf: {:?}",
            said.named
        );
        let roots =
            verify::Roots::from_pem_files(&[demo_pki().dir.join(pki::ROOT_CERT)]).expect("root");
        let report = verify::verify(&pdf, &roots).expect("verifies");
        let pihak = report
            .signatures
            .iter()
            .find(|s| s.field == "Pihak")
            .expect("the filled field");
        assert_eq!(
            (pihak.integrity, pihak.changes_after),
            (Integrity::Intact, ChangesAfter::None),
            "{name}"
        );
        let expected = match changes {
            ChangesAfter::Disallowed => Verdict::Modified,
            _ => Verdict::Indeterminate,
        };
        assert_eq!(report.verdict, expected, "{name}: {report:#?}");
    }
}
