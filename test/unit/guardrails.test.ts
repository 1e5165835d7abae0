import t from "tap";
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  buildBaselinePolicy,
  checkManagedPolicyChange,
  checkNamespace,
  clusterLabelPatch,
  defaultConfig,
  isManagedPolicy,
  auditNamespace,
  checkManagedPolicyClaim,
  NETGUARD_FIELD_MANAGER,
  baselineStatus,
  isPrivileged,
  optOutLabel,
} from "../../policies/index.js";
import { validateNetworkPolicy } from "../../policies/validate/network-policy.js";
import { evaluate, fixture, multicloud } from "./helpers.js";

const config = fixture.config;
const KEY = "netguard.dev/cluster";
const alice = { username: "alice", groups: ["system:authenticated", "developers"] };
const admin = { username: "root", groups: ["system:authenticated", "system:masters"] };
const ns = (labels?: Record<string, string>) => ({ metadata: labels ? { name: "web", labels } : { name: "web" } });

t.test("clusterLabelPatch", async (t) => {
  t.same(clusterLabelPatch(ns(), config), [{ op: "add", path: "/metadata/labels", value: { [KEY]: "gcp-west" } }], "no labels at all");
  t.same(clusterLabelPatch(ns({ team: "a" }), config), [{ op: "add", path: "/metadata/labels/netguard.dev~1cluster", value: "gcp-west" }], "labels without the key");
  t.same(clusterLabelPatch(ns({ [KEY]: "gcp-west" }), config), [], "already stamped");
  t.same(clusterLabelPatch(ns({ [KEY]: "aws-east" }), config), [], "a different value is left for the validating webhook");
  t.same(clusterLabelPatch(ns({ [KEY]: "" }), config), [], "present with an empty value counts as present");
  t.same(clusterLabelPatch({}, config), [{ op: "add", path: "/metadata", value: { labels: { [KEY]: "gcp-west" } } }], "no metadata");
  t.same(clusterLabelPatch(undefined, config), [{ op: "add", path: "/metadata", value: { labels: { [KEY]: "gcp-west" } } }]);

  // '~' cannot appear in a valid label key, but the pointer escaping must not depend on that.
  const tricky = { ...config, clusterLabel: "example.com/a~b" };
  t.same(clusterLabelPatch(ns({ team: "a" }), tricky), [{ op: "add", path: "/metadata/labels/example.com~1a~0b", value: "gcp-west" }], "'~' is escaped as ~0 and '/' as ~1 (RFC 6901)");
  const plain = multicloud((d) => (d.clusterLabel = "cloud"));
  t.same(clusterLabelPatch(ns({ team: "a" }), plain.config), [{ op: "add", path: "/metadata/labels/cloud", value: "gcp-west" }]);
});

t.test("isPrivileged", async (t) => {
  t.notOk(isPrivileged(undefined, config));
  t.notOk(isPrivileged(alice, config));
  t.ok(isPrivileged(admin, config));
  t.ok(isPrivileged({ username: "system:serviceaccount:netguard-system:netguard" }, config, ["system:serviceaccount:netguard-system:netguard"]), "privileged user by name");
  t.notOk(isPrivileged({ username: "alice" }, config, ["bob"]));
  const custom = multicloud((d) => (d.privilegedGroups = ["platform"]));
  t.ok(isPrivileged({ groups: ["platform"] }, custom.config));
  t.notOk(isPrivileged(admin, custom.config), "only the configured groups count");
});

