//! How one setting is described ([`Spec`]), how its value is read from a flag, the
//! environment or the file ([`Parse`]), and where the value in force came from
//! ([`Origin`]). The `settings!` macro turns the table in `config.rs` into the typed
//! sections, so a setting is declared in one place.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::builder::{OsStringValueParser, TypedValueParser, ValueParser};

use super::secret::{MASK, Secret, SecretUrl};

/// Which subcommands take a setting's flag. Every scoped flag is also taken by
/// `papers config`, which shows what the other commands would use.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// Every subcommand, before or after its name (`papers --data-dir D stats`).
    Global,
    /// These subcommands, each a path from the top (`&["digest", "send"]`).
    Commands(&'static [&'static [&'static str]]),
}

#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// The long name, without `--`.
    pub long: &'static str,
    pub scope: Scope,
}

/// The value a setting has when no flag, variable or file gives one.
#[derive(Debug, Clone, Copy)]
pub enum Fallback {
    /// Read as a flag's value would be.
    Text(&'static str),
    /// A directory under `$HOME` (from the same environment as everything else).
    UnderHome(&'static str),
}

/// One setting: its place in the file (`[section] name`), its flag, its variable, its
/// default, and how clap parses the flag.
pub struct Spec {
    /// `section.name`, also the clap argument id.
    pub key: &'static str,
    pub section: &'static str,
    pub name: &'static str,
    /// The doc comment of the field, one line per source line.
    pub doc: &'static str,
    pub flag: Option<Flag>,
    pub env: Option<&'static str>,
    pub fallback: Option<Fallback>,
    pub parser: fn() -> ValueParser,
}

/// Just the key: a `Config`'s `Debug` lists every entry, and the rest is in the table.
impl fmt::Debug for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Spec({})", self.key)
    }
}

impl Spec {
    /// The doc comment as one paragraph, with the variable and default clap used to show.
    pub fn help(&self) -> String {
        let mut help = self
            .doc
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        // As clap's derive does for a one-sentence help.
        if help.matches(". ").count() == 0 && help.ends_with('.') {
            help.pop();
        }
        if let Some(env) = self.env {
            help.push_str(&format!(" [env: {env}]"));
        }
        match self.fallback {
            Some(Fallback::Text(text)) => help.push_str(&format!(" [default: {text}]")),
            Some(Fallback::UnderHome(dir)) => help.push_str(&format!(" [default: $HOME/{dir}]")),
            None => {}
        }
        help.push_str(&format!(" [file: {}]", self.key));
        help
    }

    /// Every way to set it, for `papers config`'s "not set" lines.
    pub fn ways_to_set(&self) -> String {
        let mut ways = Vec::new();
        if let Some(flag) = self.flag {
            ways.push(format!("--{}", flag.long));
        }
        if let Some(env) = self.env {
            ways.push(env.to_owned());
        }
        ways.push("the file".to_owned());
        ways.join(", ")
    }

    /// The clap argument for its flag.
    pub fn arg(&self) -> Option<clap::Arg> {
        let flag = self.flag?;
        let arg = clap::Arg::new(self.key)
            .long(flag.long)
            .value_name(flag.long.to_uppercase().replace('-', "_"))
            .value_parser((self.parser)())
            .help(self.help());
        Some(match flag.scope {
            Scope::Global => arg.global(true),
            Scope::Commands(_) => arg,
        })
    }
}

/// Where the value in force came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag(&'static str),
    Env(&'static str),
    File { path: PathBuf, line: usize },
    Default,
    Unset,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(long) => write!(f, "flag --{long}"),
            Origin::Env(name) => write!(f, "env {name}"),
            Origin::File { path, line } => write!(f, "file {}:{line}", path.display()),
            Origin::Default => f.write_str("default"),
            Origin::Unset => f.write_str("not set"),
        }
    }
}

/// One setting as resolved: its value as `papers config` prints it (secrets masked)
/// and where it came from.
#[derive(Debug, Clone)]
pub struct Entry {
    pub spec: &'static Spec,
    pub shown: Option<toml::Value>,
    pub origin: Origin,
}

