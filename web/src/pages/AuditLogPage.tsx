import { useState } from 'react';
import {
  DrawerBody,
  Dropdown,
  Field,
  Input,
  Link,
  makeStyles,
  Option,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Toolbar,
  ToolbarButton,
} from '@fluentui/react-components';
import { ArrowDownload20Regular } from '@fluentui/react-icons';
import { useTranslation } from 'react-i18next';
import { api, odataString, relative, type Page } from '../api';
import { PageHeader } from '../components/PageHeader';
import { Panel } from '../components/Panel';
import { VirtualTable, type Column } from '../components/VirtualTable';
import { ListState } from '../components/ListState';
import { usePagedList } from '../components/usePagedList';
import { DirectoryPicker, type Picked } from '../components/DirectoryPicker';
import { errorText, useFormat } from '../format';
import { useNotify } from '../notify';

interface Audit {
  id: string;
  activityDateTime: string;
  activityDisplayName: string;
  category: string;
  result: string;
  resultReason: string | null;
  initiatedBy: {
    user?: { id: string; displayName: string | null; userPrincipalName?: string | null } | null;
    app?: { appId: string; displayName: string | null } | null;
  };
  targetResources: {
    id: string;
    displayName: string | null;
    type: string;
    userPrincipalName?: string | null;
    modifiedProperties: { displayName: string; oldValue: string | null; newValue: string | null }[];
  }[];
}

const activities = [
  'Invite external user',
  'Invite external user with reset invitation status',
  'Redeem external user invite',
  'Resend external user invitation',
  'Revoke external user invitation',
  'Invitation email sent',
  'Invitation email failed',
  'Delete external user',
  'Add user',
  'Update user',
  'Delete user',
  'Hard Delete user',
  'Restore user',
  'Add group',
  'Update group',
  'Delete group',
  'Add member to group',
  'Remove member from group',
  'Add owner to group',
  'Remove owner from group',
  'Add member to role',
  'Remove member from role',
  'Update policy',
];

const useStyles = makeStyles({
  filters: { display: 'flex', gap: '12px', flexWrap: 'wrap', alignItems: 'flex-end', marginBottom: '12px' },
  filter: { minWidth: '200px' },
  props: { display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: '8px 24px' },
});

const who = (a: Audit) => a.initiatedBy.user?.displayName ?? a.initiatedBy.user?.userPrincipalName ?? a.initiatedBy.app?.displayName ?? 'Foyer';

