import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import { badRequest, forbidden, notFound } from '../graph/errors.js';
import { recordAudit } from '../audit/audit.service.js';
import { can, requireAccess, type Actor } from '../auth/permissions.js';
import { guidPattern, isGuid, newId } from '../ids.js';
import { guestCaller } from './access.js';
import { emailProblem, foldingProblem } from '../directory/email.js';
import { findLiveUsers, type UserRow } from '../directory/users.repository.js';
import { addRelations, findGroup } from '../directory/groups.repository.js';
import type { GroupRow } from '../directory/groups.model.js';
import type { InvitationsService } from '../invitations/invitations.service.js';
import { readCollaborationSettings } from './settings.js';
import {
  defaultTeamSettings,
  findTeam,
  isOwnerOrAdmin,
  teamAccess,
  teamRoleOf,
  teamSettingsOf,
  type TeamAccess,
  type TeamRow,
  type TeamSettings,
} from './access.js';
import { defaultDriveOfSite, ensureFolder, insertSiteWithDrive } from './drives.repository.js';
import { renderMessageText, toChatMessage, type ChatMessageRow, type Mention, type MessageAttachment } from './messages.js';
import { decodeCursor, encodeCursor, nextLink, topOf } from './paging.js';
import type { LiveHub } from './live-hub.js';
import type { TeamCreateBody, TeamUpdateBody, MemberAddBody, ChannelCreateBody, MessageBody, MessageUpdateBody } from './collaboration.schemas.js';

const MAX_MEMBERS_PER_REQUEST = 20;
const channelNamePattern = /^[^~#%&*{}+/\\:<>?|'".]{1}[^~#%&*{}+/\\:<>?|'"]{0,49}$/;

/** `users('id')`, `users/id`, a full URL of either, or a sign-in name: the key inside. */
function userKeyOf(ref: string): string {
  const m = /users\('([^']+)'\)\s*$/i.exec(ref) ?? /users\/([^/?#]+)\s*$/i.exec(ref);
  return decodeURIComponent(m ? m[1]! : ref).trim();
}

