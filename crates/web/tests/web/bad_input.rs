//! Bad input over HTTP: every route of `routes/mod.rs` (and the API table) given
//! oversized, truncated, wrongly typed, duplicated and non-UTF-8 parameters and bodies
//! answers 4xx with a message saying what is wrong: never a 500, never a panic (a
//! panicking handler fails the test, since the router runs in-process).
//!
//! Table-driven: each row is one route and one kind of bad input, sent as a real
//! request through the router, with a member's session and CSRF token where the route
//! needs them so the input reaches the route's own parsing.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, Request, header};
use papers_digest::{Deliver, Digests, Links, Mail, PublicUrl, Secret, SendError, Settings};
use papers_web::{AppConfig, AppState};

use crate::common::{Reply, TestApp, csrf_in, seed, set_cookie};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Oversized,
    Truncated,
    WronglyTyped,
    Duplicated,
    NonUtf8,
}

const KINDS: [Kind; 5] = [
    Kind::Oversized,
    Kind::Truncated,
    Kind::WronglyTyped,
    Kind::Duplicated,
    Kind::NonUtf8,
];

/// Who sends the request: nobody, a visitor holding the pre-session CSRF cookie (log
/// in, sign up, subscribe), or a logged-in member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum As {
    Anonymous,
    Visitor,
    Member,
}

/// How the bad input travels.
#[derive(Debug, Clone, Copy)]
enum Carrier {
    None,
    Form,
    Json,
}

/// One route: its method and path, who calls it, and the bad request of each kind.
/// `{csrf}` in a path or body becomes the caller's valid token, so a refusal is about
/// the input and not about the token.
struct Route {
    method: Method,
    name: &'static str,
    caller: As,
    body: Carrier,
    cases: fn(Kind) -> (String, Vec<u8>),
}

/// Longer than any field or parameter the site accepts, shorter than the body limit.
fn long() -> String {
    "a".repeat(20_000)
}

/// Past the body limit (64 KiB by default).
fn huge() -> Vec<u8> {
    let mut body = b"csrf={csrf}&x=".to_vec();
    body.extend(std::iter::repeat_n(b'a', 100 * 1024));
    body
}

fn get(path: String) -> (String, Vec<u8>) {
    (path, Vec::new())
}

fn post(path: &str, body: impl Into<Vec<u8>>) -> (String, Vec<u8>) {
    (path.to_owned(), body.into())
}

/// Query-string cases for a page that takes the feed parameters (`sort`, `category`,
/// `p`).
fn feed_query(path: &'static str, kind: Kind) -> (String, Vec<u8>) {
    get(match kind {
        Kind::Oversized => format!("{path}?category={}", long()),
        Kind::Truncated => format!("{path}?p=%2"),
        Kind::WronglyTyped => format!("{path}?p=two"),
        Kind::Duplicated => format!("{path}?p=1&p=2"),
        Kind::NonUtf8 => format!("{path}?category=%FF%FE"),
    })
}

/// Path cases for a period page (`/papers/date/{period}` and its feeds).
fn period_path(
    prefix: &'static str,
    suffix: &'static str,
    valid: &str,
    kind: Kind,
) -> (String, Vec<u8>) {
    get(match kind {
        Kind::Oversized => format!("{prefix}/{}{suffix}", long()),
        Kind::Truncated => format!("{prefix}/{}{suffix}", &valid[..valid.len() - 1]),
        Kind::WronglyTyped => format!("{prefix}/yesterday{suffix}"),
        Kind::Duplicated => format!("{prefix}/{valid}{suffix}?sort=top&sort=new"),
        Kind::NonUtf8 => format!("{prefix}/%FF%FE{suffix}"),
    })
}

/// Path cases for a route that takes a paper id at `{id}`.
fn paper_path(template: &'static str, kind: Kind) -> (String, Vec<u8>) {
    let id = match kind {
        Kind::Oversized => long(),
        Kind::Truncated => "2401.".to_owned(),
        Kind::WronglyTyped => "not-an-id".to_owned(),
        Kind::Duplicated => "2401.00001/2401.00001".to_owned(),
        Kind::NonUtf8 => "%FF%FE".to_owned(),
    };
    get(template.replace("{id}", &id))
}

/// Search parameters (`q`, `mode`, `category`).
fn search_query(path: &'static str, kind: Kind) -> (String, Vec<u8>) {
    get(match kind {
        Kind::Oversized => format!("{path}?q={}", long()),
        Kind::Truncated => format!("{path}?q=attacks&mode=lexi"),
        Kind::WronglyTyped => format!("{path}?q=attacks&category=42"),
        Kind::Duplicated => format!("{path}?q=attacks&q=defences"),
        Kind::NonUtf8 => format!("{path}?q=%FF%FE"),
    })
}

/// Path cases for a route that takes a topic id at `{id}`.
fn topic_path(template: &'static str, kind: Kind) -> (String, Vec<u8>) {
    let id = match kind {
        Kind::Oversized => "9".repeat(20_000),
        Kind::Truncated => "1.".to_owned(),
        Kind::WronglyTyped => "machine-learning".to_owned(),
        Kind::Duplicated => "1/1".to_owned(),
        Kind::NonUtf8 => "%FF%FE".to_owned(),
    };
    get(template.replace("{id}", &id))
}

