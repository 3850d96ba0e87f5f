//! `papers config`: the configuration in force, as a TOML file would set it, each value
//! followed by where it came from. Secrets are masked; unset settings are listed as
//! comments with the ways to set them.

use std::process::ExitCode;

use crate::config::Config;
use crate::output::outln;

pub fn run(config: &Config) -> anyhow::Result<ExitCode> {
    outln!("# papers configuration: a flag beats the environment, which beats the file,")?;
    outln!("# which beats the default. Secrets are masked.")?;
    match &config.origins.file {
        Some((path, origin)) => outln!("# file: {} ({origin})", path.display())?,
        None => outln!("# file: none (--config FILE or PAPERS_CONFIG)")?,
    }
    let lines: Vec<(&str, String, String)> = config
        .origins
        .entries
        .iter()
        .map(|entry| {
            let spec = entry.spec;
            match &entry.shown {
                Some(value) => (
                    spec.section,
                    format!("{} = {value}", spec.name),
                    entry.origin.to_string(),
                ),
                None => (
                    spec.section,
                    format!("# {}", spec.name),
                    format!("not set ({})", spec.ways_to_set()),
                ),
            }
        })
        .collect();
    // Comments line up, but a long value does not push every other comment away.
    let width = lines
        .iter()
        .map(|(_, setting, _)| setting.chars().count())
        .filter(|&width| width <= 48)
        .max()
        .unwrap_or(0);
    let mut section = "";
    for (line_section, setting, origin) in &lines {
        if *line_section != section {
            section = line_section;
            outln!("\n[{section}]")?;
        }
        outln!("{setting:<width$}  # {origin}")?;
    }
    Ok(ExitCode::SUCCESS)
}
