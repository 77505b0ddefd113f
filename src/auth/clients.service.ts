import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import type { ApiClientsTable, Database } from '../db/schema.js';
import type { Clock } from '../clock.js';
import { commandLineContext, type RequestContext } from '../http/context.js';
import type { EntityDefinition } from '../graph/entity.js';
import { badRequest, notFound } from '../graph/errors.js';
import { parseSelect } from '../graph/odata-query.js';
import { listCollection } from '../graph/list.js';
import { diffProperties, recordAudit, type AuditEntry, type ModifiedProperty } from '../audit/audit.service.js';
import { isGuid, newId } from '../ids.js';
import { applicationPermissions, requireAccess } from './permissions.js';
import { hashToken, randomToken } from './secrets.js';

type ClientRow = Selectable<ApiClientsTable>;

/** The properties of an API client, all returned by default. */
const clientProperties = ['id', 'displayName', 'permissions', 'accountEnabled', 'createdDateTime', 'lastSecretChangeDateTime'] as const;

/** `GET /v1.0/foyer/clients`: API clients of the client credentials flow. */
export const clientEntity: EntityDefinition = {
  type: 'foyerClient',
  entitySet: 'foyer/clients',
  properties: clientProperties,
  defaultProperties: clientProperties,
  filterable: {
    id: { column: 'id', type: 'guid' },
    displayName: { column: 'display_name_lower', type: 'string', caseInsensitive: true, startsWith: true },
    accountEnabled: { column: 'account_enabled', type: 'boolean' },
  },
  sortable: { displayName: 'display_name_lower', createdDateTime: 'created_at' },
  keyColumn: 'id',
  searchable: [],
  advancedQueryGating: false,
};

/** An API client as the API answers it; its secret never, except once in the answer that makes it. */
export interface ApiClient {
  id: string;
  displayName: string;
  permissions: string[];
  accountEnabled: boolean;
  createdDateTime: string;
  lastSecretChangeDateTime: string;
}

const clientView = (r: ClientRow): ApiClient => ({
  id: r.id,
  displayName: r.display_name,
  permissions: JSON.parse(r.permissions) as string[],
  accountEnabled: r.disabled_at === null,
  createdDateTime: r.created_at,
  lastSecretChangeDateTime: r.secret_changed_at,
});

/** The selected properties of a client (and its id). */
const toApiClient = (r: ClientRow, select: readonly string[]): Record<string, unknown> => {
  const all = clientView(r);
  return Object.fromEntries(['id', ...select.filter((p) => p !== 'id')].map((p) => [p, all[p as keyof ApiClient]]));
};

export interface ClientCreateBody {
  displayName: string;
  permissions: string[];
}
export interface ClientUpdateBody {
  displayName?: string;
  permissions?: string[];
  accountEnabled?: boolean;
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw badRequest("Invalid value for 'displayName': a client needs a name.");
  return trimmed;
}

function checkPermissions(permissions: string[]): string[] {
  const unknown = permissions.filter((p) => !(applicationPermissions as readonly string[]).includes(p));
  if (unknown.length) throw badRequest(`Unknown permission(s): ${unknown.join(', ')}. Known: ${applicationPermissions.join(', ')}.`);
  return [...new Set(permissions)];
}

/** Secrets are 256 random bits; only their hash is kept, and each new one is answered once. */
const newSecret = () => {
  const secret = randomToken(32);
  return { secret, hash: hashToken(secret) };
};

/**
 * API clients (OAuth 2.0 client credentials): create, list, rename, change permissions, disable,
 * delete, rotate the secret. Only a Global Administrator signed in with a session may, never an
 * application: an app must not mint or widen app credentials. `commandLine` is the `foyer`
 * command's service: whoever runs it holds the database and FOYER_SECRET, so no role is asked.
 * Every change is audited in its transaction (ApplicationManagement, as Entra logs service principals).
 */
