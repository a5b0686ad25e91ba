-- wrk script for perf/bench.sh: after wrk's own report, print one machine-readable line with
-- the request count, all errors (connect, read, write, timeout, non-2xx/3xx) and latency
-- percentiles in microseconds, p99.9 included (wrk --latency stops at p99).
--
--   wrk -t1 -c64 -d10s --latency -s perf/wrk-report.lua http://127.0.0.1:8080/

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_REPORT requests=%d duration_us=%d bytes=%d errors=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
