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

use naskah::signing::pki;
use naskah::verify::{self, ChangesAfter, Integrity, Verdict};

use crate::common::tool;
use crate::signing::pki as demo_pki;

mod signers;
mod variants;

use signers::{
    Signer, byte_range, hex_value, legacy_rsa_sha1, openssl_cms, pem_files, place, placeholder,
};
use variants::{Variant, fill_in_place, with_reserved_field};

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

/// ECDSA on P-384 and P-521 and Ed25519, keys the demo does not hand out (certificates of
/// its intermediate CA made here), the curves signed by `openssl cms` into a naskah field and
/// Ed25519 by pyHanko's signer (OpenSSL 3.0's CMS refuses to sign with Ed25519): intact,
/// chained to the root, and undecided without revocation data; a byte changed breaks them.
/// pyHanko and pdfsig judge the same files, and agree where they read them (pdfsig does not
/// read Ed25519).
#[test]
fn other_curves_and_ed25519_are_judged_as_pyhanko_and_pdfsig_judge_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rows = Vec::new();
    for (kind, md) in [
        ("p384", "sha384"),
        ("p521", "sha512"),
        ("ed25519", "sha512"),
    ] {
        let pems = signers::official_with(dir.path(), kind);
        let pdf = if kind == "ed25519" {
            signers::pyhanko_with(dir.path(), &crate::verify::letter(), &pems, &["--md", md])
        } else {
            let (mut pdf, digits) = placeholder(&crate::verify::letter(), 16 * 1024);
            let cms = signers::openssl_cms_by(
                dir.path(),
                &pems,
                md,
                &signers::signed_bytes(&pdf, &digits),
                false,
            );
            place(&mut pdf, &digits, &cms);
            pdf
        };
        for (variant, file, integrity) in [
            ("honest", pdf.clone(), Integrity::Intact),
            (
                "byte-changed",
                crate::common::flip_content_byte(&pdf),
                Integrity::Broken,
            ),
        ] {
            let name = format!("{kind}-{variant}");
            let said = judged(dir.path(), &name, &file, Signer::OpensslBer);
            rows.push(format!(
                "{name:22} naskah {:?}/{:?} pyHanko {:?} pdfsig {:?}",
                said.naskah.0, said.naskah.2, said.pyhanko.0, said.pdfsig.0
            ));
            assert_eq!(said.naskah.0, Some(integrity), "{name}: {:?}", said.named);
            let verdict = match integrity {
                Integrity::Intact => Verdict::Indeterminate,
                Integrity::Broken => Verdict::Invalid,
            };
            assert_eq!(said.naskah.2, verdict, "{name}: {:?}", said.named);
            if integrity == Integrity::Intact {
                // Undecided for the revocation status alone: the chain holds, the algorithm
                // is accepted.
                assert!(
                    said.named
                        .iter()
                        .all(|n| n.starts_with("status pencabutan tidak diketahui")),
                    "{name}: {:?}",
                    said.named
                );
            }
            let ours = match integrity {
                Integrity::Intact => Judged::Intact,
                Integrity::Broken => Judged::Broken,
            };
            assert_eq!(said.pyhanko.0, ours, "{name}: pyHanko");
            // poppler's NSS does not read an Ed25519 CMS: "Document isn't signed or corrupted
            // data", for the honest file as for the changed one.
            let pdfsig = if kind == "ed25519" {
                Judged::Broken
            } else {
                ours
            };
            assert_eq!(said.pdfsig.0, pdfsig, "{name}: pdfsig {:?}", said.pdfsig);
        }
    }
    println!("{}", rows.join("\n"));
}
