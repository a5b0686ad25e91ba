//! AFL++ main for the `mount` target: `cargo afl build --release --features afl`, then see
//! fuzz/README.md. The checks live in [`ringlb_fuzz::mount`].

fn main() {
    afl::fuzz!(|data: &[u8]| ringlb_fuzz::mount(data));
}
