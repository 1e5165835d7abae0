/**
 * Model check of the address rules: a tiny topology packed into one /24 (and its IPv6 mirror,
 * one /120), random ipBlocks with random valid excepts, and an independent brute-force reading of
 * the DESIGN.md §5 table over all 256 addresses. A provable rule must fire exactly when no address
 * the peer matches can appear in a packet crossing the link in that direction.
 */
import fc from "fast-check";
import t from "tap";
import { evaluatePolicy, type LoadedConfig } from "../../policies/index.js";
import { egressTo, ingressFrom, ipBlock, load } from "./helpers.js";

interface Universe {
  family: 4 | 6;
  bits: number;
  text: (offset: number, extraPrefix: number) => string;
}

const UNIVERSES: Universe[] = [
  { family: 4, bits: 24, text: (n, p) => `10.0.0.${n}/${24 + p}` },
  { family: 6, bits: 120, text: (n, p) => `fd00::${n.toString(16)}/${120 + p}` },
];

/** Topology, as ranges in the universe (offset, size). */
const T = {
  localPods: [0, 32], // .0/27
  localServices: [32, 16], // .32/28
  localNodes: [48, 8], // .48/29
  natPods: [64, 32], // .64/27
  natServices: [96, 16], // .96/28  (exposed .100/31 inside)
  natNodes: [112, 16], // .112/28 (NAT source .120/30 inside)
  natSource: [120, 4],
  exposed: [100, 2],
  snatPods: [128, 32], // .128/27, routed with snatToNodes
  snatNodes: [160, 16], // .160/28
  routedPods: [192, 16], // .192/28, routed, pods preserved
  // .56/29, .176/28, .208-.255 undeclared
} as const satisfies Record<string, readonly [number, number]>;

const cidrOf = (u: Universe, [offset, size]: readonly [number, number]): string => u.text(offset, 8 - Math.log2(size));

function configFor(u: Universe): LoadedConfig {
  const c = (r: readonly [number, number]) => [cidrOf(u, r)];
  return load({
    apiVersion: "netguard.dev/v1alpha1",
    kind: "GuardrailConfig",
    cluster: { name: "here", podCIDRs: c(T.localPods), serviceCIDRs: c(T.localServices), nodeCIDRs: c(T.localNodes) },
    remoteClusters: [
      { name: "natted", connectivity: "nat", podCIDRs: c(T.natPods), serviceCIDRs: c(T.natServices), nodeCIDRs: c(T.natNodes), natSourceCIDRs: c(T.natSource), exposedCIDRs: c(T.exposed) },
      { name: "snatted", connectivity: "routed", snatToNodes: true, podCIDRs: c(T.snatPods), nodeCIDRs: c(T.snatNodes) },
      { name: "routed", connectivity: "routed", podCIDRs: c(T.routedPods) },
    ],
  });
}

const inR = (a: number, [offset, size]: readonly [number, number]): boolean => a >= offset && a < offset + size;
const inAny = (a: number, ...rs: (readonly [number, number])[]): boolean => rs.some((r) => inR(a, r));

const declared = (a: number): boolean =>
  inAny(a, T.localPods, T.localServices, T.localNodes, T.natPods, T.natServices, T.natNodes, T.snatPods, T.snatNodes, T.routedPods);

/** Straight from the table: which addresses can no packet in this direction carry? */
function hidden(a: number, direction: "ingress" | "egress"): boolean {
  if (inAny(a, T.localPods, T.localServices, T.localNodes, T.natSource, T.exposed)) return false;
  if (inAny(a, T.routedPods, T.snatNodes)) return false;
  if (direction === "ingress") return inAny(a, T.natPods, T.natServices, T.natNodes, T.snatPods);
  return inAny(a, T.natPods, T.natServices, T.natNodes);
}

interface Block {
  n: number;
  p: number; // extra prefix bits, 0..8
}
const startOf = ({ n, p }: Block): number => n & ~((1 << (8 - p)) - 1) & 0xff;
const sizeOf = ({ p }: Block): number => 1 << (8 - p);

