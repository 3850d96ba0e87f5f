//! The community part of a member's `/account` page: their collections, what they
//! follow, their discussion and reading, and the links to their tokens and digest
//! subscription, so everything a member keeps here is reachable from one place.

use chrono::{DateTime, Utc};
use maud::{Markup, html};
use papers_store::{Collection, Follow};

use super::collections::collection_path;
use super::encode;
use super::follows::author_path;

/// What the member keeps in the community layer.
#[derive(Debug, Clone, Default)]
pub(crate) struct CommunitySummary {
    pub username: String,
    pub member_since: Option<DateTime<Utc>>,
    pub collections: Vec<Collection>,
    pub follows: Vec<Follow>,
    pub comments: usize,
    pub read: usize,
    pub tokens: usize,
}

pub(crate) fn community_section(summary: &CommunitySummary) -> Markup {
    html! {
        section.account-community #community {
            h2 { "Profile" }
            p {
                strong #account-username { (summary.username) }
                @if let Some(since) = summary.member_since { " · member since " (since.format("%-d %B %Y")) }
                " · " a href={ "/users/" (encode(&summary.username)) } { "papers you submitted" }
            }
            h2 { "Collections" }
            ul.collection-list {
                @for collection in &summary.collections {
                    li {
                        a href=(collection_path(collection.id)) { (collection.title) }
                        " · " (collection.papers) " paper" @if collection.papers != 1 { "s" }
                        @if collection.public { " · public" }
                    }
                }
            }
            p { a href="/collections" { "All collections, and a new one" } }
            h2 { "Following" }
            @if summary.follows.is_empty() {
                p.empty { "Nothing yet." }
            } @else {
                ul.follow-list {
                    @for follow in &summary.follows {
                        li {
                            (follow.kind.as_str()) " "
                            @match follow.kind {
                                papers_store::FollowKind::Author => a href=(author_path(&follow.value)) { (follow.value) },
                                papers_store::FollowKind::Organization => a href={ "/organizations/" (encode(&follow.value)) } { (follow.value) },
                                papers_store::FollowKind::Category => a href={ "/new/" (encode(&follow.value)) } { (follow.value) },
                                papers_store::FollowKind::Query => a href={ "/search?q=" (encode(&follow.value)) } { (follow.value) },
                                papers_store::FollowKind::Topic => a href={ "/topics/" (encode(&follow.value)) } { "topic " (follow.value) },
                            }
                        }
                    }
                }
            }
            p { a href="/following" { "New papers from what you follow" } }
            h2 { "Activity" }
            p {
                (summary.comments) " comment" @if summary.comments != 1 { "s" } " written · "
                (summary.read) " paper" @if summary.read != 1 { "s" } " read · "
                a href="/papers?hide_read=1" { "today's papers without those you read" }
            }
            h2 { "Tokens and digests" }
            p {
                a href="/account/tokens" { (summary.tokens) " access token" @if summary.tokens != 1 { "s" } }
                " · " a href="/subscriptions" { "Your email digest" }
            }
        }
    }
}
