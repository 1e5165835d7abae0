/** The netguard guardrail engine: pure functions from (object, config, cluster facts) to findings. */
export { fieldPath, parsePath, type PathSegment } from "./path.js";
export { loadConfig, defaultConfig, guardrailConfigSchema, type LoadedConfig, type ConfigResult } from "./config/load.js";
export type { GuardrailConfig, ConfigProblem, RemoteCluster } from "./config/types.js";
export { auditNamespace, type NamespaceAuditId } from "./audit.js";
export { cniPolicyKindOf, type CniPolicyKind } from "./validate/custom-resource.js";
export { evaluatePolicy, activeRules, type PolicyEvaluation } from "./engine.js";
export { isLabelledLocal, namespaceLabelsOf, namespacesNotLabelledLocal, WEBHOOK_EXCLUDED_NAMESPACES } from "./premises.js";
export { evaluatePolicyUpdate, ratchetFindings } from "./ratchet.js";
export type { Cni } from "./config/types.js";
export { rules, ruleById } from "./rules/registry.js";
export type { Rule } from "./rules/rule.js";
export { buildBaselinePolicy, baselineStatus, baselineDrifted, canonicalJson, type BaselineStatus, isManagedPolicy, optOutLabel, MANAGED_BY_LABEL, MANAGED_BY_VALUE, NETGUARD_FIELD_MANAGER, type ManagedObject } from "./baseline.js";
export {
  checkNamespace,
  checkManagedPolicyChange,
  CLEANUP_USERS,
  checkManagedPolicyClaim,
  clusterLabelPatch,
  isPrivileged,
  type GuardrailId,
  type JsonPatchOp,
  type ManagedPolicyChangeContext,
  type UserInfo,
} from "./guardrails.js";
export { resolveRuleAction, type ResolvedAction } from "./rule-actions.js";
export { readExceptions, validateException, expiryOf, isExpired, guardrailExceptionSchema, EXCEPTION_API_VERSION, EXCEPTION_KIND, type ExpiryRules } from "./exceptions/exception.js";
export { applyExceptions, exceptionMatches, expiredExceptionFindings, invalidExceptionFindings, EXPIRED_EXCEPTION, INVALID_EXCEPTION, type PolicyPlace } from "./exceptions/waive.js";
export { checkExceptionWrite, EXCEPTION_GUARDRAIL } from "./exceptions/guard.js";
export type * from "./types.js";
export { SOURCES, READERS, type RangeKind, type Reading, type SourceId, type SourceInfo } from "./discovery/sources.js";
export { liveTopology, type LiveRange, type LiveTopology, type SourceState } from "./discovery/live.js";
export { topologyDrift, TOPOLOGY_DRIFT } from "./discovery/drift.js";
export { buildDescriptor, liveFromDescriptor, readDescriptor, DESCRIPTOR_CONFIGMAP, DESCRIPTOR_KEY, type ClusterDescriptor, type DescribedCluster } from "./discovery/descriptor.js";
export { importPeers, readPeerDescriptors, DESCRIPTOR_IMPORT, type PeerDescriptor, type PeerFacts } from "./discovery/import.js";
export { topologyFindings } from "./discovery/findings.js";
