import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Every metric netguard exports, on a registry of its own (one per server, so tests can run several). */
export interface Metrics {
  registry: Registry;
  /** webhook: validate|mutate; decision: allowed|warned|denied|audited|patched|unchecked */
  requests: Counter<"webhook" | "operation" | "kind" | "decision">;
  latency: Histogram<"webhook" | "operation" | "kind" | "decision">;
  /** AdmissionReviews refused with a 4xx before any decision (malformed, wrong version, too large). */
  rejectedRequests: Counter<"status">;
  findings: Counter<"rule" | "action">;
  ruleFailures: Counter<"rule">;
  /** Denials a GuardrailException turned into warnings at admission. */
  waivedDenials: Counter<"rule">;
  configReloads: Counter;
  configReloadFailures: Counter;
  /** 1 while a valid config is in force; 0 while serve runs unchecked on a config it could not load. */
  configLoaded: Gauge;
  certReloads: Counter;
  certReloadFailures: Counter;
  certExpiry: Gauge;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: "netguard_" });
  const decisionLabels = ["webhook", "operation", "kind", "decision"] as const;
  return {
    registry,
    requests: new Counter({ name: "netguard_admission_requests_total", help: "AdmissionReviews answered, by decision", labelNames: decisionLabels, registers }),
    latency: new Histogram({
      name: "netguard_admission_duration_seconds",
      help: "Time from receiving an AdmissionReview to sending the response",
      labelNames: decisionLabels,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    rejectedRequests: new Counter({ name: "netguard_admission_rejected_requests_total", help: "Requests answered with a 4xx before any decision", labelNames: ["status"], registers }),
    findings: new Counter({ name: "netguard_findings_total", help: "Findings reported by admission, by rule and configured action", labelNames: ["rule", "action"], registers }),
    ruleFailures: new Counter({ name: "netguard_rule_failures_total", help: "Rules that threw while evaluating an object (the other rules still ran)", labelNames: ["rule"], registers }),
    waivedDenials: new Counter({ name: "netguard_exception_waived_denials_total", help: "Denials turned into warnings by a GuardrailException at admission, by rule", labelNames: ["rule"], registers }),
    configReloads: new Counter({ name: "netguard_config_reloads_total", help: "Configuration changes loaded from disk", registers }),
    configReloadFailures: new Counter({ name: "netguard_config_reload_failures_total", help: "Configuration changes rejected (the last good config stays in force)", registers }),
    configLoaded: new Gauge({
      name: "netguard_config_loaded",
      help: "1 while a valid config is in force; 0 while netguard admits every request unchecked because its config file is invalid",
      registers,
    }),
    certReloads: new Counter({ name: "netguard_cert_reloads_total", help: "Serving certificate changes loaded from disk", registers }),
    certReloadFailures: new Counter({ name: "netguard_cert_reload_failures_total", help: "Serving certificate changes rejected (the previous certificate stays in use)", registers }),
    certExpiry: new Gauge({ name: "netguard_cert_expiry_timestamp_seconds", help: "notAfter of the serving certificate, in Unix seconds", registers }),
  };
}
