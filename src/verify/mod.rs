//! Verification for auditors: every signature and document time-stamp in a PDF, checked for
//! integrity (the byte ranges, the digest, the signature value), trust (a chain to the
//! configured roots at the proven signing time, not revoked by the CRLs the document carries),
//! PAdES level, and what changed after it was signed (`changes.rs`).
//!
//! The verdict is VALID only when every signature is intact and trusted and only permitted
//! changes follow it; otherwise NO_SIGNATURE, INVALID, MODIFIED, UNTRUSTED or INDETERMINATE
//! (trust cannot be decided), the first that applies. Sub-filters read: `adbe.pkcs7.detached`,
//! `ETSI.CAdES.detached`, `ETSI.RFC3161`, `adbe.pkcs7.sha1` and `adbe.x509.rsa_sha1`
//! (`legacy.rs`); a CMS in DER or BER (`ber.rs`); weak algorithms under `policy.rs`. The reader works within limits (`revisions.rs`) and ends with an error on what it
//! cannot read, never a panic.

pub mod ber;
pub mod changes;
pub mod cms;
mod dss;
pub mod fetch;
mod fields;
pub mod legacy;
pub mod policy;
pub mod revisions;
pub mod sandbox;
pub mod trust;

use lopdf::{Document, Object, ObjectId};
use openssl::x509::X509;
use serde::{Deserialize, Serialize};

use fields::{Ranges, byte_range, removed_signatures, signature_fields};

pub use changes::ChangesAfter;
pub use trust::{Roots, Trust};

/// A verdict's name as the JSON report writes it: `VALID`, `INTACT`, `TRUSTED`, `NONE`, ….
pub fn name(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Why a file could not be verified at all.
#[derive(Clone, Debug, thiserror::Error, Serialize, Deserialize)]
pub enum VerifyError {
    #[error("berkas terlalu besar ({0} byte; batas {max})", max = crate::signing::pdf::MAX_INPUT)]
    TooLarge(usize),
    #[error("berkas PDF tidak dapat dibaca: {0}")]
    Unreadable(String),
    #[error("pemeriksaan melebihi batas waktu {0} detik")]
    TimedOut(u64),
    /// The reader needed more memory than a worker has (a file built to exhaust it).
    #[error("berkas PDF terlalu rumit untuk diperiksa (melebihi batas memori {0} MB)")]
    TooComplex(u64),
    /// Every worker is busy; the caller may try again shortly.
    #[error("terlalu banyak pemeriksaan sedang berjalan; coba lagi sebentar lagi")]
    Busy,
}

/// The document's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Valid,
    NoSignature,
    Invalid,
    Modified,
    Untrusted,
    Indeterminate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Integrity {
    Intact,
    Broken,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Signature,
    Timestamp,
}

/// Who signed, from their certificate.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Signer {
    pub name: String,
    pub nip: Option<String>,
    pub position: Option<String>,
}

/// One signature or document time-stamp.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignatureReport {
    pub field: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub signer: Option<Signer>,
    /// The signing time the signer claims (`/M`, or a signing-time attribute).
    pub signed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The time its time-stamp proves.
    pub timestamp_at: Option<chrono::DateTime<chrono::Utc>>,
    pub level: Option<String>,
    pub integrity: Integrity,
    pub trust: Trust,
    pub changes_after: ChangesAfter,
    /// What changed after it: permitted changes, then disallowed ones.
    pub changes: Vec<String>,
    /// Why it is not intact or not trusted, in words.
    pub problems: Vec<String>,
    /// The 0-based revision it covers.
    #[serde(skip)]
    revision: usize,
}

/// The report on one PDF.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub sha256: String,
    pub verdict: Verdict,
    pub signatures: Vec<SignatureReport>,
}

/// How long one file may take before the verifier gives up on it.
pub const TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Verifies `pdf` against `roots`.
pub fn verify(pdf: &[u8], roots: &Roots) -> Result<Report, VerifyError> {
    let prefix = std::cell::RefCell::new(revisions::Prefix::new(pdf));
    let gaps = revisions::value_gaps(pdf);
    let signatures = match check_all(pdf, roots, &gaps, &gaps, &prefix)? {
        Some(signatures) => signatures,
        // A blanked gap was not the value of a signature dictionary: the file is read again
        // as it stands, so that nothing the verifier judges differs from what a viewer shows.
        None => check_all(pdf, roots, &[], &gaps, &prefix)?.unwrap_or_default(),
    };
    let sha256 = crate::digest::hex(&prefix.into_inner().whole());
    Ok(report(sha256, signatures))
}

