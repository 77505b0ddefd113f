#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, ConfigError } from '../config.js';
import { openDatabase, migrateToLatest } from '../db/database.js';
import { systemClock } from '../clock.js';
import { guardProcess, prepare, serve, startWorker } from '../main.js';
import { createClientsService, type ClientsService } from '../auth/clients.service.js';
import { createBlockedInviteesService, type BlockedInviteesService } from '../invitations/blocked-invitees.service.js';
import { commandLineContext, type RequestContext } from '../http/context.js';
import { foldEmail } from '../directory/email.js';
import { createAdministrator } from '../tenancy/bootstrap.js';
import { seedDirectory } from '../directory/seed.js';
import { createUsersService } from '../directory/users.service.js';
import { systemActor } from '../audit/audit.service.js';
import { applicationPermissions } from '../auth/permissions.js';
import { GraphError } from '../graph/errors.js';
import { toOutboxMessage } from '../mail/mail-queue.js';
import { invitationMailContent } from '../invitations/invitation-mail.js';
import { createSigningKeys } from '../apps/signing-keys.js';
import { bulkInvitationsFor } from '../app.js';
import { csvLine } from '../http/csv.js';
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';

const program = new Command();
program.name('foyer').description('Foyer: self-hosted guest access center').showHelpAfterError();

const wholeNumber = (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a whole number');
  return Number(v);
};
const ratio = (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a number from 0 to 1');
  return n;
};

program
  .command('serve')
  .description('Serve the API and web UI (and run the job worker unless --no-worker)')
  .option('--no-worker', 'do not run jobs in this process')
  .action((opts: { worker: boolean }) => serve({ worker: opts.worker }));

