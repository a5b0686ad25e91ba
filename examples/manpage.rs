//! Writes ringlb's man pages, rendered from its clap definition, into a directory
//! (`target/man` by default): `ringlb.1`, and `ringlb-COMMAND.1` for each command.
//!
//! An example rather than a hidden `ringlb` command, so that `clap_mangen` stays a
//! dev-dependency and out of the shipped binary: `cargo run --example manpage [-- DIR]`.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/man"), PathBuf::from);
    std::fs::create_dir_all(&dir)?;
    let mut cmd = ringlb::cli::command();
    cmd.build();
    write(&dir, "ringlb", &cmd)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        write(&dir, &format!("ringlb-{}", sub.get_name()), sub)?;
    }
    Ok(())
}

fn write(dir: &std::path::Path, name: &str, cmd: &clap::Command) -> std::io::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .title(name)
        .render(&mut page)?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, page)?;
    println!("{}", path.display());
    Ok(())
}