t.test("checkNamespace: the reserved cluster label", async (t) => {
  const denied = checkNamespace(ns({ [KEY]: "aws-east" }), undefined, alice, config);
  t.equal(denied.length, 1);
  t.equal(denied[0]?.rule, "reserved-cluster-label");
  t.equal(denied[0]?.action, "deny");
  t.equal(denied[0]?.path, `metadata.labels["${KEY}"]`);
  t.match(denied[0]?.message, `"${KEY}" is reserved for the cluster identity and must be "gcp-west" here; only system:masters may set another value.`);
  t.match(denied[0]?.fix, /gcp-west/);

  t.same(checkNamespace(ns({ [KEY]: "aws-east" }), undefined, admin, config), [], "system:masters may");
  t.same(checkNamespace(ns({ [KEY]: "aws-east" }), undefined, { username: "ctrl" }, config, ["ctrl"]), [], "privilegedUsers may");
  t.same(checkNamespace(ns({ [KEY]: "gcp-west" }), undefined, alice, config), [], "the local value is fine");
  t.same(checkNamespace(ns(), undefined, alice, config), [], "absent (the mutating webhook stamps it)");
  t.same(checkNamespace(ns({ [KEY]: "aws-east", team: "b" }), ns({ [KEY]: "aws-east", team: "a" }), alice, config), [], "an unchanged foreign value on UPDATE is allowed");
  t.equal(checkNamespace(ns({ [KEY]: "azure-north" }), ns({ [KEY]: "aws-east" }), alice, config).length, 1, "changing one foreign value to another is denied");
  t.equal(checkNamespace(ns({ [KEY]: "aws-east" }), ns({ [KEY]: "gcp-west" }), alice, config).length, 1, "UPDATE to a foreign value is denied");
  t.equal(checkNamespace(ns({ [KEY]: "aws-east" }), ns(), undefined, config).length, 1, "no user info: not privileged");
});

t.test("checkNamespace: the baseline opt-out label", async (t) => {
  const optOut = { "netguard.dev/baseline": "disabled" };
  const denied = checkNamespace(ns(optOut), undefined, alice, config);
  t.equal(denied.length, 1);
  t.equal(denied[0]?.rule, "baseline-opt-out");
  t.equal(denied[0]?.path, 'metadata.labels["netguard.dev/baseline"]');
  t.match(denied[0]?.message, /reserved for system:masters/);
  t.equal(checkNamespace(ns(optOut), ns(), alice, config).length, 1, "added on UPDATE");
  t.same(checkNamespace(ns(optOut), ns(optOut), alice, config), [], "already opted out (by a privileged user earlier)");
  t.same(checkNamespace(ns({ "netguard.dev/baseline": "enabled" }), undefined, alice, config), [], "another value is not the opt-out");
  t.same(checkNamespace(ns(optOut), undefined, admin, config), [], "privileged");
  t.same(checkNamespace(ns(optOut), undefined, { username: "ops" }, config, ["ops"]), [], "privilegedUsers param");
  const both = checkNamespace(ns({ ...optOut, [KEY]: "aws-east" }), undefined, alice, config);
  t.same(both.map((f) => f.rule), ["reserved-cluster-label", "baseline-opt-out"]);
});

t.test("opt-out helpers follow the config", async (t) => {
  const custom = multicloud((d) => (d.baseline = { optOutLabel: "example.com/no-baseline=yes" })).config;
  t.same(optOutLabel(custom), { key: "example.com/no-baseline", value: "yes" });
  t.equal(baselineStatus(ns({ "example.com/no-baseline": "yes" }), custom), "opted-out");
  t.equal(baselineStatus(ns({ "netguard.dev/baseline": "disabled" }), custom), "protected", "the default key means nothing now");
  t.equal(baselineStatus({ metadata: { name: "kube-system" } }, custom), "exempt");
  t.equal(baselineStatus(ns(), multicloud((d) => (d.baseline = { enabled: false })).config), "disabled");
  t.equal(checkNamespace(ns({ "example.com/no-baseline": "yes" }), undefined, alice, custom)[0]?.rule, "baseline-opt-out");
});

