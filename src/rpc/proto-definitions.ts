import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

/** Where the .proto files live: they ship with the service and are its contract. */
const PROTO_ROOT = fileURLToPath(new URL('../../proto', import.meta.url));

/** The service files of package tessera.v1. */
const SERVICE_PROTO_FILES = [
  'tessera/v1/auth_service.proto',
  'tessera/v1/profile_service.proto',
  'tessera/v1/identity_service.proto',
  'tessera/v1/compliance_service.proto',
];

/** The fully qualified names of Tessera's services. */
export const TESSERA_SERVICES = [
  'tessera.v1.AuthService',
  'tessera.v1.ProfileService',
  'tessera.v1.IdentityService',
  'tessera.v1.ComplianceService',
];

let cached: PackageDefinition | undefined;

/**
 * Loads the protos at run time, for server reflection and for reading each
 * RPC's access policy (custom options survive in proto-loader's `options`).
 */
export function loadTesseraPackageDefinition(): PackageDefinition {
  cached ??= loadSync(SERVICE_PROTO_FILES, { includeDirs: [PROTO_ROOT], keepCase: true });
  return cached;
}
