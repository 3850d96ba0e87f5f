//! The frame around every page: head, navigation, account links, footer.

use maud::{DOCTYPE, Markup, html};

use super::Viewer;

pub(crate) fn page(title: &str, viewer: &Viewer, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · Daily Papers" }
                link rel="stylesheet" href="/static/style.css";
                link rel="alternate" type="application/rss+xml" title="Daily Papers" href="/papers/feed.rss";
                script src="/static/app.js" defer {}
            }
            body {
                header.site {
                    a.brand href="/papers" { "Daily Papers" }
                    nav {
                        a href="/papers" { "Today" }
                        a href="/papers/trending" { "Trending" }
                        a href="/new" { "New" }
                        a href="/topics" { "Topics" }
                        a href="/search" { "Search" }
                        a href="/submit" { "Submit" }
                        @if let Some(user) = &viewer.user {
                            // The name leads to the member's own page, which has everything.
                            a.user href="/account" title="Your account" { (user.username) }
                            a.account href="/account" { "Account" }
                            a.for-you href="/for-you" { "For you" }
                            a.following href="/following" { "Following" }
                            a.collections href="/collections" { "Collections" }
                            a href="/account/tokens" { "Tokens" }
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(user.csrf_token);
                                button.link type="submit" { "Log out" }
                            }
                        } @else {
                            a href="/login" { "Log in" }
                            a href="/signup" { "Sign up" }
                        }
                    }
                }
                main { (body) }
                footer.site {
                    p {
                        "Papers from arXiv and the Hugging Face daily feed. "
                        a href="/api/openapi.json" { "API" } " · "
                        a href="/papers/feed.rss" { "RSS" } " · "
                        a href="/papers/feed.atom" { "Atom" }
                    }
                    p.subscribe {
                        a href="/subscribe" { "Get trending papers in your email inbox!" }
                    }
                }
            }
        }
    }
}
