import { simulatorEvents } from "../../simulators/server";

const waiters = new Set<() => void>();

/** Checks every pending waitFor again: call it when something a check reads has changed (a log line, say). */
export function recheck(): void {
  for (const waiter of [...waiters]) waiter();
}

simulatorEvents.on("handled", recheck);

/**
 * Resolves once `check` holds. It is checked now and again after each request a simulator handled (and on
 * recheck()), never on a timer: no test depends on how fast the machine is. Jest's test timeout bounds it.
 */
export function waitFor(check: () => boolean): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const waiter = () => {
      let held: boolean;
      try {
        held = check();
      } catch (error) {
        waiters.delete(waiter);
        reject(error);
        return;
      }
      if (!held) return;
      waiters.delete(waiter);
      resolve();
    };
    waiters.add(waiter);
  });
}
