/**
 * Metrics (node_metrics, node_metrics_zone, ngx.metrics): known traffic over two workers and a
 * stream server, then scrapes read with a Prometheus text parser from npm. Counts equal what
 * was sent, histogram buckets add up, user metrics from both workers sum, counts survive a
 * reload, a full zone refuses new series with one line and no crash.
 */
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';

import { getMetricsFromIterator, PromData, PromHistogramData, PromMetrics } from 'prom2javascript';

import { request } from './harness/http';
import { Nginx, sleep } from './harness/nginx';
import { fixture } from './harness/paths';
import { tcpExchange } from './harness/tcp';

type Families = PromMetrics;

const OK_REQUESTS = 300;

function family(families: Families, name: string, type: string): PromData[];
function family(families: Families, name: string, type: 'histogram'): PromHistogramData[];
function family(families: Families, name: string, type: string): unknown[] {
    const found = families[name];
    assert.ok(found, `the scrape has ${name}`);
    assert.equal(found.type, type, `${name} is a ${type}`);
    return found.data;
}

function handlerValue(families: Families, name: string, handler: string, context = 'http'): number {
    const sample = family(families, name, 'counter').find((m) => m.labels.handler === handler && m.labels.context === context);
    assert.ok(sample, `${name} has a series for ${context} ${handler}`);
    return sample.value;
}

/** A histogram's buckets by bound, in increasing order. */
function buckets(h: PromHistogramData): [number, number][] {
    return Object.entries(h.buckets).map(([le, n]): [number, number] => [le === '+Inf' ? Infinity : Number(le), n]).sort((a, b) => a[0] - b[0]);
}

async function scrape(nginx: Nginx, path = '/metrics'): Promise<Families> {
    const reply = await request(nginx.url(path));
    assert.equal(reply.status, 200);
    // a real parser: it also refuses a histogram whose +Inf bucket is not its count
    return getMetricsFromIterator(reply.text.split('\n')[Symbol.iterator]());
}

/** Scrapes until `ready` holds: each worker adds its counts to the zone about once a second. */
async function scrapeUntil(nginx: Nginx, ready: (families: Families) => boolean, what: string): Promise<Families> {
    const deadline = Date.now() + 15000;
    for (;;) {
        const families = await scrape(nginx);
        if (ready(families)) return families;
        if (Date.now() > deadline) assert.fail(`no scrape showed ${what} within 15 s`);
        await sleep(200);
    }
}

/** GETs over keep-alive connections in parallel, so that both workers (reuseport) get some. */
async function traffic(nginx: Nginx, path: (i: number) => string, count: number): Promise<string[]> {
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const bodies: string[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
        while (next < count) {
            const i = next++;
            bodies.push(await new Promise<string>((resolve, reject) => {
                const req = httpRequest(nginx.url(path(i)), { agent }, (res) => {
                    let body = '';
                    res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
                    res.on('end', () => resolve(body));
                });
                req.on('error', reject);
                req.end();
            }));
        }
    }));
    agent.destroy();
    return bodies;
}

