/**
 * The flush the module asks for about once a second (and before this worker answers a scrape,
 * and when it exits): what handlers and ngx.metrics counted since the last one goes to the
 * zone, and this worker's heap with it.
 */
import { getHeapStatistics } from 'node:v8';

import { METRICS_OP, native, WORKER, WORKER_OP } from '../binding';
import { logWorker, LogLevel, toLogMessage } from '../log';
import type { HandlerStatsTable } from './handler-stats';
import type { MetricDefinition, MetricsStore, Series } from './store';

function op(name: keyof typeof METRICS_OP, ...args: (string | number | Float64Array)[]): unknown {
    return native(WORKER, WORKER_OP.metrics, METRICS_OP[name], ...args);
}

/** Tells the zone of a metric before its first series: false if it cannot be recorded. */
function define(m: MetricDefinition): boolean {
    try {
        const answer = op('define', m.name, m.type, m.help, m.labelNames.join(','), Float64Array.from(m.bounds));
        m.defined = answer === true;
        if (!m.defined) {
            logWorker(LogLevel.ERR, `ngx-node: the metrics zone has no room for the metric "${m.name}": it is not recorded; ` +
                'make the zone larger with "node_metrics_zone"');
        }
    } catch (error) {
        m.defined = false;
        logWorker(LogLevel.ERR, `ngx-node: the metric "${m.name}" is not recorded: ${toLogMessage(error)}`);
    }
    return m.defined;
}

function flushSeries(store: MetricsStore, s: Series): void {
    s.dirty = false;
    if (s.metric.defined === undefined && !define(s.metric)) return;
    if (s.metric.defined !== true) return;
    const answer = op(s.set ? 'set' : 'add', s.metric.name, s.labels, s.values);
    if (answer === null) store.drop(s);
    s.values.fill(0);
    s.set = false;
}

export function flushMetrics(handlers: HandlerStatsTable, store: MetricsStore): void {
    try {
        const records = handlers.take();
        if (records !== undefined) op('handlers', records);
        for (const s of store.changed.splice(0)) flushSeries(store, s);
        const heap = getHeapStatistics();
        op('worker', heap.used_heap_size, heap.heap_size_limit, process.versions.node);
    } catch (error) {
        logWorker(LogLevel.ERR, `ngx-node: adding this worker's metrics to the zone failed: ${toLogMessage(error)}`);
    }
}
