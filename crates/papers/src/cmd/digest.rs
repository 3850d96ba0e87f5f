//! `papers digest send`, and the pieces `papers serve` shares with it: the signing
//! secret, the digest engine, the SMTP mailer and one send over the store.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc};
use papers_digest::{
    Deliver, Digests, Frequency, Links, Mailer, NoDelivery, PublicUrl, Report, SavedSearch, Secret,
    SendRequest, Settings, SmtpConfig, Sources, VotesFn, feed_day,
};
use papers_store::Store;
use papers_topics::SharedTopics;

use crate::cli::{DigestAction, DigestArgs, DigestSendArgs, PeriodArg};
use crate::config::{self, Config, DEFAULT_MODEL_REPO, MailConfig};
use crate::output::outln;
use crate::search_service::{IndexedSavedSearch, SearchService, WhenIndexTaken};

pub fn run(config: &Config, args: &DigestArgs) -> anyhow::Result<ExitCode> {
    match &args.action {
        DigestAction::Send(send) => run_send(config, send),
    }
}

fn run_send(config: &Config, args: &DigestSendArgs) -> anyhow::Result<ExitCode> {
    // Sending runs beside `papers serve` on the same node (from cron, or by hand):
    // background work, which should not take the cores from the site's requests.
    // Lowered before any thread starts, so every thread of the run inherits it.
    if let Err(error) =
        crate::background::lower_current_thread_priority(crate::background::Priority::Lower)
    {
        tracing::warn!(%error, "cannot lower the digest run's priority");
    }
    let public_url = match (&config.web.public_url, args.dry_run) {
        (Some(url), _) => url.clone(),
        // A dry run mails nothing, so its links need not be right.
        (None, true) => "http://localhost:8080".to_owned(),
        (None, false) => {
            bail!(
                "set PAPERS_PUBLIC_URL (or --public-url, or web.public_url in the config \
                 file): the base of every link in a digest"
            )
        }
    };
    // Personal picks rank by the model's stored vectors; without a model they are left out.
    let model = crate::search_service::ModelChoice::from_config(&config.model)
        .load()
        .ok();
    let digests = engine(
        config,
        &public_url,
        model.as_ref().map(|m| m.model_id()),
        None,
    )?;
    let mailer = if args.dry_run {
        None
    } else {
        Some(mailer(&config.mail, &public_url)?.context(
            "set PAPERS_SMTP_URL (or --smtp-url, or mail.smtp_url in the config file), \
                 or use --dry-run",
        )?)
    };
    let deliver: &dyn Deliver = match &mailer {
        Some(mailer) => mailer,
        None => &NoDelivery,
    };
    let frequency = match args.period {
        PeriodArg::Daily => Frequency::Daily,
        PeriodArg::Weekly => Frequency::Weekly,
    };
    let now = Utc::now();
    let as_of = args.as_of.unwrap_or_else(|| feed_day(now));
    let mut store = config.store.open()?;
    let search = SearchService::open(&config.store.data_dir, model, WhenIndexTaken::ReadTheirs)?;
    // Saved searches read this node's index; bring it up to date first. When a server
    // on the same data directory owns the indexes, its own follower keeps them
    // current and this run reads them as they are.
    if let Err(error) = search.catch_up(&store).and_then(|_| search.finish()) {
        tracing::warn!(error = format!("{error:#}"), "searching the index as it is");
    }
    let report = send(
        &digests,
        &mut store,
        &IndexedSavedSearch(&search),
        deliver,
        frequency,
        as_of,
        now,
        args.dry_run,
    )?;
    print_report(&report)?;
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One send of the digests of `frequency` due on `as_of`, with the saved searches run
/// by `search` and the members' upvotes from the store.
#[expect(
    clippy::too_many_arguments,
    reason = "one send is exactly these inputs; a struct would only rename them"
)]
pub fn send(
    digests: &Digests,
    store: &mut Store,
    search: &dyn SavedSearch,
    deliver: &dyn Deliver,
    frequency: Frequency,
    as_of: NaiveDate,
    now: DateTime<Utc>,
    dry_run: bool,
) -> anyhow::Result<Report> {
    let votes =
        VotesFn(|store: &Store, user: i64| Ok(store.voted_keys(user)?.into_iter().collect()));
    let sources = Sources {
        search,
        votes: &votes,
    };
    let request = SendRequest {
        frequency,
        as_of,
        now,
        dry_run,
    };
    digests
        .send_digests(store, deliver, &sources, &request)
        .with_context(|| format!("sending the {} digests due {as_of}", frequency.as_str()))
}

