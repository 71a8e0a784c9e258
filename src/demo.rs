//! Demo data: the five offices of the seed SOPs, with the letterhead data of their regions and
//! their heads of office, so that a new installation shows naskah at work at once.
//!
//! Creating the demo data twice changes nothing the second time.

use diesel::QueryResult;
use serde::Serialize;

use crate::audit::{self, Event};
use crate::db::{DbConn, write_transaction};
use crate::office::{self, NewOffice, TimeZone};
use crate::people::{self, NewPerson, Nip};

/// One demo office and its head, as the seed SOP gives them.
struct DemoOffice {
    code: &'static str,
    government: &'static str,
    name: &'static str,
    unit: Option<&'static str>,
    address: &'static str,
    city: &'static str,
    postal_code: Option<&'static str>,
    website: Option<&'static str>,
    email: Option<&'static str>,
    zone: TimeZone,
    head_name: &'static str,
    head_nip: &'static str,
    head_position: &'static str,
}

/// Letterhead data from the seeds in `../shared/seeds/`. Where a seed leaves a field out, it is
/// empty or a demo value; the comments say which.
const OFFICES: [DemoOffice; 5] = [
    // Seed 000: SOP 500.12.6/468/Bid. Layanan E-Gov, Kabupaten Banggai.
    DemoOffice {
        code: "banggai",
        government: "PEMERINTAH KABUPATEN BANGGAI",
        name: "DINAS KOMUNIKASI, INFORMATIKA, STATISTIK DAN PERSANDIAN",
        unit: Some("Bidang Layanan E-Government"),
        address: "Jln. Urip Sumoharjo No. 15",
        city: "Luwuk",
        postal_code: Some("94711"),
        website: Some("www.diskominfo.banggaikab.go.id"),
        email: Some("Diskominfo@banggaikab.go.id"),
        zone: TimeZone::Wita,
        head_name: "LESMANA P. KOLAB, S.Kom",
        head_nip: "19810721 200312 1 004",
        head_position: "Kepala Dinas Komunikasi, Informatika, Statistik dan Persandian",
    },
    // Seed 001: SOP 555/129/Dikominfotik-2021, Provinsi Sumatera Barat. The seed gives no
    // address; street, postal code and website here are demo values.
    DemoOffice {
        code: "sumbar",
        government: "PEMERINTAH PROVINSI SUMATERA BARAT",
        name: "DINAS KOMUNIKASI, INFORMATIKA DAN STATISTIK",
        unit: Some("Bidang Aplikasi Informatika"),
        address: "Jl. Jenderal Sudirman No. 51",
        city: "Padang",
        postal_code: Some("25121"),
        website: Some("diskominfotik.sumbarprov.go.id"),
        email: None,
        zone: TimeZone::Wib,
        head_name: "Drs. JASMAN, MM",
        head_nip: "19680101 198809 1 001",
        head_position: "Kepala Dinas Komunikasi, Informatika dan Statistik",
    },
    // Seed 002: SOP 500.4/40.8/DKIP/II/2025, Provinsi Maluku Utara. The seed does not name the
    // head of office; the demo head is invented and says so in the name.
    DemoOffice {
        code: "malut",
        government: "PEMERINTAH PROVINSI MALUKU UTARA",
        name: "DINAS KOMUNIKASI, INFORMATIKA DAN PERSANDIAN",
        unit: Some("Bidang TIK dan E-Government"),
        address: "Jalan Trans Halmahera, Gosale Puncak",
        city: "Sofifi",
        postal_code: None,
        website: None,
        email: None,
        zone: TimeZone::Wit,
        head_name: "KEPALA DINAS (DEMO), S.Kom., M.T.",
        head_nip: "19750312 200003 1 002",
        head_position: "Kepala Dinas Komunikasi, Informatika dan Persandian",
    },
    // Seed 003: Kabupaten Bolaang Mongondow Utara (2021); the seat of the regency is Boroko,
    // the address a demo value.
    DemoOffice {
        code: "bolmut",
        government: "PEMERINTAH KABUPATEN BOLAANG MONGONDOW UTARA",
        name: "DINAS KOMUNIKASI INFORMATIKA DAN PERSANDIAN",
        unit: Some("Bidang Aplikasi Informatika, Persandian dan Statistik"),
        address: "Kompleks Perkantoran Pemerintah Kabupaten Bolaang Mongondow Utara",
        city: "Boroko",
        postal_code: None,
        website: None,
        email: None,
        zone: TimeZone::Wita,
        head_name: "Aang Wardiman, AK.CA",
        head_nip: "19641024 198603 1 002",
        head_position: "Kepala Dinas Komunikasi Informatika dan Persandian",
    },
    // Seed 004: SOP 067/28/SOP/DKISP/2022, Kota Tarakan. The seed prints the head's NIP with
    // 19 digits ("1975051619950111001"), one too many; the demo uses the 18-digit reading.
    // The address is a demo value.
    DemoOffice {
        code: "tarakan",
        government: "PEMERINTAH KOTA TARAKAN",
        name: "DINAS KOMUNIKASI, INFORMATIKA, STATISTIK DAN PERSANDIAN",
        unit: Some("Bidang Aplikasi Informatika"),
        address: "Jl. Jenderal Sudirman No. 76",
        city: "Tarakan",
        postal_code: None,
        website: None,
        email: None,
        zone: TimeZone::Wita,
        head_name: "HENDRA ARFANDI, AP., M.Si",
        head_nip: "19750516 199501 1 001",
        head_position: "Kepala Dinas Komunikasi, Informatika, Statistik dan Persandian",
    },
];

