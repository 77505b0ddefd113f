import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import { badRequest, forbidden, notFound } from '../graph/errors.js';
import { parseListQuery } from '../graph/odata-query.js';
import { collectionEnvelope, fetchKeysetPage, nextTokenOf, positionFrom, type AnyQuery } from '../graph/list.js';
import { recordAudit } from '../audit/audit.service.js';
import { can, guestAccessLevels, isGuest, requireAccess, type Actor } from '../auth/permissions.js';
import { isUniqueViolation } from '../db/errors.js';
import { isGuid, newId } from '../ids.js';
import type { EntityDefinition } from '../graph/entity.js';
import type { UsersService } from '../directory/users.service.js';
import type { UserRow } from '../directory/users.repository.js';
import { findGroup } from '../directory/groups.repository.js';
import { assignedServicePrincipals, DEFAULT_ACCESS_ROLE_ID, type AssignmentRow } from './apps.repository.js';
import type { AppRoleAssignmentBody } from './apps.schemas.js';

const assignmentPropertyNames = [
  'id',
  'appRoleId',
  'createdDateTime',
  'deletedDateTime',
  'principalDisplayName',
  'principalId',
  'principalType',
  'resourceDisplayName',
  'resourceId',
] as const;

const assignmentEntity: EntityDefinition = {
  type: 'appRoleAssignment',
  entitySet: 'appRoleAssignments',
  properties: assignmentPropertyNames,
  defaultProperties: assignmentPropertyNames,
  filterable: {},
  sortable: {},
  keyColumn: 'id',
  searchable: [],
  advancedQueryGating: false,
};

type AssignmentView = AssignmentRow & { principal_display_name: string | null; resource_display_name: string };

const shapeAssignment = (r: AssignmentView) => ({
  id: r.id,
  appRoleId: r.app_role_id,
  createdDateTime: r.created_at,
  deletedDateTime: null,
  principalDisplayName: r.principal_display_name,
  principalId: r.principal_id,
  principalType: r.principal_type,
  resourceDisplayName: r.resource_display_name,
  resourceId: r.resource_id,
});

type Principal = { type: 'User'; row: UserRow } | { type: 'Group'; row: { id: string; display_name: string } };

const alreadyAssigned = () => badRequest('Permission being assigned already exists on the object');

/**
 * Who may use which application: app role assignments of users and groups to service principals
 * (members of an assigned group have access), and the list of apps a person may open.
 */
