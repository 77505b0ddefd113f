import { useState, type FormEvent } from 'react';
import { Button, Field, Input, Link, MessageBar, MessageBarBody, Text } from '@fluentui/react-components';
import { useTranslation } from 'react-i18next';
import { useNavigate, useLocation } from 'react-router';
import { useSession } from '../session';
import { errorText } from '../format';
import { CenteredCard, useCardStyles } from '../components/CenteredCard';

/** Password sign-in for members and administrators; guests are sent to the email-code page. */
export function SignInPage({ expired }: { expired: boolean }) {
  const styles = useCardStyles();
  const { t } = useTranslation();
  const { signIn } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [userName, setUserName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(userName, password);
      navigate(`/login${location.search}`, { replace: true });
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <CenteredCard>
      <Text className={styles.brand}>{t('app.title')}</Text>
      <h1 className={styles.title}>{t('signIn.title')}</h1>
      <Text>{t('signIn.intro')}</Text>
      {expired && (
        <MessageBar intent="warning">
          <MessageBarBody>{t('signIn.expired')}</MessageBarBody>
        </MessageBar>
      )}
      <form onSubmit={submit} style={{ display: 'flex', flexDirection: 'column', gap: 16 }}>
        <Field label={t('signIn.userName')} required>
          <Input type="email" autoComplete="username" value={userName} onChange={(_, d) => setUserName(d.value)} autoFocus />
        </Field>
        <Field label={t('signIn.password')} required validationMessage={error ?? undefined} validationState={error ? 'error' : 'none'}>
          <Input type="password" autoComplete="current-password" value={password} onChange={(_, d) => setPassword(d.value)} />
        </Field>
        <Button appearance="primary" type="submit" disabled={busy || !userName || !password}>
          {t('signIn.submit')}
        </Button>
      </form>
      <Text>
        {t('signIn.guestHint')} <Link href="/signin">{t('signIn.guestLink')}</Link>
      </Text>
    </CenteredCard>
  );
}
