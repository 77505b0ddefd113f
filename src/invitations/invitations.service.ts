import type { Kysely, Selectable } from 'kysely';
import type { Database, InvitationsTable } from '../db/schema.js';
import type { Transact } from '../db/group-commit.js';
import type { Engine } from '../db/database.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import type { EntityDefinition } from '../graph/entity.js';
import { badRequest, forbidden, notFound } from '../graph/errors.js';
import { compileFilter, parseListQuery } from '../graph/odata-query.js';
import { collectionEnvelope, fetchKeysetPage, nextTokenOf, positionFrom, type AnyQuery } from '../graph/list.js';
import { recordAudit } from '../audit/audit.service.js';
import { can, isGuest, type Actor } from '../auth/permissions.js';
import { requireMayActOn } from '../auth/act-on-whom.js';
import { hashToken } from '../auth/secrets.js';
import { isUniqueViolation } from '../db/errors.js';
import { insertMany } from '../db/bulk-insert.js';
import { isGuid, newId } from '../ids.js';
import { hitRateLimit } from '../http/rate-limit.js';
import { emailDomain, emailProblem } from '../directory/email.js';
import { buildUserRow } from '../directory/user-row.js';
import { findLiveUsers, insertUser, updateUser, type UserRow } from '../directory/users.repository.js';
import { addRelations, existingRelations, findGroup } from '../directory/groups.repository.js';
import { findTenant, type Tenant } from '../tenancy/tenants.service.js';
import { queueMail } from '../mail/mail-queue.js';
import { invitationMessage, invitationToken, redeemLink } from './invitation-mail.js';
import { domainAllowed, domainBlocked } from './collaboration-policy.js';
import type { FoyerInvitationBody } from './invitations.schemas.js';
import type { AssignmentsService } from '../apps/assignments.service.js';

export type InvitationRow = Selectable<InvitationsTable>;
export type InvitationSource = 'directory' | 'bulk' | 'teams' | 'sharepoint' | 'api';

export interface InvitationSettings {
  /** How long a redeem link stays valid (FOYER_INVITE_TTL_DAYS). */
  inviteTtlDays: number;
  /** Invitations per inviter (person or client) per minute; 0 turns the limit off. */
  invitesPerMinute: number;
  mailFrom: string;
}

const notAllowed = () => forbidden('Guest invitations not allowed for your company.');

/** A guest's sign-in name and mail nickname, as Entra makes them: ana_partner.test#EXT#@contoso.test. */
export function guestUpn(email: string, domain: string) {
  const local = `${email.replace('@', '_')}#EXT#`;
  return { userPrincipalName: `${local}@${domain}`, mailNickname: local };
}

/** `GET /v1.0/foyer/invitations` filters. */
export const invitationEntity: EntityDefinition = {
  type: 'foyerInvitation',
  entitySet: 'foyer/invitations',
  properties: [
    'id',
    'invitedUserEmailAddress',
    'invitedUserDisplayName',
    'invitedUser',
    'status',
    'source',
    'invitedBy',
    'createdDateTime',
    'lastSentDateTime',
    'sendCount',
    'deliveryState',
    'inviteRedirectUrl',
    'expirationDateTime',
  ],
  defaultProperties: [
    'id',
    'invitedUserEmailAddress',
    'invitedUserDisplayName',
    'invitedUser',
    'status',
    'source',
    'invitedBy',
    'createdDateTime',
    'lastSentDateTime',
    'sendCount',
    'deliveryState',
    'inviteRedirectUrl',
    'expirationDateTime',
  ],
  filterable: {
    status: { column: 'status', type: 'enum', values: ['PendingAcceptance', 'Accepted', 'Revoked'] },
    source: { column: 'source', type: 'enum', values: ['directory', 'bulk', 'teams', 'sharepoint', 'api'] },
    invitedUserEmailAddress: { column: 'invited_email_lower', type: 'string', caseInsensitive: true, startsWith: true },
    'invitedUser/id': { column: 'user_id', type: 'guid' },
    'invitedBy/id': { column: 'inviter_id', type: 'guid' },
    createdDateTime: { column: 'created_at', type: 'datetime' },
  },
  sortable: { createdDateTime: 'created_at' },
  keyColumn: 'id',
  searchable: [],
  advancedQueryGating: false,
};

