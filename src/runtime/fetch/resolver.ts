/**
 * Names resolved with nginx's `resolver` where the block has one, as njs does: the servers
 * it names, `resolver_timeout`, IPv6 addresses unless `ipv6=off`. A lookup function for
 * Node's net.connect. (Without a resolver, Node resolves names as it always does; njs
 * cannot fetch by name then.)
 */
import { Resolver } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';

import type { FetchConf } from '../config';

type Resolved = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

export type Lookup = (hostname: string, options: LookupOptions, callback: Resolved) => void;

export function resolverLookup(conf: NonNullable<FetchConf['resolver']>): Lookup {
    const resolver = new Resolver({ timeout: conf.timeout, tries: 1 });
    resolver.setServers(conf.servers);

    const query = (hostname: string, family: 4 | 6): Promise<LookupAddress[]> => new Promise((resolve, reject) => {
        const done = (error: NodeJS.ErrnoException | null, addresses: string[]) => {
            if (error) reject(error);
            else resolve(addresses.map((address) => ({ address, family })));
        };
        if (family === 4) resolver.resolve4(hostname, done);
        else resolver.resolve6(hostname, done);
    });

    return (hostname, options, callback) => {
        const families: (4 | 6)[] = options.family === 6 ? [6] : options.family === 4 || !conf.ipv6 ? [4] : [4, 6];
        Promise.allSettled(families.map((family) => query(hostname, family))).then((results) => {
            const addresses = results.flatMap((result) => result.status === 'fulfilled' ? result.value : []);
            if (addresses.length === 0) {
                const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
                callback((failure?.reason as NodeJS.ErrnoException | undefined)
                    ?? Object.assign(new Error(`no address for ${hostname}`), { code: 'ENODATA', hostname }), '');
            } else if (options.all) {
                callback(null, addresses);
            } else {
                callback(null, addresses[0].address, addresses[0].family);
            }
        }, (error: NodeJS.ErrnoException) => callback(error, ''));
    };
}