/// Checks every signature of `pdf`, read with `gaps` blanked (see
/// [`revisions::load_without`]); `None` when a gap was not a signature's own value. `values`
/// are all the signature values the file's byte ranges point at, blanked or not.
fn check_all(
    pdf: &[u8],
    roots: &Roots,
    gaps: &[revisions::Gap],
    values: &[revisions::Gap],
    prefix: &std::cell::RefCell<revisions::Prefix<'_>>,
) -> Result<Option<Vec<SignatureReport>>, VerifyError> {
    let document = revisions::load_without(pdf, gaps)?;
    let ends = revisions::ends(pdf);
    let fields = signature_fields(&document);
    let (dss_certs, revocation) = dss::read(&document);
    let docmdp = changes::docmdp(&document);
    let revisions = Revisions {
        pdf,
        document: &document,
        ends: &ends,
        gaps,
        values,
        prefix,
        read: ends.iter().map(|_| std::cell::OnceCell::new()).collect(),
    };
    let mut read_from_file = vec![false; gaps.len()];
    let (mut reports, mut evidence): (Vec<SignatureReport>, Vec<Option<Evidence>>) = fields
        .iter()
        .map(|(name, value)| {
            check_one(
                &revisions,
                &document,
                name,
                *value,
                docmdp,
                &mut read_from_file,
            )
        })
        .unzip();
    for (revision, name, id) in removed_signatures(&revisions, &fields) {
        let Ok(holder) = revisions.at(revision) else {
            continue;
        };
        let (mut report, found) = check_one(
            &revisions,
            holder,
            &name,
            Ok(id),
            docmdp,
            &mut read_from_file,
        );
        report.changes_after = ChangesAfter::Disallowed;
        report
            .changes
            .push("tanda tangan ini dihapus dari formulir oleh revisi sesudahnya".into());
        reports.push(report);
        evidence.push(found);
    }
    if read_from_file.contains(&false) {
        return Ok(None);
    }
    dss::assign_levels(&mut reports, &revisions);
    judge_trust(&mut reports, &evidence, roots, &dss_certs, &revocation);
    Ok(Some(reports))
}

/// The document's verdict from its signatures' findings.
fn report(sha256: String, reports: Vec<SignatureReport>) -> Report {
    let verdict = if reports.is_empty() {
        Verdict::NoSignature
    } else if reports.iter().any(|r| r.integrity == Integrity::Broken) {
        Verdict::Invalid
    } else if reports
        .iter()
        .any(|r| r.changes_after == ChangesAfter::Disallowed)
    {
        Verdict::Modified
    } else if reports
        .iter()
        .any(|r| !matches!(r.trust, Trust::Trusted | Trust::Indeterminate))
    {
        Verdict::Untrusted
    } else if reports.iter().any(|r| r.trust == Trust::Indeterminate) {
        Verdict::Indeterminate
    } else {
        Verdict::Valid
    };
    Report {
        sha256,
        verdict,
        signatures: reports,
    }
}

/// Follows a reference, once.
fn resolve<'a>(document: &'a Document, object: &'a Object) -> Option<&'a Object> {
    crate::signing::pdf::resolve(document, object).ok()
}

/// `D:YYYYMMDDHHmmSS` with an optional offset, as `/M` writes it.
fn pdf_date(bytes: &[u8]) -> Option<chrono::DateTime<chrono::Utc>> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix("D:").unwrap_or(&text);
    let digits: String = text.chars().take(14).collect();
    let local = chrono::NaiveDateTime::parse_from_str(&digits, "%Y%m%d%H%M%S").ok()?;
    let rest = &text[digits.len().min(text.len())..];
    let offset = match rest.chars().next() {
        Some(sign @ ('+' | '-')) => {
            let nums: String = rest[1..]
                .chars()
                .filter(char::is_ascii_digit)
                .take(4)
                .collect();
            let hours: i64 = nums.get(0..2)?.parse().ok()?;
            let minutes: i64 = nums.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
            let seconds = hours * 3600 + minutes * 60;
            if sign == '-' { -seconds } else { seconds }
        }
        _ => 0,
    };
    Some((local - chrono::Duration::seconds(offset)).and_utc())
}

