import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { RequestContext } from '../http/context.js';
import type { EntityDefinition } from '../graph/entity.js';
import { compileFilter, parseListQuery } from '../graph/odata-query.js';
import { collectionEnvelope, fetchKeysetPage, nextTokenOf, positionFrom, type AnyQuery } from '../graph/list.js';
import { forbidden, notFound } from '../graph/errors.js';
import { directoryRoles, hasRole, type Actor } from '../auth/permissions.js';
import { isGuid } from '../ids.js';
import { toOutboxMessage, type MailContent, type MailRow } from './mail-queue.js';

const outboxEntity: EntityDefinition = {
  type: 'foyerMailMessage',
  entitySet: 'foyer/outbox',
  properties: ['id', 'to', 'cc', 'replyTo', 'subject', 'text', 'html', 'createdDateTime', 'status'],
  defaultProperties: ['id', 'to', 'cc', 'replyTo', 'subject', 'text', 'html', 'createdDateTime', 'status'],
  filterable: {
    status: { column: 'status', type: 'enum', values: ['queued', 'sent', 'retrying', 'failed'] },
    createdDateTime: { column: 'created_at', type: 'datetime' },
  },
  sortable: {},
  keyColumn: 'id',
  searchable: [],
  advancedQueryGating: false,
};

/**
 * The outbox is a development mail catcher: its messages hold one-time codes and redeem links,
 * which sign in as their recipient. Only a signed-in Global Administrator reads it; no
 * application permission does, or a client could sign in as anyone it can send a code to.
 */
function requireOutboxAccess(actor: Actor) {
  if (!hasRole(actor, directoryRoles.globalAdministrator.id)) throw forbidden('The outbox is readable only by a signed-in Global Administrator.');
}

/** The outbox API; registered only while no SMTP_URL is set (real deliveries are never readable through the API). */
export function registerOutboxRoutes(
  app: FastifyInstance,
  db: Kysely<Database>,
  secret: string,
  ctx: (r: FastifyRequest) => RequestContext,
  content: MailContent,
): void {
  const tags = ['mail'];
  app.get('/v1.0/foyer/outbox', { schema: { tags, summary: 'Outgoing mail, newest first' } }, async (req) => {
    const c = ctx(req);
    requireOutboxAccess(c.actor);
    const q = parseListQuery(outboxEntity, c);
    let query: AnyQuery = db.selectFrom('mail_messages as m').selectAll('m').where('m.tenant_id', '=', c.actor.tenantId);
    if (q.filter) query = query.where(compileFilter(outboxEntity, q.filter, 'm', c.actor.tenantId));
    const page = await fetchKeysetPage<MailRow>(query, { columns: ['m.created_at', 'm.id'], direction: 'desc' }, positionFrom(secret, q), q.top, (r) => [
      r.created_at,
      r.id,
    ]);
    return collectionEnvelope({
      baseUrl: c.baseUrl,
      context: 'foyer/outbox',
      value: await Promise.all(page.rows.map((m) => toOutboxMessage(m, content))),
      requestUrl: c.requestUrl,
      nextToken: nextTokenOf(secret, q, page.next),
    });
  });
  app.get('/v1.0/foyer/outbox/:id', { schema: { tags, summary: 'One message', params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } }, async (req) => {
    const c = ctx(req);
    requireOutboxAccess(c.actor);
    const { id } = req.params as { id: string };
    const row = isGuid(id)
      ? await db.selectFrom('mail_messages').selectAll().where('tenant_id', '=', c.actor.tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst()
      : undefined;
    if (!row) throw notFound(id);
    return toOutboxMessage(row, content);
  });
}