t.test("checkManagedPolicyChange", async (t) => {
  const managed = { metadata: { name: "netguard-baseline", labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }, managedFields: [{ manager: NETGUARD_FIELD_MANAGER }] } };
  const mine = { metadata: { name: "mine", labels: { app: "x" } } };
  t.ok(isManagedPolicy(managed));
  t.notOk(isManagedPolicy(mine));
  t.notOk(isManagedPolicy(undefined));

  const upd = checkManagedPolicyChange("UPDATE", managed, alice, config);
  t.equal(upd.length, 1);
  t.equal(upd[0]?.rule, "managed-baseline");
  t.equal(upd[0]?.action, "deny");
  t.equal(upd[0]?.path, "metadata");
  t.match(upd[0]?.message, "cannot be changed by alice");
  t.match(checkManagedPolicyChange("DELETE", managed, alice, config)[0]?.message, "cannot be deleted by alice");
  t.same(checkManagedPolicyChange("UPDATE", managed, admin, config), [], "privileged group");
  t.same(checkManagedPolicyChange("DELETE", managed, { username: "system:serviceaccount:netguard-system:netguard" }, config, ["system:serviceaccount:netguard-system:netguard"]), [], "the controller's own identity");
  t.same(checkManagedPolicyChange("UPDATE", mine, alice, config), [], "not managed");
  t.same(checkManagedPolicyChange("CREATE", undefined, alice, config), [], "CREATE has no old object");
  t.same(checkManagedPolicyChange("CONNECT", managed, alice, config), []);
});

