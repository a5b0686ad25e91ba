//! The `ringlb` binary: argv -> config -> workers -> wait.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(0);
}
