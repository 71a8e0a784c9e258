//! The document security store as the verifier reads it: the certificates and revocation data
//! it offers every signature, and the PAdES level its revisions give each one.

use lopdf::{Document, ObjectId};
use openssl::x509::X509;

use super::{Integrity, Kind, Revisions, SignatureReport, changes, cms, resolve, trust};

/// The certificates, CRLs and OCSP responses of the document security store.
pub(super) fn read(document: &Document) -> (Vec<X509>, trust::Revocation) {
    let streams = |key: &[u8]| -> Vec<Vec<u8>> {
        document
            .catalog()
            .ok()
            .and_then(|c| c.get(b"DSS").ok())
            .and_then(|d| resolve(document, d))
            .and_then(|d| d.as_dict().ok())
            .and_then(|d| d.get(key).ok())
            .and_then(|l| resolve(document, l))
            .and_then(|l| l.as_array().ok())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| {
                        resolve(document, i)?
                            .as_stream()
                            .ok()?
                            .get_plain_content()
                            .ok()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let certs = streams(b"Certs")
        .iter()
        .filter_map(|d| cms::certificate(d))
        .collect();
    let revocation = trust::Revocation::from_der(&streams(b"CRLs"), &streams(b"OCSPs"));
    (certs, revocation)
}

/// The PAdES level of each signature: B-T with a time-stamp, B-LT when a later revision added
/// validation data, B-LTA when a document time-stamp covers validation data added after the
/// signature (CAdES signatures; PKCS#7 and legacy ones keep the name of their format). The DSS
/// of each revision is compared by the objects it reaches, so that producers who grow it in
/// place (pyHanko adds the time-stamp authority's data after the time-stamp) are read alike.
pub(super) fn assign_levels(reports: &mut [SignatureReport], revisions: &Revisions<'_, '_>) {
    let dss_at = |revision: usize| {
        revisions
            .at(revision)
            .map(changes::dss_objects)
            .unwrap_or_default()
    };
    let current = changes::dss_objects(revisions.document);
    let stamps: Vec<usize> = reports
        .iter()
        .filter(|r| r.kind == Kind::Timestamp && r.integrity == Integrity::Intact)
        .map(|r| r.revision)
        .collect();
    for report in reports.iter_mut().filter(|r| {
        r.kind == Kind::Signature && r.integrity == Integrity::Intact && r.level.is_none()
    }) {
        let signed = dss_at(report.revision);
        let added = |dss: &std::collections::BTreeSet<ObjectId>| !dss.is_subset(&signed);
        let timestamped =
            report.timestamp_at.is_some() || stamps.iter().any(|&s| s > report.revision);
        let long_term = timestamped && added(&current);
        let archived = long_term
            && stamps
                .iter()
                .any(|&s| s > report.revision && added(&dss_at(s)));
        report.level = Some(
            match (timestamped, long_term, archived) {
                (_, _, true) => "B-LTA",
                (_, true, _) => "B-LT",
                (true, _, _) => "B-T",
                _ => "B-B",
            }
            .to_owned(),
        );
    }
}
