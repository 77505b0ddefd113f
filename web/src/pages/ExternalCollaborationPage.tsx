import { useState } from 'react';
import { Button, Field, makeStyles, MessageBar, MessageBarBody, Radio, RadioGroup, Spinner, Text, Textarea, tokens } from '@fluentui/react-components';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { PageHeader } from '../components/PageHeader';
import { BlockedInvitees } from '../components/BlockedInvitees';
import { errorText, useAdminCenterInfo } from '../format';
import { useNotify } from '../notify';
import { usePermissions } from '../session';

const access = {
  member: 'a0b1b346-4d3e-4e8b-98f8-753987be4970',
  limited: '10dae51f-b6af-4016-8d66-8c2a99b929b3',
  restricted: '2af84b1e-32c8-42b7-82bc-daa82404023b',
} as const;
const inviteOptions = ['everyone', 'adminsGuestInvitersAndAllMembers', 'adminsAndGuestInviters', 'none'] as const;

interface AuthorizationPolicy {
  allowInvitesFrom: (typeof inviteOptions)[number];
  guestUserRoleId: string;
}
interface CollaborationPolicy {
  mode: 'none' | 'allow' | 'deny';
  domains: string[];
}

const useStyles = makeStyles({
  section: {
    backgroundColor: tokens.colorNeutralBackground1,
    padding: '20px 24px',
    borderRadius: tokens.borderRadiusMedium,
    marginBottom: '16px',
    maxWidth: '860px',
  },
  heading: { fontSize: tokens.fontSizeBase400, fontWeight: tokens.fontWeightSemibold, margin: '0 0 12px' },
});

/** Settings > External collaboration: who invites, what guests see, which domains, how long links last. */
export function ExternalCollaborationPage() {
  const { t } = useTranslation();
  const info = useAdminCenterInfo();
  const auth = useQuery({ queryKey: ['authorizationPolicy'], queryFn: () => api<AuthorizationPolicy>('/v1.0/policies/authorizationPolicy') });
  const collab = useQuery({ queryKey: ['collaborationPolicy'], queryFn: () => api<CollaborationPolicy>('/v1.0/foyer/policies/collaboration') });
  if (auth.isPending || collab.isPending) return <Spinner label={t('app.loading')} />;
  if (!auth.data || !collab.data)
    return (
      <MessageBar intent="error">
        <MessageBarBody>{errorText(auth.error ?? collab.error)}</MessageBarBody>
      </MessageBar>
    );
  return <SettingsForm auth={auth.data} collab={collab.data} inviteTtlDays={info.data?.inviteTtlDays ?? 30} />;
}

/** The form starts from the saved policies (remounted by the page when they load). */
function SettingsForm(props: { auth: AuthorizationPolicy; collab: CollaborationPolicy; inviteTtlDays: number }) {
  const styles = useStyles();
  const { t } = useTranslation();
  const notify = useNotify();
  const can = usePermissions();
  const queryClient = useQueryClient();
  const [invites, setInvites] = useState<AuthorizationPolicy['allowInvitesFrom']>(props.auth.allowInvitesFrom);
  const [guestAccess, setGuestAccess] = useState<string>(props.auth.guestUserRoleId);
  const [mode, setMode] = useState<CollaborationPolicy['mode']>(props.collab.mode);
  const [domains, setDomains] = useState(props.collab.domains.join('\n'));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function save() {
    setBusy(true);
    setError(null);
    try {
      await api('/v1.0/policies/authorizationPolicy', { method: 'PATCH', body: { allowInvitesFrom: invites, guestUserRoleId: guestAccess } });
      const list = domains
        .split(/[\s,;]+/)
        .map((d) => d.trim())
        .filter(Boolean);
      await api('/v1.0/foyer/policies/collaboration', { method: 'PATCH', body: { mode, domains: mode === 'none' ? [] : list } });
      notify(t('common.saved'));
      void queryClient.invalidateQueries({ queryKey: ['authorizationPolicy'] });
      void queryClient.invalidateQueries({ queryKey: ['collaborationPolicy'] });
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  const readOnly = !can.globalAdmin;
  return (
    <>
      <PageHeader title={t('settings.title')} intro={t('settings.intro')} />
      {readOnly && (
        <MessageBar intent="info" style={{ marginBottom: 16, maxWidth: 860 }}>
          <MessageBarBody>{t('settings.readOnly')}</MessageBarBody>
        </MessageBar>
      )}
      {error && (
        <MessageBar intent="error" style={{ marginBottom: 16, maxWidth: 860 }}>
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      )}
      <section className={styles.section}>
        <h2 className={styles.heading} id="invite-heading">
          {t('settings.whoCanInvite')}
        </h2>
        <RadioGroup
          aria-labelledby="invite-heading"
          value={invites}
          onChange={(_, d) => setInvites(d.value as AuthorizationPolicy['allowInvitesFrom'])}
          disabled={readOnly}
        >
          {inviteOptions.map((o) => (
            <Radio key={o} value={o} label={t(`settings.invite_${o}`)} />
          ))}
        </RadioGroup>
      </section>
      <section className={styles.section}>
        <h2 className={styles.heading} id="access-heading">
          {t('settings.guestAccess')}
        </h2>
        <RadioGroup aria-labelledby="access-heading" value={guestAccess} onChange={(_, d) => setGuestAccess(d.value)} disabled={readOnly}>
          <Radio value={access.member} label={t('settings.access_member')} />
          <Radio value={access.limited} label={t('settings.access_limited')} />
          <Radio value={access.restricted} label={t('settings.access_restricted')} />
        </RadioGroup>
      </section>
      <section className={styles.section}>
        <h2 className={styles.heading} id="domains-heading">
          {t('settings.domains')}
        </h2>
        <RadioGroup aria-labelledby="domains-heading" value={mode} onChange={(_, d) => setMode(d.value as CollaborationPolicy['mode'])} disabled={readOnly}>
          <Radio value="none" label={t('settings.mode_none')} />
          <Radio value="deny" label={t('settings.mode_deny')} />
          <Radio value="allow" label={t('settings.mode_allow')} />
        </RadioGroup>
        {mode !== 'none' && (
          <Field label={t('settings.domainList')} style={{ marginTop: 12 }}>
            <Textarea value={domains} onChange={(_, d) => setDomains(d.value)} rows={5} disabled={readOnly} />
          </Field>
        )}
      </section>
      <section className={styles.section}>
        <h2 className={styles.heading}>{t('settings.linkLifetime')}</h2>
        <Text>{t('settings.linkLifetimeText', { count: props.inviteTtlDays })}</Text>
      </section>
      {!readOnly && (
        <Button appearance="primary" onClick={() => void save()} disabled={busy}>
          {t('common.save')}
        </Button>
      )}
      {/* Global and User Administrators lift blocks; saved on its own, not with the settings above. */}
      {can.manageUsers && (
        <section className={styles.section} style={{ marginTop: 24 }} aria-labelledby="blocked-heading">
          <h2 className={styles.heading} id="blocked-heading">
            {t('settings.blocked')}
          </h2>
          <BlockedInvitees />
        </section>
      )}
    </>
  );
}
