import { makeStyles, tokens } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { LanguageSwitch } from './LanguageSwitch';

const useStyles = makeStyles({
  page: { minHeight: '100vh', backgroundColor: tokens.colorNeutralBackground2, display: 'flex', flexDirection: 'column', alignItems: 'center' },
  card: {
    width: 'min(480px, calc(100vw - 32px))',
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
  lang: { alignSelf: 'flex-end', margin: '12px 16px 0 0' },
});

/** The pages outside the admin shell (sign-in, no access): one card on a grey page, with the language switch. */
export function CenteredCard({ children }: { children: ReactNode }) {
  const styles = useStyles();
  return (
    <div className={styles.page}>
      <div className={styles.lang}>
        <LanguageSwitch />
      </div>
      <main className={styles.card}>{children}</main>
    </div>
  );
}

export const useCardStyles = makeStyles({
  title: { fontSize: tokens.fontSizeBase600, fontWeight: tokens.fontWeightSemibold, margin: 0 },
  brand: { color: tokens.colorBrandForeground1, fontWeight: tokens.fontWeightSemibold },
  actions: { display: 'flex', gap: '8px' },
});
