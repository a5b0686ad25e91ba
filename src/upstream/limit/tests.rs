//! Table tests of the release rule and the bounded count, and the queue's accounting without
//! a runtime (bare slots, no connections).

use super::*;

#[test]
fn a_bounded_increment_stops_at_the_bound() {
    let cases = [
        (0, 1, Some(1)),
        (1, 1, None),
        (3, 4, Some(4)),
        (4, 4, None),
        (5, 4, None),
        (0, 0, None),
        (u32::MAX - 1, u32::MAX, Some(u32::MAX)),
        (u32::MAX, u32::MAX, None),
    ];
    for (value, bound, want) in cases {
        assert_eq!(bounded_increment(value, bound), want, "{value} {bound}");
    }
}

#[test]
fn a_place_goes_to_the_oldest_waiter_or_is_freed() {
    use Fate::*;
    let none = NO_WAITER;
    let cases = [
        // Nobody waits: a reusable connection is pooled, a bare slot freed.
        (None, none, 0, true, Pool),
        (None, none, 0, false, Free),
        // The local front is the oldest: it gets it, connection or slot.
        (Some(3), none, 1, true, Hand),
        (Some(3_000), 7_000, 2, false, Hand),
        // Elsewhere, one that waited at most SLACK (10 ms) longer: still handed over here.
        (Some(17_000), 7_000, 2, true, Hand),
        (Some(17_000), 7_000, 2, false, Hand),
        // Elsewhere, one that waited longer still: freed for it, never pooled.
        (Some(17_001), 7_000, 2, true, Free),
        (Some(17_001), 7_000, 2, false, Free),
        (None, 7_000, 1, true, Free),
        (None, 7_000, 1, false, Free),
    ];
    for (local, elsewhere, waiting, reusable, want) in cases {
        assert_eq!(
            fate(local, elsewhere, waiting, reusable),
            want,
            "{local:?} {elsewhere} {waiting} {reusable}"
        );
    }
}

fn gate(worker: usize, shared: &Arc<SharedLimit>) -> Rc<Gate> {
    Gate::new(shared.clone(), worker)
}

/// `ms` milliseconds after `shared`'s epoch.
fn at(shared: &SharedLimit, ms: u64) -> Instant {
    shared.epoch + Duration::from_millis(ms)
}

#[test]
fn slots_never_exceed_max_and_each_drop_gives_one_back() {
    let shared = Arc::new(SharedLimit::new(1));
    let g = gate(0, &shared);
    let slots: Vec<Slot> = (0..4).filter_map(|_| g.try_slot(4)).collect();
    assert_eq!(slots.len(), 4);
    assert!(g.try_slot(4).is_none(), "a fifth place at max 4");
    assert_eq!(shared.open(), 4);
    drop(slots);
    assert_eq!(shared.open(), 0, "every drop gave one back");
    shared.give_back();
    assert_eq!(shared.open(), 0, "never below zero");
}

#[test]
fn a_dropped_slot_goes_to_the_local_front_and_keeps_the_count() {
    let shared = Arc::new(SharedLimit::new(1));
    let g = gate(0, &shared);
    let held = g.try_slot(1).unwrap();
    let first = g.join(None, at(&shared, 1)).unwrap();
    let second = g.join(None, at(&shared, 2)).unwrap();
    assert_eq!(shared.waiting(), 2);
    assert!(g.try_admit(&first, 1).is_none(), "no free place");
    drop(held);
    assert_eq!(shared.open(), 1, "handed over, not given back");
    let granted = first.take();
    assert!(matches!(granted, Some(Grant::Slot(_))), "FIFO: the first");
    assert!(second.take().is_none());
    assert!(second.woken.get(), "the new front is woken to poll");
    assert_eq!(shared.waiting(), 1);
    assert!(g.is_front(&second));
    // The second times out: nobody waits, the count is unchanged.
    g.leave(&second);
    assert_eq!((shared.waiting(), shared.open()), (0, 1));
    assert_eq!(shared.fronts[0].load(Relaxed), NO_WAITER);
    drop(granted);
    assert_eq!(shared.open(), 0);
}

#[test]
fn a_grant_nobody_takes_is_given_back() {
    let shared = Arc::new(SharedLimit::new(1));
    let g = gate(0, &shared);
    let held = g.try_slot(1).unwrap();
    let waiter = g.join(None, at(&shared, 1)).unwrap();
    drop(held);
    assert!(waiter.grant.borrow().is_some());
    // The request went away with its grant untaken.
    drop(waiter);
    assert_eq!((shared.open(), shared.waiting()), (0, 0));
}

#[test]
fn newcomers_queue_behind_waiters_and_the_queue_is_bounded() {
    let shared = Arc::new(SharedLimit::new(1));
    let g = gate(0, &shared);
    let held = g.try_slot(2).unwrap();
    let w = g.join(Some(1), at(&shared, 1)).unwrap();
    assert!(g.try_slot(2).is_none(), "a place is free but someone waits");
    assert!(g.join(Some(1), at(&shared, 2)).is_none(), "maxqueue 1");
    assert!(
        g.join(Some(0), at(&shared, 2)).is_none(),
        "maxqueue 0: nobody waits"
    );
    let slot = g.try_admit(&w, 2).expect("the front takes the free place");
    assert_eq!((shared.open(), shared.waiting()), (2, 0));
    drop((held, slot));
    assert_eq!(shared.open(), 0);
}

#[test]
fn the_oldest_front_of_all_workers_goes_first() {
    let shared = Arc::new(SharedLimit::new(2));
    let (a, b) = (gate(0, &shared), gate(1, &shared));
    let held = a.try_slot(1).unwrap();
    // b's waiter joined 15 ms before a's: more than the slack.
    let on_b = b.join(None, at(&shared, 1)).unwrap();
    let on_a = a.join(None, at(&shared, 16)).unwrap();
    // Given back on a: its own waiter is younger, so the place is freed for b's.
    drop(held);
    assert!(on_a.take().is_none());
    assert_eq!(shared.open(), 0);
    assert!(a.try_admit(&on_a, 1).is_none(), "not the oldest");
    let slot = b.try_admit(&on_b, 1).expect("the oldest takes it");
    // Given back on b, whose queue is empty: freed, and a's waiter, the oldest now, takes it.
    drop(slot);
    assert!(on_a.take().is_none());
    assert_eq!(shared.open(), 0);
    let last = a.try_admit(&on_a, 1).expect("a's waiter is the oldest now");
    assert_eq!((shared.open(), shared.waiting()), (1, 0));
    drop(last);
    assert_eq!(shared.open(), 0);
}

#[test]
fn within_the_slack_a_place_stays_on_its_worker() {
    let shared = Arc::new(SharedLimit::new(2));
    let (a, b) = (gate(0, &shared), gate(1, &shared));
    let held = a.try_slot(1).unwrap();
    let on_b = b.join(None, at(&shared, 10)).unwrap();
    let on_a = a.join(None, at(&shared, 20)).unwrap();
    // a's waiter joined 10 ms (SLACK) after b's: handed over on a, not freed.
    drop(held);
    let granted = on_a.take();
    assert!(matches!(granted, Some(Grant::Slot(_))));
    assert_eq!((shared.open(), shared.waiting()), (1, 1));
    drop(granted);
    // Given back on a with nobody waiting there: freed, and b's waiter takes it.
    assert_eq!(shared.open(), 0);
    assert!(b.try_admit(&on_b, 1).is_some());
}
