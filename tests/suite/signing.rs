//! Signatures as an official, a validator and an auditor rely on them, judged by pyHanko and
//! poppler's pdfsig (with an NSS database that trusts the demo root), not by naskah itself:
//! every letter kind signed; a paraf then the kadis' signature; both parties on a berita
//! acara; naskah after pyHanko and pyHanko after naskah; B-T, B-LT and B-LTA, the last two
//! still valid with the time-stamp authority gone; tampering caught; refusals that leave no
//! file behind.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::OnceLock;

use naskah::letters::{self, LetterKind};
use naskah::signing::{self, Level, Options, Rect, Reserved, SigningKey, pki};

use crate::common::{naskah, tool};

/// The demo PKI and an NSS database trusting its root, made once for the whole suite.
pub struct Pki {
    pub dir: PathBuf,
    pub nss: String,
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        // Kept for the life of the test process: every signing test uses it.
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let out = dir.join("pki");
        let made = naskah(&dir)
            .args(["certs", "init-demo", "--out"])
            .arg(&out)
            .output()
            .expect("run");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let nss = dir.join("nssdb");
        std::fs::create_dir(&nss).expect("nss dir");
        let nss = format!("sql:{}", nss.display());
        assert!(
            tool("certutil", &["-N", "-d", &nss, "--empty-password"])
                .status
                .success()
        );
        let root = out.join(pki::ROOT_CERT).to_string_lossy().into_owned();
        assert!(
            tool(
                "certutil",
                &[
                    "-A",
                    "-d",
                    &nss,
                    "-n",
                    "naskah demo root",
                    "-t",
                    "C,C,C",
                    "-i",
                    &root
                ]
            )
            .status
            .success()
        );
        Pki { dir: out, nss }
    })
}

pub fn p12(username: &str) -> PathBuf {
    pki().dir.join(pki::official_p12(username))
}

pub fn passphrase(username: &str) -> String {
    pki::passphrase_of(&pki().dir, &pki::official_p12(username)).expect("a passphrase")
}

pub fn sample(kind: LetterKind) -> Vec<u8> {
    crate::letters::render(kind, "banggai", &letters::sample(kind))
        .expect("renders")
        .pdf
}

/// The lower right quarter of an A4 page, where the kadis' signature block stands.
const KADIS_BLOCK: Rect = Rect {
    x: 320.0,
    y: 90.0,
    width: 220.0,
    height: 110.0,
};
const OTHER_BLOCK: Rect = Rect {
    x: 60.0,
    y: 90.0,
    width: 220.0,
    height: 110.0,
};

fn options(certify: bool, rect: Option<Rect>) -> Options<'static> {
    Options {
        page: 1,
        rect,
        certify,
        reason: Some("Menyetujui"),
        location: Some("Luwuk"),
        field_name: None,
        signed_at: chrono::Utc::now(),
        reserve: Vec::new(),
    }
}

fn sign_bb(input: &[u8], username: &str, options: &Options<'_>) -> Vec<u8> {
    let signed = signing::sign(
        input,
        &key(username),
        options,
        Level::BB,
        None,
        &Default::default(),
    )
    .expect("signs");
    assert!(signed.starts_with(input), "an earlier byte was rewritten");
    signed
}

fn write(dir: &Path, name: &str, pdf: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, pdf).expect("write");
    path.to_string_lossy().into_owned()
}

fn root() -> String {
    pki()
        .dir
        .join(pki::ROOT_CERT)
        .to_string_lossy()
        .into_owned()
}

/// `pyhanko sign validate` of `path` against the root in the PEM file `root`, offline.
pub fn pyhanko_output(root: &str, path: &str) -> std::process::Output {
    tool(
        "pyhanko",
        &[
            "sign",
            "validate",
            "--trust",
            root,
            "--trust-replace",
            "--no-revocation-check",
            path,
        ],
    )
}

/// pyHanko's one line per signature, and whether it exited 0.
pub fn pyhanko_validate(path: &str) -> (bool, String) {
    let output = pyhanko_output(&root(), path);
    let mut said = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        // Why, for the failure message: pyHanko explains on standard error.
        said.push_str(&String::from_utf8_lossy(&output.stderr));
    }
    (output.status.success(), said)
}

