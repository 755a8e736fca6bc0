-- content_by_lua handlers of bench/shared-dict.ts (OpenResty's Lua): the loops of
-- shared-dict.mjs on lua_shared_dict's ngx.shared.DICT, whose get/set/incr are LuaJIT FFI
-- calls once lua-resty-core is loaded (lua-nginx-module 0.10.16 and later load it always).
local _M = {}

local KEYS = {}
for i = 0, 999 do KEYS[i + 1] = "key:" .. i end
local VALUE = "a value of 32 bytes, 0123456789."

local function count()
    local n = tonumber(ngx.var.arg_n)
    if n and n >= 0 and n == math.floor(n) then return n end
    return 100000
end

function _M.fill()
    local strings = ngx.shared.lua_strings
    for _, key in ipairs(KEYS) do strings:set(key, VALUE) end
    ngx.shared.lua_numbers:set("counter", 0)
    local ffi = package.loaded["resty.core.shdict"] and "ffi" or "no-ffi"
    ngx.print("lua ", jit and jit.version or _VERSION, " ", ffi, " ", #strings:get_keys(0), " ",
        ngx.shared.lua_numbers:get("counter"), "\n")
end

function _M.get()
    local n = count()
    local dict = ngx.shared.lua_strings
    local bytes = 0
    for i = 0, n - 1 do bytes = bytes + #dict:get(KEYS[i % 1000 + 1]) end
    ngx.print(n, " ", bytes, "\n")
end

function _M.set()
    local n = count()
    local dict = ngx.shared.lua_strings
    for i = 0, n - 1 do dict:set(KEYS[i % 1000 + 1], VALUE) end
    ngx.print(n, " ", #dict:get_keys(0), "\n")
end

function _M.incr()
    local n = count()
    local dict = ngx.shared.lua_numbers
    local last = 0
    for i = 0, n - 1 do last = dict:incr("counter", 1) end
    ngx.print(n, " ", last, "\n")
end

return _M
