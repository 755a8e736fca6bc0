/**
 * ngx.metrics: counters, gauges and histograms in the spirit of prom-client, added up over all
 * workers in the metrics zone. Defining a metric again with the same name gives the same one,
 * so handlers may define them where they use them.
 */
import { performance } from 'node:perf_hooks';

import type { NgxCounter, NgxCounterChild, NgxGauge, NgxGaugeChild, NgxHistogram, NgxHistogramChild, NgxHistogramConfiguration as Config, NgxMetrics } from '../../api';
import { checkHelp, checkLabelNames, checkMetricName, LabelValues, labelsText, positionalLabelsText } from './labels';
import { MetricDefinition, MetricsStore, MetricType } from './store';

/** prom-client's defaults, seconds */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const MAX_BUCKETS = 64;

const TYPE_NAMES = ['counter', 'gauge', 'histogram'] as const;

type LabelsOrValue = LabelValues | number | undefined;

function isLabels(value: unknown): value is LabelValues {
    return typeof value === 'object' && value !== null;
}

function finite(metric: string, what: string, value: unknown): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new TypeError(`metric "${metric}": ${what} takes a finite number, not ${String(value)}`);
    }
    return value;
}

abstract class Metric {
    constructor(protected readonly store: MetricsStore, readonly definition: MetricDefinition) {}

    get name(): string {
        return this.definition.name;
    }

    protected labelsOf(labels: LabelValues | undefined): string {
        return labels === undefined ? '' : labelsText(this.name, this.definition.labelNames, labels);
    }

    protected childLabels(values: unknown[]): string {
        return values.length === 1 && isLabels(values[0])
            ? this.labelsOf(values[0])
            : positionalLabelsText(this.name, this.definition.labelNames, values);
    }
}

class Counter extends Metric implements NgxCounter {
    inc(labelsOrValue?: LabelsOrValue, value?: number): void {
        if (isLabels(labelsOrValue)) this.add(this.labelsOf(labelsOrValue), value);
        else this.add('', labelsOrValue);
    }

    labels(...values: unknown[]): NgxCounterChild {
        const labels = this.childLabels(values);
        return { inc: (value?: number) => this.add(labels, value) };
    }

    private add(labels: string, value: unknown = 1): void {
        const n = finite(this.name, 'inc()', value);
        if (n < 0) throw new RangeError(`metric "${this.name}" is a counter: it only goes up, and inc() got ${n}`);
        const s = this.store.at(this.definition, labels);
        if (s !== undefined) s.values[0] += n;
    }
}

class Gauge extends Metric implements NgxGauge {
    set(labelsOrValue: LabelsOrValue, value?: number): void {
        if (isLabels(labelsOrValue)) this.put(this.labelsOf(labelsOrValue), value);
        else this.put('', labelsOrValue);
    }

    inc(labelsOrValue?: LabelsOrValue, value?: number): void {
        if (isLabels(labelsOrValue)) this.add(this.labelsOf(labelsOrValue), value, 1);
        else this.add('', labelsOrValue, 1);
    }

    dec(labelsOrValue?: LabelsOrValue, value?: number): void {
        if (isLabels(labelsOrValue)) this.add(this.labelsOf(labelsOrValue), value, -1);
        else this.add('', labelsOrValue, -1);
    }

    labels(...values: unknown[]): NgxGaugeChild {
        const labels = this.childLabels(values);
        return {
            set: (value: number) => this.put(labels, value),
            inc: (value?: number) => this.add(labels, value, 1),
            dec: (value?: number) => this.add(labels, value, -1),
        };
    }

    private put(labels: string, value: unknown): void {
        const n = finite(this.name, 'set()', value);
        const s = this.store.at(this.definition, labels);
        if (s === undefined) return;
        s.set = true;
        s.values[0] = n;
    }

    private add(labels: string, value: unknown = 1, sign: number): void {
        const n = finite(this.name, sign > 0 ? 'inc()' : 'dec()', value);
        const s = this.store.at(this.definition, labels);
        if (s !== undefined) s.values[0] += sign * n;
    }
}

