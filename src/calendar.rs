//! Working time: an office's working days and hours, the national holidays and collective leave
//! days (shipped in `calendars/`, one file a year) and the office's own holidays. SLA clocks run
//! only in working time: a step that starts on Friday at 15:30 with a standard of one working
//! day is due on Monday at 15:30.
//!
//! All times here are the office's local wall-clock times; Indonesia has no daylight saving time,
//! so converting from UTC is a fixed offset (`office::TimeZone`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::{office_calendars, office_holidays};
use crate::ids::OfficeId;

/// The national holiday files, embedded so that every installation has them.
const NATIONAL_HOLIDAYS: &[(&str, &str)] = &[
    (
        "calendars/holidays-2025.txt",
        include_str!("../calendars/holidays-2025.txt"),
    ),
    (
        "calendars/holidays-2026.txt",
        include_str!("../calendars/holidays-2026.txt"),
    ),
];

/// A day without office hours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Holiday {
    pub date: NaiveDate,
    /// `libur` (a national holiday), `cuti` (cuti bersama) or `lokal` (the office's own).
    pub kind: String,
    pub name: String,
}

/// Reads a holiday file: one day a line, `YYYY-MM-DD KIND NAME`; `#` starts a comment.
pub fn parse_holidays(source: &str, text: &str) -> Result<Vec<Holiday>, String> {
    let mut days = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{source}:{}", index + 1);
        let mut parts = line.splitn(3, ' ');
        let (Some(date), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("{}: expected DATE KIND NAME", at()));
        };
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| format!("{}: '{date}' is not a date (YYYY-MM-DD)", at()))?;
        if !matches!(kind, "libur" | "cuti" | "lokal") {
            return Err(format!("{}: '{kind}' is not libur, cuti or lokal", at()));
        }
        days.push(Holiday {
            date,
            kind: kind.to_owned(),
            name: name.trim().to_owned(),
        });
    }
    Ok(days)
}

/// The national holidays and cuti bersama naskah ships.
pub fn national_holidays() -> Result<Vec<Holiday>, String> {
    let mut all = Vec::new();
    for (source, text) in NATIONAL_HOLIDAYS {
        all.extend(parse_holidays(source, text)?);
    }
    Ok(all)
}

/// How a time standard given in days ("1 hari") is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DayReading {
    /// One day is one working day's worth of working time: Friday 15:30 + 1 hari is Monday
    /// 15:30. The default.
    #[default]
    WorkingDay,
    /// N days end when the office closes on the Nth working day after the start: Friday 15:30 +
    /// 1 hari is Monday at closing time.
    CloseOfBusiness,
}

impl FromStr for DayReading {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "working-day" => Ok(DayReading::WorkingDay),
            "close-of-business" => Ok(DayReading::CloseOfBusiness),
            other => Err(format!("'{other}' is not working-day or close-of-business")),
        }
    }
}

impl fmt::Display for DayReading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DayReading::WorkingDay => "working-day",
            DayReading::CloseOfBusiness => "close-of-business",
        })
    }
}

/// An office's working calendar.
#[derive(Clone, Debug)]
pub struct Calendar {
    working_days: [bool; 7],
    opens: NaiveTime,
    closes: NaiveTime,
    holidays: BTreeMap<NaiveDate, Holiday>,
    pub day_reading: DayReading,
}

/// A calendar that could not be built.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CalendarError(pub String);

impl Calendar {
    /// `working_days` as weekday numbers, Monday = 1 … Sunday = 7.
    pub fn new(
        working_days: &[u32],
        opens: NaiveTime,
        closes: NaiveTime,
        holidays: Vec<Holiday>,
        day_reading: DayReading,
    ) -> Result<Calendar, CalendarError> {
        if opens >= closes {
            return Err(CalendarError(format!(
                "the office must open ({opens}) before it closes ({closes})"
            )));
        }
        let mut days = [false; 7];
        for &day in working_days {
            let slot = day
                .checked_sub(1)
                .and_then(|i| days.get_mut(i as usize))
                .ok_or_else(|| CalendarError(format!("{day} is not a weekday number 1..=7")))?;
            *slot = true;
        }
        if !days.contains(&true) {
            return Err(CalendarError(
                "a calendar needs at least one working day".into(),
            ));
        }
        Ok(Calendar {
            working_days: days,
            opens,
            closes,
            holidays: holidays.into_iter().map(|h| (h.date, h)).collect(),
            day_reading,
        })
    }

    /// Monday to Friday, 07:30 to 16:00, with the national holidays: the default of an
    /// Indonesian regional office.
    pub fn standard() -> Result<Calendar, CalendarError> {
        Calendar::standard_with(national_holidays().map_err(CalendarError)?)
    }

