//! AFL++ main for the `admin_json` target: `cargo afl build --release --features afl`, then see
//! fuzz/README.md. The checks live in [`ringlb_fuzz::admin_json`].

fn main() {
    afl::fuzz!(|data: &[u8]| ringlb_fuzz::admin_json(data));
}
