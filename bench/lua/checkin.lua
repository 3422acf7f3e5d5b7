-- POST /api/v1/checkin with an organiser's Bearer token, cycling through ticket secrets.
-- Arguments after "--": the token, the event's slug, then the ticket secrets.
-- A secret scanned twice is answered "already_checked_in" (200), as at a real door.
dofile("common.lua")

local secrets = {}
local headers
local event
local counter = 0

function init(args)
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[1] }
  event = args[2]
  for i = 3, #args do
    secrets[#secrets + 1] = args[i]
  end
  counter = thread_number * 7919
end

function request()
  counter = counter + 1
  local secret = secrets[(counter % #secrets) + 1]
  local body = string.format('{"secret": "%s", "event": "%s"}', secret, event)
  return wrk.format("POST", nil, headers, body)
end
