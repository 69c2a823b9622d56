import dns from "node:dns";
import net from "node:net";

/**
 * Tests talk to the simulators on loopback and nowhere else: a test that reached a real host would pass or
 * fail with the network, and could send a ticket's text outside. The guard makes such a connection fail at
 * once, before any packet or DNS query leaves, with an error naming the host.
 */

/** The code of the error the guard throws, so a test can tell it from a real network failure. */
export const NETWORK_REFUSED = "ERR_TEST_NETWORK_REFUSED";

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** True for the loopback addresses (127.0.0.0/8, ::1, and 127/8 mapped into IPv6) and the name `localhost`. */
export function isLoopback(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === "localhost") return true;
  const family = net.isIP(bare);
  // BlockList matches an IPv4 rule against an IPv4-mapped IPv6 address too (::ffff:127.0.0.1).
  return family !== 0 && LOOPBACK.check(bare, family === 4 ? "ipv4" : "ipv6");
}

function refused(what: string): Error {
  return Object.assign(
    new Error(
      `test/setup.ts refuses network access except to loopback: ${what}. Use a simulator on 127.0.0.1.`,
    ),
    { code: NETWORK_REFUSED },
  );
}

/** Where a Socket#connect call goes: a host and port, or a local (IPC) path, which is always allowed. */
function destination(args: unknown[]): { host: string; port: unknown } | undefined {
  // net.connect and http pass one normalized [options, callback] array; user code passes (options, cb),
  // (port, host, cb) or (path, cb).
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (first !== null && typeof first === "object") {
    const options = first as { path?: unknown; host?: unknown; port?: unknown };
    if (options.path !== undefined && options.path !== null) return undefined;
    return { host: typeof options.host === "string" ? options.host : "localhost", port: options.port };
  }
  if (typeof first === "string" && !/^\d+$/.test(first)) return undefined;
  return { host: typeof args[1] === "string" ? args[1] : "localhost", port: first };
}

const INSTALLED = Symbol.for("qa-ticket.test.network-guard");

/** Patches net.Socket#connect (under net, http, https, tls and fetch) and DNS look-ups; idempotent per process. */
export function installNetworkGuard(): void {
  const globals = globalThis as { [INSTALLED]?: boolean };
  if (globals[INSTALLED]) return; // Jest runs setup files once per test file in the same worker process.
  globals[INSTALLED] = true;

  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const to = destination(args);
    if (to && !isLoopback(to.host)) throw refused(`a connection to ${to.host}:${String(to.port)}`);
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;

  // getaddrinfo answers `localhost` and literal addresses itself; any other name, and every resolve*/reverse
  // query (c-ares asks the configured DNS server directly), may leave the machine.
  const allowed = (key: string, name: unknown): boolean => {
    if (typeof name !== "string") return true; // Node throws its own argument error
    if (key === "lookup") return isLoopback(name) || net.isIP(name) !== 0;
    if (key === "lookupService") return isLoopback(name);
    return false;
  };
  const wrap = (target: object, key: string, promises: boolean) => {
    const original = (target as Record<string, unknown>)[key];
    if (typeof original !== "function") return;
    (target as Record<string, unknown>)[key] = function guarded(this: unknown, ...args: unknown[]) {
      if (!allowed(key, args[0])) {
        const error = refused(`dns ${key}(${JSON.stringify(args[0])})`);
        if (promises) return Promise.reject(error); // as dns.promises fails: a rejection, not a throw
        throw error;
      }
      return original.apply(this, args);
    };
  };
  for (const [target, promises] of [
    [dns, false],
    [dns.Resolver.prototype, false],
    [dns.promises, true],
    [dns.promises.Resolver.prototype, true],
  ] as const) {
    for (const key of new Set(Object.getOwnPropertyNames(target))) {
      if (key === "lookup" || key === "lookupService" || key === "reverse" || key.startsWith("resolve")) {
        wrap(target, key, promises);
      }
    }
  }
}
