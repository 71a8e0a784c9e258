//! Demo data: the five offices of the seed SOPs, with the letterhead data of their regions, their
//! SOPs, and a person for every role of each SOP (the applicant among them), so that a new
//! installation shows naskah at work at once.
//!
//! Creating the demo data twice changes nothing the second time.

mod finished;

use serde::Serialize;

pub use finished::make as make_finished_requests;

use crate::audit::{self, Event};
use crate::db::{DbConn, write_transaction};
use crate::ids::{OfficeId, PersonId};
use crate::numbering::{self, RegisterKind};
use crate::office::{self, NewOffice, TimeZone};
use crate::people::{self, NewPerson, Nip};
use crate::workflow::{self, WorkflowError};

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
    /// The seed SOP, encoded in `sops/`.
    sop: &'static str,
    /// The agency that files the demo requests.
    applicant_organization: &'static str,
    /// The outgoing register: its pattern and the values of its tokens.
    register: (&'static str, &'static [(&'static str, &'static str)]),
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
        sop: include_str!("../../sops/banggai-hosting.xml"),
        applicant_organization: "Dinas Kesehatan Kabupaten Banggai",
        register: (
            "{kka}/{seq}/{unit}",
            &[("kka", "500.12.6"), ("unit", "Bid. Layanan E-Gov")],
        ),
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
        sop: include_str!("../../sops/sumbar-hosting.xml"),
        applicant_organization: "Dinas Pendidikan Provinsi Sumatera Barat",
        register: (
            "{kka}/{seq}/{unit}-{year}",
            &[("kka", "555"), ("unit", "Dikominfotik")],
        ),
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
        sop: include_str!("../../sops/malut-hosting.xml"),
        applicant_organization: "Badan Pendapatan Daerah Provinsi Maluku Utara",
        register: (
            "{kka}/{seq}{sub}/{unit}/{month:roman}/{year}",
            &[("kka", "500.4"), ("unit", "DKIP")],
        ),
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
        sop: include_str!("../../sops/bolmut-hosting.xml"),
        applicant_organization: "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Bolaang Mongondow Utara",
        register: (
            "{sifat_code}/{kka}/{seq}/{unit}/{month:roman}/{year}",
            &[("kka", "500.12"), ("unit", "Diskominfo-BMU")],
        ),
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
        sop: include_str!("../../sops/tarakan-hosting.xml"),
        applicant_organization: "Badan Perencanaan Pembangunan Daerah Kota Tarakan",
        register: (
            "{kka}/{seq}/{series}/{unit}/{year}",
            &[("kka", "500.12"), ("series", "Apl"), ("unit", "DKISP")],
        ),
    },
];

/// Names of the demo staff, given out in order to each office's roles. Invented.
const STAFF_NAMES: [&str; 24] = [
    "Rahmat Hidayat, S.Kom",
    "Siti Nurhaliza Lamadu, S.Sos",
    "Andi Muhammad Fadli, S.T., M.T.",
    "Dewi Kartika Sari, S.Kom",
    "Yusuf Maramis, A.Md.Kom",
    "Nur Aisyah Labuan, S.E.",
    "Hendra Gunawan Putra, S.Kom., M.Kom",
    "Fitriani Rasyid, S.Kom",
    "Reza Pahlevi Tanjung, S.T.",
    "Yuliana Mokodompit, S.Kom",
    "Ahmad Syukri Nasution, S.Kom",
    "Sri Wahyuni Daeng, A.Md",
    "Irfan Hakim Lubis, S.Kom",
    "Maria Goreti Sahetapy, S.Si",
    "Muhammad Rizal Umasugi, S.Kom",
    "Rina Marlina Sangaji, S.E.",
    "Budi Santoso Pontoh, S.T.",
    "Agustina Damopolii, S.Kom",
    "Fajar Ramadhan Saleh, S.Kom",
    "Nurul Hidayah Paputungan, S.Sos",
    "Stevanus Wowor, S.T.",
    "Lestari Handayani, S.Kom",
    "Arief Budiman Sitorus, S.Kom",
    "Wulan Sari Tomagola, A.Md.Kom",
];

/// The applicants of the demo requests, one per office. Invented.
const APPLICANT_NAMES: [&str; 5] = [
    "Andi Pratama, S.T.",
    "Rini Oktaviani, S.Kom",
    "Jufri Hi. Abbas, S.E.",
    "Olvy Manoppo, S.Kom",
    "Bambang Suryadi, S.T.",
];

