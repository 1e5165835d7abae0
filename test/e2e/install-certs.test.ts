/**
 * Self-managed certificates on a real kube-apiserver, installed from manifests/ and running as
 * netguard's ServiceAccount. No kubelet runs pods here, so two in-process replicas (cert manager +
 * server each) stand in for the Deployment and the webhooks are re-pointed from the Service to
 * their URLs. The apiserver verifies every call against the caBundle netguard injected, through
 * several CA rotations with writes going on all along; then netguard goes down, and the cluster
 * stays usable where it must, and fully so after breaking glass.
 */
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import type * as k8s from "@kubernetes/client-node";
import t from "tap";
import { generateCA } from "../../certs/generate.js";
import { startSelfManagedCerts } from "../../certs/self-managed.js";
import { apiErrorMessage, kubeClients, loadKubeConfig } from "../../kube/client.js";
import type { RunningServer } from "../../server/start.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { clusterFor, MANIFESTS, NAMESPACE, pointAt, policy, secretData, serviceAccountKubeconfig, SILENT, startCertsReplica, type Kubectl } from "./fixtures/install.js";

const WEBHOOK_KINDS = ["validatingwebhookconfiguration", "mutatingwebhookconfiguration"] as const;
// Short lives so that the test sees several rotations: each pair is renewed 6 s after it is issued.
const ROTATION = { syncMs: 250, validityMs: 30_000, renewBeforeMs: 24_000, overlapMs: 2_000 };


const caBundles = async (kubectl: Kubectl): Promise<string[]> => {
  const out: string[] = [];
  for (const kind of WEBHOOK_KINDS) {
    const r = await kubectl(["get", kind, "netguard", "-o", "jsonpath={.webhooks[*].clientConfig.caBundle}"]);
    out.push(...r.stdout.split(" ").filter(Boolean).map((b) => Buffer.from(b, "base64").toString()));
  }
  return out;
};

const requestsServed = async (server: RunningServer) => (await server.metrics.requests.get()).values.reduce((sum, v) => sum + v.value, 0);

