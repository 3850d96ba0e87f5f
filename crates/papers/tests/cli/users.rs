//! `papers user …` and `papers token create`: members made with the sign-up rules and a
//! password from stdin, roles granted and revoked, the list, and tokens printed once.

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use papers_store::{Role, Store};

use crate::common::{ok, papers, run};

/// Runs `papers ARGS` with `stdin` as standard input.
pub fn with_stdin(data_dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = papers(data_dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("papers runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("password written");
    child.wait_with_output().expect("papers ends")
}

/// `papers user create NAME --email NAME@example.org [--admin] --password-stdin`.
pub fn create_member(data_dir: &Path, name: &str, admin: bool) -> Output {
    let email = format!("{name}@example.org");
    let mut args = vec![
        "user",
        "create",
        name,
        "--email",
        &email,
        "--password-stdin",
    ];
    if admin {
        args.push("--admin");
    }
    with_stdin(data_dir, &args, "correct-horse-battery\n")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn members_are_created_listed_granted_and_revoked() {
    let dir = tempfile::tempdir().expect("dir");
    let created = create_member(dir.path(), "ann", true);
    assert!(created.status.success(), "{}", stderr(&created));
    assert_eq!(
        String::from_utf8_lossy(&created.stdout),
        "created ann (admin)\n"
    );
    let created = create_member(dir.path(), "bob", false);
    assert!(created.status.success(), "{}", stderr(&created));

    // The sign-up rules hold here too.
    let weak = with_stdin(
        dir.path(),
        &[
            "user",
            "create",
            "cy",
            "--email",
            "cy@example.org",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(!weak.status.success());
    assert!(
        stderr(&weak).contains("Passwords are at least 12 characters"),
        "{}",
        stderr(&weak)
    );
    // Long enough but guessable: the strength estimator refuses it, as sign-up does.
    let guessable = with_stdin(
        dir.path(),
        &[
            "user",
            "create",
            "cy",
            "--email",
            "cy@example.org",
            "--password-stdin",
        ],
        "password1234\n",
    );
    assert!(!guessable.status.success());
    assert!(
        stderr(&guessable).contains("too easy to guess"),
        "{}",
        stderr(&guessable)
    );
    let taken = create_member(dir.path(), "ANN", false);
    assert!(!taken.status.success());
    // The name and the address are both taken; either refusal names what is.
    let refusal = stderr(&taken);
    assert!(
        refusal.contains("taken") || refusal.contains("exists"),
        "{refusal}"
    );
    let no_flag = run(
        dir.path(),
        &["user", "create", "dee", "--email", "d@example.org"],
    );
    assert!(!no_flag.status.success(), "--password-stdin is required");

    assert_eq!(
        ok(dir.path(), &["user", "grant", "bob", "moderator"]),
        "granted moderator to bob\n"
    );
    assert_eq!(
        ok(dir.path(), &["user", "grant", "bob", "moderator"]),
        "bob is already moderator\n"
    );
    assert_eq!(
        ok(dir.path(), &["user", "revoke", "ann", "admin"]),
        "revoked admin from ann\n"
    );
    let missing = run(dir.path(), &["user", "grant", "zed", "admin"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("no member named zed"));

    let listed: serde_json::Value =
        serde_json::from_str(&ok(dir.path(), &["user", "list", "--json"])).expect("JSON");
    let summary: Vec<(String, String, Vec<String>)> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|member| {
            (
                member["username"].as_str().unwrap_or("").to_owned(),
                member["email"].as_str().unwrap_or("").to_owned(),
                member["roles"]
                    .as_array()
                    .expect("roles")
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("ann".to_owned(), "ann@example.org".to_owned(), Vec::new()),
            (
                "bob".to_owned(),
                "bob@example.org".to_owned(),
                vec!["moderator".to_owned()]
            ),
        ]
    );
    let table = ok(dir.path(), &["user", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("USERNAME") && lines[0].ends_with("TOKENS"));
    assert!(lines[2].starts_with("bob ") && lines[2].contains("moderator"));

    // The password works on the site's terms: the stored hash is Argon2id.
    let store = Store::open(dir.path()).expect("store");
    let ann = store.user_by_name("ann").expect("sql").expect("ann");
    assert!(ann.password_hash.starts_with("$argon2id$"));
    let bob = store.user_by_name("bob").expect("sql").expect("bob");
    assert_eq!(store.roles(bob.id).expect("roles"), [Role::Moderator]);
}

#[test]
fn a_token_is_printed_once_and_stored_as_a_digest() {
    let dir = tempfile::tempdir().expect("dir");
    assert!(create_member(dir.path(), "ann", false).status.success());
    let output = run(dir.path(), &["token", "create", "ann", "--label", "ci"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let token = String::from_utf8(output.stdout.clone()).expect("utf-8");
    let token = token.trim_end();
    assert!(
        token.starts_with("papers_pat_") && token.len() == 75 && !token.contains(' '),
        "only the token on stdout: {token:?}"
    );
    assert!(stderr(&output).contains("not shown again"));
    let store = Store::open(dir.path()).expect("store");
    let ann = store.user_by_name("ann").expect("sql").expect("ann");
    let tokens = store.access_tokens(ann.id).expect("tokens");
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].label, "ci");
    for file in [
        papers_store::DATABASE_FILE.to_owned(),
        format!("{}-wal", papers_store::DATABASE_FILE),
    ] {
        let bytes = std::fs::read(dir.path().join(&file)).unwrap_or_default();
        assert!(
            !bytes
                .windows(token.len())
                .any(|window| window == token.as_bytes()),
            "the token itself is never stored ({file})"
        );
    }
    let unknown = run(dir.path(), &["token", "create", "zed"]);
    assert!(!unknown.status.success());
}
