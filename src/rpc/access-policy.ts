import type { MethodDefinition, PackageDefinition } from '@grpc/proto-loader';
import { KNOWN_PERMISSIONS } from '../domain/kernel/permissions.js';
import { TESSERA_SERVICES } from './proto-definitions.js';

/** Who may call one RPC, as declared by `option (tessera.v1.access_policy)` in the proto. */
export interface AccessPolicy {
  public: boolean;
  permission: string;
  /** Present when the RPC declares `step_up`: a user caller must have authenticated recently. */
  stepUp?: StepUpRequirement;
}

/** `AccessPolicy.step_up` of the proto. */
interface StepUpRequirement {
  recentAuthentication: true;
}

/** The option as proto-loader decodes it (field names as in the proto). */
interface RawAccessPolicy {
  public?: boolean;
  permission?: string;
  step_up?: { recent_authentication?: boolean };
}

/** Access policies by method path ("/tessera.v1.AuthService/Login"). */
export type AccessPolicyTable = ReadonlyMap<string, AccessPolicy>;

const OPTION_KEY = '(tessera.v1.access_policy)';

/**
 * Reads every RPC's access policy from the protos. Fails (so the server does
 * not start) when an RPC declares none, declares both or neither of public
 * and a permission, names a permission no role grants, or asks a step-up of
 * a public RPC (nobody to re-authenticate) or one that asks nothing.
 */
export function readAccessPolicies(definition: PackageDefinition): AccessPolicyTable {
  const table = new Map<string, AccessPolicy>();
  const problems: string[] = [];
  for (const serviceName of TESSERA_SERVICES) {
    const service = definition[serviceName] as Record<string, MethodDefinition<unknown, unknown>> | undefined;
    if (!service) {
      problems.push(`${serviceName}: service missing from the protos`);
      continue;
    }
    for (const method of Object.values(service)) {
      const raw = (method.options as Record<string, unknown>)[OPTION_KEY] as RawAccessPolicy | undefined;
      const policy: AccessPolicy = { public: raw?.public === true, permission: raw?.permission ?? '' };
      if (raw?.step_up) policy.stepUp = { recentAuthentication: true };
      if (!raw) problems.push(`${method.path}: no access_policy option`);
      else if (raw.step_up && (policy.public || raw.step_up.recent_authentication !== true))
        problems.push(`${method.path}: step_up needs a permission and recent_authentication`);
      else if (policy.public === (policy.permission !== ''))
        problems.push(`${method.path}: set exactly one of public or permission`);
      else if (!policy.public && !KNOWN_PERMISSIONS.has(policy.permission)) {
        problems.push(`${method.path}: permission "${policy.permission}" is granted to no role`);
      }
      table.set(method.path, policy);
    }
  }
  if (problems.length > 0) throw new Error(`invalid access policies:\n  ${problems.join('\n  ')}`);
  return table;
}