program
  .command('worker')
  .description('Run only the job worker')
  .action(async () => {
    const config = loadConfig();
    const { database } = await prepare(config, { longRunning: true });
    const log = {
      error: (o: unknown, m?: string) => console.error(m, o),
      warn: (o: unknown, m?: string) => console.warn(m, o),
      info: (o: unknown, m?: string) => console.log(m, o),
    };
    guardProcess(log);
    const { worker, ready } = startWorker(database, config, log);
    await ready;
    console.log(`Foyer worker running (${database.engine})`);
    const stop = async () => {
      await worker.stop();
      await database.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('migrate')
  .description('Bring the database schema up to date')
  .action(async () => {
    const config = loadConfig();
    const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    await migrateToLatest(database.db);
    await database.close();
    console.log(`Database is up to date (${database.engine}).`);
  });

program
  .command('admin')
  .description('Administrators')
  .command('create')
  .description('Create a Global Administrator')
  .requiredOption('--email <email>', 'sign-in address')
  .option('--password <password>', 'password (generated when omitted)')
  .option('--name <displayName>', 'display name', 'Administrator')
  .action(async (opts: { email: string; password?: string; name: string }) => {
    const { database, tenant } = await prepare(loadConfig());
    const admin = await createAdministrator(database.db, tenant, { email: opts.email, password: opts.password, displayName: opts.name }, systemClock);
    console.log(
      JSON.stringify({
        id: admin.userId,
        userPrincipalName: admin.userPrincipalName,
        ...(admin.generatedPassword ? { password: admin.generatedPassword } : {}),
      }),
    );
    await database.close();
  });

/**
 * Runs `work` against the database with the context of the `foyer` command, then closes it. The
 * services it is given ask no role: whoever runs the command holds the database and FOYER_SECRET.
 */
async function asCommandLine(requestUrl: string, work: (services: CommandLineServices, ctx: RequestContext) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const { database, tenant } = await prepare(config);
  const deps = { db: database.db, clock: systemClock, secret: config.secret, commandLine: true };
  try {
    await work({ clients: createClientsService(deps), blockedInvitees: createBlockedInviteesService(deps) }, commandLineContext(tenant.id, requestUrl));
  } finally {
    await database.close();
  }
}
interface CommandLineServices {
  clients: ClientsService;
  blockedInvitees: BlockedInviteesService;
}

/** Prints every item of a list, page after page (`list` answers one page of Graph's collection for a query). */
async function printAll(list: (query: Record<string, unknown>) => Promise<{ value: unknown[]; '@odata.nextLink'?: string }>): Promise<void> {
  let query: Record<string, unknown> = { $top: '999' };
  for (;;) {
    const page = await list(query);
    for (const item of page.value) console.log(JSON.stringify(item));
    const next = page['@odata.nextLink'];
    if (!next) return;
    query = { ...query, $skiptoken: decodeURIComponent(/\$skiptoken=([^&]+)/.exec(next)![1]!) };
  }
}

const clients = program.command('clients').description('API clients (OAuth 2.0 client credentials); every change is audited');
clients
  .command('create')
  .description('Create an API client; prints {"clientId","clientSecret"} (the secret is shown once)')
  .requiredOption('--name <name>', 'display name')
  .requiredOption('--permissions <list>', `comma-separated: ${applicationPermissions.join(',')}`)
  .action((opts: { name: string; permissions: string }) =>
    asCommandLine('/v1.0/foyer/clients', async ({ clients }, ctx) => {
      const permissions = opts.permissions
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      console.log(JSON.stringify(await clients.createClient(ctx.actor.tenantId, opts.name, permissions)));
    }),
  );
clients
  .command('list')
  .description('API clients, one JSON line each (never their secrets)')
  .action(() => asCommandLine('/v1.0/foyer/clients', ({ clients }, ctx) => printAll((query) => clients.list({ ...ctx, query }))));
for (const [name, accountEnabled, description] of [
  ['disable', false, 'Disable an API client: it gets no new token, and its tokens stop working at once'],
  ['enable', true, 'Enable a disabled API client again'],
] as const)
  clients
    .command(name)
    .description(`${description}; prints the client`)
    .argument('<id>', 'client id')
    .action((id: string) =>
      asCommandLine(`/v1.0/foyer/clients/${id}`, async ({ clients }, ctx) => {
        const { '@odata.context': _context, ...client } = await clients.update(ctx, id, { accountEnabled });
        console.log(JSON.stringify(client));
      }),
    );
clients
  .command('delete')
  .description('Delete an API client permanently: its tokens stop working at once')
  .argument('<id>', 'client id')
  .action((id: string) =>
    asCommandLine(`/v1.0/foyer/clients/${id}`, async ({ clients }, ctx) => {
      await clients.remove(ctx, id);
      console.log(JSON.stringify({ id, deleted: true }));
    }),
  );
clients
  .command('rotate-secret')
  .description('Replace the secret; prints {"clientId","clientSecret"}. The old secret and the tokens issued with it stop working at once')
  .argument('<id>', 'client id')
  .action((id: string) =>
    asCommandLine(`/v1.0/foyer/clients/${id}/rotateSecret`, async ({ clients }, ctx) => {
      const rotated = await clients.rotateSecret(ctx, id);
      console.log(JSON.stringify({ clientId: rotated.id, clientSecret: rotated.clientSecret }));
    }),
  );

const blocked = program
  .command('invitations')
  .description('Invitations')
  .command('blocked')
  .description('Addresses whose owners blocked future invitations from the organization');
blocked
  .command('list')
  .description('Blocked addresses, one JSON line each')
  .action(() => asCommandLine('/v1.0/foyer/blockedInvitees', ({ blockedInvitees }, ctx) => printAll((query) => blockedInvitees.list({ ...ctx, query }))));
blocked
  .command('remove')
  .description('Lift the block of an address, so that it can be invited again')
  .argument('<email>', 'the blocked address')
  .action((email: string) =>
    asCommandLine(`/v1.0/foyer/blockedInvitees/${email}`, async ({ blockedInvitees }, ctx) => {
      await blockedInvitees.remove(ctx, email);
      console.log(JSON.stringify({ emailAddress: foldEmail(email.trim()), removed: true }));
    }),
  );

program
  .command('users')
  .description('Directory users')
  .command('list')
  .description('List users as JSON lines')
  .option('--filter <odata>', 'OData $filter, e.g. "userType eq \'Guest\'"')
  .option('--top <n>', 'at most this many', wholeNumber, 100)
  .action(async (opts: { filter?: string; top: number }) => {
    const config = loadConfig();
    const { database, tenant } = await prepare(config);
    const users = createUsersService({ db: database.db, engine: database.engine, clock: systemClock, secret: config.secret });
    const actor = { ...systemActor(tenant.id), permissions: new Set(['User.Read.All']) };
    let printed = 0;
    let query: Record<string, unknown> = {
      $top: String(Math.min(opts.top, 999)),
      $select: 'id,displayName,userPrincipalName,mail,userType,externalUserState,createdDateTime',
      ...(opts.filter ? { $filter: opts.filter } : {}),
    };
    for (;;) {
      const page = await users.list({ actor, correlationId: 'cli', baseUrl: '', requestUrl: '/v1.0/users', query, consistencyLevel: 'eventual' });
      for (const u of page.value) {
        if (printed++ >= opts.top) break;
        console.log(JSON.stringify(u));
      }
      const next = page['@odata.nextLink'];
      if (!next || printed >= opts.top) break;
      query = { ...query, $skiptoken: decodeURIComponent(/\$skiptoken=([^&]+)/.exec(next)![1]!) };
    }
    await database.close();
  });

const mail = program.command('mail').description('The outbox: mail Foyer queued and sent');
mail
  .command('list')
  .description('Messages, newest first, one JSON line each (without bodies)')
  .option('--top <n>', 'at most this many', wholeNumber, 50)
  .action(async (opts: { top: number }) => {
    const { database, tenant } = await prepare(loadConfig());
    const rows = await database.db
      .selectFrom('mail_messages')
      .select(['id', 'to_addresses', 'subject', 'created_at', 'status'])
      .where('tenant_id', '=', tenant.id)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(opts.top)
      .execute();
    for (const r of rows)
      console.log(JSON.stringify({ id: r.id, to: JSON.parse(r.to_addresses), subject: r.subject, createdDateTime: r.created_at, status: r.status }));
    await database.close();
  });
mail
  .command('show')
  .description('One message with its text body')
  .argument('<id>', 'message id')
  .action(async (id: string) => {
    const config = loadConfig();
    const { database, tenant } = await prepare(config);
    const row = await database.db
      .selectFrom('mail_messages')
      .selectAll()
      .where('tenant_id', '=', tenant.id)
      .where('id', '=', id.toLowerCase())
      .executeTakeFirst();
    const m = row && (await toOutboxMessage(row, invitationMailContent(database.db, config.secret)));
    await database.close();
    if (!m) throw new Error(`No message with id '${id}'.`);
    console.log(
      [
        `To: ${m.to.join(', ')}`,
        ...(m.cc.length ? [`Cc: ${m.cc.join(', ')}`] : []),
        ...(m.replyTo ? [`Reply-To: ${m.replyTo}`] : []),
        `Subject: ${m.subject}`,
        `Date: ${m.createdDateTime}`,
        `Status: ${m.status}`,
        '',
        m.text,
      ].join('\n'),
    );
  });

const keys = program.command('keys').description('Signing keys of single sign-on (ID tokens)');
keys
  .command('list')
  .description('Keys, newest first, one JSON line each (the active one signs; the others are still published)')
  .action(async () => {
    const config = loadConfig();
    const { database } = await prepare(config);
    for (const k of await createSigningKeys(database.db, config.secret, systemClock).list()) console.log(JSON.stringify(k));
    await database.close();
  });
keys
  .command('rotate')
  .description('Make a new signing key; the current one stays published for 48 hours so tokens it signed still verify')
  .action(async () => {
    const config = loadConfig();
    const { database } = await prepare(config);
    const signing = createSigningKeys(database.db, config.secret, systemClock);
    const kid = await signing.rotate();
    const purged = await signing.purgeRetired();
    console.log(JSON.stringify({ kid, purgedRetiredKeys: purged }));
    await database.close();
  });

const guests = program.command('guests').description('Guest users');
guests
  .command('bulk-invite')
  .description("Invite the guests of a CSV file (Entra's bulk invite template or email,displayName,redirectUrl,sendEmail,message,groups)")
  .argument('<file>', 'the CSV file')
  .option('--redirect-url <url>', 'where guests land after redeeming, for lines without one')
  .option('--language <tag>', 'language of the invitation emails (en or nl)')
  .option('--groups <ids>', 'groups (ids or names, comma-separated) every guest joins')
  .option('--wait', 'process the upload here and show its progress until it is done')
  .action(async (file: string, opts: { redirectUrl?: string; language?: string; groups?: string; wait?: boolean }) => {
    if (!existsSync(file)) throw new Error(`No such file: ${file}`);
    const config = loadConfig();
    const { database, tenant } = await prepare(config);
    const bulk = bulkInvitationsFor(database, systemClock, config);
    const ctx = {
      actor: { ...systemActor(tenant.id), permissions: new Set(['User.Invite.All', 'Group.ReadWrite.All']) },
      correlationId: `cli-${process.pid}`,
      baseUrl: config.baseUrl ?? `http://localhost:${config.port}`,
      requestUrl: '/v1.0/foyer/bulkInvitations',
      query: {},
      consistencyLevel: undefined,
    };
    const upload = await bulk.upload(
      ctx,
      { open: () => createReadStream(file), name: path.basename(file) },
      {
        redirectUrl: opts.redirectUrl,
        language: opts.language,
        groups: opts.groups
          ?.split(',')
          .map((g) => g.trim())
          .filter(Boolean),
      },
    );
    console.log(`Uploaded ${upload.total} lines as bulk invitation ${upload.id} (${upload.failed} failed validation).`);
    if (opts.wait) {
      // This process works the queue (the upload, and the emails it queues) until the upload is done.
      const { worker } = startWorker(database, config, { error: (o, m) => console.error(m, o) });
      worker.start();
      let state: Awaited<ReturnType<typeof bulk.get>>;
      for (;;) {
        state = await bulk.get(ctx, upload.id);
        const done = Math.round((40 * state.processed) / Math.max(1, state.total));
        process.stderr.write(`\r[${'#'.repeat(done)}${'.'.repeat(40 - done)}] ${state.processed}/${state.total}`);
        if (state.status === 'completed' || state.status === 'cancelled') break;
        await new Promise((r) => setTimeout(r, 250));
      }
      process.stderr.write('\n');
      await worker.stop();
      console.log(
        `${state.status === 'completed' ? 'Done' : 'Cancelled'}: ${state.succeeded} invited, ${state.alreadyInvited} already invited, ${state.failed} failed, ${state.total} in all.`,
      );
      if (state.failed > 0) console.log(`Failed lines: GET /v1.0/foyer/bulkInvitations/${upload.id}/results?status=failed`);
    } else console.log('A running Foyer server invites the lines; follow it with GET /v1.0/foyer/bulkInvitations/' + upload.id);
    await database.close();
  });
guests
  .command('export')
  .description('Write guest users as CSV to standard output')
  .option('--filter <odata>', "an OData $filter combined with userType eq 'Guest', e.g. \"externalUserState eq 'PendingAcceptance'\"")
  .action(async (opts: { filter?: string }) => {
    const config = loadConfig();
    const { database, tenant } = await prepare(config);
    const users = createUsersService({ db: database.db, engine: database.engine, clock: systemClock, secret: config.secret });
    const actor = { ...systemActor(tenant.id), permissions: new Set(['User.Read.All']) };
    const columns = [
      'id',
      'displayName',
      'mail',
      'userPrincipalName',
      'externalUserState',
      'externalUserStateChangeDateTime',
      'createdDateTime',
      'companyName',
    ];
    process.stdout.write(csvLine([...columns, 'lastSignInDateTime']));
    let query: Record<string, unknown> = {
      $top: '999',
      $select: [...columns, 'signInActivity'].join(','),
      $filter: opts.filter ? `userType eq 'Guest' and (${opts.filter})` : "userType eq 'Guest'",
    };
    for (;;) {
      const page = await users.list({ actor, correlationId: 'cli', baseUrl: '', requestUrl: '/v1.0/users', query, consistencyLevel: 'eventual' });
      let text = '';
      for (const u of page.value as Record<string, unknown>[])
        text += csvLine([...columns.map((c) => u[c] as string | null), (u.signInActivity as { lastSignInDateTime: string | null }).lastSignInDateTime]);
      if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once('drain', r));
      const next = page['@odata.nextLink'];
      if (!next) break;
      query = { ...query, $skiptoken: decodeURIComponent(/\$skiptoken=([^&]+)/.exec(next)![1]!) };
    }
    await database.close();
  });

program
  .command('seed')
  .description('Bulk-load a synthetic directory (demos and benchmarks)')
  .requiredOption('--users <n>', 'number of people', wholeNumber)
  .option('--guests-ratio <r>', 'share of guests, 0 to 1', ratio, 0.3)
  .action(async (opts: { users: number; guestsRatio: number }) => {
    const config = loadConfig();
    const { database, tenant } = await prepare(config);
    const started = Date.now();
    await seedDirectory(database.db, {
      tenantId: tenant.id,
      domain: tenant.initialDomain,
      users: opts.users,
      guestRatio: opts.guestsRatio,
      clock: systemClock,
      onProgress: (done) => process.stderr.write(`\rseeded ${done}/${opts.users} users`),
    });
    process.stderr.write('\n');
    console.log(`Seeded ${opts.users} users (${Math.round(opts.guestsRatio * 100)}% guests) in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    await database.close();
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof GraphError) console.error(error.message);
  else console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
