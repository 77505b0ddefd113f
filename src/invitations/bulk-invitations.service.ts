import type { Readable } from 'node:stream';
import { PostgresAdapter, sql, type Kysely, type Selectable } from 'kysely';
import type { BulkInvitationRowsTable, BulkInvitationsTable, BulkRowStatus, Database, GroupMembershipsTable } from '../db/schema.js';
import type { Clock } from '../clock.js';
import type { RequestContext } from '../http/context.js';
import type { JobHandler } from '../jobs/worker.js';
import { badRequest, forbidden, notFound } from '../graph/errors.js';
import { can, requireAccess, type Actor } from '../auth/permissions.js';
import { insertMany } from '../db/bulk-insert.js';
import { enqueueJob } from '../jobs/jobs.repository.js';
import { signalJobsCommitted } from '../jobs/job-signals.js';
import { isGuid, newId } from '../ids.js';
import { emailDomain, emailProblem } from '../directory/email.js';
import { buildUserRow } from '../directory/user-row.js';
import { insertUsers, type UserRow } from '../directory/users.repository.js';
import { findTenant, type Tenant } from '../tenancy/tenants.service.js';
import { recordAudit, recordAudits, type AuditEntry } from '../audit/audit.service.js';
import { queueMails, type QueuedMail } from '../mail/mail-queue.js';
import { domainAllowed } from './collaboration-policy.js';
import { guestUpn, newInvitationRow, requireMayInvite, type InvitationRow } from './invitations.service.js';
import { invitationMessage, invitationToken, redeemLink } from './invitation-mail.js';
import { csvLine } from '../http/csv.js';
import { BulkFileError, ENTRA_TEMPLATE, readBulkFile, type BulkFormat, type BulkLine } from './bulk-csv.js';

export const BULK_INVITE_JOB = 'bulk.invite';

type BulkRow = Selectable<BulkInvitationsTable>;
type LineRow = BulkInvitationRowsTable;
type ResolvedGroup = { id: string; name: string; allowed: boolean };

export interface BulkSettings {
  bulkMaxRows: number;
  mailRatePerSecond: number;
  inviteTtlDays: number;
  mailFrom: string;
  /** How long a job invites before other jobs get a turn (ms; default SLICE_MS). */
  sliceMs?: number;
}

export interface BulkOptions {
  /** Used for lines without a redirect URL. */
  redirectUrl?: string;
  /** Language of the invitation emails (en or nl). */
  language?: string;
  /** Groups (ids) every invited guest joins. */
  groups?: string[];
}

/** Options as stored with the upload: what the job needs to invite the lines later, anywhere. */
interface StoredOptions {
  redirectUrl: string | null;
  language: string | null;
  groups: string[];
  baseUrl: string;
}

/** Lines the upload stores per statement, and the job invites per transaction. */
const UPLOAD_CHUNK = 5000;
const LINES_PER_TRANSACTION = 2000;
/** PostgreSQL: the directory is analyzed when a job has invited this many lines, and ten and a hundred times as many. */
const ANALYZE_AFTER = LINES_PER_TRANSACTION;
/** Different groups one file may name. */
const MAX_GROUPS = 10_000;
/** Problems a validation preview lists. */
const PREVIEW_ERRORS = 20;
/**
 * The job gives other jobs a turn after this long: the worker runs one job at a time, and a
 * guest's sign-in code, or the upload's own emails at their due times, should not wait for the
 * end of a 100,000-line job.
 */
const SLICE_MS = 1000;

/** The column names an error points at, as the file names them. */
const columnNames: Record<BulkFormat, Record<'email' | 'redirectUrl' | 'sendEmail' | 'groups' | 'displayName' | 'message', string>> = {
  entra: {
    email: 'inviteeEmail',
    redirectUrl: 'inviteRedirectURL',
    sendEmail: 'sendEmail',
    groups: 'groups',
    displayName: 'inviteeName',
    message: 'customizedMessageBody',
  },
  plain: { email: 'email', redirectUrl: 'redirectUrl', sendEmail: 'sendEmail', groups: 'groups', displayName: 'displayName', message: 'message' },
};

