import { makeStyles, Text, tokens } from '@fluentui/react-components';
import { useEffect, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

const useStyles = makeStyles({
  root: { marginBottom: '16px' },
  title: { display: 'block', fontSize: tokens.fontSizeHero700, lineHeight: tokens.lineHeightHero700, fontWeight: tokens.fontWeightSemibold, margin: '0 0 4px' },
  intro: { color: tokens.colorNeutralForeground2 },
});

/** The page's h1, its intro, and the document title. */
export function PageHeader({ title, intro, children }: { title: string; intro?: string; children?: ReactNode }) {
  const styles = useStyles();
  const { t } = useTranslation();
  useEffect(() => {
    document.title = `${title} - ${t('app.title')}`;
  }, [title, t]);
  return (
    <div className={styles.root}>
      <h1 className={styles.title}>{title}</h1>
      {intro && <Text className={styles.intro}>{intro}</Text>}
      {children}
    </div>
  );
}
