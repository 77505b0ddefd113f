import type { Kysely } from 'kysely';
import type { AuditLogTargetsTable, AuditLogsTable, Database } from '../db/schema.js';
import { insertMany } from '../db/bulk-insert.js';
import type { Actor } from '../auth/permissions.js';
import { newId } from '../ids.js';

export interface ModifiedProperty {
  displayName: string;
  oldValue: string | null;
  newValue: string | null;
}

export interface AuditTarget {
  id: string;
  displayName: string | null;
  type: 'User' | 'Group' | 'Role' | 'Policy' | 'Application' | 'Other';
  userPrincipalName?: string | null;
  modifiedProperties?: ModifiedProperty[];
}

export interface AuditEntry {
  activity: string;
  category: 'UserManagement' | 'GroupManagement' | 'RoleManagement' | 'Policy' | 'ApplicationManagement' | 'DirectoryManagement';
  operationType: 'Add' | 'Update' | 'Delete' | 'Assign' | 'Unassign' | 'Restore' | 'Other';
  targets: AuditTarget[];
  result?: 'success' | 'failure';
  resultReason?: string;
}

/** The scheduler and other work Foyer does by itself is logged as this application. */
export const systemActor = (tenantId: string): Actor => ({
  kind: 'app',
  tenantId,
  clientId: '00000000-0000-0000-0000-000000000000',
  displayName: 'Foyer',
  permissions: new Set(),
});

function initiatedBy(actor: Actor) {
  return actor.kind === 'app'
    ? { app: { appId: actor.clientId, displayName: actor.displayName, servicePrincipalId: actor.clientId, servicePrincipalName: actor.displayName } }
    : { user: { id: actor.userId, displayName: actor.displayName, userPrincipalName: actor.userPrincipalName, ipAddress: null } };
}

/**
 * Writes one audit entry inside the caller's transaction, so the entry exists exactly when the
 * change it describes does.
 */
export function recordAudit(trx: Kysely<Database>, actor: Actor, entry: AuditEntry, correlationId: string, at: string): Promise<void> {
  return recordAudits(trx, actor, [entry], correlationId, at);
}

/** Writes many audit entries by one actor in a few statements (bulk invitations). */
export async function recordAudits(trx: Kysely<Database>, actor: Actor, entries: readonly AuditEntry[], correlationId: string, at: string): Promise<void> {
  const initiator = JSON.stringify(initiatedBy(actor));
  const logs: AuditLogsTable[] = [];
  const targets: AuditLogTargetsTable[] = [];
  for (const entry of entries) {
    const id = newId();
    logs.push({
      tenant_id: actor.tenantId,
      id,
      activity_at: at,
      activity_display_name: entry.activity,
      category: entry.category,
      correlation_id: correlationId,
      initiator_id: actor.kind === 'app' ? actor.clientId : actor.userId,
      initiated_by: initiator,
      logged_by_service: 'Core Directory',
      operation_type: entry.operationType,
      result: entry.result ?? 'success',
      result_reason: entry.resultReason ?? '',
      target_resources: JSON.stringify(
        entry.targets.map((t) => ({
          id: t.id,
          displayName: t.displayName,
          type: t.type,
          userPrincipalName: t.userPrincipalName ?? null,
          modifiedProperties: t.modifiedProperties ?? [],
        })),
      ),
    });
    // Filters compare ids case-insensitively (GUIDs arrive in either case), so the lookup column is folded;
    // a non-GUID id such as 'authorizationPolicy' would otherwise never match.
    for (const target_id of new Set(entry.targets.map((t) => t.id.toLowerCase())))
      targets.push({ tenant_id: actor.tenantId, audit_id: id, target_id, activity_at: at });
  }
  await insertMany(trx, 'audit_logs', logs);
  await insertMany(trx, 'audit_log_targets', targets);
}

/** Old/new pairs for the properties that changed, in Graph's modifiedProperties form. */
export function diffProperties(before: Record<string, unknown>, after: Record<string, unknown>): ModifiedProperty[] {
  const changed: ModifiedProperty[] = [];
  for (const key of Object.keys(after)) {
    const o = JSON.stringify(before[key] ?? null);
    const n = JSON.stringify(after[key] ?? null);
    if (o !== n) changed.push({ displayName: key, oldValue: o, newValue: n });
  }
  return changed;
}
