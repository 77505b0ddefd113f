import { useState } from 'react';
import {
  Button,
  DrawerBody,
  Field,
  Input,
  Link,
  makeStyles,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Radio,
  RadioGroup,
  Switch,
  Tab,
  TabList,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Textarea,
  Toolbar,
  ToolbarButton,
  tokens,
} from '@fluentui/react-components';
import { Add20Regular, Delete20Regular } from '@fluentui/react-icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, type Page } from '../api';
import { PageHeader } from '../components/PageHeader';
import { FormPanel, Panel } from '../components/Panel';
import { ListState } from '../components/ListState';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { DirectoryPicker, type Picked } from '../components/DirectoryPicker';
import { errorText, useFormat } from '../format';
import { useNotify } from '../notify';

export const DEFAULT_ACCESS = '00000000-0000-0000-0000-000000000000';

interface Secret {
  keyId: string;
  displayName: string | null;
  hint: string | null;
  endDateTime: string | null;
}
interface Application {
  id: string;
  appId: string;
  displayName: string;
  createdDateTime: string;
  isFallbackPublicClient: boolean;
  web: { redirectUris: string[]; homePageUrl: string | null };
  publicClient: { redirectUris: string[] };
  info: { logoUrl: string | null };
  passwordCredentials: Secret[];
}
interface ServicePrincipal {
  id: string;
  appId: string;
  appRoleAssignmentRequired: boolean;
}
export interface Assignment {
  id: string;
  principalId: string;
  principalDisplayName: string | null;
  principalType: 'User' | 'Group';
  resourceId: string;
  resourceDisplayName: string;
  appRoleId: string;
  createdDateTime: string;
}

const appSelect = 'id,appId,displayName,createdDateTime,isFallbackPublicClient,web,publicClient,info,passwordCredentials';
const isPublic = (a: Application) => a.isFallbackPublicClient || (a.web.redirectUris.length === 0 && a.publicClient.redirectUris.length > 0);

const useStyles = makeStyles({
  bar: { marginBottom: '12px' },
  table: { backgroundColor: tokens.colorNeutralBackground1, borderRadius: tokens.borderRadiusMedium, boxShadow: tokens.shadow2 },
  section: { display: 'flex', flexDirection: 'column', gap: '12px', marginTop: '16px' },
  row: { display: 'flex', gap: '8px', alignItems: 'flex-end' },
});

