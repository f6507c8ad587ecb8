-- wrk script for `deno task bench`: sets the method, body and content type from the
-- environment (WRK_METHOD, WRK_BODY, WRK_CONTENT_TYPE, WRK_AUTHORIZATION) and prints one machine-readable
-- summary line ("WRK_JSON {...}") when the run ends. Latencies are in microseconds.
wrk.method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
if body ~= nil and body ~= "" then wrk.body = body end
local content_type = os.getenv("WRK_CONTENT_TYPE")
if content_type ~= nil and content_type ~= "" then wrk.headers["Content-Type"] = content_type end
local authorization = os.getenv("WRK_AUTHORIZATION")
if authorization ~= nil and authorization ~= "" then wrk.headers["Authorization"] = authorization end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
