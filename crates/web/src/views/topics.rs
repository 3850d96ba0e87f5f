//! The map of the field: `/topics` (a server-rendered SVG map of the broad topics,
//! rising topics, the list) and `/topics/{id}` (one topic: its papers, a chart of
//! papers per month, subtopics, neighbours, feeds). Plain SVG with links and
//! `<title>` tooltips: it works without JavaScript and under the site's CSP
//! (presentation attributes only, no `style`).

use chrono::NaiveDate;
use maud::{Markup, html};

use super::feed::paper_card;
use super::{NavLink, ViewItem, Viewer, page};

/// One topic as lists and the map show it.
#[derive(Debug, Clone)]
pub(crate) struct TopicSummary {
    pub id: u32,
    pub name: String,
    pub size: usize,
    /// Papers in the last four weeks, and per four weeks before.
    pub recent: usize,
    pub baseline: f64,
    pub growth: f64,
    pub position: [f32; 2],
}

impl TopicSummary {
    pub(crate) fn href(&self) -> String {
        format!("/topics/{}", self.id)
    }
}

/// The `/topics` page's content.
#[derive(Debug, Clone)]
pub(crate) struct TopicsView {
    pub topics: Vec<TopicSummary>,
    pub rising: Vec<TopicSummary>,
    /// The day the growth window ends (exclusive).
    pub growth_until: NaiveDate,
    pub papers: usize,
}

/// One topic's page content.
#[derive(Debug, Clone)]
pub(crate) struct TopicView {
    pub topic: TopicSummary,
    pub terms: Vec<String>,
    pub parent: Option<NavLink>,
    pub representative: Option<ViewItem>,
    pub trending_week: Vec<ViewItem>,
    pub top_month: Vec<ViewItem>,
    /// Most upvoted, then the most typical.
    pub top: Vec<ViewItem>,
    pub newest: Vec<ViewItem>,
    pub monthly: Vec<(NaiveDate, usize)>,
    pub subtopics: Vec<TopicSummary>,
    pub neighbours: Vec<TopicSummary>,
    /// The member's follow of this topic, if they follow it.
    pub following: Option<papers_store::Follow>,
}

pub(crate) fn growth_label(topic: &TopicSummary) -> String {
    format!(
        "{} papers in the last 4 weeks, {:.1} usual ({:+.0} %)",
        topic.recent,
        topic.baseline,
        topic.growth * 100.0
    )
}

pub(crate) fn topics_page(view: Option<&TopicsView>, viewer: &Viewer) -> Markup {
    page(
        "Topics",
        viewer,
        html! {
            h1 { "Topics" }
            @match view {
                None => p.empty { "No topic map yet: it is built from the papers' vectors (papers index, then papers topics)." },
                Some(view) => {
                    p.explanation {
                        (view.papers) " papers in " (view.topics.len()) " topics, clustered by meaning from their embeddings. "
                        "Size is the number of papers; colour is growth over the 4 weeks up to "
                        (view.growth_until.pred_opt().unwrap_or(view.growth_until)) " against the year before "
                        "(red rising, blue falling)."
                    }
                    (topic_map(&view.topics))
                    @if !view.rising.is_empty() {
                        section.rising {
                            h2 { "Rising topics" }
                            ol { @for topic in &view.rising { li { a href=(topic.href()) { (topic.name) } " · " (growth_label(topic)) } } }
                        }
                    }
                    section.topic-list {
                        h2 { "All topics" }
                        (topic_list(&view.topics))
                    }
                }
            }
        },
    )
}

fn topic_list(topics: &[TopicSummary]) -> Markup {
    html! {
        ul.topics {
            @for topic in topics {
                li { a href=(topic.href()) { (topic.name) } " · " (topic.size) " papers · " (format!("{:+.0} %", topic.growth * 100.0)) }
            }
        }
    }
}

/// Width and height of the map's drawing area.
const MAP_SIZE: (f32, f32) = (960.0, 600.0);
const MARGIN: f32 = 50.0;

/// The SVG map: one circle per topic at its projected position, its area
/// proportional to its papers, its colour its growth; each a link with a tooltip.
fn topic_map(topics: &[TopicSummary]) -> Markup {
    let largest = topics.iter().map(|t| t.size).max().unwrap_or(1).max(1) as f32;
    let (width, height) = MAP_SIZE;
    html! {
        figure.topic-map {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (width + 2.0 * MARGIN) " " (height + 2.0 * MARGIN) }
                role="img" aria-label="Map of topics" {
                @for topic in topics {
                    @let x = MARGIN + topic.position[0] * width;
                    @let y = MARGIN + topic.position[1] * height;
                    @let radius = 6.0 + 34.0 * (topic.size as f32 / largest).sqrt();
                    a href=(topic.href()) {
                        title { (topic.name) " · " (topic.size) " papers · " (growth_label(topic)) }
                        circle cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r=(format!("{radius:.1}"))
                            fill=(growth_colour(topic.growth)) fill-opacity="0.75" stroke="#333" stroke-width="1" {}
                        text x=(format!("{x:.1}")) y=(format!("{:.1}", y + radius + 14.0)) text-anchor="middle" font-size="13" fill="currentColor" {
                            (topic.name.split(", ").next().unwrap_or(&topic.name))
                        }
                    }
                }
            }
        }
    }
}

