import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Engine } from '../db/database.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import { badRequest, notFound } from '../graph/errors.js';
import { parseListQuery } from '../graph/odata-query.js';
import { collectionEnvelope, fetchKeysetPage, nextTokenOf, positionFrom, type AnyQuery } from '../graph/list.js';
import { recordAudit } from '../audit/audit.service.js';
import { directoryRoleList, globalAdministratorRoleId, requireAccess } from '../auth/permissions.js';
import { isGuid } from '../ids.js';
import { userEntity } from './users.entity.js';
import { toGraphUser } from './users.mapper.js';
import { findLiveUsers, type UserRow } from './users.repository.js';
import { referencedId } from './groups.service.js';

/** `{id}` or `roleTemplateId={id}`: Foyer's role objects carry their template id as id. */
function findRole(key: string) {
  const id = key
    .replace(/^roleTemplateId=/i, '')
    .replace(/^'|'$/g, '')
    .toLowerCase();
  const role = directoryRoleList.find((r) => r.id === id);
  if (!role) throw notFound(key);
  return role;
}

const shapeRole = (r: (typeof directoryRoleList)[number]) => ({ id: r.id, displayName: r.displayName, description: r.description, roleTemplateId: r.id });

/** Directory roles (`/directoryRoles`): the four roles Foyer enforces and who holds them. */
export function createRolesService(deps: { db: Kysely<Database>; engine: Engine; clock: Clock; secret: string }) {
  const { db, clock } = deps;
  return {
    list(ctx: RequestContext) {
      requireAccess(ctx.actor, 'roles.read');
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#directoryRoles`, value: directoryRoleList.map(shapeRole) };
    },
    get(ctx: RequestContext, key: string) {
      requireAccess(ctx.actor, 'roles.read');
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#directoryRoles/$entity`, ...shapeRole(findRole(key)) };
    },
    async listMembers(ctx: RequestContext, key: string) {
      requireAccess(ctx.actor, 'roles.read');
      const role = findRole(key);
      const q = parseListQuery(userEntity, ctx);
      if (q.filter || q.search || q.orderBy) throw badRequest('$filter, $search and $orderby are not supported on role members.');
      const query: AnyQuery = db
        .selectFrom('role_assignments as r')
        .innerJoin('users as u', 'u.id', 'r.user_id')
        .selectAll('u')
        .where('r.tenant_id', '=', ctx.actor.tenantId)
        .where('r.role_template_id', '=', role.id)
        .where('u.deleted_at', 'is', null);
      const page = await fetchKeysetPage<UserRow>(query, { columns: ['r.user_id'], direction: 'asc' }, positionFrom(deps.secret, q), q.top, (r) => [r.id]);
      return collectionEnvelope({
        baseUrl: ctx.baseUrl,
        context: 'directoryObjects',
        select: q.explicitSelect ? q.select : null,
        value: page.rows.map((r) => toGraphUser(r, q.select, true)),
        requestUrl: ctx.requestUrl,
        nextToken: nextTokenOf(deps.secret, q, page.next),
      });
    },
    async addMember(ctx: RequestContext, key: string, ref: string): Promise<void> {
      requireAccess(ctx.actor, 'roles.write');
      const role = findRole(key);
      const userId = referencedId(ref);
      const [user] = await findLiveUsers(db, ctx.actor.tenantId, [userId]);
      if (!user) throw notFound(userId);
      const now = clock.now().toISOString();
      const existing = await db
        .selectFrom('role_assignments')
        .select('user_id')
        .where('user_id', '=', user.id)
        .where('role_template_id', '=', role.id)
        .executeTakeFirst();
      if (existing) throw badRequest("One or more added object references already exist for the following modified properties: 'members'.");
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('role_assignments')
          .values({ tenant_id: ctx.actor.tenantId, user_id: user.id, role_template_id: role.id, created_at: now })
          .execute();
        await recordAudit(
          trx,
          ctx.actor,
          {
            activity: 'Add member to role',
            category: 'RoleManagement',
            operationType: 'Assign',
            targets: [
              { id: user.id, displayName: user.display_name, type: 'User', userPrincipalName: user.user_principal_name },
              { id: role.id, displayName: role.displayName, type: 'Role' },
            ],
          },
          ctx.correlationId,
          now,
        );
      });
    },
    async removeMember(ctx: RequestContext, key: string, userId: string): Promise<void> {
      requireAccess(ctx.actor, 'roles.write');
      const role = findRole(key);
      if (!isGuid(userId)) throw notFound(userId);
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        if (role.id === globalAdministratorRoleId) {
          const holders = await trx
            .selectFrom('role_assignments as r')
            .innerJoin('users as u', 'u.id', 'r.user_id')
            .select('r.user_id')
            .where('r.tenant_id', '=', ctx.actor.tenantId)
            .where('r.role_template_id', '=', role.id)
            .where('u.deleted_at', 'is', null)
            .limit(2)
            .execute();
          if (holders.length === 1 && holders[0]!.user_id === userId.toLowerCase())
            throw badRequest('The last Global Administrator cannot be removed from the role.');
        }
        const deleted = await trx
          .deleteFrom('role_assignments')
          .where('tenant_id', '=', ctx.actor.tenantId)
          .where('user_id', '=', userId.toLowerCase())
          .where('role_template_id', '=', role.id)
          .executeTakeFirst();
        if (Number(deleted.numDeletedRows) === 0) throw notFound(userId);
        await recordAudit(
          trx,
          ctx.actor,
          {
            activity: 'Remove member from role',
            category: 'RoleManagement',
            operationType: 'Unassign',
            targets: [
              { id: userId.toLowerCase(), displayName: null, type: 'User' },
              { id: role.id, displayName: role.displayName, type: 'Role' },
            ],
          },
          ctx.correlationId,
          now,
        );
      });
    },
  };
}
export type RolesService = ReturnType<typeof createRolesService>;