/// pdfsig's verdict per signature: (signature valid, certificate trusted). It exits 0 even on
/// a digest mismatch, so its text is what counts.
pub fn pdfsig(path: &str) -> Vec<(bool, bool)> {
    let output = tool("pdfsig", &["-nssdir", &pki().nss, path]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.split("Signature #")
        .skip(1)
        .map(|block| {
            (
                block.contains("Signature Validation: Signature is Valid."),
                block.contains("Certificate Validation: Certificate is Trusted."),
            )
        })
        .collect()
}

/// Both validators accept every signature of `path`, and qpdf its syntax.
pub fn assert_valid(path: &str, signatures: usize) {
    let (ok, lines) = pyhanko_validate(path);
    assert!(ok, "pyHanko refuses {path}:\n{lines}");
    assert_eq!(lines.lines().count(), signatures, "{lines}");
    assert!(
        lines.lines().all(|l| l.contains(":INTACT:TRUSTED")),
        "{lines}"
    );
    assert_eq!(
        pdfsig(path),
        vec![(true, true); signatures],
        "pdfsig on {path}"
    );
    let check = tool("qpdf", &["--check", path]);
    assert!(
        check.status.success(),
        "qpdf --check {path}: {}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn every_letter_kind_signed_by_naskah_is_valid_in_both_validators() {
    let dir = tempfile::tempdir().expect("tempdir");
    for kind in LetterKind::ALL {
        let signed = sign_bb(
            &sample(*kind),
            "banggai.kadis",
            &options(true, Some(KADIS_BLOCK)),
        );
        let path = write(dir.path(), &format!("{kind}.pdf"), &signed);
        assert_valid(&path, 1);
        let (_, lines) = pyhanko_validate(&path);
        assert!(lines.contains("UNTOUCHED"), "{kind}: {lines}");
    }
}

#[test]
fn a_paraf_then_the_kadis_signature_and_a_berita_acara_signed_by_both_parties() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The kabid's paraf certifies the letter and makes the kadis' empty field; the kadis (an
    // RSA-3072 key) fills it.
    let letter = sample(LetterKind::SuratRekomendasi);
    let mut paraf = options(true, None);
    paraf.field_name = Some("Paraf".into());
    paraf.reason = Some("Paraf");
    paraf.reserve = vec![Reserved {
        name: "Kadis".into(),
        page: 1,
        rect: KADIS_BLOCK,
    }];
    let initialled = sign_bb(&letter, "bolmut.kabid_aptika", &paraf);
    let mut kadis = options(false, None);
    kadis.field_name = Some("Kadis".into());
    let signed = sign_bb(&initialled, "bolmut.kadis", &kadis);
    let path = write(dir.path(), "paraf-kadis.pdf", &signed);
    assert_valid(&path, 2);
    let (_, lines) = pyhanko_validate(&path);
    assert!(
        lines.starts_with("Paraf:") && lines.contains("\nKadis:"),
        "{lines}"
    );

    // A berita acara: the Dinas (ECDSA P-256) and the agency each sign their own block.
    let berita = sample(LetterKind::BeritaAcaraSerahTerima);
    let mut first = options(true, Some(KADIS_BLOCK));
    first.field_name = Some("PihakPertama".into());
    first.reserve = vec![Reserved {
        name: "PihakKedua".into(),
        page: 1,
        rect: OTHER_BLOCK,
    }];
    let once = sign_bb(&berita, "tarakan.kadis", &first);
    let mut second = options(false, None);
    second.field_name = Some("PihakKedua".into());
    let both = sign_bb(&once, "banggai.kadis", &second);
    let path = write(dir.path(), "berita-acara.pdf", &both);
    assert_valid(&path, 2);
}

#[test]
fn naskah_signs_after_pyhanko_and_pyhanko_after_naskah() {
    let dir = tempfile::tempdir().expect("tempdir");
    let letter = sample(LetterKind::SuratTanggapanPersetujuan);
    let first = pyhanko_sign(dir.path(), &letter, "1/60,90,280,200/Pihak");
    let then_naskah = sign_bb(&first, "banggai.kadis", &options(false, Some(KADIS_BLOCK)));
    assert_valid(&write(dir.path(), "pyhanko-naskah.pdf", &then_naskah), 2);

    let by_naskah = sign_bb(&letter, "banggai.kadis", &options(true, Some(KADIS_BLOCK)));
    let then_pyhanko = pyhanko_sign(dir.path(), &by_naskah, "Pihak");
    assert_valid(&write(dir.path(), "naskah-pyhanko.pdf", &then_pyhanko), 2);
}

/// `pdf` signed by pyHanko (PAdES) with the Sumatera Barat kadis' PKCS#12 in `field` (a name,
/// or `PAGE/X1,Y1,X2,Y2/NAME` for a new visible one), working in `dir`.
pub fn pyhanko_sign(dir: &Path, pdf: &[u8], field: &str) -> Vec<u8> {
    let input = write(dir, "pyhanko-in.pdf", pdf);
    let output = dir.join("pyhanko-out.pdf").to_string_lossy().into_owned();
    let passfile = write(
        dir,
        "pyhanko-pass.txt",
        passphrase("sumbar.kadis").as_bytes(),
    );
    let p12 = p12("sumbar.kadis").to_string_lossy().into_owned();
    let made = tool(
        "pyhanko",
        &[
            "sign",
            "addsig",
            "--use-pades",
            "--field",
            field,
            "pkcs12",
            "--passfile",
            &passfile,
            &input,
            &output,
            &p12,
        ],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    std::fs::read(&output).expect("read")
}

/// The signing key of `username` from the demo PKI.
pub fn key(username: &str) -> SigningKey {
    let der = std::fs::read(p12(username)).expect("p12");
    SigningKey::from_pkcs12(&der, &passphrase(username)).expect("unlocks")
}

/// The demo time-stamp authority as its own process, and its URL.
pub struct Tsa {
    child: Child,
    pub url: String,
}

impl Tsa {
    pub fn start() -> Tsa {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = naskah(dir.path())
            .args(["certs", "tsa", "--pki"])
            .arg(&pki().dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("line");
        let url = line
            .trim()
            .strip_prefix("naskah tsa listening on ")
            .unwrap_or_else(|| panic!("{line:?}"))
            .to_owned();
        Tsa { child, url }
    }
}

impl Drop for Tsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cli_sign(
    dir: &Path,
    username: &str,
    input: &str,
    output: &str,
    extra: &[&str],
) -> std::process::Output {
    naskah(dir)
        .env("NASKAH_TEST_PASSPHRASE", passphrase(username))
        .args(["sign", "--p12"])
        .arg(p12(username))
        .args([
            "--pass-env",
            "NASKAH_TEST_PASSPHRASE",
            "--in",
            input,
            "--out",
            output,
        ])
        .args(extra)
        .output()
        .expect("run")
}

#[test]
fn time_stamped_levels_validate_and_long_term_ones_hold_with_the_authority_gone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let letter = write(
        dir.path(),
        "letter.pdf",
        &sample(LetterKind::SuratRekomendasi),
    );
    let crls: Vec<String> = [pki::INTERMEDIATE_CRL, pki::ROOT_CRL]
        .iter()
        .map(|f| pki().dir.join(f).to_string_lossy().into_owned())
        .collect();
    let tsa = Tsa::start();
    let mut files = Vec::new();
    for level in ["B-T", "B-LT", "B-LTA"] {
        let out = dir
            .path()
            .join(format!("{level}.pdf"))
            .to_string_lossy()
            .into_owned();
        let signed = cli_sign(
            dir.path(),
            "malut.kadis",
            &letter,
            &out,
            &[
                "--level",
                level,
                "--tsa",
                &tsa.url,
                "--crl",
                &crls[0],
                "--crl",
                &crls[1],
                "--certify",
                "--visible",
                "1,320,90,220,110",
            ],
        );
        assert!(
            signed.status.success(),
            "{level}: {}",
            String::from_utf8_lossy(&signed.stderr)
        );
        let (ok, lines) = pyhanko_validate(&out);
        assert!(ok, "{level}: {lines}");
        assert!(
            lines.contains("INTACT:TRUSTED,TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
            "{level}: {lines}"
        );
        // pdfsig checks the signature; it cannot check a document time-stamp at all.
        assert_eq!(pdfsig(&out)[0], (true, true), "{level}");
        assert!(tool("qpdf", &["--check", &out]).status.success(), "{level}");
        files.push((level, out));
    }
    drop(tsa);
    for (level, path) in &files {
        let output = tool(
            "pyhanko",
            &[
                "sign",
                "adesverify",
                "--trust",
                &root(),
                "--trust-replace",
                path,
            ],
        );
        let text = String::from_utf8_lossy(&output.stdout);
        // B-T carries no revocation data, so offline it cannot be judged; the long-term levels
        // carry what they need.
        assert_eq!(output.status.success(), *level != "B-T", "{level}: {text}");
    }
    // Without an authority B-T is refused and no file is written.
    let out = dir.path().join("nothing.pdf");
    let refused = cli_sign(
        dir.path(),
        "malut.kadis",
        &letter,
        &out.to_string_lossy(),
        &["--level", "B-T", "--tsa", "http://127.0.0.1:9/"],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("tidak dapat dihubungi"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(!out.exists());
}

#[test]
fn tampering_is_caught_by_both_validators() {
    let dir = tempfile::tempdir().expect("tempdir");
    let signed = sign_bb(
        &sample(LetterKind::SuratRekomendasi),
        "banggai.kadis",
        &options(true, Some(KADIS_BLOCK)),
    );
    // One byte inside the first signed range: the letter's own content.
    let flipped = crate::common::flip_content_byte(&signed);
    let path = write(dir.path(), "flipped.pdf", &flipped);
    let (ok, lines) = pyhanko_validate(&path);
    assert!(!ok && lines.contains(":INVALID"), "{lines}");
    let verdicts = pdfsig(&path);
    assert!(
        verdicts.len() == 1 && !verdicts[0].0,
        "pdfsig must not call it valid: {verdicts:?}"
    );

    // New page content added after signing, as an incremental update: the signature's own
    // bytes are intact, but the change is not one a certified letter allows.
    let appended =
        crate::common::draw_on_first_page(&signed, b"BT /F1 24 Tf 100 700 Td (PALSU) Tj ET");
    let path = write(dir.path(), "appended.pdf", &appended);
    let (ok, lines) = pyhanko_validate(&path);
    assert!(!ok && lines.contains("ILLEGAL_MODIFICATIONS"), "{lines}");
}

#[test]
fn refusals_name_the_problem_and_write_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let letter = sample(LetterKind::SuratRekomendasi);
    let input = write(dir.path(), "letter.pdf", &letter);

    // A wrong passphrase is told apart from a damaged file, and never printed.
    let der = std::fs::read(p12("banggai.kadis")).expect("p12");
    assert!(matches!(
        SigningKey::from_pkcs12(&der, "salah"),
        Err(signing::KeyError::WrongPassphrase)
    ));
    assert!(matches!(
        SigningKey::from_pkcs12(b"not a p12", "salah"),
        Err(signing::KeyError::Unreadable(_))
    ));
    let out = dir.path().join("out.pdf");
    let wrong = naskah(dir.path())
        .env("WRONG", "bukan-passphrase-ini")
        .args(["sign", "--p12"])
        .arg(p12("banggai.kadis"))
        .args([
            "--pass-env",
            "WRONG",
            "--in",
            &input,
            "--out",
            &out.to_string_lossy(),
        ])
        .output()
        .expect("run");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&wrong.stdout),
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert_eq!(wrong.status.code(), Some(1), "{said}");
    assert!(
        said.contains("passphrase salah") && !said.contains("bukan-passphrase-ini"),
        "{said}"
    );
    assert!(!out.exists());

    // naskah never overwrites its input.
    let same = cli_sign(dir.path(), "banggai.kadis", &input, &input, &[]);
    assert_eq!(same.status.code(), Some(2));
    assert_eq!(std::fs::read(&input).expect("read"), letter);

    // Certification only first; a signed field is not signed again; a file that is no PDF; a
    // time-stamped level without an authority; a field name with a period; a page not there.
    use signing::{PdfError, SigningError};
    let signed = sign_bb(&letter, "banggai.kadis", &options(true, Some(KADIS_BLOCK)));
    let refusal = |input: &[u8], options: Options<'_>, level: Level| {
        signing::sign(
            input,
            &key("banggai.kadis"),
            &options,
            level,
            None,
            &Default::default(),
        )
        .expect_err("refused")
    };
    let named = |name: &str| Options {
        field_name: Some(name.into()),
        ..options(false, None)
    };
    let far_page = Options {
        page: 9,
        ..options(false, Some(KADIS_BLOCK))
    };
    let cases = [
        (
            refusal(&signed, options(true, None), Level::BB),
            "CertifyNotFirst",
        ),
        (
            refusal(&signed, named("Signature1"), Level::BB),
            "FieldSigned",
        ),
        (
            refusal(b"%PDF-1.7\nnot really", options(false, None), Level::BB),
            "Unreadable",
        ),
        (
            refusal(&letter, options(false, None), Level::BT),
            "NoTimeStamper",
        ),
        (
            refusal(&letter, named("Paraf.kabid"), Level::BB),
            "FieldName",
        ),
        (refusal(&letter, far_page, Level::BB), "NoSuchPage"),
    ];
    for (error, expected) in cases {
        let matched = match &error {
            SigningError::Pdf(PdfError::CertifyNotFirst) => "CertifyNotFirst",
            SigningError::Pdf(PdfError::FieldSigned(_)) => "FieldSigned",
            SigningError::Pdf(PdfError::Unreadable(_)) => "Unreadable",
            SigningError::NoTimeStamper(Level::BT) => "NoTimeStamper",
            SigningError::Pdf(PdfError::FieldName(_)) => "FieldName",
            SigningError::Pdf(PdfError::NoSuchPage { page: 9, pages: 1 }) => "NoSuchPage",
            _ => "something else",
        };
        assert_eq!(matched, expected, "{error}");
    }

    // A second demo PKI is not made over the first.
    let twice = naskah(dir.path())
        .args(["certs", "init-demo", "--out"])
        .arg(&pki().dir)
        .output()
        .expect("run");
    assert_eq!(twice.status.code(), Some(2));
}

#[test]
fn the_demo_pki_follows_the_signing_profile() {
    let cert = |username: &str| key(username).certificate;
    let text = |c: &openssl::x509::X509| {
        let output = std::process::Command::new("openssl")
            .args(["x509", "-noout", "-text"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(&c.to_pem().expect("pem"))?;
                child.wait_with_output()
            })
            .expect("openssl x509");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let official = text(&cert("banggai.kadis"));
    assert!(
        official.contains("serialNumber = 198107212003121004"),
        "{official}"
    );
    assert!(
        official.contains("title = \"Kepala Dinas Komunikasi"),
        "{official}"
    );
    assert!(
        official.contains("Digital Signature, Non Repudiation"),
        "{official}"
    );
    assert!(!official.contains("Extended Key Usage"), "{official}");
    assert_eq!(
        key("banggai.kadis").algorithm,
        signing::key::Algorithm::RsaSha256
    );
    assert_eq!(
        key("tarakan.kadis").algorithm,
        signing::key::Algorithm::EcdsaP256Sha256
    );
    let tsa = std::fs::read(pki().dir.join(pki::TSA_CERT)).expect("tsa.pem");
    let tsa = text(&openssl::x509::X509::from_pem(&tsa).expect("pem"));
    assert!(
        tsa.contains("X509v3 Extended Key Usage: critical\n                Time Stamping\n"),
        "{tsa}"
    );
    let listed = std::fs::read_to_string(pki().dir.join(pki::PASSPHRASES)).expect("list");
    for line in listed.lines() {
        let (file, secret) = line.split_once(' ').expect("FILE PASSPHRASE");
        assert!(pki().dir.join(file).exists(), "{file}");
        assert!(secret.len() >= 20);
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(pki().dir.join(pki::PASSPHRASES))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "passphrases.txt is its owner's alone");
    for crl in [pki::ROOT_CRL, pki::INTERMEDIATE_CRL] {
        let der = std::fs::read(pki().dir.join(crl)).expect("crl");
        assert!(openssl::x509::X509Crl::from_der(&der).is_ok(), "{crl}");
    }
}

/// The demo CRLs fall due 30 days after they are made; `naskah certs renew-crls` issues
/// them again: signed by their authority, with a greater number, due 30 days from now; a
/// folder without a demo PKI is a usage error.
#[test]
fn demo_crls_are_issued_again_before_they_fall_due() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("pki");
    let made = naskah(dir.path())
        .args(["certs", "init-demo", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert!(made.status.success(), "{made:?}");
    let read = |file: &str| {
        openssl::x509::X509Crl::from_der(&std::fs::read(out.join(file)).expect("crl"))
            .expect("a CRL")
    };
    let number = |crl: &openssl::x509::X509Crl| {
        let der = crl.to_der().expect("der");
        // cRLNumber's OID, then the extension's OCTET STRING around an INTEGER.
        let oid = [0x06, 0x03, 0x55, 0x1d, 0x14];
        let at = der.windows(5).position(|w| w == oid).expect("a CRL number") + 5;
        let integer = &der[at + 2..];
        assert_eq!(integer[0], 0x02, "an INTEGER");
        integer[2..2 + usize::from(integer[1])]
            .iter()
            .fold(0u64, |n, b| (n << 8) | u64::from(*b))
    };
    let before = [pki::ROOT_CRL, pki::INTERMEDIATE_CRL].map(|f| number(&read(f)));
    let renewed = naskah(dir.path())
        .args(["certs", "renew-crls", "--pki"])
        .arg(&out)
        .output()
        .expect("run");
    assert!(renewed.status.success(), "{renewed:?}");
    let said = String::from_utf8_lossy(&renewed.stdout).into_owned();
    let passphrases = std::fs::read_to_string(out.join(pki::PASSPHRASES)).expect("list");
    for line in passphrases.lines() {
        let secret = line.split_once(' ').expect("FILE PASSPHRASE").1;
        assert!(!said.contains(secret), "no passphrase in the output");
    }
    let due = openssl::asn1::Asn1Time::days_from_now(pki::CRL_DAYS).expect("time");
    for (file, issuer, old) in [
        (pki::ROOT_CRL, pki::ROOT_CERT, before[0]),
        (pki::INTERMEDIATE_CRL, pki::INTERMEDIATE_CERT, before[1]),
    ] {
        let crl = read(file);
        let issuer = openssl::x509::X509::from_pem(&std::fs::read(out.join(issuer)).expect("pem"))
            .expect("cert");
        assert!(
            crl.verify(&issuer.public_key().expect("key"))
                .expect("verifies"),
            "{file} is signed by its authority"
        );
        assert!(number(&crl) > old, "{file}: a greater CRL number");
        let off = crl
            .next_update()
            .expect("a next update")
            .diff(&due)
            .expect("diff");
        assert!(
            off.days == 0 && off.secs.abs() < 120,
            "{file} due in 30 days: {off:?}"
        );
        assert!(
            !out.join(format!("{file}.new")).exists(),
            "no partial file left"
        );
    }
    let empty = tempfile::tempdir().expect("tempdir");
    let refused = naskah(dir.path())
        .args(["certs", "renew-crls", "--pki"])
        .arg(empty.path())
        .output()
        .expect("run");
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("no demo PKI here"),
        "{refused:?}"
    );
}

/// Numbers a draft letter of the demo's Banggai office in its outgoing register as the
/// secretariat, and signs it as the kepala dinas in the workflow's signing (B-B); returns its
/// number.
pub fn number_and_sign_as_kadis(
    conn: &mut naskah::db::DbConn,
    letter: naskah::ids::LetterId,
    settings: &naskah::letters::store::Settings,
) -> String {
    let person = |conn: &mut naskah::db::DbConn, username: &str| {
        naskah::people::find_by_username(conn, username)
            .expect("query")
            .unwrap_or_else(|| panic!("no {username}"))
            .id
    };
    let secretary = person(conn, "banggai.sekretariat");
    let kadis = person(conn, "banggai.kadis");
    let office = naskah::office::find_by_code(conn, "banggai")
        .expect("query")
        .expect("office");
    let register =
        naskah::numbering::register_by_code(conn, office.id, "keluar").expect("register");
    let issued = naskah::numbering::issue(
        conn,
        register.id,
        letter,
        chrono::Utc::now().date_naive(),
        secretary,
        naskah::db::now(),
    )
    .expect("number");
    naskah::letters::store::add_numbered_revision(conn, letter, secretary, settings)
        .expect("numbered");
    // At B-LT, with the demo CRLs: an auditor can tell the certificate was not revoked.
    let tsa = Tsa::start();
    let tte = naskah::tte::Settings {
        level: naskah::signing::Level::BLT,
        time_stamper: Some(naskah::signing::tsa::TimeStamper::new(&tsa.url)),
        crls: [pki::INTERMEDIATE_CRL, pki::ROOT_CRL]
            .iter()
            .map(|f| std::fs::read(pki().dir.join(f)).expect("crl"))
            .collect(),
        ..naskah::tte::Settings::local(pki().dir.clone(), settings.clone())
    };
    naskah::tte::sign_letter(
        conn,
        &tte,
        letter,
        kadis,
        &passphrase("banggai.kadis"),
        naskah::tte::Mode::Signature,
    )
    .expect("signed");
    issued.number
}

/// A self-signed certificate and key as a PKCS#12 (passphrase `uji`) at `dir/name.p12`:
/// `ca` for basicConstraints CA:TRUE, `usage` the key usage bits, valid from `from` to `to`
/// days from now.
fn own_p12(dir: &Path, name: &str, ca: bool, usage: &[&str], from: i64, to: i64) -> PathBuf {
    use openssl::asn1::Asn1Time;
    use openssl::x509::extension::{BasicConstraints, KeyUsage};
    let key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).expect("rsa"))
        .expect("key");
    let mut subject = openssl::x509::X509NameBuilder::new().expect("name");
    subject.append_entry_by_text("CN", name).expect("cn");
    let subject = subject.build();
    let mut builder = openssl::x509::X509Builder::new().expect("builder");
    builder.set_version(2).expect("version");
    builder.set_subject_name(&subject).expect("subject");
    builder.set_issuer_name(&subject).expect("issuer");
    builder.set_pubkey(&key).expect("pubkey");
    let day = |days: i64| {
        Asn1Time::from_unix(chrono::Utc::now().timestamp() + days * 86_400).expect("time")
    };
    builder.set_not_before(&day(from)).expect("not before");
    builder.set_not_after(&day(to)).expect("not after");
    let mut constraints = BasicConstraints::new();
    if ca {
        constraints.ca();
    }
    builder
        .append_extension(constraints.critical().build().expect("bc"))
        .expect("bc");
    let mut key_usage = KeyUsage::new();
    for bit in usage {
        match *bit {
            "digitalSignature" => key_usage.digital_signature(),
            "nonRepudiation" => key_usage.non_repudiation(),
            "keyCertSign" => key_usage.key_cert_sign(),
            other => panic!("{other}"),
        };
    }
    builder
        .append_extension(key_usage.critical().build().expect("ku"))
        .expect("ku");
    builder
        .sign(&key, openssl::hash::MessageDigest::sha256())
        .expect("sign");
    let cert = builder.build();
    let p12 = openssl::pkcs12::Pkcs12::builder()
        .name(name)
        .pkey(&key)
        .cert(&cert)
        .build2("uji")
        .expect("p12");
    let path = dir.join(format!("{name}.p12"));
    std::fs::write(&path, p12.to_der().expect("der")).expect("write");
    path
}

#[test]
fn a_key_that_may_not_sign_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write(
        dir.path(),
        "letter.pdf",
        &sample(LetterKind::SuratRekomendasi),
    );
    let out = dir.path().join("out.pdf");
    let run = |p12: &Path, extra: &[&str]| {
        let output = naskah(dir.path())
            .env("UJI_PASSPHRASE", "uji")
            .args(["sign", "--p12"])
            .arg(p12)
            .args(["--pass-env", "UJI_PASSPHRASE", "--in", &input, "--out"])
            .arg(&out)
            .args(extra)
            .output()
            .expect("run");
        let said = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code(), said)
    };
    let signer = ["digitalSignature", "nonRepudiation"];
    let cases = [
        (
            own_p12(
                dir.path(),
                "ca",
                true,
                &["keyCertSign", "digitalSignature", "nonRepudiation"],
                -1,
                30,
            ),
            "otoritas sertifikat (CA)",
        ),
        (
            own_p12(
                dir.path(),
                "tanpa-nonrepudiation",
                false,
                &["digitalSignature"],
                -1,
                30,
            ),
            "nonRepudiation",
        ),
        (
            own_p12(dir.path(), "kedaluwarsa", false, &signer, -60, -1),
            "sudah kedaluwarsa",
        ),
        (
            own_p12(dir.path(), "belum-berlaku", false, &signer, 10, 30),
            "belum berlaku",
        ),
    ];
    for (p12, words) in &cases {
        let (code, said) = run(p12, &[]);
        assert_eq!(code, Some(1), "{said}");
        assert!(
            said.contains("sertifikat tidak dapat dipakai") && said.contains(words),
            "{said}"
        );
        assert!(!out.exists(), "{said}");
    }
    // An honest certificate of its own signs.
    let (code, said) = run(&own_p12(dir.path(), "pejabat", false, &signer, -1, 30), &[]);
    assert_eq!(code, Some(0), "{said}");
    std::fs::remove_file(&out).expect("remove");
    // Revoked in the CRL naskah is given: refused.
    let authority = crate::verify::RevokingAuthority::start(&["dicabut"]);
    let (code, said) = run(
        Path::new(&authority.path("dicabut.p12")),
        &["--crl", &authority.path("crl.der")],
    );
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("dicabut"), "{said}");
    assert!(!out.exists());
}
