//! Values that must not reach a log, an error or `papers config`: `Debug` and `Display`
//! print `***` in their place (or in place of a URL's password).

use std::fmt;

/// What stands where a secret was.
pub const MASK: &str = "***";

/// A secret: the link-signing key, the SMTP password, the Hugging Face token. Read it with
/// [`Secret::expose`], only where it is used.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({MASK})")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// A URL that may carry a password (`postgres://user:password@host/db`,
/// `smtp://user:password@host`): shown with the password masked, the rest as given, so a
/// reader can still tell which server it names.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: String) -> SecretUrl {
        SecretUrl(url)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password (the part of the user information after `:`) masked.
    /// The user information ends at the last `@`, so a password with an unencoded `/`
    /// or `@` is masked whole; a `@` later in the path masks more than needed, never less.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else {
            // Not a URL with an authority: nothing can be told apart, so nothing is shown.
            return MASK.to_owned();
        };
        match rest.rsplit_once('@') {
            Some((credentials, host)) => match credentials.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:{MASK}@{host}"),
                None => self.0.clone(),
            },
            None => self.0.clone(),
        }
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({:?})", self.redacted())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_everything_but_the_password() {
        let url = |text: &str| SecretUrl::new(text.to_owned()).redacted();
        assert_eq!(
            url("postgres://papers:hunter2@db:5432/papers"),
            "postgres://papers:***@db:5432/papers"
        );
        assert_eq!(
            url("smtp://mailer:p@ss:word@mail.example?tls=required"),
            "smtp://mailer:***@mail.example?tls=required"
        );
        assert_eq!(
            url("postgres://u:a/b?c@db/papers"),
            "postgres://u:***@db/papers"
        );
        assert_eq!(url("smtp://mail.example:25"), "smtp://mail.example:25");
        assert_eq!(
            url("smtp://mailer@mail.example"),
            "smtp://mailer@mail.example"
        );
        assert_eq!(url("not a url, maybe a password"), "***");
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let secret = Secret::new("hunter2".to_owned());
        let url = SecretUrl::new("postgres://u:hunter2@db/papers".to_owned());
        let shown = format!("{secret:?} {secret} {url:?} {url}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(secret.expose(), "hunter2");
        assert_eq!(url.expose(), "postgres://u:hunter2@db/papers");
    }
}
