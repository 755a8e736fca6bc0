-- content_by_lua handlers of the benchmark (OpenResty's Lua on Debian's packages); the same
-- steps as logic.mjs (JWT), transform.mjs and routing.mjs. HMAC-SHA256 comes from lua-luaossl
-- (OpenSSL), base64url from lua-resty-core.
local hmac = require "openssl.hmac"
local b64 = require "ngx.base64"
local cjson = require "cjson.safe"

local _M = {}

local JWT_SECRET = "ngx-node-bench-secret-of-32-bytes-or-more"
local JWT_ISSUER = "ngx-node-bench"
local JWT_AUDIENCE = "bench"

local function respond(status, body, content_type)
    ngx.status = status
    if content_type then
        ngx.header["Content-Type"] = content_type
    end
    ngx.header["Content-Length"] = #body
    ngx.print(body)
end

function _M.hello()
    respond(200, "hello\n")
end

local function verify_jwt(authorization, now)
    if not authorization or authorization:sub(1, 7) ~= "Bearer " then return nil end
    local token = authorization:sub(8)
    local h, p, s = token:match("^([^.]+)%.([^.]+)%.([^.]+)$")
    if not h then return nil end
    local expected = b64.encode_base64url(hmac.new(JWT_SECRET, "sha256"):final(h .. "." .. p))
    if expected ~= s then return nil end
    local header = cjson.decode(b64.decode_base64url(h) or "")
    if not header or header.alg ~= "HS256" then return nil end
    local claims = cjson.decode(b64.decode_base64url(p) or "")
    if not claims then return nil end
    local aud = claims.aud
    local audience_ok = false
    if type(aud) == "table" then
        for _, a in ipairs(aud) do
            if a == JWT_AUDIENCE then audience_ok = true end
        end
    else
        audience_ok = aud == JWT_AUDIENCE
    end
    if type(claims.exp) ~= "number" or claims.exp <= now then return nil end
    if claims.iss ~= JWT_ISSUER or not audience_ok then return nil end
    return claims.sub
end

function _M.jwt()
    local sub = verify_jwt(ngx.var.http_authorization, ngx.now())
    if not sub then
        return respond(401, "denied\n")
    end
    respond(200, "hello " .. sub .. "\n")
end

local floor = math.floor
local function round2(x)
    return floor(x * 100 + 0.5) / 100
end

function _M.transform()
    ngx.req.read_body()
    local order = cjson.decode(ngx.req.get_body_data() or "")
    local total = 0
    local lines = {}
    for _, item in ipairs(order.items) do
        if item.qty > 0 then
            local amount = round2(item.qty * item.unitPrice)
            total = total + amount
            lines[#lines + 1] = { sku = item.sku, name = item.name, quantity = item.qty, amount = amount }
        end
    end
    respond(200, cjson.encode({
        id = order.orderId,
        customer = { id = order.customer.id, name = order.customer.name },
        shipTo = order.shipping.city .. ", " .. order.shipping.country,
        lines = lines,
        total = round2(total),
        currency = order.currency,
    }), "application/json")
end

-- routing: the same rules, FNV-1a and ring as routing.mjs
local bit = require "bit"
local ROUTES = {}
for i = 0, 299 do
    ROUTES[#ROUTES + 1] = {
        method = (i % 3 == 0) and "POST" or "GET",
        prefix = "/api/v" .. (1 + i % 4) .. "/service" .. i .. "/",
        header = (i % 5 == 0) and "x-tenant" or "",
        pool = "pool" .. (i % 7),
    }
end

local function fnv1a(text)
    local hash = 0x811c9dc5
    for i = 1, #text do
        hash = bit.bxor(hash, text:byte(i))
        -- 32-bit multiply by 0x01000193, kept in range
        hash = (hash * 0x193 + bit.lshift(bit.band(hash, 0xff), 24)) % 4294967296
    end
    return hash
end

local RING = {}
for b = 0, 9 do
    for v = 0, 15 do
        RING[#RING + 1] = { hash = fnv1a("backend" .. b .. "#" .. v), backend = "10.0.0." .. (b + 1) .. ":8080" }
    end
end
table.sort(RING, function(x, y) return x.hash < y.hash end)

local function route(method, path, tenant, user)
    local pool = "default"
    for i = 1, #ROUTES do
        local rule = ROUTES[i]
        if rule.method == method and path:sub(1, #rule.prefix) == rule.prefix and (rule.header == "" or tenant ~= "") then
            pool = rule.pool
            break
        end
    end
    local hash = fnv1a(pool .. ":" .. user)
    local lo, hi = 1, #RING
    while lo < hi do
        local mid = bit.rshift(lo + hi, 1)
        if RING[mid].hash < hash then lo = mid + 1 else hi = mid end
    end
    local backend = RING[lo].hash >= hash and RING[lo].backend or RING[1].backend
    return pool .. " " .. backend .. "\n"
end

function _M.routing()
    respond(200, route(ngx.req.get_method(), ngx.var.http_x_route_path or "", ngx.var.http_x_tenant or "", ngx.var.http_x_user or ""))
end

return _M
