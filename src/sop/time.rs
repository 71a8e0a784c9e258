//! The time standard (mutu baku waktu) of an SOP step: "5 menit", "1 hari", "12-24 jam",
//! "tentatif". A range's upper bound is the deadline; a tentative step has none.

use std::fmt;
use std::str::FromStr;

use chrono::{Duration, NaiveDateTime};
use serde::Serialize;

use crate::calendar::Calendar;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    fn word(self) -> &'static str {
        match self {
            TimeUnit::Minutes => "menit",
            TimeUnit::Hours => "jam",
            TimeUnit::Days => "hari",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimeStandard {
    Fixed { amount: u32, unit: TimeUnit },
    Range { low: u32, high: u32, unit: TimeUnit },
    Tentative,
}

impl TimeStandard {
    /// When a step that starts at `start` is due, in the office's working time; `None` for a
    /// tentative step.
    pub fn deadline(&self, calendar: &Calendar, start: NaiveDateTime) -> Option<NaiveDateTime> {
        let (amount, unit) = match *self {
            TimeStandard::Fixed { amount, unit } => (amount, unit),
            TimeStandard::Range { high, unit, .. } => (high, unit),
            TimeStandard::Tentative => return None,
        };
        Some(match unit {
            TimeUnit::Minutes => calendar.add_working_time(start, Duration::minutes(amount.into())),
            TimeUnit::Hours => calendar.add_working_time(start, Duration::hours(amount.into())),
            TimeUnit::Days => calendar.add_working_days(start, amount),
        })
    }
}

impl FromStr for TimeStandard {
    type Err = String;

    /// Reads "5 menit", "1 Hari", "12-24 jam" (also with an en dash or "s.d."), "tentatif".
    fn from_str(text: &str) -> Result<Self, String> {
        let unreadable = || {
            format!(
                "unreadable time standard '{text}' (write e.g. 5 menit, 1 jam, 2 hari, 12-24 jam, tentatif)"
            )
        };
        let lower = text.trim().to_lowercase();
        if lower == "tentatif" {
            return Ok(TimeStandard::Tentative);
        }
        let (amount, unit) = lower.rsplit_once(' ').ok_or_else(unreadable)?;
        let unit = match unit {
            "menit" => TimeUnit::Minutes,
            "jam" => TimeUnit::Hours,
            "hari" => TimeUnit::Days,
            _ => return Err(unreadable()),
        };
        let number = |s: &str| s.trim().parse::<u32>().ok().filter(|n| *n > 0);
        let amount = amount.replace('–', "-").replace("s.d.", "-");
        match amount.split_once('-') {
            Some((low, high)) => match (number(low), number(high)) {
                (Some(low), Some(high)) if low < high => {
                    Ok(TimeStandard::Range { low, high, unit })
                }
                _ => Err(unreadable()),
            },
            None => number(&amount)
                .map(|amount| TimeStandard::Fixed { amount, unit })
                .ok_or_else(unreadable),
        }
    }
}

impl fmt::Display for TimeStandard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeStandard::Fixed { amount, unit } => write!(f, "{amount} {}", unit.word()),
            TimeStandard::Range { low, high, unit } => write!(f, "{low}-{high} {}", unit.word()),
            TimeStandard::Tentative => f.write_str("tentatif"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_seeds_write() {
        let cases = [
            (
                "5 Menit",
                TimeStandard::Fixed {
                    amount: 5,
                    unit: TimeUnit::Minutes,
                },
            ),
            (
                "1 Hari",
                TimeStandard::Fixed {
                    amount: 1,
                    unit: TimeUnit::Days,
                },
            ),
            (
                "1 Jam",
                TimeStandard::Fixed {
                    amount: 1,
                    unit: TimeUnit::Hours,
                },
            ),
            (
                "12-24 Jam",
                TimeStandard::Range {
                    low: 12,
                    high: 24,
                    unit: TimeUnit::Hours,
                },
            ),
            (
                "8 – 24 jam",
                TimeStandard::Range {
                    low: 8,
                    high: 24,
                    unit: TimeUnit::Hours,
                },
            ),
            ("Tentatif", TimeStandard::Tentative),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<TimeStandard>(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for text in [
            "",
            "lima menit",
            "5",
            "5 minggu",
            "0 jam",
            "24-12 jam",
            "segera",
        ] {
            assert!(text.parse::<TimeStandard>().is_err(), "{text}");
        }
    }
}