/// The document and each of its revisions, each read once, when first needed, all with the
/// same gaps blanked; and the file's SHA-256 as far as it got.
struct Revisions<'a, 'p> {
    pdf: &'a [u8],
    document: &'a Document,
    ends: &'a [(usize, usize)],
    gaps: &'a [revisions::Gap],
    /// Every signature value the file's byte ranges point at (blanked or not).
    values: &'a [revisions::Gap],
    prefix: &'a std::cell::RefCell<revisions::Prefix<'p>>,
    read: Vec<std::cell::OnceCell<Result<Document, String>>>,
}

impl Revisions<'_, '_> {
    /// The digest of a signature's signed bytes, `[0, first)` and `second`.
    fn signed_digest(&self, digest: cms::Digest, first: usize, second: &[u8]) -> Vec<u8> {
        match (digest, self.prefix.try_borrow_mut()) {
            (cms::Digest::Sha256, Ok(mut prefix)) => prefix.sha256_with(first, second).to_vec(),
            _ => digest.hash(&[&self.pdf[..first], second]),
        }
    }

    /// The document as revision `index` left it; the last revision is the document itself.
    fn at(&self, index: usize) -> Result<&Document, String> {
        let end = self.ends.get(index).map_or(self.pdf.len(), |(_, end)| *end);
        if self.pdf[end.min(self.pdf.len())..]
            .iter()
            .all(u8::is_ascii_whitespace)
        {
            return Ok(self.document);
        }
        match self.read.get(index) {
            Some(cell) => cell
                .get_or_init(|| {
                    let within: Vec<revisions::Gap> =
                        self.gaps.iter().filter(|g| g.end <= end).cloned().collect();
                    revisions::load_without(&self.pdf[..end], &within).map_err(|e| e.to_string())
                })
                .as_ref()
                .map_err(Clone::clone),
            None => Err("revisi tidak ada".into()),
        }
    }
}

