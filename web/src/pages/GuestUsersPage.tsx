import { useCallback, useEffect, useMemo, useState } from 'react';
import {
  Button,
  Dropdown,
  Field,
  Input,
  Link,
  makeStyles,
  MessageBar,
  MessageBarBody,
  Option,
  SearchBox,
  Spinner,
  Text,
  Toolbar,
  ToolbarButton,
  tokens,
} from '@fluentui/react-components';
import { ArrowDownload20Regular, ArrowSync20Regular, Delete20Regular, PersonAdd20Regular } from '@fluentui/react-icons';
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, eventual, odataString, peopleSearch, relative, type Page, type User } from '../api';
import { PageHeader } from '../components/PageHeader';
import { VirtualTable, type Column, type Sort } from '../components/VirtualTable';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { StateBadge } from '../components/StateBadge';
import { InvitePanel } from '../components/InvitePanel';
import { GuestDetailsPanel } from '../components/GuestDetailsPanel';
import { errorText, useFormat } from '../format';
import { useNotify } from '../notify';
import { usePermissions } from '../session';

const useStyles = makeStyles({
  toolbar: { display: 'flex', alignItems: 'center', gap: '8px', flexWrap: 'wrap', marginBottom: '8px' },
  spacer: { flex: 1 },
  filters: { display: 'flex', gap: '12px', flexWrap: 'wrap', alignItems: 'flex-end', marginBottom: '12px' },
  filter: { minWidth: '160px' },
  count: { color: tokens.colorNeutralForeground2, marginBottom: '8px', display: 'block' },
  empty: { padding: '48px', textAlign: 'center', backgroundColor: tokens.colorNeutralBackground1, borderRadius: tokens.borderRadiusMedium },
  search: { width: '300px' },
});

const noneSelected: ReadonlySet<string> = new Set();
const sources = ['directory', 'bulk', 'teams', 'sharepoint', 'api'] as const;
const inactivityDays = [30, 90, 180, 365];
const select = 'id,displayName,mail,userPrincipalName,externalUserState,foyerSource,foyerInvitedBy,createdDateTime,signInActivity,accountEnabled';

export interface GuestQuery {
  search: string;
  state: '' | 'PendingAcceptance' | 'Accepted';
  source: string;
  domain: string;
  inactiveDays: number;
  sort: Sort | null;
}

/** `$filter` of the guest list besides `userType eq 'Guest'` (the export adds that itself). */
export function guestFilters(q: GuestQuery, now = new Date()): string[] {
  const parts: string[] = [];
  if (q.state) parts.push(`externalUserState eq ${odataString(q.state)}`);
  if (q.source) parts.push(`foyerSource eq ${odataString(q.source)}`);
  const domain = q.domain.trim().replace(/^@/, '');
  if (domain) parts.push(`endsWith(mail,${odataString(`@${domain}`)})`);
  if (q.inactiveDays) {
    const since = new Date(now.getTime() - q.inactiveDays * 86_400_000).toISOString();
    parts.push(`(signInActivity/lastSignInDateTime le ${since} or signInActivity/lastSignInDateTime eq null)`);
  }
  return parts;
}

/**
 * The list's query string. A search is in the search index's order unless a column was chosen, and
 * asks for no count: counting every match of a short prefix among a million users costs seconds,
 * while the first page of matches is one index range. Graph's advanced-query rules need
 * `$count=true` with `$orderby` or `endsWith`, so only then is the count asked for.
 */
