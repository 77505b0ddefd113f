import { Toast, ToastTitle, useToastController, Toaster, useId } from '@fluentui/react-components';
import { createContext, useContext, type ReactNode } from 'react';

type Notify = (text: string, intent?: 'success' | 'error' | 'info') => void;
const NotifyContext = createContext<Notify>(() => {});

/** Toasts for the outcome of an action (announced politely to screen readers by Fluent). */
export function NotifyProvider({ children }: { children: ReactNode }) {
  const toasterId = useId('toaster');
  const { dispatchToast } = useToastController(toasterId);
  const notify: Notify = (text, intent = 'success') =>
    dispatchToast(
      <Toast>
        <ToastTitle>{text}</ToastTitle>
      </Toast>,
      { intent, timeout: intent === 'error' ? 8000 : 4000 },
    );
  return (
    <NotifyContext.Provider value={notify}>
      <Toaster toasterId={toasterId} position="top-end" />
      {children}
    </NotifyContext.Provider>
  );
}
export const useNotify = () => useContext(NotifyContext);
