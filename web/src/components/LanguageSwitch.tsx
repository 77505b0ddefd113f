import { Select } from '@fluentui/react-components';
import { useTranslation } from 'react-i18next';
import { languages } from '../i18n';

/** The interface language; the choice is remembered in this browser. */
export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <Select aria-label={t('app.language')} value={i18n.resolvedLanguage} onChange={(_, d) => void i18n.changeLanguage(d.value)} size="small">
      {languages.map((l) => (
        <option key={l.code} value={l.code} lang={l.code}>
          {l.name}
        </option>
      ))}
    </Select>
  );
}
