import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import { badRequest, forbidden, notFound } from '../graph/errors.js';
import { can, type Actor } from '../auth/permissions.js';
import { isGuid, newId } from '../ids.js';
import { guestCaller } from './access.js';
import { escapeHtml } from '../mail/html.js';
import { queueMail } from '../mail/mail-queue.js';
import { findLiveUsers, type UserRow } from '../directory/users.repository.js';
import { findTeam, teamAccess, teamRoleOf } from './access.js';
import { readCollaborationSettings } from './settings.js';
import { meetingIcs } from './ics.js';
import type { LiveHub } from './live-hub.js';
import type { MeetingsTable } from './tables.js';
import type { MeetingCreateBody, MessageBody, MessageUpdateBody } from './collaboration.schemas.js';
import type { TeamsService } from './teams.service.js';

export type MeetingRow = Selectable<MeetingsTable>;

const csvCell = (v: string) => {
  // A leading = + - @ makes spreadsheets evaluate the cell: quote it as text.
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

export function createMeetingsService(deps: { db: Kysely<Database>; clock: Clock; hub: LiveHub; mailFrom: string; teams?: TeamsService }) {
  const { db, clock, hub } = deps;

  const joinUrl = (ctx: { baseUrl: string }, id: string) => `${ctx.baseUrl}/meet/${id}`;

  async function participants(meetingId: string) {
    return db
      .selectFrom('meeting_participants as p')
      .innerJoin('users as u', 'u.id', 'p.user_id')
      .select(['u.id', 'u.display_name', 'u.mail', 'u.user_principal_name', 'u.user_type', 'p.role'])
      .where('p.meeting_id', '=', meetingId)
      .where('u.deleted_at', 'is', null)
      .orderBy('u.display_name_lower')
      .execute();
  }

  async function shape(ctx: { baseUrl: string }, m: MeetingRow) {
    const people = await participants(m.id);
    const org = people.find((p) => p.role === 'organizer');
    const identity = (p: (typeof people)[number]) => ({
      upn: p.user_principal_name,
      role: p.role === 'organizer' ? 'presenter' : 'attendee',
      identity: { user: { id: p.id, displayName: p.display_name } },
    });
    return {
      id: m.id,
      subject: m.subject,
      startDateTime: m.start_at,
      endDateTime: m.end_at,
      creationDateTime: m.created_at,
      joinWebUrl: joinUrl(ctx, m.id),
      joinUrl: joinUrl(ctx, m.id),
      agenda: m.agenda,
      teamId: m.team_id,
      chatInfo: { threadId: m.id, messageId: '0' },
      participants: { organizer: org ? identity(org) : null, attendees: people.filter((p) => p.role !== 'organizer').map(identity) },
    };
  }

  /** A person's way into a meeting: its organizer, an invitee, or (team meetings) anyone in the team now; null otherwise. */
  async function roleIn(m: MeetingRow, userId: string): Promise<'organizer' | 'attendee' | null> {
    if (m.organizer_id === userId) return 'organizer';
    if (m.team_id) {
      // Team meetings follow the team: someone removed from it can no longer join its meetings.
      const role = await teamRoleOf(db, m.team_id, userId);
      if (!role) return null;
      if (role === 'guest' && !(await readCollaborationSettings(db, m.tenant_id)).allowGuestAccessInTeams) return null;
      return 'attendee';
    }
    const p = await db
      .selectFrom('meeting_participants as p')
      .innerJoin('users as u', 'u.id', 'p.user_id')
      .select('p.role')
      .where('p.meeting_id', '=', m.id)
      .where('p.user_id', '=', userId)
      .where('u.deleted_at', 'is', null)
      .executeTakeFirst();
    return p ? 'attendee' : null;
  }

  /** Whose meetings the path names: /me is for people only; a person may name only themselves under /users/{id}. */
  function checkOwnerPath(actor: Actor, userKey: string | null | undefined) {
    if (userKey === undefined) return;
    if (actor.kind === 'app' && userKey === null) throw badRequest('/me request is only valid with delegated authentication flow.');
    if (actor.kind === 'user' && userKey !== null && userKey.toLowerCase() !== actor.userId) throw forbidden();
  }

  async function openMeeting(actor: Actor, id: string) {
    const m = isGuid(id)
      ? await db.selectFrom('meetings').selectAll().where('tenant_id', '=', actor.tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst()
      : undefined;
    if (!m) throw notFound(id);
    if (m.team_id && !(await findTeam(db, actor.tenantId, m.team_id))) throw notFound(id);
    if (actor.kind === 'app') {
      if (!can(actor, 'meetings.write')) throw forbidden();
      return { meeting: m, role: 'organizer' as const };
    }
    const role = await roleIn(m, actor.userId);
    if (!role) throw notFound(id);
    return { meeting: m, role };
  }

  async function presence(meetingId: string) {
    return db
      .selectFrom('meeting_attendance')
      .select(['user_id', 'display_name', 'joined_at'])
      .where('meeting_id', '=', meetingId)
      .where('left_at', 'is', null)
      .orderBy('joined_at')
      .execute();
  }

  async function publishPresence(meetingId: string) {
    const now = await presence(meetingId);
    hub.publish(
      meetingId,
      'presence',
      now.map((p) => ({ id: p.user_id, displayName: p.display_name, joinedDateTime: p.joined_at })),
    );
  }

  async function stillInMeeting(actor: Extract<Actor, { kind: 'user' }>, m: MeetingRow): Promise<boolean> {
    const session = await db
      .selectFrom('sessions')
      .select('token_hash')
      .where('token_hash', '=', actor.sessionTokenHash)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', clock.now().toISOString())
      .executeTakeFirst();
    return Boolean(session) && (await roleIn(m, actor.userId)) !== null;
  }

  return {
    openMeeting,
    presence,
    participants,
    shape,

    /** Schedules a meeting; every invitee with an email gets an .ics invitation and the join link, in the same transaction. */
    async create(ctx: RequestContext, organizerKey: string | null, body: MeetingCreateBody) {
      const actor = ctx.actor;
      if (guestCaller(actor)) throw forbidden('Guests cannot create meetings.');
      let organizer: UserRow | undefined;
      if (actor.kind === 'user') {
        // As Graph: a person schedules only as themselves, whatever user the path names.
        if (organizerKey !== null && organizerKey.toLowerCase() !== actor.userId) throw forbidden();
        [organizer] = await findLiveUsers(db, actor.tenantId, [actor.userId]);
      } else {
        if (organizerKey === null) throw badRequest('/me request is only valid with delegated authentication flow.');
        if (!can(actor, 'meetings.write')) throw forbidden();
        if (!organizerKey || !isGuid(organizerKey)) throw notFound(organizerKey ?? '');
        [organizer] = await findLiveUsers(db, actor.tenantId, [organizerKey.toLowerCase()]);
        if (!organizer) throw notFound(organizerKey);
        if (organizer.user_type === 'Guest') throw forbidden('Guests cannot organize meetings.');
      }
      const start = new Date(body.startDateTime);
      const end = new Date(body.endDateTime);
      if (Number.isNaN(start.getTime())) throw badRequest(`startDateTime '${body.startDateTime}' is not a date and time.`);
      if (Number.isNaN(end.getTime())) throw badRequest(`endDateTime '${body.endDateTime}' is not a date and time.`);
      if (end <= start) throw badRequest('endDateTime must be after startDateTime.');
      if (end.getTime() - start.getTime() > 24 * 3_600_000) throw badRequest('A meeting lasts at most 24 hours.');
      let teamId: string | null = null;
      const invitees = new Map<string, UserRow>();
      if (body.teamId) {
        const { team, access } = await teamAccess(db, actor.kind === 'user' ? actor : { ...actor }, body.teamId);
        if (access.kind === 'person' && access.role === 'guest') throw forbidden('Guests cannot create meetings.');
        if (actor.kind === 'app' && !(await teamRoleOf(db, team.id, organizer!.id))) throw badRequest('The organizer of a team meeting must be in the team.');
        teamId = team.id;
        const members = await db
          .selectFrom('group_memberships as m')
          .innerJoin('users as u', 'u.id', 'm.user_id')
          .selectAll('u')
          .where('m.group_id', '=', team.id)
          .where('m.relation', '=', 'member')
          .where('u.deleted_at', 'is', null)
          .execute();
        for (const u of members as UserRow[]) invitees.set(u.id, u);
      }
      for (const a of body.participants?.attendees ?? []) {
        const key = a.identity?.user?.id ?? a.upn;
        if (!key) throw badRequest('Each attendee needs identity.user.id or upn.');
        let u: UserRow | undefined;
        if (isGuid(key)) [u] = await findLiveUsers(db, actor.tenantId, [key.toLowerCase()]);
        else
          u = (await db
            .selectFrom('users')
            .selectAll()
            .where('tenant_id', '=', actor.tenantId)
            .where('deleted_at', 'is', null)
            .where((eb) => eb.or([eb('user_principal_name_lower', '=', key.toLowerCase()), eb('mail_lower', '=', key.toLowerCase())]))
            .executeTakeFirst()) as UserRow | undefined;
        if (!u) throw badRequest(`The attendee '${key}' is not in the directory; invite them as a guest first.`);
        invitees.set(u.id, u);
      }
      invitees.delete(organizer!.id);
      const now = clock.now().toISOString();
      const m: MeetingRow = {
        tenant_id: actor.tenantId,
        id: newId(),
        team_id: teamId,
        organizer_id: organizer!.id,
        subject: body.subject,
        agenda: body.agenda ?? '',
        start_at: start.toISOString(),
        end_at: end.toISOString(),
        created_at: now,
      };
      const url = joinUrl(ctx, m.id);
      const people = [...invitees.values()];
      const ics = meetingIcs({
        id: m.id,
        subject: m.subject,
        agenda: m.agenda,
        start: m.start_at,
        end: m.end_at,
        joinUrl: url,
        organizer: { name: organizer!.display_name, email: organizer!.mail },
        attendees: people.filter((p) => p.mail).map((p) => ({ name: p.display_name, email: p.mail! })),
        now,
      });
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('meetings').values(m).execute();
        await trx
          .insertInto('meeting_participants')
          .values([
            { tenant_id: m.tenant_id, meeting_id: m.id, user_id: organizer!.id, role: 'organizer' },
            ...people.map((p) => ({ tenant_id: m.tenant_id, meeting_id: m.id, user_id: p.id, role: 'attendee' })),
          ])
          .execute();
        const when = `${m.start_at.slice(0, 16).replace('T', ' ')} – ${m.end_at.slice(0, 16).replace('T', ' ')} UTC`;
        for (const p of people.filter((x) => x.mail)) {
          const textBody = `${organizer!.display_name} invited you to "${m.subject}".\n\nWhen: ${when}\n${m.agenda ? `\nAgenda:\n${m.agenda}\n` : ''}\nJoin: ${url}\n`;
          await queueMail(
            trx,
            {
              tenantId: m.tenant_id,
              kind: 'notification',
              from: deps.mailFrom,
              to: [p.mail!],
              replyTo: organizer!.mail,
              subject: `Invitation: ${m.subject}`,
              text: textBody,
              html: `<p>${escapeHtml(organizer!.display_name)} invited you to <strong>${escapeHtml(m.subject)}</strong>.</p><p>When: ${escapeHtml(when)}</p>${m.agenda ? `<p style="white-space:pre-wrap">${escapeHtml(m.agenda)}</p>` : ''}<p><a href="${escapeHtml(url)}">Join the meeting</a></p>`,
              attachments: [{ filename: 'invite.ics', contentType: 'text/calendar; method=REQUEST; charset=utf-8', content: ics }],
            },
            now,
          );
        }
      });
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#onlineMeetings/$entity`, ...(await shape(ctx, m)) };
    },

    async get(ctx: RequestContext, id: string, userKey?: string | null) {
      checkOwnerPath(ctx.actor, userKey);
      const { meeting } = await openMeeting(ctx.actor, id);
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#onlineMeetings/$entity`, ...(await shape(ctx, meeting)) };
    },

    /** The signed-in person's meetings: organized, invited to, or of their teams. */
    async listMine(ctx: RequestContext) {
      const actor = ctx.actor;
      if (actor.kind !== 'user') throw badRequest('/me request is only valid with delegated authentication flow.');
      const rows = await db
        .selectFrom('meetings')
        .selectAll()
        .where('tenant_id', '=', actor.tenantId)
        .where((eb) =>
          eb.or([
            eb('id', 'in', db.selectFrom('meeting_participants').select('meeting_id').where('user_id', '=', actor.userId)),
            eb('team_id', 'in', db.selectFrom('group_memberships').select('group_id').where('user_id', '=', actor.userId).where('relation', '=', 'member')),
          ]),
        )
        .orderBy('start_at', 'desc')
        .limit(200)
        .execute();
      const value = [];
      for (const m of rows) if (await roleIn(m, actor.userId)) value.push(await shape(ctx, m));
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#onlineMeetings`, value };
    },

    async listForTeam(teamId: string) {
      return db.selectFrom('meetings').selectAll().where('team_id', '=', teamId).orderBy('start_at', 'desc').limit(50).execute();
    },

    /** Records that the person entered the meeting (once while they are in it). */
    async join(ctx: RequestContext, id: string) {
      const actor = ctx.actor;
      if (actor.kind !== 'user') throw badRequest('People join meetings; API clients cannot.');
      const { meeting, role } = await openMeeting(actor, id);
      const open = await db
        .selectFrom('meeting_attendance')
        .select('id')
        .where('meeting_id', '=', meeting.id)
        .where('user_id', '=', actor.userId)
        .where('left_at', 'is', null)
        .executeTakeFirst();
      if (!open) {
        const u = (await findLiveUsers(db, actor.tenantId, [actor.userId]))[0]!;
        await db
          .insertInto('meeting_attendance')
          .values({
            tenant_id: actor.tenantId,
            id: newId(),
            meeting_id: meeting.id,
            user_id: actor.userId,
            display_name: u.display_name,
            email: u.mail,
            role: role === 'organizer' ? 'Organizer' : 'Attendee',
            joined_at: clock.now().toISOString(),
            left_at: null,
          })
          .execute();
        await publishPresence(meeting.id);
      }
      return { id: meeting.id, inMeeting: true };
    },

    async leave(ctx: RequestContext, id: string) {
      const actor = ctx.actor;
      if (actor.kind !== 'user') throw badRequest('People leave meetings; API clients cannot.');
      const { meeting } = await openMeeting(actor, id);
      await db
        .updateTable('meeting_attendance')
        .set({ left_at: clock.now().toISOString() })
        .where('meeting_id', '=', meeting.id)
        .where('user_id', '=', actor.userId)
        .where('left_at', 'is', null)
        .execute();
      await publishPresence(meeting.id);
      return { id: meeting.id, inMeeting: false };
    },

    async presenceOf(ctx: RequestContext, id: string) {
      const { meeting } = await openMeeting(ctx.actor, id);
      return { value: (await presence(meeting.id)).map((p) => ({ id: p.user_id, displayName: p.display_name, joinedDateTime: p.joined_at })) };
    },

    /** Graph's meetingAttendanceReport: organizer only. */
    async attendanceReport(ctx: RequestContext, id: string, userKey?: string | null) {
      checkOwnerPath(ctx.actor, userKey);
      const { meeting, role } = await openMeeting(ctx.actor, id);
      if (role !== 'organizer') throw forbidden('Only the organizer can see attendance.');
      const rows = await db.selectFrom('meeting_attendance').selectAll().where('meeting_id', '=', meeting.id).orderBy('joined_at').execute();
      const now = clock.now().getTime();
      const byUser = new Map<string, typeof rows>();
      for (const r of rows) byUser.set(r.user_id, [...(byUser.get(r.user_id) ?? []), r]);
      const seconds = (r: (typeof rows)[number]) => Math.max(0, Math.round(((r.left_at ? Date.parse(r.left_at) : now) - Date.parse(r.joined_at)) / 1000));
      const records = [...byUser.values()].map((rs) => ({
        id: rs[0]!.user_id,
        emailAddress: rs[0]!.email,
        role: rs[0]!.role,
        identity: { id: rs[0]!.user_id, displayName: rs[0]!.display_name },
        totalAttendanceInSeconds: rs.reduce((s, r) => s + seconds(r), 0),
        attendanceIntervals: rs.map((r) => ({ joinDateTime: r.joined_at, leaveDateTime: r.left_at, durationInSeconds: seconds(r) })),
      }));
      return {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#meetingAttendanceReports`,
        value: [
          {
            id: meeting.id,
            totalParticipantCount: records.length,
            meetingStartDateTime: rows[0]?.joined_at ?? meeting.start_at,
            meetingEndDateTime: meeting.end_at,
            attendanceRecords: records,
          },
        ],
      };
    },

    /** Attendance as CSV (one line per join), for the organizer. */
    async attendanceCsv(ctx: RequestContext, id: string): Promise<string> {
      const report = (await this.attendanceReport(ctx, id)).value[0]!;
      const lines = [['Name', 'Email', 'Role', 'Joined', 'Left', 'Duration (seconds)'].join(',')];
      for (const r of report.attendanceRecords)
        for (const i of r.attendanceIntervals)
          lines.push(
            [r.identity.displayName, r.emailAddress ?? '', r.role, i.joinDateTime, i.leaveDateTime ?? '', String(i.durationInSeconds)].map(csvCell).join(','),
          );
      return lines.join('\r\n') + '\r\n';
    },

    /** Meeting chat goes through the same message store as channels; the conversation is the meeting. */
    async chatAccess(ctx: RequestContext, id: string) {
      if (ctx.actor.kind !== 'user') throw forbidden('Meeting chat is for the people in the meeting.');
      const { meeting } = await openMeeting(ctx.actor, id);
      const people = await participants(meeting.id);
      return { meeting, members: people.map((p) => ({ id: p.id, display_name: p.display_name })) };
    },

    async openStream(ctx: RequestContext, id: string) {
      const actor = ctx.actor;
      if (actor.kind !== 'user') throw badRequest('Live updates are for signed-in people.');
      const { meeting } = await openMeeting(actor, id);
      const now = await presence(meeting.id);
      return {
        userId: actor.userId,
        conversationId: meeting.id,
        stillAllowed: () => stillInMeeting(actor, meeting),
        initial: [{ event: 'presence', data: now.map((p) => ({ id: p.user_id, displayName: p.display_name, joinedDateTime: p.joined_at })) }],
      };
    },
  };
}
export type MeetingsService = ReturnType<typeof createMeetingsService>;
export type { MessageBody, MessageUpdateBody };
