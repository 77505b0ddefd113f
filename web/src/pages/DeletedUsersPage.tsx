import { useState } from 'react';
import { Toolbar, ToolbarButton } from '@fluentui/react-components';
import { ArrowUndo20Regular, Delete20Regular, ArrowSync20Regular } from '@fluentui/react-icons';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, type User } from '../api';
import { PageHeader } from '../components/PageHeader';
import { VirtualTable, type Column } from '../components/VirtualTable';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { ListState } from '../components/ListState';
import { usePagedList } from '../components/usePagedList';
import { errorText, useFormat } from '../format';
import { useNotify } from '../notify';

const RETENTION_DAYS = 30;

/** Days until the purge job removes an object deleted at `deleted` (never below zero). */
export const daysLeft = (deleted: string, now = Date.now()) => Math.max(0, Math.ceil(RETENTION_DAYS - (now - Date.parse(deleted)) / 86_400_000));

export function DeletedUsersPage() {
  const { t } = useTranslation();
  const fmt = useFormat();
  const notify = useNotify();
  const queryClient = useQueryClient();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirmPurge, setConfirmPurge] = useState(false);
  const [busy, setBusy] = useState(false);
  const list = usePagedList<User>(
    ['deletedUsers'],
    '/v1.0/directory/deletedItems/microsoft.graph.user?$select=id,displayName,userPrincipalName,mail,userType,deletedDateTime',
  );

  const columns: Column<User>[] = [
    { key: 'displayName', label: t('deleted.columns.displayName'), width: '25%', render: (u) => u.displayName },
    { key: 'upn', label: t('deleted.columns.upn'), width: '30%', render: (u) => u.mail ?? u.userPrincipalName },
    { key: 'type', label: t('deleted.columns.type'), width: '12%', render: (u) => u.userType ?? '' },
    { key: 'deleted', label: t('deleted.columns.deleted'), width: '18%', render: (u) => fmt.dateTime(u.deletedDateTime) },
    { key: 'daysLeft', label: t('deleted.columns.daysLeft'), width: '15%', render: (u) => t('deleted.daysLeft', { count: daysLeft(u.deletedDateTime!) }) },
  ];

  async function run(kind: 'restore' | 'purge') {
    setBusy(true);
    let done = 0;
    for (const id of selected) {
      try {
        if (kind === 'restore') await api(`/v1.0/directory/deletedItems/${id}/restore`, { method: 'POST' });
        else await api(`/v1.0/directory/deletedItems/${id}`, { method: 'DELETE' });
        done++;
      } catch (e) {
        notify(errorText(e), 'error');
      }
    }
    setBusy(false);
    setConfirmPurge(false);
    setSelected(new Set());
    if (done) notify(kind === 'restore' ? t('deleted.restored', { count: done }) : t('deleted.purged', { count: done }));
    void queryClient.invalidateQueries({ queryKey: ['deletedUsers'] });
    void queryClient.invalidateQueries({ queryKey: ['guests'] });
    void queryClient.invalidateQueries({ queryKey: ['members'] });
  }

  return (
    <>
      <PageHeader title={t('deleted.title')} intro={t('deleted.intro')} />
      <Toolbar aria-label={t('deleted.title')}>
        <ToolbarButton appearance="primary" icon={<ArrowUndo20Regular />} disabled={busy || selected.size === 0} onClick={() => void run('restore')}>
          {t('deleted.restore')}
        </ToolbarButton>
        <ToolbarButton icon={<Delete20Regular />} disabled={busy || selected.size === 0} onClick={() => setConfirmPurge(true)}>
          {t('deleted.purge')}
        </ToolbarButton>
        <ToolbarButton icon={<ArrowSync20Regular />} onClick={() => void queryClient.invalidateQueries({ queryKey: ['deletedUsers'] })}>
          {t('common.refresh')}
        </ToolbarButton>
      </Toolbar>
      <ListState
        pending={list.query.isPending}
        error={list.query.error}
        empty={list.items.length === 0}
        emptyText={t('deleted.empty')}
        retry={() => void list.query.refetch()}
      >
        <VirtualTable
          label={t('deleted.title')}
          columns={columns}
          items={list.items}
          getId={(u) => u.id}
          selection={{ selected, onChange: setSelected, nameOf: (u) => u.displayName }}
          hasMore={list.hasMore}
          loadingMore={list.loadingMore}
          loadMore={list.loadMore}
          height="calc(100vh - 240px)"
        />
      </ListState>
      <ConfirmDialog
        open={confirmPurge}
        title={t('deleted.purgeTitle', { count: selected.size })}
        text={t('deleted.purgeText')}
        confirm={t('deleted.purge')}
        busy={busy}
        onConfirm={() => void run('purge')}
        onCancel={() => setConfirmPurge(false)}
      />
    </>
  );
}