/// A type a setting can hold.
pub trait Parse: Clone + Send + Sync + 'static {
    /// Reads a value as a flag or variable spells it.
    fn parse(raw: &OsStr) -> anyhow::Result<Self>;

    /// Reads a value from the file: a string as `parse` takes it, a number or boolean
    /// as TOML writes it.
    fn from_toml(value: &toml::Value) -> anyhow::Result<Self> {
        match value {
            toml::Value::String(text) => Self::parse(OsStr::new(text)),
            toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_) => {
                Self::parse(OsStr::new(&value.to_string()))
            }
            other => bail!(
                "expected a string, number or boolean, found {}",
                other.type_str()
            ),
        }
    }

    /// How `papers config` prints it.
    fn show(&self) -> toml::Value;
}

/// The clap value parser for a flag of type `T`: the same [`Parse::parse`] the
/// environment and the file go through, with clap's own error report.
pub fn value_parser<T: Parse>() -> ValueParser {
    ValueParser::new(OsStringValueParser::new().try_map(|raw: OsString| T::parse(&raw)))
}

fn utf8(raw: &OsStr) -> anyhow::Result<&str> {
    raw.to_str().context("not valid UTF-8")
}

impl Parse for PathBuf {
    fn parse(raw: &OsStr) -> anyhow::Result<Self> {
        Ok(PathBuf::from(raw))
    }
    fn show(&self) -> toml::Value {
        toml::Value::String(self.display().to_string())
    }
}

impl Parse for String {
    fn parse(raw: &OsStr) -> anyhow::Result<Self> {
        utf8(raw).map(str::to_owned)
    }
    fn show(&self) -> toml::Value {
        toml::Value::String(self.clone())
    }
}

