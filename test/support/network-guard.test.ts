import dns from "node:dns";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import tls from "node:tls";
import { isLoopback, NETWORK_REFUSED } from "./network-guard";

/** The guard is installed by test/setup.ts, as for every test: these tests use it as any test would meet it. */
describe("the test network guard", () => {
  it("knows loopback from everything else", () => {
    for (const host of [
      "localhost",
      "LOCALHOST",
      "127.0.0.1",
      "127.8.9.10",
      "::1",
      "[::1]",
      "::ffff:127.0.0.1",
    ]) {
      expect([host, isLoopback(host)]).toEqual([host, true]);
    }
    for (const host of [
      "10.255.255.1",
      "128.0.0.1",
      "::2",
      "::ffff:10.0.0.1",
      "example.com",
      "localhost.example.com",
      "0.0.0.0",
    ]) {
      expect([host, isLoopback(host)]).toEqual([host, false]);
    }
  });

  it("refuses a TCP connection to a non-loopback address at the call, before any packet", () => {
    // 10.255.255.1 is not routed: a connection that really left would hang until a timeout, not fail here.
    const socket = new net.Socket();
    expect(() => socket.connect(443, "10.255.255.1")).toThrow(
      expect.objectContaining({ code: NETWORK_REFUSED }),
    );
    expect(socket.connecting).toBe(false);
    expect(() => net.connect({ host: "10.255.255.1", port: 80 })).toThrow(
      /refuses network access.*10\.255\.255\.1:80/,
    );
    expect(() => tls.connect({ host: "10.255.255.1", port: 443 })).toThrow(
      expect.objectContaining({ code: NETWORK_REFUSED }),
    );
  });

  it("refuses a host name other than localhost without asking DNS", async () => {
    const lookup = jest.spyOn(dns, "lookup");
    expect(() => http.get("http://example.com/")).toThrow(expect.objectContaining({ code: NETWORK_REFUSED }));
    const failure = await fetch("https://example.com/").then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.cause).toMatchObject({ code: NETWORK_REFUSED });
    expect(lookup).not.toHaveBeenCalled();
    lookup.mockRestore();

    expect(() => dns.lookup("example.com", () => {})).toThrow(
      expect.objectContaining({ code: NETWORK_REFUSED }),
    );
    await expect(dns.promises.lookup("example.com")).rejects.toMatchObject({ code: NETWORK_REFUSED });
    expect(() => dns.resolve4("example.com", () => {})).toThrow(
      expect.objectContaining({ code: NETWORK_REFUSED }),
    );
    await expect(new dns.promises.Resolver().resolveTxt("example.com")).rejects.toMatchObject({
      code: NETWORK_REFUSED,
    });
    expect(() => dns.reverse("10.255.255.1", () => {})).toThrow(
      expect.objectContaining({ code: NETWORK_REFUSED }),
    );
  });

  it("lets loopback through, by address and by the name localhost", async () => {
    const server = http.createServer((_req, res) => res.end("simulator"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("simulator");
      const viaName = await fetch(`http://localhost:${port}/`).then(
        (res) => res.text(),
        (error: Error) => error.cause,
      );
      // localhost may resolve to ::1 first where the server listens on 127.0.0.1 only: refused by the OS
      // then, never by the guard.
      expect(viaName === "simulator" || (viaName as { code?: string }).code !== NETWORK_REFUSED).toBe(true);
      expect((await dns.promises.lookup("localhost")).address).toMatch(/^(127\.|::1$)/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
