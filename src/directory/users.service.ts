import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Engine } from '../db/database.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import { badRequest, notFound, forbidden } from '../graph/errors.js';
import { parseListQuery, parseSelect, compileFilter, type ODataQuery } from '../graph/odata-query.js';
import type { FilterNode } from '../graph/filter-parser.js';
import { collectionEnvelope, fetchKeysetPage, nextTokenOf, positionFrom, type AnyQuery } from '../graph/list.js';
import { recordAudit, diffProperties } from '../audit/audit.service.js';
import { guestAccessLevels, globalAdministratorRoleId, isGuest, requireAccess, type Actor } from '../auth/permissions.js';
import { requireMayActOn, type SensitiveAction } from '../auth/act-on-whom.js';
import { hashPassword } from '../auth/secrets.js';
import { isUniqueViolation } from '../db/errors.js';
import { isGuid } from '../ids.js';
import { buildUserRow } from './user-row.js';
import { emailProblem } from './email.js';
import { userEntity } from './users.entity.js';
import { toGraphUser, userColumnsFor } from './users.mapper.js';
import { findUser, insertUser, liveUsers, searchUsersPage, updateUser, whereSearchMatches, type UserRow } from './users.repository.js';
import type { UserCreateBody, UserUpdateBody } from './users.schemas.js';

export interface UsersDeps {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  secret: string;
}

