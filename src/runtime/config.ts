/** The configuration document the nginx module gives the runtime (and the checker). */

/** Where a directive stands in nginx's configuration, for messages. */
export interface ConfLocation {
    file: string;
    line: number;
}

/** `node_import [name from] path;` (the same name may stand for other files in other blocks) */
export interface ImportConf extends ConfLocation {
    name: string;
    path: string;
}

/** A directive naming a handler, `module.function` or `module.object.function`. */
export interface HandlerConf extends ConfLocation {
    name: string;
    directive: string;
    /**
     * the node_import (an index of RuntimeConf.imports) its module name means in the block
     * where the directive stands; -1: no import of that name is visible there
     */
    import: number;
}

/** `node_shared_dict_zone`; its index is the zone's number in the dict op */
export interface DictConf {
    name: string;
    type: 'string' | 'number';
    capacity: number;
    /** ms; 0: entries do not expire */
    timeout: number;
}

/** node_metrics_zone (or node_metrics): metrics are on */
export interface MetricsConf {
    /** the bounds of the handlers' latency histogram, seconds */
    buckets: number[];
    /** the zone's size, bytes */
    size: number;
}

export interface RuntimeConf {
    imports: ImportConf[];
    /** node_preload_object */
    preloads: ImportConf[];
    /** indexed by the handler numbers the module dispatches with */
    handlers: HandlerConf[];
    /** node_path directories, absolute */
    paths: string[];
    dicts: DictConf[];
    metrics?: MetricsConf;
    prefix: string;
    confPrefix: string;
    confFile: string;
    workerId: number;
    nginxVersion: string;
    nginxVersionNumber: number;
    errorLog: string;
}

export function parseConf(json: string): RuntimeConf {
    const conf = JSON.parse(json) as RuntimeConf;
    if (!Array.isArray(conf.imports) || !Array.isArray(conf.handlers) || !Array.isArray(conf.paths)) {
        throw new Error('ngx-node: malformed runtime configuration');
    }
    return conf;
}

export function where(loc: ConfLocation): string {
    return `${loc.file}:${loc.line}`;
}
