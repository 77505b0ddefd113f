import { sql, type Kysely, type SqlBool } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Engine } from '../db/database.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import { badRequest, forbidden, notFound } from '../graph/errors.js';
import { compileFilter, normalizeSearchValue, parseListQuery, parseSelect, type ODataQuery } from '../graph/odata-query.js';
import { collectionEnvelope, countRows, fetchKeysetPage, nextTokenOf, positionFrom, type AnyQuery } from '../graph/list.js';
import { recordAudit, diffProperties, type AuditTarget } from '../audit/audit.service.js';
import { can, directoryRoleList, guestAccessLevels, isGuest, requireAccess, type Actor } from '../auth/permissions.js';
import { newId, guidPattern, isGuid } from '../ids.js';
import { groupEntity, toGraphGroup, type GroupRow } from './groups.model.js';
import { addRelations, existingRelations, findGroup, isRelated, removeRelation, type Relation } from './groups.repository.js';
import { findLiveUsers, type UserRow } from './users.repository.js';
import { userEntity } from './users.entity.js';
import { toGraphUser } from './users.mapper.js';
import type { UsersService } from './users.service.js';
import type { GroupCreateBody, GroupUpdateBody } from './groups.schemas.js';

const MAX_BIND = 20;
const alreadyExists = (prop: string) => badRequest(`One or more added object references already exist for the following modified properties: '${prop}'.`);

