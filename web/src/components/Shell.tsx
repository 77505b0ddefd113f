import { Outlet, useLocation, useNavigate } from 'react-router';
import {
  Avatar,
  Button,
  makeStyles,
  Menu,
  MenuItem,
  MenuList,
  MenuPopover,
  MenuTrigger,
  NavCategory,
  NavCategoryItem,
  NavDrawer,
  NavDrawerBody,
  NavItem,
  NavSubItem,
  NavSubItemGroup,
  Text,
  tokens,
} from '@fluentui/react-components';
import {
  Home20Regular,
  People20Regular,
  PeopleTeam20Regular,
  DocumentSearch20Regular,
  Settings20Regular,
  Mail20Regular,
  SignOut20Regular,
  PersonAccounts20Regular,
  Apps20Regular,
  PeopleCommunity20Regular,
} from '@fluentui/react-icons';
import type { MouseEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { usePermissions, useSession } from '../session';
import { useAdminCenterInfo } from '../format';
import { LanguageSwitch } from './LanguageSwitch';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', height: '100vh' },
  header: {
    display: 'flex',
    alignItems: 'center',
    gap: '16px',
    height: '48px',
    padding: '0 16px',
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
    flexShrink: 0,
  },
  brand: { fontWeight: tokens.fontWeightSemibold, fontSize: tokens.fontSizeBase400, color: tokens.colorNeutralForegroundOnBrand },
  org: { color: tokens.colorNeutralForegroundOnBrand, opacity: 0.9 },
  spacer: { flex: 1 },
  skip: {
    position: 'absolute',
    left: '-10000px',
    ':focus': { left: '8px', top: '8px', zIndex: 1000, backgroundColor: tokens.colorNeutralBackground1, padding: '8px' },
  },
  body: { display: 'flex', flex: 1, minHeight: 0 },
  nav: { height: '100%' },
  main: { flex: 1, minWidth: 0, overflow: 'auto', padding: '20px 32px', backgroundColor: tokens.colorNeutralBackground2 },
  accountButton: { color: tokens.colorNeutralForegroundOnBrand },
});

/** Header, left navigation like the Microsoft 365 admin center, and the page. */
export function Shell() {
  const styles = useStyles();
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const can = usePermissions();
  const { state, signOut } = useSession();
  const info = useAdminCenterInfo();
  const user = state.status === 'signedIn' ? state.session.user : null;

  const go = (path: string) => (e: MouseEvent) => {
    e.preventDefault();
    navigate(path);
  };
  const path = location.pathname;
  const selected = path === '/' ? '/' : path;
  const category = path.startsWith('/users/') ? 'users' : path.startsWith('/settings/') ? 'settings' : undefined;

  return (
    <div className={styles.root}>
      <a href="#main" className={styles.skip}>
        {t('app.skipToContent')}
      </a>
      <header className={styles.header}>
        <Text as="span" className={styles.brand}>
          {t('app.title')}
        </Text>
        {info.data && <Text className={styles.org}>{info.data.organization.displayName}</Text>}
        <span className={styles.spacer} />
        <LanguageSwitch />
        <Menu>
          <MenuTrigger disableButtonEnhancement>
            <Button
              appearance="transparent"
              className={styles.accountButton}
              aria-label={t('account.menu', { name: user?.displayName ?? '' })}
              icon={<Avatar name={user?.displayName} size={28} color="colorful" />}
            />
          </MenuTrigger>
          <MenuPopover>
            <MenuList>
              <MenuItem disabled>{user?.userPrincipalName}</MenuItem>
              <MenuItem icon={<PersonAccounts20Regular />} onClick={() => (window.location.href = '/my')}>
                {t('account.myAccess')}
              </MenuItem>
              <MenuItem icon={<SignOut20Regular />} onClick={() => void signOut()}>
                {t('account.signOut')}
              </MenuItem>
            </MenuList>
          </MenuPopover>
        </Menu>
      </header>
      <div className={styles.body}>
        <NavDrawer
          open
          type="inline"
          className={styles.nav}
          selectedValue={selected}
          selectedCategoryValue={category}
          defaultOpenCategories={['users', 'settings']}
          aria-label={t('nav.label')}
        >
          <NavDrawerBody>
            <NavItem href="/" value="/" icon={<Home20Regular />} onClick={go('/')}>
              {t('nav.home')}
            </NavItem>
            <NavCategory value="users">
              <NavCategoryItem icon={<People20Regular />}>{t('nav.users')}</NavCategoryItem>
              <NavSubItemGroup>
                <NavSubItem href="/users/active" value="/users/active" onClick={go('/users/active')}>
                  {t('nav.activeUsers')}
                </NavSubItem>
                <NavSubItem href="/users/guests" value="/users/guests" onClick={go('/users/guests')}>
                  {t('nav.guestUsers')}
                </NavSubItem>
                {can.invite && (
                  <NavSubItem href="/users/bulk-invite" value="/users/bulk-invite" onClick={go('/users/bulk-invite')}>
                    {t('nav.bulkInvite')}
                  </NavSubItem>
                )}
                {can.manageUsers && (
                  <NavSubItem href="/users/deleted" value="/users/deleted" onClick={go('/users/deleted')}>
                    {t('nav.deletedUsers')}
                  </NavSubItem>
                )}
              </NavSubItemGroup>
            </NavCategory>
            <NavItem href="/groups" value="/groups" icon={<PeopleTeam20Regular />} onClick={go('/groups')}>
              {t('nav.groups')}
            </NavItem>
            {can.teamsAndSites && (
              <NavItem href="/teams" value="/teams" icon={<PeopleCommunity20Regular />} onClick={go('/teams')}>
                {t('nav.teamsAndSites')}
              </NavItem>
            )}
            {can.manageApps && (
              <NavItem href="/apps" value="/apps" icon={<Apps20Regular />} onClick={go('/apps')}>
                {t('nav.apps')}
              </NavItem>
            )}
            {can.audit && (
              <NavItem href="/audit" value="/audit" icon={<DocumentSearch20Regular />} onClick={go('/audit')}>
                {t('nav.auditLog')}
              </NavItem>
            )}
            <NavCategory value="settings">
              <NavCategoryItem icon={<Settings20Regular />}>{t('nav.settings')}</NavCategoryItem>
              <NavSubItemGroup>
                <NavSubItem href="/settings/external-collaboration" value="/settings/external-collaboration" onClick={go('/settings/external-collaboration')}>
                  {t('nav.externalCollaboration')}
                </NavSubItem>
                {can.globalAdmin && (
                  <NavSubItem href="/settings/teams-guest-access" value="/settings/teams-guest-access" onClick={go('/settings/teams-guest-access')}>
                    {t('nav.teamsGuestAccess')}
                  </NavSubItem>
                )}
              </NavSubItemGroup>
            </NavCategory>
            {can.outbox && info.data?.mailOutbox && (
              <NavItem href="/outbox" value="/outbox" icon={<Mail20Regular />} onClick={go('/outbox')}>
                {t('nav.outbox')}
              </NavItem>
            )}
          </NavDrawerBody>
        </NavDrawer>
        <main id="main" className={styles.main} tabIndex={-1}>
          <Outlet />
        </main>
      </div>
    </div>
  );
}