/// Blue for shrinking, grey for steady, red for growing (saturating at ±100 %).
pub(crate) fn growth_colour(growth: f64) -> String {
    let t = growth.clamp(-1.0, 1.0);
    let (r, g, b) = if t >= 0.0 {
        (160.0 + 95.0 * t, 160.0 - 100.0 * t, 160.0 - 110.0 * t)
    } else {
        (160.0 + 110.0 * t, 160.0 + 20.0 * t, 160.0 - 90.0 * t)
    };
    format!("#{:02x}{:02x}{:02x}", r as u8, g as u8, b as u8)
}

pub(crate) fn topic_page(view: &TopicView, viewer: &Viewer) -> Markup {
    let topic = &view.topic;
    let back = topic.href();
    let papers = |items: &[ViewItem]| {
        html! { ol.papers { @for item in items { li { (paper_card(item, viewer, &back)) } } } }
    };
    page(
        &topic.name,
        viewer,
        html! {
            article.topic-page {
                h1 { (topic.name) }
                @if let Some(parent) = &view.parent {
                    p.parent { "Part of " a href=(parent.href) { (parent.label) } }
                }
                p.terms { @for (index, term) in view.terms.iter().enumerate() {
                    @if index > 0 { " · " }
                    a href={ "/search?q=" (super::encode(&format!("\"{term}\""))) "&topic=" (topic.id) } { (term) }
                } }
                p.facts {
                    (topic.size) " papers · " (growth_label(topic)) " · "
                    a href={ (back) "/feed.rss" } { "RSS" } " · "
                    a href={ (back) "/feed.atom" } { "Atom" } " · "
                    a href={ "/search?topic=" (topic.id) "&q=" (super::encode(view.terms.first().map_or("", String::as_str))) } { "Search in this topic" }
                    " " (super::follows::follow_button(papers_store::FollowKind::Topic, &topic.id.to_string(), view.following.as_ref(), viewer, &back))
                }
                @if !view.monthly.is_empty() {
                    section.monthly { h2 { "Papers per month" } (month_chart(&view.monthly)) }
                }
                @if let Some(item) = &view.representative {
                    section { h2 { "Most typical paper" } ol.papers { li { (paper_card(item, viewer, &back)) } } }
                }
                @if !view.trending_week.is_empty() {
                    section { h2 { "Trending this week" } (papers(&view.trending_week)) }
                }
                @if !view.top_month.is_empty() {
                    section { h2 { "Top this month" } (papers(&view.top_month)) }
                }
                section { h2 { "Top papers" } (papers(&view.top)) }
                section { h2 { "Newest" } (papers(&view.newest)) }
                @if !view.subtopics.is_empty() {
                    section.subtopics { h2 { "Subtopics" } (topic_list(&view.subtopics)) }
                }
                @if !view.neighbours.is_empty() {
                    section.neighbours { h2 { "Neighbouring topics" } (topic_list(&view.neighbours)) }
                }
            }
        },
    )
}

/// Months shown in the chart at most (the latest ones).
const CHART_MONTHS: usize = 36;

/// Papers per month as SVG bars, each with its month and count as a tooltip.
fn month_chart(monthly: &[(NaiveDate, usize)]) -> Markup {
    let shown = &monthly[monthly.len().saturating_sub(CHART_MONTHS)..];
    let highest = shown.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1) as f32;
    let (width, height, bar) = (720.0_f32, 160.0_f32, 720.0 / shown.len().max(1) as f32);
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (width) " " (height + 20.0) } role="img" aria-label="Papers per month" {
            @for (index, (month, count)) in shown.iter().enumerate() {
                @let tall = height * *count as f32 / highest;
                rect x=(format!("{:.1}", index as f32 * bar + 1.0)) y=(format!("{:.1}", height - tall))
                    width=(format!("{:.1}", (bar - 2.0).max(1.0))) height=(format!("{tall:.1}")) fill="#c0504d" {
                    title { (month.format("%B %Y")) ": " (count) " papers" }
                }
            }
            @if let (Some((first, _)), Some((last, _))) = (shown.first(), shown.last()) {
                text x="0" y=(height + 16.0) font-size="12" fill="currentColor" { (first.format("%b %Y")) }
                text x=(width) y=(height + 16.0) font-size="12" text-anchor="end" fill="currentColor" { (last.format("%b %Y")) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_colours_run_from_blue_through_grey_to_red() {
        assert_eq!(growth_colour(0.0), "#a0a0a0");
        assert_eq!(growth_colour(1.0), "#ff3c32");
        assert_eq!(growth_colour(5.0), growth_colour(1.0));
        assert_eq!(growth_colour(-1.0), "#328cfa");
    }
}
