import type { AuditFilter } from '../domain/compliance/audit-filter.js';
import { openAuditStream, type AuditEventFeed } from '../domain/compliance/audit-stream-access.js';
import { listAuditEvents } from '../domain/compliance/audit-trail.js';
import { eraseUser, getErasureReceipt } from '../domain/compliance/user-erasure.js';
import { exportUserData, type ExportPart } from '../domain/compliance/user-export.js';
import { toProfileMessage, toSessionMessage, toSocialLoginMessage, toUserMessage } from './convert.js';
import { invalidArguments } from '../domain/kernel/errors.js';
import { AuditEventOrder } from '../gen/tessera/v1/compliance_service.js';
import {
  ComplianceServiceService,
  type AuditEventFilter,
  type ExportUserDataResponse,
} from '../gen/tessera/v1/compliance_service.js';
import { auditTypeFromProto, toAuditEventMessage } from './audit-convert.js';
import type { RpcRuntime } from './call-context.js';
import { implementService } from './implement-service.js';
import { StreamQuota } from './stream-quota.js';

/** Proto filter -> domain filter; unknown enum values are refused, naming the field. */
function toAuditFilter(filter: AuditEventFilter | undefined): AuditFilter {
  const types = (filter?.types ?? []).map((type, index) => {
    const name = auditTypeFromProto(type);
    if (!name)
      throw invalidArguments('AUDIT-002', [{ field: `filter.types[${index}]`, description: 'is not a known audit event type' }]);
    return name;
  });
  return {
    subjectUserId: filter?.subjectUserId || undefined,
    actorId: filter?.actorId || undefined,
    types,
    startTime: filter?.startTime,
    endTime: filter?.endTime,
  };
}

/** Domain export part -> the proto oneof. */
function toExportPart(part: ExportPart): ExportUserDataResponse['part'] {
  switch (part.kind) {
    case 'account':
      return { $case: 'account', value: toUserMessage(part.account, part.email) };
    case 'profile':
      return { $case: 'profile', value: toProfileMessage(part.profile) };
    case 'socialLogin':
      return { $case: 'socialLogin', value: toSocialLoginMessage(part.socialLogin, part.opened) };
    case 'secondFactors': {
      const { totp, unusedRecoveryCodes } = part.secondFactors;
      return {
        $case: 'secondFactors',
        value: {
          totp: totp
            ? { enrolledAt: totp.enrolledAt, confirmed: totp.confirmedAt !== null, confirmedAt: totp.confirmedAt ?? undefined }
            : undefined,
          unusedRecoveryCodes,
        },
      };
    }
    case 'session':
      return { $case: 'session', value: toSessionMessage(part.session) };
    case 'auditEvent':
      return { $case: 'auditEvent', value: toAuditEventMessage(part.auditEvent) };
  }
}

/** tessera.v1.ComplianceService: decode -> one domain call -> encode. */
export function complianceService(rt: RpcRuntime, feed: AuditEventFeed, streamsPerPrincipal: number) {
  const streams = new StreamQuota(streamsPerPrincipal);
  return implementService(rt, ComplianceServiceService, {
    listAuditEvents: async (req, ctx) => {
      const page = await listAuditEvents(ctx.op, {
        filter: toAuditFilter(req.filter),
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        order: req.order === AuditEventOrder.AUDIT_EVENT_ORDER_NEWEST_FIRST ? 'newest_first' : 'oldest_first',
      });
      return { events: page.events.map(toAuditEventMessage), nextPageToken: page.nextPageToken };
    },

    eraseUser: async (req, ctx) => ({ receipt: await eraseUser(ctx.op, req) }),

    exportUserData: async (req, ctx, sink) => {
      for await (const part of exportUserData(ctx.op, req.userId)) await sink.send({ part: toExportPart(part) });
    },

    getErasureReceipt: async (req, ctx) => ({ receipt: await getErasureReceipt(ctx.op, req.userId) }),

    streamAuditEvents: async (req, ctx, sink) => {
      const release = streams.acquire(ctx.op.principal);
      try {
        const subscription = await openAuditStream(ctx.op, feed, toAuditFilter(req.filter), req.afterEventId);
        for await (const event of subscription) {
          await sink.send({ event: toAuditEventMessage(event) });
        }
      } finally {
        release();
      }
    },
  });
}
