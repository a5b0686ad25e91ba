//! `render_csv`: exact lines for the sample, quoting, and the status words.

use super::super::csv::{field, render_csv, status_word};
use super::super::model::Health;
use super::sample;

#[test]
fn the_sample_as_exact_lines() {
    let text = render_csv(&sample());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "# pxname,svname,qcur,scur,slim,stot,bin,bout,eresp,status,weight,act,bck,chkfail,\
         lastchg,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,route,lbset,flags"
    );
    assert_eq!(
        lines[1],
        "app,http://10.0.0.1:8080,2,3,4,1234,2048,5242880,7,DRAIN,2.5,1,0,2,3725,1,1000,20,200,13,n1,1,N"
    );
    assert_eq!(
        lines[2],
        "app,http://10.0.0.2:8080,,0,,0,0,0,0,DOWN,1,1,0,,0,0,0,0,0,0,n2,0,E"
    );
    assert_eq!(
        lines[3],
        "app,http://10.0.0.3:8080,,0,,0,0,0,0,DOWN,1,0,1,,0,0,0,0,0,0,,0,H"
    );
    assert_eq!(
        lines[4],
        "app,BACKEND,,3,,1234,2048,5242880,7,DOWN,4.5,2,1,,,1,1000,20,200,13,,,"
    );
    // Hostile names are quoted, so each record stays one field per column.
    assert!(
        lines[5].starts_with("\"we\"\"ird<b>\\\",http://[::1]:9000,"),
        "{}",
        lines[5]
    );
    assert!(lines[5].ends_with(",\"a\"\"b\",0,D"), "{}", lines[5]);
    assert!(
        text.contains("\"http://10.0.0.5:80\n\""),
        "a line break stays inside its quotes"
    );
    assert!(text
        .lines()
        .last()
        .unwrap()
        .contains(",BACKEND,,0,,0,0,0,0,UP,3,3,0,"));
}

#[test]
fn every_health_has_a_haproxy_status_word() {
    let cases = [
        (Health::Ok, "UP"),
        (Health::Draining, "DRAIN"),
        (Health::InError { retry_in_secs: 3 }, "DOWN"),
        (Health::HcFailed, "DOWN"),
        (Health::Disabled, "MAINT"),
        (Health::Stopped, "MAINT"),
    ];
    for (health, want) in cases {
        assert_eq!(status_word(health), want, "{health:?}");
    }
}

#[test]
fn fields_are_quoted_only_when_needed() {
    let cases = [
        ("plain", "plain"),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("two\nlines", "\"two\nlines\""),
        ("", ""),
    ];
    for (text, want) in cases {
        assert_eq!(field(text), want, "{text:?}");
    }
}