/** The object id in an `@odata.id` / `@odata.bind` reference such as `https://host/v1.0/directoryObjects/{id}`. */
export function referencedId(ref: string): string {
  const m = /(?:^|\/)(?:directoryObjects|users)\/([^/?#]+)$/i.exec(ref.trim()) ?? /^([^/]+)$/.exec(ref.trim());
  const id = m?.[1] ? decodeURIComponent(m[1]) : '';
  if (!guidPattern.test(id)) throw badRequest(`Invalid object identifier '${ref}'.`);
  return id.toLowerCase();
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function createGroupsService(deps: { db: Kysely<Database>; engine: Engine; clock: Clock; secret: string; users: UsersService }) {
  const { db, clock } = deps;

  /** The group if the actor may see it: everyone with read access; limited guests only their own groups. */
  async function readableGroup(actor: Actor, id: string): Promise<GroupRow> {
    if (!isGuid(id)) throw notFound(id);
    const group = await findGroup(db, actor.tenantId, id.toLowerCase());
    if (isGuest(actor)) {
      const visible =
        group &&
        (actor.guestAccess === guestAccessLevels.sameAsMembers ||
          (actor.guestAccess === guestAccessLevels.limited &&
            ((await isRelated(db, group.id, 'member', actor.userId)) || (await isRelated(db, group.id, 'owner', actor.userId)))));
      if (!visible) throw notFound(id);
      return group;
    }
    requireAccess(actor, 'groups.read');
    if (!group) throw notFound(id);
    return group;
  }

  /** Administrators and `Group.ReadWrite.All` manage any group; a group's owners manage its members and owners. */
  async function requireManage(actor: Actor, group: GroupRow): Promise<void> {
    if (can(actor, 'groups.write')) return;
    if (actor.kind === 'user' && actor.userType === 'Member' && (await isRelated(db, group.id, 'owner', actor.userId))) return;
    throw forbidden();
  }

  /** Refuses, before any lookup, callers who can manage no group at all (guests), so a group they cannot see answers like an absent one. */
  function requireMayManageSome(actor: Actor): void {
    if (!can(actor, 'groups.write') && !(actor.kind === 'user' && actor.userType === 'Member')) throw forbidden();
  }

  /** Resolves references to live users: 404 for the first unknown one, 400 for guests as owners. */
  async function resolveUsers(tenantId: string, refs: string[], relation: Relation): Promise<UserRow[]> {
    if (refs.length > MAX_BIND) throw badRequest(`At most ${MAX_BIND} objects can be added in one request.`);
    const ids = [...new Set(refs.map(referencedId))];
    const users = await findLiveUsers(db, tenantId, ids);
    const missing = ids.find((id) => !users.some((u) => u.id === id));
    if (missing) throw notFound(missing);
    if (relation === 'owner') {
      const guest = users.find((u) => u.user_type === 'Guest');
      if (guest) throw badRequest(`Guest users cannot be owners of a group: '${guest.id}'.`);
    }
    return users;
  }

  const groupTarget = (g: GroupRow, modified?: AuditTarget['modifiedProperties']): AuditTarget => ({
    id: g.id,
    displayName: g.display_name,
    type: 'Group',
    modifiedProperties: modified,
  });
  const userTarget = (u: UserRow): AuditTarget => ({ id: u.id, displayName: u.display_name, type: 'User', userPrincipalName: u.user_principal_name });

  async function addUsers(trx: Kysely<Database>, ctx: RequestContext, group: GroupRow, relation: Relation, users: UserRow[], now: string) {
    await addRelations(
      trx,
      ctx.actor.tenantId,
      group.id,
      relation,
      users.map((u) => u.id),
      now,
    );
    for (const u of users)
      await recordAudit(
        trx,
        ctx.actor,
        {
          activity: relation === 'member' ? 'Add member to group' : 'Add owner to group',
          category: 'GroupManagement',
          operationType: 'Assign',
          targets: [userTarget(u), groupTarget(group)],
        },
        ctx.correlationId,
        now,
      );
  }

  function searchCondition(search: NonNullable<ODataQuery['search']>) {
    // Groups are few compared to users: a word-prefix match over the row is fine here.
    const parts = search.map((c) => {
      const col = c.property === 'displayName' ? sql`g.display_name_lower` : sql`lower(coalesce(g.description, ''))`;
      const v = escapeLike(normalizeSearchValue(c.value));
      return sql<SqlBool>`(${col} like ${v + '%'} escape '\\' or ${col} like ${'% ' + v + '%'} escape '\\')`;
    });
    return sql<SqlBool>`(${sql.join(parts, sql` or `)})`;
  }

  /** Lists users related to a group (members or owners) as directoryObjects. */
  async function listRelated(ctx: RequestContext, groupId: string, relation: Relation) {
    const group = await readableGroup(ctx.actor, groupId);
    if (isGuest(ctx.actor) && ctx.actor.guestAccess === guestAccessLevels.restricted) throw forbidden();
    const q = parseListQuery(userEntity, ctx);
    if (q.search || q.orderBy) throw badRequest('$search and $orderby are not supported on this relationship.');
    let query: AnyQuery = db
      .selectFrom('group_memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .selectAll('u')
      .where('m.group_id', '=', group.id)
      .where('m.relation', '=', relation)
      .where('u.deleted_at', 'is', null);
    if (q.filter) query = query.where(compileFilter(userEntity, q.filter, 'u', ctx.actor.tenantId));
    const page = await fetchKeysetPage<UserRow>(query, { columns: ['m.user_id'], direction: 'asc' }, positionFrom(deps.secret, q), q.top, (r) => [r.id]);
    const count = q.count ? await countRows(query) : undefined;
    return collectionEnvelope({
      baseUrl: ctx.baseUrl,
      context: 'directoryObjects',
      select: q.explicitSelect ? q.select : null,
      value: page.rows.map((r) => toGraphUser(r, q.select, true)),
      count,
      requestUrl: ctx.requestUrl,
      nextToken: nextTokenOf(deps.secret, q, page.next),
    });
  }

  async function addRef(ctx: RequestContext, groupId: string, relation: Relation, ref: string): Promise<void> {
    requireMayManageSome(ctx.actor);
    if (!isGuid(groupId)) throw notFound(groupId);
    const group = await findGroup(db, ctx.actor.tenantId, groupId.toLowerCase());
    if (!group) throw notFound(groupId);
    await requireManage(ctx.actor, group);
    const users = await resolveUsers(ctx.actor.tenantId, [ref], relation);
    if ((await existingRelations(db, group.id, relation, [users[0]!.id])).length) throw alreadyExists(relation === 'member' ? 'members' : 'owners');
    const now = clock.now().toISOString();
    try {
      await db.transaction().execute((trx) => addUsers(trx, ctx, group, relation, users, now));
    } catch (error) {
      // A concurrent request added the same reference first.
      if ((await existingRelations(db, group.id, relation, [users[0]!.id])).length) throw alreadyExists(relation === 'member' ? 'members' : 'owners');
      throw error;
    }
  }

  async function removeRef(ctx: RequestContext, groupId: string, relation: Relation, userId: string): Promise<void> {
    requireMayManageSome(ctx.actor);
    if (!isGuid(groupId)) throw notFound(groupId);
    const group = await findGroup(db, ctx.actor.tenantId, groupId.toLowerCase());
    if (!group) throw notFound(groupId);
    await requireManage(ctx.actor, group);
    if (!isGuid(userId)) throw notFound(userId);
    const user = (await findLiveUsers(db, ctx.actor.tenantId, [userId.toLowerCase()]))[0];
    const now = clock.now().toISOString();
    await db.transaction().execute(async (trx) => {
      if (!user || !(await removeRelation(trx, group.id, relation, user.id))) throw notFound(userId);
      await recordAudit(
        trx,
        ctx.actor,
        {
          activity: relation === 'member' ? 'Remove member from group' : 'Remove owner from group',
          category: 'GroupManagement',
          operationType: 'Unassign',
          targets: [userTarget(user), groupTarget(group)],
        },
        ctx.correlationId,
        now,
      );
    });
  }

  return {
    async list(ctx: RequestContext) {
      const actor = ctx.actor;
      const q = parseListQuery(groupEntity, ctx);
      let query: AnyQuery = db.selectFrom('groups as g').selectAll('g').where('g.tenant_id', '=', actor.tenantId).where('g.deleted_at', 'is', null);
      if (isGuest(actor)) {
        if (actor.guestAccess === guestAccessLevels.restricted) throw forbidden();
        if (actor.guestAccess === guestAccessLevels.limited)
          query = query.where('g.id', 'in', db.selectFrom('group_memberships').select('group_id').where('user_id', '=', actor.userId));
      } else requireAccess(actor, 'groups.read');
      if (q.filter) query = query.where(compileFilter(groupEntity, q.filter, 'g', actor.tenantId));
      if (q.search) query = query.where(searchCondition(q.search));
      const sortKey = q.orderBy?.column as keyof GroupRow | undefined;
      const page = await fetchKeysetPage<GroupRow>(
        query,
        { columns: q.orderBy ? [`g.${q.orderBy.column}`, 'g.id'] : ['g.id'], direction: q.orderBy?.direction ?? 'asc' },
        positionFrom(deps.secret, q),
        q.top,
        (r) => (sortKey ? [r[sortKey], r.id] : [r.id]),
      );
      const count = q.count ? await countRows(query) : undefined;
      return collectionEnvelope({
        baseUrl: ctx.baseUrl,
        context: 'groups',
        select: q.explicitSelect ? q.select : null,
        value: page.rows.map((r) => toGraphGroup(r, q.select)),
        count,
        requestUrl: ctx.requestUrl,
        nextToken: nextTokenOf(deps.secret, q, page.next),
      });
    },

    async get(ctx: RequestContext, id: string) {
      const group = await readableGroup(ctx.actor, id);
      const { select, explicitSelect } = parseSelect(groupEntity, ctx.query.$select as string | undefined);
      return {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#groups${explicitSelect ? `(${select.join(',')})` : ''}/$entity`,
        ...toGraphGroup(group, select),
      };
    },

    async create(ctx: RequestContext, body: GroupCreateBody) {
      requireAccess(ctx.actor, 'groups.write');
      const unified = body.groupTypes?.includes('Unified') ?? false;
      if (body.groupTypes?.includes('DynamicMembership')) throw badRequest('Dynamic membership groups are not supported.');
      if (unified && !body.mailEnabled) throw badRequest('A Microsoft 365 group (groupTypes Unified) must have mailEnabled set to true.');
      if (!unified && body.mailEnabled)
        throw badRequest('Mail-enabled security groups and distribution groups cannot be created here; set mailEnabled to false.');
      if (!unified && !body.securityEnabled) throw badRequest('A group that is not a Microsoft 365 group must be a security group (securityEnabled true).');
      const tenantId = ctx.actor.tenantId;
      const members = await resolveUsers(tenantId, body['members@odata.bind'] ?? [], 'member');
      let owners = await resolveUsers(tenantId, body['owners@odata.bind'] ?? [], 'owner');
      // Like Graph, a person creating a Microsoft 365 group without naming owners becomes its owner.
      if (unified && owners.length === 0 && ctx.actor.kind === 'user') owners = await findLiveUsers(db, tenantId, [ctx.actor.userId]);
      const domain = (await db.selectFrom('tenants').select('initial_domain').where('id', '=', tenantId).executeTakeFirstOrThrow()).initial_domain;
      const now = clock.now().toISOString();
      const row: GroupRow = {
        tenant_id: tenantId,
        id: newId(),
        display_name: body.displayName,
        display_name_lower: body.displayName.toLowerCase(),
        description: body.description ?? null,
        mail_nickname: body.mailNickname,
        mail: unified ? `${body.mailNickname.toLowerCase()}@${domain}` : null,
        mail_enabled: body.mailEnabled ? 1 : 0,
        security_enabled: body.securityEnabled ? 1 : 0,
        group_types: JSON.stringify(body.groupTypes ?? []),
        visibility: body.visibility ?? (unified ? 'Public' : null),
        created_at: now,
        deleted_at: null,
      };
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('groups').values(row).execute();
        const { 'members@odata.bind': _m, 'owners@odata.bind': _o, ...audited } = body;
        await recordAudit(
          trx,
          ctx.actor,
          { activity: 'Add group', category: 'GroupManagement', operationType: 'Add', targets: [groupTarget(row, diffProperties({}, audited))] },
          ctx.correlationId,
          now,
        );
        await addUsers(trx, ctx, row, 'member', members, now);
        await addUsers(trx, ctx, row, 'owner', owners, now);
      });
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#groups/$entity`, ...toGraphGroup(row, groupEntity.defaultProperties) };
    },

    async update(ctx: RequestContext, id: string, body: GroupUpdateBody): Promise<void> {
      requireMayManageSome(ctx.actor);
      if (!isGuid(id)) throw notFound(id);
      const group = await findGroup(db, ctx.actor.tenantId, id.toLowerCase());
      if (!group) throw notFound(id);
      const { 'members@odata.bind': memberRefs, 'owners@odata.bind': ownerRefs, '@odata.type': _t, ...props } = body;
      if (Object.keys(props).length) requireAccess(ctx.actor, 'groups.write');
      else await requireManage(ctx.actor, group);
      const members = await resolveUsers(ctx.actor.tenantId, memberRefs ?? [], 'member');
      const owners = await resolveUsers(ctx.actor.tenantId, ownerRefs ?? [], 'owner');
      // All or nothing, as Graph: one existing reference refuses the whole request.
      if (
        (
          await existingRelations(
            db,
            group.id,
            'member',
            members.map((u) => u.id),
          )
        ).length
      )
        throw alreadyExists('members');
      if (
        (
          await existingRelations(
            db,
            group.id,
            'owner',
            owners.map((u) => u.id),
          )
        ).length
      )
        throw alreadyExists('owners');
      const now = clock.now().toISOString();
      const changes: Partial<GroupRow> = {};
      if (props.displayName !== undefined) Object.assign(changes, { display_name: props.displayName, display_name_lower: props.displayName.toLowerCase() });
      if (props.description !== undefined) changes.description = props.description;
      if (props.mailNickname !== undefined) changes.mail_nickname = props.mailNickname;
      if (props.visibility !== undefined) changes.visibility = props.visibility;
      await db.transaction().execute(async (trx) => {
        if (Object.keys(changes).length) {
          await trx.updateTable('groups').set(changes).where('id', '=', group.id).execute();
          await recordAudit(
            trx,
            ctx.actor,
            {
              activity: 'Update group',
              category: 'GroupManagement',
              operationType: 'Update',
              targets: [groupTarget(group, diffProperties(toGraphGroup(group, Object.keys(props)), props))],
            },
            ctx.correlationId,
            now,
          );
        }
        await addUsers(trx, ctx, group, 'member', members, now);
        await addUsers(trx, ctx, group, 'owner', owners, now);
      });
    },

    async delete(ctx: RequestContext, id: string): Promise<void> {
      requireAccess(ctx.actor, 'groups.write');
      if (!isGuid(id)) throw notFound(id);
      const group = await findGroup(db, ctx.actor.tenantId, id.toLowerCase());
      if (!group) throw notFound(id);
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('groups').set({ deleted_at: now }).where('id', '=', group.id).execute();
        await recordAudit(
          trx,
          ctx.actor,
          { activity: 'Delete group', category: 'GroupManagement', operationType: 'Delete', targets: [groupTarget(group)] },
          ctx.correlationId,
          now,
        );
      });
    },

    listMembers: (ctx: RequestContext, id: string) => listRelated(ctx, id, 'member'),
    listOwners: (ctx: RequestContext, id: string) => listRelated(ctx, id, 'owner'),
    addMember: (ctx: RequestContext, id: string, ref: string) => addRef(ctx, id, 'member', ref),
    addOwner: (ctx: RequestContext, id: string, ref: string) => addRef(ctx, id, 'owner', ref),
    removeMember: (ctx: RequestContext, id: string, userId: string) => removeRef(ctx, id, 'member', userId),
    removeOwner: (ctx: RequestContext, id: string, userId: string) => removeRef(ctx, id, 'owner', userId),

    /** `/users/{id}/memberOf`: the live groups the user is a member of, and its directory roles. */
    async memberOf(ctx: RequestContext, userKeyValue: string) {
      const user = await deps.users.readableUser(ctx.actor, userKeyValue);
      if (isGuest(ctx.actor) && ctx.actor.userId !== user.id && ctx.actor.guestAccess !== guestAccessLevels.sameAsMembers) throw forbidden();
      const q = parseListQuery(groupEntity, ctx);
      if (q.filter || q.search || q.orderBy) throw badRequest('$filter, $search and $orderby are not supported on memberOf.');
      const groups = db
        .selectFrom('group_memberships as m')
        .innerJoin('groups as g', 'g.id', 'm.group_id')
        .select(['g.id as id', sql<string>`'group'`.as('kind')])
        .where('m.user_id', '=', user.id)
        .where('m.relation', '=', 'member')
        .where('g.deleted_at', 'is', null);
      const roles = db
        .selectFrom('role_assignments')
        .select(['role_template_id as id', sql<string>`'role'`.as('kind')])
        .where('user_id', '=', user.id);
      const union: AnyQuery = db.selectFrom(groups.unionAll(roles).as('x')).selectAll();
      const page = await fetchKeysetPage<{ id: string; kind: string }>(
        union,
        { columns: ['x.id'], direction: 'asc' },
        positionFrom(deps.secret, q),
        q.top,
        (r) => [r.id],
      );
      const groupIds = page.rows.filter((r) => r.kind === 'group').map((r) => r.id);
      const groupRows = groupIds.length ? await db.selectFrom('groups').selectAll().where('id', 'in', groupIds).execute() : [];
      const value = page.rows.map((r) => {
        if (r.kind === 'group')
          return toGraphGroup(
            groupRows.find((g) => g.id === r.id)!,
            q.select,
            true,
          );
        const role = directoryRoleList.find((d) => d.id === r.id)!;
        return {
          '@odata.type': '#microsoft.graph.directoryRole',
          id: role.id,
          displayName: role.displayName,
          description: role.description,
          roleTemplateId: role.id,
        };
      });
      const count = q.count ? await countRows(union) : undefined;
      return collectionEnvelope({
        baseUrl: ctx.baseUrl,
        context: 'directoryObjects',
        value,
        count,
        requestUrl: ctx.requestUrl,
        nextToken: nextTokenOf(deps.secret, q, page.next),
      });
    },
  };
}
export type GroupsService = ReturnType<typeof createGroupsService>;
