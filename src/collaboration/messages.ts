import type { Selectable } from 'kysely';
import { html, type SafeHtml } from '../mail/html.js';
import type { ChatMessagesTable } from './tables.js';

export type ChatMessageRow = Selectable<ChatMessagesTable>;
export interface Mention {
  id: number;
  userId: string;
  mentionText: string;
}
export interface MessageAttachment {
  id: string;
  name: string;
  driveId: string;
}

/** A chat message in Graph's chatMessage shape (plain text body). */
export function toChatMessage(r: ChatMessageRow, baseUrl: string, channelIdentity?: { teamId: string; channelId: string }) {
  const mentions = JSON.parse(r.mentions) as Mention[];
  const attachments = JSON.parse(r.attachments) as MessageAttachment[];
  const app = r.from_user_id.startsWith('app:');
  return {
    id: r.id,
    replyToId: r.reply_to_id,
    messageType: 'message',
    createdDateTime: r.created_at,
    lastModifiedDateTime: r.deleted_at ?? r.edited_at ?? r.created_at,
    lastEditedDateTime: r.edited_at,
    deletedDateTime: r.deleted_at,
    subject: null,
    importance: 'normal',
    from: app
      ? { application: { id: r.from_user_id.slice(4), displayName: r.from_display_name }, user: null }
      : { user: { id: r.from_user_id, displayName: r.from_display_name, userIdentityType: 'aadUser' }, application: null },
    body: { contentType: 'text', content: r.deleted_at ? '' : r.body },
    mentions: r.deleted_at
      ? []
      : mentions.map((m) => ({
          id: m.id,
          mentionText: m.mentionText,
          mentioned: { user: { id: m.userId, displayName: m.mentionText, userIdentityType: 'aadUser' } },
        })),
    attachments: r.deleted_at
      ? []
      : attachments.map((a) => ({
          id: a.id,
          contentType: 'reference',
          contentUrl: `${baseUrl}/v1.0/drives/${a.driveId}/items/${a.id}/content`,
          name: a.name,
        })),
    ...(channelIdentity ? { channelIdentity } : {}),
  };
}

const linkPattern = /\bhttps?:\/\/[^\s<>"']+/gi;

/**
 * A message's text as HTML: everything escaped, http(s) addresses as links that open without
 * referrer, mentions in bold. The text is never interpreted as markup.
 */
export function renderMessageText(text: string, mentions: Pick<Mention, 'mentionText'>[]): SafeHtml {
  const names = [...new Set(mentions.map((m) => `@${m.mentionText}`))].sort((a, b) => b.length - a.length);
  const parts: SafeHtml[] = [];
  const rest = text;
  const pattern = new RegExp([linkPattern.source, ...names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))].join('|'), 'gi');
  let last = 0;
  for (const m of rest.matchAll(pattern)) {
    parts.push(html`${rest.slice(last, m.index)}`);
    const token = m[0];
    if (/^https?:\/\//i.test(token)) {
      // A trailing full stop or comma ends the sentence, not the address.
      const trimmed = token.replace(/[.,;:!?)]+$/, '');
      parts.push(html`<a href="${trimmed}" rel="noopener noreferrer nofollow" target="_blank">${trimmed}</a>${token.slice(trimmed.length)}`);
    } else parts.push(html`<strong class="mention">${token}</strong>`);
    last = m.index + token.length;
  }
  parts.push(html`${rest.slice(last)}`);
  return html`${parts}`;
}
