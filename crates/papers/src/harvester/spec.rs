//! What `papers serve` harvests (`--harvest "arxiv:cs.CL,cs.IR,stat.ML hf"`), and how
//! long its jobs wait (`--hf-interval 1h`).
//!
//! arXiv categories are harvested through OAI-PMH sets. arXiv's sets are its archives:
//! `cs`, `math`, `stat`, `econ`, `eess`, `q-bio`, `q-fin`, and under `physics` one per
//! physics archive (`physics:hep-th`, `physics:cond-mat`, `physics:physics` for the
//! `physics.*` categories), as its `ListSets` answers. (The newer endpoint also lists
//! per-category sets such as `cs:cs:CL`, which the older one and its recorded answers
//! do not know.) So each category maps to its archive's set, the set is harvested
//! once however many of its categories are asked for, and records are kept when one
//! of their categories (primary or cross-list) is asked for. A bare archive (`cs`,
//! `hep-th`) keeps the whole set.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use papers_core::Category;

/// The sources to harvest, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarvestSpec {
    /// One entry per OAI set, with the categories kept from it.
    pub arxiv: Vec<ArxivSet>,
    pub hf: bool,
}

/// One arXiv OAI set and what is kept of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArxivSet {
    /// The OAI `setSpec`: `cs`, `physics:hep-th`.
    pub set: String,
    /// The categories kept; empty keeps every record of the set.
    pub categories: Vec<Category>,
}

impl ArxivSet {
    /// The job (and claim) name: one harvester per set on all nodes.
    pub fn job(&self) -> String {
        format!("harvest:arxiv:{}", self.set)
    }

    /// Where the harvest of this set with this filter stands in the store. A changed
    /// filter is a new position, so newly asked-for categories are fetched from
    /// `--harvest-since` instead of only from where the old filter stopped.
    pub fn state_name(&self) -> String {
        if self.categories.is_empty() {
            format!("arxiv:{}", self.set)
        } else {
            let categories: Vec<&str> = self.categories.iter().map(Category::as_str).collect();
            format!("arxiv:{}[{}]", self.set, categories.join(","))
        }
    }

    /// Whether a record with these categories is kept.
    pub fn keeps(&self, categories: &[Category]) -> bool {
        self.categories.is_empty() || categories.iter().any(|c| self.categories.contains(c))
    }
}

/// The job name of the Hugging Face refresh.
pub const HF_JOB: &str = "harvest:hf";

/// The OAI set holding an archive's papers, or `None` for an unknown archive.
fn set_of(archive: &str) -> Option<String> {
    match archive {
        "cs" | "econ" | "eess" | "math" | "q-bio" | "q-fin" | "stat" => Some(archive.to_owned()),
        "astro-ph" | "cond-mat" | "gr-qc" | "hep-ex" | "hep-lat" | "hep-ph" | "hep-th"
        | "math-ph" | "nlin" | "nucl-ex" | "nucl-th" | "quant-ph" => {
            Some(format!("physics:{archive}"))
        }
        "physics" => Some("physics:physics".to_owned()),
        _ => None,
    }
}

impl FromStr for HarvestSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut sets: BTreeMap<String, Option<Vec<Category>>> = BTreeMap::new();
        let mut hf = false;
        for source in text.split_whitespace() {
            if source == "hf" {
                hf = true;
                continue;
            }
            let Some(list) = source.strip_prefix("arxiv:") else {
                return Err(format!(
                    "unknown source {source:?} (expected `arxiv:CATEGORY,…` or `hf`)"
                ));
            };
            for token in list.split(',').filter(|t| !t.is_empty()) {
                let category =
                    Category::parse(token).map_err(|error| format!("{error} in {source:?}"))?;
                let set = set_of(category.archive()).ok_or_else(|| {
                    format!(
                        "no arXiv OAI set holds {token:?} (archives: cs, math, stat, hep-th, …)"
                    )
                })?;
                // A bare archive keeps the whole set, whatever else is asked of it.
                let whole = !token.contains('.');
                let entry = sets.entry(set).or_insert_with(|| Some(Vec::new()));
                match entry {
                    Some(categories) if !whole => {
                        if !categories.contains(&category) {
                            categories.push(category);
                        }
                    }
                    _ => *entry = None,
                }
            }
        }
        if sets.is_empty() && !hf {
            return Err("nothing to harvest (e.g. \"arxiv:cs.CL,stat.ML hf\")".to_owned());
        }
        let arxiv = sets
            .into_iter()
            .map(|(set, categories)| {
                let mut categories = categories.unwrap_or_default();
                categories.sort();
                ArxivSet { set, categories }
            })
            .collect();
        Ok(HarvestSpec { arxiv, hf })
    }
}

