/** Resolving every `module.function` of the configuration once the modules are in. */
import type { RuntimeConf } from './config';
import type { HandlerSlot } from './dispatch';
import { ConfigurationError, LoadResult, resolveHandler } from './loader';

/** Fills slots[i] for conf.handlers[i]; returns the messages of the ones that cannot run. */
export function resolveHandlers(conf: RuntimeConf, loaded: LoadResult, slots: HandlerSlot[]): string[] {
    const errors: string[] = [];
    conf.handlers.forEach((handler, i) => {
        try {
            slots[i] = resolveHandler(handler, loaded.modules, conf.imports);
        } catch (error) {
            const message = error instanceof ConfigurationError ? error.message : String(error);
            slots[i] = { conf: handler, unavailable: message };
            errors.push(message);
        }
    });
    return errors;
}
