import { useState } from 'react';
import { Button, makeStyles, Text, tokens } from '@fluentui/react-components';
import { Delete20Regular } from '@fluentui/react-icons';
import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { errorText, useFormat } from '../format';
import { useNotify } from '../notify';
import { ConfirmDialog } from './ConfirmDialog';
import { ListState } from './ListState';
import { usePagedList } from './usePagedList';
import { VirtualTable, type Column } from './VirtualTable';

interface BlockedInvitee {
  id: string;
  emailAddress: string;
  createdDateTime: string;
}

const useStyles = makeStyles({ intro: { display: 'block', marginBottom: '12px', color: tokens.colorNeutralForeground2 } });

/** Addresses whose owners used "Block future invitations" in an invitation email; an administrator lifts a block. */
export function BlockedInvitees() {
  const styles = useStyles();
  const { t } = useTranslation();
  const fmt = useFormat();
  const notify = useNotify();
  const queryClient = useQueryClient();
  const [removing, setRemoving] = useState<BlockedInvitee | null>(null);
  const [busy, setBusy] = useState(false);
  const list = usePagedList<BlockedInvitee>(['blockedInvitees'], '/v1.0/foyer/blockedInvitees?$top=100');

  async function remove(entry: BlockedInvitee) {
    setBusy(true);
    try {
      await api(`/v1.0/foyer/blockedInvitees/${encodeURIComponent(entry.emailAddress)}`, { method: 'DELETE' });
      notify(t('settings.blockedRemoved', { email: entry.emailAddress }));
    } catch (e) {
      notify(errorText(e), 'error');
    } finally {
      setBusy(false);
      setRemoving(null);
      void queryClient.invalidateQueries({ queryKey: ['blockedInvitees'] });
    }
  }

  const columns: Column<BlockedInvitee>[] = [
    { key: 'email', label: t('settings.blockedAddress'), width: '50%', render: (b) => b.emailAddress },
    { key: 'created', label: t('settings.blockedSince'), width: '30%', render: (b) => fmt.dateTime(b.createdDateTime) },
    {
      key: 'remove',
      label: t('settings.blockedActions'),
      width: '20%',
      render: (b) => (
        <Button size="small" icon={<Delete20Regular />} aria-label={t('settings.blockedRemoveOne', { email: b.emailAddress })} onClick={() => setRemoving(b)}>
          {t('common.remove')}
        </Button>
      ),
    },
  ];

  return (
    <>
      <Text className={styles.intro}>{t('settings.blockedIntro')}</Text>
      <ListState
        pending={list.query.isPending}
        error={list.query.error}
        empty={list.items.length === 0}
        emptyText={t('settings.blockedEmpty')}
        retry={() => void list.query.refetch()}
      >
        <VirtualTable
          label={t('settings.blocked')}
          columns={columns}
          items={list.items}
          getId={(b) => b.id}
          hasMore={list.hasMore}
          loadingMore={list.loadingMore}
          loadMore={list.loadMore}
          height="320px"
        />
      </ListState>
      <ConfirmDialog
        open={removing !== null}
        title={t('settings.blockedRemoveTitle', { email: removing?.emailAddress ?? '' })}
        text={t('settings.blockedRemoveText')}
        confirm={t('common.remove')}
        busy={busy}
        onConfirm={() => removing && void remove(removing)}
        onCancel={() => setRemoving(null)}
      />
    </>
  );
}