fn print_report(report: &Report) -> anyhow::Result<()> {
    let dry = if report.dry_run { " (dry run)" } else { "" };
    outln!("period {}{dry}", report.period_key)?;
    outln!("subscribers    {}", report.subscribers)?;
    outln!("sent           {}", report.sent)?;
    outln!("skipped_empty  {}", report.skipped_empty)?;
    outln!("already_sent   {}", report.already_sent)?;
    outln!("resumed        {}", report.resumed)?;
    outln!("failed         {}", report.failed.len())?;
    for (address, reason) in &report.failed {
        outln!("  {address}: {reason}")?;
    }
    Ok(())
}

/// The digest engine over `public_url`, signing links with the site's secret.
/// `model_id` is the loaded embedding model's identity, which names its stored vectors.
/// The digest engine. `topics` is the map weekly digests take their rising topics
/// from (`papers serve` passes the one it keeps current); `None` reads the one on disk.
pub fn engine(
    config: &Config,
    public_url: &str,
    model_id: Option<&str>,
    topics: Option<Arc<SharedTopics>>,
) -> anyhow::Result<Digests> {
    let base = PublicUrl::parse(public_url)?;
    let links = Links::new(
        base,
        secret(&config.store.data_dir, config.mail.secret.as_ref())?,
    );
    let model = config
        .digest
        .embedding_model
        .clone()
        .or_else(|| model_id.map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_MODEL_REPO.to_owned());
    let topics = match topics {
        Some(topics) => topics,
        None => Arc::new(SharedTopics::new(crate::topics_service::load(
            &config.store.data_dir,
            &model,
        )?)),
    };
    Ok(Digests::new(links, Settings::new(model))
        .context("loading the digest templates")?
        .with_topics(topics))
}

/// The SMTP mailer, or `None` when no SMTP URL is set.
pub fn mailer(mail: &MailConfig, public_url: &str) -> anyhow::Result<Option<Mailer>> {
    let Some(url) = &mail.smtp_url else {
        return Ok(None);
    };
    let from = mail
        .from
        .as_deref()
        .context("PAPERS_SMTP_URL is set but PAPERS_MAIL_FROM (the sender) is not")?;
    let password = mail.smtp_password.as_ref().map(|p| p.expose().clone());
    let config = SmtpConfig::new(url.expose(), password, from, public_url)?;
    Ok(Some(Mailer::new(&config)?))
}

/// The key that signs confirmation and unsubscribe links: `configured`
/// (`PAPERS_SECRET`), or `<data-dir>/secret`, created once with 32 random bytes and
/// readable only by the owner. Changing it invalidates every link already mailed.
pub fn secret(
    data_dir: &Path,
    configured: Option<&config::Secret<Vec<u8>>>,
) -> anyhow::Result<Secret> {
    if let Some(value) = configured {
        return Secret::new(value.expose().clone()).context("PAPERS_SECRET");
    }
    let path = data_dir.join("secret");
    match std::fs::read(&path) {
        Ok(bytes) => return Secret::new(bytes).with_context(|| format!("{}", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random bytes: {e}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(&bytes)
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            tracing::info!(path = %path.display(), "created the link-signing secret");
            Ok(Secret::new(bytes.to_vec())?)
        }
        // Another process created it first: use theirs.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            Secret::new(bytes).with_context(|| format!("{}", path.display()))
        }
        Err(error) => Err(error).with_context(|| format!("creating {}", path.display())),
    }
}
