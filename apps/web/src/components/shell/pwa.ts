/** The installable app: its service worker (the app shell only) and system notifications. */

export const SW_URL = '/sw.js';

/** Registers the service worker once the page has loaded; only over HTTPS or on localhost, where browsers allow it. */
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  const register = () => {
    navigator.serviceWorker.register(SW_URL, { scope: '/' }).catch(() => undefined);
  };
  if (document.readyState === 'complete') register();
  else window.addEventListener('load', register, { once: true });
}

export type NotifyPermission = NotificationPermission | 'unsupported';

export function notificationPermission(): NotifyPermission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/** Asks for permission: call only from a user gesture (a click, a key press), never on load. */
export async function askNotificationPermission(): Promise<NotifyPermission> {
  if (typeof Notification === 'undefined') return 'unsupported';
  if (Notification.permission !== 'default') return Notification.permission;
  return Notification.requestPermission();
}

/**
 * A system notification that opens `url` when clicked; through the service worker when one controls the page (the
 * only way on Android and in installed apps), else with the page's own Notification.
 */
export async function notify(title: string, body: string, url: string, tag: string): Promise<void> {
  if (notificationPermission() !== 'granted') return;
  const reg = 'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistration() : undefined;
  if (reg?.active) {
    await reg.showNotification(title, { body, tag, data: { url }, icon: '/icons/icon-192.png' });
    return;
  }
  const n = new Notification(title, { body, tag, icon: '/icons/icon-192.png' });
  n.onclick = () => {
    window.focus();
    window.location.assign(url);
    n.close();
  };
}
