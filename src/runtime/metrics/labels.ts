/** Names and labels of metrics, checked as Prometheus wants them and written as its text format does. */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** a series' labels, as the exposition writes them, may not be longer */
const MAX_LABELS_TEXT = 4096;
const MAX_HELP = 1024;

export type LabelValues = Readonly<Record<string, string | number>>;

export function checkMetricName(name: unknown, what: string): string {
    if (typeof name !== 'string' || !METRIC_NAME.test(name) || name.length > 200) {
        throw new TypeError(`${what}: ${JSON.stringify(name)} is not a metric name ` +
            '(letters, digits, "_" and ":", not starting with a digit, at most 200 characters)');
    }
    if (name.startsWith('ngx_node_')) {
        throw new TypeError(`${what}: names starting with "ngx_node_" are ngx-node's own; choose another for "${name}"`);
    }
    return name;
}

export function checkHelp(help: unknown, name: string, what: string): string {
    if (help === undefined) return name;
    if (typeof help !== 'string' || help.length > MAX_HELP) {
        throw new TypeError(`${what}: the help of "${name}" must be a string of at most ${MAX_HELP} characters`);
    }
    return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function checkLabelNames(labelNames: unknown, name: string, what: string, histogram: boolean): string[] {
    if (labelNames === undefined) return [];
    if (!Array.isArray(labelNames)) throw new TypeError(`${what}: the label names of "${name}" must be an array of strings`);
    const seen = new Set<string>();
    for (const label of labelNames as unknown[]) {
        if (typeof label !== 'string' || !LABEL_NAME.test(label) || label.startsWith('__')) {
            throw new TypeError(`${what}: ${JSON.stringify(label)} is not a label name for "${name}" ` +
                '(letters, digits and "_", not starting with a digit or "__")');
        }
        if (histogram && label === 'le') throw new TypeError(`${what}: a histogram cannot have a label "le" (the buckets use it)`);
        if (seen.has(label)) throw new TypeError(`${what}: "${name}" names the label "${label}" twice`);
        seen.add(label);
    }
    return labelNames as string[];
}

function escapeValue(value: string): string {
    return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelValue(metric: string, label: string, value: unknown): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number') return String(value);
    throw new TypeError(`metric "${metric}": the value of label "${label}" must be a string or a number`);
}

function bounded(metric: string, text: string): string {
    if (text.length > MAX_LABELS_TEXT) {
        throw new RangeError(`metric "${metric}": its labels take more than ${MAX_LABELS_TEXT} characters`);
    }
    return text;
}

/** `a="x",b="y"`: the labels given, in the order of the metric's label names. */
export function labelsText(metric: string, labelNames: readonly string[], labels: LabelValues): string {
    for (const key of Object.keys(labels)) {
        if (!labelNames.includes(key)) {
            throw new TypeError(`metric "${metric}" has no label "${key}" ` +
                `(its labels: ${labelNames.length ? labelNames.join(', ') : 'none'})`);
        }
    }
    const parts: string[] = [];
    for (const label of labelNames) {
        const value = labels[label];
        if (value !== undefined) parts.push(`${label}="${escapeValue(labelValue(metric, label, value))}"`);
    }
    return bounded(metric, parts.join(','));
}

/** The same from values in the order of the label names (`metric.labels('GET', 200)`). */
export function positionalLabelsText(metric: string, labelNames: readonly string[], values: readonly unknown[]): string {
    if (values.length > labelNames.length) {
        throw new TypeError(`metric "${metric}" has ${labelNames.length} labels; ${values.length} values were given`);
    }
    return bounded(metric, values.map((value, i) =>
        `${labelNames[i]}="${escapeValue(labelValue(metric, labelNames[i], value))}"`).join(','));
}