describe('metrics', () => {
    let nginx: Nginx;
    const sent = { fail: 7, reject: 5, slow: 2, spin: 1, stream: 3 };

    before(async () => {
        nginx = await Nginx.start({
            workers: 2,
            listen: 'reuseport',
            main: 'node_cpu_timeout 500ms;',
            http: `
    node_import metrics from ${fixture('metrics.mjs')};
    node_metrics_zone 512k;`,
            server: `
        location /ok { node_content metrics.ok; }
        location /fail { node_content metrics.fail; }
        location /reject { node_content metrics.reject; }
        location /slow { node_timeout 1s; node_content metrics.slow; }
        location /spin { node_content metrics.spin; }
        location /misuse { node_content metrics.misuse; }
        location /metrics { node_metrics; }`,
            stream: (ports) => `
    node_import metrics from ${fixture('metrics.mjs')};
    server {
        listen 127.0.0.1:${ports[0]};
        node_access metrics.allow;
        return "in\\n";
    }`,
        });
    });

    after(async () => {
        const troubles = nginx?.troubles();
        await nginx?.destroy();
        assert.deepEqual(troubles, []);
    });

    it('counts what each handler did, over both workers, and sums the user metrics', async () => {
        const workers = await traffic(nginx, (i) => `/ok?i=${i}`, OK_REQUESTS);
        const served = new Set(workers.map((w) => w.trim()));
        assert.deepEqual([...served].sort(), ['0', '1'], 'both workers served /ok');
        for (const [path, count] of Object.entries(sent)) {
            if (path === 'stream') continue;
            await Promise.all(Array.from({ length: count }, () => request(nginx.url(`/${path}`))));
        }
        for (let i = 0; i < sent.stream; i++) {
            assert.equal((await tcpExchange(nginx.streamPorts[0], [])).text, 'in\n');
        }

        const families = await scrapeUntil(nginx, (f) =>
            handlerValue(f, 'ngx_node_handler_calls_total', 'metrics.ok') === OK_REQUESTS &&
            handlerValue(f, 'ngx_node_handler_timeouts_total', 'metrics.slow') === sent.slow &&
            handlerValue(f, 'ngx_node_handler_calls_total', 'metrics.allow', 'stream') === sent.stream &&
            handlerValue(f, 'ngx_node_handler_errors_total', 'metrics.reject') === sent.reject,
        `${OK_REQUESTS} calls of metrics.ok and every failure`);

        const calls = (h: string) => handlerValue(families, 'ngx_node_handler_calls_total', h);
        const errors = (h: string) => handlerValue(families, 'ngx_node_handler_errors_total', h);
        assert.equal(errors('metrics.ok'), 0);
        assert.equal(calls('metrics.fail'), sent.fail);
        assert.equal(errors('metrics.fail'), sent.fail);
        assert.equal(calls('metrics.reject'), sent.reject);
        assert.equal(calls('metrics.slow'), sent.slow);
        assert.equal(handlerValue(families, 'ngx_node_handler_cpu_timeouts_total', 'metrics.spin'), sent.spin);
        assert.equal(handlerValue(families, 'ngx_node_handler_cpu_timeouts_total', 'metrics.ok'), 0);
        assert.equal(handlerValue(families, 'ngx_node_handler_errors_total', 'metrics.allow', 'stream'), 0);

        // the latency histograms: cumulative buckets, +Inf = count = the calls that finished
        const durations = family(families, 'ngx_node_handler_duration_seconds', 'histogram');
        for (const h of durations) {
            const counts = buckets(h).map(([, n]) => n);
            for (let i = 1; i < counts.length; i++) assert.ok(counts[i] >= counts[i - 1], 'buckets are cumulative');
            assert.equal(counts[counts.length - 1], h.count);
        }
        const ok = durations.find((h) => h.labels.handler === 'metrics.ok');
        assert.equal(ok?.count, OK_REQUESTS);
        assert.ok((ok?.sum ?? 0) > 0);
        assert.equal(durations.find((h) => h.labels.handler === 'metrics.fail')?.count, sent.fail);

        // user metrics: each worker counted its own requests; the sum is what was sent
        const hits = family(families, 'test_hits_total', 'counter');
        const byWorker = (path: string) => hits.filter((m) => m.labels.path === path);
        assert.deepEqual(byWorker('/ok').map((m) => m.labels.worker).sort(), ['0', '1']);
        for (const m of byWorker('/ok')) assert.ok(m.value > 0);
        assert.equal(byWorker('/ok').reduce((sum, m) => sum + m.value, 0), OK_REQUESTS);
        for (const m of byWorker('/ok')) {
            const positional = byWorker('by-position').find((p) => p.labels.worker === m.labels.worker);
            assert.equal(positional?.value, 2 * m.value, 'labels() by position reaches the same kind of series');
        }

        const [size] = family(families, 'test_size', 'histogram');
        const third = OK_REQUESTS / 3;
        assert.deepEqual(buckets(size), [[2, third], [10, 2 * third], [Infinity, OK_REQUESTS]]);
        assert.equal(size.sum, third * (1 + 5 + 50));
        assert.equal(family(families, 'test_level', 'gauge')[0].value, OK_REQUESTS);
    });

    it('describes each worker', async () => {
        const families = await scrape(nginx);
        const info = family(families, 'ngx_node_worker_info', 'gauge');
        assert.deepEqual(info.map((m) => m.labels.worker).sort(), ['0', '1']);
        assert.deepEqual(info.map((m) => Number(m.labels.pid)).sort(), nginx.workerPids().sort());
        for (const m of info) assert.match(m.labels.node_version, /^\d+\.\d+\.\d+$/);
        const values = (name: string) => family(families, name, 'gauge').map((m) => m.value);
        const limits = values('ngx_node_worker_heap_limit_bytes');
        values('ngx_node_worker_heap_used_bytes').forEach((used, i) => {
            assert.ok(used > 0 && used < limits[i], `heap ${used} of ${limits[i]}`);
        });
        for (const u of values('ngx_node_worker_event_loop_utilization')) assert.ok(u >= 0 && u <= 1, `utilisation ${u}`);
        for (const p of values('ngx_node_worker_pending')) assert.ok(p >= 0);
        for (const start of values('ngx_node_worker_start_time_seconds')) {
            assert.ok(Math.abs(start - Date.now() / 1000) < 3600, `start time ${start}`);
        }
        assert.equal(family(families, 'ngx_node_metrics_refused_total', 'counter')[0].value, 0);
    });

    it('answers as Prometheus expects: text 0.0.4, GET and HEAD only', async () => {
        const reply = await request(nginx.url('/metrics'));
        assert.equal(reply.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
        assert.equal(Number(reply.headers['content-length']), reply.body.length);
        assert.match(reply.text, /^# HELP ngx_node_handler_calls_total /m);
        const head = await request(nginx.url('/metrics'), { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.body.length, 0);
        assert.equal((await request(nginx.url('/metrics'), { method: 'POST', body: 'x' })).status, 405);
    });

    it('refuses misuse of ngx.metrics with clear errors', async () => {
        const errors = JSON.parse((await request(nginx.url('/misuse'))).text) as Record<string, string>;
        assert.match(errors.badName, /^TypeError: .*"bad-name" is not a metric name/);
        assert.match(errors.reserved, /^TypeError: .*"ngx_node_" are ngx-node's own/);
        assert.match(errors.otherType, /^TypeError: .*"test_hits_total" is already a counter with labels \(worker, path\)/);
        assert.match(errors.otherLabels, /^TypeError: .*already a counter/);
        assert.match(errors.unknownLabel, /^TypeError: metric "test_hits_total" has no label "nope" \(its labels: worker, path\)/);
        assert.match(errors.negative, /^RangeError: .*only goes up/);
        assert.match(errors.notANumber, /^TypeError: .*set\(\) takes a finite number/);
        assert.match(errors.leLabel, /^TypeError: .*"le"/);
        assert.match(errors.unorderedBuckets, /^TypeError: .*increasing order/);
    });

    it('keeps the counts across a reload, with the new workers described', async () => {
        const before = handlerValue(await scrape(nginx), 'ngx_node_handler_calls_total', 'metrics.ok');
        const oldPids = nginx.workerPids();
        await nginx.reload();
        await traffic(nginx, () => '/ok', 10);
        const families = await scrapeUntil(nginx, (f) =>
            handlerValue(f, 'ngx_node_handler_calls_total', 'metrics.ok') === before + 10 &&
            family(f, 'ngx_node_worker_info', 'gauge').every((m) => !oldPids.includes(Number(m.labels.pid))),
        'the old count plus 10, and only new workers');
        assert.equal(family(families, 'ngx_node_worker_info', 'gauge').length, 2);
        assert.deepEqual(nginx.troubles(), []);
    });
});

describe('a full metrics zone', () => {
    let nginx: Nginx;

    before(async () => {
        nginx = await Nginx.start({
            workers: 2,
            listen: 'reuseport',
            http: `
    node_import metrics from ${fixture('metrics.mjs')};
    node_metrics_zone 32k;`,
            server: `
        location /many { node_content metrics.many; }
        location /ok { node_content metrics.ok; }
        location /metrics { node_metrics; }`,
        });
    });

    after(async () => {
        await nginx?.destroy();
    });

    it('refuses new series with one error_log line per worker, and goes on', async () => {
        for (let round = 0; round < 4; round++) {
            await traffic(nginx, (i) => `/many?n=200&from=${round}-${i}`, 8);
            await sleep(1100);
        }
        const families = await scrape(nginx);
        assert.ok(family(families, 'ngx_node_metrics_refused_total', 'counter')[0].value > 0);
        const kept = family(families, 'test_many_total', 'counter').length;
        assert.ok(kept > 10 && kept < 4 * 8 * 200, `${kept} series kept`);
        const lines = nginx.errorLog().split('\n').filter((l) => l.includes('has no room for more series'));
        assert.ok(lines.length >= 1 && lines.length <= 2, `one line per worker at most:\n${lines.join('\n')}`);
        assert.match(lines[0], /the metrics zone \(32768 bytes\) has no room for more series: test_many_total\{n="[^"]*"\} .*node_metrics_zone/);
        // the series that exist go on counting
        assert.equal((await request(nginx.url('/ok'))).status, 200);
        assert.equal(nginx.workerPids().length, 2);
        assert.deepEqual(nginx.troubles(), []);
    });
});

describe('metrics configuration', () => {
    it('records nothing without a zone, and ngx.metrics still works', async () => {
        const nginx = await Nginx.start({
            http: `node_import metrics from ${fixture('metrics.mjs')};`,
            server: 'location / { node_content metrics.enabled; }',
        });
        try {
            assert.equal((await request(nginx.url('/'))).text, 'false');
            assert.deepEqual(nginx.troubles(), []);
        } finally {
            await nginx.destroy();
        }
    });

    it('nginx -t refuses a bad or repeated node_metrics_zone', async () => {
        for (const [directives, message] of [
            ['node_metrics_zone 1k;', /invalid size "1k": a size of at least \d+k/],
            ['node_metrics_zone 1m; node_metrics_zone 2m;', /"node_metrics_zone" directive is duplicate/],
            ['node_metrics_zone;', /invalid number of arguments in "node_metrics_zone"/],
        ] as const) {
            const nginx = await Nginx.prepare({ http: directives, server: 'location /metrics { node_metrics; }' });
            try {
                const result = nginx.check();
                assert.equal(result.ok, false, directives);
                assert.match(result.output, message);
            } finally {
                await nginx.destroy();
            }
        }
    });
});