t.test("checkManagedPolicyChange never blocks the cluster's cleanup", async (t) => {
  const labels = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
  const spec = { podSelector: {}, policyTypes: ["Ingress"] };
  const managed = { metadata: { name: "netguard-baseline", namespace: "web", labels, managedFields: [{ manager: NETGUARD_FIELD_MANAGER }] }, spec };
  const sa = (name: string) => ({ username: `system:serviceaccount:kube-system:${name}`, groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"] });
  const denied = (f: unknown[]) => f.length === 1;

  for (const user of [sa("namespace-controller"), sa("generic-garbage-collector"), { username: "system:kube-controller-manager" }]) {
    t.same(checkManagedPolicyChange("DELETE", managed, user, config), [], `${user.username} deletes`);
    t.same(checkManagedPolicyChange("UPDATE", managed, user, config), [], `${user.username} updates (finalizers, ownerReferences)`);
  }
  t.ok(denied(checkManagedPolicyChange("DELETE", managed, sa("replicaset-controller"), config)), "another kube-system controller is not cleanup");
  t.ok(denied(checkManagedPolicyChange("DELETE", managed, { username: "system:serviceaccount:web:namespace-controller" }, config)), "the same name in another namespace is not it");
  t.ok(denied(checkManagedPolicyChange("DELETE", managed, { username: "namespace-controller", groups: ["system:serviceaccounts:kube-system"] }, config)), "nor a look-alike user");

  const terminating = { facts: { terminatingNamespaces: new Set(["web"]) } };
  t.same(checkManagedPolicyChange("DELETE", managed, alice, config, [], terminating), [], "anyone's DELETE in a namespace being deleted");
  t.ok(denied(checkManagedPolicyChange("DELETE", managed, alice, config, [], { facts: { terminatingNamespaces: new Set(["other"]) } })), "only in that namespace");
  t.ok(denied(checkManagedPolicyChange("DELETE", managed, alice, config, [], { facts: {} })), "unknown (cache not synced) is not terminating");
  t.ok(denied(checkManagedPolicyChange("UPDATE", managed, alice, config, [], { ...terminating, object: { ...managed, spec: { podSelector: {} } } } as never)), "an edit in a terminating namespace is still an edit");

  const deleting = { ...managed, metadata: { ...managed.metadata, deletionTimestamp: "2026-12-04T17:00:00Z", finalizers: ["example.com/backup", "foregroundDeletion"] } };
  const withFinalizers = (finalizers: string[] | undefined, extra: object = {}) => ({ ...deleting, ...extra, metadata: { ...deleting.metadata, finalizers } });
  t.same(checkManagedPolicyChange("UPDATE", deleting, alice, config, [], { object: withFinalizers(["foregroundDeletion"]) }), [], "dropping a finalizer lets an admitted deletion finish");
  t.same(checkManagedPolicyChange("UPDATE", deleting, alice, config, [], { object: withFinalizers(undefined) }), [], "dropping all of them");
  t.ok(denied(checkManagedPolicyChange("UPDATE", deleting, alice, config, [], { object: withFinalizers(["foregroundDeletion", "x/new"]) })), "adding one is not finishing");
  t.ok(denied(checkManagedPolicyChange("UPDATE", deleting, alice, config, [], { object: withFinalizers(["foregroundDeletion"], { spec: { podSelector: {} } }) })), "nor is changing the spec meanwhile");
  t.ok(denied(checkManagedPolicyChange("UPDATE", deleting, alice, config, [], { object: { ...withFinalizers([]), metadata: { ...withFinalizers([]).metadata, labels: {} } } })), "nor dropping the managed label");
  t.ok(denied(checkManagedPolicyChange("UPDATE", managed, alice, config, [], { object: { ...managed, metadata: { ...managed.metadata, finalizers: [] } } })), "not being deleted: a plain edit");
  t.ok(denied(checkManagedPolicyChange("UPDATE", { ...deleting, metadata: { ...deleting.metadata, finalizers: "x" } } as never, alice, config, [], { object: withFinalizers(["x"]) })), "malformed finalizers are no crash");
});

t.test("isManagedPolicy: the managed-by label claims nothing without netguard's field manager", async (t) => {
  const labels = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
  const entry = (manager: unknown) => ({ manager, operation: "Update", fieldsType: "FieldsV1" });
  t.notOk(isManagedPolicy({ metadata: { labels } }), "label only: anyone can set it");
  t.notOk(isManagedPolicy({ metadata: { labels, managedFields: [entry("kubectl-create"), entry("kubectl-edit")] } }), "written by others");
  t.ok(isManagedPolicy({ metadata: { labels, managedFields: [entry("kubectl-edit"), entry(NETGUARD_FIELD_MANAGER)] } }), "netguard wrote it, an admin edited it since");
  t.notOk(isManagedPolicy({ metadata: { labels: {}, managedFields: [entry(NETGUARD_FIELD_MANAGER)] } }), "an admin removed the label: taken over");
  for (const odd of [{}, "netguard", [null], [entry(7)]]) t.notOk(isManagedPolicy({ metadata: { labels, managedFields: odd } }), `malformed managedFields ${JSON.stringify(odd)}`);
});

t.test("checkManagedPolicyClaim: only privileged users make a policy netguard's or take the baseline's name", async (t) => {
  const forged = { metadata: { name: "x", labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }, managedFields: [{ manager: NETGUARD_FIELD_MANAGER }] } };
  const labelledOnly = { metadata: { name: "x", labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } } };
  const claim = checkManagedPolicyClaim("CREATE", forged, undefined, alice, config);
  t.equal(claim.length, 1);
  t.match(claim[0], { rule: "managed-baseline", action: "deny", path: "metadata.managedFields" });
  t.match(claim[0]?.message, "alice cannot make a NetworkPolicy netguard's");
  t.equal(checkManagedPolicyClaim("UPDATE", forged, labelledOnly, alice, config).length, 1, "nor by an update");
  t.same(checkManagedPolicyClaim("UPDATE", forged, forged, alice, config), [], "already netguard's: checkManagedPolicyChange judges that");
  t.same(checkManagedPolicyClaim("CREATE", labelledOnly, undefined, alice, config), [], "a label alone claims nothing, so it is allowed");
  t.same(checkManagedPolicyClaim("CREATE", forged, undefined, admin, config), [], "privileged");
  const named = { metadata: { name: "netguard-baseline" } };
  t.match(checkManagedPolicyClaim("CREATE", named, undefined, alice, config)[0], { rule: "managed-baseline", path: "metadata.name" });
  t.same(checkManagedPolicyClaim("CREATE", named, undefined, admin, config), [], "an admin may; the controller then leaves it alone and reports it");
  t.same(checkManagedPolicyClaim("DELETE", forged, forged, alice, config), []);
});