impl fmt::Display for HarvestSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sources = Vec::new();
        for set in &self.arxiv {
            if set.categories.is_empty() {
                let archive = set.set.strip_prefix("physics:").unwrap_or(&set.set);
                sources.push(format!("arxiv:{archive}"));
            } else {
                let list: Vec<&str> = set.categories.iter().map(Category::as_str).collect();
                sources.push(format!("arxiv:{}", list.join(",")));
            }
        }
        if self.hf {
            sources.push("hf".to_owned());
        }
        f.write_str(&sources.join(" "))
    }
}

/// A length of time as written in the settings: a number and a unit, `s`, `m`, `h` or
/// `d` (`90s`, `1h`, `24h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval(pub Duration);

impl FromStr for Interval {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a duration such as 90s, 30m, 1h or 1d"))?;
        let seconds = match unit.trim() {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(format!("{text:?}: the unit is s, m, h or d")),
        };
        if number == 0 {
            return Err(format!("{text:?}: a duration must be longer than zero"));
        }
        Ok(Interval(Duration::from_secs(
            number.saturating_mul(seconds),
        )))
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.as_secs();
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] {
            if seconds.is_multiple_of(size) && seconds >= size {
                return write!(f, "{}{unit}", seconds / size);
            }
        }
        write!(f, "{seconds}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_map_to_their_archive_sets() {
        let spec: HarvestSpec = "arxiv:cs.CL,cs.IR,stat.ML hf arxiv:hep-th,cs.CL"
            .parse()
            .expect("valid");
        assert!(spec.hf);
        let sets: Vec<(&str, Vec<&str>)> = spec
            .arxiv
            .iter()
            .map(|s| {
                (
                    s.set.as_str(),
                    s.categories.iter().map(Category::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            sets,
            [
                ("cs", vec!["cs.CL", "cs.IR"]),
                ("physics:hep-th", vec![]),
                ("stat", vec!["stat.ML"]),
            ]
        );
        assert_eq!(spec.arxiv[0].job(), "harvest:arxiv:cs");
        assert_eq!(spec.arxiv[0].state_name(), "arxiv:cs[cs.CL,cs.IR]");
        assert_eq!(
            spec.to_string(),
            "arxiv:cs.CL,cs.IR arxiv:hep-th arxiv:stat.ML hf"
        );
        assert_eq!(spec.to_string().parse::<HarvestSpec>(), Ok(spec.clone()));

        let keeps = |list: &str| spec.arxiv[0].keeps(&Category::parse_list(list).expect("ok"));
        assert!(keeps("cs.LG cs.CL"), "a cross-list counts");
        assert!(!keeps("cs.LG"));
        assert!(spec.arxiv[1].keeps(&Category::parse_list("hep-ph").expect("ok")));
    }

    #[test]
    fn a_bare_archive_keeps_its_whole_set() {
        let spec: HarvestSpec = "arxiv:cs.CL,cs".parse().expect("valid");
        assert_eq!(spec.arxiv[0].categories, vec![]);
        assert_eq!(spec.arxiv[0].state_name(), "arxiv:cs");
    }

    #[test]
    fn refuses_what_it_cannot_harvest() {
        for bad in [
            "",
            "arxiv:",
            "arxiv:cs.CL hg",
            "arxiv:bogus.XX",
            "arxiv:CS.cl",
        ] {
            assert!(bad.parse::<HarvestSpec>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn intervals_read_and_print_with_units() {
        let read = |text: &str| text.parse::<Interval>().map(|i| i.0.as_secs());
        assert_eq!(read("90s"), Ok(90));
        assert_eq!(read("30m"), Ok(1800));
        assert_eq!(read("24h"), Ok(86_400));
        assert!(read("0s").is_err());
        assert!(read("5").is_err());
        assert!(read("h").is_err());
        assert_eq!(Interval(Duration::from_secs(86_400)).to_string(), "1d");
        assert_eq!(Interval(Duration::from_secs(90)).to_string(), "90s");
        assert_eq!(Interval(Duration::from_secs(3600)).to_string(), "1h");
    }
}
