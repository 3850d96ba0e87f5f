//! The API's route table, from which both the router (see `routes::api`) and the
//! OpenAPI document are built, so the two cannot drift apart.

use serde_json::{Map, Value, json};

/// Which handler serves a route; matched exhaustively when the router is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    DailyPapers,
    ListPapers,
    SearchPapers,
    GetPaper,
    SimilarPapers,
    Upvote,
    SubmitPaper,
    Subscribe,
    ListTokens,
    CreateToken,
    RevokeToken,
    AdminStatus,
    ListTopics,
    GetTopic,
    ListComments,
    PostComment,
    EditComment,
    DeleteComment,
    ReportComment,
    HideComment,
    RestoreComment,
    MarkRead,
    MarkUnread,
    SetFeedback,
    ClearFeedback,
    ForYou,
    ListCollections,
    CreateCollection,
    GetCollection,
    AddToCollection,
    ExportCollection,
    ListFollows,
    Follow,
    Unfollow,
    OpenApi,
}

#[derive(Debug, Clone, Copy)]
pub struct ApiParam {
    pub name: &'static str,
    /// `query` or `path`.
    pub location: &'static str,
    pub required: bool,
    pub kind: &'static str,
    pub description: &'static str,
}

#[derive(Debug, Clone, Copy)]
pub struct ApiRoute {
    /// Lower-case HTTP method.
    pub method: &'static str,
    /// In axum's (and OpenAPI's) `{param}` syntax.
    pub path: &'static str,
    pub operation: Operation,
    pub summary: &'static str,
    pub parameters: &'static [ApiParam],
}

const fn query(name: &'static str, kind: &'static str, description: &'static str) -> ApiParam {
    ApiParam {
        name,
        location: "query",
        required: false,
        kind,
        description,
    }
}

const COMMENT_ID: ApiParam = ApiParam {
    name: "id",
    location: "path",
    required: true,
    kind: "integer",
    description: "the comment's id",
};

const COLLECTION_ID: ApiParam = ApiParam {
    name: "id",
    location: "path",
    required: true,
    kind: "string",
    description: "the collection's id, or read-later for the member's Read later list",
};

const ID: ApiParam = ApiParam {
    name: "id",
    location: "path",
    required: true,
    kind: "string",
    description: "arXiv id without version; an old-style id keeps its slash (hep-th/9901001) or percent-encodes it (hep-th%2F9901001)",
};

