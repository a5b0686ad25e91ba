//! AFL++ main for the `admin_form` target: `cargo afl build --release --features afl`, then see
//! fuzz/README.md. The checks live in [`ringlb_fuzz::admin_form`].

fn main() {
    afl::fuzz!(|data: &[u8]| ringlb_fuzz::admin_form(data));
}
