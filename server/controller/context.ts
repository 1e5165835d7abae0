import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { LoadedConfig } from "../../policies/index.js";
import type { Cache } from "./informer.js";
import type { ControllerMetrics } from "./metrics.js";

/** What the leader's loops share: the caches, the config in force, a logger and the metrics. */
export interface ControllerContext {
  namespaces: Cache<k8s.V1Namespace>;
  policies: Cache<k8s.V1NetworkPolicy>;
  config: () => LoadedConfig;
  log: Logger;
  metrics: ControllerMetrics;
}
