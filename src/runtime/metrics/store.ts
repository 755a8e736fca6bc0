/**
 * This worker's changes to the metrics handlers define with ngx.metrics, until the next flush
 * adds them to the zone: per series, what to add (or, for a gauge that was set, the value).
 * The number of series is bounded by what the zone can hold; past that, new label sets are
 * dropped after one error_log line.
 */
import { logWorker, LogLevel } from '../log';

export const enum MetricType {
    Counter = 0,
    Gauge = 1,
    Histogram = 2,
}

/** what a series takes in the zone at least, to bound the series a worker keeps */
const SERIES_BYTES = 128;

export interface MetricDefinition {
    readonly name: string;
    readonly help: string;
    readonly type: MetricType;
    readonly labelNames: readonly string[];
    /** a histogram's bucket bounds, ascending, +Inf aside */
    readonly bounds: readonly number[];
    /** the zone knows it (true), or has no room for it or has it otherwise (false) */
    defined?: boolean;
}

export interface Series {
    readonly metric: MetricDefinition;
    readonly labels: string;
    /** a counter's or gauge's change; a histogram's counts per bucket (+Inf last), then its sum */
    readonly values: Float64Array;
    /** a gauge was set: values[0] is its value, not a change */
    set: boolean;
    dirty: boolean;
}

export class MetricsStore {
    readonly definitions = new Map<string, MetricDefinition>();
    readonly changed: Series[] = [];
    private readonly series = new Map<MetricDefinition, Map<string, Series>>();
    private count = 0;
    private full = false;
    private readonly maxSeries: number;

    /** zoneSize: 0 when metrics are off (nothing is kept) */
    constructor(readonly zoneSize: number) {
        this.maxSeries = Math.floor(zoneSize / SERIES_BYTES);
    }

    get enabled(): boolean {
        return this.zoneSize > 0;
    }

    /** The series of `metric` with these labels, to change; undefined: not recorded. */
    at(metric: MetricDefinition, labels: string): Series | undefined {
        if (!this.enabled || metric.defined === false) return undefined;
        let byLabels = this.series.get(metric);
        if (byLabels === undefined) {
            byLabels = new Map();
            this.series.set(metric, byLabels);
        }
        let s = byLabels.get(labels);
        if (s === undefined) {
            if (this.full) return undefined;
            if (this.count >= this.maxSeries) {
                this.refuse(`${metric.name}{${labels}}`);
                return undefined;
            }
            const size = metric.type === MetricType.Histogram ? metric.bounds.length + 2 : 1;
            s = { metric, labels, values: new Float64Array(size), set: false, dirty: false };
            byLabels.set(labels, s);
            this.count++;
        }
        if (!s.dirty) {
            s.dirty = true;
            this.changed.push(s);
        }
        return s;
    }

    /** The zone had no room for the series: it goes, and no new series are made. */
    drop(s: Series): void {
        this.series.get(s.metric)?.delete(s.labels);
        this.count--;
        this.refuse(`${s.metric.name}{${s.labels}}`);
    }

    private refuse(what: string): void {
        if (this.full) return;
        this.full = true;
        logWorker(LogLevel.ERR, `ngx-node: the metrics zone (${this.zoneSize} bytes) has no room for more series: ` +
            `${what} and any other new label set are not recorded from now on in this worker; ` +
            'make the zone larger with "node_metrics_zone", or use fewer label values');
    }
}