/** The group names or ids of a line's groups cell (separated by semicolons). */
const groupReferences = (cell: string): string[] =>
  cell
    ? cell
        .split(';')
        .map((g) => g.trim())
        .filter(Boolean)
    : [];

function httpUrl(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : null;
  } catch {
    return null;
  }
}

/** The uploader, as the job acts for them: the inviter of every invitation and the initiator in the audit log. */
function uploaderOf(bulk: BulkRow): Actor {
  return bulk.created_by_type === 'app'
    ? { kind: 'app', tenantId: bulk.tenant_id, clientId: bulk.created_by_id, displayName: bulk.created_by_display_name, permissions: new Set() }
    : {
        kind: 'user',
        tenantId: bulk.tenant_id,
        userId: bulk.created_by_id,
        displayName: bulk.created_by_display_name,
        userPrincipalName: bulk.created_by_upn ?? '',
        userType: 'Member',
        roles: new Set(),
        sessionTokenHash: '',
        guestAccess: '',
      };
}

/** An audit entry about an upload, its counts (if any) as modified properties. */
function uploadAudit(bulk: BulkRow, activity: string, operationType: AuditEntry['operationType'], counts: Record<string, number> = {}): AuditEntry {
  const modifiedProperties = Object.entries(counts).map(([displayName, n]) => ({ displayName, oldValue: null, newValue: String(n) }));
  return {
    activity,
    category: 'UserManagement',
    operationType,
    targets: [{ id: bulk.id, displayName: bulk.file_name, type: 'Other', ...(modifiedProperties.length ? { modifiedProperties } : {}) }],
  };
}

/** The API shape of an upload: Entra's "Bulk operation results" counts plus Foyer's progress. */
function toBulkInvitation(b: BulkRow) {
  return {
    id: b.id,
    status: b.status,
    fileName: b.file_name,
    total: b.total,
    processed: b.processed,
    succeeded: b.succeeded,
    failed: b.failed,
    alreadyInvited: b.already_invited,
    createdDateTime: b.created_at,
    completedDateTime: b.completed_at,
    createdBy: { id: b.created_by_id, displayName: b.created_by_display_name, type: b.created_by_type },
  };
}