function guestParams(q: GuestQuery, forExport: boolean): URLSearchParams {
  const p = new URLSearchParams();
  const filters = guestFilters(q);
  const filter = forExport ? filters : [`userType eq 'Guest'`, ...filters];
  if (filter.length) p.set('$filter', filter.join(' and '));
  const text = q.search.trim();
  if (text) p.set('$search', peopleSearch(text));
  const sort = q.sort ?? (text ? null : { key: 'displayName', direction: 'asc' });
  if (sort) p.set('$orderby', `${sort.key} ${sort.direction}`);
  if (!forExport) {
    p.set('$select', select);
    if (sort || q.domain.trim()) p.set('$count', 'true');
    p.set('$top', '100');
  }
  return p;
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

/** The list query of the page; `main.tsx` starts the default one while the app is still loading. */
export function guestListQuery(params: string, prefetch = false) {
  return {
    queryKey: ['guests', params],
    queryFn: ({ pageParam, signal }: { pageParam: string | null; signal: AbortSignal }) =>
      api<Page<User>>(pageParam ?? `/v1.0/users?${params}`, { headers: eventual, signal, quiet401: prefetch }),
    initialPageParam: null as string | null,
    getNextPageParam: (last: Page<User>) => (last['@odata.nextLink'] ? relative(last['@odata.nextLink']) : undefined),
    staleTime: 30_000,
  };
}

/** What the page asks for when opened: every guest, by name. */
export const defaultGuestParams = () => guestParams({ search: '', state: '', source: '', domain: '', inactiveDays: 0, sort: null }, false).toString();

export function GuestUsersPage() {
  const styles = useStyles();
  const { t } = useTranslation();
  const fmt = useFormat();
  const notify = useNotify();
  const can = usePermissions();
  const queryClient = useQueryClient();
  const [searchText, setSearchText] = useState('');
  const search = useDebounced(searchText, 150);
  const [state, setState] = useState<GuestQuery['state']>('');
  const [source, setSource] = useState('');
  const [domainText, setDomainText] = useState('');
  const domain = useDebounced(domainText, 300);
  const [inactiveDays, setInactiveDays] = useState(0);
  const [sort, setSort] = useState<Sort | null>(null);
  // The selection belongs to one query: when the search or a filter changes, it starts empty.
  const [selection, setSelection] = useState<{ params: string; ids: Set<string> }>({ params: '', ids: new Set() });
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [inviteOpen, setInviteOpen] = useState(false);
  const [openGuest, setOpenGuest] = useState<string | null>(null);

  const q: GuestQuery = { search, state, source, domain, inactiveDays, sort };
  const params = guestParams(q, false).toString();
  const list = useInfiniteQuery(guestListQuery(params));
  const selected = selection.params === params ? selection.ids : noneSelected;
  const setSelected = (ids: Set<string>) => setSelection({ params, ids });

  const items = useMemo(() => list.data?.pages.flatMap((p) => p.value) ?? [], [list.data]);
  const total = list.data?.pages[0]?.['@odata.count'];
  const filtering = Boolean(search.trim() || state || source || domain.trim() || inactiveDays);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const loadMore = useCallback(() => void fetchNextPage(), [fetchNextPage]);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['guests'] });

  const columns: Column<User>[] = [
    {
      key: 'displayName',
      label: t('guests.columns.displayName'),
      sortKey: 'displayName',
      width: '22%',
      render: (u) => (
        <Link as="button" onClick={() => setOpenGuest(u.id)}>
          {u.displayName}
        </Link>
      ),
    },
    { key: 'mail', label: t('guests.columns.mail'), width: '22%', render: (u) => u.mail ?? '' },
    { key: 'state', label: t('guests.columns.state'), width: '12%', render: (u) => <StateBadge state={u.externalUserState} /> },
    { key: 'source', label: t('guests.columns.source'), width: '9%', render: (u) => t(`source.${u.foyerSource ?? 'none'}` as 'source.none') },
    { key: 'invitedBy', label: t('guests.columns.invitedBy'), width: '13%', render: (u) => u.foyerInvitedBy?.displayName ?? '—' },
    { key: 'created', label: t('guests.columns.created'), sortKey: 'createdDateTime', width: '10%', render: (u) => fmt.date(u.createdDateTime) },
    { key: 'lastSignIn', label: t('guests.columns.lastSignIn'), width: '12%', render: (u) => fmt.dateTime(u.signInActivity?.lastSignInDateTime) },
  ];

  async function deleteSelected() {
    setDeleting(true);
    const chosen = items.filter((u) => selected.has(u.id));
    let done = 0;
    for (const u of chosen) {
      try {
        await api(`/v1.0/users/${u.id}`, { method: 'DELETE' });
        done++;
      } catch (e) {
        notify(t('guests.deleteFailed', { name: u.displayName, message: errorText(e) }), 'error');
      }
    }
    setDeleting(false);
    setConfirmDelete(false);
    setSelected(new Set());
    if (done) notify(t('guests.deleted', { count: done }));
    void queryClient.invalidateQueries({ queryKey: ['guests'] });
    void queryClient.invalidateQueries({ queryKey: ['deletedUsers'] });
  }

  const exportHref = `/v1.0/foyer/guests/export?${guestParams(q, true).toString()}`;
  const stateOptions = [
    { value: '', text: t('common.all') },
    { value: 'PendingAcceptance', text: t('state.PendingAcceptance') },
    { value: 'Accepted', text: t('state.Accepted') },
  ];
  const sourceOptions = [{ value: '', text: t('common.all') }, ...sources.map((s) => ({ value: s, text: t(`source.${s}`) }))];
  const inactiveOptions = [
    { value: '0', text: t('guests.inactiveAny') },
    ...inactivityDays.map((d) => ({ value: String(d), text: t('guests.inactiveDays', { count: d }) })),
  ];

  return (
    <>
      <PageHeader title={t('guests.title')} intro={t('guests.intro')} />
      <div className={styles.toolbar}>
        <Toolbar aria-label={t('guests.title')}>
          {can.invite && (
            <ToolbarButton appearance="primary" icon={<PersonAdd20Regular />} onClick={() => setInviteOpen(true)}>
              {t('guests.invite')}
            </ToolbarButton>
          )}
          {can.manageUsers && (
            <ToolbarButton icon={<Delete20Regular />} disabled={selected.size === 0} onClick={() => setConfirmDelete(true)}>
              {t('guests.delete')}
            </ToolbarButton>
          )}
          {can.exportGuests && (
            <ToolbarButton as="a" href={exportHref} download icon={<ArrowDownload20Regular />}>
              {t('guests.export')}
            </ToolbarButton>
          )}
          <ToolbarButton icon={<ArrowSync20Regular />} onClick={refresh}>
            {t('common.refresh')}
          </ToolbarButton>
        </Toolbar>
        <span className={styles.spacer} />
        <SearchBox
          className={styles.search}
          aria-label={t('guests.search')}
          placeholder={t('guests.search')}
          value={searchText}
          onChange={(_, d) => setSearchText(d.value)}
        />
      </div>
      <div className={styles.filters} role="group" aria-label={t('guests.filters')}>
        <Field label={t('guests.state')} className={styles.filter}>
          <Dropdown
            value={stateOptions.find((o) => o.value === state)!.text}
            selectedOptions={[state]}
            onOptionSelect={(_, d) => setState((d.optionValue ?? '') as GuestQuery['state'])}
          >
            {stateOptions.map((o) => (
              <Option key={o.value} value={o.value}>
                {o.text}
              </Option>
            ))}
          </Dropdown>
        </Field>
        <Field label={t('guests.source')} className={styles.filter}>
          <Dropdown
            value={sourceOptions.find((o) => o.value === source)!.text}
            selectedOptions={[source]}
            onOptionSelect={(_, d) => setSource(d.optionValue ?? '')}
          >
            {sourceOptions.map((o) => (
              <Option key={o.value} value={o.value}>
                {o.text}
              </Option>
            ))}
          </Dropdown>
        </Field>
        <Field label={t('guests.domain')} className={styles.filter}>
          <Input placeholder={t('guests.domainPlaceholder')} value={domainText} onChange={(_, d) => setDomainText(d.value)} />
        </Field>
        <Field label={t('guests.inactive')} className={styles.filter}>
          <Dropdown
            value={inactiveOptions.find((o) => o.value === String(inactiveDays))!.text}
            selectedOptions={[String(inactiveDays)]}
            onOptionSelect={(_, d) => setInactiveDays(Number(d.optionValue ?? 0))}
          >
            {inactiveOptions.map((o) => (
              <Option key={o.value} value={o.value}>
                {o.text}
              </Option>
            ))}
          </Dropdown>
        </Field>
        {filtering && (
          <Button
            appearance="subtle"
            onClick={() => {
              setSearchText('');
              setState('');
              setSource('');
              setDomainText('');
              setInactiveDays(0);
            }}
          >
            {t('guests.clearFilters')}
          </Button>
        )}
      </div>
      <Text className={styles.count} role="status" aria-live="polite" data-testid="guest-count">
        {total !== undefined
          ? t('guests.count', { count: total })
          : list.isPending
            ? t('guests.countLoading')
            : hasNextPage
              ? t('guests.countAtLeast', { count: items.length })
              : t('guests.count', { count: items.length })}
        {selected.size > 0 && ` · ${t('guests.selected', { count: selected.size })}`}
      </Text>
      {list.isError ? (
        <MessageBar intent="error">
          <MessageBarBody>{t('common.error', { message: errorText(list.error) })}</MessageBarBody>
          <Button onClick={() => void list.refetch()}>{t('common.retry')}</Button>
        </MessageBar>
      ) : list.isPending ? (
        <Spinner label={t('app.loading')} />
      ) : items.length === 0 ? (
        <div className={styles.empty}>
          <h2>{filtering ? t('guests.noMatch') : t('guests.empty')}</h2>
          <Text>{filtering ? t('guests.noMatchText') : t('guests.emptyText')}</Text>
        </div>
      ) : (
        <VirtualTable
          label={t('guests.grid')}
          columns={columns}
          items={items}
          getId={(u) => u.id}
          total={total}
          selection={can.manageUsers ? { selected, onChange: setSelected, nameOf: (u) => u.displayName } : undefined}
          sort={q.sort ?? (search.trim() ? null : { key: 'displayName', direction: 'asc' })}
          onSort={setSort}
          hasMore={Boolean(hasNextPage)}
          loadingMore={isFetchingNextPage}
          loadMore={loadMore}
          height="calc(100vh - 330px)"
        />
      )}
      <ConfirmDialog
        open={confirmDelete}
        title={t('guests.deleteTitle', { count: selected.size })}
        text={t('guests.deleteText')}
        confirm={t('common.delete')}
        busy={deleting}
        onConfirm={() => void deleteSelected()}
        onCancel={() => setConfirmDelete(false)}
      />
      <InvitePanel open={inviteOpen} onClose={() => setInviteOpen(false)} onInvited={refresh} />
      <GuestDetailsPanel userId={openGuest} onClose={() => setOpenGuest(null)} onChanged={refresh} />
    </>
  );
}
