/** Metrics in a worker: handler counts, ngx.metrics, and the flush that adds them to the zone. */
import type { NgxMetrics } from '../../api';
import type { RuntimeConf } from '../config';
import type { HandlerSlot } from '../handler-slot';
import { flushMetrics } from './flush';
import { HandlerStatsTable } from './handler-stats';
import { MetricsStore } from './store';
import { createMetrics } from './user-metrics';

export class WorkerMetrics {
    readonly api: NgxMetrics;
    private readonly handlers: HandlerStatsTable;
    private readonly store: MetricsStore;

    constructor(private readonly conf: RuntimeConf) {
        this.handlers = new HandlerStatsTable(conf.metrics?.buckets ?? []);
        this.store = new MetricsStore(conf.metrics?.size ?? 0);
        this.api = createMetrics(this.store);
    }

    /** Handlers count their calls when metrics are on. */
    attach(slots: HandlerSlot[]): void {
        if (this.conf.metrics === undefined) return;
        slots.forEach((slot, i) => {
            slot.stats = this.handlers.stats(i);
        });
    }

    flush(): void {
        if (this.conf.metrics !== undefined) flushMetrics(this.handlers, this.store);
    }
}
