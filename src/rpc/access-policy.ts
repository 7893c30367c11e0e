import type { MethodDefinition, PackageDefinition } from '@grpc/proto-loader';
import { KNOWN_PERMISSIONS } from '../domain/kernel/permissions.js';
import { TESSERA_SERVICES } from './proto-definitions.js';

/** Who may call one RPC, as declared by `option (tessera.v1.access_policy)` in the proto. */
export interface AccessPolicy {
  public: boolean;
  permission: string;
}

/** Access policies by method path ("/tessera.v1.AuthService/Login"). */
export type AccessPolicyTable = ReadonlyMap<string, AccessPolicy>;

const OPTION_KEY = '(tessera.v1.access_policy)';

/**
 * Reads every RPC's access policy from the protos. Fails (so the server does
 * not start) when an RPC declares none, declares both or neither of public
 * and a permission, or names a permission no role grants.
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
      const raw = (method.options as Record<string, unknown>)[OPTION_KEY] as Partial<AccessPolicy> | undefined;
      const policy: AccessPolicy = { public: raw?.public === true, permission: raw?.permission ?? '' };
      if (!raw) problems.push(`${method.path}: no access_policy option`);
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