export function createAssignmentsService(deps: { db: Kysely<Database>; clock: Clock; secret: string; users: UsersService }) {
  const { db, clock } = deps;

  /** Assignments with the names Graph answers, hiding those of users in deleted items (a restore brings them back). */
  const assignmentView = (tenantId: string) =>
    db
      .selectFrom('app_role_assignments as r')
      .innerJoin('service_principals as sp', 'sp.id', 'r.resource_id')
      .innerJoin('applications as a', 'a.id', 'sp.application_id')
      .leftJoin('users as u', 'u.id', 'r.user_id')
      .leftJoin('groups as g', 'g.id', 'r.group_id')
      .selectAll('r')
      .select((eb) => [eb.fn.coalesce('u.display_name', 'g.display_name').as('principal_display_name'), 'a.display_name as resource_display_name'])
      .where('r.tenant_id', '=', tenantId)
      .where('u.deleted_at', 'is', null)
      .where('g.deleted_at', 'is', null);

  async function list(ctx: RequestContext, narrow: (q: AnyQuery) => AnyQuery) {
    const q = parseListQuery(assignmentEntity, ctx);
    if (q.filter || q.search || q.orderBy) throw badRequest('$filter, $search and $orderby are not supported on app role assignments.');
    const page = await fetchKeysetPage<AssignmentView>(
      narrow(assignmentView(ctx.actor.tenantId) as AnyQuery),
      { columns: ['r.id'], direction: 'asc' },
      positionFrom(deps.secret, q),
      q.top,
      (r) => [r.id],
    );
    return collectionEnvelope({
      baseUrl: ctx.baseUrl,
      context: 'appRoleAssignments',
      value: page.rows.map(shapeAssignment),
      requestUrl: ctx.requestUrl,
      nextToken: nextTokenOf(deps.secret, q, page.next),
    });
  }

  async function findSp(tenantId: string, id: string) {
    if (!isGuid(id)) return undefined;
    return db
      .selectFrom('service_principals as sp')
      .innerJoin('applications as a', 'a.id', 'sp.application_id')
      .select(['sp.id', 'sp.app_id', 'a.display_name', 'a.app_roles'])
      .where('sp.tenant_id', '=', tenantId)
      .where('sp.id', '=', id.toLowerCase())
      .executeTakeFirst();
  }
  type Sp = NonNullable<Awaited<ReturnType<typeof findSp>>>;

  async function findPrincipal(trx: Kysely<Database>, tenantId: string, id: string): Promise<Principal | null> {
    if (!isGuid(id)) return null;
    const user = await trx
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id.toLowerCase())
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (user) return { type: 'User', row: user };
    const group = await findGroup(trx, tenantId, id.toLowerCase());
    return group ? { type: 'Group', row: group } : null;
  }

  /** Default Access, or an enabled role of the application that users and groups may hold. */
  function checkRole(sp: Sp, appRoleId: string) {
    const id = appRoleId.toLowerCase();
    if (id === DEFAULT_ACCESS_ROLE_ID) return id;
    const roles = JSON.parse(sp.app_roles) as { id: string; isEnabled: boolean; allowedMemberTypes: string[] }[];
    const role = roles.find((r) => r.id === id && r.isEnabled && r.allowedMemberTypes.includes('User'));
    if (!role) throw badRequest(`Permission being assigned was not found on application '${sp.app_id}'.`);
    return id;
  }

  /** Inserts one assignment with its audit entry, inside the caller's transaction. */
  async function insertAssignment(trx: Kysely<Database>, actor: Actor, sp: Sp, principal: Principal, appRoleId: string, correlationId: string, now: string) {
    const row: AssignmentRow = {
      tenant_id: actor.tenantId,
      id: newId(),
      resource_id: sp.id,
      principal_id: principal.row.id,
      principal_type: principal.type,
      user_id: principal.type === 'User' ? principal.row.id : null,
      group_id: principal.type === 'Group' ? principal.row.id : null,
      app_role_id: appRoleId,
      created_at: now,
    };
    await trx.insertInto('app_role_assignments').values(row).execute();
    await recordAudit(
      trx,
      actor,
      {
        activity: principal.type === 'User' ? 'Add app role assignment grant to user' : 'Add app role assignment to group',
        category: principal.type === 'User' ? 'UserManagement' : 'GroupManagement',
        operationType: 'Assign',
        targets: [
          {
            id: principal.row.id,
            displayName: principal.row.display_name,
            type: principal.type,
            userPrincipalName: principal.type === 'User' ? principal.row.user_principal_name : null,
          },
          {
            id: sp.id,
            displayName: sp.display_name,
            type: 'Application',
            modifiedProperties: [{ displayName: 'AppRole.Id', oldValue: null, newValue: JSON.stringify(appRoleId) }],
          },
        ],
      },
      correlationId,
      now,
    );
    return { ...row, principal_display_name: principal.row.display_name, resource_display_name: sp.display_name };
  }

  async function assign(ctx: RequestContext, spId: string, body: AppRoleAssignmentBody, principalFromPath?: string) {
    requireAccess(ctx.actor, 'appAssignments.write');
    const sp = await findSp(ctx.actor.tenantId, spId);
    if (!sp) throw notFound(spId);
    if (!isGuid(body.principalId)) throw badRequest(`Invalid value for 'principalId': '${body.principalId}' is not a GUID.`);
    if (!isGuid(body.appRoleId)) throw badRequest(`Invalid value for 'appRoleId': '${body.appRoleId}' is not a GUID.`);
    if (!isGuid(body.resourceId) || body.resourceId.toLowerCase() !== sp.id)
      throw badRequest(`The resourceId '${body.resourceId}' must be the id of the service principal.`);
    if (principalFromPath !== undefined && principalFromPath.toLowerCase() !== body.principalId.toLowerCase())
      throw badRequest(`The principalId '${body.principalId}' must be the id of the user in the URL.`);
    const appRoleId = checkRole(sp, body.appRoleId);
    const principal = await findPrincipal(db, ctx.actor.tenantId, body.principalId);
    if (!principal) throw notFound(body.principalId);
    const now = clock.now().toISOString();
    try {
      const row = await db.transaction().execute((trx) => insertAssignment(trx, ctx.actor, sp, principal, appRoleId, ctx.correlationId, now));
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#appRoleAssignments/$entity`, ...shapeAssignment(row) };
    } catch (error) {
      if (isUniqueViolation(error)) throw alreadyAssigned();
      throw error;
    }
  }

  async function unassign(ctx: RequestContext, assignmentId: string, scope: { resourceId?: string; principalId?: string }): Promise<void> {
    requireAccess(ctx.actor, 'appAssignments.write');
    if (!isGuid(assignmentId)) throw notFound(assignmentId);
    const row = await assignmentView(ctx.actor.tenantId).where('r.id', '=', assignmentId.toLowerCase()).executeTakeFirst();
    if (
      !row ||
      (scope.resourceId && row.resource_id !== scope.resourceId.toLowerCase()) ||
      (scope.principalId && row.principal_id !== scope.principalId.toLowerCase())
    )
      throw notFound(assignmentId);
    const principal = await findPrincipal(db, ctx.actor.tenantId, row.principal_id);
    const now = clock.now().toISOString();
    await db.transaction().execute(async (trx) => {
      const r = await trx.deleteFrom('app_role_assignments').where('id', '=', row.id).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw notFound(assignmentId);
      await recordAudit(
        trx,
        ctx.actor,
        {
          activity: row.principal_type === 'User' ? 'Remove app role assignment from user' : 'Remove app role assignment from group',
          category: row.principal_type === 'User' ? 'UserManagement' : 'GroupManagement',
          operationType: 'Unassign',
          targets: [
            {
              id: row.principal_id,
              displayName: row.principal_display_name,
              type: row.principal_type,
              userPrincipalName: principal?.type === 'User' ? principal.row.user_principal_name : null,
            },
            {
              id: row.resource_id,
              displayName: row.resource_display_name,
              type: 'Application',
              modifiedProperties: [{ displayName: 'AppRole.Id', oldValue: JSON.stringify(row.app_role_id), newValue: null }],
            },
          ],
        },
        ctx.correlationId,
        now,
      );
    });
  }

  /** Guests read their own assignments; people who can read a user read theirs (like memberOf). */
  async function readableUser(actor: Actor, key: string): Promise<UserRow> {
    const user = await deps.users.readableUser(actor, key);
    if (isGuest(actor) && actor.userId !== user.id && actor.guestAccess !== guestAccessLevels.sameAsMembers) throw forbidden();
    return user;
  }

  return {
    assign: (ctx: RequestContext, spId: string, body: AppRoleAssignmentBody) => assign(ctx, spId, body),
    assignToUser: async (ctx: RequestContext, userKey: string, body: AppRoleAssignmentBody) => {
      requireAccess(ctx.actor, 'appAssignments.write');
      const user = await deps.users.readableUser(ctx.actor, userKey);
      return assign(ctx, body.resourceId, body, user.id);
    },

    unassign: (ctx: RequestContext, spId: string, assignmentId: string) => {
      if (!isGuid(spId)) throw notFound(spId);
      return unassign(ctx, assignmentId, { resourceId: spId });
    },
    unassignFromUser: async (ctx: RequestContext, userKey: string, assignmentId: string) => {
      requireAccess(ctx.actor, 'appAssignments.write');
      const user = await deps.users.readableUser(ctx.actor, userKey);
      return unassign(ctx, assignmentId, { principalId: user.id });
    },

    /** `GET /servicePrincipals/{id}/appRoleAssignedTo`. */
    async listAssignedTo(ctx: RequestContext, spId: string) {
      if (isGuest(ctx.actor)) throw forbidden();
      requireAccess(ctx.actor, 'appAssignments.read');
      const sp = await findSp(ctx.actor.tenantId, spId);
      if (!sp) throw notFound(spId);
      return list(ctx, (q) => q.where('r.resource_id', '=', sp.id));
    },

    /** `GET /users/{id}/appRoleAssignments`: the user's own assignments (not those through groups, as in Graph). */
    async listForUser(ctx: RequestContext, userKey: string) {
      const user = await readableUser(ctx.actor, userKey);
      return list(ctx, (q) => q.where('r.user_id', '=', user.id));
    },

    /** `GET /groups/{id}/appRoleAssignments`. */
    async listForGroup(ctx: RequestContext, groupId: string) {
      if (isGuest(ctx.actor)) throw forbidden();
      requireAccess(ctx.actor, 'appAssignments.read');
      const group = isGuid(groupId) ? await findGroup(db, ctx.actor.tenantId, groupId.toLowerCase()) : undefined;
      if (!group) throw notFound(groupId);
      return list(ctx, (q) => q.where('r.group_id', '=', group.id));
    },

    /** The applications a person may open (assigned directly or through a group), for My apps. */
    async myApps(actor: Actor) {
      if (actor.kind !== 'user') throw badRequest('/me request is only valid with delegated authentication flow.');
      const rows = await assignedServicePrincipals(db, actor.tenantId, actor.userId);
      return rows
        .filter((r) => r.account_enabled)
        .map((r) => ({
          id: r.sp_id,
          appId: r.app_id,
          displayName: r.display_name,
          description: r.description,
          homePageUrl: r.web_home_page_url,
          logoUrl: r.logo_url,
        }));
    },

    /**
     * Invite straight into apps: resolves service principals (by id or appId) the inviter may
     * assign, before anything is written.
     */
    async resolveForInvite(trx: Kysely<Database>, actor: Actor, refs: string[] | undefined): Promise<Sp[]> {
      const out: Sp[] = [];
      for (const ref of new Set(refs ?? [])) {
        if (!can(actor, 'appAssignments.write')) throw forbidden('You cannot give people access to applications.');
        if (!isGuid(ref)) throw notFound(ref);
        const sp = await trx
          .selectFrom('service_principals as sp')
          .innerJoin('applications as a', 'a.id', 'sp.application_id')
          .select(['sp.id', 'sp.app_id', 'a.display_name', 'a.app_roles'])
          .where('sp.tenant_id', '=', actor.tenantId)
          .where((eb) => eb.or([eb('sp.id', '=', ref.toLowerCase()), eb('sp.app_id', '=', ref.toLowerCase())]))
          .executeTakeFirst();
        if (!sp) throw notFound(ref);
        if (!out.some((s) => s.id === sp.id)) out.push(sp);
      }
      return out;
    },

    /** Gives an invited guest Default Access to each service principal, in the invitation's transaction. */
    async assignInvitedGuest(trx: Kysely<Database>, actor: Actor, user: UserRow, sps: Sp[], correlationId: string, now: string) {
      for (const sp of sps) {
        const existing = await trx
          .selectFrom('app_role_assignments')
          .select('id')
          .where('resource_id', '=', sp.id)
          .where('principal_id', '=', user.id)
          .where('app_role_id', '=', DEFAULT_ACCESS_ROLE_ID)
          .executeTakeFirst();
        if (!existing) await insertAssignment(trx, actor, sp, { type: 'User', row: user }, DEFAULT_ACCESS_ROLE_ID, correlationId, now);
      }
      return sps.map((s) => ({ id: s.id, appId: s.app_id, displayName: s.display_name }));
    },
  };
}
export type AssignmentsService = ReturnType<typeof createAssignmentsService>;
