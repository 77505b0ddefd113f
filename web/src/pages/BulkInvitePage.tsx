import { useRef, useState, type DragEvent } from 'react';
import {
  Badge,
  Button,
  Field,
  Input,
  Link,
  makeStyles,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  ProgressBar,
  Select,
  Switch,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  tokens,
} from '@fluentui/react-components';
import { ArrowDownload20Regular, ArrowUpload20Regular, DocumentArrowDown20Regular } from '@fluentui/react-icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, type Page } from '../api';
import { readCsv } from '../csv';
import { PageHeader } from '../components/PageHeader';
import { ListState } from '../components/ListState';
import { VirtualTable, type Column } from '../components/VirtualTable';
import { DirectoryPicker, type Picked } from '../components/DirectoryPicker';
import { errorText, useFormat } from '../format';
import { useNotify } from '../notify';

export interface BulkInvitation {
  id: string;
  status: 'queued' | 'running' | 'completed' | 'cancelled';
  fileName: string;
  total: number;
  processed: number;
  succeeded: number;
  failed: number;
  alreadyInvited: number;
  createdDateTime: string;
  completedDateTime: string | null;
  createdBy: { id: string; displayName: string | null; type: string };
}

interface Preview {
  format: 'entra' | 'plain';
  total: number;
  valid: number;
  failed: number;
  errors: { line: number; email: string; column: string | null; reason: string | null }[];
}

interface ResultLine {
  line: string;
  email: string;
  status: string;
  userId: string;
  redeemUrl: string;
  column: string;
  reason: string;
}

/** Rows of the result file shown on the page; the download has them all. */
const SHOWN_RESULTS = 5000;
const base = '/v1.0/foyer/bulkInvitations';
const noop = () => undefined;
const active = (b: BulkInvitation | undefined) => b?.status === 'queued' || b?.status === 'running';

const useStyles = makeStyles({
  section: {
    backgroundColor: tokens.colorNeutralBackground1,
    borderRadius: tokens.borderRadiusMedium,
    boxShadow: tokens.shadow2,
    padding: '16px 20px',
    marginBottom: '16px',
    display: 'flex',
    flexDirection: 'column',
    gap: '12px',
  },
  h2: { fontSize: tokens.fontSizeBase500, fontWeight: tokens.fontWeightSemibold, margin: 0 },
  drop: {
    border: `2px dashed ${tokens.colorNeutralStroke1}`,
    borderRadius: tokens.borderRadiusMedium,
    padding: '24px',
    textAlign: 'center',
    display: 'flex',
    flexDirection: 'column',
    alignItems: 'center',
    gap: '8px',
  },
  dropActive: { border: `2px dashed ${tokens.colorBrandStroke1}`, backgroundColor: tokens.colorBrandBackground2 },
  hidden: { position: 'absolute', width: '1px', height: '1px', overflow: 'hidden', clip: 'rect(0 0 0 0)', whiteSpace: 'nowrap' },
  options: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(260px, 1fr))', gap: '12px' },
  row: { display: 'flex', gap: '8px', alignItems: 'center', flexWrap: 'wrap' },
});