/// What a run of [`create`] did.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub offices_created: usize,
    pub people_created: usize,
}

/// Creates whatever demo data is missing, in one transaction.
pub fn create(conn: &mut DbConn) -> QueryResult<Summary> {
    write_transaction(conn, |conn| {
        let mut summary = Summary::default();
        for demo in &OFFICES {
            let office_id = match office::find_by_code(conn, demo.code)? {
                Some(existing) => existing.id,
                None => {
                    let id = office::insert(
                        conn,
                        &NewOffice {
                            code: demo.code,
                            government: demo.government,
                            name: demo.name,
                            unit: demo.unit,
                            address: demo.address,
                            city: demo.city,
                            postal_code: demo.postal_code,
                            phone: None,
                            website: demo.website,
                            email: demo.email,
                            emblem_path: None,
                            time_zone: demo.zone.code(),
                            created_at: crate::db::now(),
                        },
                    )?;
                    audit::append(
                        conn,
                        Event {
                            actor: None,
                            office: Some(id),
                            action: "office.created",
                            subject: format!("office:{id}"),
                            detail: serde_json::json!({ "code": demo.code, "demo": true }),
                        },
                    )?;
                    summary.offices_created += 1;
                    id
                }
            };

            let username = format!("{}.kadis", demo.code);
            let person_id = match people::find_by_username(conn, &username)? {
                Some(existing) => existing.id,
                None => {
                    let nip: Nip = demo
                        .head_nip
                        .parse()
                        .map_err(|e: String| diesel::result::Error::QueryBuilderError(e.into()))?;
                    let id = people::insert(
                        conn,
                        &NewPerson {
                            username: &username,
                            full_name: demo.head_name,
                            nip: Some(nip.digits()),
                            nik: None,
                            email: None,
                            rank: None,
                            position: Some(demo.head_position),
                            organization: None,
                            password_hash: None,
                            active: true,
                            created_at: crate::db::now(),
                        },
                    )?;
                    audit::append(
                        conn,
                        Event {
                            actor: None,
                            office: Some(office_id),
                            action: "person.created",
                            subject: format!("person:{id}"),
                            detail: serde_json::json!({ "username": username, "demo": true }),
                        },
                    )?;
                    summary.people_created += 1;
                    id
                }
            };
            people::grant_role(conn, person_id, office_id, "kepala_dinas")?;
        }
        Ok(summary)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_nip_is_a_nip() {
        for demo in &OFFICES {
            assert!(demo.head_nip.parse::<Nip>().is_ok(), "{}", demo.head_nip);
        }
    }
}