impl Parse for usize {
    fn parse(raw: &OsStr) -> anyhow::Result<Self> {
        Ok(utf8(raw)?.trim().parse()?)
    }
    fn show(&self) -> toml::Value {
        toml::Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

/// On for `1`, `true`, `yes` and `on` (any case), off for anything else, as the Hugging
/// Face tools read `HF_HUB_OFFLINE`.
impl Parse for bool {
    fn parse(raw: &OsStr) -> anyhow::Result<Self> {
        Ok(raw.to_str().is_some_and(|value| {
            matches!(
                value.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            )
        }))
    }
    fn show(&self) -> toml::Value {
        toml::Value::Boolean(*self)
    }
}

/// Types read with `FromStr` and shown with `Display`.
macro_rules! from_str {
    ($($ty:ty),*) => {$(
        impl Parse for $ty {
            fn parse(raw: &OsStr) -> anyhow::Result<Self> {
                utf8(raw)?.parse().map_err(|error| anyhow::anyhow!("{error}"))
            }
            fn show(&self) -> toml::Value {
                toml::Value::String(self.to_string())
            }
        }
    )*};
}

from_str!(
    SocketAddr,
    chrono::NaiveTime,
    chrono::NaiveDate,
    chrono_tz::Tz,
    papers_web::TrustedProxies,
    crate::harvester::HarvestSpec,
    crate::harvester::Interval
);

impl Parse for Secret<String> {
    fn parse(raw: &OsStr) -> anyhow::Result<Self> {
        utf8(raw).map(|text| Secret::new(text.to_owned()))
    }
    fn show(&self) -> toml::Value {
        toml::Value::String(MASK.to_owned())
    }
}

/// Any bytes (the link-signing key is used as bytes, and may be set to anything).
impl Parse for Secret<Vec<u8>> {
    fn parse(raw: &OsStr) -> anyhow::Result<Self> {
        Ok(Secret::new(raw.as_encoded_bytes().to_vec()))
    }
    fn show(&self) -> toml::Value {
        toml::Value::String(MASK.to_owned())
    }
}

impl Parse for SecretUrl {
    fn parse(raw: &OsStr) -> anyhow::Result<Self> {
        utf8(raw).map(|text| SecretUrl::new(text.to_owned()))
    }
    fn show(&self) -> toml::Value {
        toml::Value::String(self.redacted())
    }
}

/// A field of a section: `Option<T>` for a setting that may stay unset, `T` for one
/// with a default.
pub trait Field: Sized {
    type Item: Parse;
    /// `None` when a setting that must have a value has none.
    fn from_item(item: Option<Self::Item>) -> Option<Self>;
}

impl<T: Parse> Field for Option<T> {
    type Item = T;
    fn from_item(item: Option<T>) -> Option<Self> {
        Some(item)
    }
}

macro_rules! required {
    ($($ty:ty),*) => {$(
        impl Field for $ty {
            type Item = $ty;
            fn from_item(item: Option<$ty>) -> Option<$ty> {
                item
            }
        }
    )*};
}

required!(
    PathBuf,
    String,
    usize,
    bool,
    SocketAddr,
    chrono::NaiveTime,
    chrono_tz::Tz,
    crate::harvester::Interval
);

/// Declares the configuration: one struct per section, one field per setting, each
/// with its doc comment, and optionally a flag (with the subcommands that take it), an
/// environment variable and a default. Generates the sections, their [`Spec`]s, and
/// `resolve`, which reads each setting through the layers.
macro_rules! settings {
    (@option) => { None };
    (@option $value:expr) => { Some($value) };
    (@spec $section:ident $field:ident $ty:ty; [$($doc:literal)*]
        $(flag $flag:literal $scope:expr;)? $(env $env:literal;)? $(default $default:expr;)?
    ) => {
        $crate::config::setting::Spec {
            key: concat!(stringify!($section), ".", stringify!($field)),
            section: stringify!($section),
            name: stringify!($field),
            doc: concat!($($doc, "\n",)*),
            flag: settings!(@option $($crate::config::setting::Flag { long: $flag, scope: $scope })?),
            env: settings!(@option $($env)?),
            fallback: settings!(@option $($default)?),
            parser: $crate::config::setting::value_parser::<
                <$ty as $crate::config::setting::Field>::Item,
            >,
        }
    };
    ($(
        $(#[doc = $section_doc:literal])*
        $section:ident: $Section:ident {$(
            $(#[doc = $doc:literal])*
            $field:ident: $ty:ty {
                $(flag: $flag:literal, on: $scope:expr,)?
                $(env: $env:literal,)?
                $(default: $default:expr,)?
            }
        )*}
    )*) => {
        $(
            $(#[doc = $section_doc])*
            #[derive(Debug, Clone)]
            pub struct $Section {$(
                $(#[doc = $doc])*
                pub $field: $ty,
            )*}

            impl $Section {
                fn resolve(layers: &mut $crate::config::layers::Layers<'_>) -> anyhow::Result<Self> {
                    Ok($Section {$(
                        $field: {
                            static SPEC: $crate::config::setting::Spec = settings!(
                                @spec $section $field $ty; [$($doc)*]
                                $(flag $flag $scope;)? $(env $env;)? $(default $default;)?
                            );
                            layers.take::<$ty>(&SPEC)?
                        },
                    )*})
                }
            }
        )*

        /// Every setting, in the order of the table.
        pub const SPECS: &[$crate::config::setting::Spec] = &[$($(
            settings!(
                @spec $section $field $ty; [$($doc)*]
                $(flag $flag $scope;)? $(env $env;)? $(default $default;)?
            ),
        )*)*];

        /// The configuration in force: one field per section (one table of the file),
        /// and where each value came from.
        #[derive(Debug, Clone)]
        pub struct Config {$(
            pub $section: $Section,
        )*
            pub origins: $crate::config::Origins,
        }

        impl Config {
            fn resolve(layers: &mut $crate::config::layers::Layers<'_>) -> anyhow::Result<Self> {
                Ok(Config {$(
                    $section: $Section::resolve(layers)?,
                )*
                    origins: $crate::config::Origins::default(),
                })
            }
        }
    };
}

pub(crate) use settings;
