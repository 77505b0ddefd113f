import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { AuthService } from '../auth/auth.service.js';
import { SESSION_COOKIE } from '../auth/auth.service.js';
import type { RequestContext } from '../http/context.js';
import { baseUrlOf } from '../http/request-context.js';
import { GraphError } from '../graph/errors.js';
import { html, type SafeHtml } from '../mail/html.js';
import { CsrfForm, pageLanguage, pageRoute, renderPage } from '../web/page.js';
import { formField } from '../http/validation.js';
import { Type } from '@sinclair/typebox';
import type { Language } from '../mail/templates.js';
import type { TeamsService } from './teams.service.js';
import type { FilesService } from './files.service.js';
import type { MeetingsService } from './meetings.service.js';
import type { SitesService } from './sites.service.js';
import type { LiveHub } from './live-hub.js';
import { renderMessageText, type Mention } from './messages.js';
import { collaborationStrings } from './pages.strings.js';
import { LIVE_SCRIPT } from './live-script.js';

const page = pageRoute();
const ChannelQuery = Type.Object({ channel: Type.Optional(formField(100)) });
const FolderQuery = Type.Object({ item: Type.Optional(formField(100)) });

/**
 * The guest's (and member's) pages of a team: channel chat with live updates, files, meetings. The
 * only script is a same-origin file (CSP script-src 'self'); it builds messages with DOM text nodes.
 */