/** `allowInvitesFrom`: none (nobody), admins and Guest Inviters, plus members, plus guests (everyone). */
export function requireMayInvite(tenant: Tenant, actor: Actor): void {
  const policy = tenant.authorizationPolicy;
  if (policy.allowInvitesFrom === 'none') throw notAllowed();
  if (actor.kind === 'app') {
    if (!can(actor, 'users.invite')) throw forbidden();
    return;
  }
  if (can(actor, 'users.invite')) return; // Global Administrator, User Administrator, Guest Inviter
  if (actor.userType === 'Member' && (policy.allowInvitesFrom === 'adminsGuestInvitersAndAllMembers' || policy.allowInvitesFrom === 'everyone')) return;
  if (actor.userType === 'Guest' && policy.allowInvitesFrom === 'everyone') return;
  throw notAllowed();
}

/** A new pending invitation of `email` for the user `userId`, its link valid until `expiresAt`. */
export function newInvitationRow(a: {
  id: string;
  actor: Actor;
  inviterEmail: string | null;
  userId: string;
  email: string;
  redirectUrl: string;
  message: string | null;
  language: string | null;
  cc: { address: string }[];
  send: boolean;
  source: InvitationSource;
  token: string;
  expiresAt: string;
  resetRedemption: boolean;
  now: string;
}): InvitationRow {
  return {
    tenant_id: a.actor.tenantId,
    id: a.id,
    user_id: a.userId,
    invited_email: a.email,
    invited_email_lower: a.email.toLowerCase(),
    inviter_id: a.actor.kind === 'app' ? a.actor.clientId : a.actor.userId,
    inviter_type: a.actor.kind,
    inviter_display_name: a.actor.displayName,
    inviter_email: a.inviterEmail,
    redirect_url: a.redirectUrl,
    message_body: a.message,
    message_language: a.language,
    cc_recipients: JSON.stringify(a.cc),
    send_message: a.send ? 1 : 0,
    source: a.source,
    status: 'PendingAcceptance',
    token_hash: hashToken(a.token),
    token_expires_at: a.expiresAt,
    reset_redemption: a.resetRedemption ? 1 : 0,
    created_at: a.now,
    last_sent_at: a.send ? a.now : null,
    send_count: a.send ? 1 : 0,
    delivery_state: a.send ? 'queued' : 'notRequested',
    accepted_at: null,
    revoked_at: null,
  };
}

