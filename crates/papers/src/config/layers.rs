//! The four places a setting's value can come from, tried in order: a flag on the
//! command line, an environment variable, the configuration file, the default.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::ArgMatches;
use clap::parser::ValueSource;
use toml::Spanned;

use super::setting::{Entry, Fallback, Field, Origin, Parse, Spec};

/// Reads one environment variable; `std::env::var_os` in the binary, a map in tests.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// The layers, and every setting resolved so far (for `papers config`).
pub struct Layers<'a> {
    matches: &'a ArgMatches,
    env: Env<'a>,
    file: Option<File>,
    pub entries: Vec<Entry>,
}

impl<'a> Layers<'a> {
    pub fn new(matches: &'a ArgMatches, env: Env<'a>, file: Option<File>) -> Layers<'a> {
        Layers {
            matches,
            env,
            file,
            entries: Vec::new(),
        }
    }

    /// A variable's value; an empty one counts as unset (`PAPERS_MODEL= papers …`).
    pub fn env(&self, name: &str) -> Option<OsString> {
        (self.env)(name).filter(|value| !value.is_empty())
    }

    /// A flag given on the command line, wherever in the subcommand chain it was given.
    pub fn flag<T: Clone + Send + Sync + 'static>(&self, id: &str) -> Option<T> {
        let mut level = Some(self.matches);
        let mut found = None;
        while let Some(matches) = level {
            // `try_get_one` first: asking a level for an id it lacks panics in debug builds.
            if let Ok(Some(value)) = matches.try_get_one::<T>(id)
                && matches.value_source(id) == Some(ValueSource::CommandLine)
            {
                found = Some(value.clone());
            }
            level = matches.subcommand().map(|(_, sub)| sub);
        }
        found
    }

    /// Resolves one setting: flag, else variable, else file, else default.
    pub fn take<F: Field>(&mut self, spec: &'static Spec) -> anyhow::Result<F> {
        let (item, origin) = self.find::<F::Item>(spec)?;
        let shown = item.as_ref().map(Parse::show);
        let value = F::from_item(item).with_context(|| format!("{} has no value", spec.key))?;
        self.entries.push(Entry {
            spec,
            shown,
            origin,
        });
        Ok(value)
    }

    fn find<T: Parse>(&mut self, spec: &'static Spec) -> anyhow::Result<(Option<T>, Origin)> {
        // The file's value is read (and checked) even when a flag or variable wins, so a
        // bad file is an error whatever overrides it, and every key it has is accounted
        // for.
        let from_file = match &mut self.file {
            Some(file) => match file.take(spec.section, spec.name) {
                Some((value, line)) => {
                    let path = file.path.clone();
                    let value = T::from_toml(&value)
                        .with_context(|| format!("{}:{line}: {}", path.display(), spec.key))?;
                    Some((value, Origin::File { path, line }))
                }
                None => None,
            },
            None => None,
        };
        if let Some(flag) = spec.flag
            && let Some(value) = self.flag::<T>(spec.key)
        {
            return Ok((Some(value), Origin::Flag(flag.long)));
        }
        if let Some(name) = spec.env
            && let Some(raw) = self.env(name)
        {
            // The value is not repeated: it may be a secret.
            let value = T::parse(&raw).with_context(|| format!("{name} ({})", spec.key))?;
            return Ok((Some(value), Origin::Env(name)));
        }
        if let Some((value, origin)) = from_file {
            return Ok((Some(value), origin));
        }
        let text = match spec.fallback {
            Some(Fallback::Text(text)) => Some(OsString::from(text)),
            Some(Fallback::UnderHome(dir)) => self
                .env("HOME")
                .map(|home| PathBuf::from(home).join(dir).into_os_string()),
            None => None,
        };
        match text {
            Some(text) => {
                let value =
                    T::parse(&text).with_context(|| format!("the default of {}", spec.key))?;
                Ok((Some(value), Origin::Default))
            }
            None => Ok((None, Origin::Unset)),
        }
    }

    /// Fails on anything the file holds that no setting took (a misspelt key would
    /// otherwise be ignored without a word); `specs` are all the settings there are.
    pub fn finish(self, specs: &[Spec]) -> anyhow::Result<Vec<Entry>> {
        if let Some(file) = &self.file {
            file.check_all_taken(specs)?;
        }
        Ok(self.entries)
    }
}

type Table = BTreeMap<String, Spanned<toml::Value>>;

/// A configuration file: one table per section.
pub struct File {
    pub path: PathBuf,
    text: String,
    sections: BTreeMap<String, Spanned<Table>>,
}

impl File {
    /// Reads and parses the file; errors name it, and TOML errors the line.
    pub fn read(path: &Path) -> anyhow::Result<File> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the configuration file {}", path.display()))?;
        File::parse(path, text)
    }

    pub fn parse(path: &Path, text: String) -> anyhow::Result<File> {
        let sections = toml::from_str(&text).with_context(|| {
            format!(
                "the configuration file {} (each setting belongs in a [section])",
                path.display()
            )
        })?;
        Ok(File {
            path: path.to_owned(),
            text,
            sections,
        })
    }

    /// Removes a setting's value, with the line it was on.
    fn take(&mut self, section: &str, name: &str) -> Option<(toml::Value, usize)> {
        let value = self.sections.get_mut(section)?.get_mut().remove(name)?;
        let line = self.line(value.span().start);
        Some((value.into_inner(), line))
    }

    /// The 1-based line of a byte offset.
    fn line(&self, offset: usize) -> usize {
        let before = self.text.get(..offset).unwrap_or(&self.text);
        before.matches('\n').count() + 1
    }

    fn check_all_taken(&self, specs: &[Spec]) -> anyhow::Result<()> {
        for (section, table) in &self.sections {
            if let Some((name, value)) = table.get_ref().iter().next() {
                bail!(
                    "{}:{}: unknown setting {section}.{name} (`papers config` lists them all)",
                    self.path.display(),
                    self.line(value.span().start)
                );
            }
            if !specs.iter().any(|spec| spec.section == section) {
                bail!(
                    "{}:{}: unknown section [{section}] (`papers config` lists them all)",
                    self.path.display(),
                    self.line(table.span().start)
                );
            }
        }
        Ok(())
    }
}
