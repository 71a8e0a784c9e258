//! Indonesian conventions of official letters: dates ("22 September 2025"), the day and date in
//! words of a berita acara, numbers in words (terbilang) and Roman months.

use chrono::{Datelike, NaiveDate, Weekday};

pub const MONTHS: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

const ROMAN_MONTHS: [&str; 12] = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
];

pub fn month_name(date: NaiveDate) -> &'static str {
    MONTHS[date.month0() as usize]
}

/// The month in Roman numerals, as letter numbers write it: September is IX.
pub fn roman_month(date: NaiveDate) -> &'static str {
    ROMAN_MONTHS[date.month0() as usize]
}

pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Senin",
        Weekday::Tue => "Selasa",
        Weekday::Wed => "Rabu",
        Weekday::Thu => "Kamis",
        Weekday::Fri => "Jumat",
        Weekday::Sat => "Sabtu",
        Weekday::Sun => "Minggu",
    }
}

/// "22 September 2025".
pub fn long_date(date: NaiveDate) -> String {
    format!("{} {} {}", date.day(), month_name(date), date.year())
}

/// "Senin, 22 September 2025".
pub fn day_and_date(date: NaiveDate) -> String {
    format!("{}, {}", weekday_name(date.weekday()), long_date(date))
}

/// The opening of a berita acara: "hari Senin tanggal dua puluh dua bulan September tahun dua
/// ribu dua puluh lima".
pub fn date_in_words(date: NaiveDate) -> String {
    format!(
        "hari {} tanggal {} bulan {} tahun {}",
        weekday_name(date.weekday()),
        terbilang(u64::from(date.day())),
        month_name(date),
        terbilang(u64::try_from(date.year()).unwrap_or(0))
    )
}

/// A number in Indonesian words: 22 → "dua puluh dua", 2025 → "dua ribu dua puluh lima".
pub fn terbilang(n: u64) -> String {
    const UNITS: [&str; 12] = [
        "nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan",
        "sepuluh", "sebelas",
    ];
    match n {
        0..=11 => UNITS[n as usize].to_owned(),
        12..=19 => format!("{} belas", UNITS[(n - 10) as usize]),
        20..=99 => join(format!("{} puluh", UNITS[(n / 10) as usize]), n % 10),
        100..=199 => join("seratus".to_owned(), n - 100),
        200..=999 => join(format!("{} ratus", terbilang(n / 100)), n % 100),
        1_000..=1_999 => join("seribu".to_owned(), n - 1_000),
        2_000..=999_999 => join(format!("{} ribu", terbilang(n / 1_000)), n % 1_000),
        1_000_000..=999_999_999 => {
            join(format!("{} juta", terbilang(n / 1_000_000)), n % 1_000_000)
        }
        _ => join(
            format!("{} miliar", terbilang(n / 1_000_000_000)),
            n % 1_000_000_000,
        ),
    }
}

fn join(head: String, rest: u64) -> String {
    if rest == 0 {
        head
    } else {
        format!("{head} {}", terbilang(rest))
    }
}

/// "PEMERINTAH KABUPATEN BANGGAI" as a sentence writes it: "Pemerintah Kabupaten Banggai".
/// Conjunctions stay in lower case.
pub fn title_case(text: &str) -> String {
    text.split(' ')
        .enumerate()
        .map(|(i, word)| {
            let lower = word.to_lowercase();
            if i > 0
                && matches!(
                    lower.as_str(),
                    "dan" | "atau" | "di" | "ke" | "dari" | "untuk"
                )
            {
                return lower;
            }
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn dates_as_letters_write_them() {
        assert_eq!(long_date(date("2025-09-22")), "22 September 2025");
        assert_eq!(day_and_date(date("2025-09-22")), "Senin, 22 September 2025");
        assert_eq!(
            date_in_words(date("2025-09-22")),
            "hari Senin tanggal dua puluh dua bulan September tahun dua ribu dua puluh lima"
        );
        assert_eq!(roman_month(date("2026-09-01")), "IX");
        assert_eq!(roman_month(date("2025-02-03")), "II");
    }

    #[test]
    fn title_case_keeps_conjunctions_low() {
        assert_eq!(
            title_case("DINAS KOMUNIKASI, INFORMATIKA, STATISTIK DAN PERSANDIAN"),
            "Dinas Komunikasi, Informatika, Statistik dan Persandian"
        );
    }

    #[test]
    fn numbers_in_words() {
        let cases = [
            (1, "satu"),
            (10, "sepuluh"),
            (11, "sebelas"),
            (12, "dua belas"),
            (19, "sembilan belas"),
            (20, "dua puluh"),
            (31, "tiga puluh satu"),
            (100, "seratus"),
            (111, "seratus sebelas"),
            (250, "dua ratus lima puluh"),
            (1000, "seribu"),
            (1001, "seribu satu"),
            (2021, "dua ribu dua puluh satu"),
            (2026, "dua ribu dua puluh enam"),
            (15_000, "lima belas ribu"),
            (1_500_000, "satu juta lima ratus ribu"),
        ];
        for (n, words) in cases {
            assert_eq!(terbilang(n), words, "{n}");
        }
    }
}
