-- resty.node: call Node.js functions from OpenResty's Lua, in the same nginx worker,
-- without blocking it. Needs ngx_http_node_module loaded, with node_path naming where the
-- modules are, lua-resty-core and lua-cjson.
--
--   local node = require "resty.node"
--   local demo = node.load("demo/echo")           -- "demo/echo?" for hot reload
--   local ok, res = demo:echo("hello")            -- any exported function, sync or async
--   local ok, obj = demo:call_json("sum", {1, 2}) -- JSON in and out
--
-- A call from a yieldable phase (rewrite, access, content, ngx.timer callbacks) lets other
-- requests run until the function settles. Errors come back as false, message (the stack
-- goes to the error log); a timeout (60 s, or load()'s option, or the call's last argument)
-- bounds each call.

local ffi = require "ffi"
local base = require "resty.core.base"
local semaphore = require "ngx.semaphore"
local cjson = require "cjson.safe"

local C = ffi.C
local ffi_string = ffi.string
local get_request = base.get_request
local type = type
local tostring = tostring
local error = error
local rawset = rawset
local setmetatable = setmetatable


ffi.cdef[[
typedef struct {
    int           status;
    unsigned      id;
    const char   *data;
    size_t        len;
} ngx_node_lua_result_t;

int ngx_node_lua_call(void *r, const char *module, size_t module_len,
    const char *fn, size_t fn_len, const char *payload, size_t payload_len,
    int json, ngx_node_lua_result_t *res);
int ngx_node_lua_wait(void *r, unsigned id, void **sema);
int ngx_node_lua_result(void *r, unsigned id, ngx_node_lua_result_t *res);
void ngx_node_lua_finish(void *r, unsigned id);
int ngx_node_lua_unload(void *r, const char *module, size_t module_len,
    ngx_node_lua_result_t *res);
]]


-- a module object's own fields, under keys no function name can take
local NAME, TIMEOUT = 1, 2

local PENDING, OK = 0, 1
local WAIT, ANSWERED = 0, -5   -- NGX_OK, NGX_DECLINED

-- one of each for all calls: read right after each fill, before any yield
local result = ffi.new("ngx_node_lua_result_t")
local sema_out = ffi.new("void *[1]")


local _M = { _VERSION = "0.1.0" }

local methods = {}
local mt = {}


local function call(self, fn, payload, json, timeout)
    local r = get_request()
    if not r then
        return false, "resty.node: no request here; call from a request "
                      .. "phase or an ngx.timer callback"
    end

    local wait = tonumber(timeout or self[TIMEOUT])
    if not wait or wait < 0 then
        return false, "resty.node: the timeout must be a number of seconds, "
                      .. "not " .. tostring(timeout)
    end

    if payload ~= nil and type(payload) ~= "string" then
        payload = tostring(payload)
    end

    C.ngx_node_lua_call(r, self[NAME], #self[NAME], fn, #fn, payload,
                        payload and #payload or 0, json and 1 or 0, result)

    if result.status == PENDING then
        local id = result.id
        local rc = C.ngx_node_lua_wait(r, id, sema_out)

        if rc == WAIT then
            -- the semaphore belongs to the call (ngx_node_lua.c frees it);
            -- ngx.semaphore's wait() takes it as it takes its own
            local ok, err = semaphore.wait({ sem = sema_out[0] }, wait)

            if not ok then
                C.ngx_node_lua_finish(r, id)
                if err == "timeout" then
                    return false, "resty.node: " .. self[NAME] .. ":" .. fn
                                  .. "() did not answer within " .. wait .. "s"
                end
                return false, "resty.node: " .. self[NAME] .. ":" .. fn
                              .. "() is asynchronous and this phase cannot "
                              .. "wait for it (" .. tostring(err) .. "); call "
                              .. "it from rewrite, access or content, or in "
                              .. "an ngx.timer callback"
            end

        elseif rc ~= ANSWERED then
            C.ngx_node_lua_finish(r, id)
            return false, "resty.node: cannot wait for " .. self[NAME] .. ":"
                          .. fn .. "() (see the error log)"
        end

        C.ngx_node_lua_result(r, id, result)
    end

    local ok = result.status == OK
    local data = ffi_string(result.data, result.len)

    if result.id ~= 0 then
        C.ngx_node_lua_finish(r, result.id)
    end

    return ok, data
end


--- A module under node_path, imported when first called. A name ending in "?" makes it
--- hot-reloadable: after unload(), the next call imports the file afresh.
function _M.load(name, opts)
    if type(name) ~= "string" or name == "" then
        error("resty.node.load(name): the module's name under node_path", 2)
    end

    local timeout = opts and opts.timeout or 60
    if type(timeout) ~= "number" or timeout < 0 then
        error("resty.node.load(name, { timeout = seconds }): a number of "
              .. "seconds, not " .. tostring(timeout), 2)
    end

    return setmetatable({ [NAME] = name, [TIMEOUT] = timeout }, mt)
end


--- module:call(fn, payload[, timeout]): the function named fn, payload a string
function methods.call(self, fn, payload, timeout)
    return call(self, fn, payload, false, timeout)
end


--- module:call_json(fn, value[, timeout]): value as JSON in, the result decoded
function methods.call_json(self, fn, value, timeout)
    local encoded, err = cjson.encode(value)
    if encoded == nil then
        return false, "resty.node: cannot encode the argument as JSON: " .. err
    end

    local ok, res = call(self, fn, encoded, true, timeout)
    if not ok then
        return false, res
    end

    local decoded
    decoded, err = cjson.decode(res)
    if decoded == nil then
        return false, "resty.node: " .. self[NAME] .. ":" .. fn
                      .. "() did not answer JSON: " .. tostring(err)
    end

    if decoded == cjson.null then
        decoded = nil
    end

    return true, decoded
end


--- module:unload(): the next call imports the module afresh (in this worker)
function methods.unload(self)
    local r = get_request()
    if not r then
        return false, "resty.node: no request here"
    end

    C.ngx_node_lua_unload(r, self[NAME], #self[NAME], result)

    if result.status ~= OK then
        return false, ffi_string(result.data, result.len)
    end

    return true
end


-- any other name is a function of the module: module:fn(payload[, timeout])
mt.__index = function(self, key)
    local method = methods[key]
    if method then
        return method
    end

    local fn = function(module, payload, timeout)
        return call(module, key, payload, false, timeout)
    end

    rawset(self, key, fn)
    return fn
end


return _M