/// A token in the path (confirmation and unsubscribe links).
fn token_path(prefix: &'static str, kind: Kind) -> (String, Vec<u8>) {
    get(match kind {
        Kind::Oversized => format!("{prefix}/{}", long()),
        Kind::Truncated => format!("{prefix}/abc"),
        Kind::WronglyTyped => format!("{prefix}/%20%20"),
        Kind::Duplicated => format!("{prefix}/abc/abc"),
        Kind::NonUtf8 => format!("{prefix}/%FF%FE"),
    })
}

/// An id in the path (`{prefix}/{id}{suffix}`): comments, collections, tokens,
/// follows and sessions, whose ids are numbers or short handles.
fn id_path(prefix: &str, suffix: &str, kind: Kind) -> String {
    match kind {
        Kind::Oversized => format!("{prefix}/{}{suffix}", "9".repeat(5_000)),
        Kind::Truncated => format!("{prefix}/%2{suffix}"),
        Kind::WronglyTyped => format!("{prefix}/-1.5e3{suffix}"),
        Kind::Duplicated => format!("{prefix}/1,1{suffix}"),
        Kind::NonUtf8 => format!("{prefix}/%FF%FE{suffix}"),
    }
}

/// A form route whose only input besides the token is the id in its path; the
/// oversized case is the body, the others the path.
fn id_form(prefix: &'static str, suffix: &'static str, kind: Kind) -> (String, Vec<u8>) {
    match kind {
        Kind::Oversized => post(&format!("{prefix}/1{suffix}"), huge()),
        kind => post(&id_path(prefix, suffix, kind), "csrf={csrf}"),
    }
}

/// A JSON route whose only input is the id in its path.
fn id_json(prefix: &'static str, suffix: &'static str, kind: Kind) -> (String, Vec<u8>) {
    match kind {
        Kind::Oversized => post(&format!("{prefix}/1{suffix}"), huge()),
        kind => (id_path(prefix, suffix, kind), Vec::new()),
    }
}

/// A form body with `field` bad in each way; `rest` are the other fields (valid ones:
/// a field the form does not have is refused on its own).
fn form(path: &'static str, rest: &str, field: &str, valid: &str, kind: Kind) -> (String, Vec<u8>) {
    let mut body = if rest.is_empty() {
        b"csrf={csrf}".to_vec()
    } else {
        format!("csrf={{csrf}}&{rest}").into_bytes()
    };
    match kind {
        Kind::Oversized => return post(path, huge()),
        Kind::Truncated => body.extend(format!("&{field}=%2").bytes()),
        Kind::WronglyTyped => body.extend(format!("&{field}[]={valid}").bytes()),
        Kind::Duplicated => body.extend(format!("&{field}={valid}&{field}={valid}").bytes()),
        Kind::NonUtf8 => {
            body.extend(format!("&{field}=").bytes());
            body.extend([0xFF, 0xFE, b'x']);
        }
    }
    post(path, body)
}

/// A JSON body whose `field` is bad in each way.
fn json_cases(path: &'static str, field: &str, kind: Kind) -> (String, Vec<u8>) {
    match kind {
        Kind::Oversized => post(path, huge()),
        Kind::Truncated => post(path, format!("{{\"{field}\": \"x")),
        Kind::WronglyTyped => post(path, format!("{{\"{field}\": [42]}}")),
        Kind::Duplicated => post(path, format!("{{\"{field}\": \"a\", \"{field}\": \"b\"}}")),
        Kind::NonUtf8 => {
            let mut body = format!("{{\"{field}\": \"").into_bytes();
            body.extend([0xFF, 0xFE]);
            body.extend(b"\"}");
            post(path, body)
        }
    }
}

