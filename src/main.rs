//! The `ringlb` binary: argv -> config -> workers -> wait.

use std::process::ExitCode;
use std::sync::Arc;

use ringlb::admin::server::AdminServer;
use ringlb::cli::{self, CliError, Command, RunSource};
use ringlb::config::{self, Config};
use ringlb::server::ServerHandle;
use ringlb::signals::{self, Signal};
use ringlb::systemd::{self, State};
use ringlb::upgrade::{self, Inherited};
use ringlb::{admin, benchmember, demo, log, pidfile, server, startup, watch};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    upgrade::remember_executable();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli::parse(&args) {
        Ok(Command::Help(text)) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            println!("ringlb {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Ok(Command::Check { config, diff }) => {
            match startup::check_command(&config, diff.as_deref()) {
                Ok(report) => {
                    print!("{report}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
        Ok(Command::Run(RunSource::File(path))) => match config::load(&path) {
            Ok(cfg) => run(cfg),
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Ok(Command::Run(RunSource::Flags(cfg))) => run(Arc::new(*cfg)),
        Ok(Command::Demo(args)) => match block_signals_then(|| {
            raise_open_files();
            demo::start(&args)
        }) {
            Ok(demo) => {
                print!("{}", demo::banner(&demo));
                let demo::Demo {
                    server,
                    admin,
                    members,
                } = demo;
                let code = serve(server, Some(admin));
                drop(members);
                code
            }
            Err(e) => {
                eprintln!("ringlb demo: {e}");
                ExitCode::FAILURE
            }
        },
        Ok(Command::Import(source)) => match ringlb::import::import(&source) {
            Ok(outcome) => {
                eprint!("{}", outcome.report);
                print!("{}", outcome.toml);
                ExitCode::SUCCESS
            }
            Err(refused) => {
                eprint!("{}", refused.report);
                eprintln!("ringlb import: {}", refused.error);
                ExitCode::FAILURE
            }
        },
        Ok(Command::Upgrade(which)) => match upgrade_command(&which) {
            Ok(message) => {
                println!("{message}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("ringlb upgrade: {e}");
                ExitCode::FAILURE
            }
        },
        Ok(Command::BenchMember(args)) => match benchmember::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ringlb bench-member: {e}");
                ExitCode::FAILURE
            }
        },
        Err(CliError::Usage(msg)) => {
            eprint!("{msg}");
            ExitCode::from(2)
        }
        Err(CliError::Config(e)) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

fn run(cfg: Arc<Config>) -> ExitCode {
    log::set_level(cfg.ops.log.level);
    let mut inherited = match Inherited::from_env() {
        Ok(inherited) => inherited,
        Err(e) => {
            eprintln!("ringlb: binary upgrade: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (effective, overrides) = carry_overrides(&cfg, inherited.take_overrides());
    let (resolved, names) = match startup::check(&effective) {
        Ok(checked) => checked,
        Err(e) => {
            eprintln!("ringlb: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = log::set_target(&cfg.ops.log.error) {
        let target = ringlb::config::target_text(&cfg.ops.log.error);
        eprintln!("ringlb: cannot open the error log {target:?}: {e}");
        return ExitCode::FAILURE;
    }
    raise_open_files();
    let started = block_signals_then(|| {
        server::start_inheriting(cfg.clone(), resolved, names, &mut inherited)
    });
    let handle = match started {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("ringlb: {e}");
            return ExitCode::FAILURE;
        }
    };
    handle.controller().carry_overrides(overrides);
    let _watcher = watch::start(handle.controller().clone());
    for w in handle.workers() {
        let cpu = w.cpu.map_or("unpinned".to_string(), |c| format!("cpu {c}"));
        eprintln!("ringlb: worker {} on {cpu}, driver {}", w.index, w.driver);
    }
    for (i, addr) in handle.local_addrs().iter().enumerate() {
        let tls = (i.checked_sub(cfg.listen.len()))
            .and_then(|l| cfg.listeners.get(l))
            .is_some_and(|l| l.tls.is_some());
        let scheme = if tls { "https" } else { "http" };
        eprintln!("ringlb: listening on {scheme}://{addr}/ ({})", cfg.source);
    }
    let admin = match &cfg.ops.admin {
        Some(admin_cfg) => {
            let controller = handle.controller().clone();
            let started = match inherited.take(upgrade::ADMIN_KEY).pop() {
                Some(listener) => admin::server::start_on(admin_cfg, controller, listener),
                None => admin::server::start(admin_cfg, controller),
            };
            match started {
                Ok(admin) => {
                    let addr = admin.local_addr();
                    eprintln!("ringlb: manager on http://{addr}/balancer-manager");
                    Some(admin)
                }
                Err(e) => {
                    eprintln!("ringlb: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        None => None,
    };
    if let Some(path) = &cfg.ops.pid_file {
        if let Err(e) = pidfile::write(path, std::process::id()) {
            eprintln!("ringlb: cannot write the pid file {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    let main_pid = inherited.is_upgrade().then(std::process::id);
    systemd::notify(State::Ready { main_pid });
    inherited.serving();
    serve(handle, admin)
}

/// The configuration to start with and the overrides that hold in it: `cfg` as it is, or,
/// after a binary upgrade, with the old process's overrides applied as a reload would apply
/// them.
fn carry_overrides(
    cfg: &Arc<Config>,
    handed: ringlb::control::Overrides,
) -> (Arc<Config>, ringlb::control::Overrides) {
    if handed.is_empty() {
        return (cfg.clone(), handed);
    }
    match ringlb::control::plan_reload(cfg, &handed) {
        Ok(plan) => {
            for line in &plan.ended {
                log::info(format_args!("binary upgrade: {line}"));
            }
            (Arc::new(plan.config), plan.overrides)
        }
        Err(e) => {
            log::warn(format_args!(
                "binary upgrade: the old process's overrides do not apply to this file, \
                 the file's values are in force: {e}"
            ));
            (cfg.clone(), Default::default())
        }
    }
}

/// `ringlb upgrade`: the pid file named, or the one `pid_file` of the config file names.
fn upgrade_command(which: &cli::Upgrade) -> Result<String, String> {
    let pid_file = match which {
        cli::Upgrade::PidFile(path) => path.clone(),
        cli::Upgrade::Config(path) => {
            let cfg = config::load(path).map_err(|e| e.to_string())?;
            (cfg.ops.pid_file.clone()).ok_or_else(|| {
                format!(
                    "{} has no pid_file: set one, or name the pid file with --pid-file",
                    path.display()
                )
            })?
        }
    };
    upgrade::request(&pid_file)
}

/// Raises the open files limit to the hard limit before any listener or member connection
/// exists, and says what it is.
fn raise_open_files() {
    match ringlb::rlimit::raise_open_files() {
        Ok(files) => eprintln!("ringlb: {files}"),
        Err(e) => eprintln!("ringlb: cannot raise the open files limit: {e}"),
    }
}

/// Blocks the handled signals before `start` creates any thread, so every thread inherits the
/// mask and only the main thread receives them (see `ringlb::signals`).
fn block_signals_then<T>(start: impl FnOnce() -> T) -> T {
    signals::block();
    start()
}

/// Waits for signals: SIGHUP reloads, SIGUSR1 reopens the access logs, SIGUSR2 hands the
/// listening sockets to a new binary and then stops as below, SIGTERM/SIGINT stop
/// gracefully (stop accepting, let open connections finish within `shutdown_grace`).
fn serve(handle: ServerHandle, admin: Option<AdminServer>) -> ExitCode {
    let successor = loop {
        match signals::wait() {
            Signal::Reload => match handle
                .controller()
                .reload_file(&ringlb::control::Actor::Signal)
            {
                Ok(n) => log::info(format_args!("reloaded: configuration generation {n}")),
                Err(e) => log::error(format_args!("reload refused, nothing changed: {e}")),
            },
            Signal::ReopenLogs => ringlb::accesslog::sink::request_reopen(),
            Signal::Upgrade => {
                log::info(format_args!("binary upgrade: starting the new binary"));
                match handle.start_successor(admin.as_ref().map(AdminServer::socket)) {
                    Ok(pid) => break Some(pid),
                    Err(e) => log::error(format_args!(
                        "binary upgrade failed, this process goes on serving: {e}"
                    )),
                }
            }
            Signal::Stop => break None,
        }
    };
    let config = handle.current().config.clone();
    let grace = config.ops.shutdown_grace;
    match successor {
        Some(pid) => {
            log::info(format_args!(
                "binary upgrade: process {pid} serves; this one stops accepting and gives \
                 its open connections up to {grace:?} to finish"
            ));
            handle.shutdown_handed_over(grace);
            // Its socket is the new process's too: waking our acceptor by connecting (as a
            // drop does) could wake theirs instead, so ours simply ends with this process.
            std::mem::forget(admin);
        }
        None => {
            systemd::notify(State::Stopping);
            log::info(format_args!(
                "stopping: open connections get up to {grace:?} to finish"
            ));
            drop(admin);
            handle.shutdown(grace);
            if let Some(path) = &config.ops.pid_file {
                pidfile::remove_if_ours(path, std::process::id());
            }
        }
    }
    ExitCode::SUCCESS
}