export function createTeamsService(deps: { db: Kysely<Database>; clock: Clock; invitations: InvitationsService; hub: LiveHub }) {
  const { db, clock, hub } = deps;

  const shapeTeam = (ctx: RequestContext, t: TeamRow) => {
    const s = teamSettingsOf(t);
    return {
      id: t.id,
      displayName: t.group.display_name,
      description: t.group.description,
      visibility: (t.group.visibility ?? 'Private').toLowerCase(),
      isArchived: false,
      createdDateTime: t.created_at,
      webUrl: `${ctx.baseUrl}/teams/${t.id}`,
      tenantId: t.tenant_id,
      memberSettings: s.memberSettings,
      guestSettings: s.guestSettings,
      messagingSettings: { allowUserEditMessages: true, allowUserDeleteMessages: true },
      allowToAddGuests: s.allowToAddGuests,
    };
  };

  const shapeMember = (u: Pick<UserRow, 'id' | 'display_name' | 'mail' | 'user_type' | 'created_at'>, owner: boolean, since: string) => ({
    '@odata.type': '#microsoft.graph.aadUserConversationMember',
    id: u.id,
    roles: u.user_type === 'Guest' ? ['guest'] : owner ? ['owner'] : [],
    displayName: u.display_name,
    userId: u.id,
    email: u.mail,
    visibleHistoryStartDateTime: '0001-01-01T00:00:00Z',
    createdDateTime: since,
  });

  const shapeChannel = (
    ctx: RequestContext,
    c: { id: string; team_id: string; display_name: string; description: string | null; is_general: number; created_at: string },
  ) => ({
    id: c.id,
    displayName: c.display_name,
    description: c.description,
    membershipType: 'standard',
    isFavoriteByDefault: Boolean(c.is_general),
    email: null,
    createdDateTime: c.created_at,
    webUrl: `${ctx.baseUrl}/teams/${c.team_id}?channel=${c.id}`,
  });

  /** Resolves a member reference (id, sign-in name or email) to a live user; null when the address is not in the directory. */
  async function resolveMember(tenantId: string, key: string): Promise<UserRow | null> {
    if (guidPattern.test(key)) {
      const [u] = await findLiveUsers(db, tenantId, [key.toLowerCase()]);
      if (!u) throw notFound(key);
      return u;
    }
    // Before the lookup: a name that folds onto another one would find that person.
    const folding = foldingProblem(key);
    if (folding) throw badRequest(folding);
    const lower = key.toLowerCase();
    const byCol = (col: 'user_principal_name_lower' | 'mail_lower') =>
      db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where(col, '=', lower).where('deleted_at', 'is', null).executeTakeFirst();
    const u = (await byCol('user_principal_name_lower')) ?? (await byCol('mail_lower'));
    if (u) return u;
    const problem = emailProblem(key);
    if (problem) throw badRequest(problem);
    return null;
  }

  async function memberRows(teamId: string) {
    return db
      .selectFrom('group_memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['u.id', 'u.display_name', 'u.mail', 'u.user_type', 'u.created_at', 'm.relation', 'm.created_at as since'])
      .where('m.group_id', '=', teamId)
      .where('u.deleted_at', 'is', null)
      .orderBy('u.display_name_lower')
      .orderBy('u.id')
      .execute();
  }

  /** Guests in teams: the organization's switch and the team's allowToAddGuests must both allow them. */
  async function requireGuestsAllowed(tenantId: string, team: TeamRow) {
    if (!(await readCollaborationSettings(db, tenantId)).allowGuestAccessInTeams)
      throw forbidden('Guest access in Teams is turned off for your organization, so guests cannot be added to teams.');
    if (!teamSettingsOf(team).allowToAddGuests)
      throw forbidden(`The team '${team.group.display_name}' does not allow adding guests (allowToAddGuests is false).`);
  }

  async function auditMembership(
    trx: Kysely<Database>,
    ctx: RequestContext,
    team: TeamRow,
    u: Pick<UserRow, 'id' | 'display_name' | 'user_principal_name'>,
    activity: string,
    now: string,
  ) {
    await recordAudit(
      trx,
      ctx.actor,
      {
        activity,
        category: 'GroupManagement',
        operationType: activity.startsWith('Remove') ? 'Unassign' : 'Assign',
        targets: [
          { id: u.id, displayName: u.display_name, type: 'User', userPrincipalName: u.user_principal_name },
          { id: team.id, displayName: team.group.display_name, type: 'Group' },
        ],
      },
      ctx.correlationId,
      now,
    );
  }

  /** Makes the group a team: settings, the General channel, the team's site and document library with a General folder. */
  async function addTeamFeatures(trx: Kysely<Database>, actor: Actor, group: GroupRow, settings: TeamSettings, now: string) {
    await trx
      .insertInto('teams')
      .values({ tenant_id: group.tenant_id, id: group.id, settings: JSON.stringify(settings), created_at: now })
      .execute();
    await trx
      .insertInto('channels')
      .values({
        tenant_id: group.tenant_id,
        id: newId(),
        team_id: group.id,
        display_name: 'General',
        display_name_lower: 'general',
        description: null,
        is_general: 1,
        created_at: now,
      })
      .execute();
    const org = await readCollaborationSettings(trx, group.tenant_id);
    const { drive } = await insertSiteWithDrive(trx, {
      tenantId: group.tenant_id,
      groupId: group.id,
      displayName: group.display_name,
      description: group.description,
      sharing: org.sharingCapability,
      now,
    });
    await ensureFolder(trx, {
      tenantId: group.tenant_id,
      driveId: drive.id,
      parentId: drive.id,
      name: 'General',
      userId: actor.kind === 'user' ? actor.userId : `app:${actor.clientId}`,
      userName: actor.displayName,
      now,
    });
  }

  async function findChannel(team: TeamRow, channelId: string) {
    const c = isGuid(channelId)
      ? await db.selectFrom('channels').selectAll().where('team_id', '=', team.id).where('id', '=', channelId.toLowerCase()).executeTakeFirst()
      : undefined;
    if (!c) throw notFound(channelId);
    return c;
  }

  /** Team, channel and the caller's access, for chat: people in the team, or API clients with ChannelMessage permissions. */
  async function channelAccess(ctx: RequestContext, teamId: string, channelId: string, need: 'read' | 'send') {
    const actor = ctx.actor;
    if (actor.kind === 'app') {
      if (!can(actor, need === 'read' ? 'channelMessages.read' : 'channelMessages.send')) throw forbidden();
      const team = await findTeam(db, actor.tenantId, teamId);
      if (!team) throw notFound(teamId);
      return { team, channel: await findChannel(team, channelId), access: { kind: 'admin', manage: false } as TeamAccess };
    }
    const { team, access } = await teamAccess(db, actor, teamId);
    // Administrators see a team's settings and members, but its conversations belong to its people.
    if (access.kind !== 'person') throw forbidden('Only members of the team can read and post its conversations.');
    return { team, channel: await findChannel(team, channelId), access };
  }

  async function findMessage(conversationId: string, id: string, replyTo: string | null) {
    const m = isGuid(id)
      ? await db.selectFrom('chat_messages').selectAll().where('conversation_id', '=', conversationId).where('id', '=', id.toLowerCase()).executeTakeFirst()
      : undefined;
    if (!m || (replyTo !== null && m.reply_to_id !== replyTo)) throw notFound(id);
    return m;
  }

  /** Mentions given, or found in the text as @Display Name of people in the team; everyone mentioned must be in it. */
  async function resolveMentions(teamMembers: { id: string; display_name: string }[], text: string, given: MessageBody['mentions']): Promise<Mention[]> {
    if (given?.length) {
      return given.map((m) => {
        const userId = m.mentioned?.user?.id?.toLowerCase() ?? '';
        const member = teamMembers.find((u) => u.id === userId);
        if (!member) throw badRequest(`The mentioned user '${m.mentioned?.user?.id ?? ''}' is not a member of this team.`);
        return { id: m.id, userId, mentionText: m.mentionText ?? member.display_name };
      });
    }
    const found: Mention[] = [];
    const lower = text.toLowerCase();
    for (const u of [...teamMembers].sort((a, b) => b.display_name.length - a.display_name.length)) {
      if (lower.includes(`@${u.display_name.toLowerCase()}`) && !found.some((f) => f.userId === u.id))
        found.push({ id: found.length, userId: u.id, mentionText: u.display_name });
    }
    return found;
  }

  /** Attachments are files of the team's library (the caller uploads first, then posts). */
  async function resolveAttachments(team: TeamRow, given: MessageBody['attachments']): Promise<MessageAttachment[]> {
    if (!given?.length) return [];
    const site = await db.selectFrom('sites').select('id').where('group_id', '=', team.id).executeTakeFirstOrThrow();
    const drives = (await db.selectFrom('drives').select('id').where('site_id', '=', site.id).execute()).map((d) => d.id);
    const out: MessageAttachment[] = [];
    for (const a of given) {
      const item = isGuid(a.id)
        ? await db.selectFrom('drive_items').selectAll().where('id', '=', a.id.toLowerCase()).where('is_folder', '=', 0).executeTakeFirst()
        : undefined;
      if (!item || !drives.includes(item.drive_id)) throw badRequest(`The attachment '${a.id}' is not a file in this team's documents.`);
      out.push({ id: item.id, name: item.name, driveId: item.drive_id });
    }
    return out;
  }

  function textOf(body: MessageBody['body']): string {
    if (body.contentType && body.contentType.toLowerCase() !== 'text')
      throw badRequest("Messages are plain text: send body.contentType 'text' (links and mentions are recognized in the text).");
    const text = body.content.replace(/\r\n/g, '\n');
    if (!text.trim()) throw badRequest('The message is empty.');
    return text;
  }

  /** Whether a session is still valid and its person may follow the team's channel (checked while a stream is open). */
  async function stillInTeam(actor: Extract<Actor, { kind: 'user' }>, teamId: string): Promise<boolean> {
    const session = await db
      .selectFrom('sessions')
      .select('token_hash')
      .where('token_hash', '=', actor.sessionTokenHash)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', clock.now().toISOString())
      .executeTakeFirst();
    if (!session) return false;
    const role = await teamRoleOf(db, teamId, actor.userId);
    if (!role) return false;
    if (role === 'guest' && !(await readCollaborationSettings(db, actor.tenantId)).allowGuestAccessInTeams) return false;
    return Boolean(await findTeam(db, actor.tenantId, teamId));
  }

  async function listConversation(ctx: RequestContext, conversationId: string, replyTo: string | null, identity?: { teamId: string; channelId: string }) {
    const top = topOf(ctx.query.$top, 20, 50);
    const cursor = decodeCursor(ctx.query.$skiptoken);
    let q = db.selectFrom('chat_messages').selectAll().where('conversation_id', '=', conversationId);
    q = replyTo === null ? q.where('reply_to_id', 'is', null) : q.where('reply_to_id', '=', replyTo);
    if (cursor) q = q.where((eb) => eb.or([eb('created_at', '<', cursor[0]), eb.and([eb('created_at', '=', cursor[0]), eb('id', '<', cursor[1])])]));
    // Newest first, as a conversation is read from its end; older pages through @odata.nextLink.
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(top + 1)
      .execute();
    const page = rows.slice(0, top);
    const last = page[page.length - 1];
    return {
      '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#chatMessages`,
      ...(rows.length > top && last ? { '@odata.nextLink': nextLink(ctx.baseUrl, ctx.requestUrl, encodeCursor(last.created_at, last.id)) } : {}),
      value: page.map((r) => toChatMessage(r, ctx.baseUrl, identity)),
    };
  }

  async function post(
    ctx: RequestContext,
    a: {
      conversationId: string;
      teamId: string | null;
      replyTo: string | null;
      members: { id: string; display_name: string }[];
      attachments: MessageAttachment[];
    },
    body: MessageBody,
    identity?: { teamId: string; channelId: string },
  ) {
    const text = textOf(body.body);
    const mentions = await resolveMentions(a.members, text, body.mentions);
    const now = clock.now().toISOString();
    const actor = ctx.actor;
    const row: ChatMessageRow = {
      tenant_id: actor.tenantId,
      id: newId(),
      conversation_id: a.conversationId,
      team_id: a.teamId,
      reply_to_id: a.replyTo,
      from_user_id: actor.kind === 'user' ? actor.userId : `app:${actor.clientId}`,
      from_display_name: actor.displayName,
      body: text,
      mentions: JSON.stringify(mentions),
      attachments: JSON.stringify(a.attachments),
      created_at: now,
      edited_at: null,
      deleted_at: null,
    };
    await db.insertInto('chat_messages').values(row).execute();
    const shaped = toChatMessage(row, ctx.baseUrl, identity);
    hub.publish(a.conversationId, 'message', { ...shaped, html: renderMessageText(row.body, mentions).value });
    return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#chatMessages/$entity`, ...shaped };
  }

  /** Edits (new text) or deletes a message: only its sender; a team owner may also delete. */
  async function change(
    ctx: RequestContext,
    conversationId: string,
    message: ChatMessageRow,
    ownerMayDelete: boolean,
    edit: MessageUpdateBody | null,
    identity?: { teamId: string; channelId: string },
  ) {
    const actor = ctx.actor;
    const own = actor.kind === 'user' ? message.from_user_id === actor.userId : message.from_user_id === `app:${actor.clientId}`;
    if (!own && !(edit === null && ownerMayDelete)) throw forbidden('Only the sender can change this message.');
    if (message.deleted_at) throw badRequest('The message was deleted.');
    const now = clock.now().toISOString();
    if (edit) {
      const text = textOf(edit.body);
      await db.updateTable('chat_messages').set({ body: text, edited_at: now }).where('id', '=', message.id).execute();
      const row = { ...message, body: text, edited_at: now };
      hub.publish(conversationId, 'messageUpdated', {
        ...toChatMessage(row, ctx.baseUrl, identity),
        html: renderMessageText(text, JSON.parse(row.mentions) as Mention[]).value,
      });
      return;
    }
    await db.updateTable('chat_messages').set({ deleted_at: now }).where('id', '=', message.id).execute();
    hub.publish(conversationId, 'messageDeleted', { id: message.id, replyToId: message.reply_to_id });
  }

  return {
    shapeTeam,
    channelAccess,
    listConversation,
    post,
    change,
    findMessage,

    async create(ctx: RequestContext, body: TeamCreateBody) {
      const actor = ctx.actor;
      requireAccess(actor, 'teams.create');
      const org = await readCollaborationSettings(db, actor.tenantId);
      const members: { user: UserRow; owner: boolean }[] = [];
      if ((body.members?.length ?? 0) > MAX_MEMBERS_PER_REQUEST)
        throw badRequest(`At most ${MAX_MEMBERS_PER_REQUEST} members can be given when creating a team.`);
      for (const m of body.members ?? []) {
        const key = userKeyOf(m['user@odata.bind'] ?? '');
        const user = await resolveMember(actor.tenantId, key);
        if (!user) throw badRequest(`'${key}' is not in the directory; create the team first, then add outside people by email.`);
        const owner = m.roles?.map((r) => r.toLowerCase()).includes('owner') ?? false;
        if (owner && user.user_type === 'Guest') throw badRequest(`Guests cannot be team owners: '${user.id}'.`);
        if (!members.some((x) => x.user.id === user.id)) members.push({ user, owner });
      }
      if (actor.kind === 'user' && !members.some((m) => m.user.id === actor.userId)) {
        const [me] = await findLiveUsers(db, actor.tenantId, [actor.userId]);
        members.unshift({ user: me!, owner: true });
      }
      if (!members.some((m) => m.owner)) throw badRequest('A team needs an owner: give one member the role owner.');
      if (members.some((m) => m.user.user_type === 'Guest') && !org.allowGuestAccessInTeams)
        throw forbidden('Guest access in Teams is turned off for your organization, so guests cannot be added to teams.');
      const domain = (await db.selectFrom('tenants').select('initial_domain').where('id', '=', actor.tenantId).executeTakeFirstOrThrow()).initial_domain;
      const now = clock.now().toISOString();
      const nickname = `${body.displayName.replace(/[^A-Za-z0-9]/g, '').slice(0, 40) || 'team'}${newId().slice(-6)}`;
      const group: GroupRow = {
        tenant_id: actor.tenantId,
        id: newId(),
        display_name: body.displayName,
        display_name_lower: body.displayName.toLowerCase(),
        description: body.description ?? null,
        mail_nickname: nickname,
        mail: `${nickname.toLowerCase()}@${domain}`,
        mail_enabled: 1,
        security_enabled: 0,
        group_types: JSON.stringify(['Unified']),
        visibility: body.visibility ? (body.visibility.toLowerCase() === 'public' ? 'Public' : 'Private') : 'Private',
        created_at: now,
        deleted_at: null,
      };
      const defaults = defaultTeamSettings(org.allowGuestsToCreateUpdateChannels);
      const settings: TeamSettings = {
        memberSettings: { ...defaults.memberSettings, ...body.memberSettings },
        guestSettings: { ...defaults.guestSettings, ...body.guestSettings },
        allowToAddGuests: body.allowToAddGuests ?? true,
      };
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('groups').values(group).execute();
        await recordAudit(
          trx,
          actor,
          {
            activity: 'Add group',
            category: 'GroupManagement',
            operationType: 'Add',
            targets: [{ id: group.id, displayName: group.display_name, type: 'Group' }],
          },
          ctx.correlationId,
          now,
        );
        await addTeamFeatures(trx, actor, group, settings, now);
        const team = { tenant_id: group.tenant_id, id: group.id, settings: '', created_at: now, group };
        await addRelations(
          trx,
          actor.tenantId,
          group.id,
          'member',
          members.map((m) => m.user.id),
          now,
        );
        await addRelations(
          trx,
          actor.tenantId,
          group.id,
          'owner',
          members.filter((m) => m.owner).map((m) => m.user.id),
          now,
        );
        for (const m of members) await auditMembership(trx, ctx, team, m.user, 'Add member to group', now);
      });
      const team = (await findTeam(db, actor.tenantId, group.id))!;
      return shapeTeam(ctx, team);
    },

    /** PUT /groups/{id}/team: a Microsoft 365 group its owners or administrators turn into a team. */
    async enable(ctx: RequestContext, groupId: string, body: Partial<TeamCreateBody>) {
      const actor = ctx.actor;
      if (guestCaller(actor)) throw forbidden();
      const group = isGuid(groupId) ? await findGroup(db, actor.tenantId, groupId.toLowerCase()) : undefined;
      if (!group) throw notFound(groupId);
      const owner = actor.kind === 'user' && (await teamRoleOf(db, group.id, actor.userId)) === 'owner';
      // As Graph: Group.ReadWrite.All (or Directory.ReadWrite.All); managing a team's members is not enough.
      if (!owner && !can(actor, 'groups.write')) throw forbidden('Only the group’s owners or administrators can add a team to it.');
      if (!(JSON.parse(group.group_types) as string[]).includes('Unified'))
        throw badRequest('Only a Microsoft 365 group (groupTypes Unified) can have a team.');
      if (await db.selectFrom('teams').select('id').where('id', '=', group.id).executeTakeFirst())
        throw badRequest(`The group '${group.id}' already has a team.`);
      const org = await readCollaborationSettings(db, actor.tenantId);
      const defaults = defaultTeamSettings(org.allowGuestsToCreateUpdateChannels);
      const settings: TeamSettings = {
        memberSettings: { ...defaults.memberSettings, ...body.memberSettings },
        guestSettings: { ...defaults.guestSettings, ...body.guestSettings },
        allowToAddGuests: body.allowToAddGuests ?? true,
      };
      const now = clock.now().toISOString();
      await db.transaction().execute((trx) => addTeamFeatures(trx, actor, group, settings, now));
      return shapeTeam(ctx, (await findTeam(db, actor.tenantId, group.id))!);
    },

    async get(ctx: RequestContext, teamId: string) {
      const actor = ctx.actor;
      // Members may read any team's profile, as they may read any group; guests only their own teams.
      if (actor.kind === 'user' && actor.userType === 'Member') {
        const team = await findTeam(db, actor.tenantId, teamId);
        if (!team) throw notFound(teamId);
        return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#teams/$entity`, ...shapeTeam(ctx, team) };
      }
      const { team } = await teamAccess(db, actor, teamId);
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#teams/$entity`, ...shapeTeam(ctx, team) };
    },

    async update(ctx: RequestContext, teamId: string, body: TeamUpdateBody): Promise<void> {
      const { team, access } = await teamAccess(db, ctx.actor, teamId);
      // Settings are the group's, as in Graph: TeamMember.ReadWrite.All manages members, not the team itself.
      if (access.kind === 'admin' ? !can(ctx.actor, 'groups.write') : access.role !== 'owner')
        throw forbidden('Only the team’s owners can change its settings.');
      const s = teamSettingsOf(team);
      const next: TeamSettings = {
        memberSettings: { ...s.memberSettings, ...body.memberSettings },
        guestSettings: { ...s.guestSettings, ...body.guestSettings },
        allowToAddGuests: body.allowToAddGuests ?? s.allowToAddGuests,
      };
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('teams')
          .set({ settings: JSON.stringify(next) })
          .where('id', '=', team.id)
          .execute();
        if (body.displayName !== undefined || body.description !== undefined)
          await trx
            .updateTable('groups')
            .set({
              ...(body.displayName !== undefined ? { display_name: body.displayName, display_name_lower: body.displayName.toLowerCase() } : {}),
              ...(body.description !== undefined ? { description: body.description } : {}),
            })
            .where('id', '=', team.id)
            .execute();
        await recordAudit(
          trx,
          ctx.actor,
          {
            activity: 'Update group',
            category: 'GroupManagement',
            operationType: 'Update',
            targets: [{ id: team.id, displayName: team.group.display_name, type: 'Group' }],
          },
          ctx.correlationId,
          now,
        );
      });
    },

    async listMembers(ctx: RequestContext, teamId: string) {
      const { team } = await teamAccess(db, ctx.actor, teamId);
      const rows = await memberRows(team.id);
      const owners = new Set(rows.filter((r) => r.relation === 'owner').map((r) => r.id));
      const seen = new Set<string>();
      const value = [];
      for (const r of rows) {
        if (r.relation !== 'member' || seen.has(r.id)) continue;
        seen.add(r.id);
        value.push(shapeMember(r, owners.has(r.id), r.since));
      }
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#teams('${team.id}')/members`, '@odata.count': value.length, value };
    },

    /**
     * Adds a person: by directory id or sign-in name, or by email. An address not in the directory
     * is invited as a guest (source teams) when the policies allow, in the invitation's transaction.
     */
    async addMember(ctx: RequestContext, teamId: string, body: MemberAddBody) {
      const actor = ctx.actor;
      if (guestCaller(actor)) throw forbidden('Guests cannot add people to a team.');
      const { team, access } = await teamAccess(db, actor, teamId);
      if (!isOwnerOrAdmin(access)) throw forbidden('Only the team’s owners can add people.');
      const key = body['user@odata.bind'] ? userKeyOf(body['user@odata.bind']) : body.email?.trim();
      if (!key) throw badRequest("Give the person to add in 'user@odata.bind' (users('id')) or 'email'.");
      const roles = (body.roles ?? []).map((r) => r.toLowerCase());
      if (roles.some((r) => r !== 'owner' && r !== 'guest')) throw badRequest("roles may contain 'owner' (or nothing for a member).");
      const wantsOwner = roles.includes('owner');
      let user = await resolveMember(actor.tenantId, key);
      const now = clock.now().toISOString();
      if (!user) {
        if (wantsOwner) throw badRequest('Guests cannot be team owners.');
        await requireGuestsAllowed(actor.tenantId, team);
        const inviter = actor.displayName;
        const result = await deps.invitations.invite(
          ctx,
          {
            invitedUserEmailAddress: key,
            invitedUserDisplayName: body.displayName ?? null,
            inviteRedirectUrl: `${ctx.baseUrl}/teams/${team.id}`,
            sendInvitationMessage: true,
            invitedUserMessageInfo: {
              customizedMessageBody: `${inviter} added you to the team "${team.group.display_name}". Accept the invitation to chat, meet and share files with the team.`,
            },
            groups: [team.id],
          },
          'teams',
        );
        user = result.user;
        return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#teams('${team.id}')/members/$entity`, ...shapeMember(user, false, now) };
      }
      if (user.user_type === 'Guest') {
        if (wantsOwner) throw badRequest('Guests cannot be team owners.');
        await requireGuestsAllowed(actor.tenantId, team);
      }
      const existing = await db.selectFrom('group_memberships').select('relation').where('group_id', '=', team.id).where('user_id', '=', user.id).execute();
      const isMember = existing.some((e) => e.relation === 'member');
      const isOwner = existing.some((e) => e.relation === 'owner');
      if (isMember && (!wantsOwner || isOwner)) throw badRequest(`'${user.id}' is already a member of the team.`);
      const u = user;
      await db.transaction().execute(async (trx) => {
        if (!isMember) {
          await addRelations(trx, actor.tenantId, team.id, 'member', [u.id], now);
          await auditMembership(trx, ctx, team, u, 'Add member to group', now);
        }
        if (wantsOwner && !isOwner) {
          await addRelations(trx, actor.tenantId, team.id, 'owner', [u.id], now);
          await auditMembership(trx, ctx, team, u, 'Add owner to group', now);
        }
      });
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#teams('${team.id}')/members/$entity`, ...shapeMember(u, wantsOwner, now) };
    },

    /** PATCH members/{id}: roles ['owner'] promotes, [] demotes (the last owner stays). */
    async updateMember(ctx: RequestContext, teamId: string, memberId: string, roles: string[]) {
      if (guestCaller(ctx.actor)) throw forbidden();
      const { team, access } = await teamAccess(db, ctx.actor, teamId);
      if (!isOwnerOrAdmin(access)) throw forbidden('Only the team’s owners can change roles.');
      const rows = (await memberRows(team.id)).filter((r) => r.id === memberId.toLowerCase());
      const member = rows[0];
      if (!member || !rows.some((r) => r.relation === 'member')) throw notFound(memberId);
      const owner = roles.map((r) => r.toLowerCase()).includes('owner');
      if (owner && member.user_type === 'Guest') throw badRequest('Guests cannot be team owners.');
      const isOwner = rows.some((r) => r.relation === 'owner');
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        if (owner && !isOwner) await addRelations(trx, ctx.actor.tenantId, team.id, 'owner', [member.id], now);
        if (!owner && isOwner) {
          const owners = await trx.selectFrom('group_memberships').select('user_id').where('group_id', '=', team.id).where('relation', '=', 'owner').execute();
          if (owners.length <= 1) throw badRequest('A team needs at least one owner.');
          await trx.deleteFrom('group_memberships').where('group_id', '=', team.id).where('relation', '=', 'owner').where('user_id', '=', member.id).execute();
        }
      });
      return shapeMember(member, owner, member.since);
    },

    /** Removes a person from the team; their open streams of its channels close at once. */
    async removeMember(ctx: RequestContext, teamId: string, memberId: string): Promise<void> {
      if (guestCaller(ctx.actor)) throw forbidden('Guests cannot remove people from a team.');
      const { team, access } = await teamAccess(db, ctx.actor, teamId);
      if (!isOwnerOrAdmin(access)) throw forbidden('Only the team’s owners can remove people.');
      if (!isGuid(memberId)) throw notFound(memberId);
      const [user] = await findLiveUsers(db, ctx.actor.tenantId, [memberId.toLowerCase()]);
      if (!user) throw notFound(memberId);
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        const owners = await trx.selectFrom('group_memberships').select('user_id').where('group_id', '=', team.id).where('relation', '=', 'owner').execute();
        if (owners.length === 1 && owners[0]!.user_id === user.id) throw badRequest('The last owner cannot be removed; make someone else owner first.');
        const r = await trx.deleteFrom('group_memberships').where('group_id', '=', team.id).where('user_id', '=', user.id).executeTakeFirst();
        if (Number(r.numDeletedRows) === 0) throw notFound(memberId);
        await auditMembership(trx, ctx, team, user, 'Remove member from group', now);
      });
      await hub.revalidate();
    },

    async listChannels(ctx: RequestContext, teamId: string) {
      const { team } = await teamAccess(db, ctx.actor, teamId);
      const rows = await db
        .selectFrom('channels')
        .selectAll()
        .where('team_id', '=', team.id)
        .orderBy('is_general', 'desc')
        .orderBy('display_name_lower')
        .execute();
      return {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#teams('${team.id}')/channels`,
        '@odata.count': rows.length,
        value: rows.map((c) => shapeChannel(ctx, c)),
      };
    },

    async getChannel(ctx: RequestContext, teamId: string, channelId: string) {
      const { team } = await teamAccess(db, ctx.actor, teamId);
      return {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#teams('${team.id}')/channels/$entity`,
        ...shapeChannel(ctx, await findChannel(team, channelId)),
      };
    },

    /** Channel folder in the team's library: where files attached to the channel's posts go. */
    async channelFolder(ctx: RequestContext, teamId: string, channelId: string) {
      const { team } = await teamAccess(db, ctx.actor, teamId);
      const channel = await findChannel(team, channelId);
      const site = await db.selectFrom('sites').select('id').where('group_id', '=', team.id).executeTakeFirstOrThrow();
      const drive = (await defaultDriveOfSite(db, site.id))!;
      const folder = await db.transaction().execute((trx) =>
        ensureFolder(trx, {
          tenantId: team.tenant_id,
          driveId: drive.id,
          parentId: drive.id,
          name: channel.display_name,
          userId: 'system',
          userName: 'System',
          now: clock.now().toISOString(),
        }),
      );
      return { drive, folder };
    },

    async createChannel(ctx: RequestContext, teamId: string, body: ChannelCreateBody) {
      const actor = ctx.actor;
      const { team, access } = await teamAccess(db, actor, teamId);
      const s = teamSettingsOf(team);
      const allowed =
        access.kind === 'admin'
          ? can(actor, 'channels.create')
          : access.role === 'owner' || (access.role === 'member' ? s.memberSettings.allowCreateUpdateChannels : s.guestSettings.allowCreateUpdateChannels);
      if (!allowed)
        throw forbidden(
          access.kind === 'person' && access.role === 'guest' ? 'Guests cannot create channels in this team.' : 'You cannot create channels in this team.',
        );
      if (body.membershipType && body.membershipType !== 'standard') throw badRequest("Only standard channels are supported (membershipType 'standard').");
      const name = body.displayName.trim();
      if (!channelNamePattern.test(name) || name.startsWith('_') || name.endsWith('.'))
        throw badRequest(
          `The channel name '${body.displayName}' is not valid: 1 to 50 characters, none of ~ # % & * { } + / \\ : < > ? | ' " and not starting with _ or ending with a full stop.`,
        );
      if (name.toLowerCase() === 'general') throw badRequest("'General' is the team's default channel; choose another name.");
      const now = clock.now().toISOString();
      const row = {
        tenant_id: team.tenant_id,
        id: newId(),
        team_id: team.id,
        display_name: name,
        display_name_lower: name.toLowerCase(),
        description: body.description ?? null,
        is_general: 0 as const,
        created_at: now,
      };
      const exists = await db
        .selectFrom('channels')
        .select('id')
        .where('team_id', '=', team.id)
        .where('display_name_lower', '=', row.display_name_lower)
        .executeTakeFirst();
      if (exists) throw badRequest(`A channel named '${name}' already exists in this team.`);
      const site = await db.selectFrom('sites').select('id').where('group_id', '=', team.id).executeTakeFirstOrThrow();
      const drive = (await defaultDriveOfSite(db, site.id))!;
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('channels').values(row).execute();
        await ensureFolder(trx, {
          tenantId: team.tenant_id,
          driveId: drive.id,
          parentId: drive.id,
          name,
          userId: actor.kind === 'user' ? actor.userId : `app:${actor.clientId}`,
          userName: actor.displayName,
          now,
        });
      });
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#teams('${team.id}')/channels/$entity`, ...shapeChannel(ctx, row) };
    },

    async listMessages(ctx: RequestContext, teamId: string, channelId: string, replyTo: string | null) {
      const { team, channel } = await channelAccess(ctx, teamId, channelId, 'read');
      if (replyTo) replyTo = (await findMessage(channel.id, replyTo, null)).id;
      return listConversation(ctx, channel.id, replyTo, { teamId: team.id, channelId: channel.id });
    },

    async getMessage(ctx: RequestContext, teamId: string, channelId: string, messageId: string, replyTo: string | null) {
      const { team, channel } = await channelAccess(ctx, teamId, channelId, 'read');
      const m = await findMessage(channel.id, messageId, replyTo);
      return {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#chatMessages/$entity`,
        ...toChatMessage(m, ctx.baseUrl, { teamId: team.id, channelId: channel.id }),
      };
    },

    async postMessage(ctx: RequestContext, teamId: string, channelId: string, replyTo: string | null, body: MessageBody) {
      const { team, channel } = await channelAccess(ctx, teamId, channelId, 'send');
      if (replyTo) {
        const parent = await findMessage(channel.id, replyTo, null);
        if (parent.reply_to_id) throw badRequest('Replies are made to a post, not to another reply.');
        if (parent.deleted_at) throw badRequest('The post was deleted.');
        replyTo = parent.id;
      }
      const members = (await memberRows(team.id)).filter((r) => r.relation === 'member');
      const attachments = await resolveAttachments(team, body.attachments);
      return post(ctx, { conversationId: channel.id, teamId: team.id, replyTo, members, attachments }, body, { teamId: team.id, channelId: channel.id });
    },

    async updateMessage(ctx: RequestContext, teamId: string, channelId: string, messageId: string, replyTo: string | null, body: MessageUpdateBody | null) {
      const { team, channel, access } = await channelAccess(ctx, teamId, channelId, 'send');
      const m = await findMessage(channel.id, messageId, replyTo);
      await change(ctx, channel.id, m, access.kind === 'person' && access.role === 'owner', body, { teamId: team.id, channelId: channel.id });
    },

    /** Live updates of a channel for a signed-in person (server-sent events). */
    async openStream(ctx: RequestContext, teamId: string, channelId: string) {
      const actor = ctx.actor;
      if (actor.kind !== 'user') throw badRequest('Live updates are for signed-in people; API clients page through messages.');
      const { team, channel } = await channelAccess(ctx, teamId, channelId, 'read');
      return { userId: actor.userId, conversationId: channel.id, stillAllowed: () => stillInTeam(actor, team.id) };
    },

    /** GET /me/joinedTeams */
    async joinedTeams(ctx: RequestContext) {
      const actor = ctx.actor;
      if (actor.kind !== 'user') throw badRequest('/me request is only valid with delegated authentication flow.');
      if (guestCaller(actor) && !(await readCollaborationSettings(db, actor.tenantId)).allowGuestAccessInTeams)
        return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#teams`, '@odata.count': 0, value: [] };
      const rows = await db
        .selectFrom('teams as t')
        .innerJoin('groups as g', 'g.id', 't.id')
        .innerJoin('group_memberships as m', 'm.group_id', 't.id')
        .select(['t.id', 'g.display_name', 'g.description', 't.tenant_id'])
        .where('m.user_id', '=', actor.userId)
        .where('m.relation', '=', 'member')
        .where('g.deleted_at', 'is', null)
        .orderBy('g.display_name_lower')
        .execute();
      return {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#teams`,
        '@odata.count': rows.length,
        value: rows.map((r) => ({ id: r.id, displayName: r.display_name, description: r.description, isArchived: false, tenantId: r.tenant_id })),
      };
    },
  };
}
export type TeamsService = ReturnType<typeof createTeamsService>;