fn routes() -> Vec<Route> {
    vec![
        Route {
            method: Method::GET,
            name: "/topics/{id}",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| topic_path("/topics/{id}", k),
        },
        Route {
            method: Method::GET,
            name: "/topics/{id}/feed.rss",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| topic_path("/topics/{id}/feed.rss", k),
        },
        Route {
            method: Method::GET,
            name: "/api/topics/{id}",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| topic_path("/api/topics/{id}", k),
        },
        Route {
            method: Method::GET,
            name: "/",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| feed_query("/", k),
        },
        Route {
            method: Method::GET,
            name: "/papers",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| feed_query("/papers", k),
        },
        Route {
            method: Method::GET,
            name: "/papers/trending",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| feed_query("/papers/trending", k),
        },
        Route {
            method: Method::GET,
            name: "/papers/date/{period}",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| period_path("/papers/date", "", "2024-01-02", k),
        },
        Route {
            method: Method::GET,
            name: "/papers/week/{period}",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| period_path("/papers/week", "", "2024-W01", k),
        },
        Route {
            method: Method::GET,
            name: "/papers/month/{period}",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| period_path("/papers/month", "", "2024-01", k),
        },
        Route {
            method: Method::GET,
            name: "/papers/feed.rss",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| feed_query("/papers/feed.rss", k),
        },
        Route {
            method: Method::GET,
            name: "/papers/trending/feed.atom",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| feed_query("/papers/trending/feed.atom", k),
        },
        Route {
            method: Method::GET,
            name: "/papers/date/{period}/feed.rss",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| period_path("/papers/date", "/feed.rss", "2024-01-02", k),
        },
        Route {
            method: Method::GET,
            name: "/papers/week/{period}/feed.atom",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| period_path("/papers/week", "/feed.atom", "2024-W01", k),
        },
        Route {
            method: Method::GET,
            name: "/search/feed.rss",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| search_query("/search/feed.rss", k),
        },
        Route {
            method: Method::GET,
            name: "/papers/{*id}",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| paper_path("/papers/{id}", k),
        },
        Route {
            method: Method::GET,
            name: "/search",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| search_query("/search", k),
        },
        Route {
            method: Method::GET,
            name: "/users/{name}",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| feed_query("/users/alice", k),
        },
        Route {
            method: Method::GET,
            name: "/organizations/{name}",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| feed_query("/organizations/acme", k),
        },
        Route {
            method: Method::POST,
            name: "/submit",
            caller: As::Member,
            body: Carrier::Form,
            cases: |k| form("/submit", "", "reference", "2401.00001", k),
        },
        Route {
            method: Method::POST,
            name: "/login",
            caller: As::Visitor,
            body: Carrier::Form,
            cases: |k| {
                form(
                    "/login",
                    "password=correct-horse-battery",
                    "username",
                    "alice",
                    k,
                )
            },
        },
        Route {
            method: Method::POST,
            name: "/signup",
            caller: As::Visitor,
            body: Carrier::Form,
            cases: |k| {
                form(
                    "/signup",
                    "email=new%40example.org&password=correct-horse-battery",
                    "username",
                    "newcomer",
                    k,
                )
            },
        },
        Route {
            method: Method::POST,
            name: "/logout",
            caller: As::Member,
            body: Carrier::Form,
            cases: |k| match k {
                // The only field is the token; each kind of bad token.
                Kind::Oversized => post("/logout", huge()),
                Kind::Truncated => post("/logout", "csrf=%2"),
                Kind::WronglyTyped => post("/logout", "csrf[]={csrf}"),
                Kind::Duplicated => post("/logout", "csrf={csrf}&csrf={csrf}"),
                Kind::NonUtf8 => post("/logout", b"csrf=\xFF\xFE".to_vec()),
            },
        },
        Route {
            method: Method::POST,
            name: "/vote",
            caller: As::Member,
            body: Carrier::Form,
            cases: |k| form("/vote", "back=%2Fpapers", "paper", "2401.00001", k),
        },
        Route {
            method: Method::POST,
            name: "/subscribe",
            caller: As::Visitor,
            body: Carrier::Form,
            cases: |k| {
                form(
                    "/subscribe",
                    "frequency=daily",
                    "email",
                    "reader%40example.org",
                    k,
                )
            },
        },
        Route {
            method: Method::GET,
            name: "/subscriptions/confirm/{token}",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| token_path("/subscriptions/confirm", k),
        },
        Route {
            method: Method::GET,
            name: "/unsubscribe/{token}",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| token_path("/unsubscribe", k),
        },
        Route {
            method: Method::POST,
            name: "/unsubscribe/{token}",
            caller: As::Anonymous,
            body: Carrier::Form,
            cases: |k| match k {
                Kind::Oversized => post("/unsubscribe/abc", huge()),
                kind => {
                    let (path, _) = token_path("/unsubscribe", kind);
                    (path, b"List-Unsubscribe=One-Click".to_vec())
                }
            },
        },
        Route {
            method: Method::GET,
            name: "/digest/preview",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| {
                get(match k {
                    Kind::Oversized => format!("/digest/preview?token={}", long()),
                    Kind::Truncated => "/digest/preview?token=%2".to_owned(),
                    Kind::WronglyTyped => "/digest/preview?token=12345".to_owned(),
                    Kind::Duplicated => "/digest/preview?token=abc&token=abc".to_owned(),
                    Kind::NonUtf8 => "/digest/preview?token=%FF%FE".to_owned(),
                })
            },
        },
        Route {
            method: Method::GET,
            name: "/api/daily_papers",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| {
                get(match k {
                    Kind::Oversized => format!("/api/daily_papers?date={}", long()),
                    Kind::Truncated => "/api/daily_papers?date=2024-01-".to_owned(),
                    Kind::WronglyTyped => "/api/daily_papers?limit=ten".to_owned(),
                    Kind::Duplicated => "/api/daily_papers?limit=1&limit=2".to_owned(),
                    Kind::NonUtf8 => "/api/daily_papers?week=%FF%FE".to_owned(),
                })
            },
        },
        Route {
            method: Method::GET,
            name: "/api/papers",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| {
                get(match k {
                    Kind::Oversized => format!("/api/papers?cursor={}", long()),
                    Kind::Truncated => "/api/papers?limit=%2".to_owned(),
                    Kind::WronglyTyped => "/api/papers?limit=-3".to_owned(),
                    Kind::Duplicated => "/api/papers?limit=1&limit=2".to_owned(),
                    Kind::NonUtf8 => "/api/papers?cursor=%FF%FE".to_owned(),
                })
            },
        },
        Route {
            method: Method::GET,
            name: "/api/papers/search",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| match k {
                Kind::WronglyTyped => get("/api/papers/search?q=attacks&limit=1e3".to_owned()),
                kind => search_query("/api/papers/search", kind),
            },
        },
        Route {
            method: Method::GET,
            name: "/api/papers/{id}",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| paper_path("/api/papers/{id}", k),
        },
        Route {
            method: Method::GET,
            name: "/api/papers/{id}/similar",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| match k {
                Kind::Duplicated => {
                    get("/api/papers/2401.00001/similar?limit=1&limit=2".to_owned())
                }
                Kind::WronglyTyped => get("/api/papers/2401.00001/similar?limit=many".to_owned()),
                kind => paper_path("/api/papers/{id}/similar", kind),
            },
        },
        Route {
            method: Method::POST,
            name: "/api/papers/{id}/upvote",
            caller: As::Member,
            body: Carrier::None,
            cases: |k| match k {
                Kind::Oversized => ("/api/papers/2401.00001/upvote".to_owned(), huge()),
                kind => paper_path("/api/papers/{id}/upvote", kind),
            },
        },
        Route {
            method: Method::POST,
            name: "/comments",
            caller: As::Member,
            body: Carrier::Form,
            cases: |k| form("/comments", "body=hello", "paper", "2401.00001", k),
        },
        Route {
            method: Method::POST,
            name: "/collections/save",
            caller: As::Member,
            body: Carrier::Form,
            cases: |k| {
                form(
                    "/collections/save",
                    "collection=read-later",
                    "paper",
                    "2401.00001",
                    k,
                )
            },
        },
        Route {
            method: Method::POST,
            name: "/read",
            caller: As::Member,
            body: Carrier::Form,
            cases: |k| form("/read", "read=1", "paper", "2401.00001", k),
        },
        Route {
            method: Method::POST,
            name: "/follow",
            caller: As::Member,
            body: Carrier::Form,
            cases: |k| form("/follow", "value=Ada", "kind", "author", k),
        },
        Route {
            method: Method::GET,
            name: "/authors/{name}",
            caller: As::Anonymous,
            body: Carrier::None,
            cases: |k| token_path("/authors", k),
        },
        Route {
            method: Method::GET,
            name: "/collections/{id}",
            caller: As::Member,
            body: Carrier::None,
            cases: |k| token_path("/collections", k),
        },
        Route {
            method: Method::POST,
            name: "/api/papers/{id}/comments",
            caller: As::Member,
            body: Carrier::Json,
            cases: |k| json_cases("/api/papers/2401.00001/comments", "body", k),
        },
        Route {
            method: Method::POST,
            name: "/api/collections",
            caller: As::Member,
            body: Carrier::Json,
            cases: |k| json_cases("/api/collections", "title", k),
        },
        Route {
            method: Method::POST,
            name: "/api/follows",
            caller: As::Member,
            body: Carrier::Json,
            cases: |k| json_cases("/api/follows", "kind", k),
        },
        Route {
            method: Method::POST,
            name: "/api/subscriptions",
            caller: As::Anonymous,
            body: Carrier::Json,
            cases: |k| match k {
                Kind::Oversized => post("/api/subscriptions", huge()),
                Kind::Truncated => post("/api/subscriptions", r#"{"email": "reader@exa"#),
                Kind::WronglyTyped => post(
                    "/api/subscriptions",
                    r#"{"email": 42, "frequency": ["daily"]}"#,
                ),
                Kind::Duplicated => post(
                    "/api/subscriptions",
                    r#"{"email": "a@example.org", "email": "b@example.org"}"#,
                ),
                Kind::NonUtf8 => post(
                    "/api/subscriptions",
                    b"{\"email\": \"\xFF\xFE@example.org\"}".to_vec(),
                ),
            },
        },
    ]
}

/// The routes of `/new`, the account pages, tokens, comments, collections, follows and
/// the rest of the API (issues 15 and 16), in the order of `routes/mod.rs`.
fn newer_routes() -> Vec<Route> {
    let page = |name: &'static str, cases: fn(Kind) -> (String, Vec<u8>)| Route {
        method: Method::GET,
        name,
        caller: As::Anonymous,
        body: Carrier::None,
        cases,
    };
    let member = |method: Method,
                  name: &'static str,
                  body: Carrier,
                  cases: fn(Kind) -> (String, Vec<u8>)| Route {
        method,
        name,
        caller: As::Member,
        body,
        cases,
    };
    vec![
        page("/new", |k| new_query("/new", k)),
        page("/new/{category}", new_category),
        page("/new/feed.rss", |k| new_query("/new/feed.rss", k)),
        page("/new/{category}/feed.atom", |k| match k {
            Kind::Duplicated => get("/new/cs.CL/feed.atom?p=1&p=2".to_owned()),
            kind => {
                let (path, body) = new_category(kind);
                (format!("{path}/feed.atom"), body)
            }
        }),
        page("/papers/month/{period}/feed.atom", |k| {
            period_path("/papers/month", "/feed.atom", "2024-01", k)
        }),
        page("/search/feed.atom", |k| {
            search_query("/search/feed.atom", k)
        }),
        page("/subscriptions/manage/{token}", |k| {
            token_path("/subscriptions/manage", k)
        }),
        Route {
            method: Method::POST,
            name: "/subscriptions/manage/{token}",
            caller: As::Anonymous,
            body: Carrier::Form,
            cases: |k| match k {
                Kind::Oversized => post("/subscriptions/manage/abc", huge()),
                kind => {
                    let (path, _) = token_path("/subscriptions/manage", kind);
                    (path, b"frequency=weekly".to_vec())
                }
            },
        },
        member(Method::POST, "/account/tokens", Carrier::Form, |k| {
            form("/account/tokens", "", "label", "laptop", k)
        }),
        member(
            Method::POST,
            "/account/tokens/{id}/revoke",
            Carrier::Form,
            |k| id_form("/account/tokens", "/revoke", k),
        ),
        member(Method::GET, "/comments/{cid}/edit", Carrier::None, |k| {
            get(id_path("/comments", "/edit", k))
        }),
        member(
            Method::POST,
            "/comments/{cid}/edit",
            Carrier::Form,
            |k| match k {
                Kind::Truncated | Kind::NonUtf8 | Kind::Duplicated | Kind::WronglyTyped => {
                    form("/comments/1/edit", "", "body", "hello", k)
                }
                Kind::Oversized => post("/comments/1/edit", huge()),
            },
        ),
        member(Method::POST, "/comments/{cid}/delete", Carrier::Form, |k| {
            id_form("/comments", "/delete", k)
        }),
        member(
            Method::POST,
            "/comments/{cid}/report",
            Carrier::Form,
            |k| match k {
                Kind::Oversized => id_form("/comments", "/report", k),
                kind => form("/comments/1/report", "", "reason", "spam", kind),
            },
        ),
        member(Method::POST, "/comments/{cid}/hide", Carrier::Form, |k| {
            id_form("/comments", "/hide", k)
        }),
        member(
            Method::POST,
            "/comments/{cid}/restore",
            Carrier::Form,
            |k| id_form("/comments", "/restore", k),
        ),
        member(Method::POST, "/follows/{id}/delete", Carrier::Form, |k| {
            id_form("/follows", "/delete", k)
        }),
        member(Method::POST, "/collections", Carrier::Form, |k| {
            form("/collections", "description=d", "title", "Reading", k)
        }),
        member(
            Method::POST,
            "/collections/{id}/edit",
            Carrier::Form,
            |k| match k {
                Kind::Oversized => id_form("/collections", "/edit", k),
                kind => form("/collections/read-later/edit", "", "title", "T", kind),
            },
        ),
        member(
            Method::POST,
            "/collections/{id}/delete",
            Carrier::Form,
            |k| id_form("/collections", "/delete", k),
        ),
        member(
            Method::POST,
            "/collections/{id}/remove",
            Carrier::Form,
            |k| form("/collections/1/remove", "", "paper", "2401.00001", k),
        ),
        member(
            Method::GET,
            "/collections/{id}/export",
            Carrier::None,
            |k| {
                get(match k {
                    Kind::Oversized => format!("/collections/1/export?format={}", long()),
                    Kind::Truncated => "/collections/1/export?format=bib%2".to_owned(),
                    Kind::WronglyTyped => "/collections/1/export?format=42".to_owned(),
                    Kind::Duplicated => "/collections/1/export?format=csv&format=json".to_owned(),
                    Kind::NonUtf8 => "/collections/1/export?format=%FF%FE".to_owned(),
                })
            },
        ),
        page("/collections/{id}/feed.rss", |k| {
            get(id_path("/collections", "/feed.rss", k))
        }),
        member(Method::POST, "/account/password", Carrier::Form, |k| {
            form(
                "/account/password",
                "current=correct-horse-battery",
                "new_password",
                "another-long-password",
                k,
            )
        }),
        member(Method::POST, "/account/email", Carrier::Form, |k| {
            form(
                "/account/email",
                "password=correct-horse-battery",
                "email",
                "new%40example.org",
                k,
            )
        }),
        page("/account/email/confirm/{token}", |k| {
            token_path("/account/email/confirm", k)
        }),
        member(
            Method::POST,
            "/account/verify/resend",
            Carrier::Form,
            |k| match k {
                Kind::Oversized => post("/account/verify/resend", huge()),
                Kind::Truncated => post("/account/verify/resend", "csrf=%2"),
                Kind::WronglyTyped => post("/account/verify/resend", "csrf[]={csrf}"),
                Kind::Duplicated => post("/account/verify/resend", "csrf=a&csrf=b"),
                Kind::NonUtf8 => post("/account/verify/resend", b"csrf=\xFF\xFE".to_vec()),
            },
        ),
        page("/account/verify/{token}", |k| {
            token_path("/account/verify", k)
        }),
        member(Method::POST, "/account/delete", Carrier::Form, |k| {
            form("/account/delete", "", "password", "wrong-password", k)
        }),
        member(
            Method::POST,
            "/account/sessions/end-others",
            Carrier::Form,
            |k| match k {
                Kind::Oversized => post("/account/sessions/end-others", huge()),
                Kind::Truncated => post("/account/sessions/end-others", "csrf=%2"),
                Kind::WronglyTyped => post("/account/sessions/end-others", "csrf[]={csrf}"),
                Kind::Duplicated => post("/account/sessions/end-others", "csrf=a&csrf=b"),
                Kind::NonUtf8 => post("/account/sessions/end-others", b"csrf=\xFF\xFE".to_vec()),
            },
        ),
        member(
            Method::POST,
            "/account/sessions/{handle}/end",
            Carrier::Form,
            |k| id_form("/account/sessions", "/end", k),
        ),
        Route {
            method: Method::POST,
            name: "/account/password-reset",
            caller: As::Visitor,
            body: Carrier::Form,
            cases: |k| form("/account/password-reset", "", "email", "a%40example.org", k),
        },
        page("/account/password-reset/{token}", |k| {
            token_path("/account/password-reset", k)
        }),
        Route {
            method: Method::POST,
            name: "/account/password-reset/{token}",
            caller: As::Anonymous,
            body: Carrier::Form,
            cases: |k| match k {
                Kind::Oversized => post("/account/password-reset/abc", huge()),
                kind => {
                    let (path, _) = token_path("/account/password-reset", kind);
                    (path, b"password=another-long-password".to_vec())
                }
            },
        },
        Route {
            method: Method::POST,
            name: "/api/account/password-reset",
            caller: As::Anonymous,
            body: Carrier::Json,
            cases: |k| json_cases("/api/account/password-reset", "email", k),
        },
        member(Method::POST, "/api/papers/submit", Carrier::Json, |k| {
            json_cases("/api/papers/submit", "id", k)
        }),
        member(Method::POST, "/api/tokens", Carrier::Json, |k| {
            json_cases("/api/tokens", "label", k)
        }),
        member(Method::DELETE, "/api/tokens/{id}", Carrier::None, |k| {
            id_json("/api/tokens", "", k)
        }),
        page("/api/papers/{id}/comments", |k| {
            paper_path("/api/papers/{id}/comments", k)
        }),
        member(Method::PATCH, "/api/comments/{id}", Carrier::Json, |k| {
            json_cases("/api/comments/1", "body", k)
        }),
        member(Method::DELETE, "/api/comments/{id}", Carrier::None, |k| {
            id_json("/api/comments", "", k)
        }),
        member(
            Method::POST,
            "/api/comments/{id}/report",
            Carrier::Json,
            |k| json_cases("/api/comments/1/report", "reason", k),
        ),
        member(
            Method::POST,
            "/api/comments/{id}/hide",
            Carrier::None,
            |k| id_json("/api/comments", "/hide", k),
        ),
        member(
            Method::POST,
            "/api/comments/{id}/restore",
            Carrier::None,
            |k| id_json("/api/comments", "/restore", k),
        ),
        member(
            Method::POST,
            "/api/papers/{id}/read",
            Carrier::None,
            |k| match k {
                Kind::Oversized => ("/api/papers/2401.00001/read".to_owned(), huge()),
                kind => paper_path("/api/papers/{id}/read", kind),
            },
        ),
        member(
            Method::DELETE,
            "/api/papers/{id}/read",
            Carrier::None,
            |k| paper_path("/api/papers/{id}/read", k),
        ),
        member(Method::GET, "/api/collections/{id}", Carrier::None, |k| {
            get(id_path("/api/collections", "", k))
        }),
        member(
            Method::POST,
            "/api/collections/{id}/papers",
            Carrier::Json,
            |k| json_cases("/api/collections/read-later/papers", "id", k),
        ),
        member(
            Method::GET,
            "/api/collections/{id}/export",
            Carrier::None,
            |k| {
                get(match k {
                    Kind::Oversized => format!("/api/collections/1/export?format={}", long()),
                    Kind::Truncated => "/api/collections/1/export?format=cs%2".to_owned(),
                    Kind::WronglyTyped => "/api/collections/1/export?format=7".to_owned(),
                    Kind::Duplicated => {
                        "/api/collections/1/export?format=csv&format=json".to_owned()
                    }
                    Kind::NonUtf8 => id_path("/api/collections", "/export", Kind::NonUtf8),
                })
            },
        ),
        member(Method::DELETE, "/api/follows/{id}", Carrier::None, |k| {
            id_json("/api/follows", "", k)
        }),
        member(Method::GET, "/for-you", Carrier::None, |k| {
            get(match k {
                Kind::Oversized => format!("/for-you?hide_read={}", long()),
                Kind::Truncated => "/for-you?hide_read=%2".to_owned(),
                Kind::WronglyTyped => "/for-you?hide_read=any".to_owned(),
                Kind::Duplicated => "/for-you?hide_read=1&hide_read=0".to_owned(),
                Kind::NonUtf8 => "/for-you?hide_read=%FF%FE".to_owned(),
            })
        }),
        member(Method::POST, "/for-you/categories", Carrier::Form, |k| {
            form("/for-you/categories", "", "categories", "cs.CL", k)
        }),
        member(Method::POST, "/feedback", Carrier::Form, |k| {
            form("/feedback", "more=1", "paper", "2401.00001", k)
        }),
        member(
            Method::POST,
            "/api/papers/{id}/feedback",
            Carrier::Json,
            |k| json_cases("/api/papers/2401.00001/feedback", "more", k),
        ),
        member(
            Method::DELETE,
            "/api/papers/{id}/feedback",
            Carrier::None,
            |k| paper_path("/api/papers/{id}/feedback", k),
        ),
        member(Method::GET, "/api/for-you", Carrier::None, |k| {
            get(match k {
                Kind::Oversized => format!("/api/for-you?limit={}", "9".repeat(5_000)),
                Kind::Truncated => "/api/for-you?limit=%2".to_owned(),
                Kind::WronglyTyped => "/api/for-you?limit=ten".to_owned(),
                Kind::Duplicated => "/api/for-you?limit=1&limit=2".to_owned(),
                Kind::NonUtf8 => "/api/for-you?limit=%FF%FE".to_owned(),
            })
        }),
    ]
}