/** A cidr and excepts that are strict subsets of it (valid input). */
const arbIpBlock = fc
  .record({ n: fc.integer({ min: 0, max: 255 }), p: fc.integer({ min: 0, max: 8 }) })
  .chain((cidr) =>
    fc.record({
      cidr: fc.constant(cidr),
      except:
        cidr.p === 8
          ? fc.constant([] as Block[])
          : fc.array(
              fc.record({
                n: fc.integer({ min: startOf(cidr), max: startOf(cidr) + sizeOf(cidr) - 1 }),
                p: fc.integer({ min: cidr.p + 1, max: 8 }),
              }),
              { maxLength: 4 },
            ),
    }),
  );

for (const u of UNIVERSES) {
  const loaded = configFor(u);
  t.test(`address rules agree with a brute-force model of the table (IPv${u.family})`, async (t) => {
    let fired = { nat: 0, partial: 0, empty: 0, local: 0, pinned: 0 };
    fc.assert(
      fc.property(arbIpBlock, fc.constantFrom("ingress" as const, "egress" as const), ({ cidr, except }, direction) => {
        const members: number[] = [];
        for (let a = startOf(cidr); a < startOf(cidr) + sizeOf(cidr); a++) {
          if (!except.some((e) => a >= startOf(e) && a < startOf(e) + sizeOf(e))) members.push(a);
        }
        const peer = ipBlock(
          cidrOf(u, [startOf(cidr), sizeOf(cidr)]),
          except.length ? except.map((e) => cidrOf(u, [startOf(e), sizeOf(e)])) : undefined,
        );
        const object = direction === "ingress" ? ingressFrom([peer]) : egressTo([peer]);
        const result = evaluatePolicy(object, loaded);
        if (result.inputErrors.length || result.ruleFailures.length) throw new Error(JSON.stringify(result));
        const has = (rule: string) => result.findings.some((f) => f.rule === rule);

        const hiddenCount = members.filter((a) => hidden(a, direction)).length;
        const expectEmpty = members.length === 0;
        const expectNat = !expectEmpty && hiddenCount === members.length;
        const expectPartial =
          hiddenCount > 0 && hiddenCount < members.length && (hiddenCount / members.length >= 0.5 || members.every(declared) || members.every((a) => declared(a) || inAny(a, T.natSource, T.exposed)));
        const expectLocal = members.some((a) => inR(a, T.localPods));
        const routedOwner = [T.routedPods, T.snatPods].find((r) => members.length > 0 && members.every((a) => inR(a, r)));
        const expectPinned = cidr.p >= 4 && !!routedOwner && !expectNat;

        const check = (label: string, got: boolean, want: boolean) => {
          if (got !== want) throw new Error(`${label}: got ${got}, want ${want} for ${JSON.stringify(peer)} ${direction} (members ${members.length}, hidden ${hiddenCount})`);
        };
        check("empty-ipblock", has("empty-ipblock"), expectEmpty);
        check("nat-hidden-cidr", has("nat-hidden-cidr"), expectNat);
        check("partially-hidden-cidr", has("partially-hidden-cidr"), expectPartial);
        check("ipblock-local-pods", has("ipblock-local-pods"), expectLocal);
        check("pinned-remote-pod-ip", has("pinned-remote-pod-ip"), expectPinned);
        check("ambiguous-remote-cidr", has("ambiguous-remote-cidr"), false);
        if (expectNat) fired.nat++;
        if (expectPartial) fired.partial++;
        if (expectEmpty) fired.empty++;
        if (expectLocal) fired.local++;
        if (expectPinned) fired.pinned++;
      }),
      { numRuns: 1500, seed: 20240611 + u.family },
    );
    t.ok(fired.nat > 20, `nat-hidden-cidr exercised (${fired.nat})`);
    t.ok(fired.partial > 5, `partially-hidden-cidr exercised (${fired.partial})`);
    t.ok(fired.empty > 5, `empty-ipblock exercised (${fired.empty})`);
    t.ok(fired.local > 20, `ipblock-local-pods exercised (${fired.local})`);
    t.ok(fired.pinned > 5, `pinned-remote-pod-ip exercised (${fired.pinned})`);
    fired = { nat: 0, partial: 0, empty: 0, local: 0, pinned: 0 };
  });
}
