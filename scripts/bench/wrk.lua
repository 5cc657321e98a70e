-- wrk script for scripts/bench.sh: MODE = start-registration | login | refresh.
-- Every request must succeed (2xx); done() prints one JSON line of figures.
local mode = os.getenv("MODE")
local api_key = os.getenv("API_KEY")
local password = "Orchid!Lantern58"
local threads = {}
local counter = 0
-- `id` and `token` are globals: setup() gives each thread its own.

-- Line n of a file (the value for thread n).
local function nth_line(path, n)
  local f = assert(io.open(path, "r"))
  local i, found = 0, nil
  for line in f:lines() do
    i = i + 1
    if i == n then found = line end
  end
  f:close()
  return found
end

function setup(thread)
  local n = #threads + 1
  thread:set("id", n)
  if mode == "login" then
    -- Each thread signs in as one device, with the device token its first
    -- sign-in got (as a client does): the device has its own failure
    -- allowance, so the account's is not what parallel sign-ins spend (a
    -- burst of more than six sign-ins of one account at once without
    -- device tokens is refused like a burst of guesses).
    thread:set("device_token", nth_line(os.getenv("DEVICES"), n))
  end
  if mode == "refresh" then
    -- One token chain per thread (wrk -t N -c N: one connection each).
    thread:set("token", nth_line(os.getenv("TOKENS"), n))
  end
  table.insert(threads, thread)
end

function init(args)
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-API-Key"] = api_key
  wrk.headers["X-Device-ID"] = "load-device-" .. id
end

function request()
  counter = counter + 1
  if mode == "start-registration" then
    local body = string.format(
      '{"email":"load-%d-%d-%d@example.com","password":"%s","first_name":"Load","last_name":"Test",' ..
      '"terms_accepted":true,"privacy_policy_accepted":true}', os.time(), id, counter, password)
    return wrk.format("POST", "/v1/registrations", nil, body)
  elseif mode == "login" then
    return wrk.format("POST", "/v1/auth/login", nil,
      string.format('{"username":"%s","password":"%s","device_token":"%s"}', os.getenv("USERNAME"), password,
        device_token))
  else
    return wrk.format("POST", "/v1/auth/refresh", nil, string.format('{"refresh_token":"%s"}', token))
  end
end

function response(status, headers, body)
  if mode == "refresh" and status == 200 then
    local next_token = body:match('"refresh_token":"([^"]+)"')
    if next_token then token = next_token end
  end
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"mode":"%s","connections":%s,"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,' ..
    '"max_ms":%.3f,"non_2xx":%d,"socket_errors":%d}\n',
    mode, os.getenv("CONNECTIONS"), summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.status, errors))
end