/// Query cases of the `/new` listings (`p`, `day`).
fn new_query(path: &'static str, kind: Kind) -> (String, Vec<u8>) {
    get(match kind {
        Kind::Oversized => format!("{path}?day={}", long()),
        Kind::Truncated => format!("{path}?day=2024-01-"),
        Kind::WronglyTyped => format!("{path}?p=two"),
        Kind::Duplicated => format!("{path}?p=1&p=2"),
        Kind::NonUtf8 => format!("{path}?day=%FF%FE"),
    })
}

/// A category in the path of `/new/{category}`.
fn new_category(kind: Kind) -> (String, Vec<u8>) {
    get(match kind {
        Kind::Oversized => format!("/new/{}", long()),
        Kind::Truncated => "/new/cs.".to_owned(),
        Kind::WronglyTyped => "/new/42".to_owned(),
        Kind::Duplicated => "/new/cs.CL?p=1&p=2".to_owned(),
        Kind::NonUtf8 => "/new/%FF%FE".to_owned(),
    })
}

/// Routes that take no input (static files, the empty forms, the API description):
/// junk parameters are ignored, as they must be, and never break them.
const NO_INPUT: &[&str] = &[
    "/static/style.css",
    "/static/app.js",
    "/login",
    "/signup",
    "/submit",
    "/subscribe",
    "/subscriptions",
    "/api/openapi.json",
    "/account",
    "/account/tokens",
    "/account/sessions",
    "/account/export",
    "/account/password-reset",
    "/admin",
    "/moderation",
    "/following",
    "/collections",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/tokens",
    "/api/admin/status",
    "/api/collections",
    "/api/follows",
    "/topics",
];

