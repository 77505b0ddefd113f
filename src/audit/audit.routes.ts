import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AuditLogService } from './audit-log.service.js';
import type { RequestContext } from '../http/context.js';

export function registerAuditRoutes(app: FastifyInstance, audit: AuditLogService, ctx: (r: FastifyRequest) => RequestContext): void {
  const tags = ['audit'];
  app.get('/v1.0/auditLogs/directoryAudits', { schema: { tags, summary: 'Directory audit log' } }, (req) => audit.list(ctx(req)));
  app.get(
    '/v1.0/auditLogs/directoryAudits/:id',
    { schema: { tags, summary: 'One audit entry', params: Type.Object({ id: Type.String({ maxLength: 256 }) }) } },
    (req) => audit.get(ctx(req), (req.params as { id: string }).id),
  );
}
