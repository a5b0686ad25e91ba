//! `render_csv`: exact lines for the sample, quoting, and the status words.

use super::super::csv::{check_status, field, render_csv, status_word};
use super::super::model::Health;
use super::sample;
use crate::stats::Fault;

#[test]
fn the_sample_as_exact_lines() {
    let text = render_csv(&sample());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "# pxname,svname,qcur,scur,slim,stot,bin,bout,eresp,wretr,wredis,status,weight,act,bck,\
         chkfail,lastchg,downtime,rate,check_status,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,\
         hrsp_4xx,hrsp_5xx,cli_abrt,srv_abrt,reuse,idle_conn_cur,route,lbset,flags,\
         route_changed,err_rate"
    );
    assert_eq!(
        lines[1],
        "app,http://10.0.0.1:8080,2,3,4,1234,2048,5242880,7,3,2,DRAIN,2.5,1,0,2,3725,3700,12.5,\
         L7STS,12,1,1000,20,200,13,9,1,1000,6,n1,1,N,4,0.2"
    );
    assert_eq!(
        lines[2],
        "app,http://10.0.0.2:8080,,0,,0,0,0,0,0,0,DOWN,1,1,0,,0,0,,,,0,0,0,0,0,0,0,0,0,n2,0,E,0,"
    );
    assert_eq!(
        lines[3],
        "app,http://10.0.0.3:8080,,0,,0,0,0,0,0,0,DOWN,1,0,1,,0,0,,,,0,0,0,0,0,0,0,0,0,,0,H,0,"
    );
    assert_eq!(
        lines[4],
        "app,BACKEND,,3,,1234,2048,5242880,7,3,2,DOWN,4.5,2,1,,,,12.5,,,1,1000,20,200,13,9,1,1000,6,\
         ,,,4,0.2"
    );
    // Hostile names are quoted, so each record stays one field per column.
    assert!(
        lines[5].starts_with("\"we\"\"ird<b>\\\",http://[::1]:9000,"),
        "{}",
        lines[5]
    );
    assert!(lines[5].ends_with(",\"a\"\"b\",0,D,0,"), "{}", lines[5]);
    assert!(
        text.contains("\"http://10.0.0.5:80\n\""),
        "a line break stays inside its quotes"
    );
    assert!(text
        .lines()
        .last()
        .unwrap()
        .contains(",BACKEND,,0,,0,0,0,0,0,0,UP,3,3,0,"));
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

#[test]
fn probe_outcomes_have_haproxy_check_status_words() {
    let cases = [
        (None, "L7OK"),
        (Some(Fault::CheckConnect), "L4CON"),
        (Some(Fault::ConnectTimeout), "L4TOUT"),
        (Some(Fault::CheckTimeout), "L7TOUT"),
        (Some(Fault::CheckStatus), "L7STS"),
        (Some(Fault::CheckInvalid), "L7RSP"),
        (Some(Fault::CheckClosed), "L7RSP"),
        (Some(Fault::TlsBadName), "L6RSP"),
        (Some(Fault::CheckNotSent), "SOCKERR"),
    ];
    for (fault, want) in cases {
        assert_eq!(check_status(fault), want, "{fault:?}");
    }
}