/** Entra's "Bulk invite" with Foyer's upload: template, file, preview, job, results and history. */
export function BulkInvitePage() {
  const styles = useStyles();
  const { t, i18n } = useTranslation();
  const fmt = useFormat();
  const notify = useNotify();
  const queryClient = useQueryClient();
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [dragging, setDragging] = useState(false);
  const [redirectUrl, setRedirectUrl] = useState(`${window.location.origin}/my`);
  const [language, setLanguage] = useState(i18n.resolvedLanguage === 'nl' ? 'nl' : 'en');
  const [groups, setGroups] = useState<Picked[]>([]);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [jobId, setJobId] = useState<string | null>(null);

  const query = (validateOnly: boolean, f: File) => {
    const q = new URLSearchParams({ fileName: f.name, language });
    if (redirectUrl.trim()) q.set('redirectUrl', redirectUrl.trim());
    if (groups.length) q.set('groups', groups.map((g) => g.id).join(','));
    if (validateOnly) q.set('validateOnly', 'true');
    return `${base}?${q.toString()}`;
  };

  async function validate(f: File) {
    setBusy(true);
    setPreview(null);
    setFileError(null);
    try {
      setPreview(await api<Preview>(query(true, f), { method: 'POST', raw: { body: f, type: 'text/csv' } }));
    } catch (e) {
      setFileError(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  function choose(f: File | undefined) {
    if (!f) return;
    setFile(f);
    void validate(f);
  }
  function drop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    choose(e.dataTransfer.files[0]);
  }
  async function submit() {
    if (!file) return;
    setBusy(true);
    try {
      const job = await api<BulkInvitation>(query(false, file), { method: 'POST', raw: { body: file, type: 'text/csv' } });
      queryClient.setQueryData(['bulk', job.id], job);
      setJobId(job.id);
      setFile(null);
      setPreview(null);
      if (input.current) input.current.value = '';
      notify(t('bulk.submitted', { count: job.total }));
      void queryClient.invalidateQueries({ queryKey: ['bulk', 'history'] });
    } catch (e) {
      setFileError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeader title={t('bulk.title')} intro={t('bulk.intro')} />
      <section className={styles.section} aria-labelledby="bulk-step1">
        <h2 id="bulk-step1" className={styles.h2}>
          {t('bulk.step1')}
        </h2>
        <Text>{t('bulk.templateText')}</Text>
        <div>
          <Button as="a" href={`${base}/template`} download="BulkInviteTemplate.csv" icon={<DocumentArrowDown20Regular />}>
            {t('bulk.downloadTemplate')}
          </Button>
        </div>
      </section>
      <section className={styles.section} aria-labelledby="bulk-step2">
        <h2 id="bulk-step2" className={styles.h2}>
          {t('bulk.step2')}
        </h2>
        <div
          className={dragging ? `${styles.drop} ${styles.dropActive}` : styles.drop}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={drop}
          data-testid="drop-zone"
        >
          <ArrowUpload20Regular aria-hidden />
          <Text>{t('bulk.dropHere')}</Text>
          <input
            ref={input}
            id="bulk-file"
            type="file"
            accept=".csv,text/csv"
            className={styles.hidden}
            aria-label={t('bulk.chooseFile')}
            tabIndex={-1}
            onChange={(e) => choose(e.target.files?.[0])}
          />
          <Button onClick={() => input.current?.click()}>{t('bulk.chooseFile')}</Button>
          {file && <Text weight="semibold">{t('bulk.selected', { name: file.name, size: fmt.number(Math.ceil(file.size / 1024)) })}</Text>}
        </div>
        <div className={styles.options}>
          <Field label={t('bulk.redirectUrl')} hint={t('bulk.redirectUrlHint')}>
            <Input type="url" value={redirectUrl} onChange={(_, d) => setRedirectUrl(d.value)} />
          </Field>
          <Field label={t('bulk.language')}>
            <Select value={language} onChange={(_, d) => setLanguage(d.value)}>
              <option value="en">English</option>
              <option value="nl">Nederlands</option>
            </Select>
          </Field>
          <Field label={t('bulk.groups')} hint={t('bulk.groupsHint')}>
            <DirectoryPicker kind="groups" label={t('bulk.groups')} selected={groups} onChange={setGroups} />
          </Field>
        </div>
        {file && (
          <div>
            <Button onClick={() => void validate(file)} disabled={busy}>
              {t('bulk.validateAgain')}
            </Button>
          </div>
        )}
        {fileError && (
          <MessageBar intent="error">
            <MessageBarBody>
              <MessageBarTitle>{t('bulk.fileRefused')}</MessageBarTitle>
              {fileError}
            </MessageBarBody>
          </MessageBar>
        )}
        {preview && <PreviewView preview={preview} />}
        <div>
          <Button appearance="primary" disabled={!file || !preview || preview.valid === 0 || busy} onClick={() => void submit()}>
            {t('bulk.submit')}
          </Button>
        </div>
      </section>
      {jobId && <JobView id={jobId} />}
      <History onOpen={setJobId} />
    </>
  );
}

function PreviewView({ preview }: { preview: Preview }) {
  const { t } = useTranslation();
  return (
    <div data-testid="bulk-preview" role="status">
      <MessageBar intent={preview.failed ? 'warning' : 'success'}>
        <MessageBarBody>
          <MessageBarTitle>{t(preview.format === 'entra' ? 'bulk.formatEntra' : 'bulk.formatPlain')}</MessageBarTitle>
          {t('bulk.previewCounts', { total: preview.total, valid: preview.valid, failed: preview.failed })}
        </MessageBarBody>
      </MessageBar>
      {preview.errors.length > 0 && (
        <Table aria-label={t('bulk.firstErrors')} size="small" style={{ marginTop: 8 }}>
          <TableHeader>
            <TableRow>
              <TableHeaderCell style={{ width: 80 }}>{t('bulk.col.line')}</TableHeaderCell>
              <TableHeaderCell>{t('bulk.col.email')}</TableHeaderCell>
              <TableHeaderCell style={{ width: 160 }}>{t('bulk.col.column')}</TableHeaderCell>
              <TableHeaderCell>{t('bulk.col.reason')}</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {preview.errors.map((e) => (
              <TableRow key={e.line}>
                <TableCell>{e.line}</TableCell>
                <TableCell>{e.email}</TableCell>
                <TableCell>{e.column ?? ''}</TableCell>
                <TableCell>{e.reason ?? ''}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </div>
  );
}

/** One upload: live progress while it runs, then its results. */
function JobView({ id }: { id: string }) {
  const styles = useStyles();
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const notify = useNotify();
  const [failedOnly, setFailedOnly] = useState(false);
  const job = useQuery({
    queryKey: ['bulk', id],
    queryFn: async () => {
      const b = await api<BulkInvitation>(`${base}/${id}`);
      if (!active(b)) void queryClient.invalidateQueries({ queryKey: ['bulk', 'history'] });
      return b;
    },
    refetchInterval: (q) => (active(q.state.data) ? 1000 : false),
  });
  const b = job.data;
  const done = Boolean(b && !active(b));
  const resultsPath = `${base}/${id}/results${failedOnly ? '?status=failed' : ''}`;
  const results = useQuery({
    queryKey: ['bulk', id, 'results', failedOnly],
    queryFn: async ({ signal }) => {
      const { rows, more } = await readCsv(resultsPath, SHOWN_RESULTS + 1, signal);
      const [, ...lines] = rows;
      return {
        more,
        lines: lines.map(([line, email, status, userId, redeemUrl, column, reason]) => ({
          line: line ?? '',
          email: email ?? '',
          status: status ?? '',
          userId: userId ?? '',
          redeemUrl: redeemUrl ?? '',
          column: column ?? '',
          reason: reason ?? '',
        })),
      };
    },
    enabled: done,
  });
  async function cancel() {
    try {
      await api(`${base}/${id}/cancel`, { method: 'POST' });
      void job.refetch();
    } catch (e) {
      notify(errorText(e), 'error');
    }
  }

  const columns: Column<ResultLine>[] = [
    { key: 'line', label: t('bulk.col.line'), width: '8%', render: (r) => r.line },
    { key: 'email', label: t('bulk.col.email'), width: '30%', render: (r) => r.email },
    { key: 'status', label: t('bulk.col.status'), width: '16%', render: (r) => <LineStatus status={r.status} /> },
    { key: 'reason', label: t('bulk.col.reason'), width: '46%', render: (r) => (r.column ? `${r.column}: ${r.reason}` : r.reason) },
  ];
  const percent = b && b.total ? b.processed / b.total : 0;
  return (
    <section className={styles.section} aria-labelledby="bulk-job">
      <h2 id="bulk-job" className={styles.h2}>
        {b ? t('bulk.jobTitle', { name: b.fileName }) : t('app.loading')}
      </h2>
      {job.error && (
        <MessageBar intent="error">
          <MessageBarBody>{errorText(job.error)}</MessageBarBody>
        </MessageBar>
      )}
      {b && (
        <>
          <Field
            label={t('bulk.progress')}
            validationState="none"
            validationMessage={t('bulk.progressText', {
              processed: b.processed,
              total: b.total,
              succeeded: b.succeeded,
              alreadyInvited: b.alreadyInvited,
              failed: b.failed,
            })}
          >
            <ProgressBar value={percent} max={1} thickness="large" aria-valuetext={`${Math.round(percent * 100)}%`} />
          </Field>
          <div className={styles.row} role="status" data-testid="bulk-status">
            <StatusBadge status={b.status} />
            {active(b) && <Button onClick={() => void cancel()}>{t('bulk.cancel')}</Button>}
          </div>
        </>
      )}
      {done && (
        <>
          <div className={styles.row}>
            <Switch label={t('bulk.failedOnly')} checked={failedOnly} onChange={(_, d) => setFailedOnly(d.checked)} />
            <Button as="a" href={resultsPath} download icon={<ArrowDownload20Regular />}>
              {failedOnly ? t('bulk.downloadFailed') : t('bulk.downloadResults')}
            </Button>
          </div>
          <ListState
            pending={results.isPending}
            error={results.error}
            empty={(results.data?.lines.length ?? 0) === 0}
            emptyText={failedOnly ? t('bulk.noFailures') : t('bulk.noResults')}
            retry={() => void results.refetch()}
          >
            <VirtualTable
              label={t('bulk.results')}
              columns={columns}
              items={results.data?.lines ?? []}
              getId={(r) => r.line}
              hasMore={false}
              loadingMore={false}
              loadMore={noop}
              height="360px"
            />
            {results.data?.more && <Text>{t('bulk.moreResults', { count: SHOWN_RESULTS })}</Text>}
          </ListState>
        </>
      )}
    </section>
  );
}

function LineStatus({ status }: { status: string }) {
  const { t } = useTranslation();
  const color = status === 'succeeded' ? 'success' : status === 'failed' ? 'danger' : status === 'alreadyInvited' ? 'informative' : 'subtle';
  return (
    <Badge appearance="tint" color={color}>
      {t(`bulk.line.${status}` as 'bulk.line.failed', { defaultValue: status })}
    </Badge>
  );
}

function StatusBadge({ status }: { status: BulkInvitation['status'] }) {
  const { t } = useTranslation();
  const color = status === 'completed' ? 'success' : status === 'cancelled' ? 'warning' : 'brand';
  return (
    <Badge appearance="tint" color={color}>
      {t(`bulk.status.${status}`)}
    </Badge>
  );
}

/** Entra's "Bulk operation results": every upload, newest first. */
function History({ onOpen }: { onOpen(id: string): void }) {
  const styles = useStyles();
  const { t } = useTranslation();
  const fmt = useFormat();
  const list = useQuery({
    queryKey: ['bulk', 'history'],
    queryFn: () => api<Page<BulkInvitation>>(base),
    refetchInterval: (q) => (q.state.data?.value.some(active) ? 3000 : false),
  });
  const items = list.data?.value ?? [];
  return (
    <section className={styles.section} aria-labelledby="bulk-history">
      <h2 id="bulk-history" className={styles.h2}>
        {t('bulk.history')}
      </h2>
      <ListState pending={list.isPending} error={list.error} empty={items.length === 0} emptyText={t('bulk.noHistory')} retry={() => void list.refetch()}>
        <Table aria-label={t('bulk.history')} size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>{t('bulk.col.date')}</TableHeaderCell>
              <TableHeaderCell>{t('bulk.col.file')}</TableHeaderCell>
              <TableHeaderCell>{t('bulk.col.status')}</TableHeaderCell>
              <TableHeaderCell>{t('bulk.col.success')}</TableHeaderCell>
              <TableHeaderCell>{t('bulk.col.alreadyInvited')}</TableHeaderCell>
              <TableHeaderCell>{t('bulk.col.failure')}</TableHeaderCell>
              <TableHeaderCell>{t('bulk.col.total')}</TableHeaderCell>
              <TableHeaderCell>{t('bulk.col.by')}</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {items.map((b) => (
              <TableRow key={b.id}>
                <TableCell>{fmt.dateTime(b.createdDateTime)}</TableCell>
                <TableCell>
                  <Link as="button" onClick={() => onOpen(b.id)}>
                    {b.fileName}
                  </Link>
                </TableCell>
                <TableCell>
                  <StatusBadge status={b.status} />
                </TableCell>
                <TableCell>{fmt.number(b.succeeded)}</TableCell>
                <TableCell>{fmt.number(b.alreadyInvited)}</TableCell>
                <TableCell>{fmt.number(b.failed)}</TableCell>
                <TableCell>{fmt.number(b.total)}</TableCell>
                <TableCell>{b.createdBy.displayName ?? ''}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </ListState>
    </section>
  );
}
