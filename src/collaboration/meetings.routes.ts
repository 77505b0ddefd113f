import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../http/context.js';
import type { MeetingsService } from './meetings.service.js';
import type { TeamsService } from './teams.service.js';
import type { LiveHub } from './live-hub.js';
import { MeetingCreateBody, MessageBody, MessageUpdateBody } from './collaboration.schemas.js';

type P = { id: string; userId: string; messageId: string };
type Ctx = (r: FastifyRequest) => RequestContext;
const tags = ['meetings'];

export function registerMeetingRoutes(app: FastifyInstance, deps: { meetings: MeetingsService; teams: TeamsService; hub: LiveHub }, ctx: Ctx): void {
  const { meetings, teams, hub } = deps;
  const p = (req: FastifyRequest) => req.params as P;

  app.post(
    '/v1.0/me/onlineMeetings',
    { schema: { tags, summary: 'Schedule a meeting (in a team with teamId, or with chosen people)', body: MeetingCreateBody } },
    async (req, reply) => reply.status(201).send(await meetings.create(ctx(req), null, req.body as MeetingCreateBody)),
  );
  app.post(
    '/v1.0/users/:userId/onlineMeetings',
    { schema: { tags, summary: 'Schedule a meeting for a user (OnlineMeetings.ReadWrite.All)', body: MeetingCreateBody } },
    async (req, reply) => reply.status(201).send(await meetings.create(ctx(req), p(req).userId, req.body as MeetingCreateBody)),
  );
  app.get('/v1.0/me/onlineMeetings', { schema: { tags, summary: 'Meetings of the signed-in person' } }, (req) => meetings.listMine(ctx(req)));
  for (const prefix of ['/v1.0/me/onlineMeetings/:id', '/v1.0/users/:userId/onlineMeetings/:id']) {
    app.get(prefix, { schema: { tags, summary: 'Get a meeting' } }, (req) => meetings.get(ctx(req), p(req).id, p(req).userId ?? null));
    app.get(`${prefix}/attendanceReports`, { schema: { tags, summary: 'Attendance (organizer)' } }, (req) =>
      meetings.attendanceReport(ctx(req), p(req).id, p(req).userId ?? null),
    );
  }
  app.get('/v1.0/foyer/meetings/:id/attendance.csv', { schema: { tags, summary: 'Attendance as CSV (organizer)' } }, async (req, reply) =>
    reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="attendance.csv"')
      .send(await meetings.attendanceCsv(ctx(req), p(req).id)),
  );
  app.post('/v1.0/foyer/meetings/:id/join', { schema: { tags, summary: 'Join a meeting (recorded as attendance)' } }, (req) =>
    meetings.join(ctx(req), p(req).id),
  );
  app.post('/v1.0/foyer/meetings/:id/leave', { schema: { tags, summary: 'Leave a meeting' } }, (req) => meetings.leave(ctx(req), p(req).id));
  app.get('/v1.0/foyer/meetings/:id/presence', { schema: { tags, summary: 'Who is in the meeting now' } }, (req) => meetings.presenceOf(ctx(req), p(req).id));

  // Meeting chat: chatInfo.threadId is the meeting's id.
  app.get('/v1.0/chats/:id/messages', { schema: { tags, summary: 'Meeting chat, newest first' } }, async (req) => {
    const c = ctx(req);
    const { meeting } = await meetings.chatAccess(c, p(req).id);
    return teams.listConversation(c, meeting.id, null);
  });
  app.post('/v1.0/chats/:id/messages', { schema: { tags, summary: 'Post in the meeting chat', body: MessageBody } }, async (req, reply) => {
    const c = ctx(req);
    const { meeting, members } = await meetings.chatAccess(c, p(req).id);
    return reply
      .status(201)
      .send(await teams.post(c, { conversationId: meeting.id, teamId: meeting.team_id, replyTo: null, members, attachments: [] }, req.body as MessageBody));
  });
  app.patch('/v1.0/chats/:id/messages/:messageId', { schema: { tags, summary: 'Edit your own chat message', body: MessageUpdateBody } }, async (req, reply) => {
    const c = ctx(req);
    const { meeting } = await meetings.chatAccess(c, p(req).id);
    await teams.change(c, meeting.id, await teams.findMessage(meeting.id, p(req).messageId, null), false, req.body as MessageUpdateBody);
    return reply.status(204).send();
  });
  app.delete('/v1.0/chats/:id/messages/:messageId', { schema: { tags, summary: 'Delete your own chat message' } }, async (req, reply) => {
    const c = ctx(req);
    const { meeting } = await meetings.chatAccess(c, p(req).id);
    await teams.change(c, meeting.id, await teams.findMessage(meeting.id, p(req).messageId, null), false, null);
    return reply.status(204).send();
  });
  app.get('/v1.0/chats/:id/messages/stream', { schema: { tags, summary: 'Live meeting chat and presence (server-sent events)' } }, async (req, reply) => {
    const s = await meetings.openStream(ctx(req), p(req).id);
    hub.open(req, reply, s);
    return reply;
  });
}
