/**
 * Tessera's TypeScript client for backends: `import { createTesseraClient, errorDetails } from 'tessera'`.
 * The generated client classes and enums come along; request and response types follow from their methods.
 */
export {
  createTesseraClient,
  type BearerSource,
  type TesseraClient,
  type TesseraClientOptions,
} from './create-tessera-client.js';
export { callUnary } from './call-unary.js';
export { errorDetails, type TesseraErrorDetails } from './error-details.js';
export { DEFAULT_RETRY, IDEMPOTENT_READS, readRetryServiceConfig, type RetryOptions } from './retry-policy.js';
export { AuthServiceClient } from '../gen/tessera/v1/auth_service.js';
export { ComplianceServiceClient } from '../gen/tessera/v1/compliance_service.js';
export { IdentityServiceClient } from '../gen/tessera/v1/identity_service.js';
export { ProfileServiceClient } from '../gen/tessera/v1/profile_service.js';
export { Role, UserStatus } from '../gen/tessera/v1/user.js';
export { ActorType, AuditEventType } from '../gen/tessera/v1/audit_event.js';
