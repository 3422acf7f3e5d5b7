-- POST /api/v1/events/<slug>/registrations with a JSON body and a new e-mail address each time.
-- Arguments after "--": a prefix that is unique to this wrk run.
dofile("report.lua")

local next_thread = 0
local prefix
local counter = 0

function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_number", next_thread)
end

function init(args)
  prefix = args[1]
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"first_name": "Bench", "last_name": "Person", '
      .. '"email": "%s-%d-%d@example.org", "organisation": "Bench Cooperative", '
      .. '"country": "IT", "target_group": "social_economy", "language": "en", "consent": true}',
    prefix, thread_number, counter)
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
