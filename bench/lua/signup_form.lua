-- POST /register as a browser does: form-encoded, with the CSRF token and the session cookie
-- that one GET /register handed out (the harness fetches them), and a new e-mail each time.
-- Arguments after "--": a prefix unique to this wrk run, the URL-encoded CSRF token, the
-- Cookie header value, the slug of the event to sign up for.
dofile("common.lua")

local prefix, csrf_token, cookie, event_slug
local counter = 0

function init(args)
  prefix, csrf_token, cookie, event_slug = args[1], args[2], args[3], args[4]
end

function request()
  counter = counter + 1
  local body = string.format(
    "csrf_token=%s&events=%s&first_name=Bench&last_name=Person"
      .. "&email=%s-%d-%d%%40example.org&organisation=Bench+Cooperative&country=IT"
      .. "&target_group=social_economy&language=en&consent=y&website=",
    csrf_token, event_slug, prefix, thread_number, counter)
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie,
  }
  return wrk.format("POST", nil, headers, body)
end
