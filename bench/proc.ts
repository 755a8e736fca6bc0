/** What /proc says about a process: CPU time and memory. */
import { readdirSync, readFileSync } from 'node:fs';

/** Nanoseconds on CPU, summed over the process's threads (Node's GC and helper threads count). */
export function processCpuNanos(pid: number): number {
    let total = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
        try {
            total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        } catch {
            // the thread ended meanwhile
        }
    }
    return total;
}

export interface Memory {
    rssKB: number;
    /**
     * Pages this process wrote and nobody else maps (heaps, V8, data): what one more worker
     * costs. Clean private pages are left out: they are file pages (libnode's code) that count
     * as private only while no other process maps the same file, and become shared as soon as
     * a second worker starts.
     */
    privateDirtyKB: number;
    /** Clean file pages, such as libraries' code: shared between workers, reclaimable */
    fileCleanKB: number;
    pssKB: number;
}

export function memory(pid: number): Memory {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return {
        rssKB: kb('Rss'), privateDirtyKB: kb('Private_Dirty'),
        fileCleanKB: kb('Private_Clean') + kb('Shared_Clean'), pssKB: kb('Pss'),
    };
}

export function rssKB(pid: number): number {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

export function maps(pid: number): string {
    return readFileSync(`/proc/${pid}/maps`, 'utf8');
}
