// What OpenResty's Lua calls through resty.node in the Lua-bridge benchmark (bench/lua-bridge.ts).
import { setImmediate as nextTurn } from 'node:timers/promises';

/** answers during the call: Lua does not yield */
export function echo(payload) {
    return payload;
}

/** an async function that awaits nothing: settles in the call's microtask checkpoint */
export async function echoAsync(payload) {
    return payload;
}

/** awaits a turn of the event loop, as real I/O would: the coroutine yields and is woken */
export async function echoNextTurn(payload) {
    await nextTurn();
    return payload;
}
