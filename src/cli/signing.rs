//! `naskah sign` and `naskah certs`: signing one file, and the demo PKI. Neither needs the
//! database or the configuration.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{Failure, read_bytes, write_file_atomically};
use crate::signing::{self, Options, Rect, SigningKey, pki};

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The signer's PKCS#12 file.
    #[arg(long, value_name = "FILE")]
    p12: PathBuf,
    /// The environment variable that holds the PKCS#12 passphrase (never a flag: flags show in
    /// the process list).
    #[arg(long, value_name = "VAR")]
    pass_env: String,
    #[arg(long = "in", value_name = "IN.pdf")]
    input: PathBuf,
    #[arg(long = "out", value_name = "OUT.pdf")]
    output: PathBuf,
    /// The PAdES level: B-B, B-T, B-LT or B-LTA.
    #[arg(long, default_value = "B-B", value_name = "LEVEL")]
    level: String,
    /// The RFC 3161 time-stamp authority, for B-T and above.
    #[arg(long, value_name = "URL")]
    tsa: Option<String>,
    /// A CRL (DER) to embed for B-LT and above, one per certificate authority of the chains.
    #[arg(long, value_name = "FILE")]
    crl: Vec<PathBuf>,
    /// An OCSP response (DER) to embed for B-LT and above (repeatable).
    #[arg(long, value_name = "FILE")]
    ocsp: Vec<PathBuf>,
    /// A visible signature: the page (1-based) and the widget's rectangle in points from the
    /// page's lower left corner.
    #[arg(long, value_name = "PAGE,X,Y,W,H")]
    visible: Option<String>,
    /// Certify the document (DocMDP P=2: later signatures, form filling, DSS and time-stamps
    /// allowed); only the first signature may.
    #[arg(long)]
    certify: bool,
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    location: Option<String>,
    /// The signature field's name (default: the next free SignatureN). An empty field of that
    /// name is signed in place.
    #[arg(long)]
    field: Option<String>,
    /// An empty signature field for a later signer, made with this signature (with --certify,
    /// a later signer fills it instead of adding a field, as DocMDP P=2 permits).
    #[arg(long, value_name = "NAME,PAGE,X,Y,W,H")]
    reserve: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// Create a demo PKI in DIR: root and intermediate CAs, a time-stamp authority, CRLs, one
    /// encrypted PKCS#12 per demo official and passphrases.txt.
    InitDemo {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Issue the demo PKI's CRLs again, each due in 30 days. Letters signed at B-LT carry
    /// them; once past their next update they no longer vouch for a signer, and the letters
    /// signed with them turn INDETERMINATE: run this before then (a cron job, monthly).
    RenewCrls {
        /// The demo PKI (made by init-demo).
        #[arg(long, value_name = "DIR")]
        pki: PathBuf,
    },
    /// Run the demo PKI's time-stamp authority on loopback until stopped; prints its URL.
    Tsa {
        /// The demo PKI (made by init-demo).
        #[arg(long, value_name = "DIR")]
        pki: PathBuf,
        #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
        bind: String,
    },
}

/// The demo PKI's time-stamp authority, unlocked with its passphrase from the PKI's list.
pub fn demo_authority(pki: &Path) -> Result<signing::tsa::Authority, Failure> {
    let passphrase = pki::passphrase_of(pki, pki::TSA_P12).ok_or_else(|| {
        Failure::Usage(format!(
            "{}: no demo PKI here (no passphrase for {})",
            pki.display(),
            pki::TSA_P12
        ))
    })?;
    let p12 = read_bytes(&pki.join(pki::TSA_P12))?;
    let key = SigningKey::from_pkcs12(&p12, &passphrase)
        .map_err(|e| Failure::Work(format!("{}: {e}", pki::TSA_P12)))?;
    Ok(signing::tsa::Authority::new(key))
}

