/**
 * What each handler did since the last flush: calls, errors, and a latency histogram over the
 * bounds the module gives (the same for every handler). HandlerSlot.call counts; the flush
 * hands the counts to the zone and starts again from zero.
 */
import { performance } from 'node:perf_hooks';

/** per handler in the flushed record: handler, calls, errors, sum, then a count per bucket */
const HEAD = 4;

export class HandlerStats {
    private calls = 0;
    private errors = 0;
    private sum = 0;
    private readonly counts: Float64Array;
    private dirty = false;

    constructor(private readonly index: number, private readonly table: HandlerStatsTable) {
        this.counts = new Float64Array(table.bounds.length + 1);
    }

    /** A call starts: the time it started. */
    begin(): number {
        this.calls++;
        this.touch();
        return performance.now();
    }

    /** The call returned, or the promise it returned settled. */
    end(began: number, failed: boolean): void {
        const seconds = (performance.now() - began) / 1000;
        const bounds = this.table.bounds;
        let i = 0;
        while (i < bounds.length && seconds > bounds[i]) i++;
        this.counts[i]++;
        this.sum += seconds;
        if (failed) this.errors++;
        this.touch();
    }

    private touch(): void {
        if (this.dirty) return;
        this.dirty = true;
        this.table.changed.push(this);
    }

    /** Writes the record at `at` and starts again from zero. */
    take(record: Float64Array, at: number): void {
        record[at] = this.index;
        record[at + 1] = this.calls;
        record[at + 2] = this.errors;
        record[at + 3] = this.sum;
        record.set(this.counts, at + HEAD);
        this.calls = this.errors = this.sum = 0;
        this.counts.fill(0);
        this.dirty = false;
    }
}

export class HandlerStatsTable {
    readonly changed: HandlerStats[] = [];

    constructor(readonly bounds: readonly number[]) {}

    stats(index: number): HandlerStats {
        return new HandlerStats(index, this);
    }

    /** The records of the handlers that changed, or undefined if none did. */
    take(): Float64Array | undefined {
        if (this.changed.length === 0) return undefined;
        const stride = HEAD + this.bounds.length + 1;
        const records = new Float64Array(this.changed.length * stride);
        this.changed.forEach((stats, i) => stats.take(records, i * stride));
        this.changed.length = 0;
        return records;
    }
}
