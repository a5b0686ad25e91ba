//! The man page generator (`examples/manpage.rs`) runs and its page names every command.

use std::process::Command;

#[test]
fn man_page_generates_and_names_every_command() {
    let dir = std::env::temp_dir().join(format!("ringlb-man-{}", std::process::id()));
    let status = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--example", "manpage", "--"])
        .arg(&dir)
        .status()
        .expect("cargo run --example manpage");
    assert!(status.success());
    let page = std::fs::read_to_string(dir.join("ringlb.1")).expect("ringlb.1");
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq"),
        "not a roff page: {page:.200}"
    );
    assert!(page.contains(".TH ringlb 1"), "{page:.400}");
    let names: Vec<String> = ringlb::cli::command()
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in [
        "run",
        "check",
        "demo",
        "bench-member",
        "import",
        "upgrade",
        "version",
    ] {
        assert!(names.iter().any(|n| n == name), "no command {name}");
    }
    for name in names.iter().filter(|n| *n != "help") {
        // clap_mangen writes the SUBCOMMANDS section with the name set in bold.
        let entry = format!("ringlb\\-{}(1)", name.replace('-', "\\-"));
        assert!(page.contains(&entry), "{entry} missing from ringlb.1");
        let sub = std::fs::read_to_string(dir.join(format!("ringlb-{name}.1")))
            .unwrap_or_else(|e| panic!("ringlb-{name}.1: {e}"));
        assert!(
            sub.contains(&format!(".TH ringlb-{name} 1")),
            "ringlb-{name}.1"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