export function registerCollaborationPages(
  app: FastifyInstance,
  deps: {
    db: Kysely<Database>;
    auth: AuthService;
    teams: TeamsService;
    files: FilesService;
    meetings: MeetingsService;
    sites: SitesService;
    hub: LiveHub;
    tenantId: string;
    baseUrl: string | null;
  },
): void {
  const { auth, teams, files, meetings } = deps;

  app.get('/assets/live-chat.js', page, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(LIVE_SCRIPT),
  );

  const langOf = (req: FastifyRequest): Language => pageLanguage((req.query as Record<string, string>)?.lang, req.headers['accept-language']);
  const send = (reply: FastifyReply, lang: Language, title: string, body: SafeHtml, status = 200) =>
    reply
      .status(status)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'",
      )
      .send(renderPage(lang, title, body).replace('max-width: 440px', 'max-width: 880px'));

  /** The page's request as a service context, or null when nobody is signed in. */
  async function pageContext(req: FastifyRequest): Promise<{ ctx: RequestContext; csrf: string } | null> {
    const cookie = req.cookies[SESSION_COOKIE];
    const actor = cookie ? await auth.actorFromSession(cookie) : null;
    if (actor?.kind !== 'user') return null;
    return {
      ctx: {
        actor,
        correlationId: req.id,
        baseUrl: baseUrlOf(req, deps.baseUrl),
        requestUrl: req.url,
        query: { $top: '50' },
        consistencyLevel: undefined,
      },
      csrf: auth.csrfTokenFor(cookie!),
    };
  }

  const problem = (reply: FastifyReply, lang: Language, error: unknown) => {
    const s = collaborationStrings[lang];
    if (error instanceof GraphError && error.status < 500)
      return send(
        reply,
        lang,
        s.noAccessTitle,
        html`<h1>${s.noAccessTitle}</h1>
          <p>${s.noAccessText}</p>
          <p><a href="/my">${s.back}</a></p>`,
        error.status === 404 ? 404 : 403,
      );
    throw error;
  };
  const q = (lang: Language) => (lang === 'nl' ? '&lang=nl' : '');
  const when = (iso: string) => iso.slice(0, 16).replace('T', ' ');

  app.get('/teams/:id', pageRoute({ querystring: ChannelQuery }), async (req, reply) => {
    const lang = langOf(req);
    const s = collaborationStrings[lang];
    const who = await pageContext(req);
    if (!who) return reply.redirect('/signin', 303);
    const teamId = (req.params as { id: string }).id;
    try {
      const team = await teams.get(who.ctx, teamId);
      const channels = (await teams.listChannels(who.ctx, teamId)).value;
      const wanted = (req.query as Record<string, string>).channel;
      const channel = channels.find((c) => c.id === wanted) ?? channels[0]!;
      const messages = (await teams.listMessages(who.ctx, teamId, channel.id, null)).value.reverse();
      const members = (await teams.listMembers(who.ctx, teamId)).value;
      const drive = await files.groupDrive(who.ctx, teamId);
      const teamMeetings = await meetings.listForTeam(team.id);
      return send(
        reply,
        lang,
        `${team.displayName} – ${channel.displayName}`,
        html`<p><a href="/my${lang === 'nl' ? '?lang=nl' : ''}">${s.back}</a></p>
          <h1>${team.displayName}</h1>
          <nav aria-label="${s.channels}">
            ${channels.map((c) => html`<a href="/teams/${team.id}?channel=${c.id}${q(lang)}" ${c.id === channel.id ? html`aria-current="page"` : html``}>${c.displayName}</a> `)}
          </nav>
          <h2 style="font-size:18px">${channel.displayName}</h2>
          <ol
            id="messages"
            aria-live="polite"
            style="list-style:none;padding:0"
            data-stream="/v1.0/teams/${team.id}/channels/${channel.id}/messages/stream"
            data-post="/v1.0/teams/${team.id}/channels/${channel.id}/messages"
            data-csrf="${who.csrf}"
          >
            ${messages.map(
              (m) =>
                html`<li id="m-${m.id}" style="margin:8px 0">
                  <strong>${m.from.user?.displayName ?? m.from.application?.displayName ?? ''}</strong> <span class="muted">${when(m.createdDateTime)}</span>
                  <div class="text">
                    ${
                      m.deletedDateTime
                        ? html`<em>${s.deleted}</em>`
                        : renderMessageText(
                            m.body.content,
                            m.mentions.map((x) => ({ mentionText: x.mentionText }) as Mention),
                          )
                    }
                  </div>
                  ${m.attachments.map((a) => html`<div>📎 <a href="${a.contentUrl}">${a.name}</a></div>`)}
                </li>`,
            )}
          </ol>
          <form id="post-form">
            <label for="post-text">${s.newMessage}</label><input type="text" id="post-text" name="text" maxlength="28000" autocomplete="off" required /><button
              type="submit"
              class="primary"
            >
              ${s.send}
            </button>
          </form>
          <h2 style="font-size:18px">${s.files}</h2>
          <p><a href="/files/${drive.id}${lang === 'nl' ? '?lang=nl' : ''}">${s.openFiles}</a></p>
          <h2 style="font-size:18px">${s.meetings}</h2>
          ${
            teamMeetings.length
              ? html`<ul>
                  ${teamMeetings.map((m) => html`<li><a href="/meet/${m.id}${lang === 'nl' ? '?lang=nl' : ''}">${m.subject}</a> <span class="muted">${when(m.start_at)}</span></li>`)}
                </ul>`
              : html`<p class="muted">${s.noMeetings}</p>`
          }
          <h2 style="font-size:18px">${s.members}</h2>
          <ul>
            ${members.map((m) => html`<li>${m.displayName}${m.roles.length ? html` <span class="muted">(${m.roles[0] === 'owner' ? s.owner : s.guest})</span>` : html``}</li>`)}
          </ul>
          <script src="/assets/live-chat.js"></script>`,
      );
    } catch (error) {
      return problem(reply, lang, error);
    }
  });

  app.get('/files/:driveId', pageRoute({ querystring: FolderQuery }), async (req, reply) => {
    const lang = langOf(req);
    const s = collaborationStrings[lang];
    const who = await pageContext(req);
    if (!who) return reply.redirect('/signin', 303);
    const driveId = (req.params as { driveId: string }).driveId;
    const folderId = (req.query as Record<string, string>).item ?? 'root';
    try {
      const drive = await files.getDrive(who.ctx, driveId);
      const current = await files.getItem(who.ctx, driveId, folderId);
      const isFile = 'file' in current;
      const list = isFile ? [current] : (await files.children(who.ctx, driveId, folderId)).value;
      const content = (id: string) => `/v1.0/drives/${driveId}/items/${id}/content`;
      return send(
        reply,
        lang,
        `${s.files} – ${drive.name}`,
        html`<p><a href="/my${lang === 'nl' ? '?lang=nl' : ''}">${s.back}</a></p>
          <h1>${s.files}: ${current.name === 'root' ? drive.name : current.name}</h1>
          ${
            list.length
              ? html`<table id="files" style="width:100%;border-collapse:collapse">
                  <thead>
                    <tr>
                      <th style="text-align:left">${s.name}</th>
                      <th style="text-align:left">${s.modified}</th>
                      <th></th>
                    </tr>
                  </thead>
                  <tbody>
                    ${list.map((i) => {
                      const it = i as { id: string; name: string; lastModifiedDateTime: string; folder?: unknown; file?: { mimeType: string } };
                      const preview = it.file && /^(image\/|application\/pdf)/.test(it.file.mimeType);
                      return html`<tr>
                          <td>${it.folder ? html`📁 <a href="/files/${driveId}?item=${it.id}${q(lang)}">${it.name}</a>` : it.name}</td>
                          <td class="muted">${when(it.lastModifiedDateTime)}</td>
                          <td>
                            ${it.file ? html`<a href="${content(it.id)}">${s.download}</a>${preview ? html` · <a href="${content(it.id)}?preview=1" target="_blank" rel="noopener">${s.preview}</a>` : html``}` : html``}
                          </td>
                        </tr>
                        ${
                          it.file && it.file.mimeType.startsWith('image/')
                            ? html`<tr>
                                <td colspan="3"><img src="${content(it.id)}?preview=1" alt="${it.name}" style="max-width:200px;max-height:120px" /></td>
                              </tr>`
                            : html``
                        }`;
                    })}
                  </tbody>
                </table>`
              : html`<p class="muted">${s.emptyFolder}</p>`
          }`,
      );
    } catch (error) {
      return problem(reply, lang, error);
    }
  });

  app.get('/meet/:id', page, async (req, reply) => {
    const lang = langOf(req);
    const s = collaborationStrings[lang];
    const who = await pageContext(req);
    if (!who) return reply.redirect(`/signin`, 303);
    const id = (req.params as { id: string }).id;
    try {
      const m = await meetings.get(who.ctx, id);
      const here = (await meetings.presenceOf(who.ctx, id)).value;
      const me = who.ctx.actor.kind === 'user' ? who.ctx.actor.userId : '';
      const inMeeting = here.some((p) => p.id === me);
      const chat = (await teams.listConversation(who.ctx, m.id, null)).value.reverse();
      const organizer = m.participants.organizer?.identity.user.id === me;
      return send(
        reply,
        lang,
        m.subject,
        html`<p><a href="/my${lang === 'nl' ? '?lang=nl' : ''}">${s.back}</a></p>
          <h1>${m.subject}</h1>
          <p class="muted">${when(m.startDateTime)} – ${when(m.endDateTime)} UTC</p>
          <h2 style="font-size:18px">${s.agenda}</h2>
          <p style="white-space:pre-wrap">${m.agenda || s.noAgenda}</p>
          <form method="post" action="/meet/${m.id}/${inMeeting ? 'leave' : 'join'}${lang === 'nl' ? '?lang=nl' : ''}">
            <input type="hidden" name="csrf" value="${who.csrf}" /><button type="submit" class="primary">${inMeeting ? s.leave : s.join}</button>
          </form>
          ${organizer ? html`<p><a href="/v1.0/foyer/meetings/${m.id}/attendance.csv">${s.attendance}</a></p>` : html``}
          <h2 style="font-size:18px">${s.inMeeting}</h2>
          <ul id="presence">
            ${here.map((p) => html`<li>${p.displayName}</li>`)}
          </ul>
          <h2 style="font-size:18px">${s.meetingChat}</h2>
          <ol
            id="messages"
            aria-live="polite"
            style="list-style:none;padding:0"
            data-stream="/v1.0/chats/${m.id}/messages/stream"
            data-post="/v1.0/chats/${m.id}/messages"
            data-csrf="${who.csrf}"
          >
            ${chat.map(
              (c) =>
                html`<li id="m-${c.id}" style="margin:8px 0">
                  <strong>${c.from.user?.displayName ?? ''}</strong> <span class="muted">${when(c.createdDateTime)}</span>
                  <div class="text">${c.deletedDateTime ? html`<em>${s.deleted}</em>` : renderMessageText(c.body.content, [])}</div>
                </li>`,
            )}
          </ol>
          <form id="post-form">
            <label for="post-text">${s.newMessage}</label><input type="text" id="post-text" name="text" maxlength="28000" autocomplete="off" required /><button
              type="submit"
              class="primary"
            >
              ${s.send}
            </button>
          </form>
          <script src="/assets/live-chat.js"></script>`,
      );
    } catch (error) {
      return problem(reply, lang, error);
    }
  });

  for (const action of ['join', 'leave'] as const)
    app.post(`/meet/:id/${action}`, pageRoute({ body: CsrfForm }), async (req, reply) => {
      const lang = langOf(req);
      const who = await pageContext(req);
      if (!who) return reply.redirect('/signin', 303);
      const id = (req.params as { id: string }).id;
      if ((req.body as Record<string, string>)?.csrf !== who.csrf) return reply.redirect(`/meet/${encodeURIComponent(id)}`, 303);
      try {
        await meetings[action](who.ctx, id);
      } catch (error) {
        return problem(reply, lang, error);
      }
      return reply.redirect(`/meet/${encodeURIComponent(id)}${lang === 'nl' ? '?lang=nl' : ''}`, 303);
    });

  app.get('/sites/:id', page, async (req, reply) => {
    const lang = langOf(req);
    const who = await pageContext(req);
    if (!who) return reply.redirect('/signin', 303);
    try {
      const drive = await deps.sites.defaultDrive(who.ctx, (req.params as { id: string }).id);
      return reply.redirect(`/files/${drive.id}${lang === 'nl' ? '?lang=nl' : ''}`, 303);
    } catch (error) {
      return problem(reply, lang, error);
    }
  });
}
