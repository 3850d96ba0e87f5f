//! `/account/export`: everything the site holds about the member, as one JSON
//! document. The document is a list of sections, each read by one function from the
//! store; a feature that keeps more about members (tokens, comments, collections,
//! reads, follows) adds its section to [`SECTIONS`] and nothing else changes. Account deletion has
//! the matching list (`papers_store`'s `account_erase`).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use papers_store::{Store, StoreError, User};
use serde_json::{Map, Value, json};

use crate::error::HttpError;
use crate::session::MaybeUser;
use crate::state::AppState;

use super::{account, member};

/// The shape's name and version, so a reader of an old export knows what it holds.
const FORMAT: &str = "papers-account-export/1";

/// What a section reads about.
struct Member<'a> {
    user: &'a User,
    /// The digest of the session asking, marked `current` in `sessions`.
    session: &'a str,
    now: DateTime<Utc>,
}

struct Section {
    name: &'static str,
    read: fn(&Store, &Member<'_>) -> Result<Value, StoreError>,
}

const SECTIONS: &[Section] = &[
    Section {
        name: "profile",
        read: profile,
    },
    Section {
        name: "roles",
        read: roles,
    },
    Section {
        name: "sessions",
        read: sessions,
    },
    Section {
        name: "access_tokens",
        read: access_tokens,
    },
    Section {
        name: "votes",
        read: votes,
    },
    Section {
        name: "subscriptions",
        read: subscriptions,
    },
    Section {
        name: "submissions",
        read: submissions,
    },
    Section {
        name: "comments",
        read: comments,
    },
    Section {
        name: "collections",
        read: collections,
    },
    Section {
        name: "reads",
        read: reads,
    },
    Section {
        name: "follows",
        read: follows,
    },
    Section {
        name: "for_you",
        read: for_you,
    },
];

fn time(value: DateTime<Utc>) -> Value {
    Value::String(value.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn maybe_time(value: Option<DateTime<Utc>>) -> Value {
    value.map_or(Value::Null, time)
}

fn profile(_store: &Store, member: &Member<'_>) -> Result<Value, StoreError> {
    let user = member.user;
    Ok(json!({
        "username": user.username,
        "email": user.email,
        "email_verified": maybe_time(user.email_verified),
        "created": time(user.created),
    }))
}

fn sessions(store: &Store, member: &Member<'_>) -> Result<Value, StoreError> {
    let list = store.sessions_of(member.user.id, member.session, member.now)?;
    Ok(list
        .iter()
        .map(|session| {
            json!({
                "created": time(session.created),
                "last_seen": time(session.last_seen),
                "expires": time(session.expires),
                "user_agent": session.user_agent,
                "ip": session.ip,
                "current": session.current,
            })
        })
        .collect())
}

fn roles(store: &Store, member: &Member<'_>) -> Result<Value, StoreError> {
    Ok(store
        .roles(member.user.id)?
        .into_iter()
        .map(|role| Value::String(role.as_str().to_owned()))
        .collect())
}

/// Personal access tokens: what identifies them, never the token (only its digest is
/// kept, and that is not exported either).
fn access_tokens(store: &Store, member: &Member<'_>) -> Result<Value, StoreError> {
    Ok(store
        .access_tokens(member.user.id)?
        .iter()
        .map(|token| {
            json!({
                "id": token.id,
                "label": token.label,
                "created": maybe_time(token.created),
                "last_used": maybe_time(token.last_used),
            })
        })
        .collect())
}

fn votes(store: &Store, member: &Member<'_>) -> Result<Value, StoreError> {
    Ok(store
        .votes_of(member.user.id)?
        .iter()
        .map(|vote| json!({ "paper": vote.paper_id, "title": vote.title, "at": maybe_time(vote.at) }))
        .collect())
}

/// Subscriptions made through the account, and the one of its address when that is
/// verified (an unverified address may be someone else's).
fn subscriptions(store: &Store, member: &Member<'_>) -> Result<Value, StoreError> {
    let mut found = Vec::new();
    if let Some(linked) = store.subscription_of_user(member.user.id)? {
        found.push(linked);
    }
    if member.user.is_verified()
        && let Some(own) = store.subscription_by_email(&member.user.email.to_lowercase())?
        && !found.iter().any(|s| s.id == own.id)
    {
        found.push(own);
    }
    Ok(found
        .iter()
        .map(|s| {
            json!({
                "email": s.email,
                "frequency": s.frequency.as_str(),
                "categories": s.categories,
                "queries": s.queries,
                "status": s.status.as_str(),
                "created": time(s.created_at),
                "confirmed": maybe_time(s.confirmed_at),
                "unsubscribed": maybe_time(s.unsubscribed_at),
            })
        })
        .collect())
}

fn submissions(store: &Store, member: &Member<'_>) -> Result<Value, StoreError> {
    Ok(store
        .submissions_of(&member.user.username)?
        .iter()
        .map(|paper| {
            json!({
                "paper": paper.paper_id,
                "title": paper.title,
                "feed_day": paper.feed_day.map(|day| day.to_string()),
            })
        })
        .collect())
}

/// The member's comments, newest first, with their text (empty once deleted).
fn comments(store: &Store, member: &Member<'_>) -> Result<Value, StoreError> {
    Ok(store
        .comments_by(member.user.id)?
        .iter()
        .map(|comment| {
            json!({
                "id": comment.id,
                "paper": comment.paper_id,
                "parent": comment.parent,
                "body": comment.body,
                "created": maybe_time(comment.created),
                "edited": maybe_time(comment.edited),
                "deleted": comment.deleted,
                "hidden": comment.hidden,
            })
        })
        .collect())
}

/// Collections with their papers and notes.
fn collections(store: &Store, member: &Member<'_>) -> Result<Value, StoreError> {
    let mut listed = Vec::new();
    for collection in store.collections_of(member.user.id)? {
        let papers: Vec<Value> = store
            .collection_papers(collection.id)?
            .iter()
            .map(|entry| {
                json!({
                    "paper": entry.paper.paper.id.as_str(),
                    "note": entry.note,
                    "added": maybe_time(entry.added),
                })
            })
            .collect();
        listed.push(json!({
            "id": collection.id,
            "title": collection.title,
            "description": collection.description,
            "public": collection.public,
            "read_later": collection.read_later,
            "created": maybe_time(collection.created),
            "papers": papers,
        }));
    }
    Ok(Value::Array(listed))
}

fn reads(store: &Store, member: &Member<'_>) -> Result<Value, StoreError> {
    Ok(store
        .reads_by(member.user.id)?
        .into_iter()
        .map(|(paper, at)| json!({ "paper": paper, "at": at }))
        .collect())
}

fn follows(store: &Store, member: &Member<'_>) -> Result<Value, StoreError> {
    Ok(store
        .follows_of(member.user.id)?
        .iter()
        .map(|follow| {
            json!({
                "kind": follow.kind.as_str(),
                "value": follow.value,
                "created": maybe_time(follow.created),
            })
        })
        .collect())
}

/// For you's private signals and the categories picked for a cold start.
fn for_you(store: &Store, member: &Member<'_>) -> Result<Value, StoreError> {
    let signals: Vec<Value> = store
        .feedback_by(member.user.id)?
        .into_iter()
        .map(|(paper, more, at)| json!({ "paper": paper, "more": more, "at": at }))
        .collect();
    Ok(json!({
        "feedback": signals,
        "picked_categories": store.picked_categories(member.user.id)?,
    }))
}

/// The whole document.
fn document(store: &Store, member: &Member<'_>, site: &str) -> Result<Value, StoreError> {
    let mut out = Map::new();
    out.insert("format".into(), FORMAT.into());
    out.insert("site".into(), site.into());
    out.insert("exported".into(), time(member.now));
    for section in SECTIONS {
        out.insert(section.name.into(), (section.read)(store, member)?);
    }
    Ok(Value::Object(out))
}

pub(crate) async fn download(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    let member = match member(user, "/account/export") {
        Ok(member) => member,
        Err(redirect) => return Ok(redirect.into_response()),
    };
    let user = account(&state, &member).await?;
    let filename = format!("papers-account-{}.json", user.username);
    let site = state.config().public_url.clone();
    let session = member.token_hash.clone();
    let data = state
        .inner
        .pool
        .run(move |store| {
            let member = Member {
                user: &user,
                session: &session,
                now: Utc::now(),
            };
            document(store, &member, &site)
        })
        .await?;
    let body = serde_json::to_string_pretty(&data).map_err(HttpError::internal)?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
