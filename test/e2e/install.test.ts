/**
 * `kubectl apply -k manifests/` on a real kube-apiserver: accepted (server-side dry run first), least
 * privilege proven with `kubectl auth can-i` as netguard's ServiceAccount, the pod hardened to the
 * restricted Pod Security Standard, the cert-manager overlay valid, and a clean uninstall.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { parseAllDocuments } from "yaml";
import { loadConfigFile } from "../../server/config/file.js";
import { clusterFor, type Kubectl, kustomize, MANIFESTS, manifestWebhooksYaml, NAMESPACE, SERVICE_ACCOUNT, updateManifestWebhooks } from "./fixtures/install.js";

type Doc = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; [key: string]: any };
const build = async (dir: string): Promise<Doc[]> => {
  const r = await kustomize(dir);
  if (r.code !== 0) throw new Error(r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Doc);
};
const find = (docs: Doc[], kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);

t.test("manifests/base/webhooks.yaml is what the webhook builder produces for the Service", async (t) => {
  if (process.env.NETGUARD_UPDATE_MANIFESTS) await updateManifestWebhooks();
  t.equal(await readFile(join(MANIFESTS, "base", "webhooks.yaml"), "utf8"), manifestWebhooksYaml());
});

t.test("the ConfigMap holds a valid GuardrailConfig that starts in audit mode", async (t) => {
  const result = await loadConfigFile(join(MANIFESTS, "base", "config.yaml"));
  t.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  if (result.ok) t.equal(result.loaded.config.mode, "audit");
});

t.test("the cert-manager overlay leaves certificates to cert-manager", async (t) => {
  const docs = await build(join(MANIFESTS, "overlays", "cert-manager"));
  for (const [kind, name] of [["Secret", "netguard-tls"], ["Role", "netguard-certs"], ["RoleBinding", "netguard-certs"], ["ClusterRole", "netguard-certs"], ["ClusterRoleBinding", "netguard-certs"]]) {
    t.notOk(find(docs, kind!, name!), `no ${kind} ${name}: netguard neither writes its Secret nor patches the webhooks`);
  }
  const container = find(docs, "Deployment", "netguard")!.spec.template.spec.containers[0];
  t.notOk(container.args.includes("--self-managed-certs"));
  t.ok(container.args.includes("--cert=/etc/netguard/tls/tls.crt") && container.args.includes("--key=/etc/netguard/tls/tls.key"), container.args.join(" "));
  for (const kind of ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"]) {
    t.equal(find(docs, kind, "netguard")!.metadata.annotations?.["cert-manager.io/inject-ca-from"], `${NAMESPACE}/netguard`, kind);
  }
  const certificate = find(docs, "Certificate", "netguard")!;
  t.match(certificate.spec, { secretName: "netguard-tls", dnsNames: ["netguard.netguard-system.svc"], issuerRef: { name: "netguard-ca" } });
});

t.test("on a real apiserver", async (t) => {
  const { kubectl } = await clusterFor(t);

  t.test("kubectl apply -k manifests/: server-side dry run, then for real", async (t) => {
    // A server-side dry run cannot create the namespace the other objects go into: create it first.
    t.equal((await kubectl(["apply", "-f", join(MANIFESTS, "base", "namespace.yaml")])).code, 0);
    const dry = await kubectl(["apply", "-k", MANIFESTS, "--dry-run=server"]);
    t.equal(dry.code, 0, dry.stderr);
    t.notMatch(dry.stdout, /created$/m, "a dry run reports only what it would do");
    const real = await kubectl(["apply", "-k", MANIFESTS]);
    t.equal(real.code, 0, real.stderr);
    t.notMatch(real.stderr, /Warning/, "no warnings: the pod template meets the restricted Pod Security Standard (the namespace warns)");
    for (const object of ["validatingwebhookconfiguration/netguard", "mutatingwebhookconfiguration/netguard", "crd/policyreports.wgpolicyk8s.io", "crd/clusterpolicyreports.wgpolicyk8s.io"]) {
      t.equal((await kubectl(["get", object])).code, 0, object);
    }
  });

  t.test("the Deployment as the apiserver stored it", async (t) => {
    const r = await kubectl(["get", "deployment", "netguard", "-n", NAMESPACE, "-o", "json"]);
    const spec = JSON.parse(r.stdout).spec;
    const pod = spec.template.spec;
    const [container] = pod.containers;
    t.equal(spec.replicas, 2);
    t.ok(pod.affinity.podAntiAffinity, "replicas spread over nodes");
    t.match(pod.securityContext, { runAsNonRoot: true, runAsUser: Number, seccompProfile: { type: "RuntimeDefault" } });
    t.ok(pod.securityContext.runAsUser > 0, "a non-root numeric user");
    t.match(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    t.match(container.readinessProbe.httpGet, { path: "/readyz", scheme: "HTTPS" });
    t.match(container.livenessProbe.httpGet, { path: "/healthz", scheme: "HTTPS" });
    t.match(container.resources, { requests: { cpu: String, memory: String }, limits: { memory: String } });
    t.ok(pod.volumes.some((v: { name: string; emptyDir?: unknown }) => v.emptyDir) && container.volumeMounts.some((m: { mountPath: string }) => m.mountPath === "/tmp"));
    const pdb = JSON.parse((await kubectl(["get", "pdb", "netguard", "-n", NAMESPACE, "-o", "json"])).stdout).spec;
    t.equal(pdb.minAvailable, 1);
    const svc = JSON.parse((await kubectl(["get", "service", "netguard", "-n", NAMESPACE, "-o", "json"])).stdout).spec;
    t.match(svc.ports, [{ port: 443, targetPort: "https" }]);
  });

  t.test("RBAC: what netguard needs", async (t) => {
    // kubectl auth can-i resolves a resource through discovery: the CNIs' CRDs, stubbed, make theirs resolvable.
    const cniStubs = [
      stubCrd("crd.projectcalico.org", "v1", "IPPool"),
      stubCrd("cilium.io", "v2", "CiliumNode"),
      stubCrd("cilium.io", "v2alpha1", "CiliumPodIPPool"),
      stubCrd("cilium.io", "v2", "CiliumNetworkPolicy", "Namespaced"),
      stubCrd("cilium.io", "v2", "CiliumClusterwideNetworkPolicy"),
      stubCrd("projectcalico.org", "v3", "NetworkPolicy", "Namespaced"),
      stubCrd("projectcalico.org", "v3", "GlobalNetworkPolicy"),
      stubCrd("crd.projectcalico.org", "v1", "NetworkPolicy", "Namespaced"),
      stubCrd("crd.projectcalico.org", "v1", "GlobalNetworkPolicy"),
    ];
    t.equal((await kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: cniStubs }))).code, 0);
    await kubectl(["wait", "--for=condition=Established", ...cniStubs.map((c) => `crd/${c.metadata.name}`)]);
    const needs: string[][] = [
      ["watch", "namespaces"],
      ["patch", "namespaces"],
      ["list", "networkpolicies", "-A"],
      ["create", "networkpolicies", "-n", "default"],
      ["update", "networkpolicies", "-n", "default"],
      ["delete", "networkpolicies", "-n", "default"],
      ["create", "policyreports.wgpolicyk8s.io", "-n", "default"],
      ["list", "policyreports.wgpolicyk8s.io", "-A"],
      ["get", "clusterpolicyreports.wgpolicyk8s.io"],
      ["update", "clusterpolicyreports.wgpolicyk8s.io"],
      ["list", "guardrailexceptions.netguard.dev"],
      ["watch", "guardrailexceptions.netguard.dev"],
      ["create", "leases", "-n", NAMESPACE],
      ["update", "leases/netguard-controller", "-n", NAMESPACE],
      ["get", "secrets/netguard-tls", "-n", NAMESPACE],
      ["update", "secrets/netguard-tls", "-n", NAMESPACE],
      ["create", "secrets", "-n", NAMESPACE], // a deleted netguard-tls is recreated
      ["get", "validatingwebhookconfigurations/netguard"],
      ["update", "validatingwebhookconfigurations/netguard"],
      ["update", "mutatingwebhookconfigurations/netguard"],
      ["create", "selfsubjectreviews.authentication.k8s.io"],
      // Topology discovery (issue 13): read-only lists and watches of the sources, the two topology ConfigMaps.
      ["list", "nodes"],
      ["watch", "nodes"],
      ["list", "servicecidrs.networking.k8s.io"],
      ["watch", "servicecidrs.networking.k8s.io"],
      ["watch", "ippools.crd.projectcalico.org"],
      ["watch", "ciliumnodes.cilium.io"],
      ["watch", "ciliumpodippools.cilium.io"],
      ["get", "services/kubernetes", "-n", "default"],
      ["watch", "configmaps", "-n", NAMESPACE],
      ["create", "configmaps", "-n", NAMESPACE],
      ["update", "configmaps/netguard-cluster-descriptor", "-n", NAMESPACE],
      ["update", "configmaps/netguard-peer-descriptors", "-n", NAMESPACE],
      // The audit reads the CNI policy kinds (issue 17).
      ["list", "ciliumnetworkpolicies.cilium.io", "-A"],
      ["list", "ciliumclusterwidenetworkpolicies.cilium.io"],
      ["list", "networkpolicies.projectcalico.org", "-A"],
      ["list", "globalnetworkpolicies.projectcalico.org"],
      ["list", "networkpolicies.crd.projectcalico.org", "-A"],
      ["list", "globalnetworkpolicies.crd.projectcalico.org"],
    ];
    for (const q of needs) t.equal(await canI(kubectl, q), "yes", q.join(" "));
  });

  t.test("RBAC: what netguard must not have", async (t) => {
    const mustNot: string[][] = [
      ["get", "secrets", "-n", "default"],
      ["get", "secrets", "-n", "kube-system"],
      ["list", "secrets", "-n", NAMESPACE],
      ["get", "secrets/other", "-n", NAMESPACE],
      ["create", "secrets", "-n", "default"],
      ["create", "secrets", "-n", "kube-system"],
      ["get", "configmaps", "-n", "kube-system"],
      ["create", "pods/exec", "-n", "default"],
      ["create", "pods", "-n", NAMESPACE],
      ["create", "serviceaccounts/token", "-n", NAMESPACE],
      ["*", "*"],
      ["*", "networkpolicies", "-n", "default"],
      ["escalate", "clusterroles"],
      ["bind", "clusterroles"],
      ["update", "clusterroles/netguard"],
      ["impersonate", "users"],
      ["create", "validatingwebhookconfigurations"],
      ["delete", "validatingwebhookconfigurations/netguard"],
      ["update", "validatingwebhookconfigurations/another-webhook"],
      ["delete", "namespaces"],
      ["update", "leases/kube-scheduler", "-n", "kube-system"],
      ["update", "leases/another-lease", "-n", NAMESPACE],
      ["delete", "customresourcedefinitions"],
      // Verbs no code of netguard's uses (issue 18).
      ["update", "namespaces"],
      ["patch", "networkpolicies", "-n", "default"],
      ["watch", "policyreports.wgpolicyk8s.io", "-A"],
      ["patch", "policyreports.wgpolicyk8s.io", "-n", "default"],
      ["patch", "clusterpolicyreports.wgpolicyk8s.io"],
      ["patch", "secrets/netguard-tls", "-n", NAMESPACE],
      ["patch", "validatingwebhookconfigurations/netguard"],
      ["patch", "mutatingwebhookconfigurations/netguard"],
      ["get", "namespaces"],
      ["get", "policyreports.wgpolicyk8s.io", "-n", "default"],
      ["list", "clusterpolicyreports.wgpolicyk8s.io"],
      ["delete", "clusterpolicyreports.wgpolicyk8s.io"],
      // netguard reads exceptions and never writes one (only the platform team, through netguard-exception-admin).
      ["create", "guardrailexceptions.netguard.dev"],
      ["update", "guardrailexceptions.netguard.dev"],
      ["delete", "guardrailexceptions.netguard.dev"],
      // Discovery reads and writes nothing else: not a Node, not its own config, not another Service.
      ["get", "nodes"],
      ["patch", "nodes"],
      ["update", "nodes/status"],
      ["update", "servicecidrs.networking.k8s.io"],
      ["create", "ippools.crd.projectcalico.org"],
      ["update", "ciliumnodes.cilium.io"],
      ["update", "configmaps/netguard-config", "-n", NAMESPACE],
      ["delete", "configmaps", "-n", NAMESPACE],
      ["list", "configmaps", "-n", "default"],
      ["get", "services/other", "-n", "default"],
      ["list", "services", "-n", "default"],
      // The CNI policies are read, never written.
      ["create", "ciliumnetworkpolicies.cilium.io", "-n", "default"],
      ["update", "ciliumclusterwidenetworkpolicies.cilium.io"],
      ["delete", "networkpolicies.projectcalico.org", "-n", "default"],
      ["watch", "globalnetworkpolicies.projectcalico.org"],
      ["create", "networkpolicies.crd.projectcalico.org", "-n", "default"],
      ["update", "globalnetworkpolicies.crd.projectcalico.org"],
    ];
    for (const q of mustNot) t.equal(await canI(kubectl, q), "no", q.join(" "));
    for (const ns of ["default", NAMESPACE]) {
      const list = await kubectl(["auth", "can-i", "--list", `--as=${SERVICE_ACCOUNT}`, "-n", ns]);
      const resourceRows = list.stdout.split("\n").slice(1).filter((l) => l.trim() && !l.trim().startsWith("["));
      t.notOk(resourceRows.some((row) => /(^|\s|\[)\*(\s|\]|$)/.test(row) || /\*\./.test(row)), `no wildcard resource or verb in ${ns}:\n${resourceRows.join("\n")}`);
    }
  });

  t.test("the cert-manager overlay is accepted by the apiserver (cert-manager's CRDs stubbed)", async (t) => {
    const stubs = await kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: ["Certificate", "Issuer"].map((kind) => stubCrd("cert-manager.io", "v1", kind, "Namespaced")) }));
    t.equal(stubs.code, 0, stubs.stderr);
    await kubectl(["wait", "--for=condition=Established", "crd/certificates.cert-manager.io", "crd/issuers.cert-manager.io"]);
    const dry = await kubectl(["apply", "-k", join(MANIFESTS, "overlays", "cert-manager"), "--dry-run=server"]);
    t.equal(dry.code, 0, dry.stderr);
  });

  t.test("the webhook-callers component, with a control plane's sources patched in as docs/install.md shows", async (t) => {
    // Kustomize takes only relative paths: a user's kustomization next to a copy of manifests/.
    const dir = await mkdtemp(join(tmpdir(), "netguard-callers-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await cp(MANIFESTS, join(dir, "manifests"), { recursive: true });
    await writeFile(join(dir, "kustomization.yaml"), "resources: [manifests]\ncomponents: [manifests/components/webhook-callers]\npatches: [{path: callers.yaml}]\n");
    await writeFile(join(dir, "callers.yaml"), await readFile(join(MANIFESTS, "components", "webhook-callers", "example-callers.yaml"), "utf8"));
    const policy = find(await build(dir), "NetworkPolicy", "netguard-webhook-callers")!;
    t.match(policy.spec, { podSelector: { matchLabels: { "app.kubernetes.io/name": "netguard" } }, policyTypes: ["Ingress"] });
    t.same(policy.spec.ingress, [{ ports: [{ protocol: "TCP", port: 8443 }], from: [{ ipBlock: { cidr: "10.0.0.0/28" } }] }], "the patch replaces the placeholder sources");
    const dry = await kubectl(["apply", "-k", dir, "--dry-run=server"]);
    t.equal(dry.code, 0, dry.stderr);
    t.match(dry.stdout, /networkpolicy\.networking\.k8s\.io\/netguard-webhook-callers/);
  });

  t.test("the descriptor-import component grants get on exactly the Secrets named, as docs/topology.md shows", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "netguard-peers-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await cp(MANIFESTS, join(dir, "manifests"), { recursive: true });
    await writeFile(join(dir, "kustomization.yaml"), "resources: [manifests]\ncomponents: [manifests/components/descriptor-import]\npatches: [{path: peer-secrets.yaml}]\n");
    await writeFile(join(dir, "peer-secrets.yaml"), await readFile(join(MANIFESTS, "components", "descriptor-import", "example-peer-secrets.yaml"), "utf8"));
    const role = find(await build(dir), "Role", "netguard-peer-kubeconfigs")!;
    t.same(role.rules, [{ apiGroups: [""], resources: ["secrets"], resourceNames: ["aws-east-kubeconfig", "dc-north-kubeconfig"], verbs: ["get"] }], "the patch replaces the placeholder names");
    const applied = await kubectl(["apply", "-k", dir]);
    t.equal(applied.code, 0, applied.stderr);
    t.equal(await canI(kubectl, ["get", "secrets/aws-east-kubeconfig", "-n", NAMESPACE]), "yes");
    for (const q of [["get", "secrets/other", "-n", NAMESPACE], ["list", "secrets", "-n", NAMESPACE], ["get", "secrets/netguard-tls-other", "-n", NAMESPACE]]) t.equal(await canI(kubectl, q), "no", q.join(" "));
    t.equal((await kubectl(["delete", "role,rolebinding", "netguard-peer-kubeconfigs", "-n", NAMESPACE])).code, 0);
  });

  t.test("kubectl delete -k manifests/ removes everything cluster-wide", async (t) => {
    const r = await kubectl(["delete", "-k", MANIFESTS, "--wait=false"]);
    t.equal(r.code, 0, r.stderr);
    for (const object of ["validatingwebhookconfiguration/netguard", "mutatingwebhookconfiguration/netguard", "clusterrole/netguard", "clusterrolebinding/netguard-certs"]) {
      t.match((await kubectl(["get", object])).stderr, /NotFound/, object);
    }
  });
});

/** A CRD that accepts any object of `kind` in group/version: enough to dry-run an overlay or resolve a resource. */
function stubCrd(group: string, version: string, kind: string, scope: "Namespaced" | "Cluster" = "Cluster") {
  const plural = kind.toLowerCase().replace(/y$/, "ie") + "s";
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope,
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [{ name: version, served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
    },
  };
}

async function canI(kubectl: Kubectl, query: string[]): Promise<string> {
  const r = await kubectl(["auth", "can-i", ...query, `--as=${SERVICE_ACCOUNT}`]);
  return r.stdout.trim();
}
