/**
 * Requests left without an answer. A content handler may return without responding and
 * respond later from a callback (njs style); the request waits for that only while some code
 * can still reach its `r`. Once nothing does (the handler started nothing, or what it started
 * finished without responding), the garbage collector finds `r` unreachable, and the request
 * is answered 500 at once instead of waiting for node_timeout.
 *
 * V8 finds unreachable FinalizationRegistry targets in full collections only. One is asked
 * for shortly after such a handler returns; while such requests keep waiting, the next ones
 * come at doubling intervals, at most one every two seconds: a full collection of a heap of
 * tens of megabytes takes some milliseconds.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { HTTP_OP, native } from '../binding';
import { LogLevel } from '../log';
import { Outcome } from './request';

/** V8's gc(): a full collection (its options differ between V8 versions; none are used) */
type Collect = () => void;

const FIRST_COLLECTION_MS = 50;
const LONGEST_INTERVAL_MS = 2000;

/** V8's gc(), from a context of its own: the handlers' global scope does not get one. */
function collector(): Collect | undefined {
    try {
        setFlagsFromString('--expose-gc');
        return runInNewContext('gc') as Collect;
    } catch {
        return undefined;
    }
}

interface Watched {
    handle: number;
    subject: string;
}

export class AbandonedRequests {
    private readonly waiting = new Map<number, Watched>();
    private readonly registry = new FinalizationRegistry<Watched>((watched) => this.collected(watched));
    private readonly collect = collector();
    private timer: NodeJS.Timeout | undefined = undefined;
    private interval = FIRST_COLLECTION_MS;

    /** `r` returned without responding: answer 500 if it becomes unreachable first. */
    watch(r: object, handle: number, subject: string): void {
        const watched = { handle, subject };
        this.waiting.set(handle, watched);
        this.registry.register(r, watched, r);
        this.schedule();
    }

    /** The response ended. */
    forget(r: object, handle: number): void {
        if (this.waiting.delete(handle)) this.registry.unregister(r);
    }

    private schedule(): void {
        if (this.timer !== undefined || this.collect === undefined) return;
        this.timer = setTimeout(() => {
            this.timer = undefined;
            if (this.waiting.size === 0) {
                this.interval = FIRST_COLLECTION_MS;
                return;
            }
            this.collect?.();
            this.interval = Math.min(this.interval * 2, LONGEST_INTERVAL_MS);
            this.schedule();
        }, this.interval).unref();
    }

    private collected(watched: Watched): void {
        if (this.waiting.get(watched.handle) !== watched) return;
        this.waiting.delete(watched.handle);
        if (this.waiting.size === 0) this.interval = FIRST_COLLECTION_MS;
        try {
            native(watched.handle, HTTP_OP.log, LogLevel.ERR,
                `${watched.subject} returned without ending the response, and nothing it started can ` +
                'end it any more (no pending callback refers to r); answering 500. End the response ' +
                'with r.return(), r.finish() or r.internalRedirect(), or return a promise');
            native(watched.handle, HTTP_OP.done, Outcome.Error);
        } catch {
            // the request ended meanwhile (node_timeout, the client went away)
        }
    }
}

export const abandoned = new AbandonedRequests();