export function createBulkInvitationsService(deps: { db: Kysely<Database>; clock: Clock; secret: string; settings: BulkSettings }) {
  const { db, clock, settings } = deps;
  /** Bulk invitation is for Global and User Administrators, Guest Inviters, and clients with User.Invite.All. */
  function requireBulkAccess(actor: Actor) {
    requireAccess(actor, 'users.invite');
  }

  async function findBulk(actor: Actor, id: string): Promise<BulkRow> {
    requireBulkAccess(actor);
    const bulk = isGuid(id)
      ? await db.selectFrom('bulk_invitations').selectAll().where('tenant_id', '=', actor.tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst()
      : undefined;
    if (!bulk) throw notFound(id);
    return bulk;
  }

  /**
   * Groups named in the file or the options, by id or display name, with whether the uploader may
   * add members. `executor` is the upload's transaction when there is one (on SQLite a query
   * outside it would wait for it to end).
   */
  async function resolveGroups(executor: Kysely<Database>, actor: Actor, references: Iterable<string>) {
    const wanted = [...new Set([...references].map((r) => r.toLowerCase()))];
    const resolved = new Map<string, ResolvedGroup | null>();
    if (wanted.length === 0) return resolved;
    const ids = wanted.filter(isGuid);
    const groups = await executor
      .selectFrom('groups')
      .select(['id', 'display_name', 'display_name_lower'])
      .where('tenant_id', '=', actor.tenantId)
      .where('deleted_at', 'is', null)
      .where((eb) => eb.or([...(ids.length ? [eb('id', 'in', ids)] : []), eb('display_name_lower', 'in', wanted)]))
      .execute();
    const owned =
      actor.kind === 'user' && !can(actor, 'groups.write')
        ? new Set(
            (
              await executor.selectFrom('group_memberships').select('group_id').where('user_id', '=', actor.userId).where('relation', '=', 'owner').execute()
            ).map((r) => r.group_id),
          )
        : null;
    for (const ref of wanted) {
      const g = groups.find((x) => x.id === ref) ?? groups.find((x) => x.display_name_lower === ref);
      resolved.set(ref, g ? { id: g.id, name: g.display_name, allowed: owned === null ? can(actor, 'groups.write') : owned.has(g.id) } : null);
    }
    return resolved;
  }

  function checkOptions(options: BulkOptions): { redirectUrl: string | null; language: string | null } {
    const redirectUrl = options.redirectUrl ? httpUrl(options.redirectUrl) : null;
    if (options.redirectUrl && !redirectUrl) throw badRequest(`The default redirect URL '${options.redirectUrl}' must be an absolute http or https URL.`);
    const language = options.language?.trim() || null;
    if (language && !/^[a-z]{2}(-[a-z]{2})?$/i.test(language))
      throw badRequest(`The language '${options.language}' is not a language tag such as 'en' or 'nl-NL'.`);
    return { redirectUrl, language };
  }

  /**
   * Checks one line and turns it into the stored row: 'pending' when it can be invited,
   * 'failed' with the column and reason when it cannot.
   */
  function validateLine(
    line: BulkLine,
    format: BulkFormat,
    context: {
      tenant: Tenant;
      defaults: { redirectUrl: string | null };
      seen: Map<string, number>;
      groups: Map<string, ResolvedGroup | null>;
      lastRedirect: { text: string; url: string | null };
    },
    bulkId: string,
  ): LineRow {
    const names = columnNames[format];
    const row: LineRow = {
      tenant_id: context.tenant.id,
      bulk_id: bulkId,
      line: line.line,
      email: line.email.slice(0, 320),
      display_name: line.displayName ? line.displayName.slice(0, 256) : null,
      redirect_url: null,
      send_email: 1,
      message: line.message ? line.message.slice(0, 10_000) : null,
      groups: '[]',
      status: 'pending',
      user_id: null,
      invitation_id: null,
      error_column: null,
      reason: null,
    };
    const fail = (column: keyof typeof names, reason: string): LineRow => ({ ...row, status: 'failed', error_column: names[column], reason });
    if (!line.email) return fail('email', 'The email address is missing.');
    const problem = emailProblem(line.email, [context.tenant.initialDomain]);
    if (problem) return fail('email', problem);
    const lower = line.email.toLowerCase();
    const earlier = context.seen.get(lower);
    if (earlier !== undefined) return fail('email', `Duplicate of line ${earlier}.`);
    context.seen.set(lower, line.line);
    const domain = emailDomain(line.email);
    if (!domainAllowed(context.tenant.collaborationPolicy, domain))
      return fail('email', `Invitations to '${domain}' are blocked by your organization's external collaboration settings.`);
    const redirect = line.redirectUrl || context.defaults.redirectUrl;
    if (!redirect) return fail('redirectUrl', 'The redirect URL is missing (and the upload has no default redirect URL).');
    // Most lines repeat one redirect URL: parsed once.
    if (redirect !== context.lastRedirect.text) context.lastRedirect = { text: redirect, url: httpUrl(redirect) };
    const redirectUrl = context.lastRedirect.url;
    if (!redirectUrl) return fail('redirectUrl', `The redirect URL '${redirect}' must be an absolute http or https URL.`);
    const send = line.sendEmail.toLowerCase();
    if (send !== '' && send !== 'true' && send !== 'false') return fail('sendEmail', `'${line.sendEmail}' is not TRUE or FALSE.`);
    const groupIds: string[] = [];
    for (const ref of groupReferences(line.groups)) {
      const group = context.groups.get(ref.toLowerCase());
      if (!group) return fail('groups', `The group '${ref}' was not found.`);
      if (!group.allowed) return fail('groups', `You cannot add members to the group '${group.name}'.`);
      groupIds.push(group.id);
    }
    return { ...row, redirect_url: redirectUrl, send_email: send === 'false' ? 0 : 1, groups: JSON.stringify([...new Set(groupIds)]) };
  }

  /** The checks before the file is read: who uploads, and the options with their groups. */
  async function checkUploader(ctx: RequestContext, options: BulkOptions) {
    const actor = ctx.actor;
    requireBulkAccess(actor);
    const tenant = (await findTenant(db, actor.tenantId))!;
    requireMayInvite(tenant, actor);
    const defaults = checkOptions(options);
    const optionGroups = await resolveGroups(db, actor, options.groups ?? []);
    for (const [ref, group] of optionGroups) {
      if (!group) throw notFound(ref);
      if (!group.allowed) throw forbidden(`You cannot add members to the group '${group.name}'.`);
    }
    return { actor, tenant, defaults, optionGroups: [...optionGroups.values()].map((g) => g!.id) };
  }

  /**
   * Reads the file once and checks its lines, a chunk at a time: the groups a chunk names are
   * looked up (in `executor`) before its lines are checked, and `onChunk` receives the checked
   * rows. A problem with the file as a whole is a 400; in an upload it comes out of the
   * transaction, so nothing is written.
   */
  async function checkFile(
    executor: Kysely<Database>,
    uploader: { actor: Actor; tenant: Tenant; defaults: { redirectUrl: string | null } },
    file: { open(): Readable },
    bulkId: string,
    onChunk: (rows: LineRow[]) => Promise<void>,
  ) {
    let format: BulkFormat = 'plain';
    const context = {
      tenant: uploader.tenant,
      defaults: uploader.defaults,
      seen: new Map<string, number>(),
      groups: new Map<string, ResolvedGroup | null>(),
      lastRedirect: { text: '', url: null },
    };
    let total = 0;
    let failed = 0;
    try {
      for await (const lines of readBulkFile(file.open, { maxRows: settings.bulkMaxRows, batchSize: UPLOAD_CHUNK, onFormat: (f) => (format = f) })) {
        const named = new Set<string>();
        for (const line of lines) for (const ref of groupReferences(line.groups)) if (!context.groups.has(ref.toLowerCase())) named.add(ref);
        // Counted before the lookup, which would otherwise take any number of names at once.
        if (context.groups.size + named.size > MAX_GROUPS) throw badRequest(`The file names more than ${MAX_GROUPS.toLocaleString('en')} different groups.`);
        if (named.size > 0) for (const [ref, group] of await resolveGroups(executor, uploader.actor, named)) context.groups.set(ref, group);
        const rows = lines.map((line) => validateLine(line, format, context, bulkId));
        for (const row of rows) if (row.status === 'failed') failed++;
        total += rows.length;
        await onChunk(rows);
      }
    } catch (error) {
      throw error instanceof BulkFileError ? badRequest(error.message) : error;
    }
    return { format, total, failed };
  }

  /**
   * Stores an upload in one transaction: every line checked and stored as the file is read, the
   * upload record, its audit entry and the job that will invite the lines.
   */
  async function upload(ctx: RequestContext, file: { open(): Readable; name: string }, options: BulkOptions) {
    const uploader = await checkUploader(ctx, options);
    const { actor, defaults } = uploader;
    const now = clock.now().toISOString();
    const bulk: BulkRow = {
      tenant_id: actor.tenantId,
      id: newId(),
      status: 'queued',
      file_name: file.name.slice(0, 256),
      created_by_id: actor.kind === 'app' ? actor.clientId : actor.userId,
      created_by_type: actor.kind,
      created_by_display_name: actor.displayName,
      created_by_upn: actor.kind === 'user' ? actor.userPrincipalName : null,
      correlation_id: ctx.correlationId,
      options: JSON.stringify({
        redirectUrl: defaults.redirectUrl,
        language: defaults.language,
        groups: uploader.optionGroups,
        baseUrl: ctx.baseUrl,
      } satisfies StoredOptions),
      total: 0,
      processed: 0,
      succeeded: 0,
      failed: 0,
      already_invited: 0,
      mail_run_at: null,
      next_line: 0,
      created_at: now,
      completed_at: null,
    };
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('bulk_invitations').values(bulk).execute();
      const { total, failed } = await checkFile(trx, uploader, file, bulk.id, (rows) => insertMany(trx, 'bulk_invitation_rows', rows));
      // Lines that failed validation have their outcome already.
      Object.assign(bulk, { total, failed, processed: failed });
      await trx.updateTable('bulk_invitations').set({ total, failed, processed: failed }).where('id', '=', bulk.id).execute();
      await enqueueJob(trx, { type: BULK_INVITE_JOB, tenantId: actor.tenantId, payload: { bulkId: bulk.id }, runAt: now, maxAttempts: 100 }, now);
      await recordAudit(trx, actor, uploadAudit(bulk, 'Batch invites uploaded', 'Add', { lines: total }), ctx.correlationId, now);
    });
    signalJobsCommitted();
    return toBulkInvitation(bulk);
  }

  /** What an upload would do, without writing anything: counts and the first problems (the page's preview). */
  async function validate(ctx: RequestContext, file: { open(): Readable }, options: BulkOptions) {
    const uploader = await checkUploader(ctx, options);
    const errors: { line: number; email: string; column: string | null; reason: string | null }[] = [];
    const { format, total, failed } = await checkFile(db, uploader, file, '', async (rows) => {
      for (const row of rows)
        if (row.status === 'failed' && errors.length < PREVIEW_ERRORS)
          errors.push({ line: row.line, email: row.email, column: row.error_column, reason: row.reason });
    });
    return { format, total, valid: total - failed, failed, errors };
  }

  /** Live users whose mail, other mail or sign-in name is one of `emails` (lower-case). */
  async function usersByEmail(trx: Kysely<Database>, tenantId: string, emails: string[]) {
    const byEmail = new Map<string, Pick<UserRow, 'id' | 'user_type' | 'creation_type' | 'created_at'>>();
    const keep = (email: string, u: Pick<UserRow, 'id' | 'user_type' | 'creation_type' | 'created_at'>) => {
      const known = byEmail.get(email);
      if (!known || u.created_at < known.created_at) byEmail.set(email, u);
    };
    for (let i = 0; i < emails.length; i += 500) {
      const part = emails.slice(i, i + 500);
      for (const column of ['mail_lower', 'user_principal_name_lower'] as const) {
        const rows = await trx
          .selectFrom('users')
          .select(['id', 'user_type', 'creation_type', 'created_at', column])
          .where('tenant_id', '=', tenantId)
          .where(column, 'in', part)
          .where('deleted_at', 'is', null)
          .execute();
        for (const r of rows) keep((r as Record<string, string>)[column]!, r);
      }
      const others = await trx
        .selectFrom('user_other_mails as o')
        .innerJoin('users as u', 'u.id', 'o.user_id')
        .select(['u.id', 'u.user_type', 'u.creation_type', 'u.created_at', 'o.address_lower'])
        .where('o.tenant_id', '=', tenantId)
        .where('o.address_lower', 'in', part)
        .where('u.deleted_at', 'is', null)
        .execute();
      for (const r of others) keep(r.address_lower, r);
    }
    return byEmail;
  }

  /**
   * Invites the next lines of an upload in one transaction: the guests, their invitations, group
   * memberships, audit entries and queued emails, the lines' outcomes and the upload's counts.
   * The job's place moves in the same transaction, and a line is invited only while pending, so
   * a batch that is repeated after a crash finds its lines done and nothing is invited twice.
   * Returns false when the upload is finished.
   */
  async function inviteNextLines(bulkId: string): Promise<boolean> {
    return db.transaction().execute(async (trx) => {
      const bulk = await trx.selectFrom('bulk_invitations').selectAll().where('id', '=', bulkId).executeTakeFirst();
      if (!bulk || bulk.status === 'completed' || bulk.status === 'cancelled') return false;
      const now = clock.now().toISOString();
      const actor = uploaderOf(bulk);
      const options = JSON.parse(bulk.options) as StoredOptions;
      // The next lines from the job's place in the upload; those that failed validation at upload
      // already have their outcome and are passed over. One line more is read to know whether
      // this batch is the last.
      const batch = await trx
        .selectFrom('bulk_invitation_rows')
        .selectAll()
        .where('bulk_id', '=', bulkId)
        .where('line', '>=', bulk.next_line)
        .orderBy('line')
        .limit(LINES_PER_TRANSACTION + 1)
        .execute();
      const last = batch.length <= LINES_PER_TRANSACTION;
      if (!last) batch.pop();
      const lines = batch.filter((l) => l.status === 'pending');
      if (batch.length === 0) {
        await complete(trx, bulk, { succeeded: bulk.succeeded, failed: bulk.failed, alreadyInvited: bulk.already_invited }, now);
        return false;
      }
      if (bulk.status === 'queued') await trx.updateTable('bulk_invitations').set({ status: 'running' }).where('id', '=', bulkId).execute();

      // PostgreSQL plans from table statistics that autovacuum refreshes about once a minute: a job
      // that grows the directory from a few rows to 100,000 would meanwhile look addresses up with
      // plans made for an almost empty table (a sequential scan, 30 ms a lookup instead of 1).
      if (trx.getExecutor().adapter instanceof PostgresAdapter && [1, 10, 100].some((n) => bulk.processed === n * ANALYZE_AFTER))
        await sql`analyze users (tenant_id, mail_lower, user_principal_name_lower, deleted_at), user_other_mails`.execute(trx);
      const tenant = (await findTenant(trx, bulk.tenant_id))!;
      const existing = await usersByEmail(
        trx,
        bulk.tenant_id,
        lines.map((l) => l.email.toLowerCase()),
      );
      const blocked = new Set(
        lines.length === 0
          ? []
          : (
              await trx
                .selectFrom('blocked_invitees')
                .select('email_lower')
                .where('tenant_id', '=', bulk.tenant_id)
                .where(
                  'email_lower',
                  'in',
                  lines.map((l) => l.email.toLowerCase()),
                )
                .execute()
            ).map((r) => r.email_lower),
      );
      const inviterEmail =
        actor.kind === 'user'
          ? ((await trx.selectFrom('users').select(['mail', 'user_principal_name']).where('id', '=', actor.userId).executeTakeFirst()) ?? null)
          : null;
      const expiresAt = new Date(clock.now().getTime() + settings.inviteTtlDays * 86_400_000).toISOString();

      const users: UserRow[] = [];
      const invitations: InvitationRow[] = [];
      const memberships: GroupMembershipsTable[] = [];
      const audits: AuditEntry[] = [];
      const mails: QueuedMail[] = [];
      const outcomes: LineRow[] = [];
      const counts = { succeeded: 0, failed: 0, alreadyInvited: 0 };
      const outcome = (line: LineRow, status: BulkRowStatus, extra: Partial<LineRow> = {}) => {
        outcomes.push({ ...line, status, ...extra });
        counts[status === 'alreadyInvited' ? 'alreadyInvited' : status === 'failed' ? 'failed' : 'succeeded']++;
      };
      for (const line of lines) {
        const lower = line.email.toLowerCase();
        const known = existing.get(lower);
        if (blocked.has(lower))
          outcome(line, 'failed', { error_column: 'email', reason: `'${line.email}' has chosen not to receive invitations from this organization.` });
        else if (!domainAllowed(tenant.collaborationPolicy, emailDomain(line.email)))
          outcome(line, 'failed', {
            error_column: 'email',
            reason: `Invitations to '${emailDomain(line.email)}' are blocked by your organization's external collaboration settings.`,
          });
        else if (known && known.user_type === 'Member' && known.creation_type !== 'Invitation')
          outcome(line, 'failed', { error_column: 'email', user_id: known.id, reason: `'${line.email}' already belongs to a member of this organization.` });
        else if (known) outcome(line, 'alreadyInvited', { user_id: known.id, reason: 'Already in the directory; no new invitation was sent.' });
        else {
          const { userPrincipalName, mailNickname } = guestUpn(lower, tenant.initialDomain);
          const user = buildUserRow(
            {
              tenantId: bulk.tenant_id,
              displayName: line.display_name || line.email.split('@')[0]!,
              userPrincipalName,
              mailNickname,
              userType: 'Guest',
              createdAt: now,
              mail: line.email,
              identities: [{ signInType: 'userPrincipalName', issuer: tenant.initialDomain, issuerAssignedId: userPrincipalName }],
            },
            {
              creation_type: 'Invitation',
              external_user_state: 'PendingAcceptance',
              external_user_state_changed_at: now,
              source: 'bulk',
              invited_by: bulk.created_by_id,
              preferred_language: options.language,
            },
          );
          users.push(user);
          existing.set(lower, user);
          const invitationId = newId();
          const token = invitationToken(deps.secret, invitationId, line.send_email);
          const invitation = newInvitationRow({
            id: invitationId,
            actor,
            inviterEmail: inviterEmail?.mail ?? inviterEmail?.user_principal_name ?? null,
            userId: user.id,
            email: line.email,
            redirectUrl: line.redirect_url!,
            message: line.message,
            language: options.language,
            cc: [],
            send: line.send_email === 1,
            source: 'bulk',
            token,
            expiresAt,
            resetRedemption: false,
            now,
          });
          invitations.push(invitation);
          const target = { id: user.id, displayName: user.display_name, type: 'User' as const, userPrincipalName: user.user_principal_name };
          audits.push({
            activity: 'Invite external user',
            category: 'UserManagement',
            operationType: 'Add',
            targets: [{ ...target, modifiedProperties: [{ displayName: 'invitedUserEmailAddress', oldValue: null, newValue: JSON.stringify(line.email) }] }],
          });
          for (const groupId of new Set([...options.groups, ...(JSON.parse(line.groups) as string[])])) {
            memberships.push({ tenant_id: bulk.tenant_id, group_id: groupId, user_id: user.id, relation: 'member', created_at: now });
            audits.push({
              activity: 'Add member to group',
              category: 'GroupManagement',
              operationType: 'Assign',
              targets: [target, { id: groupId, displayName: null, type: 'Group' }],
            });
          }
          if (invitation.send_message) mails.push(invitationMessage({ baseUrl: options.baseUrl, invitation, user, mailFrom: settings.mailFrom }));
          outcome(line, 'succeeded', { user_id: user.id, invitation_id: invitationId });
        }
      }

      await insertUsers(trx, users);
      await insertMany(trx, 'invitations', invitations);
      await insertMany(trx, 'group_memberships', memberships);
      await recordAudits(trx, actor, audits, bulk.correlation_id, now);
      // The upload's emails leave at the mail rate, after those it queued before.
      const start = Math.max(clock.now().getTime(), bulk.mail_run_at ? Date.parse(bulk.mail_run_at) : 0);
      const spacing = 1000 / settings.mailRatePerSecond;
      await queueMails(
        trx,
        mails.map((mail, i) => ({ mail, runAt: new Date(start + Math.floor((i + 1) * spacing)).toISOString() })),
        now,
      );
      const lastMailAt = mails.length ? new Date(start + Math.floor(mails.length * spacing)).toISOString() : bulk.mail_run_at;
      await writeOutcomes(trx, outcomes);
      await trx
        .updateTable('bulk_invitations')
        .set((eb) => ({
          processed: eb('processed', '+', lines.length),
          succeeded: eb('succeeded', '+', counts.succeeded),
          failed: eb('failed', '+', counts.failed),
          already_invited: eb('already_invited', '+', counts.alreadyInvited),
          mail_run_at: lastMailAt,
          next_line: batch[batch.length - 1]!.line + 1,
        }))
        .where('id', '=', bulkId)
        .execute();
      // The upload completes with its last lines.
      if (!last) return true;
      await complete(
        trx,
        bulk,
        {
          succeeded: bulk.succeeded + counts.succeeded,
          failed: bulk.failed + counts.failed,
          alreadyInvited: bulk.already_invited + counts.alreadyInvited,
        },
        now,
      );
      return false;
    });
  }

  /** Marks an upload completed and audits its outcome ("Batch invites processed"). */
  async function complete(trx: Kysely<Database>, bulk: BulkRow, totals: { succeeded: number; failed: number; alreadyInvited: number }, now: string) {
    await trx.updateTable('bulk_invitations').set({ status: 'completed', completed_at: now }).where('id', '=', bulk.id).execute();
    await recordAudit(trx, uploaderOf(bulk), uploadAudit(bulk, 'Batch invites processed', 'Add', totals), bulk.correlation_id, now);
  }

  /** Replaces the lines' rows with their outcomes (a few statements on both engines). */
  async function writeOutcomes(trx: Kysely<Database>, outcomes: LineRow[]) {
    await insertMany(trx, 'bulk_invitation_rows', outcomes, {
      key: ['bulk_id', 'line'],
      update: ['status', 'user_id', 'invitation_id', 'error_column', 'reason'],
    });
  }

  const handlers: Record<string, JobHandler> = {
    [BULK_INVITE_JOB]: async (job) => {
      const { bulkId } = job.payload as { bulkId: string };
      const started = Date.now();
      while (await inviteNextLines(bulkId)) {
        await job.extendLock();
        // On SQLite a batch never waits for I/O; let the event loop serve requests between batches.
        await new Promise((resolve) => setImmediate(resolve));
        if (Date.now() - started >= (settings.sliceMs ?? SLICE_MS)) return { nextRunAt: clock.now().toISOString() };
      }
    },
  };

  return {
    handlers,
    upload,
    validate,
    /** Entra's template, for those who may upload it (the bulk invite page is theirs alone). */
    template(ctx: RequestContext): string {
      requireBulkAccess(ctx.actor);
      return ENTRA_TEMPLATE;
    },
    async get(ctx: RequestContext, id: string) {
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#foyer/bulkInvitations/$entity`, ...toBulkInvitation(await findBulk(ctx.actor, id)) };
    },
    /** Past uploads, newest first (Entra's "Bulk operation results"). */
    async list(ctx: RequestContext) {
      const actor = ctx.actor;
      requireBulkAccess(actor);
      const rows = await db
        .selectFrom('bulk_invitations')
        .selectAll()
        .where('tenant_id', '=', actor.tenantId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(200)
        .execute();
      return { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#foyer/bulkInvitations`, value: rows.map(toBulkInvitation) };
    },
    /** Stops an upload: lines not yet invited stay pending and are reported as not processed. */
    async cancel(ctx: RequestContext, id: string) {
      const bulk = await findBulk(ctx.actor, id);
      if (bulk.status === 'completed' || bulk.status === 'cancelled')
        throw badRequest(`The bulk invitation '${id}' has already ${bulk.status === 'completed' ? 'completed' : 'been cancelled'}.`);
      const now = clock.now().toISOString();
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('bulk_invitations')
          .set({ status: 'cancelled', completed_at: now })
          .where('id', '=', bulk.id)
          .where('status', 'in', ['queued', 'running'])
          .execute();
        await recordAudit(trx, ctx.actor, uploadAudit(bulk, 'Batch invites cancelled', 'Other'), ctx.correlationId, now);
      });
      return this.get(ctx, id);
    },
    /**
     * The result file: one CSV line per line of the upload, read in pages so a 500,000-line
     * upload never sits in memory. `failedOnly` leaves out the rest.
     */
    async *results(ctx: RequestContext, id: string, failedOnly: boolean): AsyncGenerator<string> {
      const bulk = await findBulk(ctx.actor, id);
      const options = JSON.parse(bulk.options) as StoredOptions;
      yield '\uFEFFline,email,status,userId,redeemUrl,column,reason\r\n';
      let after = 0;
      for (;;) {
        let q = db
          .selectFrom('bulk_invitation_rows as r')
          .leftJoin('invitations as i', 'i.id', 'r.invitation_id')
          .select(['r.line', 'r.email', 'r.status', 'r.user_id', 'r.invitation_id', 'r.error_column', 'r.reason', 'i.send_count'])
          .where('r.bulk_id', '=', bulk.id)
          .where('r.line', '>', after);
        if (failedOnly) q = q.where('r.status', '=', 'failed');
        const page = await q.orderBy('r.line').limit(5000).execute();
        if (page.length === 0) return;
        let text = '';
        for (const r of page) {
          const status = r.status === 'pending' ? (bulk.status === 'cancelled' ? 'notProcessed' : 'pending') : r.status;
          // The current link: a resend since the upload replaced the one the email had.
          const link = r.invitation_id && r.send_count != null ? redeemLink(options.baseUrl, invitationToken(deps.secret, r.invitation_id, r.send_count)) : '';
          text += csvLine([r.line, r.email, status, r.user_id, link, r.error_column, r.reason]);
        }
        yield text;
        after = page[page.length - 1]!.line;
      }
    },
  };
}

export type BulkInvitationsService = ReturnType<typeof createBulkInvitationsService>;
