import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Engine } from '../db/database.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import { badRequest, forbidden, notFound } from '../graph/errors.js';
import { parseListQuery } from '../graph/odata-query.js';
import { collectionEnvelope, countRows, fetchKeysetPage, nextTokenOf, positionFrom, type AnyQuery } from '../graph/list.js';
import { recordAudit, systemActor } from '../audit/audit.service.js';
import { can, requireAccess, type Actor } from '../auth/permissions.js';
import { requireMayActOn } from '../auth/act-on-whom.js';
import { isUniqueViolation } from '../db/errors.js';
import { isGuid } from '../ids.js';
import { userEntity } from './users.entity.js';
import { toGraphUser } from './users.mapper.js';
import { deleteSearchTerms, findUser, type UserRow } from './users.repository.js';
import { groupEntity, toGraphGroup, type GroupRow } from './groups.model.js';
import { findGroup } from './groups.repository.js';

/** Deleted objects are kept this long, then purged by the scheduled job. */
export const RETENTION_DAYS = 30;

type Kind = 'user' | 'group';
const entities = { user: userEntity, group: groupEntity };

export function createDeletedItemsService(deps: { db: Kysely<Database>; engine: Engine; clock: Clock; secret: string }) {
  const { db, clock } = deps;

  const requireRead = (actor: Actor, kind: Kind) => requireAccess(actor, kind === 'user' ? 'users.read' : 'groups.read');
  const requireWrite = (actor: Actor, kind: Kind) => requireAccess(actor, kind === 'user' ? 'users.write' : 'groups.write');
  // Checked before the lookup, so a caller with no access at all (a guest) cannot tell a deleted object from an absent one.
  const requireSomeAccess = (actor: Actor, actions: ['users.read', 'groups.read'] | ['users.write', 'groups.write']) => {
    if (!actions.some((a) => can(actor, a))) throw forbidden();
  };

  async function findDeleted(tenantId: string, id: string): Promise<{ kind: 'user'; row: UserRow } | { kind: 'group'; row: GroupRow } | null> {
    if (!isGuid(id)) return null;
    const user = await findUser(db, tenantId, { id: id.toLowerCase() }, 'deleted');
    if (user) return { kind: 'user', row: user };
    const group = await findGroup(db, tenantId, id.toLowerCase(), 'deleted');
    return group ? { kind: 'group', row: group } : null;
  }

  const shape = (item: NonNullable<Awaited<ReturnType<typeof findDeleted>>>, select: readonly string[]) =>
    item.kind === 'user' ? toGraphUser(item.row, select, true) : toGraphGroup(item.row, select, true);

  return {
    /** `/directory/deletedItems/microsoft.graph.user|group`, most recently deleted first. */
    async list(ctx: RequestContext, typeSegment: string) {
      const kind = ({ 'microsoft.graph.user': 'user', 'microsoft.graph.group': 'group' } as const)[typeSegment.toLowerCase() as 'microsoft.graph.user'];
      if (!kind) throw badRequest(`'${typeSegment}' is not a type of deleted item; use microsoft.graph.user or microsoft.graph.group.`);
      requireRead(ctx.actor, kind);
      const entity = entities[kind];
      const q = parseListQuery(entity, ctx);
      if (q.filter || q.search || q.orderBy) throw badRequest('$filter, $search and $orderby are not supported on deleted items.');
      const select = q.explicitSelect ? q.select : [...entity.defaultProperties, 'deletedDateTime'];
      const table = kind === 'user' ? 'users' : 'groups';
      const query: AnyQuery = db
        .selectFrom(`${table} as d` as 'users as d')
        .selectAll('d')
        .where('d.tenant_id', '=', ctx.actor.tenantId)
        .where('d.deleted_at', 'is not', null);
      const page = await fetchKeysetPage<UserRow | GroupRow>(
        query,
        { columns: ['d.deleted_at', 'd.id'], direction: 'desc' },
        positionFrom(deps.secret, q),
        q.top,
        (r) => [r.deleted_at!, r.id],
      );
      const count = q.count ? await countRows(query) : undefined;
      return collectionEnvelope({
        baseUrl: ctx.baseUrl,
        context: `directory/deletedItems/microsoft.graph.${kind}`,
        select: q.explicitSelect ? q.select : null,
        value: page.rows.map((r) => (kind === 'user' ? toGraphUser(r as UserRow, select) : toGraphGroup(r as GroupRow, select))),
        count,
        requestUrl: ctx.requestUrl,
        nextToken: nextTokenOf(deps.secret, q, page.next),
      });
    },

    async get(ctx: RequestContext, id: string) {
      requireSomeAccess(ctx.actor, ['users.read', 'groups.read']);
      const item = await findDeleted(ctx.actor.tenantId, id);
      if (!item) throw notFound(id);
      requireRead(ctx.actor, item.kind);
      return {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#directoryObjects/$entity`,
        ...shape(item, [...entities[item.kind].defaultProperties, 'deletedDateTime']),
      };
    },

    /** Brings the object back with its id, memberships, ownerships and roles (they were never removed). */
    async restore(ctx: RequestContext, id: string) {
      requireSomeAccess(ctx.actor, ['users.write', 'groups.write']);
      const item = await findDeleted(ctx.actor.tenantId, id);
      if (!item) throw notFound(id);
      requireWrite(ctx.actor, item.kind);
      const now = clock.now().toISOString();
      try {
        await db.transaction().execute(async (trx) => {
          if (item.kind === 'user') await requireMayActOn(trx, ctx.actor, ['restore'], item.row.id);
          await trx
            .updateTable(item.kind === 'user' ? 'users' : 'groups')
            .set({ deleted_at: null })
            .where('id', '=', item.row.id)
            .execute();
          await recordAudit(
            trx,
            ctx.actor,
            {
              activity: item.kind === 'user' ? 'Restore user' : 'Restore group',
              category: item.kind === 'user' ? 'UserManagement' : 'GroupManagement',
              operationType: 'Restore',
              targets: [
                {
                  id: item.row.id,
                  displayName: item.row.display_name,
                  type: item.kind === 'user' ? 'User' : 'Group',
                  userPrincipalName: item.kind === 'user' ? item.row.user_principal_name : null,
                },
              ],
            },
            ctx.correlationId,
            now,
          );
        });
      } catch (error) {
        if (isUniqueViolation(error))
          throw badRequest(
            'Another object with the same value for property userPrincipalName already exists. Change or delete that object, then restore this one.',
          );
        throw error;
      }
      const restored = { ...item, row: { ...item.row, deleted_at: null } } as typeof item;
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#directoryObjects/$entity`, ...shape(restored, entities[item.kind].defaultProperties) };
    },

    /** Permanent delete; memberships, sessions and side rows go with it (foreign keys cascade, search terms by key). */
    async purge(ctx: RequestContext, id: string): Promise<void> {
      requireSomeAccess(ctx.actor, ['users.write', 'groups.write']);
      const item = await findDeleted(ctx.actor.tenantId, id);
      if (!item) throw notFound(id);
      requireWrite(ctx.actor, item.kind);
      await db.transaction().execute(async (trx) => {
        if (item.kind === 'user') await requireMayActOn(trx, ctx.actor, ['purge'], item.row.id);
        await hardDelete(trx, ctx.actor, item.kind, item.row, ctx.correlationId, clock.now().toISOString());
      });
    },

    /** The scheduled purge: every object deleted more than RETENTION_DAYS ago, in batches. Idempotent. */
    async purgeExpired(batchSize = 500): Promise<number> {
      const cutoff = new Date(clock.now().getTime() - RETENTION_DAYS * 86_400_000).toISOString();
      let purged = 0;
      for (const kind of ['user', 'group'] as const) {
        for (;;) {
          const table = kind === 'user' ? 'users' : 'groups';
          const rows = (await db
            .selectFrom(table)
            .selectAll()
            .where('deleted_at', 'is not', null)
            .where('deleted_at', '<', cutoff)
            .limit(batchSize)
            .execute()) as (UserRow | GroupRow)[];
          if (rows.length === 0) break;
          const now = clock.now().toISOString();
          await db.transaction().execute(async (trx) => {
            for (const row of rows) await hardDelete(trx, systemActor(row.tenant_id), kind, row, `purge-${now}`, now);
          });
          purged += rows.length;
        }
      }
      return purged;
    },
  };
}