#[derive(Default)]
struct Outbox(Mutex<Vec<Mail>>);

impl Deliver for Outbox {
    fn deliver(&self, mail: &Mail) -> Result<(), SendError> {
        self.0.lock().expect("outbox").push(mail.clone());
        Ok(())
    }
}

/// The seeded site with digests and a mailer, so the subscription routes get as far
/// as reading their input.
fn site() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    seed(dir.path());
    let links = Links::new(
        PublicUrl::parse("http://papers.test").expect("url"),
        Secret::new(b"a test secret of enough bytes".to_vec()).expect("secret"),
    );
    let digests = Arc::new(Digests::new(links, Settings::new("test-model")).expect("digests"));
    let mailer: Arc<dyn Deliver + Send + Sync> = Arc::new(Outbox::default());
    let state = AppState::open(AppConfig::new(dir.path(), "http://papers.test"))
        .expect("open app")
        .with_digests(digests, Some(mailer));
    let router = papers_web::router(state.clone());
    TestApp {
        dir,
        state,
        router,
        postgres: None,
    }
}

/// The cookie header and CSRF token of each kind of caller.
struct Callers {
    visitor: (String, String),
    member: (String, String),
}

async fn callers(app: &TestApp) -> Callers {
    let form = app.get("/login").await;
    let pre = set_cookie(&form.headers, "papers_csrf").expect("pre-session cookie");
    let token = csrf_in(&form.body).expect("csrf field");
    let member = app.sign_up("prober").await;
    let member_csrf = app.csrf_for(&member).await;
    // An admin (and so a moderator), so the admin and moderation routes get as far as
    // their input too.
    let store = papers_store::Store::open(app.dir.path()).expect("store");
    let prober = store
        .user_by_name("prober")
        .expect("sql")
        .expect("the member");
    store
        .grant_role(prober.id, papers_store::Role::Admin, chrono::Utc::now())
        .expect("grant");
    Callers {
        visitor: (format!("papers_csrf={pre}"), token),
        member: (member, member_csrf),
    }
}

