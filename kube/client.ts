import * as k8s from "@kubernetes/client-node";

export interface KubeClients {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  networking: k8s.NetworkingV1Api;
  coordination: k8s.CoordinationV1Api;
  custom: k8s.CustomObjectsApi;
  admissionRegistration: k8s.AdmissionregistrationV1Api;
}

/** A kubeconfig file, or in-cluster service-account credentials, or the default locations. */
export function loadKubeConfig(path?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

export function kubeClients(kc: k8s.KubeConfig): KubeClients {
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    networking: kc.makeApiClient(k8s.NetworkingV1Api),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    admissionRegistration: kc.makeApiClient(k8s.AdmissionregistrationV1Api),
  };
}

/** HTTP status of a failed API call, if it was one. */
export function apiStatus(error: unknown): number | undefined {
  const e = error as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === "number") return e.code;
  if (typeof e?.statusCode === "number") return e.statusCode;
  return undefined;
}

/** One line describing an API failure: status and the apiserver's message, not the whole body. */
export function apiErrorMessage(error: unknown): string {
  const status = apiStatus(error);
  const body = (error as { body?: unknown })?.body;
  let reason: string | undefined;
  if (typeof body === "string") {
    try {
      reason = (JSON.parse(body) as { message?: string }).message;
    } catch {
      reason = body.slice(0, 200);
    }
  } else if (body && typeof body === "object") {
    reason = (body as { message?: string }).message;
  }
  const text = reason ?? (error instanceof Error ? error.message : String(error));
  return status ? `${status}: ${text}` : text;
}
