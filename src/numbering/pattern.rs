//! Letter number patterns: literal text and tokens in braces, able to write every format the
//! regions use: `{kka}/{seq}/{unit}` gives 500.12.6/468/Bid. Layanan E-Gov,
//! `{sifat_code}/{kka}/{seq}/{unit}/{month:roman}/{year}` gives B/500.12.16.3/573/BPBD-KL/IX/2026.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{Datelike, NaiveDate};

use crate::letters::indonesian;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    /// The sequence number, zero-padded to `width` digits.
    Seq {
        width: usize,
    },
    /// A sisipan's sub-number with its dot (".8"), empty for a main number.
    Sub,
    MonthRoman,
    /// The month as a number, zero-padded to `width` digits.
    Month {
        width: usize,
    },
    Year,
    /// A value the register or the letter gives: kka, unit, series, sifat_code.
    Value(&'static str),
}

/// The tokens whose values come from the register's settings or the letter.
pub const VALUE_TOKENS: [&str; 4] = ["kka", "unit", "series", "sifat_code"];

/// A parsed pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    pieces: Vec<Piece>,
    source: String,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut has_seq = false;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Literal(rest[..open].to_owned()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("pattern '{text}': a {{ is never closed"))?;
            let token = &after[..close];
            let (name, option) = match token.split_once(':') {
                Some((name, option)) => (name, Some(option)),
                None => (token, None),
            };
            let width = |option: Option<&str>| -> Result<usize, String> {
                match option {
                    None => Ok(0),
                    Some(digits) => digits
                        .parse::<usize>()
                        .ok()
                        .filter(|w| (1..=9).contains(w))
                        .ok_or_else(|| {
                            format!("pattern '{text}': '{{{token}}}' needs a width of 1 to 9")
                        }),
                }
            };
            let piece = match (name, option) {
                ("seq", option) => {
                    has_seq = true;
                    Piece::Seq {
                        width: width(option)?,
                    }
                }
                ("sub", None) => Piece::Sub,
                ("month", Some("roman")) => Piece::MonthRoman,
                ("month", option) => Piece::Month {
                    width: width(option)?,
                },
                ("year", None) => Piece::Year,
                (name, None) if let Some(value) = VALUE_TOKENS.iter().find(|t| **t == name) => {
                    Piece::Value(value)
                }
                _ => {
                    return Err(format!(
                        "pattern '{text}': unknown token '{{{token}}}' (known: {{kka}}, {{seq}}, {{seq:N}}, {{sub}}, {{unit}}, {{series}}, {{sifat_code}}, {{month:roman}}, {{month}}, {{year}})"
                    ));
                }
            };
            pieces.push(piece);
            rest = &after[close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("pattern '{text}': a }} without its {{"));
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_owned()));
        }
        if !has_seq {
            return Err(format!("pattern '{text}' has no {{seq}}"));
        }
        Ok(Pattern {
            pieces,
            source: text.to_owned(),
        })
    }

    /// The number for sequence `seq` (and sub-number `sub`, 0 for none) dated `date`.
    pub fn format(
        &self,
        seq: u32,
        sub: u32,
        date: NaiveDate,
        values: &BTreeMap<String, String>,
    ) -> Result<String, String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Seq { width } => {
                    let _ = write!(out, "{seq:0width$}");
                }
                Piece::Sub if sub > 0 => {
                    let _ = write!(out, ".{sub}");
                }
                Piece::Sub => {}
                Piece::MonthRoman => out.push_str(indonesian::roman_month(date)),
                Piece::Month { width } => {
                    let _ = write!(out, "{:0width$}", date.month());
                }
                Piece::Year => {
                    let _ = write!(out, "{}", date.year());
                }
                Piece::Value(name) => match values.get(*name).filter(|v| !v.trim().is_empty()) {
                    Some(value) => out.push_str(value.trim()),
                    None => {
                        return Err(format!(
                            "pattern '{}' needs a value for {{{name}}}",
                            self.source
                        ));
                    }
                },
            }
        }
        Ok(out)
    }
}

/// The code that stands for a letter's sifat in numbers such as B/500.12.16.3/573/…: the first
/// letter of Biasa, Penting, Segera, Rahasia; SR for sangat rahasia, SS for sangat segera.
pub fn sifat_code(sifat: &str) -> Option<&'static str> {
    match sifat.trim().to_lowercase().as_str() {
        "biasa" => Some("B"),
        "penting" => Some("P"),
        "segera" => Some("S"),
        "sangat segera" => Some("SS"),
        "rahasia" => Some("R"),
        "sangat rahasia" => Some("SR"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn every_seed_number_is_written_exactly() -> Result<(), String> {
        let cases = [
            (
                "{kka}/{seq}/{unit}",
                468,
                0,
                "2025-09-22",
                vec![("kka", "500.12.6"), ("unit", "Bid. Layanan E-Gov")],
                "500.12.6/468/Bid. Layanan E-Gov",
            ),
            (
                "{kka}/{seq}/{unit}-{year}",
                129,
                0,
                "2021-12-30",
                vec![("kka", "555"), ("unit", "Dikominfotik")],
                "555/129/Dikominfotik-2021",
            ),
            (
                "{kka}/{seq}{sub}/{unit}/{month:roman}/{year}",
                40,
                8,
                "2025-02-03",
                vec![("kka", "500.4"), ("unit", "DKIP")],
                "500.4/40.8/DKIP/II/2025",
            ),
            (
                "{kka}/{seq}/{series}/{unit}/{year}",
                28,
                0,
                "2022-01-03",
                vec![("kka", "067"), ("series", "SOP"), ("unit", "DKISP")],
                "067/28/SOP/DKISP/2022",
            ),
            (
                "{sifat_code}/{kka}/{seq}/{unit}/{month:roman}/{year}",
                573,
                0,
                "2026-09-14",
                vec![
                    ("sifat_code", "B"),
                    ("kka", "500.12.16.3"),
                    ("unit", "BPBD-KL"),
                ],
                "B/500.12.16.3/573/BPBD-KL/IX/2026",
            ),
        ];
        for (pattern, seq, sub, day, given, expected) in cases {
            let number = Pattern::parse(pattern)?.format(seq, sub, date(day), &values(&given))?;
            assert_eq!(number, expected);
        }
        Ok(())
    }

    #[test]
    fn padding_and_month_numbers() -> Result<(), String> {
        let pattern = Pattern::parse("{seq:4}/{month:2}/{year}")?;
        assert_eq!(
            pattern.format(7, 0, date("2026-03-01"), &values(&[]))?,
            "0007/03/2026"
        );
        Ok(())
    }

    #[test]
    fn bad_patterns_are_refused() {
        for (pattern, problem) in [
            ("{kka}/{nomor}/{unit}", "unknown token '{nomor}'"),
            ("{kka}/{unit}", "has no {seq}"),
            ("{kka/{seq}", "unknown token"),
            ("{seq}/{kka", "never closed"),
            ("{seq}}", "without its {"),
            ("{seq:0}", "width of 1 to 9"),
            ("{year:roman}/{seq}", "unknown token"),
        ] {
            let error = Pattern::parse(pattern).err().unwrap_or_default();
            assert!(error.contains(problem), "{pattern}: {error}");
        }
    }

    #[test]
    fn a_value_the_pattern_needs_must_be_given() -> Result<(), String> {
        let error = Pattern::parse("{kka}/{seq}")?
            .format(1, 0, date("2026-01-01"), &values(&[]))
            .err();
        assert_eq!(
            error.as_deref(),
            Some("pattern '{kka}/{seq}' needs a value for {kka}")
        );
        Ok(())
    }
}
