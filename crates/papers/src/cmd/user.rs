//! `papers user …` and `papers token create`: the operator's hands on members, roles
//! and access tokens, without the site. Accounts follow the sign-up rules and tokens
//! the site's format (`papers_web` makes both), so an account or token made here is
//! the same as one made on the site.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{SecondsFormat, Utc};
use papers_store::{Role, SignUpConflict, Store, User};
use serde::Serialize;

use crate::cli::{RoleArg, TokenAction, TokenArgs, UserAction, UserArgs};
use crate::config::Config;
use crate::output::outln;

pub fn run(config: &Config, args: &UserArgs) -> anyhow::Result<ExitCode> {
    let store = config.store.open()?;
    match &args.action {
        UserAction::Create {
            name,
            email,
            admin,
            password_stdin: _,
        } => create(&store, name, email, *admin, &mut std::io::stdin().lock()),
        UserAction::List { json } => list(&store, *json),
        UserAction::Grant { name, role } => {
            let member = member(&store, name)?;
            let granted = store.grant_role(member.id, role_of(*role), Utc::now())?;
            let role = role_of(*role);
            if granted {
                outln!("granted {role} to {}", member.username)?;
            } else {
                outln!("{} is already {role}", member.username)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        UserAction::Revoke { name, role } => {
            let member = member(&store, name)?;
            let role = role_of(*role);
            if store.revoke_role(member.id, role)? {
                outln!("revoked {role} from {}", member.username)?;
            } else {
                outln!("{} was not {role}", member.username)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn run_token(config: &Config, args: &TokenArgs) -> anyhow::Result<ExitCode> {
    let store = config.store.open()?;
    match &args.action {
        TokenAction::Create { name, label } => {
            let member = member(&store, name)?;
            let label = label.trim();
            if label.is_empty() || label.chars().count() > 100 {
                bail!("a token's label is 1 to 100 characters");
            }
            let (token, hash) = papers_web::new_access_token()
                .map_err(|error| anyhow::anyhow!("cannot make a token: {error}"))?;
            let id = store.create_access_token(member.id, &hash, label, Utc::now())?;
            tracing::info!(member = %member.username, token.id = id, "access token made");
            // The token on stdout alone, so `TOKEN=$(papers token create ann)` works;
            // what it is goes to stderr.
            eprintln!(
                "papers: token {id} for {} ({label}); it is not shown again",
                member.username
            );
            outln!("{token}")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Creates the member with the password on the first line of `input`.
fn create(
    store: &Store,
    name: &str,
    email: &str,
    admin: bool,
    input: &mut impl BufRead,
) -> anyhow::Result<ExitCode> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']);
    let (name, email) = (name.trim(), email.trim());
    papers_web::check_new_account(name, email, password).map_err(anyhow::Error::msg)?;
    let hash = papers_web::hash_password(password)
        .map_err(|error| anyhow::anyhow!("cannot hash the password: {error}"))?;
    let now = Utc::now();
    let id = match store.create_user(name, email, &hash, now)? {
        Ok(id) => id,
        Err(SignUpConflict::UsernameTaken) => bail!("the username {name} is taken"),
        Err(SignUpConflict::EmailTaken) => bail!("an account with the address {email} exists"),
    };
    if admin {
        store.grant_role(id, Role::Admin, now)?;
    }
    let roles = if admin { " (admin)" } else { "" };
    outln!("created {name}{roles}")?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Serialize)]
struct Listed {
    username: String,
    email: String,
    created: Option<String>,
    roles: Vec<&'static str>,
    tokens: u64,
}

fn list(store: &Store, json: bool) -> anyhow::Result<ExitCode> {
    let members: Vec<Listed> = store
        .members()?
        .into_iter()
        .map(|member| Listed {
            username: member.username,
            email: member.email,
            created: member
                .created
                .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true)),
            roles: member.roles.iter().map(|role| role.as_str()).collect(),
            tokens: member.tokens,
        })
        .collect();
    if json {
        outln!("{}", serde_json::to_string_pretty(&members)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if members.is_empty() {
        eprintln!("papers: no members yet (papers user create NAME --email E --password-stdin)");
        return Ok(ExitCode::SUCCESS);
    }
    let width = members
        .iter()
        .map(|m| m.username.chars().count())
        .max()
        .unwrap_or(0)
        .max("USERNAME".len());
    let email_width = members
        .iter()
        .map(|m| m.email.chars().count())
        .max()
        .unwrap_or(0)
        .max("EMAIL".len());
    outln!(
        "{:<width$}  {:<email_width$}  {:<20}  {:<16}  TOKENS",
        "USERNAME",
        "EMAIL",
        "CREATED",
        "ROLES"
    )?;
    for member in &members {
        let roles = if member.roles.is_empty() {
            "-".to_owned()
        } else {
            member.roles.join(",")
        };
        outln!(
            "{:<width$}  {:<email_width$}  {:<20}  {:<16}  {}",
            member.username,
            member.email,
            member.created.as_deref().unwrap_or("-"),
            roles,
            member.tokens
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn member(store: &Store, name: &str) -> anyhow::Result<User> {
    store
        .user_by_name(name)?
        .with_context(|| format!("no member named {name} (papers user list shows them)"))
}

fn role_of(role: RoleArg) -> Role {
    match role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Moderator => Role::Moderator,
    }
}