t.test("auditNamespace: a baseline-named policy netguard did not make is reported as such", async (t) => {
  const ns = { apiVersion: "v1", kind: "Namespace" as const, metadata: { name: "web", labels: { [config.clusterLabel]: config.cluster.name ?? "" } } };
  const desired = buildBaselinePolicy("web", config);
  const own = { ...desired, metadata: { ...desired.metadata, managedFields: [{ manager: NETGUARD_FIELD_MANAGER }] } };
  t.same(auditNamespace(ns, [own as never], config), [], "netguard's own, as configured");
  const [taken] = auditNamespace(ns, [desired], config);
  t.match(taken, { rule: "missing-baseline", action: "deny" });
  t.match(taken?.message, "has the baseline's name but netguard did not make it");
  t.match(taken?.fix, "Rename or delete netguard-baseline in web");
  t.match(auditNamespace(ns, [], config)[0]?.message, "has no baseline NetworkPolicy");
});

t.test("buildBaselinePolicy: dns-only", async (t) => {
  const p = buildBaselinePolicy("web", config);
  t.same(p, {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: {
      name: "netguard-baseline",
      namespace: "web",
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      annotations: { "netguard.dev/description": "deny all ingress; egress only to DNS" },
    },
    spec: {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    },
  });
  t.notOk(isManagedPolicy(p), "netguard's until netguard has written it (managedFields name its field manager)");
  t.same(validateNetworkPolicy(p).errors, [], "a valid NetworkPolicy");
  // The builder copies the selectors: mutating the policy leaves the config intact.
  (p.spec.egress![0]!.to![0]!.podSelector!.matchLabels as Record<string, string>)["k8s-app"] = "changed";
  t.equal(config.baseline.dns.podSelector.matchLabels?.["k8s-app"], "kube-dns");
});

t.test("buildBaselinePolicy: allow-all and custom names", async (t) => {
  const loaded = multicloud((d) => (d.baseline = { egress: "allow-all", name: "base" }));
  const p = buildBaselinePolicy("payments", loaded.config);
  t.equal(p.metadata.name, "base");
  t.equal(p.metadata.namespace, "payments");
  t.same(p.spec.policyTypes, ["Ingress"]);
  t.same(p.spec.ingress, []);
  t.notOk("egress" in p.spec, "egress is left alone");
  t.equal(p.metadata.annotations?.["netguard.dev/description"], "deny all ingress");
  t.same(validateNetworkPolicy(p).errors, []);
});

t.test("the baseline itself draws no finding, under the multicloud and default configs", async (t) => {
  const facts = { localNamespaces: new Set(["web", "kube-system"]) };
  for (const [name, loaded] of [
    ["multicloud", fixture],
    ["multicloud, allow-all", multicloud((d) => (d.baseline = { egress: "allow-all" }))],
    ["default", defaultConfig()],
  ] as const) {
    for (const namespace of ["web", "payments"]) {
      const result = evaluate(buildBaselinePolicy(namespace, loaded.config), loaded, facts);
      t.same(result.findings.filter((f) => f.action === "deny"), [], `${name}: no deny in ${namespace}`);
      t.same(result.findings, [], `${name}: no finding at all in ${namespace}`);
    }
  }
  // Even a remote that declares a kube-system namespace does not make DNS look remote: it exists here.
  const kubeSystemRemote = multicloud((d) => ((d.remoteClusters as Record<string, unknown>[])[0]!.namespaces = ["kube-system"]));
  t.same(evaluate(buildBaselinePolicy("web", kubeSystemRemote.config), kubeSystemRemote, facts).findings, []);
  t.same(evaluate(buildBaselinePolicy("web", kubeSystemRemote.config), kubeSystemRemote).findings, [], "also offline, without cluster facts");
});
