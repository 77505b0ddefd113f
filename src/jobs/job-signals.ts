import { EventEmitter } from 'node:events';

/**
 * "Jobs that are due now were committed": a worker in the same process polls at once instead of
 * at its next tick, so a bulk invitation starts as soon as its upload is stored. Workers in other
 * processes find the jobs at their next poll as always.
 */
export const jobSignals = new EventEmitter<{ committed: [] }>();
// Every started worker listens; a test process may start many.
jobSignals.setMaxListeners(0);

export const signalJobsCommitted = () => jobSignals.emit('committed');
