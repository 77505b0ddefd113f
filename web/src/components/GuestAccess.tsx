import { Button, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text } from '@fluentui/react-components';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, type Page } from '../api';
import { errorText, useFormat } from '../format';
import { useNotify } from '../notify';
import { usePermissions } from '../session';
import { DEFAULT_ACCESS, type Assignment } from '../pages/AppsPage';

/** The guest's own app assignments (not those through groups, as Graph lists them), with Remove. */
export function GuestApps({ userId }: { userId: string }) {
  const { t } = useTranslation();
  const fmt = useFormat();
  const notify = useNotify();
  const can = usePermissions();
  const queryClient = useQueryClient();
  const key = ['user', userId, 'appRoleAssignments'];
  const list = useQuery({ queryKey: key, queryFn: () => api<Page<Assignment>>(`/v1.0/users/${userId}/appRoleAssignments`) });
  async function remove(a: Assignment) {
    try {
      await api(`/v1.0/users/${userId}/appRoleAssignments/${a.id}`, { method: 'DELETE' });
      notify(t('details.appRemoved', { app: a.resourceDisplayName }));
    } catch (e) {
      notify(errorText(e), 'error');
    }
    void queryClient.invalidateQueries({ queryKey: key });
  }
  const items = list.data?.value ?? [];
  if (list.isPending) return <Text>{t('app.loading')}</Text>;
  if (list.error) return <Text>{t('common.error', { message: errorText(list.error) })}</Text>;
  if (items.length === 0) return <Text as="p">{t('details.noApps')}</Text>;
  return (
    <Table aria-label={t('details.apps')} size="small" style={{ marginTop: 16 }}>
      <TableHeader>
        <TableRow>
          <TableHeaderCell>{t('details.app')}</TableHeaderCell>
          <TableHeaderCell>{t('apps.col.role')}</TableHeaderCell>
          <TableHeaderCell>{t('details.assignedOn')}</TableHeaderCell>
          <TableHeaderCell>{t('apps.actions')}</TableHeaderCell>
        </TableRow>
      </TableHeader>
      <TableBody>
        {items.map((a) => (
          <TableRow key={a.id}>
            <TableCell>{a.resourceDisplayName}</TableCell>
            <TableCell>{a.appRoleId === DEFAULT_ACCESS ? t('apps.defaultAccess') : a.appRoleId}</TableCell>
            <TableCell>{fmt.date(a.createdDateTime)}</TableCell>
            <TableCell>
              {can.manageApps && (
                <Button size="small" aria-label={t('details.removeApp', { app: a.resourceDisplayName })} onClick={() => void remove(a)}>
                  {t('common.remove')}
                </Button>
              )}
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

interface AccessEntry {
  kind: 'team' | 'site' | 'file';
  id: string;
  displayName: string;
  source: string;
  role: string;
  expirationDateTime: string | null;
  href: string;
}

/** The teams, sites and shared files a person reaches, and how. */
export function GuestTeams({ userId }: { userId: string }) {
  const { t } = useTranslation();
  const fmt = useFormat();
  const list = useQuery({ queryKey: ['user', userId, 'access'], queryFn: () => api<{ value: AccessEntry[] }>(`/v1.0/foyer/users/${userId}/access`) });
  const items = list.data?.value ?? [];
  if (list.isPending) return <Text>{t('app.loading')}</Text>;
  if (list.error) return <Text>{t('common.error', { message: errorText(list.error) })}</Text>;
  if (items.length === 0) return <Text as="p">{t('details.noTeams')}</Text>;
  return (
    <Table aria-label={t('details.teams')} size="small" style={{ marginTop: 16 }}>
      <TableHeader>
        <TableRow>
          <TableHeaderCell>{t('teams.col.name')}</TableHeaderCell>
          <TableHeaderCell>{t('teams.col.kind')}</TableHeaderCell>
          <TableHeaderCell>{t('details.accessFrom')}</TableHeaderCell>
          <TableHeaderCell>{t('teams.col.role')}</TableHeaderCell>
          <TableHeaderCell>{t('details.expires')}</TableHeaderCell>
        </TableRow>
      </TableHeader>
      <TableBody>
        {items.map((a) => (
          <TableRow key={`${a.kind}:${a.id}`}>
            <TableCell>{a.displayName}</TableCell>
            <TableCell>{t(`details.kind.${a.kind}`)}</TableCell>
            <TableCell>{a.kind === 'file' ? a.source : t(`details.via.${a.kind}`)}</TableCell>
            <TableCell>{t(`teams.role.${a.role}` as 'teams.role.member', { defaultValue: a.role })}</TableCell>
            <TableCell>{a.expirationDateTime ? fmt.date(a.expirationDateTime) : t('common.never')}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