fn with_token(bytes: &[u8], token: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(at) = rest.windows(6).position(|w| w == b"{csrf}") {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(token.as_bytes());
        rest = &rest[at + 6..];
    }
    out.extend_from_slice(rest);
    out
}

async fn send(app: &TestApp, route: &Route, callers: &Callers, kind: Kind) -> (String, Reply) {
    let (path, body) = (route.cases)(kind);
    let (cookie, token) = match route.caller {
        As::Anonymous => (None, ""),
        As::Visitor => (Some(callers.visitor.0.as_str()), callers.visitor.1.as_str()),
        As::Member => (Some(callers.member.0.as_str()), callers.member.1.as_str()),
    };
    let body = with_token(&body, token);
    let mut builder = Request::builder().method(route.method.clone()).uri(&path);
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    if route.caller == As::Member {
        builder = builder.header("x-csrf-token", token);
    }
    builder = match route.body {
        Carrier::None => builder,
        Carrier::Form => builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
        Carrier::Json => builder.header(header::CONTENT_TYPE, "application/json"),
    };
    // As a real client would say; the body limit refuses on it before reading.
    if !body.is_empty() {
        builder = builder.header(header::CONTENT_LENGTH, body.len());
    }
    let request = builder.body(Body::from(body)).expect("request");
    let shown = if path.len() > 80 {
        format!("{}…", &path[..80])
    } else {
        path
    };
    (shown, app.request(request).await)
}

