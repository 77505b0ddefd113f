import { useState } from 'react';
import { Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Link } from '@fluentui/react-components';
import { useTranslation } from 'react-i18next';
import { PageHeader } from '../components/PageHeader';
import { VirtualTable, type Column } from '../components/VirtualTable';
import { ListState } from '../components/ListState';
import { usePagedList } from '../components/usePagedList';
import { useFormat } from '../format';

interface Mail {
  id: string;
  to: string[];
  subject: string;
  text: string;
  createdDateTime: string;
  status: string;
}

/** The built-in outbox: mail kept instead of delivered when no SMTP server is configured. */
export function OutboxPage() {
  const { t } = useTranslation();
  const fmt = useFormat();
  const [open, setOpen] = useState<Mail | null>(null);
  const list = usePagedList<Mail>(['outbox'], '/v1.0/foyer/outbox?$top=100');
  const columns: Column<Mail>[] = [
    { key: 'to', label: t('outbox.to'), width: '28%', render: (m) => m.to.join(', ') },
    {
      key: 'subject',
      label: t('outbox.subject'),
      width: '44%',
      render: (m) => (
        <Link as="button" onClick={() => setOpen(m)}>
          {m.subject}
        </Link>
      ),
    },
    { key: 'created', label: t('outbox.sent'), width: '16%', render: (m) => fmt.dateTime(m.createdDateTime) },
    { key: 'status', label: t('outbox.status'), width: '12%', render: (m) => m.status },
  ];
  return (
    <>
      <PageHeader title={t('outbox.title')} intro={t('outbox.intro')} />
      <ListState
        pending={list.query.isPending}
        error={list.query.error}
        empty={list.items.length === 0}
        emptyText={t('outbox.empty')}
        retry={() => void list.query.refetch()}
      >
        <VirtualTable
          label={t('outbox.title')}
          columns={columns}
          items={list.items}
          getId={(m) => m.id}
          hasMore={list.hasMore}
          loadingMore={list.loadingMore}
          loadMore={list.loadMore}
          height="calc(100vh - 200px)"
        />
      </ListState>
      <Dialog open={open !== null} onOpenChange={(_, d) => !d.open && setOpen(null)}>
        <DialogSurface style={{ maxWidth: 760 }}>
          <DialogBody>
            <DialogTitle>{open?.subject}</DialogTitle>
            <DialogContent>
              <p>
                {t('outbox.to')}: {open?.to.join(', ')}
              </p>
              {/* The text part, shown as text: links stay visible and copyable, nothing in the mail runs. */}
              <pre style={{ whiteSpace: 'pre-wrap', fontFamily: 'inherit' }} data-testid="mail-text">
                {open?.text}
              </pre>
            </DialogContent>
            <DialogActions>
              <Button onClick={() => setOpen(null)}>{t('common.close')}</Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </>
  );
}
