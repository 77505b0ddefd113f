import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import LanguageDetector from 'i18next-browser-languagedetector';
import { en } from './locales/en';
import { nl } from './locales/nl';

export const languages = [
  { code: 'en', name: 'English' },
  { code: 'nl', name: 'Nederlands' },
] as const;

// The browser's language unless the person picked one with the switcher (kept in localStorage).
void i18n
  .use(LanguageDetector)
  .use(initReactI18next)
  .init({
    resources: { en: { translation: en }, nl: { translation: nl } },
    fallbackLng: 'en',
    supportedLngs: ['en', 'nl'],
    nonExplicitSupportedLngs: true,
    load: 'languageOnly',
    detection: { order: ['localStorage', 'navigator'], lookupLocalStorage: 'foyer.language', caches: ['localStorage'] },
    interpolation: { escapeValue: false }, // React escapes
  });

i18n.on('languageChanged', (lng) => {
  document.documentElement.lang = lng.startsWith('nl') ? 'nl' : 'en';
});
document.documentElement.lang = i18n.resolvedLanguage ?? 'en';

export default i18n;