export function createInvitationsService(deps: {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  secret: string;
  settings: InvitationSettings;
  /** Invitations are the hot write path: they commit through the group-commit runner. */
  transact: Transact;
  /** Gives invited guests access to applications (`apps` of the Foyer invitation). */
  apps?: Pick<AssignmentsService, 'resolveForInvite' | 'assignInvitedGuest'>;
}) {
  const { db, clock, settings } = deps;

  const redeemUrl = (ctx: RequestContext, token: string) => redeemLink(ctx.baseUrl, token);

  function shapeGraphInvitation(ctx: RequestContext, inv: InvitationRow, user: UserRow, token: string, body: FoyerInvitationBody, sponsors: { id: string }[]) {
    return {
      '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#invitations/$entity`,
      id: inv.id,
      inviteRedeemUrl: redeemUrl(ctx, token),
      invitedUserDisplayName: user.display_name,
      invitedUserType: user.user_type,
      invitedUserEmailAddress: inv.invited_email,
      sendInvitationMessage: Boolean(inv.send_message),
      resetRedemption: Boolean(inv.reset_redemption),
      inviteRedirectUrl: inv.redirect_url,
      status: 'PendingAcceptance',
      invitedUserMessageInfo: {
        messageLanguage: body.invitedUserMessageInfo?.messageLanguage ?? null,
        customizedMessageBody: body.invitedUserMessageInfo?.customizedMessageBody ?? null,
        ccRecipients: body.invitedUserMessageInfo?.ccRecipients ?? [],
      },
      invitedUser: { id: user.id, userPrincipalName: user.user_principal_name },
      invitedUserSponsors: sponsors,
    };
  }

  function shapeFoyerInvitation(
    ctx: RequestContext,
    inv: InvitationRow & { user_principal_name?: string | null; display_name?: string | null },
    token?: string,
  ) {
    const expired = inv.status === 'PendingAcceptance' && inv.token_expires_at <= clock.now().toISOString();
    return {
      id: inv.id,
      invitedUserEmailAddress: inv.invited_email,
      invitedUserDisplayName: inv.display_name ?? null,
      invitedUser: { id: inv.user_id, userPrincipalName: inv.user_principal_name ?? null },
      status: expired ? 'Expired' : inv.status,
      source: inv.source,
      invitedBy: { id: inv.inviter_id, displayName: inv.inviter_display_name, type: inv.inviter_type },
      createdDateTime: inv.created_at,
      lastSentDateTime: inv.last_sent_at,
      sendCount: inv.send_count,
      deliveryState: inv.delivery_state,
      inviteRedirectUrl: inv.redirect_url,
      expirationDateTime: inv.token_expires_at,
      ...(token ? { inviteRedeemUrl: redeemUrl(ctx, token) } : {}),
    };
  }

  async function queueInvitationMail(trx: Kysely<Database>, ctx: RequestContext, inv: InvitationRow, user: UserRow, now: string) {
    await queueMail(trx, invitationMessage({ baseUrl: ctx.baseUrl, invitation: inv, user, mailFrom: settings.mailFrom }), now);
  }

  /**
   * Sponsors: up to five users or groups; by default the member who invites. A guest who may
   * invite is never a sponsor and names none: sponsors answer for a guest inside the
   * organization, and naming one would tell the guest which ids exist.
   */
  async function resolveSponsors(trx: Kysely<Database>, actor: Actor, refs: { id: string }[] | undefined) {
    if (actor.kind === 'user' && actor.userType === 'Guest') {
      if (refs?.length) throw forbidden('Guests cannot choose sponsors.');
      return [];
    }
    if (!refs || refs.length === 0) return actor.kind === 'user' ? [{ id: actor.userId, type: 'user' as const }] : [];
    const out: { id: string; type: 'user' | 'group' }[] = [];
    for (const r of refs) {
      if (!isGuid(r.id)) throw badRequest(`Invalid sponsor id '${r.id}'.`);
      const id = r.id.toLowerCase();
      if ((await findLiveUsers(trx, actor.tenantId, [id])).length) out.push({ id, type: 'user' });
      else if (await findGroup(trx, actor.tenantId, id)) out.push({ id, type: 'group' });
      else throw notFound(r.id);
    }
    return out;
  }

  /** Groups the new guest joins: each must exist and be one the inviter may add members to. */
  async function resolveGroups(trx: Kysely<Database>, actor: Actor, ids: string[] | undefined) {
    const groups = [];
    for (const raw of new Set(ids ?? [])) {
      if (!isGuid(raw)) throw notFound(raw);
      const group = await findGroup(trx, actor.tenantId, raw.toLowerCase());
      if (!group) throw notFound(raw);
      if (
        !can(actor, 'groups.write') &&
        !(actor.kind === 'user' && actor.userType === 'Member' && (await existingRelations(trx, group.id, 'owner', [actor.userId])).length)
      )
        throw forbidden(`You cannot add members to the group '${group.display_name}'.`);
      groups.push(group);
    }
    return groups;
  }

  async function inviterEmail(trx: Kysely<Database>, actor: Actor): Promise<string | null> {
    if (actor.kind !== 'user') return null;
    const u = await trx.selectFrom('users').select(['mail', 'user_principal_name']).where('id', '=', actor.userId).executeTakeFirst();
    return u?.mail ?? u?.user_principal_name ?? null;
  }

  /** Finds the live user an address belongs to: by mail, otherMails, or (members) sign-in name. */
  async function userByEmail(trx: Kysely<Database>, tenantId: string, emailLower: string): Promise<UserRow | undefined> {
    // A union of three index lookups: an OR here would make both planners scan the tenant's users.
    const live = (col: 'mail_lower' | 'user_principal_name_lower') =>
      trx.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where(col, '=', emailLower).where('deleted_at', 'is', null);
    const ids = live('mail_lower')
      .union(live('user_principal_name_lower'))
      .union(trx.selectFrom('user_other_mails').select('user_id as id').where('tenant_id', '=', tenantId).where('address_lower', '=', emailLower));
    const rows = await trx.selectFrom('users as u').selectAll('u').where('u.id', 'in', ids).where('u.deleted_at', 'is', null).execute();
    return rows.sort((a, b) => a.created_at.localeCompare(b.created_at))[0];
  }

  /** The user as an invitation that created it would show it: the name and sign-in name come from what the inviter sent. */
  function asNewGuest(user: UserRow, body: FoyerInvitationBody, emailLower: string, domain: string): UserRow {
    const email = body.invitedUserEmailAddress.trim();
    const displayName = body.invitedUserDisplayName?.trim() || email.split('@')[0]!;
    return { ...user, display_name: displayName, user_type: 'Guest', user_principal_name: guestUpn(emailLower, domain).userPrincipalName };
  }

  async function inviteOnce(ctx: RequestContext, body: FoyerInvitationBody, source: InvitationSource) {
    const actor = ctx.actor;
    const email = body.invitedUserEmailAddress.trim();
    const emailLower = email.toLowerCase();
    let redirect: URL;
    try {
      redirect = new URL(body.inviteRedirectUrl);
      if (redirect.protocol !== 'https:' && redirect.protocol !== 'http:') throw new Error();
    } catch {
      throw badRequest(`The inviteRedirectUrl '${body.inviteRedirectUrl}' must be an absolute http or https URL.`);
    }
    const userType = body.invitedUserType?.toLowerCase() === 'member' ? 'Member' : 'Guest';
    if (userType === 'Member' && !can(actor, 'users.write')) throw forbidden('Only administrators can invite users as members.');
    const cc = body.invitedUserMessageInfo?.ccRecipients?.map((r) => r.emailAddress) ?? [];
    for (const c of cc) {
      const ccProblem = emailProblem(c.address);
      if (ccProblem) throw badRequest(ccProblem);
    }
    const now = clock.now().toISOString();
    const invitationId = newId();
    const token = invitationToken(deps.secret, invitationId, body.sendInvitationMessage === true ? 1 : 0);

    return deps.transact(async (trx) => {
      // One read of the organization serves the policy checks, the UPN and the email.
      const tenant = (await findTenant(trx, actor.tenantId))!;
      // Checked before anything is read by the address: an address that folds onto another one would find that guest.
      const problem = emailProblem(email, [tenant.initialDomain]);
      if (problem) throw badRequest(problem);
      requireMayInvite(tenant, actor);
      if (
        await trx
          .selectFrom('blocked_invitees')
          .select('email_lower')
          .where('tenant_id', '=', actor.tenantId)
          .where('email_lower', '=', emailLower)
          .executeTakeFirst()
      )
        throw badRequest(`'${email}' has chosen not to receive invitations from this organization.`);
      if (!domainAllowed(tenant.collaborationPolicy, emailDomain(email))) throw domainBlocked(emailDomain(email));
      await hitRateLimit(trx, clock, {
        bucket: `invite:${actor.kind === 'app' ? actor.clientId : actor.userId}`,
        limit: settings.invitesPerMinute,
        windowSeconds: 60,
      });

      let user: UserRow;
      let created = false;
      let activity = 'Invite external user';
      if (body.resetRedemption) {
        // Reset: the same user (id, groups, apps) redeems again with the address given.
        if (!body.invitedUser?.id || !isGuid(body.invitedUser.id)) throw badRequest('resetRedemption needs invitedUser with the id of the user to reset.');
        if (!can(actor, 'users.resetRedemption')) throw forbidden('Only administrators can reset redemption.');
        const [existing] = await findLiveUsers(trx, actor.tenantId, [body.invitedUser.id.toLowerCase()]);
        if (!existing) throw notFound(body.invitedUser.id);
        await requireMayActOn(trx, actor, ['redemption'], existing.id);
        // Redemption is how external users sign in; a member's sign-in is not reset this way.
        if (existing.user_type !== 'Guest' && existing.creation_type !== 'Invitation')
          throw badRequest(`Redemption can be reset only for external users; '${body.invitedUser.id}' is a member of this organization.`);
        const addresses = [existing.mail_lower, ...(JSON.parse(existing.other_mails) as string[]).map((m) => m.toLowerCase())];
        if (!addresses.includes(emailLower))
          throw badRequest(
            "The email you're using to invite this user doesn't match any emails on the user object. Please add this email to the user object and try again.",
          );
        // consented_at stays: consent is asked once, so a guest who gave it goes straight to the code.
        user = await updateUser(trx, existing, {
          external_user_state: 'PendingAcceptance',
          external_user_state_changed_at: now,
          creation_type: 'Invitation',
          identities: JSON.stringify([{ signInType: 'userPrincipalName', issuer: tenant.initialDomain, issuerAssignedId: existing.user_principal_name }]),
        });
        await trx.updateTable('sessions').set({ revoked_at: now }).where('user_id', '=', user.id).where('revoked_at', 'is', null).execute();
        activity = 'Invite external user with reset invitation status';
      } else {
        const existing = await userByEmail(trx, actor.tenantId, emailLower);
        if (existing && existing.user_type === 'Member' && existing.creation_type !== 'Invitation')
          // A guest is not told whose address it is: it may not be allowed to read that user.
          throw badRequest(
            isGuest(actor) ? `'${email}' cannot be invited.` : `'${email}' already belongs to a member of this organization; members cannot be invited.`,
          );
        if (existing) {
          user = existing;
        } else {
          const { userPrincipalName, mailNickname } = guestUpn(emailLower, tenant.initialDomain);
          user = buildUserRow(
            {
              tenantId: actor.tenantId,
              displayName: body.invitedUserDisplayName?.trim() || email.split('@')[0]!,
              userPrincipalName,
              mailNickname,
              userType,
              createdAt: now,
              mail: email,
              identities: [{ signInType: 'userPrincipalName', issuer: tenant.initialDomain, issuerAssignedId: userPrincipalName }],
            },
            {
              creation_type: 'Invitation',
              external_user_state: 'PendingAcceptance',
              external_user_state_changed_at: now,
              source,
              invited_by: actor.kind === 'app' ? actor.clientId : actor.userId,
            },
          );
          await insertUser(trx, user);
          created = true;
        }
      }

      const sponsors = await resolveSponsors(trx, actor, body.invitedUserSponsors);
      for (const s of sponsors)
        await trx
          .insertInto('user_sponsors')
          .values({ tenant_id: actor.tenantId, user_id: user.id, sponsor_id: s.id, sponsor_type: s.type })
          .onConflict((oc) => oc.doNothing())
          .execute();
      const groups = await resolveGroups(trx, actor, body.groups);
      for (const g of groups) {
        if ((await existingRelations(trx, g.id, 'member', [user.id])).length) continue;
        await addRelations(trx, actor.tenantId, g.id, 'member', [user.id], now);
        await recordAudit(
          trx,
          actor,
          {
            activity: 'Add member to group',
            category: 'GroupManagement',
            operationType: 'Assign',
            targets: [
              { id: user.id, displayName: user.display_name, type: 'User', userPrincipalName: user.user_principal_name },
              { id: g.id, displayName: g.display_name, type: 'Group' },
            ],
          },
          ctx.correlationId,
          now,
        );
      }

      const apps = deps.apps
        ? await deps.apps.assignInvitedGuest(trx, actor, user, await deps.apps.resolveForInvite(trx, actor, body.apps), ctx.correlationId, now)
        : [];

      // A re-invitation or a reset replaces any pending link: one valid link per guest. (A guest
      // created just now has no earlier invitation.)
      if (!created)
        await trx
          .updateTable('invitations')
          .set({ status: 'Revoked', revoked_at: now })
          .where('user_id', '=', user.id)
          .where('status', '=', 'PendingAcceptance')
          .execute();
      const send = body.sendInvitationMessage === true;
      const invitation = newInvitationRow({
        id: invitationId,
        actor,
        inviterEmail: await inviterEmail(trx, actor),
        userId: user.id,
        email,
        redirectUrl: redirect.toString(),
        message: body.invitedUserMessageInfo?.customizedMessageBody ?? null,
        language: body.invitedUserMessageInfo?.messageLanguage ?? null,
        cc,
        send,
        source,
        token,
        expiresAt: new Date(clock.now().getTime() + settings.inviteTtlDays * 86_400_000).toISOString(),
        resetRedemption: body.resetRedemption === true,
        now,
      });
      await insertMany(trx, 'invitations', [invitation]);
      await recordAudit(
        trx,
        actor,
        {
          activity,
          category: 'UserManagement',
          operationType: 'Add',
          targets: [
            {
              id: user.id,
              displayName: user.display_name,
              type: 'User',
              userPrincipalName: user.user_principal_name,
              modifiedProperties: [{ displayName: 'invitedUserEmailAddress', oldValue: null, newValue: JSON.stringify(email) }],
            },
          ],
        },
        ctx.correlationId,
        now,
      );
      if (send) await queueInvitationMail(trx, ctx, invitation, user, now);
      // A guest who invites sees the invited user as a new guest would be, whether or not the
      // address already had one: what else is stored about that user is for those who may read it.
      const shown = isGuest(actor) && !created ? asNewGuest(user, body, emailLower, tenant.initialDomain) : user;
      return { invitation, user: shown, token, sponsors: sponsors.map((s) => ({ id: s.id })), groups, apps };
    });
  }

  /**
   * Invites a guest (or re-invites one): user, invitation, sponsors, groups, audit and the queued
   * email in one transaction. Twenty concurrent invitations of one address make one user: the
   * loser of the race on the unique sign-in name retries and finds the winner's user.
   */
  async function invite(ctx: RequestContext, body: FoyerInvitationBody, source: InvitationSource) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await inviteOnce(ctx, body, source);
      } catch (error) {
        if (attempt < 5 && isUniqueViolation(error)) continue;
        throw error;
      }
    }
  }

  async function findInvitation(tenantId: string, id: string): Promise<InvitationRow> {
    const row = isGuid(id)
      ? await db.selectFrom('invitations').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst()
      : undefined;
    if (!row) throw notFound(id);
    return row;
  }

  /** Administrators and Guest Inviters manage every invitation; other people only their own. */
  function requireManage(actor: Actor, inv: InvitationRow) {
    if (can(actor, 'users.invite')) return;
    if (actor.kind === 'user' && actor.userId === inv.inviter_id && !isGuest(actor)) return;
    throw forbidden();
  }

  return {
    invite,

    /** POST /v1.0/invitations (Graph). */
    async createGraphInvitation(ctx: RequestContext, body: FoyerInvitationBody) {
      const r = await invite(ctx, body, ctx.actor.kind === 'app' ? 'api' : 'directory');
      return shapeGraphInvitation(ctx, r.invitation, r.user, r.token, body, r.sponsors);
    },

    /** POST /v1.0/foyer/invitations: Graph's body plus groups; answers Foyer's invitation view with the redeem link. */
    async createFoyerInvitation(ctx: RequestContext, body: FoyerInvitationBody) {
      const r = await invite(ctx, body, ctx.actor.kind === 'app' ? 'api' : 'directory');
      return {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#foyer/invitations/$entity`,
        ...shapeFoyerInvitation(ctx, { ...r.invitation, user_principal_name: r.user.user_principal_name, display_name: r.user.display_name }, r.token),
        groups: r.groups.map((g) => ({ id: g.id, displayName: g.display_name })),
        apps: r.apps,
      };
    },

    async list(ctx: RequestContext) {
      if (!can(ctx.actor, 'users.invite') && !can(ctx.actor, 'users.read')) throw forbidden();
      if (isGuest(ctx.actor)) throw forbidden();
      const q = parseListQuery(invitationEntity, ctx);
      let query: AnyQuery = db
        .selectFrom('invitations as i')
        .innerJoin('users as u', 'u.id', 'i.user_id')
        .selectAll('i')
        .select(['u.user_principal_name', 'u.display_name'])
        .where('i.tenant_id', '=', ctx.actor.tenantId);
      if (q.filter) query = query.where(compileFilter(invitationEntity, q.filter, 'i', ctx.actor.tenantId));
      const page = await fetchKeysetPage<InvitationRow & { user_principal_name: string; display_name: string }>(
        query,
        { columns: ['i.created_at', 'i.id'], direction: q.orderBy?.direction ?? 'desc' },
        positionFrom(deps.secret, q),
        q.top,
        (r) => [r.created_at, r.id],
      );
      return collectionEnvelope({
        baseUrl: ctx.baseUrl,
        context: 'foyer/invitations',
        value: page.rows.map((r) => shapeFoyerInvitation(ctx, r)),
        requestUrl: ctx.requestUrl,
        nextToken: nextTokenOf(deps.secret, q, page.next),
      });
    },

    async get(ctx: RequestContext, id: string) {
      const inv = await findInvitation(ctx.actor.tenantId, id);
      requireManage(ctx.actor, inv);
      const user = await db.selectFrom('users').select(['user_principal_name', 'display_name']).where('id', '=', inv.user_id).executeTakeFirst();
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#foyer/invitations/$entity`, ...shapeFoyerInvitation(ctx, { ...inv, ...user }) };
    },

    /** A new link (the old one stops working) and the email again. */
    async resend(ctx: RequestContext, id: string) {
      const inv = await findInvitation(ctx.actor.tenantId, id);
      requireManage(ctx.actor, inv);
      if (inv.status !== 'PendingAcceptance')
        throw badRequest(`The invitation is ${inv.status === 'Accepted' ? 'already accepted' : 'revoked'}; invite the address again instead.`);
      const now = clock.now().toISOString();
      const { updated, token } = await db.transaction().execute(async (trx) => {
        await hitRateLimit(trx, clock, {
          bucket: `invite:${ctx.actor.kind === 'app' ? ctx.actor.clientId : ctx.actor.userId}`,
          limit: settings.invitesPerMinute,
          windowSeconds: 60,
        });
        // Counted in the update itself: parallel resends each get their own number, and so their own link.
        const counted = await trx
          .updateTable('invitations')
          .set((eb) => ({ send_count: eb('send_count', '+', 1) }))
          .where('id', '=', inv.id)
          .where('status', '=', 'PendingAcceptance')
          .returning('send_count')
          .executeTakeFirst();
        if (!counted) throw badRequest('The invitation is no longer pending.');
        const token = invitationToken(deps.secret, inv.id, counted.send_count);
        const changes = {
          token_hash: hashToken(token),
          token_expires_at: new Date(clock.now().getTime() + settings.inviteTtlDays * 86_400_000).toISOString(),
          last_sent_at: now,
          send_count: counted.send_count,
          send_message: 1 as const,
          delivery_state: 'queued',
        };
        await trx.updateTable('invitations').set(changes).where('id', '=', inv.id).execute();
        const user = (await trx.selectFrom('users').selectAll().where('id', '=', inv.user_id).executeTakeFirstOrThrow()) as UserRow;
        const next = { ...inv, ...changes };
        await queueInvitationMail(trx, ctx, next, user, now);
        await recordAudit(
          trx,
          ctx.actor,
          {
            activity: 'Resend external user invitation',
            category: 'UserManagement',
            operationType: 'Update',
            targets: [{ id: user.id, displayName: user.display_name, type: 'User', userPrincipalName: user.user_principal_name }],
          },
          ctx.correlationId,
          now,
        );
        return { updated: { ...next, user_principal_name: user.user_principal_name, display_name: user.display_name }, token };
      });
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#foyer/invitations/$entity`, ...shapeFoyerInvitation(ctx, updated, token) };
    },

    /** The link stops working; the guest stays in the directory (delete it to remove access). */
    async revoke(ctx: RequestContext, id: string) {
      const inv = await findInvitation(ctx.actor.tenantId, id);
      requireManage(ctx.actor, inv);
      if (inv.status !== 'PendingAcceptance') throw badRequest(`Only a pending invitation can be revoked; this one is ${inv.status}.`);
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('invitations').set({ status: 'Revoked', revoked_at: now }).where('id', '=', inv.id).execute();
        // The target names the user as the other invitation entries do (display name and sign-in name, not the address).
        const user = await trx.selectFrom('users').select(['display_name', 'user_principal_name']).where('id', '=', inv.user_id).executeTakeFirstOrThrow();
        await recordAudit(
          trx,
          ctx.actor,
          {
            activity: 'Revoke external user invitation',
            category: 'UserManagement',
            operationType: 'Update',
            targets: [{ id: inv.user_id, displayName: user.display_name, type: 'User', userPrincipalName: user.user_principal_name }],
          },
          ctx.correlationId,
          now,
        );
      });
      return this.get(ctx, id);
    },
  };
}
export type InvitationsService = ReturnType<typeof createInvitationsService>;