/** A CSV field, with a formula-looking value made inert (the log holds names people chose). */
const csv = (v: unknown) => {
  let s = v == null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function AuditLogPage() {
  const styles = useStyles();
  const { t } = useTranslation();
  const fmt = useFormat();
  const notify = useNotify();
  const [activity, setActivity] = useState('');
  const [initiator, setInitiator] = useState<Picked[]>([]);
  const [target, setTarget] = useState<Picked[]>([]);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [open, setOpen] = useState<Audit | null>(null);
  const [exporting, setExporting] = useState(false);

  const filters: string[] = [];
  if (activity) filters.push(`activityDisplayName eq ${odataString(activity)}`);
  if (initiator[0]) filters.push(`initiatedBy/user/id eq ${odataString(initiator[0].id)}`);
  if (target[0]) filters.push(`targetResources/any(t: t/id eq ${odataString(target[0].id)})`);
  if (from) filters.push(`activityDateTime ge ${new Date(`${from}T00:00:00`).toISOString()}`);
  if (to) filters.push(`activityDateTime le ${new Date(`${to}T23:59:59.999`).toISOString()}`);
  const p = new URLSearchParams({ $top: '100' });
  if (filters.length) p.set('$filter', filters.join(' and '));
  const url = `/v1.0/auditLogs/directoryAudits?${p.toString()}`;
  const list = usePagedList<Audit>(['audit'], url);

  const columns: Column<Audit>[] = [
    { key: 'date', label: t('audit.date'), width: '18%', render: (a) => fmt.dateTime(a.activityDateTime) },
    {
      key: 'activity',
      label: t('audit.activity'),
      width: '30%',
      render: (a) => (
        <Link as="button" onClick={() => setOpen(a)}>
          {a.activityDisplayName}
        </Link>
      ),
    },
    { key: 'by', label: t('audit.initiatedBy').replace(/ \(.*\)$/, ''), width: '20%', render: who },
    { key: 'target', label: t('audit.targets'), width: '22%', render: (a) => a.targetResources.map((r) => r.displayName ?? r.id).join(', ') },
    { key: 'result', label: t('audit.result'), width: '10%', render: (a) => (a.result === 'success' ? t('audit.success') : t('audit.failure')) },
  ];

  /** The audit log is read page by page through the API and saved as one file; it stays as big as the filter makes it. */
  async function exportCsv() {
    setExporting(true);
    try {
      const lines = [['Date', 'Activity', 'Category', 'Result', 'Initiated by', 'Targets', 'Id'].join(',')];
      let next: string | null = url.replace('$top=100', '$top=999');
      while (next) {
        const page: Page<Audit> = await api<Page<Audit>>(next);
        for (const a of page.value)
          lines.push(
            [a.activityDateTime, a.activityDisplayName, a.category, a.result, who(a), a.targetResources.map((r) => r.displayName ?? r.id).join('; '), a.id]
              .map(csv)
              .join(','),
          );
        next = page['@odata.nextLink'] ? relative(page['@odata.nextLink']) : null;
      }
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([`\ufeff${lines.join('\r\n')}\r\n`], { type: 'text/csv' }));
      link.download = `audit-log-${new Date().toISOString().slice(0, 10)}.csv`;
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (e) {
      notify(errorText(e), 'error');
    } finally {
      setExporting(false);
    }
  }

  return (
    <>
      <PageHeader title={t('audit.title')} intro={t('audit.intro')} />
      <Toolbar aria-label={t('audit.title')}>
        <ToolbarButton icon={<ArrowDownload20Regular />} disabled={exporting} onClick={() => void exportCsv()}>
          {t('audit.export')}
        </ToolbarButton>
      </Toolbar>
      <div className={styles.filters} role="group" aria-label={t('guests.filters')}>
        <Field label={t('audit.activity')} className={styles.filter}>
          <Dropdown value={activity || t('audit.allActivities')} selectedOptions={[activity]} onOptionSelect={(_, d) => setActivity(d.optionValue ?? '')}>
            <Option value="">{t('audit.allActivities')}</Option>
            {activities.map((a) => (
              <Option key={a} value={a}>
                {a}
              </Option>
            ))}
          </Dropdown>
        </Field>
        <Field label={t('audit.initiatedBy')} className={styles.filter}>
          <DirectoryPicker kind="users" label={t('audit.initiatedBy')} selected={initiator} onChange={(n) => setInitiator(n.slice(-1))} />
        </Field>
        <Field label={t('audit.target')} className={styles.filter}>
          <DirectoryPicker kind="users" label={t('audit.target')} selected={target} onChange={(n) => setTarget(n.slice(-1))} />
        </Field>
        <Field label={t('audit.from')}>
          <Input type="date" value={from} onChange={(_, d) => setFrom(d.value)} />
        </Field>
        <Field label={t('audit.to')}>
          <Input type="date" value={to} onChange={(_, d) => setTo(d.value)} />
        </Field>
      </div>
      <ListState
        pending={list.query.isPending}
        error={list.query.error}
        empty={list.items.length === 0}
        emptyText={t('audit.empty')}
        retry={() => void list.query.refetch()}
      >
        <VirtualTable
          label={t('audit.title')}
          columns={columns}
          items={list.items}
          getId={(a) => a.id}
          hasMore={list.hasMore}
          loadingMore={list.loadingMore}
          loadMore={list.loadMore}
          height="calc(100vh - 330px)"
        />
      </ListState>
      <Panel open={open !== null} size="large" title={open?.activityDisplayName ?? t('audit.detailsTitle')} onClose={() => setOpen(null)}>
        <DrawerBody>
          {open && (
            <>
              <dl className={styles.props}>
                <dt>{t('audit.date')}</dt>
                <dd>{fmt.dateTime(open.activityDateTime)}</dd>
                <dt>{t('audit.category')}</dt>
                <dd>{open.category}</dd>
                <dt>{t('audit.result')}</dt>
                <dd>{open.result === 'success' ? t('audit.success') : t('audit.failure')}</dd>
                {open.resultReason && (
                  <>
                    <dt>{t('audit.reason')}</dt>
                    <dd>{open.resultReason}</dd>
                  </>
                )}
                <dt>{t('audit.initiatedBy').replace(/ \(.*\)$/, '')}</dt>
                <dd>{who(open)}</dd>
              </dl>
              {open.targetResources.map((r) => (
                <section key={r.id}>
                  <h2 style={{ fontSize: 16 }}>
                    {r.type}: {r.displayName ?? r.userPrincipalName ?? r.id}
                  </h2>
                  {r.modifiedProperties.length > 0 && (
                    <Table aria-label={t('audit.modified')} size="small">
                      <TableHeader>
                        <TableRow>
                          <TableHeaderCell>{t('audit.property')}</TableHeaderCell>
                          <TableHeaderCell>{t('audit.oldValue')}</TableHeaderCell>
                          <TableHeaderCell>{t('audit.newValue')}</TableHeaderCell>
                        </TableRow>
                      </TableHeader>
                      <TableBody>
                        {r.modifiedProperties.map((m) => (
                          <TableRow key={m.displayName}>
                            <TableCell>{m.displayName}</TableCell>
                            <TableCell style={{ overflowWrap: 'anywhere' }}>{m.oldValue ?? ''}</TableCell>
                            <TableCell style={{ overflowWrap: 'anywhere' }}>{m.newValue ?? ''}</TableCell>
                          </TableRow>
                        ))}
                      </TableBody>
                    </Table>
                  )}
                </section>
              ))}
            </>
          )}
        </DrawerBody>
      </Panel>
    </>
  );
}
