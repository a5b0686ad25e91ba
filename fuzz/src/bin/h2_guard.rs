//! AFL++ main for the `h2_guard` target: `cargo afl build --release --features afl`, then see
//! fuzz/README.md. The checks live in [`ringlb_fuzz::h2_guard`].

fn main() {
    afl::fuzz!(|data: &[u8]| ringlb_fuzz::h2_guard(data));
}
