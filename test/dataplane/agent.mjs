// One per network namespace of the dataplane harness, started with `ip netns exec NS node agent.mjs SOCKET`: it
// answers TCP and UDP on the probe ports on every address of its namespace, and sends probes when asked over a
// unix socket (which crosses network namespaces: it is a file). One JSON request per line:
//   {"id":1,"proto":"tcp"|"udp","src":"10.0.1.5","dst":"10.0.2.7","port":8080}   (or IPv6 addresses)  ->  {"id":1,"ok":true|false,"error"?:"..."}
// ok means the handshake (TCP) or an echo (UDP) came back: the flow was allowed both ways.
import { createServer, connect, isIPv6 } from "node:net";
import { createSocket } from "node:dgram";
import { rmSync } from "node:fs";
import { networkInterfaces } from "node:os";

const PORTS = [8080, 8443];
// A probe slow under load is a miss, never a false pass (run.ts asks again before calling a reachable flow
// unreachable). Refused UDP probes and dropped ones only time out, and every round waits for its slowest probe.
const TIMEOUT_MS = 1000;
const socketPath = process.argv[2];

// UDP answers from the address it was asked on only when bound to it (a wildcard socket replies from the
// route's preferred source), so one UDP socket per address of the namespace.
// Gateways hold their node and service addresses on lo, so lo counts too, but not loopback or link-local ones.
const addresses = Object.values(networkInterfaces()).flat().map((i) => i.address).filter((a) => !/^(127\.|::1$|fe80:)/.test(a));
const udpType = (address) => (isIPv6(address) ? "udp6" : "udp4");
for (const port of PORTS) {
  // "::" takes IPv4 connections too (ipv6Only is off).
  createServer((s) => s.on("error", () => {}).end("pong")).listen(port, "::");
  for (const address of addresses) {
    const udp = createSocket(udpType(address));
    udp.on("message", (msg, from) => udp.send(msg, from.port, from.address));
    udp.bind(port, address);
  }
}

function probeTcp({ src, dst, port }) {
  return new Promise((resolve) => {
    const s = connect({ host: dst, port, localAddress: src, timeout: TIMEOUT_MS });
    const done = (ok, error) => { s.destroy(); resolve(error ? { ok, error } : { ok }); };
    s.on("connect", () => done(true));
    s.on("timeout", () => done(false, "timeout"));
    s.on("error", (e) => done(false, e.code ?? String(e)));
  });
}

function probeUdp({ src, dst, port }) {
  return new Promise((resolve) => {
    const s = createSocket(udpType(dst));
    const timer = setTimeout(() => done(false, "timeout"), TIMEOUT_MS);
    const done = (ok, error) => { clearTimeout(timer); s.close(); resolve(error ? { ok, error } : { ok }); };
    s.on("error", (e) => done(false, e.code ?? String(e)));
    s.on("message", () => done(true));
    s.bind(0, src, () => s.connect(port, dst, (e) => (e ? done(false, e.code) : s.send("ping"))));
  });
}

rmSync(socketPath, { force: true });
createServer((conn) => {
  let buffered = "";
  conn.on("data", (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const request = JSON.parse(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      (request.proto === "udp" ? probeUdp(request) : probeTcp(request)).then((r) => conn.write(JSON.stringify({ id: request.id, ...r }) + "\n"));
    }
  });
  conn.on("error", () => {});
}).listen(socketPath, () => process.stdout.write("ready\n"));
