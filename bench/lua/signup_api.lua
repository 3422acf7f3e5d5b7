-- POST /api/v1/events/<slug>/registrations with a JSON body and a new e-mail address each time.
-- Arguments after "--": a prefix that is unique to this wrk run.
dofile("common.lua")

local prefix
local counter = 0

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
