/** Resolving every handler name of the configuration once the modules are in. */
import type { RuntimeConf } from './config';
import { HandlerSlot } from './handler-slot';
import { ConfigurationError, LoadResult, resolveHandler } from './loader';

/** Resolves slots[i] for conf.handlers[i]; returns the messages of the ones that cannot run. */
export function resolveHandlers(conf: RuntimeConf, loaded: LoadResult, slots: HandlerSlot[]): string[] {
    const errors: string[] = [];
    conf.handlers.forEach((handler, i) => {
        try {
            slots[i].resolved(resolveHandler(handler, loaded.modules, conf.imports));
        } catch (error) {
            const message = error instanceof ConfigurationError ? error.message : String(error);
            slots[i].unavailable = message;
            errors.push(message);
        }
    });
    return errors;
}

/** One slot per handler of the configuration, each waiting for its module. */
export function handlerSlots(conf: RuntimeConf): HandlerSlot[] {
    return conf.handlers.map((handler) => new HandlerSlot(handler, 'its modules have not finished loading'));
}
