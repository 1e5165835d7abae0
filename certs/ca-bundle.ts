import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { apiStatus } from "../kube/client.js";

type Configuration = k8s.V1ValidatingWebhookConfiguration | k8s.V1MutatingWebhookConfiguration;

interface Kind {
  kind: string;
  read(name: string): Promise<Configuration>;
  replace(name: string, body: Configuration): Promise<unknown>;
}

function kinds(api: k8s.AdmissionregistrationV1Api): Kind[] {
  return [
    {
      kind: "ValidatingWebhookConfiguration",
      read: (name) => api.readValidatingWebhookConfiguration({ name }),
      replace: (name, body) => api.replaceValidatingWebhookConfiguration({ name, body: body as k8s.V1ValidatingWebhookConfiguration }),
    },
    {
      kind: "MutatingWebhookConfiguration",
      read: (name) => api.readMutatingWebhookConfiguration({ name }),
      replace: (name, body) => api.replaceMutatingWebhookConfiguration({ name, body: body as k8s.V1MutatingWebhookConfiguration }),
    },
  ];
}

/**
 * Sets `caBundle` (PEM) on every webhook of both configurations named `name`. Returns whether both
 * carried it already. A missing configuration is left missing: deleting them is how an operator breaks
 * glass, and netguard must not undo that. Updates carry the resourceVersion read, so a concurrent
 * writer makes this one fail (409) rather than be overwritten.
 */
export async function injectCaBundle(api: k8s.AdmissionregistrationV1Api, name: string, caBundle: string, log: Logger): Promise<boolean> {
  const encoded = Buffer.from(caBundle).toString("base64");
  let current = true;
  for (const { kind, read, replace } of kinds(api)) {
    let config: Configuration;
    try {
      config = await read(name);
    } catch (error) {
      if (apiStatus(error) !== 404) throw error;
      log.debug({ kind, name }, "webhook configuration not found; nothing to inject");
      current = false;
      continue;
    }
    const stale = (config.webhooks ?? []).filter((w) => w.clientConfig.caBundle !== encoded);
    if (stale.length === 0) continue;
    current = false;
    for (const w of stale) w.clientConfig.caBundle = encoded;
    await replace(name, config);
    log.info({ kind, name, webhooks: stale.map((w) => w.name) }, "injected the caBundle");
  }
  return current;
}
