//! The validation policy on algorithms, modelled on the default policy of the EU's DSS
//! (its `constraint.xml`, which follows ETSI TS 119 312): an algorithm that has grown weak
//! keeps a signature's integrity (the bytes are what was signed) but can prove nothing made
//! after the date it stopped being acceptable. A signature whose proven time (its trusted
//! time-stamp) is before that date stands; one proven only later is INDETERMINATE.
//!
//! The dates, and why:
//! - SHA-1: until 2009-01-01. DSS's default, and the year NIST SP 800-131A set for ending
//!   SHA-1 in new signatures; collisions were shown in practice in 2017 (SHAttered).
//! - RSA keys under 1,024 bits: never. 1,024 to 1,535 bits: until 2009-01-01 (DSS's default).
//!   1,536 to 2,047 bits: until 2016-01-01 (DSS's default). 2,048 bits and more: acceptable.
//! - Elliptic curves under 256 bits (P-224, P-192): until 2016-01-01, as RSA of the same
//!   strength. P-256, P-384, P-521 and Ed25519, Ed448: acceptable.
//! - MD5 and anything unnamed are refused by the reader (`cms.rs`) outright.

use chrono::{DateTime, NaiveDate, Utc};
use openssl::pkey::{Id, PKey, Public};

use super::cms::Digest;

/// An algorithm that is weak, and the moment it stopped being acceptable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weakness {
    /// What it is, as an auditor reads it: `SHA-1`, `RSA 1024 bit`.
    pub algorithm: String,
    /// Signatures proven to exist before this moment stand; `None`: never acceptable.
    pub until: Option<DateTime<Utc>>,
}

impl Weakness {
    /// Whether a signature proven to exist at `at` can no longer rely on it.
    pub fn fails_at(&self, at: DateTime<Utc>) -> bool {
        self.until.is_none_or(|until| at >= until)
    }

    /// The named problem, in Indonesian.
    pub fn problem(&self) -> String {
        match self.until {
            Some(until) => format!(
                "algoritma lemah: {} (diterima hanya untuk tanda tangan yang terbukti ada sebelum {})",
                self.algorithm,
                until.format("%Y-%m-%d")
            ),
            None => format!(
                "algoritma lemah: {} (tidak pernah diterima)",
                self.algorithm
            ),
        }
    }
}

fn day(year: i32) -> Option<DateTime<Utc>> {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// What is weak in a signature made with `digest` by `key`.
pub fn weaknesses(digest: Digest, key: &PKey<Public>) -> Vec<Weakness> {
    let mut found = Vec::new();
    if digest == Digest::Sha1 {
        found.push(Weakness {
            algorithm: "SHA-1".into(),
            until: day(2009),
        });
    }
    let bits = key.bits();
    let key_until = match key.id() {
        Id::RSA | Id::RSA_PSS if bits < 1_024 => Some(None),
        Id::RSA | Id::RSA_PSS if bits < 1_536 => Some(day(2009)),
        Id::RSA | Id::RSA_PSS if bits < 2_048 => Some(day(2016)),
        Id::EC if bits < 256 => Some(day(2016)),
        _ => None,
    };
    if let Some(until) = key_until {
        let kind = if key.id() == Id::EC { "EC" } else { "RSA" };
        found.push(Weakness {
            algorithm: format!("{kind} {bits} bit"),
            until,
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_algorithms_fail_only_after_their_date() {
        let rsa = |bits| {
            let key = openssl::rsa::Rsa::generate(bits).expect("key");
            let der = key.public_key_to_der().expect("der");
            PKey::public_key_from_der(&der).expect("public")
        };
        let strong = rsa(2048);
        assert!(weaknesses(Digest::Sha256, &strong).is_empty());
        let sha1 = weaknesses(Digest::Sha1, &strong);
        assert_eq!(sha1.len(), 1);
        assert!(!sha1[0].fails_at(day(2008).expect("date")));
        assert!(sha1[0].fails_at(day(2026).expect("date")));
        assert!(sha1[0].problem().contains("SHA-1"));
        let short = weaknesses(Digest::Sha256, &rsa(1024));
        assert_eq!(short[0].algorithm, "RSA 1024 bit");
        assert!(short[0].fails_at(day(2010).expect("date")));
        assert!(!short[0].fails_at(day(2008).expect("date")));
    }
}