async function hardDelete(trx: Kysely<Database>, actor: Actor, kind: Kind, row: UserRow | GroupRow, correlationId: string, now: string): Promise<void> {
  // The other side tables go with the user (cascade); search terms are deleted by their key,
  // computed from the row as stored now (it may have changed since it was read).
  if (kind === 'user') {
    const stored = await trx.selectFrom('users').selectAll().where('id', '=', row.id).where('deleted_at', 'is not', null).executeTakeFirst();
    if (stored) await deleteSearchTerms(trx, stored);
  }
  await trx
    .deleteFrom(kind === 'user' ? 'users' : 'groups')
    .where('id', '=', row.id)
    .where('deleted_at', 'is not', null)
    .execute();
  await recordAudit(
    trx,
    actor,
    {
      activity: kind === 'user' ? 'Hard Delete user' : 'Hard Delete group',
      category: kind === 'user' ? 'UserManagement' : 'GroupManagement',
      operationType: 'Delete',
      targets: [
        {
          id: row.id,
          displayName: row.display_name,
          type: kind === 'user' ? 'User' : 'Group',
          userPrincipalName: kind === 'user' ? (row as UserRow).user_principal_name : null,
        },
      ],
    },
    correlationId,
    now,
  );
}
export type DeletedItemsService = ReturnType<typeof createDeletedItemsService>;
