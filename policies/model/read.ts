import type { NetworkPolicy } from "../types.js";
import type { InputError } from "../types.js";
import { validateCniPolicy } from "../validate/cni-policy.js";
import { cniPolicyKindOf } from "../validate/custom-resource.js";
import { validateNetworkPolicy, type ValidateOptions } from "../validate/network-policy.js";
import { calicoModel, type CalicoPolicy } from "./calico.js";
import { ciliumModel, type CiliumPolicy } from "./cilium.js";
import { networkPolicyModel } from "./network-policy.js";
import type { PolicyModel } from "./policy.js";

/**
 * A policy of any supported kind, validated as the apiserver (and, for the CNI kinds, the CNI) would, in the one
 * model the rules read; or every problem with its field path.
 */
export function readPolicy(object: unknown, clusterLabel: string, validation: ValidateOptions = {}): { model?: PolicyModel; errors: InputError[] } {
  const kind = cniPolicyKindOf(object);
  if (kind === undefined) {
    const { policy, errors } = validateNetworkPolicy(object, validation);
    return policy ? { model: networkPolicyModel(policy as NetworkPolicy), errors } : { errors };
  }
  const { object: stored, errors } = validateCniPolicy(kind, object);
  if (errors.length > 0) return { errors };
  const model = kind.startsWith("Cilium") ? ciliumModel(stored as CiliumPolicy, clusterLabel) : calicoModel(stored as CalicoPolicy);
  return { model, errors };
}
