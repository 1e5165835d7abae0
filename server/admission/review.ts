import { Ajv, type ErrorObject } from "ajv";
import type { UserInfo } from "../../policies/index.js";

const ADMISSION_API_VERSION = "admission.k8s.io/v1";

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  operation: Operation;
  name?: string;
  namespace?: string;
  userInfo?: UserInfo;
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

export interface AdmissionReview {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: "AdmissionReview";
  request: AdmissionRequest;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
  patchType?: "JSONPatch";
  patch?: string;
}

// Only the envelope is checked here: objects are judged by the engine, which reports its own input errors.
const envelopeSchema = {
  type: "object",
  required: ["apiVersion", "kind", "request"],
  properties: {
    apiVersion: { const: ADMISSION_API_VERSION },
    kind: { const: "AdmissionReview" },
    request: {
      type: "object",
      required: ["uid", "kind", "operation"],
      properties: {
        uid: { type: "string", minLength: 1 },
        kind: {
          type: "object",
          required: ["group", "version", "kind"],
          properties: { group: { type: "string" }, version: { type: "string" }, kind: { type: "string", minLength: 1 } },
        },
        operation: { enum: ["CREATE", "UPDATE", "DELETE", "CONNECT"] },
        name: { type: "string" },
        namespace: { type: "string" },
        userInfo: {
          type: "object",
          properties: { username: { type: "string" }, groups: { type: "array", items: { type: "string" } } },
        },
        dryRun: { type: "boolean" },
      },
    },
  },
} as const;

const validateEnvelope = new Ajv({ allErrors: true, verbose: true, strict: true }).compile<AdmissionReview>(envelopeSchema);

const fieldOf = (instancePath: string): string => instancePath.slice(1).replace(/\//g, ".");

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describe(error: ErrorObject): string {
  const field = fieldOf(error.instancePath);
  switch (error.keyword) {
    case "required": {
      const missing = String(error.params.missingProperty);
      return `${field ? `${field}.` : ""}${missing} is missing`;
    }
    case "const":
      return `${field} must be ${shown(error.params.allowedValue)}, got ${shown(error.data)}`;
    case "enum":
      return `${field} must be one of ${(error.params.allowedValues as unknown[]).map(shown).join(", ")}, got ${shown(error.data)}`;
    default:
      return `${field || "body"} ${error.message ?? "is invalid"}`;
  }
}

export type ParsedReview = { ok: true; review: AdmissionReview } | { ok: false; reason: string };

/** Checks that a parsed body is an admission.k8s.io/v1 AdmissionReview with a request the server can answer. */
export function parseAdmissionReview(body: unknown): ParsedReview {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, reason: "body must be a JSON object (an admission.k8s.io/v1 AdmissionReview)" };
  }
  if (validateEnvelope(body)) return { ok: true, review: body };
  const reasons = [...new Set((validateEnvelope.errors ?? []).map(describe))];
  return { ok: false, reason: `not a valid AdmissionReview: ${reasons.join("; ")}` };
}

export function reviewResponse(response: AdmissionResponse): { apiVersion: string; kind: string; response: AdmissionResponse } {
  return { apiVersion: ADMISSION_API_VERSION, kind: "AdmissionReview", response };
}
