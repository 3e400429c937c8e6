-- wrk script for benchmarks/bench_inbound.py: replays pre-signed webhooks, each once.
-- Arguments: <file of "signature<TAB>body" lines> <number of wrk threads>.
local threads = 0

function setup(thread)
  thread:set("index", threads)
  threads = threads + 1
end

local requests, next_request = {}, 1

function init(args)
  local count = tonumber(args[2])
  local line_number = 0
  for line in io.lines(args[1]) do
    -- Every thread takes its own share, so no MessageSid is sent twice.
    if line_number % count == index then
      local signature, body = line:match("^([^\t]*)\t(.*)$")
      requests[#requests + 1] = wrk.format("POST", "/sms/inbound", {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = signature,
      }, body)
    end
    line_number = line_number + 1
  end
end

function request()
  local request = requests[next_request]
  next_request = next_request + 1
  if next_request > #requests then
    next_request = 1  -- only when the run outlasts the file (the benchmark says so)
  end
  return request
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
