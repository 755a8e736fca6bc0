/** Terminal colours, when the output is a terminal (NO_COLOR turns them off, FORCE_COLOR on). */
import type { WriteStream } from 'node:tty';

export function colours(stream: NodeJS.WriteStream | WriteStream): boolean {
    if (process.env.NO_COLOR) return false;
    if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
    return stream.isTTY === true;
}

const on = colours(process.stdout);

const wrap = (open: number, close: number) => (text: string) => (on ? `\x1b[${open}m${text}\x1b[${close}m` : text);

export const bold = wrap(1, 22);
export const dim = wrap(2, 22);
export const red = wrap(31, 39);
export const green = wrap(32, 39);
export const yellow = wrap(33, 39);
export const blue = wrap(34, 39);
export const magenta = wrap(35, 39);
export const cyan = wrap(36, 39);
export const gray = wrap(90, 39);

/** An error_log line with its level coloured (and the date dimmed). */
export function errorLogLine(line: string): string {
    const match = /^(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d )\[(\w+)\]( .*)$/.exec(line) ?? /^(nginx: )\[(\w+)\]( .*)$/.exec(line);
    if (!match) return line;
    const [, date, level, rest] = match;
    const paint = {
        emerg: (t: string) => bold(red(t)), alert: (t: string) => bold(red(t)), crit: (t: string) => bold(red(t)),
        error: red, warn: yellow, notice: cyan, info: green, debug: gray,
    }[level] ?? ((t: string) => t);
    const message = level === 'emerg' || level === 'alert' || level === 'crit' || level === 'error' ? paint(rest) : rest;
    return `${dim(date)}${paint(`[${level}]`)}${message}`;
}
