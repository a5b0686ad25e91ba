//! The `ringlb` binary: argv -> config -> workers -> wait.

use std::process::ExitCode;
use std::sync::Arc;

use ringlb::admin::server::AdminServer;
use ringlb::cli::{self, CliError, Command, RunSource};
use ringlb::config::{self, Config};
use ringlb::server::ServerHandle;
use ringlb::signals::{self, Signal};
use ringlb::{admin, benchmember, demo, log, server, startup};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    return_freed_memory_at_once();
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
    let (resolved, names) = match startup::check(&cfg) {
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
    let handle = match block_signals_then(|| server::start_resolved(cfg.clone(), resolved, names)) {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("ringlb: {e}");
            return ExitCode::FAILURE;
        }
    };
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
        Some(admin_cfg) => match admin::server::start(admin_cfg, handle.controller().clone()) {
            Ok(admin) => {
                let addr = admin.local_addr();
                eprintln!("ringlb: manager on http://{addr}/balancer-manager");
                Some(admin)
            }
            Err(e) => {
                eprintln!("ringlb: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    serve(handle, admin)
}

/// Raises the open files limit to the hard limit before any listener or member connection
/// exists, and says what it is.
fn raise_open_files() {
    match ringlb::rlimit::raise_open_files() {
        Ok(files) => eprintln!("ringlb: {files}"),
        Err(e) => eprintln!("ringlb: cannot raise the open files limit: {e}"),
    }
}

/// mimalloc purges freed memory only on later allocator activity, which an idle worker never
/// has: the memory of connections that went idle would stay resident. Purge at once instead
/// (the request path does not allocate, so this costs it nothing).
#[allow(unsafe_code)]
fn return_freed_memory_at_once() {
    /// `mi_option_purge_delay` in mimalloc.h's `mi_option_e`.
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets a documented mimalloc option to a documented value (0 = purge at once);
    // options may be set at any time and are read atomically by the allocator.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

/// Blocks the handled signals before `start` creates any thread, so every thread inherits the
/// mask and only the main thread receives them (see `ringlb::signals`).
fn block_signals_then<T>(start: impl FnOnce() -> T) -> T {
    signals::block();
    start()
}

/// Waits for signals: SIGHUP reloads, SIGUSR1 reopens the access logs, SIGTERM/SIGINT stop
/// gracefully (stop accepting, let open connections finish within `shutdown_grace`).
fn serve(handle: ServerHandle, admin: Option<AdminServer>) -> ExitCode {
    loop {
        match signals::wait() {
            Signal::Reload => match handle
                .controller()
                .reload_file(&ringlb::control::Actor::Signal)
            {
                Ok(n) => log::info(format_args!("reloaded: configuration generation {n}")),
                Err(e) => log::error(format_args!("reload refused, nothing changed: {e}")),
            },
            Signal::ReopenLogs => ringlb::accesslog::sink::request_reopen(),
            Signal::Stop => break,
        }
    }
    let grace = handle.current().config.ops.shutdown_grace;
    log::info(format_args!(
        "stopping: open connections get up to {grace:?} to finish"
    ));
    drop(admin);
    handle.shutdown(grace);
    ExitCode::SUCCESS
}