    /// The standard working days and hours with `holidays`.
    fn standard_with(holidays: Vec<Holiday>) -> Result<Calendar, CalendarError> {
        let at = |h, m| NaiveTime::from_hms_opt(h, m, 0).ok_or(CalendarError("bad time".into()));
        Calendar::new(
            &[1, 2, 3, 4, 5],
            at(7, 30)?,
            at(16, 0)?,
            holidays,
            DayReading::WorkingDay,
        )
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        let weekday = date.weekday().num_days_from_monday() as usize;
        self.working_days[weekday] && !self.holidays.contains_key(&date)
    }

    /// The length of one working day.
    pub fn day_length(&self) -> Duration {
        self.closes - self.opens
    }

    /// The first working moment at or after `t`.
    pub fn next_working_moment(&self, t: NaiveDateTime) -> NaiveDateTime {
        let mut date = t.date();
        let mut time = t.time();
        loop {
            if self.is_working_day(date) {
                if time < self.opens {
                    return date.and_time(self.opens);
                }
                if time < self.closes {
                    return date.and_time(time);
                }
            }
            date = next_day(date);
            time = NaiveTime::MIN;
        }
    }

    /// The moment `amount` of working time after `start`. Working time that ends exactly at
    /// closing time ends that day, not at the next opening.
    pub fn add_working_time(&self, start: NaiveDateTime, amount: Duration) -> NaiveDateTime {
        if amount <= Duration::zero() {
            return start;
        }
        let mut t = self.next_working_moment(start);
        let mut remaining = amount;
        loop {
            let available = t.date().and_time(self.closes) - t;
            if remaining <= available {
                return t + remaining;
            }
            remaining -= available;
            t = self.next_working_moment(next_day(t.date()).and_time(NaiveTime::MIN));
        }
    }

    /// The deadline of `days` working days from `start`, as this office reads days.
    pub fn add_working_days(&self, start: NaiveDateTime, days: u32) -> NaiveDateTime {
        match self.day_reading {
            DayReading::WorkingDay => self.add_working_time(start, self.day_length() * days as i32),
            DayReading::CloseOfBusiness => {
                // The clock starts at the first working moment; the day it starts on is not
                // counted, and the deadline is closing time of the Nth working day after it.
                let mut date = self.next_working_moment(start).date();
                let mut counted = 0;
                while counted < days {
                    date = next_day(date);
                    if self.is_working_day(date) {
                        counted += 1;
                    }
                }
                date.and_time(self.closes)
            }
        }
    }

    /// Working time between `from` and `to` (zero when `to` is not after `from`).
    pub fn working_time_between(&self, from: NaiveDateTime, to: NaiveDateTime) -> Duration {
        let mut total = Duration::zero();
        if to <= from {
            return total;
        }
        let mut date = from.date();
        while date <= to.date() {
            if self.is_working_day(date) {
                let open = date.and_time(self.opens).max(from);
                let close = date.and_time(self.closes).min(to);
                if close > open {
                    total += close - open;
                }
            }
            date = next_day(date);
        }
        total
    }
}

/// The calendar of `office`: its stored settings (the standard calendar when it has none), its
/// own holidays and the national ones.
pub fn for_office(conn: &mut DbConn, office: OfficeId) -> QueryResult<Calendar> {
    let settings: Option<(String, String, String, String)> = office_calendars::table
        .find(office)
        .select((
            office_calendars::working_days,
            office_calendars::opens,
            office_calendars::closes,
            office_calendars::day_reading,
        ))
        .first(conn)
        .optional()?;
    let local: Vec<(NaiveDate, String)> = office_holidays::table
        .filter(office_holidays::office_id.eq(office))
        .select((office_holidays::day, office_holidays::name))
        .load(conn)?;
    let invalid = |e: String| diesel::result::Error::DeserializationError(e.into());
    let mut holidays = national_holidays().map_err(invalid)?;
    holidays.extend(local.into_iter().map(|(date, name)| Holiday {
        date,
        kind: "lokal".to_owned(),
        name,
    }));
    let calendar = match settings {
        None => Calendar::standard_with(holidays),
        Some((days, opens, closes, reading)) => {
            let days: Vec<u32> = days
                .split_whitespace()
                .map(|d| {
                    d.parse()
                        .map_err(|_| format!("working day '{d}' is not a number"))
                })
                .collect::<Result<_, _>>()
                .map_err(invalid)?;
            let time = |t: &str| {
                NaiveTime::parse_from_str(t, "%H:%M")
                    .map_err(|_| invalid(format!("'{t}' is not HH:MM")))
            };
            Calendar::new(
                &days,
                time(&opens)?,
                time(&closes)?,
                holidays,
                reading.parse().map_err(invalid)?,
            )
        }
    };
    calendar.map_err(|e| invalid(e.0))
}

