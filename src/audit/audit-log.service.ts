import type { Kysely, Selectable } from 'kysely';
import type { AuditLogsTable, Database } from '../db/schema.js';
import type { Engine } from '../db/database.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import type { EntityDefinition } from '../graph/entity.js';
import { compileFilter, parseListQuery } from '../graph/odata-query.js';
import { collectionEnvelope, countRows, fetchKeysetPage, nextTokenOf, positionFrom, type AnyQuery } from '../graph/list.js';
import { requireAccess } from '../auth/permissions.js';
import { notFound } from '../graph/errors.js';
import { isGuid } from '../ids.js';

type AuditRow = Selectable<AuditLogsTable>;

/** `directoryAudit` as Graph serves it from /auditLogs/directoryAudits. */
export const directoryAuditEntity: EntityDefinition = {
  type: 'directoryAudit',
  entitySet: 'auditLogs/directoryAudits',
  properties: [
    'id',
    'activityDateTime',
    'activityDisplayName',
    'category',
    'correlationId',
    'initiatedBy',
    'loggedByService',
    'operationType',
    'result',
    'resultReason',
    'targetResources',
    'additionalDetails',
  ],
  defaultProperties: [
    'id',
    'activityDateTime',
    'activityDisplayName',
    'category',
    'correlationId',
    'initiatedBy',
    'loggedByService',
    'operationType',
    'result',
    'resultReason',
    'targetResources',
    'additionalDetails',
  ],
  filterable: {
    activityDisplayName: { column: 'activity_display_name', type: 'string', startsWith: true },
    activityDateTime: { column: 'activity_at', type: 'datetime' },
    category: { column: 'category', type: 'string' },
    operationType: { column: 'operation_type', type: 'string' },
    result: { column: 'result', type: 'enum', values: ['success', 'failure'] },
    'initiatedBy/user/id': { column: 'initiator_id', type: 'guid', nullable: true },
    'initiatedBy/app/appId': { column: 'initiator_id', type: 'guid', nullable: true },
  },
  lambdas: {
    targetResources: { table: 'audit_log_targets', ownerColumn: 'audit_id', members: { id: { column: 'target_id', type: 'guid' } } },
  },
  sortable: { activityDateTime: 'activity_at' },
  keyColumn: 'id',
  searchable: [],
  advancedQueryGating: false,
};

function toGraphAudit(r: AuditRow, select: readonly string[]): Record<string, unknown> {
  const all: Record<string, unknown> = {
    id: r.id,
    activityDateTime: r.activity_at,
    activityDisplayName: r.activity_display_name,
    category: r.category,
    correlationId: r.correlation_id,
    initiatedBy: { user: null, app: null, ...JSON.parse(r.initiated_by) },
    loggedByService: r.logged_by_service,
    operationType: r.operation_type,
    result: r.result,
    resultReason: r.result_reason,
    targetResources: JSON.parse(r.target_resources),
    additionalDetails: [],
  };
  return Object.fromEntries(['id', ...select.filter((p) => p !== 'id')].map((p) => [p, all[p]]));
}

export function createAuditService(deps: { db: Kysely<Database>; engine: Engine; clock: Clock; secret: string }) {
  const { db } = deps;
  return {
    /** Newest first unless `$orderby=activityDateTime asc`. */
    async list(ctx: RequestContext) {
      requireAccess(ctx.actor, 'audit.read');
      const q = parseListQuery(directoryAuditEntity, ctx);
      let query: AnyQuery = db.selectFrom('audit_logs as a').selectAll('a').where('a.tenant_id', '=', ctx.actor.tenantId);
      if (q.filter) query = query.where(compileFilter(directoryAuditEntity, q.filter, 'a', ctx.actor.tenantId));
      const page = await fetchKeysetPage<AuditRow>(
        query,
        { columns: ['a.activity_at', 'a.id'], direction: q.orderBy?.direction ?? 'desc' },
        positionFrom(deps.secret, q),
        q.top,
        (r) => [r.activity_at, r.id],
      );
      const count = q.count ? await countRows(query) : undefined;
      return collectionEnvelope({
        baseUrl: ctx.baseUrl,
        context: 'auditLogs/directoryAudits',
        select: q.explicitSelect ? q.select : null,
        value: page.rows.map((r) => toGraphAudit(r, q.select)),
        count,
        requestUrl: ctx.requestUrl,
        nextToken: nextTokenOf(deps.secret, q, page.next),
      });
    },
    async get(ctx: RequestContext, id: string) {
      requireAccess(ctx.actor, 'audit.read');
      const row = isGuid(id)
        ? await db.selectFrom('audit_logs').selectAll().where('tenant_id', '=', ctx.actor.tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst()
        : undefined;
      if (!row) throw notFound(id);
      return {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#auditLogs/directoryAudits/$entity`,
        ...toGraphAudit(row, directoryAuditEntity.defaultProperties),
      };
    },
  };
}
export type AuditLogService = ReturnType<typeof createAuditService>;