/// What trust is judged on, gathered while integrity is checked: the signer's certificate,
/// what the signature carries to build its chain and show its status, the weak algorithms it
/// uses and its own time-stamp.
struct Evidence {
    certificate: X509,
    certificates: Vec<X509>,
    revocation: trust::Revocation,
    weak: Vec<policy::Weakness>,
    stamp: Option<Box<Evidence>>,
    /// For a time-stamp: the time it proves.
    at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Evidence {
    fn new(
        certificate: X509,
        certificates: Vec<X509>,
        revocation: trust::Revocation,
        digest: cms::Digest,
    ) -> Evidence {
        let weak = certificate
            .public_key()
            .map(|key| policy::weaknesses(digest, &key))
            .unwrap_or_default();
        Evidence {
            certificate,
            certificates,
            revocation,
            weak,
            stamp: None,
            at: None,
        }
    }

    fn of(parsed: cms::Parsed, digest: cms::Digest) -> Option<Evidence> {
        let revocation = trust::Revocation::from_der(&parsed.crls, &parsed.ocsps);
        Some(Evidence::new(
            parsed.certificate?,
            parsed.certificates,
            revocation,
            digest,
        ))
    }
}

/// Checks one signature field's signature: its byte range, its integrity, what changed after
/// it; with what its trust is to be judged on when it is intact. The field is `holder`'s: the
/// document's, or an earlier revision's for a signature a later one removed.
fn check_one(
    revisions: &Revisions<'_, '_>,
    holder: &Document,
    field: &str,
    value: Result<ObjectId, ()>,
    docmdp: Option<i64>,
    read_from_file: &mut [bool],
) -> (SignatureReport, Option<Evidence>) {
    let (pdf, document, ends) = (revisions.pdf, revisions.document, revisions.ends);
    let mut report = SignatureReport {
        field: field.to_owned(),
        kind: Kind::Signature,
        signer: None,
        signed_at: None,
        timestamp_at: None,
        level: None,
        integrity: Integrity::Broken,
        trust: Trust::Untrusted,
        changes_after: ChangesAfter::None,
        changes: Vec::new(),
        problems: Vec::new(),
        revision: 0,
    };
    let Ok(id) = value else {
        report
            .problems
            .push("kamus tanda tangan bukan objek tidak langsung".into());
        return (report, None);
    };
    let Some(signature) = holder.get_object(id).ok().and_then(|o| o.as_dict().ok()) else {
        report.problems.push("kamus tanda tangan tidak ada".into());
        return (report, None);
    };
    let sub_filter = signature
        .get(b"SubFilter")
        .ok()
        .and_then(|s| s.as_name().ok())
        .unwrap_or_default();
    if sub_filter == b"ETSI.RFC3161"
        || signature.get(b"Type").ok().and_then(|t| t.as_name().ok()) == Some(b"DocTimeStamp")
    {
        report.kind = Kind::Timestamp;
    }
    report.signed_at = signature
        .get(b"M")
        .ok()
        .and_then(|m| m.as_str().ok())
        .and_then(pdf_date);
    let Ranges {
        ranges,
        revision,
        value: contents,
        uncovered,
    } = match byte_range(revisions, holder, signature, id, read_from_file) {
        Ok(found) => found,
        Err(problem) => {
            report.problems.push(problem);
            return (report, None);
        }
    };
    report.revision = revision;
    let contents = contents.as_slice();
    let signed_data: [&[u8]; 2] = [&pdf[..ranges[1]], &pdf[ranges[2]..ranges[2] + ranges[3]]];

    // Integrity.
    let checked = match (report.kind, sub_filter) {
        (Kind::Timestamp, _) => {
            time_stamp(contents, &signed_data).inspect(|stamp| report.timestamp_at = stamp.at)
        }
        (Kind::Signature, b"adbe.x509.rsa_sha1") => {
            legacy::check(holder, signature, contents, &signed_data).map(|checked| {
                Evidence::new(
                    checked.certificate,
                    checked.certificates,
                    trust::Revocation::default(),
                    checked.digest,
                )
            })
        }
        (Kind::Signature, _) => {
            let sha1 = sub_filter == b"adbe.pkcs7.sha1";
            check_signature(revisions, contents, &ranges, sha1, &mut report)
        }
    };
    let evidence = match checked {
        Ok(evidence) => evidence,
        Err(problem) => {
            report.problems.push(problem);
            return (report, None);
        }
    };
    report.integrity = Integrity::Intact;
    report.signer = Some(signer(&evidence.certificate));
    report
        .problems
        .extend(evidence.weak.iter().map(policy::Weakness::problem));
    // PAdES levels are CAdES signatures' (and document time-stamps'); the rest are named by
    // their format.
    report.level = match sub_filter {
        b"adbe.pkcs7.detached" => Some("PKCS#7".into()),
        b"adbe.pkcs7.sha1" | b"adbe.x509.rsa_sha1" => {
            Some(String::from_utf8_lossy(sub_filter).into_owned())
        }
        _ => None,
    };

    // What came after.
    match revisions.at(revision) {
        Ok(signed) => {
            let mut found = changes::compare(signed, document, docmdp);
            let last_end = ends.last().map_or(0, |(_, e)| *e);
            if pdf.len() > last_end && !pdf[last_end..].iter().all(u8::is_ascii_whitespace) {
                found.disallowed.push(format!(
                    "{} byte setelah %%EOF terakhir",
                    pdf.len() - last_end
                ));
            }
            if uncovered > 0 {
                found.disallowed.push(format!(
                    "/ByteRange tidak mencakup {uncovered} byte selain nilai tanda tangan"
                ));
            }
            report.changes_after = found.verdict();
            report.changes.extend(found.permitted);
            report.changes.extend(found.disallowed);
        }
        Err(error) => {
            report.changes_after = ChangesAfter::Disallowed;
            report
                .changes
                .push(format!("revisi yang ditandatangani tidak terbaca: {error}"));
        }
    }
    (report, Some(evidence))
}

/// Checks a time-stamp token over `data`: what its trust is judged on, at the time it proves.
fn time_stamp(token: &[u8], data: &[&[u8]]) -> Result<Evidence, String> {
    let stamp = cms::check_time_stamp(token, data)?;
    let digest = cms::digest_algorithm(&stamp.parsed)?;
    let mut evidence = Evidence::of(stamp.parsed, digest)
        .ok_or("sertifikat otoritas cap waktu tidak disertakan")?;
    evidence.at = Some(stamp.at);
    Ok(evidence)
}

/// Judges the trust of every intact signature and time-stamp, from the last revision back:
/// each at its validation time, the earliest time a trusted time-stamp proves it existed (its
/// own signature time-stamp, or a document time-stamp of a later revision), else now. A
/// time-stamp authority is judged the same way, at the time what covers it proves.
fn judge_trust(
    reports: &mut [SignatureReport],
    evidence: &[Option<Evidence>],
    roots: &Roots,
    dss_certs: &[X509],
    dss_revocation: &trust::Revocation,
) {
    let now = chrono::Utc::now();
    let mut order: Vec<usize> = (0..reports.len())
        .filter(|&i| evidence[i].is_some())
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(reports[i].revision));
    // The document time-stamps found trusted: the revision each covers and its time.
    let mut proofs: Vec<(usize, chrono::DateTime<chrono::Utc>)> = Vec::new();
    let judge = |evidence: &Evidence, at, required| {
        let mut intermediates = evidence.certificates.clone();
        intermediates.extend(dss_certs.iter().cloned());
        let sources = [dss_revocation, &evidence.revocation];
        trust::check(
            roots,
            &evidence.certificate,
            &intermediates,
            &sources,
            at,
            required,
        )
    };
    for i in order {
        let Some(evidence) = &evidence[i] else {
            continue;
        };
        let report = &mut reports[i];
        if roots.is_empty() {
            report
                .problems
                .push("tidak ada akar kepercayaan yang diatur".into());
            continue;
        }
        let covered = proofs
            .iter()
            .filter(|(revision, _)| *revision > report.revision)
            .map(|(_, at)| *at)
            .min();
        let mut at = covered.map_or(now, |c| c.min(now));
        if let Some(stamp) = &evidence.stamp {
            let (trust, why) = judge(stamp, at, false);
            match (trust, stamp.at) {
                (Trust::Trusted, Some(proven)) => at = at.min(proven),
                _ => report.problems.push(format!(
                    "cap waktu tanda tangan tidak terpercaya: {}",
                    why.join("; ")
                )),
            }
        }
        let (mut trust, why) = judge(evidence, at, report.kind == Kind::Signature);
        report.problems.extend(why);
        if evidence.weak.iter().any(|w| w.fails_at(at)) {
            if trust == Trust::Trusted {
                trust = Trust::Indeterminate;
            }
            report.problems.push(format!(
                "algoritma tidak lagi diterima pada waktu validasi {}",
                at.format("%Y-%m-%d %H:%M:%S UTC")
            ));
        }
        report.trust = trust;
        if report.kind == Kind::Timestamp
            && report.trust == Trust::Trusted
            && let Some(proven) = evidence.at
        {
            proofs.push((report.revision, proven));
        }
    }
}