pub const API_ROUTES: &[ApiRoute] = &[
    ApiRoute {
        method: "get",
        path: "/api/topics",
        operation: Operation::ListTopics,
        summary: "Every topic of the topic map (broad topics, then subtopics): name, terms, size, parent, representative paper and growth over the last four weeks.",
        parameters: &[],
    },
    ApiRoute {
        method: "get",
        path: "/api/topics/{id}",
        operation: Operation::GetTopic,
        summary: "One topic with its subtopics, neighbouring topics, top papers and papers per month.",
        parameters: &[ApiParam {
            name: "id",
            location: "path",
            required: true,
            kind: "integer",
            description: "topic id (stable across rebuilds of the map)",
        }],
    },
    ApiRoute {
        method: "get",
        path: "/api/daily_papers",
        operation: Operation::DailyPapers,
        summary: "Daily papers, as Hugging Face's endpoint: the latest feed day unless a date, week, month or submitter is given. A Link header points at the next page.",
        parameters: &[
            query("date", "string", "feed day, YYYY-MM-DD"),
            query("week", "string", "ISO week, YYYY-Www"),
            query("month", "string", "YYYY-MM"),
            query("submitter", "string", "username of the submitter"),
            query("sort", "string", "publishedAt (default) or trending"),
            query("p", "integer", "page, 0-based"),
            query("limit", "integer", "1 to 100, default 50"),
        ],
    },
    ApiRoute {
        method: "get",
        path: "/api/papers",
        operation: Operation::ListPapers,
        summary: "All papers in key order, keyset-paginated: pass the previous response's Link cursor.",
        parameters: &[
            query("cursor", "string", "opaque cursor from the Link header"),
            query("limit", "integer", "1 to 100, default 50"),
        ],
    },
    ApiRoute {
        method: "get",
        path: "/api/papers/search",
        operation: Operation::SearchPapers,
        summary: "Hybrid search over titles and abstracts.",
        parameters: &[
            ApiParam {
                name: "q",
                location: "query",
                required: true,
                kind: "string",
                description: "query, at most 250 characters",
            },
            query("limit", "integer", "1 to 120, default 50"),
            query("mode", "string", "hybrid (default), lexical or semantic"),
        ],
    },
    ApiRoute {
        method: "get",
        path: "/api/papers/{id}",
        operation: Operation::GetPaper,
        summary: "One paper.",
        parameters: &[ID],
    },
    ApiRoute {
        method: "get",
        path: "/api/papers/{id}/similar",
        operation: Operation::SimilarPapers,
        summary: "Papers similar to one paper.",
        parameters: &[ID, query("limit", "integer", "1 to 50, default 10")],
    },
    ApiRoute {
        method: "post",
        path: "/api/papers/{id}/upvote",
        operation: Operation::Upvote,
        summary: "Toggle the logged-in member's upvote. Needs the session cookie and the X-CSRF-Token header.",
        parameters: &[ID],
    },
    ApiRoute {
        method: "post",
        path: "/api/papers/submit",
        operation: Operation::SubmitPaper,
        summary: "Submit an arXiv paper to today's feed as the member. JSON body: id (an arXiv id, versioned id, arXiv abs/pdf URL or Hugging Face paper URL). A paper the site does not have is fetched from arXiv. 201 with the paper when added; 200 with the existing entry when it is already in the feed; 404 when arXiv has no such paper; 422 when it is older than the submission window; 429 (Retry-After) past the member's hourly limit; 503 (Retry-After) when arXiv cannot be reached (nothing is stored).",
        parameters: &[],
    },
    ApiRoute {
        method: "post",
        path: "/api/subscriptions",
        operation: Operation::Subscribe,
        summary: "Subscribe an address to the email digest (double opt-in). JSON body: email, frequency (daily|weekly), optional categories and queries. Always answers 202 {\"status\":\"check_your_inbox\"}: a new address is mailed a confirmation link; an address that already has a subscription is left unchanged and mailed a link to manage it. At most one such mail per address every 10 minutes; requests per client address are limited (429).",
        parameters: &[],
    },
    ApiRoute {
        method: "get",
        path: "/api/tokens",
        operation: Operation::ListTokens,
        summary: "The member's personal access tokens: id, label, created, lastUsed (never the tokens themselves).",
        parameters: &[],
    },
    ApiRoute {
        method: "post",
        path: "/api/tokens",
        operation: Operation::CreateToken,
        summary: "Make a personal access token. JSON body: label. 201 with the token, shown only in this answer. Needs a session (cookie and X-CSRF-Token): a token cannot make tokens.",
        parameters: &[],
    },
    ApiRoute {
        method: "delete",
        path: "/api/tokens/{id}",
        operation: Operation::RevokeToken,
        summary: "Revoke one of the member's tokens. 204; 404 for an id that is not theirs.",
        parameters: &[ApiParam {
            name: "id",
            location: "path",
            required: true,
            kind: "integer",
            description: "the token's id, from the list",
        }],
    },
    ApiRoute {
        method: "get",
        path: "/api/admin/status",
        operation: Operation::AdminStatus,
        summary: "For admins: the change log, each index's lag behind it, the embedding backlog, the store's size and counts. 403 for other members.",
        parameters: &[],
    },
    ApiRoute {
        method: "get",
        path: "/api/papers/{id}/comments",
        operation: Operation::ListComments,
        summary: "A paper's discussion: threads oldest first (the newest last), each with its replies. Each comment has id, paper, parent, author (null for a deleted member), body (Markdown; null when deleted or hidden), html (rendered and sanitised), created, edited, deleted, hidden.",
        parameters: &[ID],
    },
    ApiRoute {
        method: "post",
        path: "/api/papers/{id}/comments",
        operation: Operation::PostComment,
        summary: "Comment on a paper as the member. JSON body: body (Markdown, 1 to 10,000 characters), parent (optional: the id of a top-level comment to reply to). 201 with the comment; 400 for an empty body or a parent that is a reply or on another paper; 429 (Retry-After) past the member's hourly limit.",
        parameters: &[ID],
    },
    ApiRoute {
        method: "patch",
        path: "/api/comments/{id}",
        operation: Operation::EditComment,
        summary: "Edit the member's own comment. JSON body: body. The comment, marked edited; 403 for another member's comment.",
        parameters: &[COMMENT_ID],
    },
    ApiRoute {
        method: "delete",
        path: "/api/comments/{id}",
        operation: Operation::DeleteComment,
        summary: "Delete the member's own comment (replies to it stay). 204; 403 for another member's comment.",
        parameters: &[COMMENT_ID],
    },
    ApiRoute {
        method: "post",
        path: "/api/comments/{id}/report",
        operation: Operation::ReportComment,
        summary: "Report a comment to the moderators. JSON body (optional): reason. 202.",
        parameters: &[COMMENT_ID],
    },
    ApiRoute {
        method: "post",
        path: "/api/comments/{id}/hide",
        operation: Operation::HideComment,
        summary: "For moderators: hide a comment from everyone else. The comment after; 403 for other members.",
        parameters: &[COMMENT_ID],
    },
    ApiRoute {
        method: "post",
        path: "/api/comments/{id}/restore",
        operation: Operation::RestoreComment,
        summary: "For moderators: show a hidden comment again. The comment after; 403 for other members.",
        parameters: &[COMMENT_ID],
    },
    ApiRoute {
        method: "post",
        path: "/api/papers/{id}/read",
        operation: Operation::MarkRead,
        summary: "Mark a paper read for the member (opening its page does too). 200 {\"id\", \"read\": true}.",
        parameters: &[ID],
    },
    ApiRoute {
        method: "delete",
        path: "/api/papers/{id}/read",
        operation: Operation::MarkUnread,
        summary: "Mark a paper unread for the member. 200 {\"id\", \"read\": false}.",
        parameters: &[ID],
    },
    ApiRoute {
        method: "post",
        path: "/api/papers/{id}/feedback",
        operation: Operation::SetFeedback,
        summary: "The member's private \"more like this\" (true) or \"less like this\" (false) on a paper, which For you ranks by. JSON body: more (boolean). 200 {\"id\", \"more\"}.",
        parameters: &[ID],
    },
    ApiRoute {
        method: "delete",
        path: "/api/papers/{id}/feedback",
        operation: Operation::ClearFeedback,
        summary: "Clears the member's more / less like this on a paper. 200 {\"id\", \"more\": null}.",
        parameters: &[ID],
    },
    ApiRoute {
        method: "get",
        path: "/api/for-you",
        operation: Operation::ForYou,
        summary: "The recent papers ranked for the member from their upvotes, saves and more / less like this, or, without any, the trending papers of the categories they picked on /for-you. {\"basis\": \"signal\"|\"categories\"|\"none\", \"picked\", \"papers\": [paper fields and \"reason\", one line]}.",
        parameters: &[query("limit", "integer", "papers, 1 to 100 (default 30)")],
    },
    ApiRoute {
        method: "get",
        path: "/api/collections",
        operation: Operation::ListCollections,
        summary: "The member's collections (\"Read later\" first): id, title, description, public, readLater, owner, url, paperCount.",
        parameters: &[],
    },
    ApiRoute {
        method: "post",
        path: "/api/collections",
        operation: Operation::CreateCollection,
        summary: "Make a collection. JSON body: title, description (optional), public (optional, default false: only the member sees it). 201 with its id and url.",
        parameters: &[],
    },
    ApiRoute {
        method: "get",
        path: "/api/collections/{id}",
        operation: Operation::GetCollection,
        summary: "A collection with its papers (id, title, authors, published, categories, url, note, added), most recently added first. A private collection is 404 to everyone but its owner.",
        parameters: &[COLLECTION_ID],
    },
    ApiRoute {
        method: "post",
        path: "/api/collections/{id}/papers",
        operation: Operation::AddToCollection,
        summary: "Add a paper to the member's collection (or change its note). JSON body: id (arXiv id), note (optional). 201.",
        parameters: &[COLLECTION_ID],
    },
    ApiRoute {
        method: "get",
        path: "/api/collections/{id}/export",
        operation: Operation::ExportCollection,
        summary: "A collection as a file: BibTeX, CSV (id, title, authors, published, categories, url, note, added) or JSON.",
        parameters: &[
            COLLECTION_ID,
            query("format", "string", "bibtex, csv or json (default)"),
        ],
    },
    ApiRoute {
        method: "get",
        path: "/api/follows",
        operation: Operation::ListFollows,
        summary: "What the member follows: id, kind, value, created.",
        parameters: &[],
    },
    ApiRoute {
        method: "post",
        path: "/api/follows",
        operation: Operation::Follow,
        summary: "Follow an author (by name as papers list it), an organization (its account name), a category or a saved search. JSON body: kind (author|organization|category|query), value. 201 with the follow; 200 when already followed. /following lists the newest papers they bring.",
        parameters: &[],
    },
    ApiRoute {
        method: "delete",
        path: "/api/follows/{id}",
        operation: Operation::Unfollow,
        summary: "Stop following. 204; 404 for an id that is not the member's.",
        parameters: &[ApiParam {
            name: "id",
            location: "path",
            required: true,
            kind: "integer",
            description: "the follow's id, from the list",
        }],
    },
    ApiRoute {
        method: "get",
        path: "/api/openapi.json",
        operation: Operation::OpenApi,
        summary: "This document.",
        parameters: &[],
    },
];

