//! Signatures other signers made, verified by naskah, pyHanko and pdfsig alike: the interop
//! matrix of issue 18. Each signer's honest file and its tampered variants; a table of what
//! each validator says, asserted to agree per file.
//!
//! Signers so far: `openssl cms -sign -stream` (a CMS in BER, indefinite lengths, detached
//! and placed into a signature field naskah prepared), and a legacy `adbe.x509.rsa_sha1`
//! signature (a PKCS#1 value made by `openssl dgst -sha1 -sign`, which pyHanko and pdfsig do
//! not read: openssl judges it). pyHanko's own, endesive, PDFBox and @signpdf are to come.

use std::path::Path;

use naskah::signing::{self, pki};
use naskah::verify::{self, Integrity, Verdict};

use crate::common::tool;
use crate::signing::pki as demo_pki;

/// The demo official's key and certificate chain as PEM files in `dir`: `key.pem`,
/// `cert.pem`, `chain.pem`.
fn pem_files(dir: &Path, username: &str) {
    let p12 = std::fs::read(demo_pki().dir.join(pki::official_p12(username))).expect("p12");
    let passphrase =
        pki::passphrase_of(&demo_pki().dir, &pki::official_p12(username)).expect("passphrase");
    let parsed = openssl::pkcs12::Pkcs12::from_der(&p12)
        .and_then(|p| p.parse2(&passphrase))
        .expect("opens");
    let key = parsed.pkey.expect("key");
    let cert = parsed.cert.expect("cert");
    std::fs::write(
        dir.join("key.pem"),
        key.private_key_to_pem_pkcs8().expect("pem"),
    )
    .expect("key");
    std::fs::write(dir.join("cert.pem"), cert.to_pem().expect("pem")).expect("cert");
    let mut chain = Vec::new();
    for ca in parsed.ca.into_iter().flatten() {
        chain.extend(ca.to_pem().expect("pem"));
    }
    std::fs::write(dir.join("chain.pem"), chain).expect("chain");
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
fn openssl_ber(dir: &Path) -> Vec<u8> {
    pem_files(dir, "banggai.kadis");
    let (mut pdf, digits) = placeholder(&crate::verify::letter(), 16 * 1024);
    let data = dir.join("data.bin");
    std::fs::write(&data, signed_bytes(&pdf, &digits)).expect("data");
    let at = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let output = tool(
        "openssl",
        &[
            "cms",
            "-sign",
            "-binary",
            "-stream",
            "-outform",
            "DER",
            "-md",
            "sha256",
            "-in",
            &at("data.bin"),
            "-signer",
            &at("cert.pem"),
            "-inkey",
            &at("key.pem"),
            "-certfile",
            &at("chain.pem"),
            "-out",
            &at("cms.der"),
        ],
    );
    assert!(output.status.success(), "openssl cms: {output:?}");
    let cms = detach(&std::fs::read(at("cms.der")).expect("cms"));
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
fn legacy_rsa_sha1(dir: &Path) -> Vec<u8> {
    pem_files(dir, "banggai.kadis");
    let cert = openssl::x509::X509::from_pem(&std::fs::read(dir.join("cert.pem")).expect("pem"))
        .expect("cert")
        .to_der()
        .expect("der");
    let pdf = crate::verify::letter();
    let document = lopdf::Document::load_mem(&pdf).expect("loads");
    let mut update = lopdf::IncrementalDocument::create_from(pdf.clone(), document);
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
    let chain =
        openssl::x509::X509::stack_from_pem(&std::fs::read(dir.join("chain.pem")).expect("chain"))
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

    // The byte range around the contents, written over its placeholder at the same width.
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
    let close = open + 1 + DIGITS;
    assert_eq!(bytes[close], b'>');
    let ranges = format!("[0 {} {} {}]", open, close + 1, bytes.len() - close - 1);
    let placeholder = b"[0 1111111111 1111111111 1111111111]";
    let at = bytes
        .windows(placeholder.len())
        .rposition(|w| w == placeholder)
        .expect("the byte range placeholder");
    let padded = format!("{ranges:<width$}", width = placeholder.len());
    bytes[at..at + placeholder.len()].copy_from_slice(padded.as_bytes());

    let digits = open + 1..close;
    std::fs::write(dir.join("legacy.bin"), signed_bytes(&bytes, &digits)).expect("data");
    let at_dir = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let output = tool(
        "openssl",
        &[
            "dgst",
            "-sha1",
            "-sign",
            &at_dir("key.pem"),
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

/// One byte of the signed content changed, outside the signature.
fn byte_changed(pdf: &[u8]) -> Vec<u8> {
    let mut changed = pdf.to_vec();
    let at = changed
        .windows(7)
        .position(|w| w == b"/Author" || w == b"/Produc")
        .unwrap_or(20);
    changed[at + 2] ^= 0x01;
    changed
}

/// What an outside validator says of a signature's integrity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Judged {
    Intact,
    Broken,
    /// It does not read the format (pyHanko and pdfsig do not read `adbe.x509.rsa_sha1`).
    Unread,
}

/// What each validator says of one file's first signature.
#[derive(Debug, PartialEq, Eq)]
struct Said {
    naskah: (Integrity, Verdict),
    pyhanko: Judged,
    pdfsig: Judged,
}

fn judged(dir: &Path, name: &str, pdf: &[u8]) -> Said {
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).expect("write");
    let path = path.to_string_lossy().into_owned();
    let roots =
        verify::Roots::from_pem_files(&[demo_pki().dir.join(pki::ROOT_CERT)]).expect("root");
    let report = verify::verify(pdf, &roots).expect("verifies");
    let ours = report
        .signatures
        .first()
        .map_or(Integrity::Broken, |s| s.integrity);
    let root = demo_pki()
        .dir
        .join(pki::ROOT_CERT)
        .to_string_lossy()
        .into_owned();
    let output = crate::signing::pyhanko_output(&root, &path);
    let lines = String::from_utf8_lossy(&output.stdout).into_owned();
    let errors = String::from_utf8_lossy(&output.stderr).into_owned();
    let pyhanko = match lines.lines().next() {
        Some(line) if line.contains(":INTACT") => Judged::Intact,
        Some(line) if line.contains(":INVALID") => Judged::Broken,
        _ if errors.contains("unsupported SubFilter") => Judged::Unread,
        _ => panic!("{name}: pyHanko says {lines}{errors}"),
    };
    let pdfsig = tool("pdfsig", &["-nssdir", &demo_pki().nss, &path]);
    let pdfsig = String::from_utf8_lossy(&pdfsig.stdout).into_owned();
    let pdfsig = if pdfsig.contains("Signature Validation: Signature is Valid.") {
        Judged::Intact
    } else if pdfsig.contains("Signature has not yet been verified") {
        Judged::Unread
    } else if pdfsig.contains("Signature Validation:") {
        Judged::Broken
    } else {
        panic!("{name}: pdfsig says {pdfsig}")
    };
    Said {
        naskah: (ours, report.verdict),
        pyhanko,
        pdfsig,
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
    let public = openssl::x509::X509::from_pem(&std::fs::read(dir.join("cert.pem")).expect("pem"))
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

/// The interop matrix so far: signers × variants, each file judged by naskah, pyHanko and
/// pdfsig (and, where neither of those reads the format, by openssl). A table row per file,
/// printed, and asserted: the outside validators that read the file agree with naskah on
/// integrity, and naskah's verdict is the one expected.
#[test]
fn foreign_signers_are_judged_as_pyhanko_and_pdfsig_judge_them() {
    use Judged::{Broken, Intact, Unread};
    let dir = tempfile::tempdir().expect("tempdir");
    let ber = openssl_ber(dir.path());
    let legacy = legacy_rsa_sha1(dir.path());
    // Signer, variant, file; naskah's verdict (trust undecided without revocation data, or
    // for SHA-1 after 2009); what pyHanko and pdfsig say.
    let table = [
        (
            "openssl-ber",
            "honest",
            ber.clone(),
            Verdict::Indeterminate,
            Intact,
            Intact,
        ),
        (
            "openssl-ber",
            "byte-changed",
            byte_changed(&ber),
            Verdict::Invalid,
            Broken,
            Broken,
        ),
        (
            "rsa-sha1",
            "honest",
            legacy.clone(),
            Verdict::Indeterminate,
            Unread,
            Unread,
        ),
        (
            "rsa-sha1",
            "byte-changed",
            byte_changed(&legacy),
            Verdict::Invalid,
            Unread,
            Unread,
        ),
    ];
    let mut rows = vec![format!(
        "{:12} {:13} {:10} {:14} {:8} {:8} openssl",
        "signer", "variant", "naskah", "verdict", "pyHanko", "pdfsig"
    )];
    for (signer, variant, pdf, verdict, pyhanko, pdfsig) in table {
        let name = format!("{signer}-{variant}");
        let said = judged(dir.path(), &name, &pdf);
        let openssl = (signer == "rsa-sha1").then(|| openssl_judges_rsa_sha1(dir.path(), &pdf));
        rows.push(format!(
            "{signer:12} {variant:13} {:10} {:14} {:8} {:8} {}",
            format!("{:?}", said.naskah.0),
            format!("{:?}", said.naskah.1),
            format!("{:?}", said.pyhanko),
            format!("{:?}", said.pdfsig),
            openssl.map_or("-".to_owned(), |o| format!("{o:?}"))
        ));
        assert_eq!(
            (said.naskah.1, said.pyhanko, said.pdfsig),
            (verdict, pyhanko, pdfsig),
            "{name}"
        );
        let ours = match said.naskah.0 {
            Integrity::Intact => Intact,
            Integrity::Broken => Broken,
        };
        for outside in [said.pyhanko, said.pdfsig].into_iter().chain(openssl) {
            assert!(
                outside == Unread || outside == ours,
                "{name}: {said:?}, {openssl:?}"
            );
        }
        // Every file is judged by at least one validator besides naskah.
        assert!(
            [said.pyhanko, said.pdfsig]
                .into_iter()
                .chain(openssl)
                .any(|o| o != Unread),
            "{name}"
        );
    }
    println!("{}", rows.join("\n"));
}

#[test]
fn a_sha1_signature_is_intact_and_names_its_weakness() {
    let dir = tempfile::tempdir().expect("tempdir");
    let legacy = legacy_rsa_sha1(dir.path());
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
