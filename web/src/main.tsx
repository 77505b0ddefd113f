import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { FluentProvider, webLightTheme } from '@fluentui/react-components';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import './i18n';
import './index.css';
import { App } from './App';
import { NotifyProvider } from './notify';
import { ApiError } from './api';
import { defaultGuestParams, guestListQuery } from './pages/GuestUsersPage';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will not get better by asking again; network blips may.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
      staleTime: 10_000,
    },
  },
});

// The Guest users page is where administrators land most: its first page is asked for while the
// app still renders, not after (a 401 here is ignored; the session check decides what to show).
if (window.location.pathname === '/users/guests') void queryClient.prefetchInfiniteQuery(guestListQuery(defaultGuestParams(), true));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <FluentProvider theme={webLightTheme} style={{ height: '100%' }}>
      <QueryClientProvider client={queryClient}>
        <BrowserRouter>
          <NotifyProvider>
            <App />
          </NotifyProvider>
        </BrowserRouter>
      </QueryClientProvider>
    </FluentProvider>
  </StrictMode>,
);
