//! Integration tests of papers-web: pages, the JSON API, feeds and security through
//! the router without a socket, and a real headless Chromium against a served app.

mod account_holes;
mod accounts;
mod api;
mod bad_input;
mod browser;
mod collection_cache;
mod common;
mod community;
mod digest;
mod engines;
mod feeds;
mod for_you;
mod mail;
mod mailbox;
mod new;
mod ops;
mod pages;
mod real_data;
mod security;
mod submit;
mod subscriptions;
mod tokens;
mod topics;