const duplicateUpn = () => badRequest('Another object with the same value for property userPrincipalName already exists.');
const weakPassword = () => badRequest('The specified password does not comply with password complexity requirements. Please provide a different password.');
const upnPattern = /^[A-Za-z0-9'._!#^~-]+@[A-Za-z0-9.-]+$/;

/** Graph's password rule: 8 to 256 characters, three of upper, lower, digit, symbol. */
function checkPassword(password: string): void {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  if (password.length < 8 || classes < 3) throw weakPassword();
}

/** Properties whose change is a sensitive action of its own; every other property is an `update`. */
const sensitiveProperties: Partial<Record<keyof UserUpdateBody, SensitiveAction>> = {
  passwordProfile: 'password',
  accountEnabled: 'block',
  userPrincipalName: 'signInNames',
  mail: 'signInNames',
  otherMails: 'signInNames',
  identities: 'signInNames',
  businessPhones: 'signInNames',
  mobilePhone: 'signInNames',
};

/** The sensitive actions a PATCH body takes (src/auth/act-on-whom.ts decides on whom). */
function actionsOf(body: UserUpdateBody): SensitiveAction[] {
  return [...new Set(Object.keys(body).map((k) => sensitiveProperties[k as keyof UserUpdateBody] ?? 'update'))];
}

/** `/users/{key}` takes an id (GUID) or a userPrincipalName (with `#` sent as %23). */
export function userKey(key: string): { id?: string; upn?: string } {
  if (isGuid(key)) return { id: key.toLowerCase() };
  if (key.includes('@') && key.length <= 1024) return { upn: key };
  throw notFound(key);
}

export function createUsersService(deps: UsersDeps) {
  const { db, clock } = deps;

  async function tenantDomain(tenantId: string): Promise<string> {
    const t = await db.selectFrom('tenants').select('initial_domain').where('id', '=', tenantId).executeTakeFirstOrThrow();
    return t.initial_domain;
  }

  /** Guests see themselves; with the limited level also people they share a group with; with the member level, everyone. */
  async function guestMayRead(actor: Extract<Actor, { kind: 'user' }>, targetId: string): Promise<boolean> {
    if (actor.userId === targetId || actor.guestAccess === guestAccessLevels.sameAsMembers) return true;
    if (actor.guestAccess !== guestAccessLevels.limited) return false;
    const shared = await db
      .selectFrom('group_memberships as mine')
      .innerJoin('group_memberships as theirs', 'theirs.group_id', 'mine.group_id')
      .innerJoin('groups as g', 'g.id', 'mine.group_id')
      .select('mine.group_id')
      .where('mine.user_id', '=', actor.userId)
      .where('theirs.user_id', '=', targetId)
      .where('g.deleted_at', 'is', null)
      .limit(1)
      .executeTakeFirst();
    return Boolean(shared);
  }

  /** The live user the actor may read, or 404 (guests cannot tell hidden users from absent ones). */
  async function readableUser(actor: Actor, key: string): Promise<UserRow> {
    if (isGuest(actor)) {
      const row = await findUser(db, actor.tenantId, userKey(key));
      if (!row || !(await guestMayRead(actor, row.id))) throw notFound(key);
      return row;
    }
    requireAccess(actor, 'users.read');
    const row = await findUser(db, actor.tenantId, userKey(key));
    if (!row) throw notFound(key);
    return row;
  }

  function requireListAccess(actor: Actor): void {
    if (isGuest(actor)) {
      if (actor.guestAccess !== guestAccessLevels.sameAsMembers) throw forbidden();
      return;
    }
    requireAccess(actor, 'users.read');
  }

  /**
   * Whether the user is the only enabled, live Global Administrator: deleting or disabling them
   * would leave nobody able to assign roles. Counted inside the caller's transaction.
   */
  async function isLastActiveGlobalAdmin(trx: Kysely<Database>, tenantId: string, userId: string): Promise<boolean> {
    const admins = await trx
      .selectFrom('role_assignments as r')
      .innerJoin('users as u', 'u.id', 'r.user_id')
      .select('r.user_id')
      .where('r.tenant_id', '=', tenantId)
      .where('r.role_template_id', '=', globalAdministratorRoleId)
      .where('u.deleted_at', 'is', null)
      .where('u.account_enabled', '=', 1)
      .limit(2)
      .execute();
    return admins.length === 1 && admins[0]!.user_id === userId;
  }

  async function validateEmails(tenantId: string, body: { mail?: string | null; otherMails?: string[] }): Promise<void> {
    const addresses = [...(body.mail ? [['mail', body.mail]] : []), ...(body.otherMails ?? []).map((m) => ['otherMails', m])];
    if (addresses.length === 0) return;
    const ownDomains = [await tenantDomain(tenantId)];
    for (const [property, address] of addresses) {
      const problem = emailProblem(address!, ownDomains);
      if (problem) throw badRequest(`Invalid value specified for property '${property}' of resource 'User'. ${problem}`);
    }
  }

  async function validateUpn(tenantId: string, upn: string): Promise<void> {
    if (!upnPattern.test(upn) || upn.startsWith('.') || upn.split('@')[0]!.endsWith('.'))
      throw badRequest(`Invalid value specified for property 'userPrincipalName' of resource 'User'.`);
    const domain = upn.slice(upn.lastIndexOf('@') + 1).toLowerCase();
    if (domain !== (await tenantDomain(tenantId)))
      throw badRequest('The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.');
  }

  /** Fills `foyerInvitedBy.displayName` from the inviting person or API client (one query per kind for a whole page). */
  async function withInviterNames(tenantId: string, users: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    const refs = users.map((u) => u.foyerInvitedBy as { id: string; displayName: string | null } | null | undefined).filter((r) => r != null);
    if (refs.length === 0) return users;
    const ids = [...new Set(refs.map((r) => r.id))];
    const [people, clients] = await Promise.all([
      db.selectFrom('users').select(['id', 'display_name']).where('tenant_id', '=', tenantId).where('id', 'in', ids).execute(),
      db.selectFrom('api_clients').select(['id', 'display_name']).where('tenant_id', '=', tenantId).where('id', 'in', ids).execute(),
    ]);
    const names = new Map([...people, ...clients].map((r) => [r.id, r.display_name]));
    for (const r of refs) r.displayName = names.get(r.id) ?? null;
    return users;
  }

  /** One page of a parsed users query (filter, `$search`, order), continued after `position`. */
  async function fetchUsersPage(tenantId: string, q: ODataQuery, position: unknown[] | null) {
    const filtered = (query: AnyQuery) => (q.filter ? query.where(compileFilter(userEntity, q.filter, 'u', tenantId)) : query);
    const sortKey = q.orderBy?.column as keyof UserRow | undefined;
    const selected = userColumnsFor(q.select, sortKey ? [sortKey] : []);
    if (q.search && !q.orderBy) return searchUsersPage(db, tenantId, q.search, filtered, position, q.top, selected);
    let query = filtered(liveUsers(db, tenantId, selected));
    if (q.search) query = whereSearchMatches(query, tenantId, q.search);
    const columns = q.orderBy ? [`u.${q.orderBy.column}`, 'u.id'] : ['u.id'];
    return fetchKeysetPage<UserRow>(query, { columns, direction: q.orderBy?.direction ?? 'asc' }, position, q.top, (r) =>
      sortKey ? [r[sortKey], r.id] : [r.id],
    );
  }

  return {
    /**
     * Every user a list request would return, in its order, page after page without counting:
     * the streamed CSV export. Same access rule and query validation as `list`. `within` is a clause
     * the caller's `$filter` cannot leave: both are parsed apart and joined as syntax trees.
     */
    async *listAll(ctx: RequestContext, within?: FilterNode): AsyncGenerator<Record<string, unknown>[]> {
      requireListAccess(ctx.actor);
      const parsed = parseListQuery(userEntity, ctx);
      const filter: FilterNode | null = within && parsed.filter ? { kind: 'and', left: within, right: parsed.filter } : (within ?? parsed.filter);
      const q = { ...parsed, filter, top: 500 };
      let position: unknown[] | null = null;
      do {
        const page = await fetchUsersPage(ctx.actor.tenantId, q, position);
        yield await withInviterNames(
          ctx.actor.tenantId,
          page.rows.map((r) => toGraphUser(r, q.select)),
        );
        position = page.next;
      } while (position);
    },

    async list(ctx: RequestContext) {
      requireListAccess(ctx.actor);
      const q = parseListQuery(userEntity, ctx);
      const tenantId = ctx.actor.tenantId;
      const filtered = (query: AnyQuery) => (q.filter ? query.where(compileFilter(userEntity, q.filter, 'u', tenantId)) : query);
      const page = await fetchUsersPage(tenantId, q, positionFrom(deps.secret, q));

      let count: number | undefined;
      if (q.count) {
        let countQuery = filtered(db.selectFrom('users as u').where('u.tenant_id', '=', tenantId).where('u.deleted_at', 'is', null));
        if (q.search) countQuery = whereSearchMatches(countQuery, tenantId, q.search);
        const row = await countQuery.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
        count = Number(row.n);
      }
      return collectionEnvelope({
        baseUrl: ctx.baseUrl,
        context: 'users',
        select: q.explicitSelect ? q.select : null,
        value: await withInviterNames(
          tenantId,
          page.rows.map((r) => toGraphUser(r, q.select)),
        ),
        count,
        requestUrl: ctx.requestUrl,
        nextToken: nextTokenOf(deps.secret, q, page.next),
      });
    },

    /** `/users/$count`: needs `ConsistencyLevel: eventual`, like Graph. */
    async count(ctx: RequestContext): Promise<number> {
      if ((ctx.consistencyLevel ?? '').toLowerCase() !== 'eventual') throw badRequest('$count is not currently supported.');
      requireListAccess(ctx.actor);
      const q = parseListQuery(userEntity, { ...ctx, query: { ...ctx.query, $count: 'true' } });
      let query: AnyQuery = db.selectFrom('users as u').where('u.tenant_id', '=', ctx.actor.tenantId).where('u.deleted_at', 'is', null);
      if (q.filter) query = query.where(compileFilter(userEntity, q.filter, 'u', ctx.actor.tenantId));
      if (q.search) query = whereSearchMatches(query, ctx.actor.tenantId, q.search);
      const row = await query.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async get(ctx: RequestContext, key: string) {
      const row = await readableUser(ctx.actor, key);
      const { select, explicitSelect } = parseSelect(userEntity, ctx.query.$select as string | undefined);
      const [user] = await withInviterNames(ctx.actor.tenantId, [toGraphUser(row, select)]);
      return {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#users${explicitSelect ? `(${select.join(',')})` : ''}/$entity`,
        ...user,
      };
    },

    /** `GET /users/{id}/sponsors`: the users and groups responsible for a guest, as directory objects. */
    async sponsors(ctx: RequestContext, key: string) {
      const row = await readableUser(ctx.actor, key);
      const links = await db.selectFrom('user_sponsors').select(['sponsor_id', 'sponsor_type']).where('user_id', '=', row.id).execute();
      const userIds = links.filter((l) => l.sponsor_type === 'user').map((l) => l.sponsor_id);
      const groupIds = links.filter((l) => l.sponsor_type === 'group').map((l) => l.sponsor_id);
      const [people, groups] = await Promise.all([
        userIds.length
          ? db
              .selectFrom('users')
              .select(['id', 'display_name', 'mail', 'user_principal_name'])
              .where('id', 'in', userIds)
              .where('deleted_at', 'is', null)
              .execute()
          : [],
        groupIds.length
          ? db.selectFrom('groups').select(['id', 'display_name', 'mail']).where('id', 'in', groupIds).where('deleted_at', 'is', null).execute()
          : [],
      ]);
      return {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#directoryObjects`,
        value: [
          ...people.map((p) => ({
            '@odata.type': '#microsoft.graph.user',
            id: p.id,
            displayName: p.display_name,
            mail: p.mail,
            userPrincipalName: p.user_principal_name,
          })),
          ...groups.map((g) => ({ '@odata.type': '#microsoft.graph.group', id: g.id, displayName: g.display_name, mail: g.mail })),
        ],
      };
    },

    async me(ctx: RequestContext) {
      if (ctx.actor.kind !== 'user') throw badRequest('/me request is only valid with delegated authentication flow.');
      return this.get(ctx, ctx.actor.userId);
    },

    async create(ctx: RequestContext, body: UserCreateBody) {
      requireAccess(ctx.actor, 'users.write');
      const tenantId = ctx.actor.tenantId;
      await validateUpn(tenantId, body.userPrincipalName);
      await validateEmails(tenantId, body);
      checkPassword(body.passwordProfile.password);
      const now = clock.now().toISOString();
      const row = buildUserRow(
        {
          tenantId,
          displayName: body.displayName,
          userPrincipalName: body.userPrincipalName,
          mailNickname: body.mailNickname,
          userType: body.userType ?? 'Member',
          accountEnabled: body.accountEnabled,
          createdAt: now,
          mail: body.mail,
          givenName: body.givenName,
          surname: body.surname,
          otherMails: body.otherMails,
          businessPhones: body.businessPhones,
          identities: body.identities ?? [{ signInType: 'userPrincipalName', issuer: await tenantDomain(tenantId), issuerAssignedId: body.userPrincipalName }],
          passwordHash: await hashPassword(body.passwordProfile.password),
        },
        {
          company_name: body.companyName ?? null,
          job_title: body.jobTitle ?? null,
          department: body.department ?? null,
          preferred_language: body.preferredLanguage ?? null,
          mobile_phone: body.mobilePhone ?? null,
          office_location: body.officeLocation ?? null,
        },
      );
      try {
        await db.transaction().execute(async (trx) => {
          await insertUser(trx, row);
          const { passwordProfile: _omit, ...audited } = body;
          await recordAudit(
            trx,
            ctx.actor,
            {
              activity: 'Add user',
              category: 'UserManagement',
              operationType: 'Add',
              targets: [
                {
                  id: row.id,
                  displayName: row.display_name,
                  type: 'User',
                  userPrincipalName: row.user_principal_name,
                  modifiedProperties: diffProperties({}, audited),
                },
              ],
            },
            ctx.correlationId,
            now,
          );
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw duplicateUpn();
        throw error;
      }
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#users/$entity`, ...toGraphUser(row, userEntity.defaultProperties) };
    },

    async update(ctx: RequestContext, key: string, body: UserUpdateBody): Promise<void> {
      const actions = actionsOf(body);
      for (const action of actions) requireAccess(ctx.actor, action === 'password' ? 'users.resetPassword' : 'users.write');
      const before = await findUser(db, ctx.actor.tenantId, userKey(key));
      if (!before) throw notFound(key);
      if (body.userPrincipalName !== undefined) await validateUpn(ctx.actor.tenantId, body.userPrincipalName);
      await validateEmails(ctx.actor.tenantId, body);
      if (body.passwordProfile) checkPassword(body.passwordProfile.password);

      const changes: Partial<UserRow> = {};
      const text = (v: string | null | undefined) => (v === undefined ? undefined : v);
      const set = <K extends keyof UserRow>(k: K, v: UserRow[K] | undefined) => {
        if (v !== undefined) changes[k] = v;
      };
      set('display_name', body.displayName);
      set('display_name_lower', body.displayName?.toLowerCase());
      set('given_name', text(body.givenName));
      if (body.givenName !== undefined) changes.given_name_lower = body.givenName?.toLowerCase() ?? null;
      set('surname', text(body.surname));
      if (body.surname !== undefined) changes.surname_lower = body.surname?.toLowerCase() ?? null;
      set('mail', text(body.mail));
      if (body.mail !== undefined) changes.mail_lower = body.mail?.toLowerCase() ?? null;
      if (body.otherMails) changes.other_mails = JSON.stringify(body.otherMails);
      set('user_principal_name', body.userPrincipalName);
      set('user_principal_name_lower', body.userPrincipalName?.toLowerCase());
      set('mail_nickname', body.mailNickname);
      set('user_type', body.userType);
      if (body.accountEnabled !== undefined) changes.account_enabled = body.accountEnabled ? 1 : 0;
      set('company_name', text(body.companyName));
      set('job_title', text(body.jobTitle));
      set('department', text(body.department));
      set('preferred_language', text(body.preferredLanguage));
      set('mobile_phone', text(body.mobilePhone));
      set('office_location', text(body.officeLocation));
      if (body.businessPhones) changes.business_phones = JSON.stringify(body.businessPhones);
      if (body.identities) changes.identities = JSON.stringify(body.identities);
      if (body.passwordProfile) changes.password_hash = await hashPassword(body.passwordProfile.password);

      const now = clock.now().toISOString();
      const { passwordProfile, '@odata.type': _t, ...audited } = body;
      const beforeGraph = toGraphUser(before, Object.keys(audited));
      try {
        await db.transaction().execute(async (trx) => {
          // Inside the transaction, so the target's roles are read as the change commits.
          await requireMayActOn(trx, ctx.actor, actions, before.id);
          if (body.accountEnabled === false && (await isLastActiveGlobalAdmin(trx, ctx.actor.tenantId, before.id)))
            throw badRequest('The last enabled Global Administrator of the organization cannot be disabled.');
          await updateUser(trx, before, changes);
          // Disabling an account or changing its password ends its sessions, as Entra revokes refresh tokens.
          if (body.accountEnabled === false || passwordProfile)
            await trx.updateTable('sessions').set({ revoked_at: now }).where('user_id', '=', before.id).where('revoked_at', 'is', null).execute();
          const modified = diffProperties(beforeGraph, audited);
          if (passwordProfile) modified.push({ displayName: 'passwordProfile', oldValue: null, newValue: '"(changed)"' });
          await recordAudit(
            trx,
            ctx.actor,
            {
              activity: 'Update user',
              category: 'UserManagement',
              operationType: 'Update',
              targets: [
                {
                  id: before.id,
                  displayName: body.displayName ?? before.display_name,
                  type: 'User',
                  userPrincipalName: body.userPrincipalName ?? before.user_principal_name,
                  modifiedProperties: modified,
                },
              ],
            },
            ctx.correlationId,
            now,
          );
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw duplicateUpn();
        throw error;
      }
    },

    /** Soft delete: the user moves to deleted items with memberships kept for a restore. */
    async delete(ctx: RequestContext, key: string): Promise<void> {
      requireAccess(ctx.actor, 'users.write');
      const row = await findUser(db, ctx.actor.tenantId, userKey(key));
      if (!row) throw notFound(key);
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        await requireMayActOn(trx, ctx.actor, ['delete'], row.id);
        if (await isLastActiveGlobalAdmin(trx, ctx.actor.tenantId, row.id))
          throw badRequest('The last Global Administrator of the organization cannot be deleted.');
        await trx.updateTable('users').set({ deleted_at: now }).where('id', '=', row.id).where('deleted_at', 'is', null).execute();
        await trx.updateTable('sessions').set({ revoked_at: now }).where('user_id', '=', row.id).where('revoked_at', 'is', null).execute();
        await recordAudit(
          trx,
          ctx.actor,
          {
            activity: row.user_type === 'Guest' ? 'Delete external user' : 'Delete user',
            category: 'UserManagement',
            operationType: 'Delete',
            targets: [{ id: row.id, displayName: row.display_name, type: 'User', userPrincipalName: row.user_principal_name }],
          },
          ctx.correlationId,
          now,
        );
      });
    },

    readableUser,
  };
}
export type UsersService = ReturnType<typeof createUsersService>;
