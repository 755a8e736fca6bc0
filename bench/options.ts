/** The benchmarks' command-line options: `--name value` pairs and `--flag`s. */

/** The number after `name`, or `fallback` when `name` is not given. */
export function numberOption(argv: string[], name: string, fallback: number): number {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
}

/** The word after `name`, or undefined when `name` is not given. */
export function stringOption(argv: string[], name: string): string | undefined {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
}
