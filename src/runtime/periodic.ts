/**
 * node_periodic runs: the handler gets an object with `variables` and `rawVariables` (read in
 * a stand-in request or session of the block that declares it); it may be async.
 */
import type { NginxPeriodicSession } from '../api';
import { Dispatch } from './abi';
import { native, PERIODIC_OP } from './binding';
import { FETCH_SETTINGS, FetchScoped } from './fetch/scope';
import type { HandlerSlot } from './handler-slot';
import { logWorker, LogLevel, toLogMessage } from './log';
import { isThenable, rejection } from './reporting';
import { rawVariablesView, variablesView } from './variables';

function periodicObject(handle: number): NginxPeriodicSession & FetchScoped {
    const variableOps = { handle, read: PERIODIC_OP.variable, write: PERIODIC_OP.setVariable };
    return Object.freeze({
        variables: variablesView(variableOps),
        rawVariables: rawVariablesView(variableOps),
        [FETCH_SETTINGS]: () => native(handle, PERIODIC_OP.fetch) as number,
    });
}

function failed(slot: HandlerSlot, error: unknown): void {
    logWorker(LogLevel.ERR, `${slot.subject} failed: ${toLogMessage(error)}`);
}

export function dispatchPeriodic(slot: HandlerSlot, handle: number): Dispatch {
    if (slot.fn === undefined) {
        logWorker(LogLevel.ERR, `${slot.subject} cannot run: ${slot.unavailable}`);
        return Dispatch.Failed;
    }
    let result: unknown;
    try {
        result = slot.call(periodicObject(handle));
    } catch (error) {
        failed(slot, error);
        return Dispatch.Failed;
    }
    if (!isThenable(result)) return Dispatch.Done;
    const done = () => {
        try {
            native(handle, PERIODIC_OP.done);
        } catch {
            // the run was given up (it took too long)
        }
    };
    result.then(done, (error: unknown) => {
        failed(slot, rejection(error));
        done();
    });
    return Dispatch.Pending;
}