/// The message a refusal carries: the JSON `error`, else the text of the page.
fn message(reply: &Reply) -> String {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&reply.body) {
        return value["error"].as_str().unwrap_or_default().to_owned();
    }
    reply.body.trim().to_owned()
}

#[tokio::test]
async fn every_route_refuses_each_kind_of_bad_input_with_a_4xx_and_a_message() {
    let app = site();
    let callers = callers(&app).await;
    let mut problems = Vec::new();
    for route in routes().iter().chain(&newer_routes()) {
        for kind in KINDS {
            let (path, reply) = send(&app, route, &callers, kind).await;
            let text = message(&reply);
            if !reply.status.is_client_error() || text.is_empty() {
                problems.push(format!(
                    "{} {} {kind:?} ({path}): {} {:?}",
                    route.method,
                    route.name,
                    reply.status,
                    text.chars().take(120).collect::<String>()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Yes/no parameters take their documented values only, and a form refuses a field it
/// does not have (a misspelling, or PHP-style `name[]`): each a 400 that names the
/// parameter or field, where they used to be read as "no" or dropped.
#[tokio::test]
async fn flags_and_form_fields_outside_their_documented_values_are_named_in_a_400() {
    let app = site();
    let callers = callers(&app).await;
    let member = Some(callers.member.0.as_str());
    for (path, name) in [
        ("/for-you?hide_read=any", "hide_read"),
        ("/papers?hide_read=maybe", "hide_read"),
        ("/papers/trending?hide_read=yes", "hide_read"),
        ("/papers/feed.rss?hide_read=2", "hide_read"),
        ("/search?q=attacks&hide_read=sometimes", "hide_read"),
        ("/users/prober?hide_read=x", "hide_read"),
        ("/papers/2401.00001?has_code=yes", "has_code"),
        ("/papers/2401.00001?exclude_authors=2", "exclude_authors"),
    ] {
        for cookie in [None, member] {
            let reply = app.get_as(path, cookie).await;
            assert_eq!(
                reply.status.as_u16(),
                400,
                "{path} ({cookie:?}): {}",
                reply.body
            );
            assert!(
                message(&reply).contains(name),
                "{path}: {}",
                message(&reply)
            );
        }
    }
    // The documented values still work.
    for path in [
        "/for-you?hide_read=1",
        "/for-you?hide_read=0",
        "/papers?hide_read=on",
    ] {
        let reply = app.get_as(path, member).await;
        assert!(reply.status.is_success(), "{path}: {}", reply.status);
    }

    let token = &callers.member.1;
    for (path, body, field) in [
        (
            "/for-you/categories",
            format!("csrf={token}&categories[]=cs.CL"),
            "categories[]",
        ),
        (
            "/for-you/categories",
            format!("csrf={token}&categores=cs.CL"),
            "categores",
        ),
        (
            "/follow",
            format!("csrf={token}&kind=author&value=Ada&bak=/"),
            "bak",
        ),
        (
            "/collections",
            format!("csrf={token}&title=T&public[]=1"),
            "public[]",
        ),
        (
            "/read",
            format!("csrf={token}&paper=2401.00001&read=1&unread=1"),
            "unread",
        ),
        (
            "/account/tokens",
            format!("csrf={token}&label=l&labels[]=m"),
            "labels[]",
        ),
        // A yes/no field outside its values: named as the parameters are.
        (
            "/collections",
            format!("csrf={token}&title=T&public=yes"),
            "public",
        ),
    ] {
        let reply = app.post_form(path, &body, Some(&callers.member.0)).await;
        assert_eq!(reply.status.as_u16(), 400, "{path} {body}: {}", reply.body);
        let text = message(&reply);
        assert!(
            text.contains(&format!("`{field}`")) || text.contains(&format!("{field} must be")),
            "{path}: {text}"
        );
    }
    let reply = app
        .post_form(
            "/for-you/categories",
            &format!("csrf={token}&categories=cs.CL"),
            Some(&callers.member.0),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 303, "{}", reply.body);
}

#[tokio::test]
async fn routes_without_input_ignore_junk_parameters() {
    let app = site();
    let callers = callers(&app).await;
    for path in NO_INPUT {
        for junk in [format!("?x={}", long()), "?x=%2&x=%FF%FE&x[]=1".to_owned()] {
            let uri = format!("{path}{junk}");
            let reply = app.get_as(&uri, Some(&callers.member.0)).await;
            assert!(
                reply.status.is_success() || reply.status.is_redirection(),
                "{path} with junk: {}",
                reply.status
            );
        }
    }
}