/// Who signs each demo office's reports (SLA, annual): the head of the division that runs
/// the hosting service.
pub const REPORT_SIGNERS: [(&str, &str); 5] = [
    ("banggai", "banggai.kabid_egov"),
    ("bolmut", "bolmut.kabid_aptika"),
    ("malut", "malut.kabid_tik"),
    ("sumbar", "sumbar.kabid_aptika"),
    ("tarakan", "tarakan.bidang_aplikasi"),
];

/// Why the demo data could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error("demo data: {0}")]
    Data(String),
    #[error(transparent)]
    Pki(#[from] crate::signing::pki::PkiError),
}

/// What a run of [`create`] did.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub offices_created: usize,
    pub people_created: usize,
}

/// The demo PKI in `dir` (see [`crate::signing::pki::init_demo`]), with a certificate for every
/// official of [`members`]: most RSA-2048, Bolmut's head RSA-3072 and Tarakan's ECDSA P-256, so
/// that every key kind the signer supports is exercised by the demo.
pub fn init_pki(dir: &std::path::Path) -> Result<crate::signing::pki::Made, DemoError> {
    use crate::signing::pki::{self, KeyKind};
    let members = members()?;
    let offices: Vec<String> = members
        .iter()
        .map(|m| letterhead(m.office).map_or_else(|| m.office.to_owned(), |l| l.name))
        .collect();
    let officials: Vec<pki::Official<'_>> = members
        .iter()
        .zip(&offices)
        .filter_map(|(member, office)| {
            Some(pki::Official {
                username: &member.username,
                full_name: member.full_name,
                nip: member.nip.as_deref()?,
                position: member.position.as_deref()?,
                office,
                key: match member.username.as_str() {
                    "bolmut.kadis" => KeyKind::Rsa3072,
                    "tarakan.kadis" => KeyKind::EcP256,
                    _ => KeyKind::Rsa2048,
                },
            })
        })
        .collect();
    Ok(pki::init_demo(dir, &officials)?)
}

/// The letterhead of the demo office `code`, for rendering letters without a database.
pub fn letterhead(code: &str) -> Option<crate::letters::Letterhead> {
    let demo = OFFICES.iter().find(|o| o.code == code)?;
    Some(crate::letters::Letterhead {
        government: demo.government.to_owned(),
        name: demo.name.to_owned(),
        address: demo.address.to_owned(),
        city: demo.city.to_owned(),
        postal_code: demo.postal_code.map(str::to_owned),
        phone: None,
        website: demo.website.map(str::to_owned),
        email: demo.email.map(str::to_owned),
        emblem: None,
    })
}

/// The codes of the demo offices.
pub fn office_codes() -> Vec<&'static str> {
    OFFICES.iter().map(|o| o.code).collect()
}

/// The demo staff member's NIP: a valid, invented number unique to `index`.
fn staff_nip(index: usize) -> String {
    let birth_year = 1975 + index % 20;
    let birth_month = 1 + index % 12;
    let birth_day = 1 + index % 28;
    let appointed = birth_year + 25;
    let sex = 1 + index % 2;
    format!(
        "{birth_year}{birth_month:02}{birth_day:02}{appointed}03{sex}{:03}",
        index + 1
    )
}

/// A demo person: who they are, in which office, and the roles they hold there.
#[derive(Clone, Debug)]
pub struct Member {
    pub office: &'static str,
    pub username: String,
    pub full_name: &'static str,
    /// The NIP, for officials (the applicant has none).
    pub nip: Option<String>,
    /// The jabatan, for officials.
    pub position: Option<String>,
    /// The applicant's agency.
    pub organization: Option<&'static str>,
    pub roles: Vec<String>,
}

