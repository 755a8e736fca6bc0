-- The Lua side of bench/lua-bridge.ts: round trips to Node through resty.node, and through
-- a cosocket to a Node server on a unix socket, in a loop within one request, for a given
-- time. Answers "calls elapsed_ns".
local ffi = require "ffi"
local node = require "resty.node"

ffi.cdef[[
struct ngx_node_bench_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clock, struct ngx_node_bench_timespec *ts);
]]

local CLOCK_MONOTONIC = 1
local ts = ffi.new("struct ngx_node_bench_timespec")

local function now_ns()
    ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
    return tonumber(ts.tv_sec) * 1e9 + tonumber(ts.tv_nsec)
end

local echo = node.load("bridge-echo")

local payloads = {}

-- bytes of every value, NUL included, the same for every engine
local function payload(size)
    local p = payloads[size]
    if not p then
        local bytes = {}
        for i = 1, size do
            bytes[i] = string.char((i * 31 + 7) % 256)
        end
        p = table.concat(bytes)
        payloads[size] = p
    end
    return p
end

local function frame(p)
    local n = #p
    return string.char(math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256,
                       math.floor(n / 256) % 256, n % 256) .. p
end

local function node_call(fn)
    return function(p)
        local ok, res = echo[fn](echo, p)
        if not ok or res ~= p then
            error("resty.node " .. fn .. " answered " .. tostring(ok) .. " with "
                  .. #tostring(res) .. " bytes")
        end
    end
end

local function socket_call(path)
    local sock = ngx.socket.tcp()
    local ok, err = sock:connect("unix:" .. path)
    if not ok then
        error("cannot connect to the echo server: " .. err)
    end
    return function(p, framed)
        local sent, err = sock:send(framed)
        if not sent then error("send: " .. err) end
        local header
        header, err = sock:receive(4)
        if not header then error("receive: " .. err) end
        local b1, b2, b3, b4 = header:byte(1, 4)
        local body
        body, err = sock:receive(((b1 * 256 + b2) * 256 + b3) * 256 + b4)
        if not body then error("receive: " .. err) end
        if body ~= p then error("the echo server answered other bytes") end
    end, sock
end

local _M = {}

function _M.run()
    local args = ngx.req.get_uri_args()
    local size = tonumber(args.size)
    local seconds = tonumber(args.seconds) or 1
    local p = payload(size)
    local framed = frame(p)

    local call, sock
    if args.via == "socket" then
        call, sock = socket_call(args.path)
    else
        call = node_call(args.fn)
    end

    for _ = 1, 100 do
        call(p, framed)  -- warm up: JIT traces, connection, buffers
    end

    local calls = 0
    local started = now_ns()
    local deadline = started + seconds * 1e9
    local t = started
    while t < deadline do
        for _ = 1, 16 do
            call(p, framed)
        end
        calls = calls + 16
        t = now_ns()
    end

    if sock then
        sock:close()
    end

    ngx.say(calls, " ", string.format("%.0f", t - started))
end

return _M
