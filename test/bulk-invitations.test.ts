import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MailTransport } from '../src/mail/transport.js';
import { call, createMember, createTestApp, expectGraphError, MEMBER_PASSWORD, outboxFor, runJobs, type Caller, type TestApp } from './helpers/test-app.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const entraSample = readFileSync(path.join(here, '../../shared/reference/bulk-invite-template.csv'), 'utf8');
const REDIRECT = 'https://apps.contoso.test/start';

interface Bulk {
  id: string;
  status: string;
  total: number;
  processed: number;
  succeeded: number;
  failed: number;
  alreadyInvited: number;
}

describe('bulk invitations', () => {
  let t: TestApp;
  let admin: Caller;

  const upload = (caller: Caller, body: string | Buffer, query = '', type = 'text/csv') =>
    call(t, caller, { method: 'POST', url: `/v1.0/foyer/bulkInvitations${query}`, headers: { 'content-type': type }, payload: body });
  /** Uploads, runs the job to the end, and answers the final state and the result file's lines. */
  async function invite(body: string | Buffer, query = '') {
    const res = await upload(admin, body, query);
    if (res.statusCode !== 202) throw new Error(`upload: ${res.statusCode} ${res.body}`);
    const accepted = res.json() as Bulk;
    await runJobs(t);
    const bulk = (await call(t, admin, { method: 'GET', url: `/v1.0/foyer/bulkInvitations/${accepted.id}` })).json() as Bulk;
    return { accepted, bulk, results: await results(bulk.id) };
  }
  async function results(id: string, query = '') {
    const res = await call(t, admin, { method: 'GET', url: `/v1.0/foyer/bulkInvitations/${id}/results${query}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...lines] = res.body
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(header).toBe('line,email,status,userId,redeemUrl,column,reason');
    return lines.map((l) => {
      const cells = l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '').replace(/""/g, '"'));
      return { line: Number(cells[0]), email: cells[1]!, status: cells[2]!, userId: cells[3]!, redeemUrl: cells[4]!, column: cells[5]!, reason: cells[6]! };
    });
  }
  const createGroup = async (displayName: string, mailNickname: string) =>
    (
      await call(t, admin, { method: 'POST', url: '/v1.0/groups', payload: { displayName, mailEnabled: false, mailNickname, securityEnabled: true } })
    ).json() as {
      id: string;
    };
  const auditsOf = async (id: string) =>
    (
      await call(t, admin, { method: 'GET', url: `/v1.0/auditLogs/directoryAudits?$filter=${encodeURIComponent(`targetResources/any(t: t/id eq '${id}')`)}` })
    ).json().value as { activityDisplayName: string; targetResources: { modifiedProperties: { displayName: string; newValue: string }[] }[] }[];
  /** The counts the "Batch invites processed" audit entry of an upload records. */
  const processedCounts = async (id: string) =>
    Object.fromEntries(
      (await auditsOf(id))
        .find((a) => a.activityDisplayName === 'Batch invites processed')!
        .targetResources[0]!.modifiedProperties.map((p) => [p.displayName, p.newValue]),
    );
  const guestByMail = async (mail: string) =>
    (
      await call(t, admin, {
        method: 'GET',
        url: `/v1.0/users?$filter=${encodeURIComponent(`mail eq '${mail}'`)}&$select=id,mail,displayName,userType,externalUserState,creationType`,
      })
    ).json().value as { id: string; displayName: string; userType: string; externalUserState: string }[];

  beforeAll(async () => {
    t = await createTestApp();
    admin = { token: await t.clientToken(['User.Invite.All', 'User.ReadWrite.All', 'Group.ReadWrite.All', 'AuditLog.Read.All', 'Directory.ReadWrite.All']) };
  });
  afterAll(() => t.close());

  it("invites the lines of Entra's template sample: guests, links that work, emails only where asked", async () => {
    const { accepted, bulk, results: lines } = await invite(entraSample);
    expect(accepted).toMatchObject({ status: 'queued', total: 2, processed: 0 });
    expect(bulk).toMatchObject({ status: 'completed', total: 2, processed: 2, succeeded: 2, failed: 0, alreadyInvited: 0 });
    expect(lines.map((l) => [l.line, l.email, l.status])).toEqual([
      [4, 'ana.vries@fabrikam.test', 'succeeded'],
      [5, 'bo.jansen@northwind.test', 'succeeded'],
    ]);
    const [ana] = await guestByMail('ana.vries@fabrikam.test');
    expect(ana).toMatchObject({ id: lines[0]!.userId, userType: 'Guest', externalUserState: 'PendingAcceptance' });
    // The results file's link is the one in the email, and it opens the redemption page.
    const [mail] = await outboxFor(t, 'ana.vries@fabrikam.test');
    expect(mail!.text).toContain(lines[0]!.redeemUrl);
    expect(mail!.text).toContain('Welkom bij het project');
    const page = await t.app.inject({ method: 'GET', url: new URL(lines[0]!.redeemUrl).pathname + new URL(lines[0]!.redeemUrl).search });
    expect(page.statusCode).toBe(200);
    expect(await outboxFor(t, 'bo.jansen@northwind.test')).toEqual([]);
    const list = (await call(t, admin, { method: 'GET', url: "/v1.0/foyer/invitations?$filter=source eq 'bulk'" })).json().value as unknown[];
    expect(list.length).toBeGreaterThanOrEqual(2);
  });

  it('re-uploading the same file reports existing guests as already invited and creates no one', async () => {
    const { bulk, results: lines } = await invite(entraSample);
    expect(bulk).toMatchObject({ succeeded: 0, alreadyInvited: 2, failed: 0 });
    expect(lines.every((l) => l.status === 'alreadyInvited' && l.userId)).toBe(true);
    expect(await guestByMail('ana.vries@fabrikam.test')).toHaveLength(1);
  });

  it('reads a plain CSV with names, messages and groups by name or id, and adds every guest to the upload groups', async () => {
    const g1 = await createGroup('Partners', 'partners');
    const g2 = await createGroup('Course 2026', 'course');
    const csv = [
      'Email,DisplayName,RedirectUrl,SendEmail,Message,Groups',
      `cas@plain.test,Cas Plain,,false,,partners`,
      `dee@plain.test,"Dee, Jr.",${REDIRECT},FALSE,"Line one\nline two",${g1.id};Course 2026`,
      `eve@plain.test,Eve,,false,,No Such Group`,
    ].join('\n');
    const { bulk, results: lines } = await invite(csv, `?redirectUrl=${encodeURIComponent(REDIRECT)}&groups=${g2.id}`);
    expect(bulk).toMatchObject({ total: 3, succeeded: 2, failed: 1 });
    // Lines are counted as a spreadsheet shows them: a quoted newline stays inside its row.
    expect(lines[2]).toMatchObject({
      line: 4,
      email: 'eve@plain.test',
      status: 'failed',
      column: 'groups',
      reason: "The group 'No Such Group' was not found.",
    });
    const [dee] = await guestByMail('dee@plain.test');
    expect(dee!.displayName).toBe('Dee, Jr.');
    const members = async (id: string) =>
      ((await call(t, admin, { method: 'GET', url: `/v1.0/groups/${id}/members?$select=mail` })).json().value as { mail: string }[]).map((m) => m.mail).sort();
    expect(await members(g1.id)).toEqual(['cas@plain.test', 'dee@plain.test']);
    expect(await members(g2.id)).toEqual(['cas@plain.test', 'dee@plain.test']);
  });

  it('reads BOM, CRLF, quoted commas and newlines, blank lines and extra columns, and reports bad lines by line and column', async () => {
    expect(
      (await call(t, admin, { method: 'PATCH', url: '/v1.0/foyer/policies/collaboration', payload: { mode: 'deny', domains: ['blocked.test'] } })).statusCode,
    ).toBe(204);
    const csv =
      '\uFEFFversion:v1.0,,,,\r\n' +
      'Extra,Customized invitation message [customizedMessageBody],Redirection url [inviteRedirectURL] Required,Email address to invite [inviteeEmail] Required,Send invitation message (true or false) [sendEmail]\r\n' +
      `x,"Hello, ""friend""\r\nsecond line",${REDIRECT},quote@nasty.test,true\r\n` +
      '\r\n' +
      `x,,${REDIRECT},not-an-email,true\r\n` +
      `x,,${REDIRECT},someone@blocked.test,true\r\n` +
      `x,,,noredirect@nasty.test,true\r\n` +
      `x,,${REDIRECT},maybe@nasty.test,yes\r\n` +
      `x,,${REDIRECT},QUOTE@nasty.test,false\r\n`;
    const { bulk, results: lines } = await invite(csv);
    await call(t, admin, { method: 'PATCH', url: '/v1.0/foyer/policies/collaboration', payload: { mode: 'none', domains: [] } });
    expect(bulk).toMatchObject({ total: 6, succeeded: 1, failed: 5 });
    expect(lines.map((l) => [l.line, l.status, l.column])).toEqual([
      [3, 'succeeded', ''],
      [5, 'failed', 'inviteeEmail'],
      [6, 'failed', 'inviteeEmail'],
      [7, 'failed', 'inviteRedirectURL'],
      [8, 'failed', 'sendEmail'],
      [9, 'failed', 'inviteeEmail'],
    ]);
    expect(lines[1]!.reason).toBe("The email address 'not-an-email' is not valid.");
    expect(lines[2]!.reason).toMatch(/blocked\.test.*blocked/);
    expect(lines[5]!.reason).toBe('Duplicate of line 3.');
    const [mail] = await outboxFor(t, 'quote@nasty.test');
    expect(mail!.text).toMatch(/Hello, "friend"\r?\nsecond line/);
    const failedOnly = await results(bulk.id, '?status=failed');
    expect(failedOnly.map((l) => l.line)).toEqual([5, 6, 7, 8, 9]);
  });

  it('numbers lines as a spreadsheet does when blank lines come before the header and between lines', async () => {
    const csv = '\r\n\r\nemail,displayName\r\n\r\nbad,x\r\n , \r\nok@lines.test,"two\r\nlines"\r\nbad2,y';
    const res = await upload(admin, csv, `?validateOnly=true&redirectUrl=${encodeURIComponent(REDIRECT)}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ format: 'plain', total: 3, valid: 1, failed: 2 });
    expect((res.json() as { errors: { line: number }[] }).errors.map((e) => e.line)).toEqual([5, 8]);
  });

  it('10,000 copies of one line invite one guest and report the rest as duplicates', async () => {
    const csv = 'email\n' + 'same@dupes.test\n'.repeat(10_000);
    const { bulk, results: lines } = await invite(csv, `?redirectUrl=${encodeURIComponent(REDIRECT)}`);
    expect(bulk).toMatchObject({ total: 10_000, succeeded: 1, failed: 9_999, processed: 10_000 });
    expect(lines).toHaveLength(10_000);
    expect(lines.filter((l) => l.reason === 'Duplicate of line 2.')).toHaveLength(9_999);
    expect(await guestByMail('same@dupes.test')).toHaveLength(1);
    // Five full batches: the job completes with the fifth.
    expect(await processedCounts(bulk.id)).toEqual({ succeeded: '1', failed: '9999', alreadyInvited: '0' });
  });

  it.each([
    ['a binary file', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08, 0x00, 0xff, 0xfe]), /binary/],
    ['text that is not UTF-8', Buffer.from('email\nj\xf6rg@x.test\n', 'latin1'), /UTF-8/],
    ['an empty file', '', /empty/],
    ['a file with only the headers', 'version:v1.0\nEmail [inviteeEmail],Url [inviteRedirectURL]\n', /no lines to invite/],
    ['a template header without [inviteRedirectURL]', 'version:v1.0\nEmail address to invite [inviteeEmail] Required\na@b.test\n', /\[inviteRedirectURL\]/],
    ['a CSV without an email column', 'name,company\nAna,Fabrikam\n', /email/],
    ['an unclosed quote', 'email\n"a@b.test\n', /not valid CSV/],
  ])('answers 400 for %s and writes nothing', async (_name, body, message) => {
    const before = (await call(t, admin, { method: 'GET', url: '/v1.0/foyer/bulkInvitations' })).json().value.length;
    expectGraphError(await upload(admin, body), 400, 'Request_BadRequest', message);
    expect((await call(t, admin, { method: 'GET', url: '/v1.0/foyer/bulkInvitations' })).json().value).toHaveLength(before);
  });

  it('refuses files over the row limit and the size limit', async () => {
    expectGraphError(await upload(admin, 'email\n' + 'x@y.test\n'.repeat(50_001)), 400, 'Request_BadRequest', /more than 50000 lines/);
    expectGraphError(await upload(admin, 'email\n' + `${'x'.repeat(1000)}@y.test\n`.repeat(9000)), 400, 'Request_BadRequest', /larger than the upload limit/);
  });

  it('a problem found deep in the file, after lines were stored, leaves nothing written', async () => {
    const count = async (table: 'bulk_invitations' | 'bulk_invitation_rows' | 'jobs') =>
      Number(
        (
          await t.database.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const stored = async () => ({ uploads: await count('bulk_invitations'), lines: await count('bulk_invitation_rows'), jobs: await count('jobs') });
    const before = await stored();
    const good = Array.from({ length: 12_000 }, (_, i) => `deep${i}@deep.test`).join('\n');
    const options = `?redirectUrl=${encodeURIComponent(REDIRECT)}`;
    // Each is found after more than two chunks of 5,000 lines went into the upload's transaction.
    expectGraphError(await upload(admin, `email\n${good}\n"unclosed@deep.test\n`, options), 400, 'Request_BadRequest', /not valid CSV/);
    expectGraphError(await upload(admin, `email\n${good}\n` + 'more@deep.test\n'.repeat(40_000), options), 400, 'Request_BadRequest', /more than 50000 lines/);
    expect(await stored()).toEqual(before);
  });

  it('finds groups a file names for the first time thousands of lines in, and refuses a file naming more than 10,000 groups', async () => {
    const group = await createGroup('Late Group', 'late');
    const lines = Array.from({ length: 7_000 }, (_, i) => `late${i}@late.test,${i === 6_500 ? 'late group' : i === 6_600 ? 'Missing Group' : ''}`);
    const { bulk, results: outcomes } = await invite(`email,groups\n${lines.join('\n')}\n`, `?redirectUrl=${encodeURIComponent(REDIRECT)}`);
    expect(bulk).toMatchObject({ total: 7_000, succeeded: 6_999, failed: 1 });
    // Three full batches and a short one: the upload completes with the short one.
    expect(await processedCounts(bulk.id)).toEqual({ succeeded: '6999', failed: '1', alreadyInvited: '0' });
    expect(outcomes.find((l) => l.status === 'failed')).toMatchObject({ line: 6_602, column: 'groups', reason: "The group 'Missing Group' was not found." });
    const members = (await call(t, admin, { method: 'GET', url: `/v1.0/groups/${group.id}/members?$select=mail` })).json().value as { mail: string }[];
    expect(members.map((m) => m.mail)).toEqual(['late6500@late.test']);

    const tooMany = Array.from({ length: 10_001 }, (_, i) => `many${i}@many.test,group ${i}`).join('\n');
    expectGraphError(
      await upload(admin, `email,groups\n${tooMany}\n`, `?redirectUrl=${encodeURIComponent(REDIRECT)}`),
      400,
      'Request_BadRequest',
      /more than 10,000 different groups/,
    );
    // All on one line: refused before any lookup (a statement with that many names would fail).
    const oneLine = Array.from({ length: 40_000 }, (_, i) => `g${i}`).join(';');
    expectGraphError(
      await upload(admin, `email,groups\none@many.test,"${oneLine}"\n`, `?redirectUrl=${encodeURIComponent(REDIRECT)}`),
      400,
      'Request_BadRequest',
      /more than 10,000 different groups/,
    );
  });

  it('validateOnly=true previews the counts and the first problems and writes nothing', async () => {
    const before = (await call(t, admin, { method: 'GET', url: '/v1.0/foyer/bulkInvitations' })).json().value.length;
    const csv = 'email,redirectUrl\nok@preview.test,https://apps.contoso.test\nbad,https://apps.contoso.test\nok@preview.test,https://apps.contoso.test\n';
    const res = await upload(admin, csv, '?validateOnly=true');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      format: 'plain',
      total: 3,
      valid: 1,
      failed: 2,
      errors: [
        { line: 3, email: 'bad', column: 'email', reason: "The email address 'bad' is not valid." },
        { line: 4, email: 'ok@preview.test', column: 'email', reason: 'Duplicate of line 2.' },
      ],
    });
    expect((await call(t, admin, { method: 'GET', url: '/v1.0/foyer/bulkInvitations' })).json().value).toHaveLength(before);
    expect(await guestByMail('ok@preview.test')).toEqual([]);
    expectGraphError(await upload(admin, 'nothing useful', '?validateOnly=true'), 400, 'Request_BadRequest');
  });

  it('takes a multipart upload with options as form fields', async () => {
    const boundary = '----foyer-test';
    const body =
      `--${boundary}\r\nContent-Disposition: form-data; name="redirectUrl"\r\n\r\n${REDIRECT}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="guests.csv"\r\nContent-Type: text/csv\r\n\r\nemail,sendEmail\r\nform@multipart.test,false\r\n` +
      `--${boundary}--\r\n`;
    const res = await upload(admin, body, '', `multipart/form-data; boundary=${boundary}`);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ fileName: 'guests.csv', total: 1 });
    await runJobs(t);
    expect(await guestByMail('form@multipart.test')).toHaveLength(1);
    expectGraphError(
      await upload(
        admin,
        `--${boundary}\r\nContent-Disposition: form-data; name="x"\r\n\r\ny\r\n--${boundary}--\r\n`,
        '',
        `multipart/form-data; boundary=${boundary}`,
      ),
      400,
      'Request_BadRequest',
      /no file/,
    );
  });

  it('spaces an upload’s emails at the mail rate and audits the upload and its outcome', async () => {
    const csv = 'email,sendEmail\n' + Array.from({ length: 30 }, (_, i) => `rate${i}@rate.test,true`).join('\n');
    const res = await upload(admin, csv, `?redirectUrl=${encodeURIComponent(REDIRECT)}`);
    const { id } = res.json() as Bulk;
    await runJobs(t);
    const runAts = (
      await t.database.db
        .selectFrom('jobs')
        .innerJoin('mail_messages as m', (j) => j.on(sql`jobs.payload`, '=', sql`'{"mailId":"' || m.id || '"}'`))
        .select('jobs.run_at')
        .where('m.to_addresses', 'like', '%@rate.test%')
        .orderBy('jobs.run_at')
        .execute()
    ).map((j) => Date.parse(j.run_at));
    expect(runAts).toHaveLength(30);
    // 1,000 a second in tests: one millisecond apart.
    for (let i = 1; i < runAts.length; i++) expect(runAts[i]! - runAts[i - 1]!).toBe(1);
    const audits = await auditsOf(id);
    expect(audits.map((a) => a.activityDisplayName).sort()).toEqual(['Batch invites processed', 'Batch invites uploaded']);
    expect(await processedCounts(id)).toEqual({ succeeded: '30', failed: '0', alreadyInvited: '0' });
  });

  it('gives other jobs a turn between slices of a long job: an email queued after the upload leaves before the job ends', async () => {
    const csv = 'email\n' + Array.from({ length: 4_001 }, (_, i) => `turn${i}@turns.test`).join('\n');
    const { id } = (await upload(admin, csv, `?redirectUrl=${encodeURIComponent(REDIRECT)}`)).json() as Bulk;
    t.clock.advance(10);
    const invitation = await call(t, admin, {
      method: 'POST',
      url: '/v1.0/invitations',
      payload: { invitedUserEmailAddress: 'single@turns.test', inviteRedirectUrl: REDIRECT, sendInvitationMessage: true },
    });
    expect(invitation.statusCode).toBe(201);
    // What the upload had done when the single invitation's email was sent.
    let processedAtSend: number | null = null;
    const transport: MailTransport = {
      kind: 'outbox',
      close: () => {},
      send: async (mail) => {
        if (mail.to.includes('single@turns.test'))
          processedAtSend = (await t.database.db.selectFrom('bulk_invitations').select('processed').where('id', '=', id).executeTakeFirstOrThrow()).processed;
      },
    };
    // A slice of one batch (2,000 lines) here; a second in production. Without slices the job
    // would invite all 4,001 lines before the worker took the email.
    await runJobs(t, transport, 0);
    expect(processedAtSend).toBeGreaterThan(0);
    expect(processedAtSend).toBeLessThan(4_001);
    const bulk = (await call(t, admin, { method: 'GET', url: `/v1.0/foyer/bulkInvitations/${id}` })).json() as Bulk;
    expect(bulk).toMatchObject({ status: 'completed', processed: 4_001, succeeded: 4_001 });
  });

  it('cancels: lines not yet invited are reported as not processed', async () => {
    const res = await upload(admin, 'email\nc1@cancel.test\nc2@cancel.test\n', `?redirectUrl=${encodeURIComponent(REDIRECT)}`);
    const { id } = res.json() as Bulk;
    const cancelled = await call(t, admin, { method: 'POST', url: `/v1.0/foyer/bulkInvitations/${id}/cancel` });
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', processed: 0 });
    await runJobs(t);
    expect((await results(id)).map((l) => l.status)).toEqual(['notProcessed', 'notProcessed']);
    expect(await guestByMail('c1@cancel.test')).toEqual([]);
    expectGraphError(await call(t, admin, { method: 'POST', url: `/v1.0/foyer/bulkInvitations/${id}/cancel` }), 400, 'Request_BadRequest', /already/);
  });

  it('serves the template and lists past uploads with their counts', async () => {
    const template = await call(t, admin, { method: 'GET', url: '/v1.0/foyer/bulkInvitations/template' });
    expect(template.headers['content-disposition']).toContain('attachment');
    expect(template.body.split('\r\n')[0]).toBe('version:v1.0');
    expect(template.body).toContain('[inviteeEmail]');
    const list = (await call(t, admin, { method: 'GET', url: '/v1.0/foyer/bulkInvitations' })).json().value as Bulk[];
    expect(list[0]).toMatchObject({ status: expect.any(String), total: expect.any(Number), succeeded: expect.any(Number), failed: expect.any(Number) });
    expectGraphError(
      await call(t, admin, { method: 'GET', url: '/v1.0/foyer/bulkInvitations/00000000-0000-0000-0000-000000000001' }),
      404,
      'Request_ResourceNotFound',
    );
    expectGraphError(await call(t, admin, { method: 'GET', url: '/v1.0/foyer/bulkInvitations/nope/results' }), 404, 'Request_ResourceNotFound');
  });

  it('is for administrators, Guest Inviters and clients with User.Invite.All only', async () => {
    const memberId = await createMember(t, admin, 'Bulk Member');
    expect(memberId).toBeTruthy();
    const member: Caller = { session: await t.signIn('bulkmember@contoso.test', MEMBER_PASSWORD) };
    expectGraphError(await upload(member, 'email\na@b.test\n', `?redirectUrl=${encodeURIComponent(REDIRECT)}`), 403, 'Authorization_RequestDenied');
    expectGraphError(await call(t, member, { method: 'GET', url: '/v1.0/foyer/bulkInvitations' }), 403, 'Authorization_RequestDenied');
    const reader: Caller = { token: await t.clientToken(['User.Read.All']) };
    expectGraphError(await upload(reader, 'email\na@b.test\n'), 403, 'Authorization_RequestDenied');
    expectGraphError(await upload(null, 'email\na@b.test\n'), 401, 'Authentication_MissingOrMalformed');
  });
});