t.test("self-managed certificates on a real apiserver", async (t) => {
  const { cluster, kubectl } = await clusterFor(t);
  t.equal((await kubectl(["apply", "-f", join(MANIFESTS, "base", "namespace.yaml")])).code, 0);
  const applied = await kubectl(["apply", "-k", MANIFESTS]);
  t.equal(applied.code, 0, applied.stderr);
  const clients = kubeClients(loadKubeConfig(await serviceAccountKubeconfig(cluster, kubectl)));
  const admin = kubeClients(loadKubeConfig(cluster.kubeconfig));

  const a = await startCertsReplica(t, { clients, ...ROTATION }, join(cluster.dir, "replica-a"));
  const b = await startCertsReplica(t, { clients, ...ROTATION }, join(cluster.dir, "replica-b"));
  let stored = await secretData(kubectl);

  t.test("one replica issued, the other adopted, and the caBundle is injected", async (t) => {
    t.ok(stored["tls.crt"] && stored["tls.key"] && stored["ca-bundle.crt"], "the Secret holds the pair and the caBundle");
    t.equal(a.server.state.certificate?.serialNumber, b.server.state.certificate?.serialNumber, "both replicas serve the same certificate");
    const bundles = await caBundles(kubectl);
    t.ok(bundles.length >= 4, "every webhook of both configurations");
    for (const bundle of bundles) t.ok(bundle.includes(stored["ca.crt"]!.trim()), "trusts the CA that signed the served certificate");
  });

  await pointAt(kubectl, "validatingwebhookconfiguration", a.server.url);
  await pointAt(kubectl, "mutatingwebhookconfiguration", b.server.url);

  t.test("the apiserver calls netguard over verified TLS: a denial carries netguard's message", async (t) => {
    const ns = await kubectl(["create", "namespace", "shop"]);
    t.equal(ns.code, 0, ns.stderr);
    const labels = await kubectl(["get", "namespace", "shop", "-o", "jsonpath={.metadata.labels.netguard\\.dev/cluster}"]);
    t.equal(labels.stdout, "gcp-west", "the mutating webhook (replica b) stamped the cluster label");
    const denied = await waitFor("the validating webhook to deny", async () => {
      const r = await kubectl(["create", "-f", "-"], JSON.stringify(policy("from-aws-pods", "shop", "10.100.0.0/16")));
      return r.code !== 0 && /nat-hidden-cidr/.test(r.stderr) ? r : undefined;
    });
    t.match(denied.stderr, 'admission webhook "networkpolicies.validate.netguard.dev" denied the request');
    t.match(denied.stderr, "nat-hidden-cidr");
  });

  t.test("rotations with writes all along: no admission fails", async (t) => {
    const failures: string[] = [];
    let writes = 0;
    let writing = true;
    const before = { a: await requestsServed(a.server), b: await requestsServed(b.server) };
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        try {
          await admin.networking.createNamespacedNetworkPolicy({ namespace: "shop", body: policy(`allowed-${i}`, "shop", "203.0.113.10/32") as k8s.V1NetworkPolicy });
          if (i % 4 === 0) await admin.core.createNamespace({ body: { metadata: { name: `team-${i}` } } });
          writes++;
        } catch (error) {
          failures.push(apiErrorMessage(error));
        }
        await sleep(20);
      }
    })();

    // Watch the Secret: a rotation is done when a new CA is the only one trusted again.
    const cas = new Set<string>([stored["ca.crt"]!]);
    let completed = 0;
    let trustedTwo = false;
    await waitFor(
      "two complete rotations",
      async () => {
        stored = await secretData(kubectl);
        const trusted = (stored["ca-bundle.crt"] ?? "").match(/BEGIN CERTIFICATE/g)?.length ?? 0;
        if (trusted === 2) trustedTwo = true;
        if (trusted === 1 && trustedTwo && !cas.has(stored["ca.crt"]!)) {
          cas.add(stored["ca.crt"]!);
          completed++;
          trustedTwo = false;
        }
        return completed >= 2;
      },
      60_000,
    );
    writing = false;
    await writer;

    t.same(failures, [], `${writes} writes through the webhooks during ${completed} rotations`);
    t.ok(writes > 50, `${writes} writes`);
    t.ok((await requestsServed(a.server)) - before.a > writes, "replica a answered the validating calls");
    t.ok((await requestsServed(b.server)) - before.b > 0, "replica b answered the mutating calls");
    await waitFor("both replicas to serve the Secret's certificate", () => {
      const serial = new X509Certificate(stored["tls.crt"]!).serialNumber;
      return a.server.state.certificate?.serialNumber === serial && b.server.state.certificate?.serialNumber === serial;
    });
    for (const bundle of await caBundles(kubectl)) t.equal(bundle, stored["ca-bundle.crt"], "the webhooks trust exactly the Secret's caBundle");
  });

  t.test("a caBundle that does not match is refused by the apiserver", async (t) => {
    await a.certs.stop();
    await b.certs.stop();
    const stranger = Buffer.from((await generateCA("not-netguard")).cert).toString("base64");
    const config = JSON.parse((await kubectl(["get", "validatingwebhookconfiguration", "netguard", "-o", "json"])).stdout) as { webhooks: unknown[] };
    const ops = config.webhooks.map((_, i) => ({ op: "replace", path: `/webhooks/${i}/clientConfig/caBundle`, value: stranger }));
    t.equal((await kubectl(["patch", "validatingwebhookconfiguration", "netguard", "--type=json", "-p", JSON.stringify(ops)])).code, 0);
    const refused = await waitFor("the apiserver to use the new caBundle", async () => {
      const r = await kubectl(["create", "-f", "-"], JSON.stringify(policy("unverified", "shop")));
      return r.code !== 0 ? r : undefined;
    });
    t.match(refused.stderr, /failed calling webhook "networkpolicies\.validate\.netguard\.dev".*(x509|certificate)/);
  });

  t.test("when netguard is down the cluster is not locked, and breaking glass restores everything", async (t) => {
    await a.stop();
    await b.stop();
    await kubectl(["create", "-f", "-"], JSON.stringify(policy("mine", "team-0")));
    const failClosed = await kubectl(["create", "-f", "-"], JSON.stringify(policy("while-down", "shop")));
    t.not(failClosed.code, 0, "NetworkPolicies outside the excluded namespaces wait for netguard (failurePolicy Fail)");
    t.match(failClosed.stderr, 'failed calling webhook "networkpolicies.validate.netguard.dev"');
    t.not((await kubectl(["create", "namespace", "while-down"])).code, 0, "so do new namespaces");

    const stillWorks: [string, string[], string?][] = [
      ["a NetworkPolicy in kube-system", ["create", "-f", "-"], JSON.stringify(policy("kube-dns", "kube-system"))],
      ["a NetworkPolicy in netguard-system", ["create", "-f", "-"], JSON.stringify(policy("netguard", NAMESPACE))],
      ["labelling kube-system", ["label", "namespace", "kube-system", "example.com/owner=platform"]],
      ["labelling netguard-system", ["label", "namespace", NAMESPACE, "example.com/owner=platform"]],
      ["annotating any namespace (labels unchanged)", ["annotate", "namespace", "shop", "example.com/contact=alice"]],
      ["deleting a NetworkPolicy netguard does not manage", ["delete", "networkpolicy", "allowed-0", "-n", "shop"]],
      ["editing netguard's ConfigMap (failurePolicy Ignore)", ["annotate", "configmap", "netguard-config", "-n", NAMESPACE, "example.com/edited=yes"]],
    ];
    for (const [what, args, input] of stillWorks) {
      const r = await kubectl(args, input);
      t.equal(r.code, 0, `${what}: ${r.stderr}`);
    }

    // A replica's cert manager still running must not bring the webhooks back after they are deleted.
    const survivor = await startSelfManagedCerts({ clients, namespace: NAMESPACE, dir: join(cluster.dir, "replica-c"), ips: ["127.0.0.1"], log: SILENT, ...ROTATION });
    t.teardown(() => survivor.stop());
    t.equal((await kubectl(["delete", "validatingwebhookconfiguration,mutatingwebhookconfiguration", "netguard"])).code, 0, "break glass");
    await waitFor("the apiserver to drop the webhooks", async () => (await kubectl(["create", "namespace", "after-break-glass"])).code === 0);
    t.equal((await kubectl(["create", "-f", "-"], JSON.stringify(policy("after-break-glass", "shop")))).code, 0);
    await sleep(4 * ROTATION.syncMs);
    for (const kind of WEBHOOK_KINDS) t.match((await kubectl(["get", kind, "netguard"])).stderr, /NotFound/, `${kind} stays deleted`);
  });
});
