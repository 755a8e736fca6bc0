/**
 * The types a handler sees: the `r` object of HTTP handlers and the global `ngx` object.
 * Names and semantics follow njs's, so njs documentation applies where this says nothing.
 *
 *     import type { NginxHTTPRequest } from 'ngx-node';
 *     export default { hello(r: NginxHTTPRequest) { r.return(200, 'hi\n'); } };
 */

/** Incoming headers: read-only, case-insensitive (`r.headersIn['user-agent']`). */
export interface NginxHeadersIn {
    readonly [name: string]: string | undefined;
}

/**
 * Outgoing headers: case-insensitive, writable until the header is sent. `Set-Cookie` reads
 * as an array and takes an array; assigning `undefined` or `null`, or `delete`, removes a header.
 */
export interface NginxHeadersOut {
    [name: string]: string | string[] | number | undefined | null;
    'Set-Cookie'?: string[] | string;
}

/** nginx variables by name (`r.variables.remote_addr`); writable where nginx allows it. */
export interface NginxVariables {
    [name: string]: string | undefined;
}

/** Query arguments, decoded; a key given several times maps to an array. */
export interface NginxHTTPArgs {
    readonly [name: string]: string | string[];
}

export interface NginxHTTPRequest {
    /** HTTP method, `GET` etc. */
    readonly method: string;
    /** Current URI, normalised and decoded (what `$uri` holds). */
    readonly uri: string;
    /** Query arguments; repeated keys give arrays. */
    readonly args: NginxHTTPArgs;
    /** `1.0`, `1.1` or `2.0`. */
    readonly httpVersion: string;
    /** Client address (what `$remote_addr` holds). */
    readonly remoteAddress: string;
    readonly headersIn: NginxHeadersIn;
    readonly headersOut: NginxHeadersOut;
    readonly variables: NginxVariables;
    /** Response status; settable until the header is sent. */
    status: number;

    /**
     * Sends a whole response and ends the request. For 301, 302, 303, 307 and 308 the second
     * argument is the redirect URL, otherwise the body. A status of 400 or more without a body
     * gives nginx's error page (and `error_page` applies).
     */
    return(status: number, body?: string | Uint8Array): void;
    /** Sends the response header (status and `headersOut`). */
    sendHeader(): void;
    /** Sends a part of the body; sends the header first if needed. */
    send(data: string | Uint8Array): void;
    /** Ends the response started with `sendHeader()` / `send()`. */
    finish(): void;
    /** Continues processing at another URI, or at a named location (`@name`). */
    internalRedirect(uri: string): void;

    /** Reads the request body (honours `client_max_body_size`); the bytes as text. */
    readRequestText(): Promise<string>;
    /** Reads the request body and parses it as JSON. */
    readRequestJSON(): Promise<unknown>;
    /** Reads the request body as bytes. */
    readRequestArrayBuffer(): Promise<ArrayBuffer>;
    /** The request body as text once it has been read, else `undefined`. */
    readonly requestText: string | undefined;
    /** The request body as a Buffer once it has been read, else `undefined`. */
    readonly requestBuffer: Buffer | undefined;

    /** Writes to the error log at `info` level, with the request's context. */
    log(message: unknown): void;
    /** Writes to the error log at `warn` level, with the request's context. */
    warn(message: unknown): void;
    /** Writes to the error log at `error` level, with the request's context. */
    error(message: unknown): void;
}

/** A `node_content` handler; returning a Promise suspends the request until it settles. */
export type NginxHTTPContentHandler = (r: NginxHTTPRequest) => void | Promise<void>;

/** A `node_set` handler: the variable's value. */
export type NginxHTTPVariableHandler = (r: NginxHTTPRequest) => string | Uint8Array | number | undefined | null;

/** nginx's error_log levels as `ngx.log()` takes them. */
export type NgxLogLevel = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export interface NgxObject {
    readonly INFO: 7;
    readonly WARN: 5;
    readonly ERR: 4;
    /** Writes a message to the error log at the given level. */
    log(level: NgxLogLevel, message: unknown): void;
    /** This worker's number, 0 to `worker_processes` - 1. */
    readonly worker_id: number;
    /** nginx's version, e.g. `1.22.1`. */
    readonly version: string;
    /** ngx-node's version. */
    readonly ngx_node_version: string;
    /** nginx's prefix (`-p`). */
    readonly prefix: string;
    /** The directory of nginx's configuration prefix. */
    readonly conf_prefix: string;
    /** The configuration file nginx was started with. */
    readonly conf_file_path: string;
}
