/**
 * Calling stream handlers: node_access and node_preread (which decide, at once, after data
 * came to an s.on("upload") callback, or asynchronously), node_set, node_filter and the
 * callbacks it registers, per chunk. Sessions live from their first handler to their end.
 */
import { Dispatch, Flag } from '../abi';
import { native, STREAM_OP } from '../binding';
import { inFetchScope } from '../fetch/scope';
import type { HandlerSlot } from '../handler-slot';
import { isThenable, rejection, report, reportFailure } from '../reporting';
import { VariableValue, variableValue } from '../variables';
import { StreamSession } from './session';

const NO_DATA = Buffer.alloc(0);

/** Data from nginx: ASCII as a string, other bytes as a Buffer (NGX_NODE_ASCII_OR_BYTES). */
function textOrBytes(arg: unknown): string | Buffer {
    return typeof arg === 'string' || arg instanceof Buffer ? arg : NO_DATA;
}

export class StreamSessions {
    private readonly sessions = new Map<number, StreamSession>();

    private session(handle: number): StreamSession {
        let s = this.sessions.get(handle);
        if (s === undefined) {
            s = new StreamSession(handle);
            this.sessions.set(handle, s);
        }
        return s;
    }

    /** The session ended: its `s` goes. */
    close(handle: number): Dispatch {
        this.sessions.delete(handle);
        return Dispatch.Done;
    }

    private unavailable(slot: HandlerSlot, s: StreamSession): boolean {
        if (slot.fn !== undefined) return false;
        report(s, `${slot.subject} cannot run: ${slot.unavailable}`);
        return true;
    }

    /**
     * node_access, node_preread. The handler runs at the phase's first call; then (and with each
     * read of more data, for preread) an upload callback gets all the data read so far. Done
     * once decided; Again while an upload callback waits for data; Pending while something
     * else will decide (a promise, a callback).
     */
    phase(slot: HandlerSlot, handle: number, arg: unknown, flags: number): Dispatch {
        const s = this.session(handle);
        if (this.unavailable(slot, s)) return Dispatch.Failed;
        if (flags & Flag.First) {
            s.beginRound();
            let result: unknown;
            try {
                result = slot.call(s);
            } catch (error) {
                reportFailure(s, slot.subject, error);
                return Dispatch.Failed;
            }
            if (isThenable(result)) {
                s.awaiting = true;
                result.then(() => this.settled(s, slot), (error: unknown) => this.settled(s, slot, rejection(error)));
            }
        }
        if (s.decided) return Dispatch.Done;
        const upload = s.listeners[0];
        if (upload !== undefined) {
            try {
                inFetchScope(s, () => upload.callback(StreamSession.dataSoFar(upload, textOrBytes(arg)),
                    { last: false, from_upstream: false }));
            } catch (error) {
                reportFailure(s, `${slot.subject}: its "${upload.name}" callback`, error);
                return Dispatch.Failed;
            }
            if (s.decided) return Dispatch.Done;
            if (s.listeners[0] !== undefined) return Dispatch.Again;
        }
        return Dispatch.Pending;
    }

    /** An async phase handler settled: undecided, and nothing waits for data, is a failure. */
    private settled(s: StreamSession, slot: HandlerSlot, failure?: unknown): void {
        s.awaiting = false;
        try {
            if (failure !== undefined) {
                reportFailure(s, slot.subject, failure);
                if (!s.decided) s.fail();
            } else if (!s.decided && s.listeners[0] === undefined) {
                report(s, `${slot.subject} resolved without deciding; call s.allow(), s.deny(), ` +
                    's.decline() or s.done() before it resolves');
                s.fail();
            }
        } catch {
            // the session has ended
        }
    }

    variable(slot: HandlerSlot, handle: number): VariableValue {
        const s = this.session(handle);
        if (this.unavailable(slot, s)) return undefined;
        if (slot.isAsync) {
            report(s, `${slot.subject} is async: its value is awaited after the preread phase of sessions in ` +
                'the server that declares it, and was needed earlier (in node_access?) or in another server');
            return undefined;
        }
        let value: unknown;
        try {
            value = slot.call(s);
        } catch (error) {
            reportFailure(s, slot.subject, error);
            return undefined;
        }
        if (isThenable(value)) {
            report(s, `${slot.subject} returned a Promise; make it an async function to have it awaited after preread`);
            return undefined;
        }
        return variableValue(value ?? s.takeReturnValue());
    }

    /** An async node_set, awaited once the session is let through the preread phase. */
    prefetch(slot: HandlerSlot, index: number, handle: number): Dispatch {
        if (slot.fn === undefined || !slot.isAsync) return Dispatch.Skipped;
        const s = this.session(handle);
        let result: unknown;
        try {
            result = slot.call(s);
        } catch (error) {
            reportFailure(s, slot.subject, error);
            return Dispatch.Failed;
        }
        const prefetched = (value: unknown) => {
            try {
                native(handle, STREAM_OP.prefetched, index, variableValue(value ?? s.takeReturnValue()));
            } catch {
                // the session has ended
            }
        };
        Promise.resolve(result).then(prefetched, (error: unknown) => {
            reportFailure(s, slot.subject, rejection(error));
            prefetched(undefined);
        });
        return Dispatch.Pending;
    }

    /** node_filter's function, at the session's first chunk: it registers s.on() callbacks. */
    filter(slot: HandlerSlot, handle: number): Dispatch {
        const s = this.session(handle);
        s.filtering = true;
        if (this.unavailable(slot, s)) return Dispatch.Failed;
        try {
            const result = slot.call(s);
            if (isThenable(result)) {
                result.then(undefined, (error: unknown) => reportFailure(s, slot.subject, rejection(error)));
            }
        } catch (error) {
            reportFailure(s, slot.subject, error);
            return Dispatch.Failed;
        }
        return Dispatch.Done;
    }

    /** A chunk: to the callback of its direction (Done, or Pending if it is async), else Pass. */
    chunk(slot: HandlerSlot, handle: number, arg: unknown, flags: number): Dispatch {
        const s = this.session(handle);
        const fromUpstream = (flags & Flag.Upstream) !== 0;
        const listener = s.listeners[fromUpstream ? 1 : 0];
        if (listener === undefined) return Dispatch.Pass;
        const chunkFlags = { last: (flags & Flag.Last) !== 0, from_upstream: fromUpstream };
        const subject = `${slot.subject}: its "${listener.name}" callback`;
        let result: unknown;
        s.chunk = chunkFlags;
        try {
            const data = textOrBytes(arg);
            result = inFetchScope(s, () => listener.callback(StreamSession.data(listener, data, chunkFlags.last), chunkFlags));
        } catch (error) {
            reportFailure(s, subject, error);
            return Dispatch.Failed;
        } finally {
            s.chunk = undefined;
        }
        if (!isThenable(result)) return Dispatch.Done;
        const settled = (failed: boolean) => {
            try {
                native(handle, STREAM_OP.chunkDone, fromUpstream, failed);
            } catch {
                // the session has ended
            }
        };
        result.then(() => settled(false), (error: unknown) => {
            reportFailure(s, subject, rejection(error));
            settled(true);
        });
        return Dispatch.Pending;
    }
}