fn next_day(date: NaiveDate) -> NaiveDate {
    date.succ_opt().unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sop::time::TimeStandard;

    fn at(date: &str, time: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M")
            .unwrap_or_else(|e| panic!("{date} {time}: {e}"))
    }

    fn standard() -> Calendar {
        Calendar::standard().unwrap_or_else(|e| panic!("{e}"))
    }

    fn deadline(
        standard_text: &str,
        calendar: &Calendar,
        start: NaiveDateTime,
    ) -> Option<NaiveDateTime> {
        let standard: TimeStandard = standard_text.parse().unwrap_or_else(|e| panic!("{e}"));
        standard.deadline(calendar, start)
    }

    #[test]
    fn one_day_from_friday_afternoon_is_monday_afternoon() {
        // 20 November 2026 is a Friday; 30 minutes are left that day, eight more on Monday.
        let start = at("2026-11-20", "15:30");
        assert_eq!(
            deadline("1 hari", &standard(), start),
            Some(at("2026-11-23", "15:30"))
        );
    }

    #[test]
    fn close_of_business_reading_ends_at_closing_time() {
        let mut calendar = standard();
        calendar.day_reading = DayReading::CloseOfBusiness;
        let start = at("2026-11-20", "15:30");
        assert_eq!(
            deadline("1 hari", &calendar, start),
            Some(at("2026-11-23", "16:00"))
        );
        // Filed on Saturday: the clock starts on Monday, which is not counted.
        assert_eq!(
            deadline("2 hari", &calendar, at("2026-11-21", "10:00")),
            Some(at("2026-11-25", "16:00"))
        );
    }

    #[test]
    fn a_day_spanning_christmas_skips_the_holiday_and_cuti_bersama() {
        // 23 December 2026 is a Wednesday; the 24th is cuti bersama, the 25th Christmas, then
        // the weekend: the next working day is Monday the 28th.
        let start = at("2026-12-23", "10:00");
        assert_eq!(
            deadline("1 hari", &standard(), start),
            Some(at("2026-12-28", "10:00"))
        );
        // Nyepi and Idul Fitri 2026: from Tuesday 17 March, the 18th (cuti), 19th (libur),
        // 20th (cuti), 21st-22nd (libur), 23rd-24th (cuti) have no office hours.
        assert_eq!(
            deadline("1 hari", &standard(), at("2026-03-17", "09:00")),
            Some(at("2026-03-25", "09:00"))
        );
    }

    #[test]
    fn a_range_is_due_at_its_upper_bound() {
        // 24 working hours of 8.5-hour days from Monday 09:00: 7 h Monday, 8.5 h Tuesday, and
        // the last 8.5 h end exactly at Wednesday's closing time.
        let start = at("2026-11-23", "09:00");
        assert_eq!(
            deadline("12-24 jam", &standard(), start),
            Some(at("2026-11-25", "16:00"))
        );
        assert_eq!(
            deadline("8-24 jam", &standard(), start),
            deadline("24 jam", &standard(), start)
        );
    }

    #[test]
    fn a_tentative_step_has_no_deadline() {
        assert_eq!(
            deadline("tentatif", &standard(), at("2026-11-23", "09:00")),
            None
        );
    }

    #[test]
    fn minutes_before_opening_start_at_opening() {
        assert_eq!(
            deadline("5 menit", &standard(), at("2026-11-23", "06:00")),
            Some(at("2026-11-23", "07:35"))
        );
        assert_eq!(
            deadline("30 menit", &standard(), at("2026-11-23", "15:45")),
            Some(at("2026-11-24", "07:45"))
        );
    }

    #[test]
    fn working_time_counts_only_office_hours() {
        let calendar = standard();
        // Friday 15:30 to Tuesday 08:00: 30 min + 8 h 30 min + 30 min.
        let taken =
            calendar.working_time_between(at("2026-11-20", "15:30"), at("2026-11-24", "08:00"));
        assert_eq!(taken.num_minutes(), 30 + 510 + 30);
        assert_eq!(
            calendar.working_time_between(at("2026-11-21", "08:00"), at("2026-11-22", "20:00")),
            Duration::zero()
        );
    }

    #[test]
    fn shipped_holiday_files_read() -> Result<(), String> {
        let days = national_holidays()?;
        let in_year = |year: i32, kind: &str| {
            days.iter()
                .filter(|d| d.date.year() == year && d.kind == kind)
                .count()
        };
        // SKB 3 Menteri: 2026 has 17 national holidays and 8 days of cuti bersama.
        assert_eq!((in_year(2026, "libur"), in_year(2026, "cuti")), (17, 8));
        assert_eq!((in_year(2025, "libur"), in_year(2025, "cuti")), (17, 11));
        Ok(())
    }

    #[test]
    fn bad_calendars_are_refused() {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default();
        let five = NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default();
        assert!(Calendar::new(&[1, 2], five, nine, vec![], DayReading::WorkingDay).is_err());
        assert!(Calendar::new(&[], nine, five, vec![], DayReading::WorkingDay).is_err());
        assert!(Calendar::new(&[8], nine, five, vec![], DayReading::WorkingDay).is_err());
        assert!(parse_holidays("x", "2026-02-30 libur Tanggal yang tidak ada").is_err());
    }
}
