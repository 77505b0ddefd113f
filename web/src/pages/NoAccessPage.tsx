import { Button, makeStyles, Text, tokens } from '@fluentui/react-components';
import { LockClosed48Regular } from '@fluentui/react-icons';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { useSession } from '../session';
import { LanguageSwitch } from '../components/LanguageSwitch';

const useStyles = makeStyles({
  page: { minHeight: '100vh', backgroundColor: tokens.colorNeutralBackground2, display: 'flex', flexDirection: 'column', alignItems: 'center' },
  card: {
    width: 'min(520px, calc(100vw - 32px))',
    marginTop: '48px',
    padding: '32px',
    backgroundColor: tokens.colorNeutralBackground1,
    borderRadius: tokens.borderRadiusLarge,
    boxShadow: tokens.shadow8,
    display: 'flex',
    flexDirection: 'column',
    gap: '16px',
    boxSizing: 'border-box',
  },
  title: { fontSize: tokens.fontSizeBase600, fontWeight: tokens.fontWeightSemibold, margin: 0 },
  actions: { display: 'flex', gap: '8px' },
  lang: { alignSelf: 'flex-end', margin: '12px 16px 0 0' },
});

/** Shown instead of any admin page to guests and to members without an administrator role. */
export function NoAccessPage() {
  const styles = useStyles();
  const { t } = useTranslation();
  const { state, signOut } = useSession();
  const name = state.status === 'signedIn' ? state.session.user.displayName : '';
  useEffect(() => {
    document.title = `${t('noAccess.title')} - ${t('app.title')}`;
  }, [t]);
  return (
    <div className={styles.page}>
      <div className={styles.lang}>
        <LanguageSwitch />
      </div>
      <main className={styles.card}>
        <LockClosed48Regular aria-hidden />
        <h1 className={styles.title}>{t('noAccess.title')}</h1>
        <Text>{t('noAccess.text', { name })}</Text>
        <div className={styles.actions}>
          <Button appearance="primary" as="a" href="/my">
            {t('noAccess.myAccess')}
          </Button>
          <Button onClick={() => void signOut()}>{t('noAccess.signOut')}</Button>
        </div>
      </main>
    </div>
  );
}
