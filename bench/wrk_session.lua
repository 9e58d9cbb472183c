-- wrk script for bench/bench_web.py: every request carries the logged-in référent's session
-- cookie (TUTORAT_COOKIE), cycles through the paths of TUTORAT_PATHS (comma-separated, so that
-- a page is measured over several demandes or binômes), counts the answers other than 200 and
-- prints one JSON line of figures at the end.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Like a browser, the client keeps the session cookie the server sends back (the activity stamp
-- is rewritten every 30 s, tutorat/sessions.py) and always sends the same User-Agent as the login
-- (TUTORAT_UA): a client that never took the new cookie would make every request re-sign it.
local function build_requests()
  requests_ = {}
  for _, path in ipairs(paths_) do
    table.insert(requests_, wrk.format(nil, path))
  end
end

function init(args)
  non200 = 0
  cookie_ = os.getenv("TUTORAT_COOKIE") or ""
  if #cookie_ > 0 then
    wrk.headers["Cookie"] = cookie_
  end
  local agent = os.getenv("TUTORAT_UA")
  if agent and #agent > 0 then
    wrk.headers["User-Agent"] = agent
  end
  paths_ = {}
  local paths = os.getenv("TUTORAT_PATHS") or ""
  for path in string.gmatch(paths, "[^,]+") do
    table.insert(paths_, path)
  end
  build_requests()
  position = math.random(1, math.max(#requests_, 1))
end

function request()
  if #requests_ == 0 then
    return wrk.request()
  end
  position = position % #requests_ + 1
  return requests_[position]
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
  local set = headers["Set-Cookie"]
  if set and #cookie_ > 0 then
    local value = string.match(set, "^session=([^;]*)")
    if value then
      cookie_ = string.gsub(cookie_, "session=[^;]*", function() return "session=" .. value end)
      wrk.headers["Cookie"] = cookie_
      build_requests()
    end
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non200") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"non200":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, bad, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
