//! `/admin`: what runs on this node and how far behind it is, from the status report.

use maud::{Markup, html};

use super::{Viewer, page};
use crate::status::StatusReport;

pub(crate) fn admin_page(viewer: &Viewer, report: &StatusReport) -> Markup {
    let store = &report.store;
    page(
        "Admin",
        viewer,
        html! {
            section.admin {
                h1 { "Admin" }
                p { "As of " (report.generated_at) ". The same report as JSON: " a href="/api/admin/status" { "/api/admin/status" } "; metrics for Prometheus: " a href="/metrics" { "/metrics" } "." }
                h2 { "Indexes" }
                p { "Newest change in the log: " (report.change_log.newest) "." }
                @if report.indexes.is_empty() {
                    p { "This node reports no indexes." }
                } @else {
                    table {
                        thead { tr { th { "Index" } th { "Covers up to" } th { "Changes behind" } th { "Lag" } } }
                        tbody {
                            @for index in &report.indexes {
                                tr {
                                    td { (index.name) }
                                    td { (index.watermark) }
                                    td { (index.behind) }
                                    td { (index.lag_seconds) " s" }
                                }
                            }
                        }
                    }
                }
                h2 { "Jobs" }
                @if report.jobs.is_empty() {
                    p { "No background job has run against this store yet." }
                } @else {
                    table {
                        thead { tr { th { "Job" } th { "Last run" } th { "Result" } th { "Records" } th { "Next run" } th { "Last success" } th { "Last error" } } }
                        tbody {
                            @for job in &report.jobs {
                                tr {
                                    td { (job.name) }
                                    td { (job.last_started) }
                                    td { (job.result.unwrap_or("running")) }
                                    td { (job.records) }
                                    td { (job.next_run.as_deref().unwrap_or("-")) }
                                    td { (job.last_success.as_deref().unwrap_or("never")) }
                                    td { (job.last_error.as_deref().unwrap_or("-")) }
                                }
                            }
                        }
                    }
                }
                h2 { "Embeddings" }
                @match &report.embeddings {
                    Some(embeddings) => p { (embeddings.backlog) " papers wait for a vector of " code { (embeddings.model) } "." },
                    None => p { "No embedding model on this node: search is by keywords." },
                }
                h2 { "Store" }
                table {
                    tbody {
                        tr { th { "Engine" } td { (store.engine) } }
                        tr { th { "Size" } td { (store.bytes.map_or_else(|| "unknown".to_owned(), size)) } }
                        tr { th { "Papers" } td { (store.papers) } }
                        tr { th { "In the daily feed" } td { (store.in_feed) } }
                        tr { th { "Vectors" } td { (store.embeddings) } }
                        tr { th { "Members" } td { (store.members) } }
                        tr { th { "Sessions" } td { (store.sessions) } }
                        tr { th { "Access tokens" } td { (store.access_tokens) } }
                        tr { th { "Subscriptions" } td { (store.subscriptions) } }
                        tr { th { "Votes" } td { (store.votes) } }
                        tr { th { "Changes logged" } td { (store.changes) } }
                    }
                }
            }
        },
    )
}

/// Bytes in the largest unit that keeps a number of at least one.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(super::size(512), "512 B");
        assert_eq!(super::size(1536), "1.5 KiB");
        assert_eq!(super::size(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