export function createClientsService(deps: { db: Kysely<Database>; clock: Clock; secret: string; commandLine?: boolean }) {
  const { db, clock } = deps;
  const authorize = (ctx: RequestContext, action: 'clients.read' | 'clients.write') => {
    if (!deps.commandLine) requireAccess(ctx.actor, action);
  };

  async function findClient(ctx: RequestContext, id: string, executor: Kysely<Database> = db): Promise<ClientRow> {
    const row = isGuid(id)
      ? await executor.selectFrom('api_clients').selectAll().where('tenant_id', '=', ctx.actor.tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst()
      : undefined;
    if (!row) throw notFound(id);
    return row;
  }

  const audit = (
    trx: Kysely<Database>,
    ctx: RequestContext,
    client: Pick<ClientRow, 'id' | 'display_name'>,
    entry: Omit<AuditEntry, 'category' | 'targets'>,
    modified?: ModifiedProperty[],
  ) =>
    recordAudit(
      trx,
      ctx.actor,
      {
        ...entry,
        category: 'ApplicationManagement',
        targets: [{ id: client.id, displayName: client.display_name, type: 'Application', modifiedProperties: modified }],
      },
      ctx.correlationId,
      clock.now().toISOString(),
    );

  const entity = (ctx: RequestContext, row: ClientRow) => ({ '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#foyer/clients/$entity`, ...clientView(row) });

  /** A new client with its secret, answered once as `clientSecret`. */
  async function create(ctx: RequestContext, body: ClientCreateBody) {
    authorize(ctx, 'clients.write');
    const displayName = checkName(body.displayName);
    const permissions = checkPermissions(body.permissions);
    const { secret, hash } = newSecret();
    const now = clock.now().toISOString();
    const row: ClientRow = {
      tenant_id: ctx.actor.tenantId,
      id: newId(),
      display_name: displayName,
      display_name_lower: displayName.toLowerCase(),
      secret_hash: hash,
      secret_version: 1,
      secret_changed_at: now,
      permissions: JSON.stringify(permissions),
      created_at: now,
      disabled_at: null,
    };
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('api_clients').values(row).execute();
      await audit(trx, ctx, row, { activity: 'Add service principal', operationType: 'Add' }, diffProperties({}, { displayName, permissions }));
    });
    return { ...entity(ctx, row), clientSecret: secret };
  }

  return {
    create,

    async list(ctx: RequestContext) {
      authorize(ctx, 'clients.read');
      const base = db
        .selectFrom('api_clients')
        .selectAll()
        .select(sql<number>`case when disabled_at is null then 1 else 0 end`.as('account_enabled'))
        .where('tenant_id', '=', ctx.actor.tenantId);
      return listCollection<ClientRow>({
        db,
        secret: deps.secret,
        ctx,
        entity: clientEntity,
        base,
        shape: (rows, select) => rows.map((r) => toApiClient(r, select)),
      });
    },

    async get(ctx: RequestContext, id: string) {
      authorize(ctx, 'clients.read');
      const row = await findClient(ctx, id);
      const { select, explicitSelect } = parseSelect(clientEntity, ctx.query.$select as string | undefined);
      return {
        '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#foyer/clients${explicitSelect ? `(${select.join(',')})` : ''}/$entity`,
        ...toApiClient(row, select),
      };
    },

    /** The client with `clientId` and a fresh secret, for the `foyer` command and tests. */
    async createClient(tenantId: string, name: string, permissions: string[]): Promise<{ clientId: string; clientSecret: string }> {
      const created = await create(commandLineContext(tenantId, '/v1.0/foyer/clients'), { displayName: name, permissions });
      return { clientId: created.id, clientSecret: created.clientSecret };
    },

    /** Renames, changes permissions, disables or enables; tokens already issued follow at once (the bearer check reads the client). */
    async update(ctx: RequestContext, id: string, body: ClientUpdateBody) {
      authorize(ctx, 'clients.write');
      const changes: Partial<ClientRow> = {};
      if (body.displayName !== undefined) {
        const name = checkName(body.displayName);
        Object.assign(changes, { display_name: name, display_name_lower: name.toLowerCase() });
      }
      if (body.permissions !== undefined) changes.permissions = JSON.stringify(checkPermissions(body.permissions));
      return db.transaction().execute(async (trx) => {
        const before = await findClient(ctx, id, trx);
        // Disabling keeps the time it was first disabled.
        if (body.accountEnabled !== undefined) changes.disabled_at = body.accountEnabled ? null : (before.disabled_at ?? clock.now().toISOString());
        const after = { ...before, ...changes };
        await trx.updateTable('api_clients').set(changes).where('id', '=', before.id).execute();
        const changeable = ({ displayName, permissions, accountEnabled }: ApiClient) => ({ displayName, permissions, accountEnabled });
        await audit(
          trx,
          ctx,
          before,
          { activity: 'Update service principal', operationType: 'Update' },
          diffProperties(changeable(clientView(before)), changeable(clientView(after))),
        );
        return entity(ctx, after);
      });
    },

    /** Permanent: the client's tokens stop working at once. */
    async remove(ctx: RequestContext, id: string): Promise<void> {
      authorize(ctx, 'clients.write');
      await db.transaction().execute(async (trx) => {
        const row = await findClient(ctx, id, trx);
        await trx.deleteFrom('api_clients').where('id', '=', row.id).execute();
        await audit(trx, ctx, row, { activity: 'Delete service principal', operationType: 'Delete' });
      });
    },

    /**
     * A new secret, answered once as `clientSecret`. The old one stops working at once, for new
     * tokens and for the tokens issued with it (they carry the secret's version): a rotation is
     * what one does when a secret leaks.
     */
    async rotateSecret(ctx: RequestContext, id: string) {
      authorize(ctx, 'clients.write');
      const { secret, hash } = newSecret();
      const now = clock.now().toISOString();
      return db.transaction().execute(async (trx) => {
        const before = await findClient(ctx, id, trx);
        const rotated = await trx
          .updateTable('api_clients')
          .set((eb) => ({ secret_hash: hash, secret_changed_at: now, secret_version: eb('secret_version', '+', 1) }))
          .where('id', '=', before.id)
          .returning(['secret_version'])
          .executeTakeFirstOrThrow();
        const key = (version: number) => JSON.stringify(`[KeyIdentifier=${before.id}.${version},KeyType=Password]`);
        await audit(trx, ctx, before, { activity: 'Add service principal credentials', operationType: 'Update' }, [
          { displayName: 'KeyDescription', oldValue: key(before.secret_version), newValue: key(rotated.secret_version) },
        ]);
        return { ...entity(ctx, { ...before, secret_hash: hash, secret_changed_at: now, secret_version: rotated.secret_version }), clientSecret: secret };
      });
    },
  };
}
export type ClientsService = ReturnType<typeof createClientsService>;