fn signer(certificate: &X509) -> Signer {
    let (name, nip, position) = cms::subject(certificate);
    Signer {
        name,
        nip,
        position,
    }
}

/// Checks a signature's CMS over the bytes its `ranges` cover (or, for `adbe.pkcs7.sha1`,
/// over the SHA-1 digest of those bytes that it encapsulates), and its time-stamp token if it
/// has one.
fn check_signature(
    revisions: &Revisions<'_, '_>,
    contents: &[u8],
    ranges: &[usize; 4],
    sha1: bool,
    report: &mut SignatureReport,
) -> Result<Evidence, String> {
    let parsed = cms::parse(contents)?;
    // Who it claims to be, shown even when the signature does not hold.
    report.signer = parsed.certificate.as_ref().map(signer);
    let digest = cms::digest_algorithm(&parsed)?;
    let second = &revisions.pdf[ranges[2]..ranges[2] + ranges[3]];
    let parts = [&revisions.pdf[..ranges[1]], second];
    if sha1 {
        let encapsulated = parsed
            .content
            .econtent
            .as_ref()
            .and_then(|c| c.decode_as::<der::asn1::OctetString>().ok())
            .ok_or("adbe.pkcs7.sha1 tanpa digest dokumen di dalamnya")?;
        if encapsulated.as_bytes() != cms::Digest::Sha1.hash(&parts) {
            return Err("digest dokumen tidak sama dengan yang ditandatangani".into());
        }
        let inner = [encapsulated.as_bytes()];
        let content = cms::Content {
            parts: &inner,
            digest: digest.hash(&inner),
        };
        cms::check(&parsed, &content, crate::signing::cms::ID_DATA)?;
    } else {
        let content = cms::Content {
            parts: &parts,
            digest: revisions.signed_digest(digest, ranges[1], second),
        };
        cms::check(&parsed, &content, crate::signing::cms::ID_DATA)?;
    }
    if report.signed_at.is_none() {
        report.signed_at = cms::signing_time(&parsed.signer);
    }
    let token = cms::signature_time_stamp_token(&parsed.signer);
    let stamp =
        token.and_then(
            |token| match time_stamp(&token, &[parsed.signer.signature.as_bytes()]) {
                Ok(stamp) => {
                    report.timestamp_at = stamp.at;
                    Some(Box::new(stamp))
                }
                Err(problem) => {
                    report
                        .problems
                        .push(format!("cap waktu tanda tangan: {problem}"));
                    None
                }
            },
        );
    let mut evidence =
        Evidence::of(parsed, digest).ok_or("sertifikat penanda tangan tidak disertakan")?;
    evidence.stamp = stamp;
    Ok(evidence)
}