/// Everyone of the demo, office by office: the head, a person for every other role of the
/// office's seed SOP (the applicant among them), and a secretary where the SOP names none. The
/// database's demo data and the demo PKI (`naskah certs init-demo`) are both made from this.
pub fn members() -> Result<Vec<Member>, DemoError> {
    let mut members = Vec::new();
    let mut staff = 0;
    for (office_index, demo) in OFFICES.iter().enumerate() {
        let sop = crate::sop::Sop::from_xml(demo.sop)
            .map_err(|problems| DemoError::Data(format!("the {} SOP: {problems:?}", demo.code)))?;
        let mut head = Member {
            office: demo.code,
            username: format!("{}.kadis", demo.code),
            full_name: demo.head_name,
            nip: Some(demo.head_nip.to_owned()),
            position: Some(demo.head_position.to_owned()),
            organization: None,
            roles: vec!["kepala_dinas".to_owned()],
        };
        let mut others = Vec::new();
        for role in &sop.roles {
            if people::roles::HEADS.contains(&role.id.as_str()) {
                head.roles.push(role.id.clone());
                continue;
            }
            let member = if role.applicant {
                Member {
                    office: demo.code,
                    username: format!("{}.{}", demo.code, role.id),
                    full_name: APPLICANT_NAMES[office_index],
                    nip: None,
                    position: None,
                    organization: Some(demo.applicant_organization),
                    roles: vec![role.id.clone()],
                }
            } else {
                staff += 1;
                Member {
                    office: demo.code,
                    username: format!("{}.{}", demo.code, role.id),
                    full_name: STAFF_NAMES[(staff - 1) % STAFF_NAMES.len()],
                    nip: Some(staff_nip(staff)),
                    position: Some(role.name.clone()),
                    organization: None,
                    roles: vec![role.id.clone()],
                }
            };
            others.push(member);
        }
        head.roles.dedup();
        members.push(head);
        members.extend(others);
        add_secretary(&mut members, demo, office_index);
        add_keepers(&mut members, demo, office_index);
    }
    Ok(members)
}

/// naskah's own secretariat role, which numbers letters: given to the person the SOP names for
/// the secretariat's work, or to a demo secretary where the SOP names none.
fn add_secretary(members: &mut Vec<Member>, demo: &DemoOffice, office_index: usize) {
    const SECRETARIES: [&str; 5] = [
        "Nur Wahidah Mokoagow, A.Md",
        "Yusnita Rahman, S.AP",
        "Marlina Hi. Ahmad, A.Md",
        "Deby Paputungan, S.Sos",
        "Ratna Sari Dewi, S.E.",
    ];
    let username = match demo.code {
        "tarakan" => "tarakan.bagian_umum".to_owned(),
        code => format!("{code}.sekretariat"),
    };
    if let Some(existing) = members.iter_mut().find(|m| m.username == username) {
        existing
            .roles
            .push(crate::people::roles::SECRETARIAT.to_owned());
        return;
    }
    members.push(Member {
        office: demo.code,
        username,
        full_name: SECRETARIES[office_index % SECRETARIES.len()],
        nip: Some(staff_nip(100 + office_index)),
        position: Some("Pengadministrasi Umum (Sekretariat)".to_owned()),
        organization: None,
        roles: vec![crate::people::roles::SECRETARIAT.to_owned()],
    });
}

/// The office's naskah administrator (accounts and roles) and an auditor of the inspektorat
/// (reads everything, changes nothing).
fn add_keepers(members: &mut Vec<Member>, demo: &DemoOffice, office_index: usize) {
    const ADMINS: [&str; 5] = [
        "Rizal Lamadjido, S.Kom",
        "Yudi Hermawan, S.T.",
        "Sofyan Umasugi, S.Kom",
        "Fikri Mokodompit, A.Md.Kom",
        "Hendra Saputra, S.Kom",
    ];
    const AUDITORS: [&str; 5] = [
        "Dra. Hartini Labolo",
        "Ir. Syafrizal, M.Si",
        "Nurhayati Tuasikal, S.E., Ak.",
        "Rahmat Damopolii, S.E.",
        "Sri Wahyuni, S.E., M.Ak.",
    ];
    members.push(Member {
        office: demo.code,
        username: format!("{}.admin", demo.code),
        full_name: ADMINS[office_index % ADMINS.len()],
        nip: None,
        position: Some("Pranata Komputer (Administrator naskah)".to_owned()),
        organization: None,
        roles: vec![crate::people::roles::ADMIN.to_owned()],
    });
    members.push(Member {
        office: demo.code,
        username: format!("{}.auditor", demo.code),
        full_name: AUDITORS[office_index % AUDITORS.len()],
        nip: None,
        position: Some("Auditor Inspektorat".to_owned()),
        organization: None,
        roles: vec![crate::people::roles::AUDITOR.to_owned()],
    });
}

/// Creates whatever demo data is missing, in one transaction.
pub fn create(conn: &mut DbConn) -> Result<Summary, DemoError> {
    let members = members()?;
    write_transaction(conn, |conn| {
        let mut summary = Summary::default();
        for demo in &OFFICES {
            let office_id = ensure_office(conn, demo, &mut summary)?;
            workflow::install_sop(conn, office_id, demo.sop, None)?;
            for member in members.iter().filter(|m| m.office == demo.code) {
                let id = ensure_person(conn, office_id, member, &mut summary)?;
                for role in &member.roles {
                    people::grant_role(conn, id, office_id, role)?;
                }
            }
            ensure_registers(conn, demo, office_id)?;
        }
        Ok(summary)
    })
}

