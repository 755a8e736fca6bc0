/**
 * A line-based protocol rewritten both ways while nginx proxies it: each tenant's keys get a
 * prefix on the way to a shared backend (`SET color red` -> `SET t1:color red`), which comes
 * off again on the way back. Lines cut between TCP segments are rewritten whole.
 *
 *     server {
 *         listen 6380;
 *         set $tenant t1;
 *         node_filter lines.tenantKeys;
 *         proxy_pass 10.0.0.1:6380;
 *     }
 */
import type { NginxStreamCallbackFlags, NginxStreamSession } from 'ngx-node';

type Rewrite = (line: string) => string;

/** Calls `rewrite` for each whole line of a direction; what is cut waits for its end. */
function eachLine(s: NginxStreamSession, event: 'upload' | 'download', rewrite: Rewrite): void {
    let carry = '';
    s.on(event, (data: string, flags: NginxStreamCallbackFlags) => {
        const text = carry + data;
        const end = flags.last ? text.length : text.lastIndexOf('\n') + 1;
        carry = text.slice(end);
        if (end === 0 && !flags.last) return;
        s.send(text.slice(0, end).split('\n').map((line) => (line ? rewrite(line) : line)).join('\n'), flags);
    });
}

/** node_filter: keys of commands carry the tenant's prefix upstream, and lose it downstream. */
export function tenantKeys(s: NginxStreamSession): void {
    const prefix = `${s.variables.tenant}:`;
    eachLine(s, 'upload', (line) => line.replace(/^(GET|SET|DEL) (\S+)/, (_, command: string, key: string) => `${command} ${prefix}${key}`));
    eachLine(s, 'download', (line) => line.split(prefix).join(''));
}