class Histogram extends Metric implements NgxHistogram {
    observe(labelsOrValue: LabelsOrValue, value?: number): void {
        if (isLabels(labelsOrValue)) this.record(this.labelsOf(labelsOrValue), value);
        else this.record('', labelsOrValue);
    }

    startTimer(labels?: LabelValues): () => number {
        const text = this.labelsOf(labels);
        const began = performance.now();
        return () => {
            const seconds = (performance.now() - began) / 1000;
            this.record(text, seconds);
            return seconds;
        };
    }

    labels(...values: unknown[]): NgxHistogramChild {
        const labels = this.childLabels(values);
        return {
            observe: (value: number) => this.record(labels, value),
            startTimer: () => {
                const began = performance.now();
                return () => {
                    const seconds = (performance.now() - began) / 1000;
                    this.record(labels, seconds);
                    return seconds;
                };
            },
        };
    }

    private record(labels: string, value: unknown): void {
        const n = finite(this.name, 'observe()', value);
        const s = this.store.at(this.definition, labels);
        if (s === undefined) return;
        const bounds = this.definition.bounds;
        let i = 0;
        while (i < bounds.length && n > bounds[i]) i++;
        s.values[i]++;
        s.values[bounds.length + 1] += n;
    }
}

function checkBuckets(buckets: unknown, name: string, what: string): number[] {
    if (buckets === undefined) return DEFAULT_BUCKETS;
    if (!Array.isArray(buckets) || buckets.length === 0 || buckets.length > MAX_BUCKETS) {
        throw new TypeError(`${what}: the buckets of "${name}" must be an array of 1 to ${MAX_BUCKETS} numbers`);
    }
    const bounds = (buckets as unknown[]).filter((b) => b !== Infinity);
    bounds.forEach((b, i) => {
        if (typeof b !== 'number' || !Number.isFinite(b) || (i > 0 && b <= (bounds[i - 1] as number))) {
            throw new TypeError(`${what}: the buckets of "${name}" must be finite numbers in increasing order`);
        }
    });
    return bounds as number[];
}

function sameDefinition(a: MetricDefinition, b: MetricDefinition): boolean {
    return a.type === b.type && a.labelNames.join(',') === b.labelNames.join(',') &&
        a.bounds.join(',') === b.bounds.join(',');
}

function configOf(args: unknown[]): Config {
    if (isLabels(args[0])) return args[0] as unknown as Config;
    return { name: args[0] as string, help: args[1] as string | undefined, labelNames: args[2] as string[] | undefined, buckets: args[3] as number[] | undefined };
}

export function createMetrics(store: MetricsStore): NgxMetrics {
    const made = new Map<string, Metric>();

    function define<M extends Metric>(type: MetricType, args: unknown[], make: (d: MetricDefinition) => M): M {
        const what = `ngx.metrics.${TYPE_NAMES[type]}()`;
        const config = configOf(args);
        const name = checkMetricName(config.name, what);
        const definition: MetricDefinition = {
            name,
            help: checkHelp(config.help, name, what),
            type,
            labelNames: checkLabelNames(config.labelNames, name, what, type === MetricType.Histogram),
            bounds: type === MetricType.Histogram ? checkBuckets(config.buckets, name, what) : [],
        };
        const existing = made.get(name);
        if (existing !== undefined) {
            if (!sameDefinition(existing.definition, definition)) {
                const d = existing.definition;
                throw new TypeError(`${what}: "${name}" is already a ${TYPE_NAMES[d.type]} with labels (${d.labelNames.join(', ')})` +
                    `${d.type === MetricType.Histogram ? ` and buckets ${d.bounds.join(', ')}` : ''}; ` +
                    'define it the same way everywhere, or give this one another name');
            }
            return existing as M;
        }
        const metric = make(definition);
        made.set(name, metric);
        store.definitions.set(name, definition);
        return metric;
    }

    return Object.freeze({
        get enabled() {
            return store.enabled;
        },
        counter: (...args: unknown[]) => define(MetricType.Counter, args, (d) => new Counter(store, d)),
        gauge: (...args: unknown[]) => define(MetricType.Gauge, args, (d) => new Gauge(store, d)),
        histogram: (...args: unknown[]) => define(MetricType.Histogram, args, (d) => new Histogram(store, d)),
    }) as NgxMetrics;
}
