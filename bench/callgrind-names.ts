/**
 * node build/tsc-test/bench/callgrind-names.js <dumps dir> <dump file> [top N]
 *
 * The functions of one callgrind dump of `npm run bench -- --instructions --keep-dumps
 * --perf-map`, by instructions spent in them (self cost), with what callgrind could only show
 * as an address named from V8's perf map: JIT-compiled JavaScript and V8's builtins (which
 * Debian's stripped libnode has no symbols for).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Range {
    start: bigint;
    size: bigint;
    name: string;
}

function perfMap(file: string): Range[] {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
        const [start, size, ...name] = line.split(' ');
        return { start: BigInt(`0x${start}`), size: BigInt(`0x${size}`), name: name.join(' ') };
    }).sort((a, b) => (a.start < b.start ? -1 : 1));
}

/** Where each mapped file starts (its first mapping, file offset 0). */
function bases(file: string): Map<string, bigint> {
    const map = new Map<string, bigint>();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
        const m = /^([0-9a-f]+)-[0-9a-f]+ \S+ ([0-9a-f]+) \S+ \S+\s+(\/\S+)$/.exec(line);
        if (m && BigInt(`0x${m[2]}`) === 0n && !map.has(m[3])) map.set(m[3], BigInt(`0x${m[1]}`));
    }
    return map;
}

function lookup(ranges: Range[], address: bigint): string | undefined {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const r = ranges[mid];
        if (address < r.start) hi = mid - 1;
        else if (address >= r.start + r.size) lo = mid + 1;
        else return r.name;
    }
    return undefined;
}

/** callgrind compresses names: "(id) name" the first time, "(id)" after, across the dumps of a
 * run; every file of the run is read for the names. */
function nameTables(dir: string, files: string[]): { fns: Map<string, string>; obs: Map<string, string> } {
    const fns = new Map<string, string>();
    const obs = new Map<string, string>();
    for (const file of files) {
        for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
            const m = /^c?(fn|ob)=\((\d+)\) (.+)$/.exec(line);
            if (m) (m[1] === 'fn' ? fns : obs).set(m[2], m[3]);
        }
    }
    return { fns, obs };
}

function main(): void {
    const [dir, dump, top] = process.argv.slice(2);
    const ranges = perfMap(join(dir, 'perf.map'));
    const objects = bases(join(dir, 'maps'));
    const pid = /callgrind\.out\.(\d+)/.exec(dump)?.[1] ?? '';
    const { fns, obs } = nameTables(dir, readdirSync(dir).filter((f) => f.startsWith(`callgrind.out.${pid}`)));
    const self = new Map<string, number>();
    let fn = '';
    let ob = '';
    let fnObject = '';
    let inCall = false;
    const named = (id: string, object: string): string => {
        const name = fns.get(id) ?? `(${id})`;
        const address = /^0x([0-9a-f]+)/.exec(name);
        if (!address) return name;
        const offset = BigInt(`0x${address[1]}`);
        return lookup(ranges, offset + (objects.get(object) ?? 0n)) ?? lookup(ranges, offset) ?? `${name} [${object.split('/').pop()}]`;
    };
    for (const line of readFileSync(join(dir, dump), 'utf8').split('\n')) {
        let m = /^ob=\((\d+)\)/.exec(line);
        if (m) {
            ob = obs.get(m[1]) ?? '';
            continue;
        }
        m = /^fn=\((\d+)\)/.exec(line);
        if (m) {
            fnObject = ob;
            fn = named(m[1], fnObject);
            continue;
        }
        if (/^calls=/.test(line)) {
            inCall = true;
            continue;
        }
        m = /^(?:[+-]?\d+|\*) (\d+)$/.exec(line);
        if (m) {
            if (inCall) inCall = false;
            else self.set(fn, (self.get(fn) ?? 0) + Number(m[1]));
        }
    }
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(top ?? 60));
    process.stdout.write(`${total} instructions\n`);
    for (const [name, n] of rows) process.stdout.write(`${String(n).padStart(12)} ${(100 * n / total).toFixed(1).padStart(5)}%  ${name}\n`);
}

main();
