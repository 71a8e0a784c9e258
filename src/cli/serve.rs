//! `naskah serve`: the web service with its schedule, notifications and verification workers,
//! after what a stop left half done is put right.

use std::io::Write;
use std::net::TcpListener;

use super::{Failure, demo_pki, letter_settings, open_migrated, signing, tte_settings};
use crate::config::{Config, ConfigError};
use crate::{demo, letters, web};

/// The roots verification trusts: the configured ones, else the PKI directory's root (the
/// demo's) when there is one.
fn trust_roots(config: &Config) -> Result<crate::verify::Roots, Failure> {
    let mut files = config.trust_roots.clone();
    let own = config.pki_dir.join(crate::signing::pki::ROOT_CERT);
    if files.is_empty() && own.exists() {
        files.push(own);
    }
    crate::verify::Roots::from_pem_files(&files)
        .map(|roots| {
            roots
                .fetching_revocation(config.fetch_revocation)
                .with_revocation_grace(config.revocation_grace)
        })
        .map_err(|e| Failure::Config(ConfigError::new("trust_roots (NASKAH_TRUST_ROOTS)", e)))
}

pub(super) fn serve(config: &Config, with_demo: bool) -> Result<(), Failure> {
    let listener = TcpListener::bind(config.bind).map_err(|e| {
        ConfigError::new(
            &config.bind_origin,
            format!("cannot listen on {}: {e}", config.bind),
        )
    })?;
    let (db, _) = open_migrated(config)?;
    if with_demo {
        let summary = demo::create(&mut *db.get()?)?;
        tracing::info!(
            offices = summary.offices_created,
            people = summary.people_created,
            "demo data ready"
        );
    }
    if with_demo {
        demo_pki(config)?;
        let set = demo::set_passwords(&mut *db.get()?)?;
        tracing::info!(accounts = set, "demo passwords set where missing");
    }
    // What a stop left half done is put right before anyone is served: a numbered letter
    // without its numbered revision gets it; a job of a process that is gone ends.
    let repaired = letters::store::repair_numbered(&mut *db.get()?, &letter_settings(config))
        .map_err(|e| {
            Failure::Work(format!(
                "numbered letters could not be given their number: {e}"
            ))
        })?;
    let released = crate::jobs::release_orphans(&mut *db.get()?, crate::db::now())?;
    if repaired + released > 0 {
        tracing::warn!(
            repaired,
            released,
            "left half done by a stop, now put right"
        );
    }
    actix_web::rt::System::new().block_on(async {
        let letters = letter_settings(config);
        // A configured time-stamp authority, or in the demo the demo PKI's own on loopback.
        let mut tsa_url = config.tsa_url.clone();
        if tsa_url.is_none() && with_demo {
            let authority = signing::demo_authority(&config.pki_dir)?;
            let tsa_listener = TcpListener::bind("127.0.0.1:0")
                .map_err(|e| Failure::Work(format!("the demo time-stamp authority: {e}")))?;
            let (server, addr) = web::tsa::start(tsa_listener, authority)
                .map_err(|e| Failure::Work(format!("the demo time-stamp authority: {e}")))?;
            tracing::info!(%addr, "demo time-stamp authority");
            tsa_url = Some(format!("http://{addr}/"));
            actix_web::rt::spawn(server);
        }
        let tte = tte_settings(config, tsa_url.as_deref(), letters.clone());
        if with_demo {
            // In the background: the service answers while the demo's requests are made.
            let (db, letters, tte) = (db.clone(), letters.clone(), tte.clone());
            std::thread::spawn(
                move || match demo::make_finished_requests(&db, &letters, &tte) {
                    Ok(made) => tracing::info!(made, "demo finished requests ready"),
                    Err(error) => tracing::error!(%error, "demo finished requests not made"),
                },
            );
        }
        let verifier = crate::verify::sandbox::Sandbox::own(&trust_roots(config)?, config.verify)
            .map_err(Failure::Work)?;
        let scheduler = crate::schedule::start(std::sync::Arc::new(crate::schedule::Context {
            db: db.clone(),
            tte: tte.clone(),
            schedule: config.schedule.clone(),
            instance: crate::jobs::instance_name(),
        }))
        .await
        .map_err(|e| Failure::Work(format!("the schedule did not start: {e}")))?;
        let notifier = crate::notify::worker::start(db.clone(), config.notify.clone())
            .map_err(|e| Failure::Work(format!("the notification worker did not start: {e}")))?;
        tracing::info!(
            webhooks = config.notify.webhooks.len(),
            email = config.notify.mail.is_some(),
            "notifications"
        );
        let handover = crate::handover::Key::load_or_create(&config.data_dir).map_err(|e| {
            Failure::Config(ConfigError::new(
                &config.data_dir_origin,
                format!("the handover key (secrets/handover.key): {e}"),
            ))
        })?;
        let state = web::AppState {
            handover: std::sync::Arc::new(handover),
            data_dir: config.data_dir.clone(),
            schedule: config.schedule.clone(),
            db,
            letters,
            tte,
            verifier: std::sync::Arc::new(verifier),
            limits: std::sync::Arc::new(web::limits::Limits::new(config.trusted_proxies.clone())),
            demo: with_demo,
        };
        let (server, addr) = web::start(listener, state)
            .map_err(|e| Failure::Work(format!("cannot start the web server: {e}")))?;
        // The one line on standard output: tests and scripts read the port from it.
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "naskah listening on http://{addr}");
        let _ = stdout.flush();
        tracing::info!(%addr, "serving");
        server
            .await
            .map_err(|e| Failure::Work(format!("the web server failed: {e}")))?;
        let mut scheduler = scheduler;
        if let Err(error) = scheduler.shutdown().await {
            tracing::warn!(?error, "the schedule did not stop cleanly");
        }
        notifier.stop();
        tracing::info!("stopped");
        Ok(())
    })
}