/// The office's id, creating it (and recording it in the audit log) when missing.
fn ensure_office(
    conn: &mut DbConn,
    demo: &DemoOffice,
    summary: &mut Summary,
) -> Result<OfficeId, DemoError> {
    if let Some(existing) = office::find_by_code(conn, demo.code)? {
        return Ok(existing.id);
    }
    // Every office starts with the regulation's codes; the demo letters' codes file under them.
    let id = office::create(
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
        serde_json::json!({ "code": demo.code, "demo": true }),
    )
    .map_err(DemoError::Data)?;
    summary.offices_created += 1;
    Ok(id)
}

/// The office's outgoing register, in its seed's format, and its agenda book.
fn ensure_registers(
    conn: &mut DbConn,
    demo: &DemoOffice,
    office: OfficeId,
) -> Result<(), DemoError> {
    let (pattern, values) = demo.register;
    let registers = [
        (
            "keluar",
            "Surat Keluar",
            RegisterKind::Outgoing,
            pattern,
            values,
        ),
        (
            "agenda",
            "Buku Agenda Surat Masuk",
            RegisterKind::Agenda,
            "{seq:4}",
            &[][..],
        ),
    ];
    for (code, name, kind, pattern, values) in registers {
        if numbering::register_by_code(conn, office, code).is_ok() {
            continue;
        }
        let new = numbering::NewRegister {
            office,
            code,
            name,
            kind,
            pattern,
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            letter_kind: None,
        };
        numbering::create_register(conn, &new, None).map_err(|e| DemoError::Data(e.to_string()))?;
    }
    Ok(())
}

/// The person's id, creating them (and recording it in the audit log) when missing.
fn ensure_person(
    conn: &mut DbConn,
    office: OfficeId,
    person: &Member,
    summary: &mut Summary,
) -> Result<PersonId, DemoError> {
    if let Some(existing) = people::find_by_username(conn, &person.username)? {
        return Ok(existing.id);
    }
    let nip = person
        .nip
        .as_deref()
        .map(|nip| nip.parse::<Nip>().map_err(DemoError::Data))
        .transpose()?;
    let id = people::insert(
        conn,
        &NewPerson {
            username: &person.username,
            full_name: person.full_name,
            nip: nip.as_ref().map(Nip::digits),
            nik: None,
            // Addresses that reach nobody (RFC 2606): the demo's e-mails show what would go
            // out when an SMTP server is set, and bounce.
            email: Some(&format!("{}@demo.naskah.invalid", person.username)),
            rank: None,
            position: person.position.as_deref(),
            organization: person.organization,
            password_hash: None,
            active: true,
            created_at: crate::db::now(),
        },
    )?;
    audit::append(
        conn,
        Event {
            actor: None,
            office: Some(office),
            action: "person.created",
            subject: format!("person:{id}"),
            detail: serde_json::json!({ "username": person.username, "demo": true }),
        },
    )?;
    summary.people_created += 1;
    Ok(id)
}

/// The demo password of a demo account: printed on the demo's front page, so never for a
/// real one.
pub fn password_of(username: &str) -> String {
    format!("demo-{username}")
}

/// Gives every demo account that has no password its demo password (`naskah serve --demo`;
/// hashing takes a moment per account, so the demo data itself does not). Returns how many
/// were set.
pub fn set_passwords(conn: &mut DbConn) -> Result<usize, DemoError> {
    use crate::db::schema::people as table;
    use diesel::prelude::*;
    let mut set = 0;
    for member in members()? {
        let found: Option<(crate::ids::PersonId, Option<String>)> = table::table
            .filter(table::username.eq(&member.username))
            .select((table::id, table::password_hash))
            .first(conn)
            .optional()?;
        if let Some((id, None)) = found {
            crate::accounts::set_password(conn, id, &password_of(&member.username), None)
                .map_err(|e| DemoError::Data(e.to_string()))?;
            set += 1;
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_nip_is_a_nip() {
        for demo in &OFFICES {
            assert!(demo.head_nip.parse::<Nip>().is_ok(), "{}", demo.head_nip);
        }
        for index in 0..100 {
            let nip = staff_nip(index);
            assert!(nip.parse::<Nip>().is_ok(), "{nip}");
        }
    }
}
