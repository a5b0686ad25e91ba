use std::time::Duration;

use super::auth::basic;
use crate::admin::access::{Access, Verified, VERIFIED_FOR, VERIFIED_MAX};
use crate::clock;
use crate::config::AdminConfig;

fn htpasswd_file(tag: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ringlb-access-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("htpasswd");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn verified_entries_expire_and_stay_bounded() {
    let t0 = clock::now();
    let mut v = Verified::default();
    v.insert(1, t0 + VERIFIED_FOR, t0);
    assert!(v.valid(1, t0));
    assert!(v.valid(1, t0 + VERIFIED_FOR - Duration::from_millis(1)));
    assert!(!v.valid(1, t0 + VERIFIED_FOR), "expired at its deadline");
    assert!(!v.valid(2, t0), "never verified");

    // Full: the one that expires soonest goes; a newer one stays.
    let mut v = Verified::default();
    for k in 0..VERIFIED_MAX as u64 {
        v.insert(k, t0 + Duration::from_secs(100 + k), t0);
    }
    v.insert(1000, t0 + Duration::from_secs(500), t0);
    assert!(!v.valid(0, t0), "soonest evicted");
    assert!(v.valid(1, t0) && v.valid(1000, t0));
    let count = (0..VERIFIED_MAX as u64)
        .chain([1000])
        .filter(|&k| v.valid(k, t0))
        .count();
    assert_eq!(count, VERIFIED_MAX);
    // Expired entries are dropped first, keeping every live one.
    let later = t0 + Duration::from_secs(101);
    v.insert(2000, later + VERIFIED_FOR, later);
    assert!(v.valid(2, later) && v.valid(1000, later) && v.valid(2000, later));
}

#[test]
fn credentials_checked_then_cached() {
    let hash = bcrypt::hash("secret", 4).unwrap();
    let path = htpasswd_file("cache", &format!("ops:{hash}\n"));
    let cfg = AdminConfig {
        htpasswd: Some(path.clone()),
        ..AdminConfig::default()
    };
    let access = Access::load(&cfg).unwrap();
    let now = clock::now();
    let good = basic("ops", "secret");
    let wrong = basic("ops", "wrong");
    assert!(!access.authenticated(None, now));
    assert!(!access.authenticated(Some(&wrong), now));
    assert!(!access.cached(&wrong, now), "failures are not remembered");
    assert!(!access.cached(&good, now));
    assert!(access.authenticated(Some(&good), now));
    assert!(
        access.cached(&good, now + VERIFIED_FOR / 2),
        "no bcrypt check in the window"
    );
    assert!(
        !access.cached(&good, now + VERIFIED_FOR),
        "checked again after it"
    );
    assert!(access.authenticated(Some(&good), now + VERIFIED_FOR * 2));
    assert!(access.cached(&good, now + VERIFIED_FOR * 2));
    assert!(!access.authenticated(Some(&wrong), now));
    let _ = std::fs::remove_dir_all(path.parent().unwrap());

    let open = Access::load(&AdminConfig::default()).unwrap();
    assert!(open.authenticated(None, now), "no htpasswd file: no auth");
}

#[test]
fn load_names_what_is_wrong() {
    let missing = AdminConfig {
        htpasswd: Some("/nonexistent/ringlb/htpasswd".into()),
        ..AdminConfig::default()
    };
    let err = Access::load(&missing).unwrap_err();
    assert!(err.contains("/nonexistent/ringlb/htpasswd"), "{err}");
    let path = htpasswd_file("bad", "ops:{SHA}abc\n");
    let bad = AdminConfig {
        htpasswd: Some(path.clone()),
        ..AdminConfig::default()
    };
    let err = Access::load(&bad).unwrap_err();
    assert!(err.contains("line 1") && err.contains("{SHA}"), "{err}");
    assert!(err.starts_with(&format!("{}: ", path.display())), "{err}");
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
    let allow = AdminConfig {
        allow: vec!["10.0.0.0/33".into()],
        ..AdminConfig::default()
    };
    assert!(Access::load(&allow).is_err());
}
