import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { TEST_SECRET, call, createTestApp, followPages, linkIn, runJobs, testEngine, type Caller, type TestApp } from './helpers/test-app.js';
import { blockToken } from '../src/invitations/invitation-mail.js';
import { createMailTransport, type MailTransport } from '../src/mail/transport.js';

/** One message as the SMTP server took it: the envelope and the parsed message. */
interface Received {
  rcptTo: string[];
  mail: ParsedMail;
}

/** What the server answers; null accepts. */
type Verdict = (ctx: { rcptTo: string[]; mail: ParsedMail }) => { code: number; message: string } | null;

interface Smtp {
  port: number;
  received: Received[];
  /** Every DATA the server refused (the message was sent but not taken). */
  refusedData: Received[];
  /** Every RCPT TO the server refused. */
  refusedRcpt: string[];
  close(): Promise<void>;
}

const smtpError = (v: { code: number; message: string }) => Object.assign(new Error(v.message), { responseCode: v.code });

/** A real SMTP server on 127.0.0.1 (any free port, or `port`) that keeps what it accepts. */
async function startSmtp(options: { port?: number; onRcpt?: (address: string) => { code: number; message: string } | null; onData?: Verdict } = {}) {
  const received: Received[] = [];
  const refusedData: Received[] = [];
  const refusedRcpt: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      const verdict = options.onRcpt?.(address.address) ?? null;
      if (verdict) {
        refusedRcpt.push(address.address);
        return callback(smtpError(verdict));
      }
      callback();
    },
    onData(stream, session, callback) {
      const rcptTo = session.envelope.rcptTo.map((r) => r.address);
      simpleParser(stream).then(
        (mail) => {
          const verdict = options.onData?.({ rcptTo, mail }) ?? null;
          if (verdict) {
            refusedData.push({ rcptTo, mail });
            return callback(smtpError(verdict));
          }
          received.push({ rcptTo, mail });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  const smtp: Smtp = {
    port,
    received,
    refusedData,
    refusedRcpt,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return smtp;
}

/** A form as the guest's browser posts it from Foyer's own page. */
const form = (fields: Record<string, string>) => ({
  payload: new URLSearchParams(fields).toString(),
  headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://foyer.test' },
});

const addresses = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.flatMap((v) => v.address ?? []));
/** The HTML with character references decoded, as a mail client reads attribute values. */
const decoded = (html: string) => html.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
const toOf = (r: Received) => addresses(r.mail.to);
const hours = (n: number) => n * 3_600_000;

async function jobsLeft(t: TestApp): Promise<number> {
  const r = await t.database.db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'in', ['queued', 'running'])
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Moves the clock past every backoff (at most an hour) and runs jobs until none is left waiting; returns the rounds it took. */
async function drainWithBackoff(t: TestApp, transport: MailTransport): Promise<number> {
  for (let round = 1; round <= 30; round++) {
    t.clock.advance(hours(2));
    await runJobs(t, transport);
    if ((await jobsLeft(t)) === 0) return round;
  }
  throw new Error('jobs still waiting after 30 rounds of two hours');
}

async function mailRows(t: TestApp) {
  return t.database.db.selectFrom('mail_messages').selectAll().orderBy('created_at').orderBy('id').execute();
}

async function invitationsByEmail(t: TestApp, caller: Caller): Promise<Map<string, Record<string, unknown>>> {
  const pages = await followPages(t, caller, '/v1.0/foyer/invitations?$top=999');
  return new Map(pages.flatMap((p) => p.value).map((i) => [String(i.invitedUserEmailAddress).toLowerCase(), i]));
}

/** A Directory.ReadWrite.All client's token, issued again once the moved clock would have expired it. */
function apiCaller(t: TestApp): () => Promise<Caller> {
  let issued: { token: string; at: number } | null = null;
  return async () => {
    if (!issued || t.clock.now().getTime() - issued.at > 30 * 60_000)
      issued = { token: await t.clientToken(['User.Invite.All', 'User.Read.All', 'Directory.ReadWrite.All']), at: t.clock.now().getTime() };
    return { token: issued.token };
  };
}

async function invite(t: TestApp, caller: Caller, email: string, messageInfo?: Record<string, unknown>) {
  const res = await call(t, caller, {
    method: 'POST',
    url: '/v1.0/invitations',
    payload: {
      invitedUserEmailAddress: email,
      inviteRedirectUrl: 'https://apps.contoso.test/start',
      sendInvitationMessage: true,
      ...(messageInfo ? { invitedUserMessageInfo: messageInfo } : {}),
    },
  });
  if (res.statusCode !== 201) throw new Error(`invite ${email}: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; inviteRedeemUrl: string; invitedUser: { id: string } };
}

describe(`invitation mail over a real SMTP server (${testEngine})`, () => {
  let t: TestApp;
  let smtp: Smtp;
  let transport: MailTransport;
  let api: () => Promise<Caller>;
  let adminName: string;
  beforeAll(async () => {
    t = await createTestApp();
    smtp = await startSmtp();
    transport = createMailTransport(`smtp://127.0.0.1:${smtp.port}`);
    api = apiCaller(t);
    adminName = (await call(t, await api(), { method: 'GET', url: `/v1.0/users/${t.admin.id}?$select=displayName` })).json().displayName;
  });
  afterAll(async () => {
    transport?.close();
    await smtp?.close();
    await t?.close();
  });

  /** Consent, the code mail over SMTP, the code: the guest ends Accepted at the redirect URL. */
  async function redeem(inv: { inviteRedeemUrl: string; invitedUser: { id: string } }, email: string, codeSubject: string, permissionsTitle: string) {
    const link = inv.inviteRedeemUrl.replace('http://foyer.test', '');
    const consent = await t.app.inject({ method: 'GET', url: link });
    expect(consent.statusCode).toBe(200);
    expect(consent.body).toContain(permissionsTitle);
    const tok = new URL(inv.inviteRedeemUrl).searchParams.get('t')!;
    const accepted = await t.app.inject({ method: 'POST', url: '/redeem/accept', ...form({ t: tok }) });
    expect(accepted.statusCode).toBe(200);

    const before = smtp.received.length;
    expect(await runJobs(t, transport)).toBe(1);
    const codeMails = smtp.received.slice(before);
    expect(codeMails).toHaveLength(1);
    const codeMail = codeMails[0]!.mail;
    expect(toOf(codeMails[0]!).map((a) => a.toLowerCase())).toEqual([email.toLowerCase()]);
    expect(codeMail.subject).toBe(codeSubject);
    const code = /\b(\d{8})\b/.exec(codeMail.text ?? '')?.[1];
    expect(code).toBeDefined();
    expect(decoded(String(codeMail.html))).toContain(code);

    const done = await t.app.inject({ method: 'POST', url: '/redeem/verify', ...form({ t: tok, code: code! }) });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('https://apps.contoso.test/start');
    const user = (await call(t, await api(), { method: 'GET', url: `/v1.0/users/${inv.invitedUser.id}?$select=externalUserState` })).json();
    expect(user.externalUserState).toBe('Accepted');
  }

  it('an administrator’s English invitation arrives with From, To, Cc, Reply-To, both parts and both links, and the guest redeems it', async () => {
    const session = await t.signIn(t.admin.userPrincipalName, t.admin.password);
    const message = 'Hi <b>Ana</b> & <script>alert(1)</script> the team';
    const inv = await invite(t, { session }, 'Ana.Vries@Fabrikam.test', {
      customizedMessageBody: message,
      ccRecipients: [{ emailAddress: { address: 'manager@fabrikam.test', name: 'The Manager' } }],
    });
    const redeemUrl = inv.inviteRedeemUrl;
    // The block link has a token of its own, derived for the first email of the invitation.
    const blockUrl = `http://foyer.test/redeem/block?t=${blockToken(TEST_SECRET, inv.id, 1)}`;
    expect(blockUrl).not.toContain(new URL(redeemUrl).searchParams.get('t')!);

    expect(smtp.received).toHaveLength(0);
    expect(await runJobs(t, transport)).toBe(1);
    expect(smtp.received).toHaveLength(1);
    const { rcptTo, mail } = smtp.received[0]!;
    // One message, to both recipients in the envelope.
    expect(rcptTo.map((a) => a.toLowerCase()).sort()).toEqual(['ana.vries@fabrikam.test', 'manager@fabrikam.test']);
    expect(mail.from?.value).toEqual([{ name: 'Contoso', address: 'no-reply@contoso.test' }]);
    // nodemailer writes the domain in lower case; the local part, which may be case-sensitive, is kept.
    expect(addresses(mail.to)).toEqual(['Ana.Vries@fabrikam.test']);
    expect(addresses(mail.cc)).toEqual(['manager@fabrikam.test']);
    expect(addresses(mail.replyTo)).toEqual(['admin@contoso.test']);
    expect(mail.subject).toBe(`${adminName} invited you to access applications within their organization`);
    expect(mail.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
    const [row] = await mailRows(t);
    expect(mail.messageId).toBe(`<${row!.id}@foyer.mail>`);

    // Text: the message as typed, the Accept link and the block link.
    const text = mail.text!;
    expect(text).toContain(message);
    expect(text).toContain(`Accept invitation: ${redeemUrl}`);
    expect(linkIn(text, 'http://foyer.test/redeem?t=')).toBe(redeemUrl);
    expect(linkIn(text, 'http://foyer.test/redeem/block?t=')).toBe(blockUrl);

    // HTML: the message escaped (no tag of the inviter's reaches the guest), the button and the block link.
    const html = String(mail.html);
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('<script');
    expect(html).toContain('Hi &#60;b&#62;Ana&#60;&#47;b&#62; &#38; &#60;script&#62;alert(1)&#60;&#47;script&#62; the team');
    expect(decoded(html)).toContain(message);
    expect(decoded(html)).toMatch(new RegExp(`<a href="${redeemUrl.replace(/[.?]/g, '\\$&')}"[^>]*>\\s*Accept invitation\\s*</a`));
    expect(decoded(html)).toContain(`<a href="${blockUrl}">Block future invitations from this organization</a>`);

    expect(row!.status).toBe('sent');
    expect(row!.attempts).toBe(1);
    expect((await invitationsByEmail(t, await api())).get('ana.vries@fabrikam.test')?.deliveryState).toBe('sent');

    await redeem(inv, 'Ana.Vries@Fabrikam.test', 'Your Contoso verification code', 'Review permissions');
  });

  it('a Dutch invitation (messageLanguage nl-NL) from a client arrives in Dutch, without Reply-To, and the guest redeems it', async () => {
    const message = 'Welkom <i>Bram</i> & collega’s';
    const inv = await invite(t, await api(), 'bram@fabrikam.test', { customizedMessageBody: message, messageLanguage: 'nl-NL' });
    const clientName = (await invitationsByEmail(t, await api())).get('bram@fabrikam.test')!.invitedBy as { displayName: string };
    const before = smtp.received.length;
    expect(await runJobs(t, transport)).toBe(1);
    const got = smtp.received.slice(before);
    expect(got).toHaveLength(1);
    const { rcptTo, mail } = got[0]!;
    expect(rcptTo).toEqual(['bram@fabrikam.test']);
    expect(addresses(mail.from)).toEqual(['no-reply@contoso.test']);
    expect(addresses(mail.to)).toEqual(['bram@fabrikam.test']);
    expect(mail.cc).toBeUndefined();
    // A client has no mailbox to answer to.
    expect(mail.replyTo).toBeUndefined();
    expect(mail.subject).toBe(`${clientName.displayName} heeft je uitgenodigd voor toegang tot toepassingen binnen hun organisatie`);
    expect(mail.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
    expect(mail.text).toContain(message);
    expect(mail.text).toContain(`Uitnodiging accepteren: ${inv.inviteRedeemUrl}`);
    expect(linkIn(mail.text!, 'http://foyer.test/redeem/block?t=')).toBe(`http://foyer.test/redeem/block?t=${blockToken(TEST_SECRET, inv.id, 1)}`);
    const html = String(mail.html);
    expect(html).toContain('lang="nl"');
    expect(html).not.toContain('<i>');
    expect(html).toContain('Welkom &#60;i&#62;Bram&#60;&#47;i&#62; &#38; collega’s');
    expect(decoded(html)).toContain(`href="${inv.inviteRedeemUrl}"`);
    expect(decoded(html)).toContain('Uitnodiging accepteren');
    expect(decoded(html)).toContain('Toekomstige uitnodigingen van deze organisatie blokkeren');

    await redeem(inv, 'bram@fabrikam.test', 'Je verificatiecode voor Contoso', 'Machtigingen controleren');
  });
});

describe(`invitation mail while the SMTP server is down (${testEngine})`, () => {
  let t: TestApp;
  let api: () => Promise<Caller>;
  let smtp: Smtp | undefined;
  let transport: MailTransport | undefined;
  beforeAll(async () => {
    t = await createTestApp();
    api = apiCaller(t);
  });
  afterAll(async () => {
    transport?.close();
    await smtp?.close();
    await t?.close();
  });

  it('fifty invitations wait as retrying while nothing listens, and each arrives exactly once when the server is back', async () => {
    // A port that was free a moment ago and that nothing listens on now.
    const probe = await startSmtp();
    const port = probe.port;
    await probe.close();
    transport = createMailTransport(`smtp://127.0.0.1:${port}`);

    const emails = Array.from({ length: 50 }, (_, i) => `guest${String(i).padStart(2, '0')}@fabrikam.test`);
    for (const email of emails) await invite(t, await api(), email, { customizedMessageBody: `Hello ${email}` });

    expect(await runJobs(t, transport)).toBe(50);
    let rows = await mailRows(t);
    expect(rows).toHaveLength(50);
    expect(rows.map((r) => r.status)).toEqual(Array(50).fill('retrying'));
    expect(rows.every((r) => r.attempts === 1 && r.sent_at === null && /ECONNREFUSED|connect/i.test(r.last_error ?? ''))).toBe(true);
    let invitations = await invitationsByEmail(t, await api());
    expect(invitations.size).toBe(50);
    expect([...invitations.values()].map((i) => i.deliveryState)).toEqual(Array(50).fill('retrying'));
    // Nothing is retried before its backoff.
    expect(await runJobs(t, transport)).toBe(0);

    smtp = await startSmtp({ port });
    await drainWithBackoff(t, transport);

    const perAddress = new Map<string, number>();
    for (const r of smtp.received) for (const a of toOf(r)) perAddress.set(a, (perAddress.get(a) ?? 0) + 1);
    expect(smtp.received).toHaveLength(50);
    expect([...perAddress.keys()].sort()).toEqual(emails);
    expect([...perAddress.values()]).toEqual(Array(50).fill(1));
    // Each guest got their own message, with their own link.
    for (const r of smtp.received) expect(r.mail.text).toContain(`Hello ${toOf(r)[0]}`);

    rows = await mailRows(t);
    expect(rows.map((r) => r.status)).toEqual(Array(50).fill('sent'));
    expect(rows.every((r) => r.last_error === null && r.sent_at !== null)).toBe(true);
    invitations = await invitationsByEmail(t, await api());
    expect([...invitations.values()].map((i) => i.deliveryState)).toEqual(Array(50).fill('sent'));
    expect(await jobsLeft(t)).toBe(0);
  });
});

describe(`SMTP refusals (${testEngine})`, () => {
  let t: TestApp;
  let api: () => Promise<Caller>;
  let smtp: Smtp;
  let transport: MailTransport;
  /** Refusals still to give, per recipient at RCPT TO and per To address at DATA; -1 refuses forever. */
  const refuseRcpt = new Map<string, number>();
  const refuseData = new Map<string, number>();
  const unknownMailboxes = new Set<string>();
  const take = (m: Map<string, number>, key: string) => {
    const left = m.get(key.toLowerCase());
    if (!left) return false;
    if (left > 0) m.set(key.toLowerCase(), left - 1);
    return true;
  };
  beforeAll(async () => {
    t = await createTestApp();
    api = apiCaller(t);
    smtp = await startSmtp({
      onRcpt: (address) =>
        unknownMailboxes.has(address.toLowerCase())
          ? { code: 550, message: '5.1.1 No such mailbox' }
          : take(refuseRcpt, address)
            ? { code: 451, message: '4.7.1 Greylisted, try again later' }
            : null,
      onData: ({ mail }) => (addresses(mail.to).some((a) => take(refuseData, a)) ? { code: 451, message: '4.3.0 Mailbox temporarily unavailable' } : null),
    });
    transport = createMailTransport(`smtp://127.0.0.1:${smtp.port}`);
  });
  afterAll(async () => {
    transport?.close();
    await smtp?.close();
    await t?.close();
  });

  const rowFor = async (email: string) => (await mailRows(t)).find((r) => (JSON.parse(r.to_addresses) as string[]).includes(email))!;
  const receivedBy = (email: string) => smtp.received.filter((r) => toOf(r).includes(email));

  it('a recipient refused with 451 is retried with backoff and delivered once the server accepts it', async () => {
    refuseRcpt.set('grey@fabrikam.test', 3);
    await invite(t, await api(), 'grey@fabrikam.test');
    expect(await runJobs(t, transport)).toBe(1);
    let row = await rowFor('grey@fabrikam.test');
    expect(row.status).toBe('retrying');
    expect(row.last_error).toContain('451');
    expect((await invitationsByEmail(t, await api())).get('grey@fabrikam.test')?.deliveryState).toBe('retrying');
    expect(await runJobs(t, transport)).toBe(0);
    expect(receivedBy('grey@fabrikam.test')).toHaveLength(0);

    await drainWithBackoff(t, transport);
    expect(smtp.refusedRcpt.filter((a) => a === 'grey@fabrikam.test')).toHaveLength(3);
    expect(receivedBy('grey@fabrikam.test')).toHaveLength(1);
    row = await rowFor('grey@fabrikam.test');
    expect(row).toMatchObject({ status: 'sent', attempts: 4, last_error: null });
    expect((await invitationsByEmail(t, await api())).get('grey@fabrikam.test')?.deliveryState).toBe('sent');
  });

  it('a message refused at DATA with 451 is retried and delivered once, under one Message-ID', async () => {
    refuseData.set('busy@fabrikam.test', 2);
    await invite(t, await api(), 'busy@fabrikam.test');
    expect(await runJobs(t, transport)).toBe(1);
    expect((await rowFor('busy@fabrikam.test')).status).toBe('retrying');
    await drainWithBackoff(t, transport);
    const refused = smtp.refusedData.filter((r) => toOf(r).includes('busy@fabrikam.test'));
    const got = receivedBy('busy@fabrikam.test');
    expect(refused).toHaveLength(2);
    expect(got).toHaveLength(1);
    const row = await rowFor('busy@fabrikam.test');
    expect(new Set([...refused, ...got].map((r) => r.mail.messageId))).toEqual(new Set([`<${row.id}@foyer.mail>`]));
    expect(row).toMatchObject({ status: 'sent', attempts: 3 });
    expect((await invitationsByEmail(t, await api())).get('busy@fabrikam.test')?.deliveryState).toBe('sent');
  });

  it('the invitee refused while the cc is accepted is not reported sent: it is retried until the invitee has it', async () => {
    refuseRcpt.set('picky@fabrikam.test', 1);
    await invite(t, await api(), 'picky@fabrikam.test', { ccRecipients: [{ emailAddress: { address: 'boss@fabrikam.test', name: 'Boss' } }] });
    expect(await runJobs(t, transport)).toBe(1);
    const first = await rowFor('picky@fabrikam.test');
    expect(first.status).toBe('retrying');
    expect(first.last_error).toMatch(/picky@fabrikam\.test.*451/);
    expect(smtp.received.filter((r) => r.rcptTo.includes('boss@fabrikam.test'))).toHaveLength(1);
    expect((await invitationsByEmail(t, await api())).get('picky@fabrikam.test')?.deliveryState).toBe('retrying');
    await drainWithBackoff(t, transport);
    const got = smtp.received.filter((r) => r.rcptTo.includes('picky@fabrikam.test'));
    expect(got).toHaveLength(1);
    const row = await rowFor('picky@fabrikam.test');
    expect(row).toMatchObject({ status: 'sent', attempts: 2 });
    // The cc may see the message twice, always under the same Message-ID for its server to drop.
    const ccCopies = smtp.received.filter((r) => r.rcptTo.includes('boss@fabrikam.test'));
    expect(ccCopies.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ccCopies.map((r) => r.mail.messageId))).toEqual(new Set([`<${row.id}@foyer.mail>`]));
    expect((await invitationsByEmail(t, await api())).get('picky@fabrikam.test')?.deliveryState).toBe('sent');
  });

  it('a cc the server does not know does not hold back the invitee’s message, nor send it twice', async () => {
    unknownMailboxes.add('gone@fabrikam.test');
    await invite(t, await api(), 'kept@fabrikam.test', { ccRecipients: [{ emailAddress: { address: 'gone@fabrikam.test', name: 'Gone' } }] });
    expect(await runJobs(t, transport)).toBe(1);
    expect(smtp.refusedRcpt).toContain('gone@fabrikam.test');
    expect(receivedBy('kept@fabrikam.test')).toHaveLength(1);
    expect(await rowFor('kept@fabrikam.test')).toMatchObject({ status: 'sent', attempts: 1 });
    expect((await invitationsByEmail(t, await api())).get('kept@fabrikam.test')?.deliveryState).toBe('sent');
    await drainWithBackoff(t, transport);
    expect(receivedBy('kept@fabrikam.test')).toHaveLength(1);
  });

  it('a message refused on every attempt ends failed after its last one, and so does the invitation’s delivery', async () => {
    refuseData.set('never@fabrikam.test', -1);
    await invite(t, await api(), 'never@fabrikam.test');
    expect(await runJobs(t, transport)).toBe(1);
    const rounds = await drainWithBackoff(t, transport);
    const row = await rowFor('never@fabrikam.test');
    const job = await t.database.db.selectFrom('jobs').selectAll().where('payload', 'like', `%${row.id}%`).executeTakeFirstOrThrow();
    expect(rounds).toBe(11);
    expect(job).toMatchObject({ status: 'failed', attempts: 12, max_attempts: 12 });
    expect(row).toMatchObject({ status: 'failed', attempts: 12, sent_at: null });
    expect(row.last_error).toContain('451');
    expect(smtp.refusedData.filter((r) => toOf(r).includes('never@fabrikam.test'))).toHaveLength(12);
    expect(receivedBy('never@fabrikam.test')).toHaveLength(0);
    expect((await invitationsByEmail(t, await api())).get('never@fabrikam.test')?.deliveryState).toBe('failed');
    // Failed is final: later runs do not try again.
    t.clock.advance(hours(24));
    expect(await runJobs(t, transport)).toBe(0);
  });
});
