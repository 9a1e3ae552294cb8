-- One request shape for a whole wrk run, from the command line after "--":
--   RUN METHOD PATH BODY [HEADER VALUE]...
-- Every "{n}" in the path, body or a header value becomes a token unique to that request in this run
-- (distinct comment bodies, author emails and reader ids), so no request is refused as a repeat.
local run, method, path, body
local headers = {}
local sent = 0

function init(args)
  run, method, path, body = args[1], args[2], args[3], args[4]
  for i = 5, #args, 2 do
    headers[args[i]] = args[i + 1]
  end
end

local function fill(text, token)
  return (string.gsub(text, "{n}", token))
end

function request()
  sent = sent + 1
  local token = run .. "x" .. thread_number .. "x" .. sent
  local filled = {}
  for name, value in pairs(headers) do
    filled[name] = fill(value, token)
  end
  local payload = nil
  if body ~= "" then
    payload = fill(body, token)
  end
  return wrk.format(method, fill(path, token), filled, payload)
end