/// The OpenAPI 3.1 document for [`API_ROUTES`].
pub fn openapi_document(public_url: &str) -> Value {
    let mut paths = Map::new();
    for route in API_ROUTES {
        let parameters: Vec<Value> = route
            .parameters
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "in": p.location,
                    "required": p.required,
                    "description": p.description,
                    "schema": { "type": p.kind },
                })
            })
            .collect();
        let operation = json!({
            "operationId": format!("{:?}", route.operation),
            "summary": route.summary,
            "parameters": parameters,
            "responses": {
                "200": { "description": "OK", "content": { "application/json": {} } },
                "400": { "$ref": "#/components/responses/Error" },
                "401": { "$ref": "#/components/responses/Error" },
                "403": { "$ref": "#/components/responses/Error" },
                "404": { "$ref": "#/components/responses/Error" },
                "422": { "$ref": "#/components/responses/Error" },
                "429": { "$ref": "#/components/responses/Error" },
                "503": { "$ref": "#/components/responses/Error" },
            },
        });
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(methods) = entry {
            methods.insert(route.method.to_owned(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Daily Papers API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Compatible with Hugging Face's daily papers API, plus similar papers, upvotes, submissions, access tokens, comments, collections, reading state and follows. Member routes take the session cookie with the X-CSRF-Token header, or Authorization: Bearer with a personal access token (no CSRF header then).",
        },
        "servers": [{ "url": public_url }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "accessToken": { "type": "http", "scheme": "bearer", "description": "A personal access token (papers_pat_…), made at /account/tokens or with `papers token create`." },
                "session": { "type": "apiKey", "in": "cookie", "name": "papers_session", "description": "The site's session cookie; unsafe methods also need the X-CSRF-Token header." },
            },
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": { "application/json": { "schema": {
                        "type": "object",
                        "properties": { "error": { "type": "string" } },
                        "required": ["error"],
                    } } },
                },
            },
        },
    })
}
