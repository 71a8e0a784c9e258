//! Reports to the kepala dinas: the SLA report (`sla.rs`: per SOP step, how long requests took
//! against the standard) and the annual report (`annual.rs`: requests per OPD, the hosted
//! applications, SLA compliance by month, signatures made). Each is computed from the
//! database for one office and one period, then written into its letter template.

pub mod annual;
pub mod job;
pub mod make;
pub mod sla;
pub mod synthetic;

use chrono::{Datelike, Duration, NaiveDate};

/// A period a report covers: `[from, to)`, whole days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    /// The first day after it.
    pub to: NaiveDate,
    /// How the period is named on the command line and in the runs table: `2025-W40`,
    /// `2025-10`, `2025`.
    pub key: String,
}

impl Period {
    /// Reads `2025-W40` (an ISO week), `2025-10` (a month) or `2025` (a year).
    pub fn parse(text: &str) -> Result<Period, String> {
        let bad = || format!("'{text}' is not a period (write 2025-W40, 2025-10 or 2025)");
        let text = text.trim();
        if let Some((year, week)) = text.split_once("-W") {
            let year: i32 = year.parse().map_err(|_| bad())?;
            let week: u32 = week.parse().map_err(|_| bad())?;
            let from =
                NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon).ok_or_else(bad)?;
            return Ok(Period::week_of(from));
        }
        if let Some((year, month)) = text.split_once('-') {
            let year: i32 = year.parse().map_err(|_| bad())?;
            let month: u32 = month.parse().map_err(|_| bad())?;
            let from = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
            return Ok(Period::month_of(from));
        }
        let year: i32 = text.parse().map_err(|_| bad())?;
        Period::year(year).ok_or_else(bad)
    }

    /// The ISO week (Monday to Sunday) holding `day`.
    pub fn week_of(day: NaiveDate) -> Period {
        let week = day.iso_week();
        let from = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
        Period {
            from,
            to: from + Duration::days(7),
            key: format!("{}-W{:02}", week.year(), week.week()),
        }
    }

    pub fn month_of(day: NaiveDate) -> Period {
        let from = day.with_day(1).unwrap_or(day);
        let to = from
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(from);
        Period {
            from,
            to,
            key: from.format("%Y-%m").to_string(),
        }
    }

    pub fn year(year: i32) -> Option<Period> {
        Some(Period {
            from: NaiveDate::from_ymd_opt(year, 1, 1)?,
            to: NaiveDate::from_ymd_opt(year + 1, 1, 1)?,
            key: year.to_string(),
        })
    }

    /// Its bounds in UTC, for an office `offset` ahead of UTC: local midnights.
    pub fn utc_bounds(&self, offset: Duration) -> (chrono::NaiveDateTime, chrono::NaiveDateTime) {
        let midnight = |day: NaiveDate| day.and_time(chrono::NaiveTime::MIN) - offset;
        (midnight(self.from), midnight(self.to))
    }

    /// The last day in it.
    pub fn last_day(&self) -> NaiveDate {
        self.to.pred_opt().unwrap_or(self.to)
    }

    /// As a letter writes it: `29 September - 5 Oktober 2025`, `Oktober 2025`, `2025`.
    pub fn label(&self) -> String {
        use crate::letters::indonesian::{long_date, month_name};
        let last = self.last_day();
        if Some(self.from) == NaiveDate::from_ymd_opt(self.from.year(), 1, 1)
            && self.to == self.from.with_year(self.from.year() + 1).unwrap_or(self.to)
        {
            return self.from.year().to_string();
        }
        if self.from.day() == 1 && self.to == Period::month_of(self.from).to {
            return format!("{} {}", month_name(self.from), self.from.year());
        }
        if self.from.year() == last.year() {
            let from = format!("{} {}", self.from.day(), month_name(self.from));
            return format!("{from} - {}", long_date(last));
        }
        format!("{} - {}", long_date(self.from), long_date(last))
    }
}

/// A working-time duration as a report writes it: `35 menit`, `2 jam 10 menit`,
/// `3 hari kerja 2 jam` (a working day being `day` long).
pub fn duration_text(taken: Duration, day: Duration) -> String {
    // To the nearest minute.
    let minutes = ((taken.num_seconds().max(0) + 30) / 60).max(0);
    let day_minutes = day.num_minutes().max(1);
    let (days, rest) = (minutes / day_minutes, minutes % day_minutes);
    let (hours, minutes) = (rest / 60, rest % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} hari kerja"));
    }
    if hours > 0 {
        parts.push(format!("{hours} jam"));
    }
    if minutes > 0 && days == 0 {
        parts.push(format!("{minutes} menit"));
    }
    if parts.is_empty() {
        return "0 menit".to_owned();
    }
    parts.join(" ")
}

/// The value at quantile `q` (0 to 1) of `sorted`, by the nearest rank.
pub fn quantile(sorted: &[Duration], q: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_and_name_themselves() -> Result<(), String> {
        let week = Period::parse("2025-W40")?;
        assert_eq!(
            (week.from.to_string(), week.to.to_string(), week.label()),
            (
                "2025-09-29".into(),
                "2025-10-06".into(),
                "29 September - 5 Oktober 2025".into()
            )
        );
        let month = Period::parse("2025-02")?;
        assert_eq!(
            (month.to.to_string(), month.label()),
            ("2025-03-01".into(), "Februari 2025".into())
        );
        let year = Period::parse("2025")?;
        assert_eq!((year.key.as_str(), year.label()), ("2025", "2025".into()));
        assert!(Period::parse("2025-W54").is_err() && Period::parse("kemarin").is_err());
        Ok(())
    }

    #[test]
    fn durations_and_quantiles() {
        let day = Duration::hours(8);
        assert_eq!(duration_text(Duration::minutes(35), day), "35 menit");
        assert_eq!(duration_text(Duration::minutes(130), day), "2 jam 10 menit");
        assert_eq!(
            duration_text(Duration::hours(26), day),
            "3 hari kerja 2 jam"
        );
        let sorted: Vec<Duration> = (1..=10).map(Duration::minutes).collect();
        assert_eq!(quantile(&sorted, 0.5), Some(Duration::minutes(5)));
        assert_eq!(quantile(&sorted, 0.9), Some(Duration::minutes(9)));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