pub fn certs(command: &CertsCommand) -> Result<(), Failure> {
    match command {
        CertsCommand::InitDemo { out } => {
            let made = crate::demo::init_pki(out).map_err(|e| match e {
                crate::demo::DemoError::Pki(pki::PkiError::NotEmpty(_)) => {
                    Failure::Usage(e.to_string())
                }
                other => Failure::Work(other.to_string()),
            })?;
            println!(
                "demo PKI in {}: {} official(s), passphrases in {}",
                out.display(),
                made.officials.len(),
                out.join(pki::PASSPHRASES).display()
            );
            Ok(())
        }
        CertsCommand::RenewCrls { pki } => {
            pki::renew_crls(pki).map_err(|e| match e {
                pki::PkiError::NotDemo(..) => Failure::Usage(e.to_string()),
                other => Failure::Work(other.to_string()),
            })?;
            println!(
                "{} and {} in {} issued again, due in {} days",
                pki::ROOT_CRL,
                pki::INTERMEDIATE_CRL,
                pki.display(),
                pki::CRL_DAYS
            );
            Ok(())
        }
        CertsCommand::Tsa { pki, bind } => {
            let authority = demo_authority(pki)?;
            let listener = std::net::TcpListener::bind(bind)
                .map_err(|e| Failure::Usage(format!("--bind {bind}: {e}")))?;
            actix_web::rt::System::new().block_on(async {
                let (server, addr) = crate::web::tsa::start(listener, authority)
                    .map_err(|e| Failure::Usage(e.to_string()))?;
                println!("naskah tsa listening on http://{addr}/");
                use std::io::Write;
                let _ = std::io::stdout().flush();
                server
                    .await
                    .map_err(|e| Failure::Work(format!("the time-stamp authority failed: {e}")))
            })
        }
    }
}

/// Parses `PAGE,X,Y,W,H`, the value of `flag`.
fn placement(flag: &str, text: &str) -> Result<(u32, Rect), Failure> {
    let bad = || {
        Failure::Usage(format!(
            "{flag} '{text}': expected PAGE,X,Y,W,H (PAGE from 1, the rest in points)"
        ))
    };
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [page, x, y, width, height] = parts[..] else {
        return Err(bad());
    };
    let page: u32 = page.parse().map_err(|_| bad())?;
    let number = |s: &str| s.parse::<f32>().ok().filter(|v| v.is_finite() && *v >= 0.0);
    let (Some(x), Some(y), Some(width), Some(height)) =
        (number(x), number(y), number(width), number(height))
    else {
        return Err(bad());
    };
    if page == 0 || width == 0.0 || height == 0.0 {
        return Err(bad());
    }
    Ok((
        page,
        Rect {
            x,
            y,
            width,
            height,
        },
    ))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

pub fn sign(args: &SignArgs) -> Result<(), Failure> {
    if same_file(&args.input, &args.output) {
        return Err(Failure::Usage(
            "--out must not be --in: a signed file is never rewritten in place".into(),
        ));
    }
    let level: signing::Level = args
        .level
        .parse()
        .map_err(|e| Failure::Usage(format!("--level: {e}")))?;
    let stamper = match (&args.tsa, level) {
        (Some(url), _) => Some(signing::tsa::TimeStamper::new(url)),
        (None, signing::Level::BB) => None,
        (None, level) => {
            return Err(Failure::Usage(format!("--level {level} needs --tsa URL")));
        }
    };
    let mut validation = signing::ltv::ValidationData::default();
    for path in &args.crl {
        validation.crls.push(read_bytes(path)?);
    }
    for path in &args.ocsp {
        validation.ocsps.push(read_bytes(path)?);
    }
    let (page, rect) = match &args.visible {
        Some(text) => {
            let (page, rect) = placement("--visible", text)?;
            (page, Some(rect))
        }
        None => (1, None),
    };
    let mut reserve = Vec::new();
    for text in &args.reserve {
        let bad = || Failure::Usage(format!("--reserve '{text}': expected NAME,PAGE,X,Y,W,H"));
        let (name, place) = text.split_once(',').ok_or_else(bad)?;
        let (page, rect) = placement("--reserve", place)?;
        if name.trim().is_empty() {
            return Err(bad());
        }
        reserve.push(signing::Reserved {
            name: name.trim().to_owned(),
            page,
            rect,
        });
    }
    let passphrase = std::env::var(&args.pass_env).map_err(|_| {
        Failure::Usage(format!(
            "--pass-env {}: no such environment variable",
            args.pass_env
        ))
    })?;
    let p12 = read_bytes(&args.p12)?;
    let key = SigningKey::from_pkcs12(&p12, &passphrase)
        .map_err(|e| Failure::Work(format!("{}: {e}", args.p12.display())))?;
    let input = read_bytes(&args.input)?;
    let options = Options {
        page,
        rect,
        certify: args.certify,
        reason: args.reason.as_deref(),
        location: args.location.as_deref(),
        field_name: args.field.clone(),
        signed_at: chrono::Utc::now(),
        reserve,
    };
    let signed = signing::sign(&input, &key, &options, level, stamper.as_ref(), &validation)
        .map_err(|e| Failure::Work(format!("{}: {e}", args.input.display())))?;
    write_file_atomically(&args.output, &signed)?;
    println!("{}: signed, {} bytes", args.output.display(), signed.len());
    Ok(())
}
