/**
 * The files that make the kube-apiserver authenticate to netguard with a client certificate
 * (`netguard certs --client-auth`; netguard then runs with `serve --client-ca`).
 */
import { stringify } from "yaml";
import type { CertKeyPair } from "./generate.js";
import type { WebhookTarget } from "./webhook-configurations.js";

const b64 = (pem: string) => Buffer.from(pem).toString("base64");

/**
 * The kubeconfig user name the apiserver looks up for a webhook: `<service>.<namespace>.svc` for a Service,
 * `host:port` for a URL (an exact name, so the certificate is presented to netguard and to no other webhook).
 */
export function webhookUserName(target: WebhookTarget): string {
  return "url" in target ? new URL(target.url).host : `${target.service.name}.${target.service.namespace}.svc`;
}

/** The kubeconfig named by the WebhookAdmission configuration: only `users` is read. */
export function webhookKubeconfig(target: WebhookTarget, client: CertKeyPair): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    users: [{ name: webhookUserName(target), user: { "client-certificate-data": b64(client.cert), "client-key-data": b64(client.key) } }],
  });
}

/** The file of kube-apiserver's --admission-control-config-file, for both webhook admission plugins. */
export function admissionConfiguration(kubeconfigPath: string): string {
  const plugin = (name: string) => ({
    name,
    configuration: { apiVersion: "apiserver.config.k8s.io/v1", kind: "WebhookAdmissionConfiguration", kubeConfigFile: kubeconfigPath },
  });
  return stringify({
    apiVersion: "apiserver.config.k8s.io/v1",
    kind: "AdmissionConfiguration",
    plugins: [plugin("ValidatingAdmissionWebhook"), plugin("MutatingAdmissionWebhook")],
  });
}