/** Entra's App registrations and Enterprise applications in one page. */
export function AppsPage() {
  const styles = useStyles();
  const { t } = useTranslation();
  const fmt = useFormat();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [openId, setOpenId] = useState<string | null>(null);
  const apps = useQuery({ queryKey: ['apps'], queryFn: () => api<Page<Application>>(`/v1.0/applications?$select=${appSelect}&$top=999`) });
  const sps = useQuery({
    queryKey: ['apps', 'servicePrincipals'],
    queryFn: () => api<Page<ServicePrincipal>>('/v1.0/servicePrincipals?$select=id,appId,appRoleAssignmentRequired&$top=999'),
  });
  const spOf = (a: Application) => sps.data?.value.find((s) => s.appId === a.appId);
  const items = [...(apps.data?.value ?? [])].sort((a, b) => a.displayName.localeCompare(b.displayName));
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['apps'] });
  const open = items.find((a) => a.id === openId) ?? null;

  return (
    <>
      <PageHeader title={t('apps.title')} intro={t('apps.intro')} />
      <Toolbar aria-label={t('apps.title')} className={styles.bar}>
        <ToolbarButton appearance="primary" icon={<Add20Regular />} onClick={() => setCreating(true)}>
          {t('apps.register')}
        </ToolbarButton>
      </Toolbar>
      <ListState pending={apps.isPending} error={apps.error} empty={items.length === 0} emptyText={t('apps.empty')} retry={() => void apps.refetch()}>
        <Table aria-label={t('apps.title')} className={styles.table}>
          <TableHeader>
            <TableRow>
              <TableHeaderCell>{t('apps.col.name')}</TableHeaderCell>
              <TableHeaderCell>{t('apps.col.appId')}</TableHeaderCell>
              <TableHeaderCell>{t('apps.col.type')}</TableHeaderCell>
              <TableHeaderCell>{t('apps.col.assignmentRequired')}</TableHeaderCell>
              <TableHeaderCell>{t('apps.col.created')}</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {items.map((a) => (
              <TableRow key={a.id}>
                <TableCell>
                  <Link as="button" onClick={() => setOpenId(a.id)}>
                    {a.displayName}
                  </Link>
                </TableCell>
                <TableCell>{a.appId}</TableCell>
                <TableCell>{isPublic(a) ? t('apps.public') : t('apps.confidential')}</TableCell>
                <TableCell>{spOf(a)?.appRoleAssignmentRequired ? t('common.yes') : t('common.no')}</TableCell>
                <TableCell>{fmt.date(a.createdDateTime)}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </ListState>
      <AppFormPanel
        open={creating}
        onClose={() => setCreating(false)}
        onSaved={(id) => {
          refresh();
          setOpenId(id);
        }}
      />
      {open && <AppPanel app={open} sp={spOf(open)} onClose={() => setOpenId(null)} onChanged={refresh} />}
    </>
  );
}

/** The registration's fields, for a new application or an edit. */
function useRegistrationForm(app: Application | null) {
  const [name, setName] = useState(app?.displayName ?? '');
  const [homepage, setHomepage] = useState(app?.web.homePageUrl ?? '');
  const [logo, setLogo] = useState(app?.info.logoUrl ?? '');
  const [uris, setUris] = useState((app ? (isPublic(app) ? app.publicClient.redirectUris : app.web.redirectUris) : []).join('\n'));
  const [kind, setKind] = useState<'confidential' | 'public'>(app && isPublic(app) ? 'public' : 'confidential');
  const list = uris
    .split(/\s+/)
    .map((u) => u.trim())
    .filter(Boolean);
  const body = {
    displayName: name.trim(),
    web: { redirectUris: kind === 'confidential' ? list : [], homePageUrl: homepage.trim() || null },
    publicClient: { redirectUris: kind === 'public' ? list : [] },
    isFallbackPublicClient: kind === 'public',
    info: { logoUrl: logo.trim() || null },
  };
  const fields = <RegistrationFields {...{ name, setName, homepage, setHomepage, logo, setLogo, uris, setUris, kind, setKind }} />;
  return { body, fields, valid: Boolean(name.trim()) };
}

function RegistrationFields(p: {
  name: string;
  setName(v: string): void;
  homepage: string;
  setHomepage(v: string): void;
  logo: string;
  setLogo(v: string): void;
  uris: string;
  setUris(v: string): void;
  kind: 'confidential' | 'public';
  setKind(v: 'confidential' | 'public'): void;
}) {
  const { t } = useTranslation();
  return (
    <>
      <Field label={t('apps.name')} required>
        <Input value={p.name} onChange={(_, d) => p.setName(d.value)} />
      </Field>
      <Field label={t('apps.clientType')}>
        <RadioGroup value={p.kind} onChange={(_, d) => p.setKind(d.value as 'confidential' | 'public')}>
          <Radio value="confidential" label={t('apps.confidentialLong')} />
          <Radio value="public" label={t('apps.publicLong')} />
        </RadioGroup>
      </Field>
      <Field label={t('apps.redirectUris')} hint={t('apps.redirectUrisHint')}>
        <Textarea value={p.uris} onChange={(_, d) => p.setUris(d.value)} resize="vertical" />
      </Field>
      <Field label={t('apps.homepage')}>
        <Input type="url" value={p.homepage} onChange={(_, d) => p.setHomepage(d.value)} />
      </Field>
      <Field label={t('apps.logo')}>
        <Input type="url" value={p.logo} onChange={(_, d) => p.setLogo(d.value)} />
      </Field>
    </>
  );
}

function AppFormPanel(props: { open: boolean; onClose(): void; onSaved(id: string): void }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const form = useRegistrationForm(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit() {
    setBusy(true);
    setError(null);
    try {
      const app = await api<Application>('/v1.0/applications', { method: 'POST', body: form.body });
      // The enterprise application carries the assignment switch and the assignments.
      await api('/v1.0/servicePrincipals', { method: 'POST', body: { appId: app.appId } });
      notify(t('apps.registered', { name: app.displayName }));
      props.onClose();
      props.onSaved(app.id);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <FormPanel
      open={props.open}
      title={t('apps.register')}
      onClose={props.onClose}
      onSubmit={() => void submit()}
      submitLabel={t('apps.registerSubmit')}
      submitDisabled={busy || !form.valid}
      error={error}
    >
      {props.open && form.fields}
    </FormPanel>
  );
}

function AppPanel(props: { app: Application; sp: ServicePrincipal | undefined; onClose(): void; onChanged(): void }) {
  const { t } = useTranslation();
  const notify = useNotify();
  const [tab, setTab] = useState('properties');
  const [confirm, setConfirm] = useState(false);
  const a = props.app;
  async function remove() {
    try {
      await api(`/v1.0/applications/${a.id}`, { method: 'DELETE' });
      notify(t('apps.deleted', { name: a.displayName }));
      props.onClose();
      props.onChanged();
    } catch (e) {
      notify(errorText(e), 'error');
    }
    setConfirm(false);
  }
  return (
    <Panel open size="large" title={a.displayName} subtitle={t('apps.appIdText', { id: a.appId })} onClose={props.onClose}>
      <DrawerBody>
        <Toolbar aria-label={a.displayName}>
          <ToolbarButton icon={<Delete20Regular />} onClick={() => setConfirm(true)}>
            {t('common.delete')}
          </ToolbarButton>
        </Toolbar>
        <TabList selectedValue={tab} onTabSelect={(_, d) => setTab(String(d.value))}>
          <Tab value="properties">{t('apps.properties')}</Tab>
          <Tab value="secrets">{t('apps.secrets')}</Tab>
          <Tab value="assignments">{t('apps.usersAndGroups')}</Tab>
        </TabList>
        {tab === 'properties' && <PropertiesTab app={a} sp={props.sp} onChanged={props.onChanged} />}
        {tab === 'secrets' && <SecretsTab app={a} onChanged={props.onChanged} />}
        {tab === 'assignments' && props.sp && <AssignmentsTab sp={props.sp} />}
      </DrawerBody>
      <ConfirmDialog
        open={confirm}
        title={t('apps.deleteTitle', { name: a.displayName })}
        text={t('apps.deleteText')}
        confirm={t('common.delete')}
        onConfirm={() => void remove()}
        onCancel={() => setConfirm(false)}
      />
    </Panel>
  );
}

function PropertiesTab(props: { app: Application; sp: ServicePrincipal | undefined; onChanged(): void }) {
  const styles = useStyles();
  const { t } = useTranslation();
  const notify = useNotify();
  const form = useRegistrationForm(props.app);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function save() {
    setBusy(true);
    setError(null);
    try {
      await api(`/v1.0/applications/${props.app.id}`, { method: 'PATCH', body: form.body });
      notify(t('common.saved'));
      props.onChanged();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  async function setRequired(required: boolean) {
    try {
      if (props.sp) await api(`/v1.0/servicePrincipals/${props.sp.id}`, { method: 'PATCH', body: { appRoleAssignmentRequired: required } });
      else await api('/v1.0/servicePrincipals', { method: 'POST', body: { appId: props.app.appId, appRoleAssignmentRequired: required } });
      notify(t('common.saved'));
      props.onChanged();
    } catch (e) {
      notify(errorText(e), 'error');
    }
  }
  return (
    <form
      className={styles.section}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <Switch label={t('apps.assignmentRequired')} checked={props.sp?.appRoleAssignmentRequired ?? false} onChange={(_, d) => void setRequired(d.checked)} />
      <Text size={200}>{t('apps.assignmentRequiredHint')}</Text>
      {error && (
        <MessageBar intent="error">
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      )}
      {form.fields}
      <div>
        <Button appearance="primary" type="submit" disabled={busy || !form.valid}>
          {t('common.save')}
        </Button>
      </div>
    </form>
  );
}

function SecretsTab(props: { app: Application; onChanged(): void }) {
  const styles = useStyles();
  const { t } = useTranslation();
  const fmt = useFormat();
  const notify = useNotify();
  const [description, setDescription] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  async function add() {
    try {
      const secret = await api<Secret & { secretText: string }>(`/v1.0/applications/${props.app.id}/addPassword`, {
        method: 'POST',
        body: { passwordCredential: { displayName: description.trim() || null } },
      });
      setCreated(secret.secretText);
      setDescription('');
      props.onChanged();
    } catch (e) {
      notify(errorText(e), 'error');
    }
  }
  async function remove(s: Secret) {
    try {
      await api(`/v1.0/applications/${props.app.id}/removePassword`, { method: 'POST', body: { keyId: s.keyId } });
      notify(t('apps.secretRemoved'));
      props.onChanged();
    } catch (e) {
      notify(errorText(e), 'error');
    }
  }
  return (
    <div className={styles.section}>
      <Text>{t('apps.secretsIntro')}</Text>
      {created && (
        <MessageBar intent="warning">
          <MessageBarBody>
            <MessageBarTitle>{t('apps.secretOnce')}</MessageBarTitle>
            <Field label={t('apps.secretValue')}>
              <Input readOnly value={created} onFocus={(e) => e.target.select()} />
            </Field>
            <Button
              onClick={() => {
                void navigator.clipboard?.writeText(created).catch(() => undefined);
                notify(t('common.copied'));
              }}
            >
              {t('common.copy')}
            </Button>
          </MessageBarBody>
        </MessageBar>
      )}
      <div className={styles.row}>
        <Field label={t('apps.secretDescription')} style={{ flex: 1 }}>
          <Input value={description} onChange={(_, d) => setDescription(d.value)} />
        </Field>
        <Button appearance="primary" onClick={() => void add()}>
          {t('apps.newSecret')}
        </Button>
      </div>
      {props.app.passwordCredentials.length === 0 ? (
        <Text>{t('apps.noSecrets')}</Text>
      ) : (
        <Table aria-label={t('apps.secrets')} size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>{t('apps.secretDescription')}</TableHeaderCell>
              <TableHeaderCell>{t('apps.secretHint')}</TableHeaderCell>
              <TableHeaderCell>{t('apps.secretExpires')}</TableHeaderCell>
              <TableHeaderCell>{t('apps.actions')}</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {props.app.passwordCredentials.map((s) => (
              <TableRow key={s.keyId}>
                <TableCell>{s.displayName ?? ''}</TableCell>
                <TableCell>{s.hint ? `${s.hint}…` : ''}</TableCell>
                <TableCell>{fmt.date(s.endDateTime)}</TableCell>
                <TableCell>
                  <Button size="small" aria-label={t('apps.removeSecret', { name: s.displayName ?? s.hint ?? '' })} onClick={() => void remove(s)}>
                    {t('common.remove')}
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </div>
  );
}

function AssignmentsTab({ sp }: { sp: ServicePrincipal }) {
  const styles = useStyles();
  const { t } = useTranslation();
  const notify = useNotify();
  const queryClient = useQueryClient();
  const [users, setUsers] = useState<Picked[]>([]);
  const [groups, setGroups] = useState<Picked[]>([]);
  const [busy, setBusy] = useState(false);
  const key = ['apps', 'assignedTo', sp.id];
  const list = useQuery({ queryKey: key, queryFn: () => api<Page<Assignment>>(`/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo?$top=999`) });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: key });
  const items = list.data?.value ?? [];
  const assigned = new Set(items.map((i) => i.principalId));
  async function add() {
    setBusy(true);
    for (const p of [...users, ...groups]) {
      try {
        await api(`/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo`, {
          method: 'POST',
          body: { principalId: p.id, resourceId: sp.id, appRoleId: DEFAULT_ACCESS },
        });
        notify(t('apps.assigned', { name: p.name }));
      } catch (e) {
        notify(`${p.name}: ${errorText(e)}`, 'error');
      }
    }
    setUsers([]);
    setGroups([]);
    setBusy(false);
    refresh();
  }
  async function remove(a: Assignment) {
    try {
      await api(`/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo/${a.id}`, { method: 'DELETE' });
      notify(t('apps.unassigned', { name: a.principalDisplayName ?? '' }));
    } catch (e) {
      notify(errorText(e), 'error');
    }
    refresh();
  }
  return (
    <div className={styles.section}>
      <Text>{sp.appRoleAssignmentRequired ? t('apps.onlyAssigned') : t('apps.everyone')}</Text>
      <div className={styles.row}>
        <div style={{ flex: 1 }}>
          <Field label={t('apps.addUsers')}>
            <DirectoryPicker kind="users" label={t('apps.addUsers')} selected={users} onChange={setUsers} exclude={assigned} />
          </Field>
        </div>
        <div style={{ flex: 1 }}>
          <Field label={t('apps.addGroups')}>
            <DirectoryPicker kind="groups" label={t('apps.addGroups')} selected={groups} onChange={setGroups} exclude={assigned} />
          </Field>
        </div>
        <Button appearance="primary" disabled={busy || users.length + groups.length === 0} onClick={() => void add()}>
          {t('apps.assign')}
        </Button>
      </div>
      <ListState pending={list.isPending} error={list.error} empty={items.length === 0} emptyText={t('apps.noAssignments')} retry={() => void list.refetch()}>
        <Table aria-label={t('apps.usersAndGroups')} size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>{t('apps.col.name')}</TableHeaderCell>
              <TableHeaderCell>{t('apps.col.principalType')}</TableHeaderCell>
              <TableHeaderCell>{t('apps.col.role')}</TableHeaderCell>
              <TableHeaderCell>{t('apps.actions')}</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {items.map((a) => (
              <TableRow key={a.id}>
                <TableCell>{a.principalDisplayName}</TableCell>
                <TableCell>{a.principalType === 'Group' ? t('apps.group') : t('apps.user')}</TableCell>
                <TableCell>{a.appRoleId === DEFAULT_ACCESS ? t('apps.defaultAccess') : a.appRoleId}</TableCell>
                <TableCell>
                  <Button size="small" aria-label={t('apps.unassign', { name: a.principalDisplayName ?? '' })} onClick={() => void remove(a)}>
                    {t('common.remove')}
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      </ListState>
    </div>
  );
}
