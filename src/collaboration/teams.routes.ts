import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../http/context.js';
import type { TeamsService } from './teams.service.js';
import type { LiveHub } from './live-hub.js';
import type { CollaborationSettingsService } from './settings.js';
import {
  ChannelCreateBody,
  MemberAddBody,
  MemberUpdateBody,
  MessageBody,
  MessageUpdateBody,
  SettingsUpdateBody,
  TeamCreateBody,
  TeamEnableBody,
  TeamUpdateBody,
} from './collaboration.schemas.js';

type P = { id: string; channelId: string; messageId: string; replyId: string; memberId: string };
type Ctx = (r: FastifyRequest) => RequestContext;
const tags = ['teams'];

export function registerTeamRoutes(app: FastifyInstance, deps: { teams: TeamsService; settings: CollaborationSettingsService; hub: LiveHub }, ctx: Ctx): void {
  const { teams, settings, hub } = deps;
  const p = (req: FastifyRequest) => req.params as P;

  app.get('/v1.0/foyer/settings/collaboration', { schema: { tags, summary: 'Teams guest access and sharing settings of the organization' } }, (req) =>
    settings.get(ctx(req)),
  );
  app.patch(
    '/v1.0/foyer/settings/collaboration',
    { schema: { tags, summary: 'Change Teams guest access and sharing settings', body: SettingsUpdateBody } },
    async (req) => {
      const r = await settings.update(ctx(req), req.body as never);
      await hub.revalidate();
      return r;
    },
  );

  app.post(
    '/v1.0/teams',
    { schema: { tags, summary: 'Create a team (a Microsoft 365 group with team features)', body: TeamCreateBody } },
    async (req, reply) => {
      const team = await teams.create(ctx(req), req.body as TeamCreateBody);
      // As Graph: 202 with the new team's address; Foyer creates the team at once and also answers it.
      return reply
        .status(202)
        .header('location', `/teams('${team.id}')/operations('${team.id}')`)
        .header('content-location', `/teams('${team.id}')`)
        .send({ '@odata.context': `${ctx(req).baseUrl}/v1.0/$metadata#teams/$entity`, ...team });
    },
  );
  app.put('/v1.0/groups/:id/team', { schema: { tags, summary: 'Add a team to a Microsoft 365 group', body: TeamEnableBody } }, async (req, reply) =>
    reply
      .status(201)
      .send({ '@odata.context': `${ctx(req).baseUrl}/v1.0/$metadata#teams/$entity`, ...(await teams.enable(ctx(req), p(req).id, (req.body ?? {}) as never)) }),
  );
  app.get('/v1.0/groups/:id/team', { schema: { tags, summary: 'The team of a group' } }, (req) => teams.get(ctx(req), p(req).id));
  app.get('/v1.0/teams/:id', { schema: { tags, summary: 'Get a team' } }, (req) => teams.get(ctx(req), p(req).id));
  app.patch('/v1.0/teams/:id', { schema: { tags, summary: 'Update a team and its settings', body: TeamUpdateBody } }, async (req, reply) => {
    await teams.update(ctx(req), p(req).id, req.body as TeamUpdateBody);
    return reply.status(204).send();
  });
  app.get('/v1.0/me/joinedTeams', { schema: { tags, summary: 'Teams the signed-in person is in' } }, (req) => teams.joinedTeams(ctx(req)));

  app.get('/v1.0/teams/:id/members', { schema: { tags, summary: 'List the members of a team' } }, (req) => teams.listMembers(ctx(req), p(req).id));
  app.post(
    '/v1.0/teams/:id/members',
    { schema: { tags, summary: 'Add a member (by user or by email: outside people are invited as guests)', body: MemberAddBody } },
    async (req, reply) => reply.status(201).send(await teams.addMember(ctx(req), p(req).id, req.body as MemberAddBody)),
  );
  app.patch('/v1.0/teams/:id/members/:memberId', { schema: { tags, summary: "Change a member's roles", body: MemberUpdateBody } }, (req) =>
    teams.updateMember(ctx(req), p(req).id, p(req).memberId, (req.body as { roles: string[] }).roles),
  );
  app.delete('/v1.0/teams/:id/members/:memberId', { schema: { tags, summary: 'Remove a member; their live connections close' } }, async (req, reply) => {
    await teams.removeMember(ctx(req), p(req).id, p(req).memberId);
    return reply.status(204).send();
  });

  app.get('/v1.0/teams/:id/channels', { schema: { tags, summary: 'List channels' } }, (req) => teams.listChannels(ctx(req), p(req).id));
  app.post('/v1.0/teams/:id/channels', { schema: { tags, summary: 'Create a channel', body: ChannelCreateBody } }, async (req, reply) =>
    reply.status(201).send(await teams.createChannel(ctx(req), p(req).id, req.body as ChannelCreateBody)),
  );
  app.get('/v1.0/teams/:id/channels/:channelId', { schema: { tags, summary: 'Get a channel' } }, (req) =>
    teams.getChannel(ctx(req), p(req).id, p(req).channelId),
  );

  const base = '/v1.0/teams/:id/channels/:channelId/messages';
  app.get(base, { schema: { tags, summary: 'Channel posts, newest first' } }, (req) => teams.listMessages(ctx(req), p(req).id, p(req).channelId, null));
  app.post(base, { schema: { tags, summary: 'Post in a channel (plain text)', body: MessageBody } }, async (req, reply) =>
    reply.status(201).send(await teams.postMessage(ctx(req), p(req).id, p(req).channelId, null, req.body as MessageBody)),
  );
  app.get(`${base}/stream`, { schema: { tags, summary: 'Live updates of a channel (server-sent events, signed-in people)' } }, async (req, reply) => {
    const s = await teams.openStream(ctx(req), p(req).id, p(req).channelId);
    hub.open(req, reply, s);
    return reply;
  });
  app.get(`${base}/:messageId`, { schema: { tags, summary: 'Get a post' } }, (req) =>
    teams.getMessage(ctx(req), p(req).id, p(req).channelId, p(req).messageId, null),
  );
  app.patch(`${base}/:messageId`, { schema: { tags, summary: 'Edit your own post', body: MessageUpdateBody } }, async (req, reply) => {
    await teams.updateMessage(ctx(req), p(req).id, p(req).channelId, p(req).messageId, null, req.body as MessageUpdateBody);
    return reply.status(204).send();
  });
  for (const [method, suffix] of [
    ['delete', ''],
    ['post', '/softDelete'],
  ] as const)
    app[method](`${base}/:messageId${suffix}`, { schema: { tags, summary: 'Delete your own post' } }, async (req, reply) => {
      await teams.updateMessage(ctx(req), p(req).id, p(req).channelId, p(req).messageId, null, null);
      return reply.status(204).send();
    });
  app.get(`${base}/:messageId/replies`, { schema: { tags, summary: 'Replies to a post' } }, (req) =>
    teams.listMessages(ctx(req), p(req).id, p(req).channelId, p(req).messageId),
  );
  app.post(`${base}/:messageId/replies`, { schema: { tags, summary: 'Reply to a post', body: MessageBody } }, async (req, reply) =>
    reply.status(201).send(await teams.postMessage(ctx(req), p(req).id, p(req).channelId, p(req).messageId, req.body as MessageBody)),
  );
  app.get(`${base}/:messageId/replies/:replyId`, { schema: { tags, summary: 'Get a reply' } }, (req) =>
    teams.getMessage(ctx(req), p(req).id, p(req).channelId, p(req).replyId, p(req).messageId),
  );
  app.patch(`${base}/:messageId/replies/:replyId`, { schema: { tags, summary: 'Edit your own reply', body: MessageUpdateBody } }, async (req, reply) => {
    await teams.updateMessage(ctx(req), p(req).id, p(req).channelId, p(req).replyId, p(req).messageId, req.body as MessageUpdateBody);
    return reply.status(204).send();
  });
  for (const [method, suffix] of [
    ['delete', ''],
    ['post', '/softDelete'],
  ] as const)
    app[method](`${base}/:messageId/replies/:replyId${suffix}`, { schema: { tags, summary: 'Delete your own reply' } }, async (req, reply) => {
      await teams.updateMessage(ctx(req), p(req).id, p(req).channelId, p(req).replyId, p(req).messageId, null);
      return reply.status(204).send();
    });
}
